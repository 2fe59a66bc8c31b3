"""The neutral half of ``dbshift import``: versions, files, and the history rows that map the old
tool's history, written only after every check passed (a failure leaves files and database as they were)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dbshift.errors import ConfigError, SafetyRefusal
from dbshift.history import APPLIED, History, lock_holder
from dbshift.sumfile import SUM_NAME
from dbshift.teams.imports import ImportedMigration, ToolApplied, detect, tool_module

#: Versions given to migrations whose ids are not timestamps: one second apart from this moment on,
#: in the old tool's order (so every migration written later with `dbshift new` comes after them).
SYNTHETIC_START = datetime(2000, 1, 1)


@dataclass
class ImportedFile:
    """A dbshift migration made from one of the old tool's, and whether the database had applied it."""

    version: int
    name: str
    origin: str
    has_down: bool
    applied: bool
    path: Path | None = None

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {**self.__dict__, "path": None if self.path is None else str(self.path)}


@dataclass
class ImportResult:
    """What ``dbshift import`` wrote (or, with ``dry_run``, would write)."""

    tool: str
    files: list[ImportedFile]
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    files_only: bool = False
    #: ``dbshift.sum`` as it was before the import wrote anything (None: there was none), restored on a failure.
    sum_before: bytes | None = field(default=None, repr=False)

    @property
    def recorded(self) -> int:
        """How many migrations are recorded as applied."""
        return sum(1 for f in self.files if f.applied)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "tool": self.tool,
            "dry_run": self.dry_run,
            "files_only": self.files_only,
            "migrations": [f.as_json() for f in self.files],
            "recorded_as_applied": self.recorded,
            "warnings": self.warnings,
        }


def import_project(
    project,
    tool: str,
    path: Path | str,
    dry_run: bool = False,
    files_only: bool = False,
    history_table: str | None = None,
) -> ImportResult:
    """Turn ``tool``'s migrations in ``path`` into dbshift migrations and map the database's history of them.

    Everything is read and checked first (the folder's format, the old tool's history table against
    the files, no dbshift history yet); then the files are written and the history rows recorded,
    nothing runs. ``files_only`` converts the files without reading or writing the database.
    """
    module = tool_module(tool)
    folder = _folder(Path(path), tool, module)
    if project.migrations():
        raise SafetyRefusal(
            f"{project.config.migrations_dir} already holds dbshift migrations: import writes a new history",
            hint="import into a new project (`dbshift init` in another folder) or move those files away first",
        )
    dialect = project.config.require_url().dialect
    reading = module.read(folder, dialect)
    if not reading.migrations:
        raise ConfigError(f"{folder}: no {tool} migrations found", hint=module.FORMAT_HINT)
    versions = assign_versions(reading.migrations)
    result = ImportResult(tool, [], list(reading.warnings), dry_run, files_only)
    table = history_table or module.HISTORY_TABLE
    if files_only:
        result.files = _files(reading.migrations, versions, {})
        return result if dry_run else _write_files(project, reading.migrations, result)
    project.require_database()
    with project.connect() as db, db.lock(project.config.lock_timeout, lock_holder()):
        history = History(db)
        if history.applied():
            raise SafetyRefusal(
                "this database already has dbshift history: import maps a history into an empty one",
                hint="`dbshift status` shows where it stands; import into a database dbshift has not managed yet",
            )
        if not db.table_exists(table):
            raise SafetyRefusal(
                f"the database has no {table} table: {tool} has not migrated it",
                hint=f"check --db / DATABASE_URL (the database {tool} manages); --history-table names another "
                "table; --files-only converts the files without the database",
            )
        applied = module.applied(db, table, reading.migrations)
        check_applied_known(tool, table, applied, reading.migrations)
        result.files = _files(reading.migrations, versions, applied)
        if dry_run:
            return result
        _write_files(project, reading.migrations, result)
        try:
            _record(db, history, tool, result, {m.origin: m for m in reading.migrations}, applied)
        except BaseException:
            _remove_files(project, result)
            raise
    return result


def _folder(path: Path, tool: str, module) -> Path:
    if not path.exists():
        raise ConfigError(f"{path}: no such folder", hint=f"give the folder that holds the {tool} project")
    if not path.is_dir():
        raise ConfigError(f"{path}: not a folder", hint=f"give the folder that holds the {tool} project")
    if not module.looks_like(path):
        other = detect(path)
        if other:
            raise ConfigError(
                f"{path} does not hold {tool} migrations: it looks like a {other} project",
                hint=f"`dbshift import {other} {path}`",
            )
        raise ConfigError(f"{path}: no {tool} migrations found", hint=module.FORMAT_HINT)
    return path.resolve()


def assign_versions(migrations: list[ImportedMigration]) -> list[int]:
    """dbshift versions in the old tool's order: the ids themselves when every one is a 14-digit
    timestamp in ascending order (dbmate's), else one second apart from :data:`SYNTHETIC_START`."""
    if all(_is_timestamp(m.origin) for m in migrations):
        kept = [int(m.origin) for m in migrations]
        if kept == sorted(set(kept)):
            return kept
    return [int((SYNTHETIC_START + timedelta(seconds=i + 1)).strftime("%Y%m%d%H%M%S")) for i in range(len(migrations))]


def _is_timestamp(text: str) -> bool:
    if len(text) != 14 or not text.isdigit():
        return False
    try:
        datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def check_applied_known(tool: str, table: str, applied: dict[str, ToolApplied], migrations) -> None:
    """Refuse when the old tool's history names a migration the folder does not have."""
    known = {m.origin for m in migrations}
    unknown = [origin for origin in applied if origin not in known]
    if unknown:
        raise SafetyRefusal(
            f"{table} records {tool} migration {unknown[0]} as applied, but the folder has no such migration"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
            hint="import from the folder (the git revision) that matches this database; nothing was changed",
        )


def _files(migrations: list[ImportedMigration], versions: list[int], applied: dict) -> list[ImportedFile]:
    from dbshift.migrations import slug

    return [
        ImportedFile(version, slug(m.name), m.origin, m.down is not None, m.origin in applied)
        for m, version in zip(migrations, versions)
    ]


def _write_files(project, migrations: list[ImportedMigration], result: ImportResult) -> ImportResult:
    """Write the migration files and ``dbshift.sum``; on a failure, remove what was written."""
    from dbshift.migrations import write_sql_migration

    directory = project.config.migrations_dir
    sum_path = directory / SUM_NAME
    result.sum_before = sum_path.read_bytes() if sum_path.is_file() else None
    try:
        for migration, file in zip(migrations, result.files):
            file.path = write_sql_migration(
                directory,
                file.name,
                up=migration.up,
                down=migration.down,
                description=migration.description,
                transaction=migration.transaction,
                version=file.version,
            )
        project.hash()
    except BaseException:
        _remove_files(project, result)
        raise
    return result


def _remove_files(project, result: ImportResult) -> None:
    for file in result.files:
        if file.path is not None:
            file.path.unlink(missing_ok=True)
            file.path = None
    sum_path = project.config.migrations_dir / SUM_NAME
    if result.sum_before is None:
        sum_path.unlink(missing_ok=True)
    else:
        sum_path.write_bytes(result.sum_before)


def _record(db, history: History, tool: str, result: ImportResult, by_origin: dict, applied: dict) -> None:
    """One transaction: a history row per migration the old tool applied, with its stored file."""
    from dbshift.migrations import load_migration

    with db.transaction():
        history.ensure_tables()
        for file in (f for f in result.files if f.applied):
            migration = load_migration(file.path)
            was = applied[file.origin]
            record = {"imported": {"tool": tool, "origin": file.origin, **_when(was)}}
            history.record(migration.version, migration.name, migration.checksum, APPLIED, 0, record=record)
            history.store_down(migration.version, migration.file, migration.text)
            history.log(
                "import",
                migration.version,
                migration.name,
                detail=f"imported from {tool} {file.origin}" + _when_text(was) + "; nothing ran",
            )


def _when(was: ToolApplied) -> dict:
    return {k: v for k, v in (("installed_on", was.installed_on), ("installed_by", was.installed_by)) if v}


def _when_text(was: ToolApplied) -> str:
    parts = [
        f"applied {was.installed_on}" if was.installed_on else "",
        f"by {was.installed_by}" if was.installed_by else "",
    ]
    text = " ".join(p for p in parts if p)
    return f" ({text})" if text else ""
