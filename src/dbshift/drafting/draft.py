"""Drafting a migration: resolve both sources, diff, plan, check, and write the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dbshift.dialects.description import describe
from dbshift.drafting import sources
from dbshift.errors import ConfigError
from dbshift.planners import planner_for
from dbshift.planners.operations import Plan
from dbshift.schema.conversions import Conversions
from dbshift.schema.diff import AlterTable, Diff, diff_schemas
from dbshift.schema.model import Schema
from dbshift.schema.renames import Ask, RenamePolicy


@dataclass
class Draft:
    """A diff, the plan that carries it out, and the file written for it (if any)."""

    diff: Diff
    plan: Plan
    source: str
    target: str
    path: Path | None = None

    @property
    def empty(self) -> bool:
        """The two schemas are the same."""
        return self.plan.empty

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "from": self.source,
            "to": self.target,
            "differs": not self.empty,
            "plan": self.plan.as_json(),
            "up": self.plan.up_sql(),
            "down": self.plan.down_sql(),
            "rename_candidates": [{"question": c.question, "hint": c.hint} for c in self.diff.unconfirmed],
            "path": str(self.path) if self.path else None,
        }


def load_source(project, spec: str | None, default: str) -> tuple[str, Schema]:
    """The schema a ``--from``/``--to`` value names: ``db``, ``migrations``, a ``.sql`` path, a URL,
    ``git:REV`` (the migrations at a revision) or ``git:REV:path.sql``."""
    spec = spec or default
    dialect = project.config.require_url().dialect
    if spec in sources.LIVE:
        with project.connect(readonly=True) as db:
            return spec, sources.inspect_database(db)
    if "://" in spec:
        return spec, sources.schema_from_url(spec, project.config.root)
    if spec in sources.MIGRATIONS:
        with _server(project, dialect) as server:
            return spec, sources.schema_from_migrations(project.migrations(), dialect, server)
    if spec.startswith("git:"):  # the migrations' end state, or a file, at a git revision
        from dbshift.teams.gitsource import schema_at

        with _server(project, dialect) as server:
            return spec, schema_at(project, spec, dialect, server)
    path = Path(spec)
    path = path if path.is_absolute() else project.config.root / path
    with _server(project, dialect) as server:
        return spec, sources.schema_from_file(path, dialect, server)


def _server(project, dialect: str):
    """The project's database, on whose server scratch databases are made (SQLite uses :memory:)."""
    return project.connect(readonly=True)


def draft(
    project,
    source: str | None = None,
    target: str | None = None,
    renames=(),
    convert=(),
    reverse=(),
    defaults=(),
    maps=(),
    ask: Ask | None = None,
    check_rows: bool = True,
) -> Draft:
    """Diff ``source`` (default: the migrations' end state) against ``target`` (default: schema.sql) and plan it."""
    source_name, current = load_source(project, source, "migrations")
    target_name, desired = load_source(project, target, sources.DEFAULT_DESIRED)
    return draft_schemas(
        current,
        desired,
        project.config.require_url().dialect,
        renames,
        convert,
        reverse,
        defaults,
        maps,
        ask,
        source_name,
        target_name,
        live=project if check_rows else None,
    )


def draft_schemas(
    current: Schema,
    desired: Schema,
    dialect: str = "sqlite",
    renames=(),
    convert=(),
    reverse=(),
    defaults=(),
    maps=(),
    ask: Ask | None = None,
    source: str = "current",
    target: str = "desired",
    live=None,
) -> Draft:
    """Diff two schemas and plan the change for ``dialect``; ``live`` (a Project) is checked for rows."""
    planner = planner_for(dialect)
    policy = RenamePolicy.from_hints(list(renames), ask=ask)
    conversions = Conversions.parse(convert, reverse, defaults, maps, quote=describe(dialect).quote)
    diff = diff_schemas(current, desired, policy, conversions)
    if live is not None:
        refuse_missing_backfills(live, diff)
        refuse_downs_without_values(live, diff)
    plan = planner.plan_diff(diff)
    plan.notes += (
        [
            f"--rename {hint} matched no table or column that changes, so it was not used"
            for hint in unmatched_rename_hints(policy, diff)
        ]
        if not diff.empty
        else []
    )
    return Draft(diff=diff, plan=plan, source=source, target=target)


def unmatched_rename_hints(policy: RenamePolicy, diff: Diff) -> list[str]:
    """The ``--rename`` hints that renamed nothing (a typo, or a name that does not change), as written."""
    tables = {(old.lower(), new.lower()) for old, new in diff.table_renames.items()}
    original = {new.lower(): old.lower() for old, new in diff.table_renames.items()}
    columns = set()
    for (table, old), new in diff.column_renames.items():
        for name in {table.lower(), original.get(table.lower(), table.lower())}:
            columns.add((name, old.lower(), new.lower()))
    unmatched = [f"{old}={new}" for old, new in policy.tables.items() if (old.lower(), new.lower()) not in tables]
    unmatched += [
        f"{table}.{old}={new}"
        for (table, old), new in policy.columns.items()
        if (table.lower(), old.lower(), new.lower()) not in columns
    ]
    return unmatched


def refuse_downs_without_values(project, diff: Diff) -> None:
    """A dropped NOT NULL column without a default, on a table that has rows in the live database,
    could not come back on the way down (each row needs a value for it): an error asking for the
    value, unless ``--reverse`` gives one. An auto-numbered key numbers the rows itself."""
    original_names = {new.lower(): old for old, new in diff.table_renames.items()}
    needs = []
    for change in diff.changes:
        if not isinstance(change, AlterTable):
            continue
        key = change.old.primary_key
        numbered = key.columns if key is not None and key.autoincrement else ()
        needs += [
            (original_names.get(change.name.lower(), change.name), change, column)
            for column in change.dropped
            if not (
                column.nullable
                or column.default is not None
                or column.generated is not None
                or column.name in change.down_values
                or column.name in numbered
            )
        ]
    if not needs:
        return
    with project.connect(readonly=True) as db:
        for table, change, column in needs:
            if db.table_exists(table) and db.execute(f"SELECT 1 FROM {db.quote(table)} LIMIT 1"):
                raise ConfigError(
                    f"{table}.{column.name} is dropped, and it is NOT NULL without a default: the down could not "
                    f"put it back on the rows of {table} (each needs a value for it)",
                    hint=_down_value_hint(diff, table, change, column.name),
                )


def _down_value_hint(diff: Diff, table: str, change: AlterTable, column: str) -> str:
    hint = (
        f'give the value it comes back with: --reverse "{table}.{column}=<SQL expression>" '
        f"(a constant such as '' or 0, or computed from the other columns)"
    )
    renamed = next((c for c in diff.unconfirmed if c.table == change.name and c.old == column), None)
    return f"if it is a renamed column, say so: {renamed.hint}; otherwise {hint}" if renamed else hint


def refuse_missing_backfills(project, diff: Diff) -> None:
    """A NOT NULL column without default or backfill, on a table that has rows in the live database, is an error."""
    needs = []
    for change in diff.changes:
        if not isinstance(change, AlterTable):
            continue
        for column in change.added:
            if (
                not column.nullable
                and column.default is None
                and column.generated is None
                and column.name not in change.up_values
            ):
                needs.append((change, column.name, None))
        for old, new in change.altered:
            if old.nullable and not new.nullable and new.name not in change.up_values:
                needs.append((change, new.name, old.name))
    if not needs:
        return
    original_names = {new.lower(): old for old, new in diff.table_renames.items()}
    with project.connect(readonly=True) as db:
        for change, column, old_column in needs:
            table = original_names.get(change.name.lower(), change.name)
            _check_rows(db, table, change.name, column, old_column, diff.unconfirmed)


def _check_rows(db, table: str, new_table: str, column: str, old_column: str | None, unconfirmed: list) -> None:
    if not db.table_exists(table):
        return
    condition = f" WHERE {db.quote(old_column)} IS NULL" if old_column else ""
    if not db.execute(f"SELECT 1 FROM {db.quote(table)}{condition} LIMIT 1"):
        return
    what = "has NULLs in" if old_column else "has rows and no value for"
    hint = (
        f'give a value: --default "{new_table}.{column}=<SQL expression>" '
        f"(a constant, or another column such as {new_table}.{column}=other_column)"
    )
    renamed = next((c for c in unconfirmed if c.table == new_table and c.new == column), None)
    if renamed is not None:
        hint = f"if it is a renamed column, say so: {renamed.hint}; otherwise {hint}"
    raise ConfigError(f"{new_table}.{column} becomes NOT NULL without a default, and {table} {what} it", hint=hint)


def write_migration(directory: Path, name: str, result: Draft, version: int | None = None) -> Path:
    """Write ``result`` as a SQL migration: up, down, and the destructive/risky flags it computed."""
    from dbshift.migrations import write_sql_migration

    plan = result.plan
    up = "\n".join(f"-- {op.description}\n" + _statements(op.sql) for op in plan.operations)
    down_parts = [f"-- lossy: {op.lossy_reverse}" for op in plan.operations if op.lossy_reverse]
    down_parts += [f"-- undo: {op.description}\n" + _statements(op.reverse or []) for op in reversed(plan.operations)]
    return write_sql_migration(
        directory,
        name,
        up=up,
        down="\n".join(down_parts) if plan.reversible else None,
        description=plan_description(plan),
        destructive=plan.destructive,
        risky=plan.rewrites_tables,
        version=version,
        lossless_down=plan.rewrites_tables and down_keeps_every_column(result),
        loss_checks=plan.loss_checks(),
    )


def down_keeps_every_column(result: Draft) -> bool:
    """Whether the down's table rebuilds bring every column back with its values: no column was
    added (the down's rebuild would leave it out) and every conversion has a reverse."""
    altered = [c for c in result.diff.changes if isinstance(c, AlterTable)]
    return (
        result.plan.reversible
        and not any(op.lossy_reverse for op in result.plan.operations)
        and not any(change.added or change.lossy_down for change in altered)
    )


def plan_description(plan: Plan) -> str:
    """A one-line description of a plan, led by its first step that runs something."""
    leading = next((op for op in plan.operations if op.sql), plan.operations[0]) if plan.operations else None
    first = leading.description.removesuffix(" (table rebuild)") if leading else "no changes"
    more = len(plan.operations) - 1
    return first + (f" and {more} more change(s)" if more > 0 else "")


def _statements(statements: list[str]) -> str:
    return "\n".join(s.rstrip().rstrip(";") + ";" for s in statements)
