"""Flyway: ``V1__name.sql`` (versioned), ``U1__name.sql`` (its undo), ``R__name.sql`` (repeatable),
found in the folder and its subfolders as Flyway scans a location; the history is
``flyway_schema_history``, one row per run (``installed_rank``), its checksum Flyway's CRC-32 of the
file's lines."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from dbshift.errors import ConfigError, SafetyRefusal
from dbshift.teams.imports import ImportedMigration, Reading, ToolApplied

HISTORY_TABLE = "flyway_schema_history"
FORMAT_HINT = "Flyway migrations are named V1__name.sql (undo: U1__name.sql), in the folder or its subfolders"
#: Flyway's default prefixes and separator: V (versioned), U (undo), B (baseline), R (repeatable).
MIGRATION_NAME = re.compile(r"^(?P<prefix>[VUB])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql$")
REPEATABLE_NAME = re.compile(r"^R__(?P<description>.+)\.sql$")
#: Row types of flyway_schema_history that apply a versioned migration.
APPLY_TYPES = {"SQL", "JDBC", "SPRING_JDBC", "SCRIPT", "CUSTOM"}


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def looks_like(path: Path) -> bool:
    """Whether ``path`` holds a Flyway versioned migration."""
    return any(MIGRATION_NAME.match(p.name) and p.name[0] == "V" for p in _files(path))


def version_key(text: str) -> tuple[int, ...]:
    """Flyway's version order: numeric parts, ``1.1`` < ``1.10``, trailing zeros ignored (``1.0`` is ``1``)."""
    parts = [int(part) for part in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def flyway_checksum(data: bytes) -> int:
    """Flyway's checksum of a SQL file: CRC-32 of its lines' UTF-8 bytes without line breaks (a BOM
    dropped), as a signed 32-bit integer, the value of the ``checksum`` column."""
    text = data.decode("utf-8").removeprefix("\ufeff")
    crc = 0
    for line in re.split(r"\r\n|\r|\n", text):
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - 2**32 if crc >= 2**31 else crc


def read(path: Path, dialect: str) -> Reading:
    """The versioned migrations in version order, each with its undo file as its down (None without one)."""
    warnings: list[str] = []
    versioned, undo = _sort_files(path, warnings)
    migrations = [_imported(path, key, *versioned[key], undo.get(key), warnings) for key in sorted(versioned)]
    without_down = [m.origin for m in migrations if m.down is None]
    if without_down:
        warnings.append(
            f"{len(without_down)} migration(s) without an undo file (V{', V'.join(without_down[:5])}"
            + (", ..." if len(without_down) > 5 else "")
            + "): written without a down, so dbshift refuses to roll them back"
        )
    return Reading(migrations, warnings)


def _sort_files(path: Path, warnings: list[str]) -> tuple[dict[tuple, tuple[str, Path]], dict[tuple, Path]]:
    """The versioned files (version key -> (version, file)) and the undo files (key -> file) under
    ``path``; a warning in ``warnings`` for each file that is not imported. Refuses a version twice
    and an undo without its versioned file."""
    versioned: dict[tuple, tuple[str, Path]] = {}
    undo: dict[tuple, Path] = {}
    for file in _files(path):
        relative = file.relative_to(path).as_posix()
        match = MIGRATION_NAME.match(file.name)
        if match and match["prefix"] in "VU":
            key = version_key(match["version"])
            target = versioned if match["prefix"] == "V" else undo
            if key in target:
                other = target[key][1] if match["prefix"] == "V" else target[key]
                raise ConfigError(
                    f"{relative}: Flyway version {match['version']} twice (also {other.relative_to(path).as_posix()})",
                    hint="Flyway refuses this too: give one of them another version",
                )
            if match["prefix"] == "V":
                versioned[key] = (match["version"].replace("_", "."), file)
            else:
                undo[key] = file
        elif REPEATABLE_NAME.match(file.name) or (match and match["prefix"] == "B"):
            kind = "repeatable" if file.name.startswith("R") else "baseline"
            warnings.append(
                f"{relative} not imported: dbshift has no {kind} migrations (keep its statements in a "
                "versioned migration, e.g. `dbshift new`, if they still matter)"
            )
        elif file.suffix.lower() in (".sql", ".java", ".class") and file.name[:1] in "VURvur":
            warnings.append(f"{relative} not imported: not a Flyway migration name ({FORMAT_HINT})")
    for key in undo:
        if key not in versioned:
            raise ConfigError(
                f"{undo[key].relative_to(path).as_posix()}: an undo migration without its versioned migration",
                hint="Flyway pairs U2__x.sql with V2__x.sql: add the V file or remove the U file",
            )
    return versioned, undo


def _imported(path: Path, key: tuple, version: str, file: Path, undo: Path | None, warnings: list[str]):
    """The versioned ``file`` (with its ``undo`` file as its down) as an :class:`ImportedMigration`."""
    from dbshift.migrations import migration_text

    data = file.read_bytes()
    text = migration_text(file, data)
    description = MIGRATION_NAME.match(file.name)["description"].replace("_", " ")
    down = migration_text(undo, undo.read_bytes()) if undo is not None else None
    if "${" in text or (down and "${" in down):
        warnings.append(f"{file.relative_to(path).as_posix()}: holds ${{...}}; Flyway placeholders are not replaced")
    return ImportedMigration(
        origin=version,
        name=f"v{version.replace('.', '_')}_{description}",
        description=f"Flyway V{version}: {description}",
        up=text,
        down=down,
        source=file.relative_to(path).as_posix(),
        extra={"checksum": flyway_checksum(data), "key": key},
    )


def applied(db, table: str, migrations: list[ImportedMigration]) -> dict[str, ToolApplied]:
    """The versions ``flyway_schema_history`` holds as applied, walked in ``installed_rank`` order
    (undo and delete rows take one back; a baseline row stands for every version up to it); a
    failed row or a file whose checksum differs from the recorded one is refused."""
    rows = db.execute(
        "SELECT installed_rank, version, type, script, checksum, installed_by, installed_on, success "
        f"FROM {db.quote(table)} ORDER BY installed_rank"
    )
    by_key = {m.extra["key"]: m for m in migrations}
    found: dict[tuple, ToolApplied] = {}  # a version the folder lacks keeps its own text: the driver names it
    for rank, version, kind, script, checksum, installed_by, installed_on, success in rows:
        if version is None or kind == "SCHEMA":
            continue  # a repeatable migration, or the row for the schema Flyway created
        if not success:
            raise SafetyRefusal(
                f"{table} records {script} (version {version}, rank {rank}) as failed",
                hint="finish it with Flyway (`flyway repair` removes the failed row) before importing; nothing was changed",
            )
        key, installed_on = version_key(str(version)), _text(installed_on)
        if kind in APPLY_TYPES:
            migration = by_key.get(key)
            if migration is not None and checksum is not None and int(checksum) != migration.extra["checksum"]:
                raise SafetyRefusal(
                    f"{migration.source} is not the file Flyway applied as version {version} (checksum "
                    f"{checksum} in {table}, {migration.extra['checksum']} for the file)",
                    hint="import from the files as they were applied (or `flyway repair` to accept the edit); "
                    "nothing was changed",
                )
            found[key] = ToolApplied(migration.origin if migration else str(version), installed_on, installed_by)
        elif kind.startswith("UNDO") or kind == "DELETE":
            found.pop(key, None)
        elif "BASELINE" in kind:
            for other, migration in by_key.items():
                if other <= key and other not in found:
                    found[other] = ToolApplied(migration.origin, installed_on, f"{installed_by} (Flyway baseline)")
    return {a.origin: a for a in found.values()}


def _text(value) -> str | None:
    return None if value is None else str(value)
