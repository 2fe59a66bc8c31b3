"""The runner: executes ups and downs, one transaction per migration, with history rows.

It knows nothing of dialects beyond the :class:`Database` contract, and nothing of the CLI:
progress goes out through an ``on_event(name, **data)`` callback.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from dbshift.dialects.base import Database, Statement
from dbshift.errors import DbshiftError, MigrationFailed, MigrationFileError
from dbshift.history import APPLIED, RUNNING, History
from dbshift.migrations import Migration

EventSink = Callable[..., None]

@dataclass
class StepResult:
    """What happened to one migration in an apply or rollback."""

    migration: Migration
    direction: str  # "up" or "down"
    duration_ms: int = 0
    statements: list[Statement] = field(default_factory=list)
    dry_run: bool = False

    def as_json(self) -> dict:
        """A JSON-friendly summary."""
        return {
            "version": self.migration.version,
            "name": self.migration.name,
            "direction": self.direction,
            "duration_ms": self.duration_ms,
            "dry_run": self.dry_run,
            "sql": [s.sql for s in self.statements] if self.dry_run else None,
        }


class MigrationContext:
    """What a Python migration's ``up(ctx)``/``down(ctx)`` receives."""

    def __init__(self, db: Database, migration: Migration):
        self.db = db
        self.migration = migration
        self.dialect = db.dialect
        self.connection = db.connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement with bound parameters in the migration's transaction."""
        return self.db.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a query and return all rows."""
        return self.db.execute(sql, params)

    def executescript(self, sql: str) -> None:
        """Run several statements, split by the dialect."""
        for statement in self.db.split_script(sql):
            self.db.run_statement(statement.sql)

    def quote(self, identifier: str) -> str:
        """Quote an identifier for this dialect."""
        return self.db.quote(identifier)


def statements_of(db: Database, migration: Migration, direction: str) -> list[Statement]:
    """The SQL statements of a SQL migration's up or down section."""
    if direction == "up":
        return db.split_script(migration.up_sql, migration.up_line)
    return db.split_script(migration.down_sql or "", migration.down_line)


class Runner:
    """Runs migrations against one database, recording them in the history."""

    def __init__(self, db: Database, history: History, on_event: EventSink | None = None, recorder=None):
        self.db = db
        self.history = history
        self.on_event = on_event or (lambda *args, **kwargs: None)
        #: Optional :class:`dbshift.safety.records.Recorder`: a migration record per apply.
        self.recorder = recorder

    def apply(self, migrations: list[Migration]) -> list[StepResult]:
        """Apply ``migrations`` in the given order, each in its own transaction."""
        return [self.apply_one(m) for m in migrations]

    def rollback(self, migrations: list[Migration], backup: str | None = None) -> list[StepResult]:
        """Run the downs of ``migrations`` in the given order (newest first)."""
        return [self.revert_one(m, backup) for m in migrations]

    def apply_one(self, migration: Migration, backup: str | None = None) -> StepResult:
        """Apply one migration in its own transaction, together with its history row."""
        self.on_event("start", migration=migration, direction="up")
        started = time.perf_counter()
        if not migration.transaction or not self.db.transactional_ddl:
            return self._apply_outside_transaction(migration, backup, started)
        self.db.begin()
        try:
            record = self._run_up(migration)
            duration = _elapsed_ms(started)
            self.history.record(migration.version, migration.name, migration.checksum, APPLIED, duration, backup, record=record)
            self.history.store_down(migration.version, migration.file, migration.text)
            self.history.log("apply", migration.version, migration.name, duration_ms=duration)
            self.db.commit()
        except BaseException as exc:
            self.db.rollback()
            self._log_failure("apply-failed", migration, exc)
            raise
        self.on_event("done", migration=migration, direction="up", duration_ms=duration)
        return StepResult(migration, "up", duration)

    def _apply_outside_transaction(self, migration: Migration, backup: str | None, started: float) -> StepResult:
        """Record ``running`` first, so a crash leaves a dirty state that status reports."""
        with self.db.transaction():
            self.history.record(migration.version, migration.name, migration.checksum, RUNNING, None, backup)
        try:
            record = self._run_up(migration)
        except BaseException as exc:
            self._log_failure("apply-failed", migration, exc, dirty=True)
            raise
        duration = _elapsed_ms(started)
        with self.db.transaction():
            self.history.record(migration.version, migration.name, migration.checksum, APPLIED, duration, backup, record=record)
            self.history.store_down(migration.version, migration.file, migration.text)
            self.history.log("apply", migration.version, migration.name, duration_ms=duration)
        self.on_event("done", migration=migration, direction="up", duration_ms=duration)
        return StepResult(migration, "up", duration)

    def apply_atomically(self, migrations: list[Migration], backup: str | None = None) -> list[StepResult]:
        """Apply all ``migrations`` in one transaction: all of them or none."""
        results = []
        self.db.begin()
        current = None
        try:
            for migration in migrations:
                current = migration
                self.on_event("start", migration=migration, direction="up")
                started = time.perf_counter()
                record = self._run_up(migration)
                duration = _elapsed_ms(started)
                self.history.record(migration.version, migration.name, migration.checksum, APPLIED, duration, backup, record=record)
                self.history.store_down(migration.version, migration.file, migration.text)
                self.history.log("apply", migration.version, migration.name, detail="atomic", duration_ms=duration)
                self.on_event("done", migration=migration, direction="up", duration_ms=duration)
                results.append(StepResult(migration, "up", duration))
            self.db.commit()
        except BaseException as exc:
            self.db.rollback()
            if current is not None:
                self._log_failure("apply-failed", current, exc, detail="atomic run rolled back")
            raise
        return results

    def revert_one(self, migration: Migration, backup: str | None = None) -> StepResult:
        """Run one migration's down and remove its history row, in one transaction."""
        self.on_event("start", migration=migration, direction="down")
        started = time.perf_counter()
        transactional = migration.transaction and self.db.transactional_ddl
        if transactional:
            self.db.begin()
        else:
            with self.db.transaction():
                self.history.record(migration.version, migration.name, migration.checksum, RUNNING, None, backup)
        try:
            self._run(migration, "down")
            duration = _elapsed_ms(started)
            if not transactional:
                self.db.begin()
            self.history.remove(migration.version)
            self.history.log("rollback", migration.version, migration.name, detail=_backup_note(backup), duration_ms=duration)
            self.db.commit()
        except BaseException as exc:
            self.db.rollback()
            self._log_failure("rollback-failed", migration, exc, dirty=not transactional)
            raise
        self.on_event("done", migration=migration, direction="down", duration_ms=duration)
        return StepResult(migration, "down", duration)

    # -- executing a section ------------------------------------------------------------
    def _run_up(self, migration: Migration) -> dict | None:
        """Run the up; with a recorder, return its record (tables touched, fingerprints)."""
        if self.recorder is None:
            self._run(migration, "up")
            return None
        with self.recorder.recording(self.db, migration) as record:
            self._run(migration, "up")
        return record

    def _run(self, migration: Migration, direction: str) -> None:
        if migration.kind == "py":
            self._run_python(migration, direction)
            return
        statements = statements_of(self.db, migration, direction)
        if direction == "up" and not statements:
            raise MigrationFileError(
                f"{migration.path}:{migration.up_line}: the up section has no statements",
                hint="write the change under `-- migrate:up`, or delete the file",
            )
        for statement in statements:
            try:
                self.db.run_statement(statement.sql)
            except DbshiftError as exc:
                raise MigrationFailed(
                    f"{migration.path}:{statement.line}: {exc.message}",
                    hint=self._failure_hint(migration, direction),
                ) from exc
            except Exception as exc:
                if not self.db.is_driver_error(exc):
                    raise
                raise MigrationFailed(
                    f"{migration.path}:{statement.line}: {self.db.describe_error(exc)} in `{_first_line(statement.sql)}`",
                    hint=self._failure_hint(migration, direction),
                ) from exc

    def _run_python(self, migration: Migration, direction: str) -> None:
        module = load_python_migration(migration)
        function = getattr(module, direction, None)
        if function is None:
            raise MigrationFileError(f"{migration.path}: no `def {direction}(ctx)`")
        try:
            function(MigrationContext(self.db, migration))
        except DbshiftError:
            raise
        except Exception as exc:
            line = _line_in_file(exc, str(migration.path))
            raise MigrationFailed(
                f"{migration.path}:{line}: {type(exc).__name__}: {_one_line(exc)}",
                hint=self._failure_hint(migration, direction),
            ) from exc

    def _failure_hint(self, migration: Migration, direction: str) -> str:
        """What a failure left behind: nothing inside a transaction, a dirty state outside one."""
        if migration.transaction and self.db.transactional_ddl:
            return f"the {direction} of {migration.label} was rolled back; the database is as it was before it"
        return (f"the {direction} of {migration.label} ran outside a transaction, so the statements before the "
                "failing one stayed; check the database, then `dbshift repair --dirty applied` or `--dirty pending`")

    def _log_failure(self, action: str, migration: Migration, exc: BaseException, dirty: bool = False, detail: str = "") -> None:
        message = detail or _one_line(exc)
        if dirty:
            message += " (left in running state: run `dbshift status` and `dbshift repair`)"
        try:
            with self.db.transaction():
                self.history.log(action, migration.version, migration.name, detail=message)
        except Exception:  # the log is best effort; the original error matters more
            pass
        self.on_event("failed", migration=migration, error=message)


def load_python_migration(migration: Migration):
    """Import a Python migration file as a fresh module."""
    import importlib.util
    import types
    from pathlib import Path

    module_name = f"dbshift_migration_{migration.version}"
    on_disk = Path(migration.path).is_file() or not migration.text  # else from a git revision or history
    spec = importlib.util.spec_from_file_location(module_name, migration.path) if on_disk else None
    module = importlib.util.module_from_spec(spec) if on_disk else types.ModuleType(module_name)
    try:
        if on_disk:
            spec.loader.exec_module(module)
        else:
            exec(compile(migration.text, str(migration.path), "exec"), module.__dict__)  # noqa: S102
    except Exception as exc:
        line = _line_in_file(exc, str(migration.path))
        raise MigrationFileError(f"{migration.path}:{line}: cannot import: {type(exc).__name__}: {_one_line(exc)}") from None
    sys.modules.pop(module_name, None)
    return module


def _line_in_file(exc: BaseException, filename: str) -> int | str:
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return frames[-1].lineno if frames else "?"


def _first_line(sql: str, width: int = 80) -> str:
    line = " ".join(sql.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _elapsed_ms(started: float) -> int:
    return int(round((time.perf_counter() - started) * 1000))


def _backup_note(backup: str | None) -> str | None:
    return f"backup: {backup}" if backup else None
