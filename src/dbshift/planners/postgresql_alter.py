"""PostgreSQL: one table's changes as native ALTER TABLE statements, both ways.

The statements of one AlterTable run in this order: drop constraints that go, change types,
defaults, values and sequences (expressions see the old row, old names; see
:mod:`postgresql_sequences`), add columns, drop columns, rename, add constraints. Whether the
down gives every value back is :mod:`postgresql_losses`'s to say.
"""

from __future__ import annotations

from dataclasses import replace

from dbshift.planners import postgresql_losses as losses
from dbshift.planners import postgresql_sequences as column_sequences
from dbshift.planners.operations import Operation
from dbshift.planners.postgresql_objects import quote
from dbshift.planners.postgresql_render import (
    add_constraint_sql,
    column_sql,
    constraint_comments_sql,
    row_security_sql,
    storage_changes,
    table_comments_sql,
    table_constraints,
    uncommented,
)
from dbshift.schema import diff as d
from dbshift.schema.model import Check, Column, ForeignKey, Table
from dbshift.schema.steps import AddColumnNullable, Backfill, Step, backfill_steps

#: Type changes PostgreSQL makes without rewriting the table (binary-coercible widenings).
NO_REWRITE = {("CHARACTER VARYING", "TEXT"), ("CHARACTER VARYING", "CHARACTER VARYING")}


def plan_alter_table(change: d.AlterTable, kept_by_children=frozenset(), table_before: str | None = None) -> Operation:
    """Native ALTER TABLE statements both ways; flags for drops, rewrites and lossy reverses.

    ``kept_by_children``: columns this table drops that the tables inheriting from it keep (they
    are dropped from this table ONLY, so the children keep their values). ``table_before``: the
    table's name before the migration, which its loss checks read (see :mod:`postgresql_losses`).
    """
    lossy = ", ".join(f"{change.name}.{c}" for c in change.lossy_down)
    dropped = [c.name for c in change.dropped]
    never, checks = losses.reverse_losses(change, table_before or change.name, cast)
    generated = _made_generated(change)
    return Operation(
        description=change.describe(),
        sql=alter_table_sql(change, kept_by_children),
        reverse=alter_table_sql(change.inverse()),
        destructive=bool(dropped) or bool(generated),
        rewrites_table=any(_rewrites(a.type, b.type) for a, b in change.altered) or bool(change.up_values),
        lossy_reverse=(f"no reverse conversion for {lossy}" if lossy else "")
        or (f"dropped column(s) {', '.join(change.name + '.' + c for c in dropped)} come back empty" if dropped else "")
        or "; ".join(never),
        loss_checks=checks + [_generated_check(table_before or change.name, old, new) for old, new in generated],
    )


def _made_generated(change: d.AlterTable) -> list[tuple[Column, Column]]:
    """Kept columns that become generated: the up replaces their values with the expression's."""
    return [(a, b) for a, b in change.altered if a.generated is None and b.generated is not None]


def _generated_check(table: str, old: Column, new: Column) -> str:
    """A loss check: the rows whose value differs from what the generation expression gives."""
    return (
        f"SELECT count(*) FROM {quote(table)} WHERE {quote(old.name)}::text IS DISTINCT FROM "
        f"(CAST(({new.generated}) AS {new.type}))::text"
    )


def _rewrites(old: str, new: str) -> bool:
    if old == new:
        return False
    return (old.split("(")[0], new.split("(")[0]) not in NO_REWRITE


def alter_table_sql(change: d.AlterTable, kept_by_children=frozenset()) -> list[str]:
    """The statements that turn ``change.old`` into ``change.new``."""
    table = quote(change.old.name)
    old_items, new_items = _constraint_map(change.old, change.renamed), _constraint_map(change.new, {})
    statements = [
        f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}"
        for name, item in old_items.items()
        if new_items.get(name) != item
    ]
    statements += [f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}" for name in _exclusions_out(change)]
    old_parents, new_parents = change.old.options.get("inherits", []), change.new.options.get("inherits", [])
    statements += [f"ALTER TABLE {table} NO INHERIT {quote(p)}" for p in old_parents if p not in new_parents]
    repartitioned = _partition(change.old) != _partition(change.new)
    if repartitioned and change.old.options.get("partition_of"):
        statements.append(f"ALTER TABLE {quote(change.old.options['partition_of'])} DETACH PARTITION {table}")
    statements += _column_changes(change, table)
    for column in change.added:
        statements += _add_column(change, table, column)
    statements += [
        f"ALTER TABLE {'ONLY ' if c.name in kept_by_children else ''}{table} DROP COLUMN {quote(c.name)}"
        for c in change.dropped
    ]
    statements += [f"ALTER TABLE {table} RENAME COLUMN {quote(o)} TO {quote(n)}" for o, n in change.renamed.items()]
    for name, item in new_items.items():
        if old_items.get(name) != item:
            statements += add_constraint_validated(change.new.name, item)
    new_exclusions = change.new.options.get("exclusion_constraints", {})
    statements += [f"ALTER TABLE {table} ADD CONSTRAINT {quote(n)} {new_exclusions[n]}" for n in _exclusions_in(change)]
    statements += [f"ALTER TABLE {table} INHERIT {quote(p)}" for p in new_parents if p not in old_parents]
    if repartitioned and change.new.options.get("partition_of"):
        statements.append(
            f"ALTER TABLE {quote(change.new.options['partition_of'])} ATTACH PARTITION {table} "
            f"{change.new.options['partition_bound']}"
        )
    statements += row_security_sql(change.new.name, change.old.options, change.new.options)
    statements += storage_changes(change.new.name, change.old.options, change.new.options)
    recreated = {name for name, item in new_items.items() if old_items.get(name) != item}
    return (
        statements
        + table_comments_sql(change.new, _renamed_table(change.old, change.renamed))
        + constraint_comments_sql(change, recreated)
    )


def _partition(table: Table) -> tuple:
    return table.options.get("partition_of"), table.options.get("partition_bound")


def _exclusions_out(change: d.AlterTable) -> list[str]:
    old, new = change.old.options.get("exclusion_constraints", {}), change.new.options.get("exclusion_constraints", {})
    return [n for n in old if new.get(n) != old[n]]


def _exclusions_in(change: d.AlterTable) -> list[str]:
    old, new = change.old.options.get("exclusion_constraints", {}), change.new.options.get("exclusion_constraints", {})
    return [n for n in new if old.get(n) != new[n]]


def _constraint_map(table: Table, renamed: dict[str, str]) -> dict[str, object]:
    """Constraints by name (foreign keys apart: see :func:`foreign_key_moves`), their column lists as
    they read after ``renamed`` (PostgreSQL follows renames)."""

    def swap(names):
        return tuple(renamed.get(n, n) for n in names)

    items = {}
    for item in table_constraints(table):
        if isinstance(item, ForeignKey):
            continue
        if isinstance(item, Check):
            items[item.name] = uncommented(item)
        else:
            items[item.name] = uncommented(replace(item, columns=swap(item.columns)))
    return items


def _renamed_table(table: Table, renamed: dict[str, str]) -> Table:
    return replace(table, columns=tuple(replace(c, name=renamed.get(c.name, c.name)) for c in table.columns))


def add_constraint_validated(table: str, item) -> list[str]:
    """FKs and CHECKs: NOT VALID, then VALIDATE (a lighter lock for the scan) unless meant to stay NOT VALID."""
    if not isinstance(item, (ForeignKey, Check)) or item.options.get("not_valid"):
        return [add_constraint_sql(table, item)]
    return [
        add_constraint_sql(table, replace(item, options={**item.options, "not_valid": True})),
        f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(item.name)}",
    ]


def _column_changes(change: d.AlterTable, table: str) -> list[str]:
    """Type, value, default, identity, sequence and NULL changes of kept columns, named as before any rename."""
    statements, not_null, late = [], [], []
    for old, new in change.altered:
        column = quote(old.name)
        value = change.up_values.get(new.name)
        if old.generated is not None and new.generated is None and old.generated_stored:
            # The column keeps the values it holds and stops being computed.
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP EXPRESSION")
            old = replace(old, generated=None, generated_stored=False)
        if old.generated != new.generated or old.generated_stored != new.generated_stored:
            statements += [
                f"ALTER TABLE {table} DROP COLUMN {column}",
                f"ALTER TABLE {table} ADD COLUMN {column_sql(replace(new, name=old.name))}",
            ]
            continue
        early, middle, last = column_sequences.column_sequence_steps(change.old.name, old, new)
        statements += early
        if old.default != new.default and old.default is not None:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
        if old.type != new.type or old.collation != new.collation:
            using = value if value is not None else cast(column, old.type, new.type)
            collate = f" COLLATE {quote(new.collation)}" if new.collation else ""
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {new.type}{collate} USING {using}")
        elif value is not None:
            statements.append(f"UPDATE {table} SET {column} = {value}")
        statements += middle
        if new.default is not None and old.default != new.default:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {new.default}")
        if old.nullable != new.nullable:
            not_null.append(f"ALTER TABLE {table} ALTER COLUMN {column} {'DROP' if new.nullable else 'SET'} NOT NULL")
        late += last  # an identity column must already be NOT NULL
    return statements + not_null + late


def cast(column: str, old: str, new: str) -> str:
    """``col::new``; to or from a user type (enum, domain) by way of text, which every type reads and prints."""
    user_type = not old.isupper() or not new.isupper()
    return f"{column}::text::{new}" if user_type else f"{column}::{new}"


def _add_column(change: d.AlterTable, table: str, column: Column) -> list[str]:
    """ADD COLUMN; a column filled from the old row takes the neutral steps (see :mod:`dbshift.schema.steps`)."""
    steps = backfill_steps(change, column)
    return [step_sql(s) for s in steps] if steps else [f"ALTER TABLE {table} ADD COLUMN {column_sql(column)}"]


def step_sql(step: Step) -> str:
    """One neutral step in PostgreSQL's SQL."""
    table = quote(step.table)
    if isinstance(step, AddColumnNullable):
        return f"ALTER TABLE {table} ADD COLUMN {column_sql(replace(step.column, nullable=True))}"
    if isinstance(step, Backfill):
        return f"UPDATE {table} SET {quote(step.column)} = {step.value}"
    return f"ALTER TABLE {table} ALTER COLUMN {quote(step.column.name)} SET NOT NULL"
