"""Observed findings: each pending statement runs on a rehearsal copy while dbshift records what
it really did: the locks it held (and whether a concurrent reader or writer had to wait), whether
it rewrote or copied a table, and how long it took on real data.

The neutral driver lives here; each dialect's description names its watcher
(``observer = "module:Class"``, :mod:`dbshift.lint.observe_postgresql`, ``observe_mysql``,
``observe_sqlite``). A watcher is built on the copy's open connection and answers:

- ``notes``: one line per thing it cannot observe on this server (and why);
- ``migration_started()``: a migration's transaction starts;
- ``start()`` / ``stop(failed) -> [TableSeen]``: around one statement.

A Python migration has no statements dbshift can see: its whole ``up(ctx)`` is watched as one
unit (``start()`` before its transaction, ``stop()`` after its commit); a watcher's
``python_note`` says what that cannot show.

``observe_pending(real, pending)`` makes the copy, applies the pending migrations on it with the
watcher, and returns the observations and their findings; ``rehearse`` observes the same way.
The real database is only read (to make the copy).
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dbshift.lint.findings import Finding
from dbshift.lint.observe_findings import OBSERVED_RULES, observed_findings

#: Tables of dbshift's own bookkeeping: never reported.
OWN_TABLE_PREFIX = "dbshift_"


@dataclass
class TableSeen:
    """What one statement was seen doing to one table (``table`` empty: the whole database)."""

    table: str
    #: Lock modes the statement took, as the database names them (``ACCESS EXCLUSIVE``, ``write lock``).
    locks: tuple[str, ...] = ()
    #: A concurrent write (read) had to wait: True, False, or None when not observed.
    blocks_writes: bool | None = None
    blocks_reads: bool | None = None
    #: The lock was still held when the statement ended: it lasts until the migration commits.
    held_until_commit: bool = False
    #: The table's storage was replaced (PostgreSQL relfilenode, MySQL table id, SQLite root page).
    rewritten: bool = False
    rows: int | None = None
    #: How it was seen (``new relfilenode``, ``state 'copy to tmp table'``...).
    evidence: str = ""
    #: How long the rewrite took when it spanned several statements (SQLite: create, copy, rename).
    seconds: float | None = None
    #: How the locks were seen (``performance_schema.metadata_locks listed SHARED_UPGRADABLE; ...``).
    lock_evidence: str = ""

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "table": self.table or None,
            "locks": list(self.locks),
            "blocks_writes": self.blocks_writes,
            "blocks_reads": self.blocks_reads,
            "held_until_commit": self.held_until_commit,
            "rewritten": self.rewritten,
            "rows": self.rows,
            "evidence": self.evidence,
            "seconds": None if self.seconds is None else round(self.seconds, 4),
            "lock_evidence": self.lock_evidence,
        }

    def summary(self) -> tuple[str, str]:
        """(locks, rewrite) as short text for a table: ``SHARE on orders (blocks writes)``, ``orders (200,000 rows)``."""
        locks = ""
        if self.locks:
            waits = "reads and writes" if self.blocks_reads else "writes" if self.blocks_writes else ""
            where = f" on {self.table}" if self.table else " (database)"
            locks = " + ".join(self.locks) + where + (f", blocks {waits}" if waits else "")
            locks += ", until commit" if self.held_until_commit else ""
        rows = f" ({self.rows:,} rows)" if self.rows is not None else ""
        return locks, (f"{self.table}{rows}" if self.rewritten else "")


@dataclass
class StatementObservation:
    """One statement as it ran on the copy: its duration, how long its locks were held, its tables."""

    migration: str
    file: str
    line: int
    statement: str
    seconds: float
    #: From the statement's start until its locks went (the migration's commit when held until then).
    held_seconds: float
    tables: list[TableSeen] = field(default_factory=list)
    error: str | None = None
    started: float = 0.0

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "migration": self.migration,
            "file": self.file,
            "line": self.line,
            "statement": self.statement,
            "seconds": round(self.seconds, 4),
            "held_seconds": round(self.held_seconds, 4),
            "tables": [t.as_json() for t in self.tables],
            "error": self.error,
        }


@dataclass
class Observed:
    """Everything observed on one copy: per-statement observations, what could not be observed."""

    observations: list[StatementObservation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The first migration observed (notes are reported against its file)...
    first_file: str = ""
    #: ...unless the note is about one migration: note -> (its file, line).
    placed: dict[str, tuple[str, int]] = field(default_factory=dict)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {"statements": [o.as_json() for o in self.observations], "notes": self.notes}

    def rows(self) -> list[list[str]]:
        """One row per statement that locked or rewrote something, for a text table:
        statement, locks, rewrite, time (``0.41 s``, ``held 2.30 s`` when held until commit)."""
        rows = []
        for seen in self.observations:
            summaries = [t.summary() for t in seen.tables]
            locks = "; ".join(s[0] for s in summaries if s[0])
            rewrites = "; ".join(s[1] for s in summaries if s[1])
            if not (locks or rewrites or seen.error):
                continue
            time_ = f"{seen.seconds:.2f} s" + (
                f", held {seen.held_seconds:.2f} s" if seen.held_seconds > seen.seconds else ""
            )
            where = f"{seen.migration}:{seen.line}"
            text = seen.statement if len(seen.statement) <= 60 else seen.statement[:57] + "..."
            rows.append([f"{where} {text}", locks or ("failed: " + seen.error if seen.error else ""), rewrites, time_])
        return rows


class Observer:
    """Watches the statements a :class:`dbshift.runner.Runner` runs on ``copy`` (set it as
    ``runner.observer``); wrap each migration in :meth:`migration`."""

    def __init__(self, copy):
        target = copy.description.observer
        self.observed = Observed()
        self.watcher = None
        if not target:
            self.observed.notes.append(f"statements are not observed on {copy.dialect}")
            return
        module, attribute = target.split(":")
        try:
            self.watcher = getattr(importlib.import_module(module), attribute)(copy)
        except Exception as exc:  # a rehearsal still runs when its watcher cannot start
            self.observed.notes.append(f"statements are not observed: {_one_line(exc)}")
            return
        self.observed.notes.extend(self.watcher.notes)

    def _give_up(self, exc: BaseException) -> None:
        """The watcher failed: note why and watch no more (the migration itself goes on)."""
        self.observed.notes.append(f"observing stopped: {_one_line(exc)}")
        with contextlib.suppress(Exception):
            self.watcher.close()
        self.watcher = None

    def close(self) -> None:
        """Close the watcher's own connections."""
        if self.watcher is not None:
            self.watcher.close()

    @contextlib.contextmanager
    def migration(self, migration):
        """Around one migration's apply: locks held until its commit are timed up to the end of the block."""
        self.observed.first_file = self.observed.first_file or str(migration.path)
        first = len(self.observed.observations)
        if self.watcher is not None:
            try:
                self.watcher.migration_started()
            except Exception as exc:
                self._give_up(exc)
        try:
            if migration.kind == "py":
                with self._python_unit(migration):
                    yield
            else:
                yield
        finally:
            ended = time.perf_counter()
            since: dict[tuple, float] = {}  # a lock held until commit is held from the first statement that took it
            for seen in self.observed.observations[first:]:
                held = [since.setdefault((t.table, t.locks), seen.started) for t in seen.tables if t.held_until_commit]
                if held:
                    seen.held_seconds = ended - min(held)

    @contextlib.contextmanager
    def _python_unit(self, migration):
        """A Python migration runs its statements inside its ``up(ctx)``: it is watched as one unit,
        from before its transaction to after its commit (locks seen while it runs, tables whose
        storage it replaced); the watcher's ``python_note`` says what that cannot show."""
        unit = PythonUnit(_up_line(migration.path))
        note = getattr(self.watcher, "python_note", "")
        if note:
            self.observed.notes.append(f"{migration.label}: {note}")
            self.observed.placed[self.observed.notes[-1]] = (str(migration.path), unit.line)
        with self.statement(migration, unit):
            yield

    @contextlib.contextmanager
    def statement(self, migration, statement):
        """Around one statement of ``migration`` (a :class:`dbshift.dialects.base.Statement`)."""
        if self.watcher is None:
            yield
            return
        try:
            self.watcher.start()
        except Exception as exc:
            self._give_up(exc)
            yield
            return
        started = time.perf_counter()
        failed: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            failed = exc
            raise
        finally:
            seconds = time.perf_counter() - started
            try:
                tables = self.watcher.stop(failed is not None)
            except Exception as exc:
                self._give_up(exc)
                tables = []
            text = " ".join(statement.sql.split())
            self.observed.observations.append(
                StatementObservation(
                    migration.label,
                    str(migration.path),
                    statement.line,
                    text[:200] + ("..." if len(text) > 200 else ""),
                    seconds,
                    seconds,
                    [t for t in tables if not t.table.startswith(OWN_TABLE_PREFIX)],
                    None if failed is None else _one_line(failed),
                    started,
                )
            )


@dataclass
class PythonUnit:
    """A Python migration's whole ``up(ctx)``, observed as one statement would be."""

    line: int
    sql: str = "up(ctx) of a Python migration, observed as one unit"


def _up_line(path) -> int:
    """The line of ``def up`` in a Python migration (1 when it cannot be read)."""
    import ast

    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return 1
    return next((n.lineno for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "up"), 1)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def observe_pending(real, pending: list, settings=None) -> tuple[Observed, list[Finding]]:
    """Apply ``pending`` (in order) to a copy of ``real`` while watching each statement; the
    observations and their findings. ``real`` is only read; the copy is dropped afterwards. A
    migration that fails on the copy is an ``observed-failure`` finding; the ones after it do not run."""
    from dbshift.errors import ConfigError, DbshiftError
    from dbshift.history import History
    from dbshift.runner import Runner

    if not pending:
        raise ConfigError(
            "nothing to observe: no pending migrations", hint="lint applied files without --observe: dbshift lint --all"
        )
    with tempfile.TemporaryDirectory(prefix="dbshift-observe-") as folder:
        copy = make_copy(real, Path(folder))
        try:
            history = History(copy)
            with copy.transaction():
                history.ensure_tables()
            runner = Runner(copy, history)
            observer = Observer(copy)
            runner.observer = observer
            failures = []
            try:
                for migration in pending:
                    try:
                        with observer.migration(migration):
                            runner.apply_one(migration)
                    except DbshiftError as exc:
                        failures.append((migration, exc.message, getattr(exc, "line", None)))
                        break
            finally:
                observer.close()
        finally:
            copy.close()
    observed = observer.observed
    return observed, observed_findings(observed, settings, failures)


def make_copy(real, folder: Path):
    """A writable copy of ``real`` in ``folder``; a one-line ConfigError when it cannot be made."""
    from dbshift.errors import ConfigError, DbshiftError

    try:
        return real.scratch_copy(folder)
    except DbshiftError as exc:
        raise ConfigError(
            f"cannot observe: the database cannot be copied for a rehearsal: {exc.message}",
            hint=exc.hint or "dbshift needs a copy to run the statements on; check the user may create databases",
        ) from None
    except NotImplementedError:
        raise ConfigError(
            f"cannot observe: dbshift cannot copy a {real.dialect} database", hint="run dbshift lint without --observe"
        ) from None
    except Exception as exc:
        if not real.is_driver_error(exc):
            raise
        raise ConfigError(
            f"cannot observe: the database cannot be copied for a rehearsal: {real.describe_error(exc)}",
            hint="dbshift needs a copy to run the statements on; check the user may create databases",
        ) from None


__all__ = [
    "OBSERVED_RULES",
    "Observed",
    "Observer",
    "StatementObservation",
    "TableSeen",
    "make_copy",
    "observe_pending",
    "observed_findings",
]
