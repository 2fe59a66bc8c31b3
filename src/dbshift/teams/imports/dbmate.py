"""dbmate: ``VERSION_name.sql`` files with ``-- migrate:up`` and ``-- migrate:down`` sections (each may
say ``transaction:false``), in ``db/migrations`` by default; the history is ``schema_migrations``, one
``version`` per applied file."""

from __future__ import annotations

import re
from pathlib import Path

from dbshift.errors import ConfigError
from dbshift.teams.imports import ImportedMigration, Reading, ToolApplied

HISTORY_TABLE = "schema_migrations"
FORMAT_HINT = "dbmate migrations are VERSION_name.sql files with `-- migrate:up` and `-- migrate:down` sections"
FILE_NAME = re.compile(r"^(?P<version>\d+)_?(?P<name>.*)\.sql$")


def _folder(path: Path) -> Path:
    """The migrations folder: ``path`` itself, or dbmate's default ``db/migrations`` under it."""
    inner = path / "db" / "migrations"
    if not any(FILE_NAME.match(p.name) for p in path.iterdir() if p.is_file()) and inner.is_dir():
        return inner
    return path


def _files(path: Path) -> list[Path]:
    return sorted((p for p in _folder(path).iterdir() if p.is_file() and FILE_NAME.match(p.name)), key=_order)


def _order(path: Path) -> tuple[int, str]:
    return int(FILE_NAME.match(path.name)["version"]), path.name


def looks_like(path: Path) -> bool:
    """Whether ``path`` (or its ``db/migrations``) holds a file with dbmate's ``-- migrate:up`` marker."""
    from dbshift.migrations import MARKER

    for file in _files(path):
        lines = file.read_bytes().decode("utf-8", errors="replace").splitlines()
        if any((m := MARKER.match(line.strip())) and m["section"].lower() == "up" for line in lines):
            return True
    return False


def read(path: Path, dialect: str) -> Reading:
    """Every migration in version order, its sections and options as dbmate reads them."""
    seen: dict[int, Path] = {}
    migrations = []
    warnings = []
    for file in _files(path):
        match = FILE_NAME.match(file.name)
        version = int(match["version"])
        if version in seen:
            raise ConfigError(
                f"{file}: dbmate version {match['version']} twice (also {seen[version].name})",
                hint="give one of them another version",
            )
        seen[version] = file
        migration = _parse(file, match["version"], match["name"] or "migration")
        if migration.down is not None and not migration.down.strip():
            warnings.append(f"{file.name}: its `-- migrate:down` is empty, so rolling it back changes nothing")
        migrations.append(migration)
    return Reading(migrations, warnings)


def _parse(file: Path, version: str, name: str) -> ImportedMigration:
    from dbshift.migrations import MARKER, migration_text

    lines = migration_text(file, file.read_bytes()).splitlines()
    sections: dict[str, list[str]] = {}
    current = None
    transaction = True
    for number, line in enumerate(lines, 1):
        marker = MARKER.match(line.strip())
        if marker and marker["section"].lower() in ("up", "down"):
            current = marker["section"].lower()
            if current in sections:
                raise ConfigError(f"{file}:{number}: a second `-- migrate:{current}`", hint=FORMAT_HINT)
            for option in marker["options"].split():
                if option.lower() == "transaction:false":
                    transaction = False
                else:
                    raise ConfigError(
                        f"{file}:{number}: unknown dbmate option {option!r}", hint="dbmate knows transaction:false"
                    )
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip() and not line.strip().startswith("--"):
            raise ConfigError(f"{file}:{number}: SQL before `-- migrate:up`", hint=FORMAT_HINT)
    if "up" not in sections:
        raise ConfigError(f"{file}: no `-- migrate:up` section", hint=FORMAT_HINT)
    down = "\n".join(sections["down"]) if "down" in sections else None
    return ImportedMigration(
        origin=version,
        name=name,
        description=f"dbmate {version}: {name.replace('_', ' ')}",
        up="\n".join(sections["up"]),
        down=down,
        transaction=transaction,
        source=file.name,
    )


def applied(db, table: str, migrations: list[ImportedMigration]) -> dict[str, ToolApplied]:
    """The versions in ``schema_migrations``, matched to the files by number (``0042`` is ``42``)."""
    by_number = {int(m.origin): m.origin for m in migrations}
    found = {}
    for (version,) in db.execute(f"SELECT version FROM {db.quote(table)} ORDER BY version"):
        text = str(version).strip()
        origin = by_number.get(int(text), text) if text.isdigit() else text
        found[origin] = ToolApplied(origin)
    return found
