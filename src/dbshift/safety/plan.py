"""``dbshift rollback-plan``: a Markdown plan for reverting applied migrations, newest first.

For each migration it says whether the down is a lossless revert, a table rebuild or a lossy
step, counts on the live database what a lossy step would lose, names the backup to restore
instead, and lists the steps (stop writes, fresh backup, run, verify, resume).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dbshift.dialects.base import Database
from dbshift.history import AppliedMigration
from dbshift.migrations import Migration

if TYPE_CHECKING:  # the analysis (and its parsers) loads only when a down is analysed
    from dbshift.analysis import ScriptEffects, TableName
    from dbshift.analysis.base import Analyser

LOSSLESS, REBUILD, LOSSY, UNKNOWN, IMPOSSIBLE = "lossless", "rebuild", "lossy", "unknown", "impossible"

#: Counts rows of a table on the live database (None: not counted): ``count(table, condition, partitions)``.
Counter = Callable[..., "int | None"]


@dataclass
class Loss:
    """Data one statement of a down would remove, counted on the live database."""

    what: str
    rows: int | None
    statement: str

    def describe(self) -> str:
        """E.g. ``column users.phone (12 non-empty values)``."""
        count = "count unavailable" if self.rows is None else f"{self.rows} row(s) with data"
        return f"{self.what} ({count})"


@dataclass
class RevertStep:
    """How one applied migration would be reverted."""

    version: int
    label: str
    verdict: str
    reason: str
    down_sql: list[str] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    rebuilds: list[str] = field(default_factory=list)
    restore_instead: str | None = None

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            **{k: v for k, v in self.__dict__.items() if k != "losses"},
            "losses": [loss.__dict__ for loss in self.losses],
        }


def analyse_down(
    db: Database, migration: Migration | None, applied: AppliedMigration, analyser: Analyser | None = None
) -> RevertStep:
    """Classify one migration's down and count what it would lose on ``db``.

    ``analyser`` carries the schema from one down to the next when several are planned newest
    first (see :func:`build_plan`); without one the down is read against the live schema.
    """
    label = f"{applied.version}_{applied.name}"
    if migration is None:
        return RevertStep(applied.version, label, IMPOSSIBLE, "its migration file is missing")
    if not migration.has_down:
        return RevertStep(applied.version, label, IMPOSSIBLE, "it has no down section")
    return _with_counted_losses(_judge_down(db, migration, analyser, count=True), migration, applied)


def _with_counted_losses(step: RevertStep, migration: Migration, applied: AppliedMigration) -> RevertStep:
    """``step`` with the values the up's loss checks counted as not coming back (then it is lossy),
    and, when the migration has loss checks, that values written after the up are not covered."""
    counted = _counted_losses(applied)
    if counted:
        step.losses += counted
        described = "; ".join(loss.describe() for loss in counted)
        if step.verdict == LOSSY:
            step.reason += f"; {described}"
        else:
            step.verdict, step.reason = LOSSY, f"does not give every value back: {described}"
    if migration.loss_checks:
        step.reason += (
            "; the values were checked when the up ran: values written after it are not covered by that check"
        )
    return step


def _counted_losses(applied: AppliedMigration) -> list[Loss]:
    """The values the up's loss checks counted as not coming back, per ``table.column``."""
    if not applied.lost_values:
        return []
    counts = (applied.record or {}).get("lost_values") or {"the converted columns": applied.lost_values}
    return [
        Loss(
            f"values of {label} that do not survive the conversion and its reverse",
            count,
            "(counted by the up's loss check)",
        )
        for label, count in counts.items()
    ]


def lost_values_note(applied: AppliedMigration | None) -> str | None:
    """E.g. ``12 values of t.v will not come back``, when the up's loss checks counted any; else None."""
    if applied is None or not applied.lost_values:
        return None
    counts = (applied.record or {}).get("lost_values") or {}
    parts = [f"{n} value{'s' if n != 1 else ''} of {label}" for label, n in counts.items()]
    parts = parts or [f"{applied.lost_values} value{'s' if applied.lost_values != 1 else ''}"]
    return f"{', '.join(parts)} will not come back (counted when {applied.version}_{applied.name} was applied)"


def down_is_lossy(db: Database, migration: Migration) -> bool:
    """Whether running the down may lose data (see :func:`lossy_downs`)."""
    return bool(lossy_downs(db, [migration]))


def lossy_downs(db: Database, migrations: list[Migration]) -> list[RevertStep]:
    """The downs of ``migrations`` (run in this order) that may lose data: a Python down, one that
    drops, deletes or truncates, one the analysis cannot read, or a table rebuild that leaves a
    column out or converts values without the ``lossless-down`` promise of a dbshift draft."""
    from dbshift.analysis import analyser_for

    with analyser_for(db) as analyser:
        steps = [_judge_down(db, m, analyser, count=False) for m in migrations]
    return [step for step in steps if step.verdict in (LOSSY, UNKNOWN)]


def _judge_down(db: Database, migration: Migration, analyser: Analyser | None, count: bool) -> RevertStep:
    step = RevertStep(migration.version, migration.label, LOSSLESS, "nothing is dropped or deleted")
    if migration.kind == "py":
        step.verdict, step.reason = UNKNOWN, "its down is Python code; review it and count by hand"
        step.down_sql = [f"-- {migration.file}: down(ctx)"]
        return step
    step.down_sql = _down_statements(db, migration)
    if analyser is None:
        from dbshift.analysis import analyse_script

        script = analyse_script(db, step.down_sql)
    else:
        script = analyser.script(step.down_sql)
    step.losses = _losses(db, script, _counter(db) if count else (lambda *_args: None))
    step.rebuilds = [str(r.table) for r in script.rebuilds if not r.lost_columns]
    step.rebuilds += [f"{r.column} (into {r.renamed_to})" for r in script.column_rebuilds]
    unreadable = [f"cannot read `{_first_line(e.sql)}` ({e.unreadable})" for e in script.unreadable]
    converted = [str(r.table) for r in script.rebuilds if not r.proven and not r.lost_columns]
    converted += [f"{r.column} (into {r.renamed_to})" for r in script.column_rebuilds]
    if step.losses:
        described = [loss.describe() if count else loss.what for loss in step.losses]
        step.verdict, step.reason = LOSSY, "drops or deletes data: " + "; ".join(described)
        step.reason += "".join(f"; {u}" for u in unreadable)
    elif unreadable:
        step.verdict, step.reason = UNKNOWN, "; ".join(unreadable) + ": review it and count by hand"
    elif converted and not migration.lossless_down:
        step.verdict = UNKNOWN
        step.reason = (
            f"rebuilds {', '.join(converted)} and dbshift cannot see its copy bring every value back "
            "as it was: check it by hand (a migration dbshift drafts says `-- lossless-down` when it does)"
        )
    elif step.rebuilds:
        step.verdict = REBUILD
        vouched = "; dbshift drafted it and checked that its conversions give every value back" if converted else ""
        step.reason = (
            f"rebuilds {', '.join(step.rebuilds)}: every column is copied back (rows are copied; "
            f"time grows with the table{vouched})"
        )
    return step


def _first_line(sql: str) -> str:
    code = [line.strip() for line in sql.splitlines() if line.strip() and not line.strip().startswith("--")]
    text = (code or [sql.strip()])[0]
    return text if len(text) <= 80 else text[:77] + "..."


def _down_statements(db: Database, migration: Migration) -> list[str]:
    from dbshift.runner import statements_of

    return [s.sql for s in statements_of(db, migration, "down")]


def _losses(db: Database, script: ScriptEffects, count: Counter) -> list[Loss]:
    """What the analysed down removes, each counted with ``count`` (identifiers quoted by ``db``)."""
    losses: list[Loss] = []
    for effect in script.statements:
        sql = effect.sql
        for dropped in effect.drops:
            if not script.rebuilt(dropped):
                losses.append(Loss(f"table {dropped.table}", count(dropped.live_name or dropped.table), sql))
        for column in effect.drops_columns:
            if script.column_rebuilt(column) is None:  # a converted column's values live on in its successor
                losses.append(
                    Loss(f"column {column}", count(column.table, f"{db.quote(column.column)} IS NOT NULL"), sql)
                )
        for change in effect.drops_partitions:
            losses.append(
                Loss(
                    f"partition(s) {', '.join(change.partitions)} of {change.table}",
                    count(change.table, None, change.partitions),
                    sql,
                )
            )
        for deletion in effect.deletes:
            by = f" (by trigger {deletion.by_trigger})" if deletion.by_trigger else ""
            rows = count(deletion.table, deletion.where) if deletion.countable else None
            losses.append(Loss(f"rows of {deletion.table}{by}", rows, sql))
        for table in effect.truncates:
            losses.append(Loss(f"every row of {table}", count(table), sql))
        losses.extend(Loss(what, None, sql) for what in effect.other_losses)
    for rebuild in script.rebuilds:
        for column in rebuild.lost_columns:
            filled = count(rebuild.live_name, f"{db.quote(column)} IS NOT NULL")
            losses.append(Loss(f"column {rebuild.table}.{column}", filled, rebuild.statement))
    return losses


def _counter(db: Database) -> Counter:
    def count(table: TableName, condition: str | None = None, partitions: tuple[str, ...] = ()) -> int | None:
        source = table.quoted(db.quote)
        if partitions:
            source += f" PARTITION ({', '.join(map(db.quote, partitions))})"
        return _count(db, source, condition)

    return count


def _count(db: Database, source: str, condition: str | None = None) -> int | None:
    """Rows of ``source`` (a quoted table, or a selection of one) matching ``condition`` on the live
    database; None when it cannot be counted."""
    sql = f"SELECT count(*) FROM {source}" + (f" WHERE {condition}" if condition else "")
    try:
        return int(db.execute(sql)[0][0])
    except Exception as exc:
        if db.is_driver_error(exc):
            return None
        raise


def choose_backup(applied: AppliedMigration, backups: list) -> str | None:
    """The backup to restore instead: the one taken before this migration, else the newest older one."""
    if applied.backup:
        for info in backups:
            if str(info.path) == applied.backup:
                return (
                    f"{info.path} (taken before this migration, schema version {info.manifest.get('schema_version')})"
                )
    older = [b for b in backups if (b.manifest.get("schema_version") or 0) < applied.version]
    if not older:
        return None
    best = older[-1]
    return (
        f"{best.path} (schema version {best.manifest.get('schema_version')}, taken {best.manifest.get('created_at')})"
    )


@dataclass
class RollbackPlan:
    """The whole plan: steps newest first, and where it ends."""

    database: str
    current_version: int
    target_version: int
    steps: list[RevertStep]

    @property
    def lossy(self) -> list[RevertStep]:
        """Steps whose down loses data or cannot run."""
        return [s for s in self.steps if s.verdict in (LOSSY, UNKNOWN, IMPOSSIBLE)]

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "database": self.database,
            "current_version": self.current_version,
            "target_version": self.target_version,
            "steps": [s.as_json() for s in self.steps],
        }


def build_plan(
    db: Database,
    database: str,
    applied_newest_first: list[AppliedMigration],
    by_version: dict[int, Migration],
    backups: list,
    target: int,
) -> RollbackPlan:
    """Analyse every applied migration above ``target``, newest first."""
    from dbshift.analysis import analyser_for

    current = applied_newest_first[0].version if applied_newest_first else 0
    steps = []
    with analyser_for(db) as analyser:  # each down is read after the newer ones have run
        for applied in applied_newest_first:
            if applied.version <= target:
                continue
            step = analyse_down(db, by_version.get(applied.version), applied, analyser)
            if step.verdict != LOSSLESS and step.verdict != REBUILD:
                step.restore_instead = choose_backup(applied, backups)
            steps.append(step)
    return RollbackPlan(database, current, target, steps)


VERDICT_TITLES = {
    LOSSLESS: "lossless, fast revert",
    REBUILD: "lossless table rebuild",
    LOSSY: "LOSSY",
    UNKNOWN: "UNKNOWN (check by hand)",
    IMPOSSIBLE: "CANNOT RUN",
}


def render_markdown(plan: RollbackPlan) -> str:
    """The plan as a Markdown document a reviewer can sign off."""
    from dbshift import __version__

    now = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        f"# Rollback plan: {plan.database}",
        "",
        f"Generated {now} by dbshift {__version__}. Current schema version **{plan.current_version}**; "
        f"target **{plan.target_version}**; {len(plan.steps)} migration(s) to revert, newest first.",
        "",
    ]
    if not plan.steps:
        return "\n".join(lines + ["Nothing to revert: no applied migration is above the target.", ""])
    lines += ["| # | migration | down | what would be lost |", "|---|---|---|---|"]
    for number, step in enumerate(plan.steps, 1):
        lost = "; ".join(l.describe() for l in step.losses) or (
            "-" if step.verdict in (LOSSLESS, REBUILD) else step.reason
        )
        lines.append(f"| {number} | {step.label} | {VERDICT_TITLES[step.verdict]} | {lost} |")
    lines.append("")
    for number, step in enumerate(plan.steps, 1):
        lines += _render_step(number, step)
    lines += _render_procedure(plan)
    return "\n".join(lines)


def _render_step(number: int, step: RevertStep) -> list[str]:
    lines = [f"## {number}. {step.label}: {VERDICT_TITLES[step.verdict]}", "", f"- Down: {step.reason}."]
    if step.verdict in (LOSSY, UNKNOWN, IMPOSSIBLE):
        instead = step.restore_instead or "no backup older than this migration: take one now with `dbshift backup`"
        lines.append(f"- Restore instead: {instead}. Rows written since that backup are lost by a restore too.")
    if step.down_sql:
        lines += ["- Reverse SQL:", "", "```sql", *step.down_sql, "```"]
    return lines + [""]


def _render_procedure(plan: RollbackPlan) -> list[str]:
    force = " --force" if any(s.verdict in (LOSSY, UNKNOWN) for s in plan.steps) else ""
    blocked = [s.label for s in plan.steps if s.verdict == IMPOSSIBLE]
    run = (
        f"`dbshift rollback --to {plan.target_version}{force}`"
        if not blocked
        else f"cannot run: {', '.join(blocked)} cannot be reverted by its down; restore a backup instead "
        "(`dbshift restore PATH --expect-version V`)"
    )
    return [
        "## Steps",
        "",
        "1. Stop writes: put the application in maintenance mode or stop its workers.",
        "2. Take a fresh backup: `dbshift backup` (note its path; it is the way back from this rollback).",
        f"3. Run: {run}. dbshift takes another backup just before it starts.",
        f"4. Verify: `dbshift verify` passes and `dbshift status` shows version {plan.target_version}.",
        "5. Resume writes.",
        "",
        "If step 3 or 4 fails: `dbshift restore <the backup of step 2>`, verify again, then resume.",
        "",
    ]
