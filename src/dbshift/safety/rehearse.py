"""``dbshift rehearse``: apply the pending migrations to a copy, check it, roll back, compare.

The real database is only read (to make the copy); every write goes to the copy, which is
deleted afterwards.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dbshift.dialects.base import Database, TableWatch
from dbshift.errors import DbshiftError
from dbshift.history import History
from dbshift.migrations import Migration
from dbshift.safety.fingerprint import SAME, compare, data_tables, fingerprint_tables

PASS, FAIL, SKIP = "pass", "fail", "skipped"


@dataclass
class RehearsalStep:
    """One step of a rehearsal, its outcome and how long it took."""

    name: str
    outcome: str
    seconds: float
    detail: str = ""

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {"step": self.name, "outcome": self.outcome, "seconds": round(self.seconds, 4), "detail": self.detail}


@dataclass
class Rehearsal:
    """The steps of one rehearsal; it passed when no step failed."""

    migrations: list[str]
    steps: list[RehearsalStep] = field(default_factory=list)
    #: What each statement was seen doing on the copy (:class:`dbshift.lint.observe.Observed`).
    observed: Any = None
    #: The observed findings (:mod:`dbshift.lint.observe_findings`).
    findings: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No step failed."""
        return all(step.outcome != FAIL for step in self.steps)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "ok": self.ok,
            "migrations": self.migrations,
            "steps": [s.as_json() for s in self.steps],
            "observed": self.observed.as_json() if self.observed is not None else None,
            "observed_findings": [f.as_json() for f in self.findings],
        }


class _Timer:
    """Adds a step with its duration; the block sets ``outcome``/``detail`` or raises."""

    def __init__(self, rehearsal: Rehearsal, name: str):
        self.rehearsal, self.name = rehearsal, name
        self.outcome, self.detail = PASS, ""

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, DbshiftError):
            self.outcome, self.detail = FAIL, exc.message
        self.rehearsal.steps.append(
            RehearsalStep(self.name, self.outcome, time.perf_counter() - self.started, self.detail)
        )
        return isinstance(exc, DbshiftError)

    def fail(self, detail: str) -> None:
        """Mark the step failed with a reason."""
        self.outcome, self.detail = FAIL, detail


def rehearse(real: Database, pending: list[Migration], checks_dir: Path | None = None) -> Rehearsal:
    """Rehearse ``pending`` (in apply order) on a copy of ``real``; ``real`` is only read."""
    rehearsal = Rehearsal([m.label for m in pending])
    with tempfile.TemporaryDirectory(prefix="dbshift-rehearse-") as folder:
        with _Timer(rehearsal, "copy the database") as step:
            copy = real.scratch_copy(Path(folder))
            step.detail = f"{len(data_tables(copy))} table(s)"
        try:
            _rehearse_on(copy, rehearsal, pending, checks_dir)
        finally:
            copy.close()
    return rehearsal


def _rehearse_on(copy: Database, rehearsal: Rehearsal, pending: list[Migration], checks_dir: Path | None) -> None:
    from dbshift.drafting.sources import inspect_database
    from dbshift.runner import Runner

    with _Timer(rehearsal, "fingerprint the original") as step:
        original_schema = inspect_database(copy)
        original = fingerprint_tables(copy)
        step.detail = f"{sum(fp.rows for fp in original.values())} row(s)"
    history = History(copy)
    with copy.transaction():
        history.ensure_tables()
    runner = Runner(copy, history)
    applied, watches = _apply_all(copy, runner, rehearsal, pending)
    _check_copy(copy, rehearsal)
    _check_row_counts(copy, rehearsal, original, watches)
    _run_user_checks(copy, rehearsal, checks_dir)
    rolled_back = _roll_back(runner, rehearsal, applied)
    if rolled_back:
        _compare_with_original(copy, rehearsal, original_schema, original)


def _apply_all(copy: Database, runner, rehearsal: Rehearsal, pending: list[Migration]):
    """Apply ``pending`` on the copy, each statement observed (see :mod:`dbshift.lint.observe`)."""
    from dbshift.lint.observe import Observer, observed_findings

    runner.observer = observer = Observer(copy)
    try:
        applied, watches = _apply_observed(copy, runner, rehearsal, pending, observer)
    finally:
        runner.observer = None
        observer.close()
    rehearsal.observed = observer.observed
    rehearsal.findings = observed_findings(observer.observed)
    return applied, watches


def _apply_observed(copy: Database, runner, rehearsal: Rehearsal, pending: list[Migration], observer):
    applied: list[Migration] = []
    watches: list[TableWatch] = []
    for migration in pending:
        if any(s.outcome == FAIL for s in rehearsal.steps):
            rehearsal.steps.append(RehearsalStep(f"apply {migration.label}", SKIP, 0.0, "an earlier step failed"))
            continue
        with _Timer(rehearsal, f"apply {migration.label}") as step:
            with copy.watch_tables() as watch, observer.migration(migration):
                result = runner.apply_one(migration)
            if result.lost_values:
                step.detail = (
                    f"its loss checks count {result.lost_values} value(s) that rolling back will not give back"
                )
            applied.append(migration)
            watches.append(watch)
    return applied, watches


def _check_copy(copy: Database, rehearsal: Rehearsal) -> None:
    with _Timer(rehearsal, "integrity check") as step:
        problems = copy.integrity_problems()
        if problems:
            step.fail("; ".join(problems[:3]))
    with _Timer(rehearsal, "foreign key check") as step:
        problems = copy.foreign_key_problems()
        if problems:
            step.fail(f"{len(problems)} violation(s), first: {problems[0]}")


def _check_row_counts(copy: Database, rehearsal: Rehearsal, original: dict, watches: list[TableWatch]) -> None:
    """Tables no migration inserts into or deletes from must keep their row count."""
    declared = set().union(*(w.row_changes for w in watches)) if watches else set()
    unknown = any(not w.known for w in watches)
    with _Timer(rehearsal, "row counts of tables the migrations do not change") as step:
        if unknown:
            step.outcome, step.detail = (
                SKIP,
                (
                    "cannot tell which tables the migrations write (a procedure call, "
                    "dynamic SQL or a routine whose body the catalog does not show)"
                ),
            )
            return
        existing = set(copy.user_tables())
        compared = [t for t in original if t in existing and t not in declared]
        changed = []
        for table in compared:
            rows = copy.execute(f"SELECT count(*) FROM {copy.quote(table)}")[0][0]
            if rows != original[table].rows:
                changed.append(f"{table}: {original[table].rows} -> {rows} rows")
        if changed:
            step.fail("; ".join(changed))
        else:
            step.detail = f"{len(compared)} table(s) keep their row count"


def _run_user_checks(copy: Database, rehearsal: Rehearsal, checks_dir: Path | None) -> None:
    from dbshift.safety.checks import load_checks

    for check in load_checks(checks_dir):
        with _Timer(rehearsal, f"check {check.name}") as step:
            problem = check.run(copy)
            if problem:
                step.fail(problem)


def _roll_back(runner, rehearsal: Rehearsal, applied: list[Migration]) -> bool:
    for migration in reversed(applied):
        with _Timer(rehearsal, f"roll back {migration.label}") as step:
            if not migration.has_down:
                step.fail("no down section: the only way back is a backup")
                return False
            runner.revert_one(migration)
        if step.outcome == FAIL:
            return False
    return True


def _compare_with_original(copy: Database, rehearsal: Rehearsal, original_schema, original: dict) -> None:
    from dbshift.drafting.sources import inspect_database
    from dbshift.schema.compare import schema_differences

    with _Timer(rehearsal, "schema equals the original") as step:
        differences = schema_differences(original_schema, inspect_database(copy))
        if differences:  # compared as inspected (what the database means), not as stored CREATE text
            step.fail("; ".join(differences))
    with _Timer(rehearsal, "data equals the original") as step:
        # The schema was compared as inspected just above: the stored CREATE text (part of a
        # fingerprint) may differ after a rebuild that gave the same table back.
        now = {t: replace(fp, schema="") for t, fp in fingerprint_tables(copy).items()}
        verdicts = compare(now, {t: replace(fp, schema="") for t, fp in original.items()})
        different = {t: v for t, v in verdicts.items() if v != SAME}
        if different:
            step.fail("; ".join(f"{t}: {v}" for t, v in different.items()))
        else:
            step.detail = f"{len(verdicts)} table(s) identical"
