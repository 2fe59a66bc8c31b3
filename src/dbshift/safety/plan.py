"""``dbshift rollback-plan``: a Markdown plan for reverting applied migrations, newest first.

For each migration it says whether the down is a lossless revert, a table rebuild or a lossy
step, counts on the live database what a lossy step would lose, names the backup to restore
instead, and lists the steps (stop writes, fresh backup, run, verify, resume).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from dbshift.dialects.base import Database
from dbshift.history import AppliedMigration
from dbshift.migrations import Migration

IDENT = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$.]+)'
DROP_TABLE = re.compile(rf"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<table>{IDENT})", re.I)
DROP_COLUMN = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?P<table>{IDENT})\s+DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?"
    rf"(?!(?:CONSTRAINT|INDEX|KEY|DEFAULT|NOT|PRIMARY|FOREIGN|CHECK|PARTITION)\b)(?P<column>{IDENT})", re.I)
#: MySQL/MariaDB: the rows of the named partitions go (PostgreSQL's partitions are tables: DROP TABLE).
DROP_PARTITION = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?P<table>{IDENT})\s+(?:DROP|TRUNCATE)\s+PARTITION\s+"
    rf"(?P<partitions>{IDENT}(?:\s*,\s*{IDENT})*)\s*;?\s*$", re.I)
DELETE = re.compile(rf"^\s*DELETE\s+FROM\s+(?P<table>{IDENT})(?P<where>\s+WHERE\s+.*)?$", re.I | re.S)
TRUNCATE = re.compile(rf"^\s*TRUNCATE\s+(?:TABLE\s+)?(?P<table>{IDENT})", re.I)
RENAME_TO = re.compile(rf"^\s*ALTER\s+TABLE\s+{IDENT}\s+RENAME\s+TO\s+(?P<table>{IDENT})", re.I)

LOSSLESS, REBUILD, LOSSY, UNKNOWN, IMPOSSIBLE = "lossless", "rebuild", "lossy", "unknown", "impossible"


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
        return {**{k: v for k, v in self.__dict__.items() if k != "losses"},
                "losses": [loss.__dict__ for loss in self.losses]}


def _name(identifier: str) -> str:
    return identifier.strip('"`[]')


def analyse_down(db: Database, migration: Migration | None, applied: AppliedMigration) -> RevertStep:
    """Classify one migration's down and count what it would lose on ``db``."""
    label = f"{applied.version}_{applied.name}"
    if migration is None:
        return RevertStep(applied.version, label, IMPOSSIBLE, "its migration file is missing")
    if not migration.has_down:
        return RevertStep(applied.version, label, IMPOSSIBLE, "it has no down section")
    if migration.kind == "py":
        return RevertStep(applied.version, label, UNKNOWN, "its down is Python code; review it and count by hand",
                          [f"-- {migration.file}: down(ctx)"])
    statements = _down_statements(db, migration)
    step = RevertStep(applied.version, label, LOSSLESS, "nothing is dropped or deleted", statements)
    step.losses, step.rebuilds = _scan_down(db, statements, count=True)
    step.losses += _counted_losses(applied)
    if step.losses:
        step.verdict, step.reason = LOSSY, "drops or deletes data: " + "; ".join(l.describe() for l in step.losses)
    elif step.rebuilds and migration.lossless_down:
        step.verdict = REBUILD
        step.reason = (f"rebuilds {', '.join(step.rebuilds)} (rows are copied; time grows with the table; "
                       "drafted by dbshift, which checked that every column comes back)")
    elif step.rebuilds:
        step.verdict = UNKNOWN
        step.reason = (f"rebuilds {', '.join(step.rebuilds)} by hand: check that every column is copied back "
                       "(a migration dbshift drafts says `-- lossless-down` when it is)")
    if migration.loss_checks:
        step.reason += ("; the values were checked when the up ran: values written after it are not covered "
                        "by that check")
    return step


def _counted_losses(applied: AppliedMigration) -> list[Loss]:
    """The values the up's loss checks counted as not coming back, per ``table.column``."""
    if not applied.lost_values:
        return []
    counts = (applied.record or {}).get("lost_values") or {"the converted columns": applied.lost_values}
    return [Loss(f"values of {label} that do not survive the conversion and its reverse", count,
                 "(counted by the up's loss check)") for label, count in counts.items()]


def lost_values_note(applied: AppliedMigration | None) -> str | None:
    """E.g. ``12 values of t.v will not come back``, when the up's loss checks counted any; else None."""
    if applied is None or not applied.lost_values:
        return None
    counts = (applied.record or {}).get("lost_values") or {}
    parts = [f"{n} value{'s' if n != 1 else ''} of {label}" for label, n in counts.items()]
    parts = parts or [f"{applied.lost_values} value{'s' if applied.lost_values != 1 else ''}"]
    return f"{', '.join(parts)} will not come back (counted when {applied.version}_{applied.name} was applied)"


def down_is_lossy(db: Database, migration: Migration) -> bool:
    """Whether running the down may lose data: any Python down, a drop, delete or truncate, or a
    table rebuild that is not declared ``lossless-down`` (dbshift declares the ones it drafts)."""
    if migration.kind == "py":
        return True
    losses, rebuilds = _scan_down(db, _down_statements(db, migration), count=False)
    return bool(losses) or (bool(rebuilds) and not migration.lossless_down)


def _down_statements(db: Database, migration: Migration) -> list[str]:
    from dbshift.runner import statements_of

    return [s.sql for s in statements_of(db, migration, "down")]


def _scan_down(db: Database, statements: list[str], count: bool) -> tuple[list[Loss], list[str]]:
    """What the down's statements remove (rows counted on ``db`` when ``count``) and which tables
    they rebuild (a table dropped and another renamed into its place)."""
    renamed_to = {_name(m["table"]) for m in map(RENAME_TO.match, statements) if m}
    losses: list[Loss] = []
    rebuilds: list[str] = []
    counter = (lambda source, condition=None: _count(db, source, condition)) if count else (lambda *_: None)
    for sql in statements:
        if match := DROP_TABLE.match(sql):
            table = _name(match["table"])
            if table in renamed_to:
                rebuilds.append(table)
            else:
                losses.append(Loss(f"table {table}", counter(db.quote(table)), sql))
        elif match := DROP_COLUMN.match(sql):
            table, column = _name(match["table"]), _name(match["column"])
            filled = counter(db.quote(table), f"{db.quote(column)} IS NOT NULL")
            losses.append(Loss(f"column {table}.{column}", filled, sql))
        elif match := DROP_PARTITION.match(sql):
            table, partitions = _name(match["table"]), [_name(p.strip()) for p in match["partitions"].split(",")]
            selected = f"{db.quote(table)} PARTITION ({', '.join(map(db.quote, partitions))})"
            losses.append(Loss(f"partition(s) {', '.join(partitions)} of {table}", counter(selected), sql))
        elif match := DELETE.match(sql):
            table, where = _name(match["table"]), (match["where"] or "").strip().rstrip(";")
            condition = where[len("WHERE"):].strip() if where else None
            losses.append(Loss(f"rows of {table}", counter(db.quote(table), condition), sql))
        elif match := TRUNCATE.match(sql):
            table = _name(match["table"])
            losses.append(Loss(f"every row of {table}", counter(db.quote(table)), sql))
    return losses, rebuilds


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
                return f"{info.path} (taken before this migration, schema version {info.manifest.get('schema_version')})"
    older = [b for b in backups if (b.manifest.get("schema_version") or 0) < applied.version]
    if not older:
        return None
    best = older[-1]
    return (f"{best.path} (schema version {best.manifest.get('schema_version')}, "
            f"taken {best.manifest.get('created_at')})")


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
        return {"database": self.database, "current_version": self.current_version,
                "target_version": self.target_version, "steps": [s.as_json() for s in self.steps]}


def build_plan(db: Database, database: str, applied_newest_first: list[AppliedMigration],
               by_version: dict[int, Migration], backups: list, target: int) -> RollbackPlan:
    """Analyse every applied migration above ``target``, newest first."""
    current = applied_newest_first[0].version if applied_newest_first else 0
    steps = []
    for applied in applied_newest_first:
        if applied.version <= target:
            continue
        step = analyse_down(db, by_version.get(applied.version), applied)
        if step.verdict != LOSSLESS and step.verdict != REBUILD:
            step.restore_instead = choose_backup(applied, backups)
        steps.append(step)
    return RollbackPlan(database, current, target, steps)


VERDICT_TITLES = {LOSSLESS: "lossless, fast revert", REBUILD: "lossless table rebuild", LOSSY: "LOSSY",
                  UNKNOWN: "UNKNOWN (check by hand)", IMPOSSIBLE: "CANNOT RUN"}


def render_markdown(plan: RollbackPlan) -> str:
    """The plan as a Markdown document a reviewer can sign off."""
    from dbshift import __version__

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    lines = [f"# Rollback plan: {plan.database}", "",
             f"Generated {now} by dbshift {__version__}. Current schema version **{plan.current_version}**; "
             f"target **{plan.target_version}**; {len(plan.steps)} migration(s) to revert, newest first.", ""]
    if not plan.steps:
        return "\n".join(lines + ["Nothing to revert: no applied migration is above the target.", ""])
    lines += ["| # | migration | down | what would be lost |", "|---|---|---|---|"]
    for number, step in enumerate(plan.steps, 1):
        lost = "; ".join(l.describe() for l in step.losses) or ("-" if step.verdict in (LOSSLESS, REBUILD) else step.reason)
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
    run = (f"`dbshift rollback --to {plan.target_version}{force}`" if not blocked else
           f"cannot run: {', '.join(blocked)} cannot be reverted by its down; restore a backup instead "
           "(`dbshift restore PATH --expect-version V`)")
    return [
        "## Steps", "",
        "1. Stop writes: put the application in maintenance mode or stop its workers.",
        "2. Take a fresh backup: `dbshift backup` (note its path; it is the way back from this rollback).",
        f"3. Run: {run}. dbshift takes another backup just before it starts.",
        f"4. Verify: `dbshift verify` passes and `dbshift status` shows version {plan.target_version}.",
        "5. Resume writes.", "",
        "If step 3 or 4 fails: `dbshift restore <the backup of step 2>`, verify again, then resume.", "",
    ]
