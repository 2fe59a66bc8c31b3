"""The runner: executes ups and downs, one transaction per migration, with history rows.

It knows nothing of dialects beyond the :class:`Database` contract, and nothing of the CLI:
progress goes out through an ``on_event(name, **data)`` callback.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from dbshift.dialects.base import Database, Statement
from dbshift.errors import DbshiftError, Interrupted, MigrationFailed, MigrationFileError
from dbshift.history import APPLIED, RUNNING, History
from dbshift.interrupts import InterruptWatch
from dbshift.migrations import Migration

EventSink = Callable[..., None]
#: A statement running this long is reported (``running`` events), and then again at this interval.
REPORT_AFTER_SECONDS = 2.0
REPORT_EVERY_SECONDS = 1.0


class StatementClock:
    """While a migration runs, a background thread reports the statement that has run for more than
    REPORT_AFTER_SECONDS: ``on_event("running", migration, direction, line, seconds)`` every
    REPORT_EVERY_SECONDS (the CLI shows the elapsed time). Marking a statement costs one assignment."""

    def __init__(self, on_event: EventSink, migration: Migration, direction: str):
        self.on_event = on_event
        self.migration = migration
        self.direction = direction
        self._current: tuple[int | None, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="dbshift-clock", daemon=True)

    def __enter__(self) -> "StatementClock":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._current = None
        self._stop.set()
        self._thread.join()

    def statement(self, line: int | None) -> None:
        """A statement (starting at ``line`` of the file) starts now."""
        self._current = (line, time.monotonic())

    def _tick(self) -> None:
        while not self._stop.wait(REPORT_EVERY_SECONDS):
            current = self._current
            if current is None:
                continue
            seconds = time.monotonic() - current[1]
            if seconds >= REPORT_AFTER_SECONDS:
                try:
                    self.on_event(
                        "running", migration=self.migration, direction=self.direction, line=current[0], seconds=seconds
                    )
                except Exception:  # progress output never stops a migration
                    pass


@dataclass
class StepResult:
    """What happened to one migration in an apply or rollback."""

    migration: Migration
    direction: str  # "up" or "down"
    duration_ms: int = 0
    statements: list[Statement] = field(default_factory=list)
    dry_run: bool = False
    #: What the up's loss checks counted (values its down will not give back); None: no check.
    lost_values: int | None = None

    def as_json(self) -> dict:
        """A JSON-friendly summary."""
        return {
            "version": self.migration.version,
            "name": self.migration.name,
            "direction": self.direction,
            "duration_ms": self.duration_ms,
            "dry_run": self.dry_run,
            "sql": [s.sql for s in self.statements] if self.dry_run else None,
            "lost_values": self.lost_values,
        }


class MigrationContext:
    """What a Python migration's ``up(ctx)``/``down(ctx)`` receives."""

    def __init__(self, db: Database, migration: Migration, interrupts: InterruptWatch | None = None):
        self.db = db
        self.migration = migration
        self._interrupts = interrupts
        self.dialect = db.dialect
        self.connection = db.connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement with bound parameters in the migration's transaction."""
        if self._interrupts is not None and self._interrupts.requested:
            raise KeyboardInterrupt  # Ctrl-C: the runner rolls back and says so
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
        #: Ctrl-C stops the running statement; the migration is then rolled back (see dbshift.interrupts).
        self.interrupts = InterruptWatch(db)
        #: Optional :class:`dbshift.lint.observe.Observer`: watches each SQL statement as it runs (rehearsals).
        self.observer = None

    def apply(self, migrations: list[Migration]) -> list[StepResult]:
        """Apply ``migrations`` in the given order, each in its own transaction."""
        return [self.apply_one(m) for m in migrations]

    def rollback(self, migrations: list[Migration], backup: str | None = None) -> list[StepResult]:
        """Run the downs of ``migrations`` in the given order (newest first)."""
        return [self.revert_one(m, backup) for m in migrations]

    def apply_one(self, migration: Migration, backup: str | None = None) -> StepResult:
        """Apply one migration in its own transaction, together with its history row."""
        with self.interrupts:
            return self._apply_one(migration, backup)

    def _apply_one(self, migration: Migration, backup: str | None) -> StepResult:
        self._refuse_transaction_control(migration, "up")
        self._starting(migration, "up")
        started = time.perf_counter()
        if not migration.transaction or not self.db.transactional_ddl:
            return self._apply_outside_transaction(migration, backup, started)
        self.db.begin()
        try:
            lost = self._count_lost_values(migration)
            record = self._run_up(migration)
            duration = _elapsed_ms(started)
            self._record_applied(migration, duration, backup, record, lost)
            self.db.commit()
        except BaseException as exc:
            self.db.rollback()
            self._log_failure("apply-failed", migration, exc)
            if self._was_interrupted(exc):
                raise self._interrupted(migration, "up", exc) from None
            raise
        self._finished(migration, "up", duration)
        lost.announce(self.on_event, migration)
        return StepResult(migration, "up", duration, lost_values=lost.total)

    def _apply_outside_transaction(self, migration: Migration, backup: str | None, started: float) -> StepResult:
        """Record ``running`` first, so a crash leaves a dirty state that status reports."""
        try:  # the loss checks only read: a failing one leaves nothing to repair
            lost = self._count_lost_values(migration)
        except BaseException as exc:
            self._log_failure("apply-failed", migration, exc)
            raise
        with self.db.transaction():
            self.history.record(migration.version, migration.name, migration.checksum, RUNNING, None, backup)
        try:
            record = self._run_up(migration)
        except BaseException as exc:
            self._log_failure("apply-failed", migration, exc, dirty=True)
            if self._was_interrupted(exc):
                raise self._interrupted(migration, "up", exc) from None
            raise
        duration = _elapsed_ms(started)
        with self.db.transaction():
            self._record_applied(migration, duration, backup, record, lost)
        self._finished(migration, "up", duration)
        lost.announce(self.on_event, migration)
        return StepResult(migration, "up", duration, lost_values=lost.total)

    def _record_applied(
        self,
        migration: Migration,
        duration: int,
        backup: str | None,
        record: dict | None,
        lost: LostValues,
        atomic: bool = False,
    ) -> None:
        """The history row of an applied migration (with what its loss checks counted and its file, for
        ``sync``) and its log line, in the caller's transaction."""
        self.history.record(
            migration.version,
            migration.name,
            migration.checksum,
            APPLIED,
            duration,
            backup,
            record=lost.into(record),
            lost_values=lost.total,
        )
        self.history.store_down(
            migration.version, migration.file, migration.text, declared=migration.extras.get("declared")
        )
        detail = "; ".join(filter(None, ["atomic" if atomic else None, lost.detail]))
        self.history.log("apply", migration.version, migration.name, detail=detail or None, duration_ms=duration)

    def apply_atomically(self, migrations: list[Migration], backup: str | None = None) -> list[StepResult]:
        """Apply all ``migrations`` in one transaction: all of them or none."""
        with self.interrupts:
            return self._apply_atomically(migrations, backup)

    def _apply_atomically(self, migrations: list[Migration], backup: str | None) -> list[StepResult]:
        results = []
        self.db.begin()
        current = None
        try:
            for migration in migrations:
                current = migration
                self._refuse_transaction_control(migration, "up")
                self._starting(migration, "up")
                started = time.perf_counter()
                lost = self._count_lost_values(migration)
                record = self._run_up(migration)
                duration = _elapsed_ms(started)
                self._record_applied(migration, duration, backup, record, lost, atomic=True)
                self._finished(migration, "up", duration)
                lost.announce(self.on_event, migration)
                results.append(StepResult(migration, "up", duration, lost_values=lost.total))
            self.db.commit()
        except BaseException as exc:
            self.db.rollback()
            if current is not None:
                self._log_failure("apply-failed", current, exc, detail="atomic run rolled back")
            if current is not None and self._was_interrupted(exc):
                raise self._interrupted(current, "up", exc, atomic=True) from None
            raise
        return results

    def revert_one(self, migration: Migration, backup: str | None = None) -> StepResult:
        """Run one migration's down and remove its history row, in one transaction."""
        with self.interrupts:
            return self._revert_one(migration, backup)

    def _revert_one(self, migration: Migration, backup: str | None) -> StepResult:
        self._refuse_transaction_control(migration, "down")
        self._starting(migration, "down")
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
            self.history.log(
                "rollback", migration.version, migration.name, detail=_backup_note(backup), duration_ms=duration
            )
            self.db.commit()
        except BaseException as exc:
            self.db.rollback()
            self._log_failure("rollback-failed", migration, exc, dirty=not transactional)
            if self._was_interrupted(exc):
                raise self._interrupted(migration, "down", exc) from None
            raise
        self._finished(migration, "down", duration)
        return StepResult(migration, "down", duration)

    def _starting(self, migration: Migration, direction: str) -> None:
        """Say which migration starts, and let the lock record it (a crash then names it)."""
        self.db.note_running(f"{'apply' if direction == 'up' else 'rollback'} of {migration.label}")
        self.on_event("start", migration=migration, direction=direction)

    def _finished(self, migration: Migration, direction: str, duration: int) -> None:
        """Say the migration is done; the lock no longer names it as running."""
        self.db.note_running(None)
        self.on_event("done", migration=migration, direction=direction, duration_ms=duration)

    # -- Ctrl-C ---------------------------------------------------------------------------
    def _was_interrupted(self, exc: BaseException) -> bool:
        return self.interrupts.requested or isinstance(exc, (KeyboardInterrupt, Interrupted))

    def _interrupted(
        self, migration: Migration, direction: str, exc: BaseException, atomic: bool = False
    ) -> Interrupted:
        """The one-line account of a Ctrl-C: what was rolled back, or what is left dirty."""
        if isinstance(exc, Interrupted):
            return exc
        what = "the atomic run" if atomic else migration.label
        if atomic or (migration.transaction and self.db.transactional_ddl):
            return Interrupted(f"interrupted: {what} rolled back, the database is as before")
        return Interrupted(
            f"interrupted: the {direction} of {migration.label} was stopped part-way; it ran outside a transaction, so "
            "the statements before the interrupted one stayed, and it is marked dirty",
            hint="check the database, then `dbshift repair --dirty applied` (if it did all it should) or "
            "`dbshift repair --dirty pending` (if not), before the next apply",
        )

    # -- executing a section ------------------------------------------------------------
    def _count_lost_values(self, migration: Migration) -> LostValues:
        """Run the migration's loss checks (before its up, in its transaction): what the down won't give back."""
        counts: dict[str, int] = {}
        for number, check in enumerate(migration.loss_checks, 1):
            try:
                row = self.db.execute(check)[0]
            except Exception as exc:
                if not self.db.is_driver_error(exc):
                    raise
                raise MigrationFailed(
                    f"{migration.path}: loss check {number} failed: {self.db.describe_error(exc)}",
                    hint="the `-- loss-check:` lines must be queries returning a count; fix or remove it "
                    "(then the migration cannot say which values its down loses)",
                ) from exc
            label = str(row[1]) if len(row) > 1 else f"loss check {number}"
            counts[label] = counts.get(label, 0) + int(row[0] or 0)
        return LostValues(counts if migration.loss_checks else None)

    def _run_up(self, migration: Migration) -> dict | None:
        """Run the up; with a recorder, return its record (tables touched, fingerprints)."""
        if self.recorder is None:
            self._run(migration, "up")
            return None
        with self.recorder.recording(self.db, migration) as record:
            self._run(migration, "up")
        return record

    def _run(self, migration: Migration, direction: str) -> None:
        with StatementClock(self.on_event, migration, direction) as clock:
            if migration.kind == "py":
                clock.statement(None)
                self._run_python(migration, direction)
            else:
                self._run_sql(migration, direction, clock)

    def _run_sql(self, migration: Migration, direction: str, clock: StatementClock) -> None:
        statements = statements_of(self.db, migration, direction)
        if direction == "up" and not statements:
            raise MigrationFileError(
                f"{migration.path}:{migration.up_line}: the up section has no statements",
                hint="write the change under `-- migrate:up`, or delete the file",
            )
        for statement in statements:
            if self.interrupts.requested:
                raise KeyboardInterrupt
            clock.statement(statement.line)
            try:
                if self.observer is None:
                    self.db.run_statement(statement.sql)
                else:
                    with self.observer.statement(migration, statement):
                        self.db.run_statement(statement.sql)
            except DbshiftError as exc:
                raise MigrationFailed(
                    f"{migration.path}:{statement.line}: {exc.message}",
                    hint=self._failure_hint(migration, direction),
                ) from exc
            except Exception as exc:
                if not self.db.is_driver_error(exc):
                    raise
                if self.interrupts.requested:
                    raise KeyboardInterrupt from None
                raise MigrationFailed(
                    f"{migration.path}:{statement.line}: {self.db.describe_error(exc)} in `{_first_line(statement.sql)}`",
                    hint=self._failure_hint(migration, direction),
                ) from exc

    def _refuse_transaction_control(self, migration: Migration, direction: str) -> None:
        """A BEGIN, COMMIT or ROLLBACK would end the transaction the migration and its history row run
        in: a later failure could then not take the earlier statements back. Refused before anything
        runs or is recorded (a ``no-transaction`` migration manages its own)."""
        if migration.kind == "py" or not migration.transaction:
            return
        for statement in statements_of(self.db, migration, direction):
            if self.db.ends_transaction(statement.sql):
                raise MigrationFailed(
                    f"{migration.path}:{statement.line}: `{_first_line(statement.sql)}` would end the transaction "
                    "dbshift runs this migration in, so a later failure could not undo the statements before it",
                    hint="remove it: each migration runs in one transaction with its history row (a migration "
                    "that must manage its own transactions says `-- no-transaction`)",
                    line=statement.line,
                )

    def _run_python(self, migration: Migration, direction: str) -> None:
        module = load_python_migration(migration)
        function = getattr(module, direction, None)
        if function is None:
            raise MigrationFileError(f"{migration.path}: no `def {direction}(ctx)`")
        try:
            function(MigrationContext(self.db, migration, self.interrupts))
        except DbshiftError:
            raise
        except Exception as exc:
            if self.interrupts.requested:
                raise KeyboardInterrupt from None
            line = _line_in_file(exc, str(migration.path))
            raise MigrationFailed(
                f"{migration.path}:{line}: {type(exc).__name__}: {_one_line(exc)}",
                hint=self._failure_hint(migration, direction),
            ) from exc

    def _failure_hint(self, migration: Migration, direction: str) -> str:
        """What a failure left behind: nothing inside a transaction, a dirty state outside one."""
        if migration.transaction and self.db.transactional_ddl:
            return f"the {direction} of {migration.label} was rolled back; the database is as it was before it"
        return (
            f"the {direction} of {migration.label} ran outside a transaction, so the statements before the "
            "failing one stayed; check the database, then `dbshift repair --dirty applied` or `--dirty pending`"
        )

    def _log_failure(
        self, action: str, migration: Migration, exc: BaseException, dirty: bool = False, detail: str = ""
    ) -> None:
        interrupted = self._was_interrupted(exc)
        if interrupted:
            action = action.replace("-failed", "-interrupted")
        message = detail or ("stopped by Ctrl-C" if interrupted else _one_line(exc))
        if dirty:
            message += " (left in running state: run `dbshift status` and `dbshift repair`)"
        try:
            with self.db.transaction():
                self.history.log(action, migration.version, migration.name, detail=message)
        except Exception:  # the log is best effort; the original error matters more
            pass
        self.on_event("interrupted" if interrupted else "failed", migration=migration, error=message)


@dataclass
class LostValues:
    """What a migration's loss checks counted: ``table.column`` -> values its down will not give back."""

    counts: dict[str, int] | None  # None: the migration has no loss checks

    @property
    def total(self) -> int | None:
        """All values counted (None when nothing was checked)."""
        return None if self.counts is None else sum(self.counts.values())

    @property
    def detail(self) -> str | None:
        """The log line's note, e.g. ``lost on rollback: 2 value(s) of t.v``; None when nothing is lost."""
        lost = [f"{n} value(s) of {label}" for label, n in (self.counts or {}).items() if n]
        return "lost on rollback: " + ", ".join(lost) if lost else None

    def into(self, record: dict | None) -> dict | None:
        """The migration record with the counts added (``lost_values``: ``table.column`` -> count) when any."""
        if not self.total:
            return record
        return {**(record or {}), "lost_values": {label: n for label, n in self.counts.items() if n}}

    def announce(self, on_event: EventSink, migration: Migration) -> None:
        """Tell the user (a ``lost-values`` event) when values will not come back."""
        if self.total:
            on_event("lost-values", migration=migration, total=self.total, counts=dict(self.counts))


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
        raise MigrationFileError(
            f"{migration.path}:{line}: cannot import: {type(exc).__name__}: {_one_line(exc)}"
        ) from None
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
