"""Lint at apply time: ``dbshift apply`` lints the up sections it is about to run and refuses
the findings that block (unless ``--force``); the other error-level ones are printed and the
apply goes on (warnings are for ``dbshift lint``, not for every apply). ``apply --schema`` (its
drafted migration), ``rollback`` and ``sync`` (the downs they run) go through the same refusal:
it is called by :meth:`dbshift.project.Project.run_apply` and ``run_rollback``, which every run
of migration SQL on a live database goes through.

The policy (``docs/lint.md``, "Lint at apply"): a finding blocks when it is error-level (after
the ``[lint]`` severities) and its rule is one of :data:`BLOCKING`: what takes a site down while
the migration runs (long locks and table rewrites, :data:`LOCK_RULES`, when a table the statement
locks holds at least ``[lint] big_table_rows`` rows, default 100,000: on a smaller table the lock
lasts about a second at most). That is what nothing else stops. The others are printed, not
refused:

- destructive changes (``drop-table``, ``truncate``...) and a rebuild that loses columns: the
  safety rules govern data loss (the ``-- destructive`` flag, the backup taken first,
  ``-- loss-check``, ``rollback --force``), and a drop in a migration is usually meant;
- ``add-not-null-without-default`` and the data-aware counts: the database refuses those rows
  itself, inside the migration's transaction (the counts are not run at apply: not cheap);
- type choices and renames: a review matter, not a risk of running the statement now;
- transaction misuse (``transaction-control``, ``concurrently-in-transaction``...): the runner
  already refuses a BEGIN/COMMIT before anything runs, and PostgreSQL refuses CONCURRENTLY in a
  transaction, each with its own message naming the file and line;
- ``pending-before-applied``: apply's own out-of-order check (``--allow-out-of-order``) decides.

``[lint] apply = "warn"`` prints the blocking ones without refusing; ``"off"`` skips lint at apply.
"""

from __future__ import annotations

from dbshift.lint.findings import Finding

#: Lock and rewrite rules: they block when a table the statement locks is big.
LOCK_RULES = frozenset(
    {
        "index-not-concurrent",
        "constraint-not-valid",
        "unique-without-index",
        "primary-key-without-index",
        "volatile-default",
        "stored-generated-column",
    }
)
#: Rules whose error-level findings stop apply (see the module docstring).
BLOCKING = LOCK_RULES


def blocks_apply(finding: Finding) -> bool:
    """Whether ``finding`` stops a run (``apply`` of an up, ``rollback`` or ``sync`` of a down) without ``--force``."""
    return finding.severity == "error" and finding.code in BLOCKING


def apply_findings(config, db, plan, direction: str = "up") -> tuple[list[Finding], list[Finding]]:
    """(blocking, other error-level) findings of the ``direction`` sections (``up``: the migrations
    ``plan`` is about to apply; ``down``: the ones it is about to roll back, newest first) read
    against the live schema of ``db``; both empty when ``[lint] apply = "off"``."""
    from dbshift.lint.catalogue import DIALECTS
    from dbshift.lint.settings import LintSettings

    settings = LintSettings.from_config(config)
    sql = [m for m in plan if m.kind == "sql" and (direction == "up" or m.has_down)]
    if settings.apply == "off" or not sql or db.dialect not in DIALECTS:
        return [], []
    findings = _ups(sql, db, settings) if direction == "up" else _downs(sql, db, settings)
    candidates = [f for f in findings if settings.apply == "error" and blocks_apply(f)]
    big = _BigTables(db, settings.big_table_rows)
    blocking = [f for f in candidates if big.locks_one(f, sql, direction)]
    return blocking, [f for f in findings if f not in blocking and f.severity == "error"]


def _ups(migrations, db, settings) -> list[Finding]:
    """The findings of the ups, each read after the ones before it (no row counts, no downs: cheap)."""
    from dbshift.lint.engine import lint_migrations

    found = lint_migrations(migrations, db.dialect, settings=settings, database=db, data=False, down=False)
    return [f for f in found if f.section == "up"]


def _downs(migrations, db, settings) -> list[Finding]:
    """The findings of the downs in the order they run, read by one analyser that each down
    advances (a new one per down would replay every earlier down: quadratic on a long rollback)."""
    from dbshift.lint.engine import Section, lint_in_order
    from dbshift.migrations import text_lines

    sections = [
        Section(
            migration.down_sql or "",
            db.dialect,
            str(migration.path),
            migration.down_line,
            "down",
            migration.transaction,
            text_lines(migration.text) if migration.text else None,
        )
        for migration in migrations
    ]
    return lint_in_order(sections, db.dialect, settings, database=db)


class _BigTables:
    """Whether a finding's statement locks a table with at least ``rows`` rows (counted up to
    ``rows`` only: ``SELECT count(*)`` over ``LIMIT rows``, so a big table costs what a small
    one does). A table the database does not have yet (an earlier pending migration creates it)
    is new, so not big."""

    def __init__(self, db, rows: int):
        self.db, self.rows, self._sizes = db, rows, {}

    def locks_one(self, finding: Finding, migrations, direction: str = "up") -> bool:
        """Whether a table the statement of ``finding`` changes is big."""
        return any(self._big(table) for table in _tables_of(finding, migrations, self.db.dialect, direction))

    def _big(self, table) -> bool:
        key = str(table)
        if key not in self._sizes:
            from dbshift.lint.data import _Reader

            limited = f"SELECT count(*) FROM (SELECT 1 FROM {table.quoted(self.db.quote)} LIMIT {int(self.rows)}) rows_"
            found = _Reader(self.db).rows(limited)
            self._sizes[key] = bool(found) and int(found[0][0]) >= self.rows
        return self._sizes[key]


def _tables_of(finding: Finding, migrations, dialect: str, direction: str = "up") -> list:
    """The tables the statement of ``finding`` changes (read again by the dialect's analyser)."""
    from pathlib import Path

    from dbshift.analysis import analyse
    from dbshift.dialects.description import describe as describe_dialect

    for migration in migrations:
        if Path(str(migration.path)) != Path(finding.file):
            continue
        if direction == "up":
            sql, first_line = migration.up_sql, migration.up_line
        else:
            sql, first_line = migration.down_sql or "", migration.down_line
        for statement in describe_dialect(dialect).split_script(sql, first_line):
            if statement.line == finding.line:
                changes = analyse(dialect, statement.sql).changes
                return [c.table for c in changes if c.table is not None]
    return []


def describe(finding: Finding) -> str:
    """One line: ``file:line: severity code: problem``."""
    return f"{finding.file}:{finding.line}: {finding.severity} {finding.code}: {finding.problem}"


def refuse_blocking(config, db, plan, force: bool, on_event, direction: str = "up") -> None:
    """Lint what ``plan`` is about to run on ``db`` (its ups, or its downs when ``direction`` is
    ``down``): SafetyRefusal listing the blocking findings unless ``force``; the other findings
    (and forced blocking ones) go to ``on_event("lint-findings", lines=...)``.

    Every run of migration SQL on a live database comes here (:meth:`dbshift.project.Project.run_apply`
    and :meth:`~dbshift.project.Project.run_rollback`): plain ``apply``, ``apply --schema``,
    ``rollback`` and ``sync``."""
    from dbshift.errors import SafetyRefusal

    blocking, other = apply_findings(config, db, plan, direction)
    if blocking and not force:
        listed = "\n".join("  " + describe(f) for f in blocking)
        what = "the migrations to apply" if direction == "up" else "the downs to run"
        verb = "apply" if direction == "up" else "rollback"
        raise SafetyRefusal(
            f"{verb} refused: {len(blocking)} error-level lint finding(s) in {what}\n{listed}",
            hint=_way_out(blocking, plan, direction),
        )
    shown = blocking + other
    if shown:
        on_event("lint-findings", lines=[describe(f) for f in shown])


def _way_out(blocking: list[Finding], plan, direction: str) -> str:
    """The hint of a refusal: fix or suppress in the file when there is one, else --force."""
    from pathlib import Path

    force = 'pass --force to run it anyway ([lint] apply = "warn" in dbshift.toml only prints them)'
    files = {str(m.path) for m in plan if Path(str(m.path)).is_file()}
    suppress = f"`-- lint:ignore {sorted({f.code for f in blocking})[0]} reason` above the statement"
    if all(f.file in files for f in blocking):
        if direction == "up":
            return f"make the change safe (`dbshift lint --fix` rewrites some), or put {suppress}, or {force}"
        # the migration is applied: an edit of its down changes its checksum, which repair accepts
        return f"make the down safe or put {suppress}, then accept the edit with `dbshift repair`; or {force}"
    if direction == "up":  # drafted by apply --schema: no file to edit
        return f"write the change as a migration file to make it safe (`dbshift diff --name NAME`, then edit it), or {force}"
    # a down kept in the history (sync): its file is on another branch
    return f"edit the down on the branch that has its file and roll it back there, or {force}"
