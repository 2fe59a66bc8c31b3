"""MySQL/MariaDB planner: changes -> operations with native ALTER TABLE.

Column changes use MODIFY (same name), RENAME COLUMN and ADD ... AFTER, so the column order
comes out as desired. ``ALGORITHM=INSTANT`` is asked for where both MariaDB 10.4+ and MySQL
8.0.29+ do the change as a metadata-only operation (adding a nullable column or one with a
constant default, dropping a column, renaming one); the server refuses rather than silently
copying if it cannot. DDL is not transactional here: every operation is marked
``transactional=False`` and the runner records the migration as ``running`` first.

InnoDB creates an index for a foreign key that has none; such indexes are planned together
with their key, never dropped while the key still needs them. Partitioning and events are
planned in :mod:`dbshift.planners.mysql_objects`; the ``IF [NOT] EXISTS`` forms that let a
migration that failed halfway run again are chosen by :mod:`dbshift.planners.mysql_rerun`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dbshift.dialects.mysql_differ import EventChange
from dbshift.planners.mysql_columns import (
    place_sql,
    place_while_old,
    position_sql,
    reorder_sql,
    temp_columns,
    with_generated_values,
)
from dbshift.planners.mysql_losses import value_losses
from dbshift.planners.mysql_objects import (
    PartitionStep,
    create_event_sql,
    event_operations,
    partition_losses,
    quote,
)
from dbshift.planners.mysql_render import (
    column_sql,
    create_index_sql,
    create_table_sql,
    drop_index_sql,
    foreign_key_sql,
    index_clause,
    names_sql,
    table_options_sql,
)
from dbshift.planners.mysql_rerun import PLAIN, Rerun
from dbshift.planners.operations import Operation, Plan, plan_view_or_trigger
from dbshift.planners.views import views_in_dependency_order
from dbshift.schema import diff as d
from dbshift.schema.model import Column, ForeignKey, Index, Schema, Table
from dbshift.schema.steps import AddColumnNullable, Backfill, SetNotNull, filled_columns


def schema_sql(schema: Schema) -> list[str]:
    """Statements that create ``schema`` from nothing."""
    tables = d.order_by_foreign_keys(list(schema.tables))
    statements = [create_table_sql(t, with_foreign_keys=False) for t in tables]
    statements += [f"ALTER TABLE {quote(t.name)} ADD {foreign_key_sql(k)}" for t in tables for k in t.foreign_keys]
    statements += [v.sql for v in schema.views] + [t.sql for t in schema.triggers]
    return statements + [create_event_sql(name, event) for name, event in schema.options.get("events", {}).items()]


# -- planning -----------------------------------------------------------------------------
def plan_diff(diff: d.Diff) -> Plan:
    """The operations that carry out ``diff`` on MySQL/MariaDB.

    Foreign keys that go or change are dropped before any other step and added after all of them,
    so the keys they reference may change in between and tables may reference each other.
    Indexes that serve foreign keys are dropped and created together, in one ALTER TABLE per table:
    InnoDB refuses to drop the last one and silently drops its own once another one serves.
    """
    rerun = Rerun.of(diff)
    events_first, events_last = event_operations(diff.objects(EventChange), rerun.enabled)
    diff = diff.without_objects()
    keys = ForeignKeySteps.of(diff, rerun)
    altered = {c.name for c in diff.changes if isinstance(c, d.AlterTable)}
    index_swaps: dict[str, tuple[list[Index], list[Index]]] = {}
    operations = events_first + keys.drop_operations()
    for change in views_in_dependency_order(list(diff.changes)):
        table = _foreign_key_index_table(change, diff)
        if table is not None:
            if table not in altered:  # an altered table does it in its own ALTER TABLE
                gone, made = index_swaps.setdefault(table, ([], []))
                (gone if isinstance(change, d.DropIndex) else made).append(change.index)
            continue
        operation = _plan_change(change, keys, diff, rerun)
        if operation.sql:  # a table that differs only in what MySQL ignores (the case of its name) needs nothing
            operations.append(operation)
    operations += [_swap_indexes(table, gone, made, rerun) for table, (gone, made) in index_swaps.items()]
    operations += keys.add_operations() + events_last
    return Plan(operations=[replace(op, transactional=False) for op in operations])


def _plan_change(change, keys: "ForeignKeySteps", diff: d.Diff, rerun: Rerun) -> Operation:
    back = rerun.reverse()
    if isinstance(change, d.CreateTable):
        table = replace(change.table, foreign_keys=keys.inline(change.table))
        return Operation(
            f"create table {table.name}",
            [create_table_sql(table, rerun=rerun)],
            [f"{back.drop_table(table.name)} {quote(table.name)}"],
        )
    if isinstance(change, d.DropTable):
        # Keys dropped first come back last on the way down, not in its CREATE TABLE.
        table = replace(change.table, foreign_keys=keys.kept_by_dropped_table(change.table))
        return Operation(
            f"drop table {table.name}",
            [f"{rerun.drop_table(table.name)} {quote(table.name)}"],
            [create_table_sql(table, rerun=back)],
            destructive=True,
            lossy_reverse=f"the rows of table {table.name} are not brought back",
        )
    if isinstance(change, d.RenameTable):
        return Operation(
            f"rename table {change.old} to {change.new}",
            [f"{rerun.rename_table(change.old, change.new)} {quote(change.old)} TO {quote(change.new)}"],
            [f"{back.rename_table(change.new, change.old)} {quote(change.new)} TO {quote(change.old)}"],
        )
    if isinstance(change, d.AlterTable):
        table_before = next((old for old, new in diff.table_renames.items() if new == change.name), change.name)
        return plan_alter_table(change, table_before, rerun)
    if isinstance(change, d.CreateIndex):
        index = change.index
        return Operation(f"create index {index.name}", [create_index_sql(index, rerun)], [drop_index_sql(index, back)])
    if isinstance(change, d.DropIndex):
        index = change.index
        return Operation(f"drop index {index.name}", [drop_index_sql(index, rerun)], [create_index_sql(index, back)])
    return rerun.view_or_trigger(plan_view_or_trigger(change, quote))


# -- foreign keys -------------------------------------------------------------------------
def serves_foreign_key(table: Table, index: Index) -> bool:
    """The index starts with the columns of one of the table's foreign keys (InnoDB can use it for the key)."""
    return any(index.columns[: len(k.columns)] == k.columns for k in table.foreign_keys)


def _foreign_key_index_table(change, diff: d.Diff) -> str | None:
    """The (new) name of the table whose foreign-key index ``change`` drops or creates, else None."""
    if isinstance(change, d.DropIndex):
        table, name = (
            diff.current.table(change.index.table),
            diff.table_renames.get(change.index.table, change.index.table),
        )
    elif isinstance(change, d.CreateIndex):
        table, name = diff.desired.table(change.index.table), change.index.table
    else:
        return None
    return name if table is not None and serves_foreign_key(table, change.index) else None


def _index_swap_sql(table: str, gone: list[Index], made: list[Index], rerun: Rerun = PLAIN, taken=()) -> str:
    """One ALTER TABLE that drops ``gone`` and adds ``made``; ``taken``: the table's index names before it
    (lower case: MariaDB reads an ADD's IF NOT EXISTS against them, so a name dropped here is added plainly)."""
    taken = {n.lower() for n in taken} | {i.name.lower() for i in gone}
    clauses = [f"DROP INDEX{rerun.if_exists()} {quote(i.name)}" for i in gone]
    clauses += [f"ADD {index_clause(i, rerun.if_not_exists(i.name.lower() not in taken))}" for i in made]
    return f"ALTER TABLE {quote(table)} " + ", ".join(clauses)


def _swap_indexes(table: str, gone: list[Index], made: list[Index], rerun: Rerun) -> Operation:
    """Foreign-key indexes of a table that changes nothing else, swapped in one statement both ways."""
    what = ", ".join([f"drop index {i.name}" for i in gone] + [f"create index {i.name}" for i in made])
    return Operation(
        f"{what} on {table}",
        [_index_swap_sql(table, gone, made, rerun)],
        [_index_swap_sql(table, made, gone, rerun.reverse())],
    )


@dataclass(frozen=True)
class KeyStep:
    """A foreign key dropped or added on ``table``, and the table's indexes that stay through the diff."""

    table: str
    key: ForeignKey
    kept_indexes: tuple[Index, ...] = ()
    rerun: Rerun = PLAIN

    def drop_sql(self) -> str:
        """``ALTER TABLE ... DROP FOREIGN KEY``."""
        return f"ALTER TABLE {quote(self.table)} DROP FOREIGN KEY{self.rerun.if_exists()} {quote(self.key.name)}"

    def add_sql(self) -> str:
        """``ALTER TABLE ... ADD FOREIGN KEY``; an index it can use that stays is re-created in the same statement.

        InnoDB replaces an index it made for an earlier key by a new one named after the added key;
        an index created explicitly is kept, so the table ends with the index it had.
        """
        index = next((i for i in self.kept_indexes if i.columns[: len(self.key.columns)] == self.key.columns), None)
        drop = f"DROP INDEX{self.rerun.if_exists()}"
        recreate = f"{drop} {quote(index.name)}, ADD {index_clause(index)}, " if index is not None else ""
        return f"ALTER TABLE {quote(self.table)} {recreate}ADD {foreign_key_sql(self.key, self.rerun.if_not_exists())}"


@dataclass
class ForeignKeySteps:
    """Which foreign keys are dropped before every other step, which added after, which stay inline."""

    #: Dropped first (the table as named now); added back last on the way down.
    dropped: list[KeyStep]
    #: Added last (the table as it will be named); dropped first on the way down.
    added: list[KeyStep]
    #: Name of a created table -> the keys its CREATE TABLE carries.
    inline_keys: dict[str, tuple[ForeignKey, ...]]

    @staticmethod
    def of(diff: d.Diff, rerun: Rerun = PLAIN) -> "ForeignKeySteps":
        """Sort the keys of ``diff``: an unchanged key stays, unless the key it references changes shape."""
        alters = {c.name: c for c in diff.changes if isinstance(c, d.AlterTable)}
        dropped, added = [], []
        for table in diff.current.tables:
            gone, new = _steps_of_existing_table(table, diff, alters)
            dropped += gone
            added += new
        inline_keys, ready = {}, set()
        for table in (c.table for c in diff.changes if isinstance(c, d.CreateTable)):
            ready.add(table.name)
            inline_keys[table.name] = tuple(k for k in table.foreign_keys if _can_be_inline(k, ready, diff, alters))
            added += [KeyStep(table.name, k) for k in table.foreign_keys if k not in inline_keys[table.name]]
        dropped, added = [replace(s, rerun=rerun) for s in dropped], [replace(s, rerun=rerun) for s in added]
        return ForeignKeySteps(dropped, added, inline_keys)

    def inline(self, table: Table) -> tuple[ForeignKey, ...]:
        """The keys a created table's CREATE TABLE carries (the others are added last)."""
        return self.inline_keys.get(table.name, table.foreign_keys)

    def kept_by_dropped_table(self, table: Table) -> tuple[ForeignKey, ...]:
        """The keys of a dropped table that are not dropped first (its CREATE TABLE on the way down carries them)."""
        first = {s.key.name for s in self.dropped if s.table == table.name}
        return tuple(k for k in table.foreign_keys if k.name not in first)

    def drop_operations(self) -> list[Operation]:
        """One operation per key dropped first."""
        return [
            Operation(f"drop foreign key {s.key.name} on {s.table}", [s.drop_sql()], [s.add_sql()])
            for s in self.dropped
        ]

    def add_operations(self) -> list[Operation]:
        """One operation per key added last."""
        return [
            Operation(f"add foreign key {s.key.name} on {s.table}", [s.add_sql()], [s.drop_sql()]) for s in self.added
        ]


def _steps_of_existing_table(table: Table, diff: d.Diff, alters: dict) -> tuple[list[KeyStep], list[KeyStep]]:
    """The keys of ``table`` (as it is now) dropped first, and those of its new shape added last."""
    new_name = diff.table_renames.get(table.name, table.name)
    desired = diff.desired.table(new_name)
    if desired is None:  # a dropped table keeps its keys unless a table they reference changes first
        gone = [k for k in table.foreign_keys if diff.table_renames.get(k.ref_table, k.ref_table) in alters]
        return [KeyStep(table.name, k) for k in gone], []
    wanted = {k.name: k for k in desired.foreign_keys}
    moved = moved_columns(alters[new_name]) if new_name in alters else set()
    gone = [
        k
        for k in table.foreign_keys
        if wanted.get(k.name) != _as_desired(k, alters.get(new_name), diff, alters)
        or _references_reshaped(k, diff, alters)
        or set(k.columns) & moved
    ]
    kept = {k.name for k in table.foreign_keys if k not in gone}
    made = [k for k in desired.foreign_keys if k.name not in kept]
    # Only a key re-made over the same columns can take over the index InnoDB made for the old one.
    kept_indexes = tuple(i for i in desired.indexes if replace(i, table=table.name) in table.indexes)
    remade = {k.columns for k in gone} & {k.columns for k in made}
    return (
        [KeyStep(table.name, k, kept_indexes if k.columns in remade else ()) for k in gone],
        [KeyStep(new_name, k, kept_indexes if k.columns in remade else ()) for k in made],
    )


def _can_be_inline(key: ForeignKey, ready: set[str], diff: d.Diff, alters: dict) -> bool:
    """A created table's key goes in its CREATE TABLE when what it references is in its final shape by then."""
    if key.ref_table in ready:  # the table itself, or one created before it
        return True
    if any(isinstance(c, d.CreateTable) and c.table.name == key.ref_table for c in diff.changes):
        return False  # created after it (tables that reference each other)
    change = alters.get(key.ref_table)
    return change is None or not set(key.ref_columns) & reshaped_columns(change)


def _as_desired(key: ForeignKey, change: d.AlterTable | None, diff: d.Diff, alters: dict) -> ForeignKey:
    """``key`` as it reads after the diff's table and column renames (MySQL carries keys through renames)."""
    ref_table = diff.table_renames.get(key.ref_table, key.ref_table)
    ref_change = alters.get(ref_table)
    return replace(
        key,
        columns=_swap(key.columns, change.renamed if change else {}),
        ref_table=ref_table,
        ref_columns=_swap(key.ref_columns, ref_change.renamed if ref_change else {}),
    )


def _references_reshaped(key: ForeignKey, diff: d.Diff, alters: dict) -> bool:
    """The referenced table's key columns change (type, primary key, unique or index): drop and re-add the key."""
    ref_change = alters.get(diff.table_renames.get(key.ref_table, key.ref_table))
    if ref_change is None:
        return False
    return bool(set(_swap(key.ref_columns, ref_change.renamed)) & reshaped_columns(ref_change))


def reshaped_columns(change: d.AlterTable) -> set[str]:
    """Columns (old and new names) whose definition, or a key or index over them, changes: a key that
    references one is dropped before and added after the change."""
    renamed = change.renamed
    columns = {new.name for old, new in change.altered} | {c.name for c in change.added + change.dropped}
    columns |= set(renamed) | set(renamed.values())
    old_pk, old_uniques, _, _ = _renamed_keys(change.old, renamed)
    new_pk, new_uniques, _, _ = _renamed_keys(change.new, {})
    if old_pk != new_pk:
        columns |= set(old_pk.columns if old_pk else ()) | set(new_pk.columns if new_pk else ())
    for name in set(old_uniques) | set(new_uniques):
        if old_uniques.get(name) != new_uniques.get(name):
            columns |= {c for u in (old_uniques.get(name), new_uniques.get(name)) if u for c in u.columns}
    old_indexes = [
        replace(i, keys=tuple(replace(k, column=renamed.get(k.column, k.column)) for k in i.keys))
        for i in change.old.indexes
    ]
    for index in set(old_indexes) ^ set(change.new.indexes):
        columns |= set(index.columns)
    return columns


# -- altering one table -------------------------------------------------------------------
def plan_alter_table(change: d.AlterTable, table_before: str | None = None, rerun: Rerun = PLAIN) -> Operation:
    """Native ALTER TABLE both ways; flags for drops, copies and lossy reverses (foreign keys are planned apart).

    Where the values decide whether the down gives them back, the operation carries loss checks
    that read the table under ``table_before``, its name before the migration (see
    :mod:`dbshift.planners.mysql_losses`).
    """
    dropped = [c.name for c in change.dropped]
    partitions = _partition_step(change)
    dropped_partitions, partitions_lossy = partition_losses(partitions)
    checks, lossy_columns = value_losses(change, table_before or change.old.name)
    lossy_reverse = "; ".join(lossy_columns) or (
        f"dropped column(s) {', '.join(change.name + '.' + c for c in dropped)} come back empty" if dropped else ""
    )
    overwritten = [n.name for o, n in change.altered if n.generated is not None and o.generated is None]
    return Operation(
        description=_describe(change, partitions),
        sql=alter_table_sql(change, rerun),
        reverse=alter_table_sql(change.inverse(), rerun.reverse()),
        destructive=bool(dropped) or bool(dropped_partitions) or bool(overwritten),
        rewrites_table=any(a.type != b.type for a, b in change.altered)
        or bool(change.up_values)
        or bool(reorder_sql(change))
        or partitions.rewrites_table()
        or bool(overwritten),
        lossy_reverse="; ".join(text for text in (lossy_reverse, partitions_lossy) if text),
        transactional=False,
        loss_checks=checks,
    )


def _describe(change: d.AlterTable, partitions: PartitionStep) -> str:
    """The change's description, saying what happens to the partitions (they are a table option to the differ)."""
    text, what = change.describe(), partitions.describe()
    if not what:
        return text
    if _without_partitioning(change.old.options) == _without_partitioning(change.new.options):
        return text.replace("table options changed", what)
    return f"{text}, {what}"


def _partition_step(change: d.AlterTable) -> PartitionStep:
    return PartitionStep(
        change.old.name, change.old.options.get("partitioning"), change.new.options.get("partitioning")
    )


def alter_table_sql(change: d.AlterTable, rerun: Rerun = PLAIN) -> list[str]:
    """The statements that turn ``change.old`` into ``change.new`` (foreign keys aside), in a safe order.

    Without values to compute, every clause goes in one ALTER TABLE, with the ``IF [NOT] EXISTS``
    forms ``rerun`` allows. With values (``--convert``, ``--default``, a value for an added column),
    see :func:`_converting_sql`: its statements have none, as its UPDATE run again would convert
    values that are converted already.
    """
    change = with_generated_values(change)
    if change.up_values:
        statements = _converting_sql(change)
    else:
        table = quote(change.old.name)
        statements = _drop_constraints(change.old, change.new, change.renamed, table, rerun)
        statements += _reshaping_sql(change, table, temps={}, positions=True, rerun=rerun)
        statements = _combined(statements, table) + reorder_sql(change)
    return _partition_step(change).around(statements)


def _converting_sql(change: d.AlterTable) -> list[str]:
    """Values computed from the old row, and no value passing through a type that cannot hold it.

    A column whose values are converted into another type gets them in a new column of its new
    type (``_dbshift_tmp_...``) while the old column still holds the old values; the old column is
    then dropped and the new one takes its name and place (with the keys and indexes over it made
    again). A column whose type stays (a NOT NULL backfill) is updated in place before it changes.
    One UPDATE computes every value, so each expression reads the row as it was.
    """
    table = quote(change.old.name)
    temps = temp_columns(change)
    moved = {o.name for o, n in change.altered if n.name in temps}
    loose_old, loose_new = _without_keys_over(change.old, moved), _without_keys_over(change.new, set(temps))
    first = _drop_constraints(change.old, loose_new, change.renamed, table)
    first += [f"ALTER TABLE {table} DROP INDEX {quote(i.name)}" for i in _indexes_over(change, moved)]
    first += [
        f"ALTER TABLE {table} ADD COLUMN {column_sql(_holder(n, temp))}"
        for n, temp in ((n, temps[n.name]) for o, n in change.altered if n.name in temps)
    ]
    filled = filled_columns(change)  # the neutral add nullable -> backfill -> NOT NULL, folded MySQL's way
    first += [
        f"ALTER TABLE {table} ADD COLUMN {column_sql(_holder(s.column, s.column.name))}"
        + place_sql(place_while_old(change, s.column))
        for s in filled
        if isinstance(s, AddColumnNullable)
    ]
    assignments = [f"{quote(temps[n.name])} = {change.up_values[n.name]}" for o, n in change.altered if n.name in temps]
    assignments += [f"{quote(s.column)} = {s.value}" for s in filled if isinstance(s, Backfill)]
    assignments += [
        f"{quote(o.name)} = {change.up_values[n.name]}"
        for o, n in change.altered
        if n.name in change.up_values and n.name not in temps
    ]  # in place: last, it reads the others
    update = [f"UPDATE {table} SET " + ", ".join(assignments)] if assignments else []
    last = _reshaping_sql(replace(change, old=loose_old), table, temps, positions=False)
    last += [
        f"ALTER TABLE {table} ADD {index_clause(i)}" for i in _indexes_over(change, moved) if i in change.new.indexes
    ]
    return _combined(first, table) + update + _combined(last, table) + reorder_sql(change)


def moved_columns(change: d.AlterTable) -> set[str]:
    """Old names of the columns whose values move into a new column (a key over one is dropped first)."""
    change = with_generated_values(change)
    temps = temp_columns(change) if change.up_values else {}
    return {o.name for o, n in change.altered if n.name in temps}


def _holder(column: Column, name: str) -> Column:
    """A plain nullable column of ``column``'s type, to receive computed values."""
    keep = {k: v for k, v in column.options.items() if k not in ("auto_increment", "check", "on_update")}
    return replace(column, name=name, nullable=True, default=None, generated=None, hidden=False, options=keep)


def _without_keys_over(table: Table, columns: set[str]) -> Table:
    """``table`` without the primary key and unique keys over ``columns``, and without checks (when any)."""
    if not columns:
        return table
    pk = table.primary_key if table.primary_key and not set(table.primary_key.columns) & columns else None
    return replace(
        table, primary_key=pk, uniques=tuple(u for u in table.uniques if not set(u.columns) & columns), checks=()
    )


def _indexes_over(change: d.AlterTable, moved: set[str]) -> list[Index]:
    """The indexes over ``moved`` columns that the table keeps (or that serve foreign keys): made again after the move."""
    return [
        i
        for i in change.old.indexes
        if set(i.columns) & moved and (i in change.new.indexes or serves_foreign_key(change.old, i))
    ]


def _reshaping_sql(
    change: d.AlterTable, table: str, temps: dict[str, str], positions: bool, rerun: Rerun = PLAIN
) -> list[str]:
    """Column, constraint, index and option steps after the values are in place.

    ``temps``: converted columns whose values wait in a temporary column (see :func:`temp_columns`).
    ``positions``: place new columns with AFTER (names as they are once every clause of the one
    ALTER TABLE has run: MySQL and MariaDB resolve AFTER against the new names); else at the end.
    ``rerun``: the IF [NOT] EXISTS forms (the steps go in one ALTER TABLE, see :mod:`.mysql_rerun`).
    """
    old, new, renamed = change.old, change.new, change.renamed
    before = {c.name.lower() for c in old.columns}
    statements = _alter_columns(change, table, temps, positions, rerun)
    constrain = {s.column.name: s for s in filled_columns(change) if isinstance(s, SetNotNull)}
    for column in change.added:
        if column.name in change.up_values:  # added and filled already: the neutral steps' last one, if any
            if column.name in constrain or _holder(column, column.name) != column:  # NOT NULL, or a default etc.
                statements.append(f"ALTER TABLE {table} MODIFY COLUMN {column_sql(column)}")
            continue
        instant = ", ALGORITHM=INSTANT" if _instant_add(column) else ""
        guard = rerun.if_not_exists(column.name.lower() not in before)
        statements.append(
            f"ALTER TABLE {table} ADD COLUMN{guard} {column_sql(column)}{position_sql(change, column, positions)}{instant}"
        )
    statements += [f"ALTER TABLE {table} DROP COLUMN{rerun.if_exists()} {quote(c.name)}" for c in change.dropped]
    altered = {o.name for o, n in change.altered}
    statements += [
        f"ALTER TABLE {table} RENAME COLUMN{rerun.if_exists(_renamed_once(change, o, n))} {quote(o)} TO {quote(n)}"
        for o, n in renamed.items()
        if o not in altered
    ]
    statements += _add_constraints(old, new, renamed, table, rerun)
    moved = {o.name for o, n in change.altered if n.name in temps}
    gone = [
        i for i in old.indexes if serves_foreign_key(old, i) and i not in new.indexes and not set(i.columns) & moved
    ]
    made = [i for i in new.indexes if serves_foreign_key(new, i) and i not in old.indexes]
    if gone or made:
        taken = [i.name for i in old.indexes] + [u.name for u in old.uniques if u.name]
        statements.append(_index_swap_sql(change.old.name, gone, made, rerun, taken))
    if _without_partitioning(old.options) != _without_partitioning(new.options):
        statements.append(table_options_sql(old, new))
    return statements


def _alter_columns(
    change: d.AlterTable, table: str, temps: dict[str, str], positions: bool, rerun: Rerun = PLAIN
) -> list[str]:
    """Each altered column into its new definition and name (a temporary column into its place)."""
    statements = []
    before = {c.name.lower() for c in change.old.columns}
    for old, new in change.altered:
        if new.name in temps:
            statements += [
                f"ALTER TABLE {table} DROP COLUMN {quote(old.name)}",
                f"ALTER TABLE {table} CHANGE COLUMN {quote(temps[new.name])} {column_sql(new)}",
            ]
        elif (old.generated, old.generated_stored) != (new.generated, new.generated_stored):
            # MariaDB and MySQL cannot MODIFY a column into or out of being generated.
            guard = rerun.if_not_exists(new.name.lower() not in before)
            statements += [
                f"ALTER TABLE {table} DROP COLUMN{rerun.if_exists()} {quote(old.name)}",
                f"ALTER TABLE {table} ADD COLUMN{guard} {column_sql(new)}{position_sql(change, new, positions)}",
            ]
        elif old.name != new.name:
            guard = rerun.if_exists(_renamed_once(change, old.name, new.name))
            statements.append(f"ALTER TABLE {table} CHANGE COLUMN{guard} {quote(old.name)} {column_sql(new)}")
        else:
            statements.append(f"ALTER TABLE {table} MODIFY COLUMN {column_sql(new)}")
    return statements


def _renamed_once(change: d.AlterTable, old: str, new: str) -> bool:
    """A rename skipped when its old name is gone is right: no column takes the old name, none had the new one."""
    return old.lower() not in {c.name.lower() for c in change.new.columns} and new.lower() not in {
        c.name.lower() for c in change.old.columns
    }


def _without_partitioning(options: dict) -> dict:
    return {k: v for k, v in options.items() if k != "partitioning"}


def _combined(statements: list[str], table: str) -> list[str]:
    """Every clause in one ALTER TABLE.

    One statement lets MySQL check the table once at the end: an AUTO_INCREMENT column may
    lose its key and get another in the same step, which separate statements refuse.
    """
    prefix = f"ALTER TABLE {table} "
    if len(statements) <= 1:
        return statements
    clauses = [s[len(prefix) :].replace(", ALGORITHM=INSTANT", "") for s in statements]
    return [prefix + ",\n  ".join(clauses)]


def _swap(names, renamed: dict[str, str]):
    return tuple(renamed.get(n, n) for n in names)


def _renamed_keys(table: Table, renamed: dict[str, str]):
    pk = replace(table.primary_key, columns=_swap(table.primary_key.columns, renamed)) if table.primary_key else None
    uniques = {u.name: replace(u, columns=_swap(u.columns, renamed)) for u in table.uniques}
    keys = {k.name: replace(k, columns=_swap(k.columns, renamed)) for k in table.foreign_keys}
    return pk, uniques, {c.name: c for c in table.checks}, keys


def _drop_constraints(old: Table, new: Table, renamed: dict, table: str, rerun: Rerun = PLAIN) -> list[str]:
    old_pk, old_uniques, old_checks, old_keys = _renamed_keys(old, renamed)
    new_pk, new_uniques, new_checks, new_keys = _renamed_keys(new, {})
    drop = f"ALTER TABLE {table} DROP"
    statements = [
        f"{drop} INDEX{rerun.if_exists()} {quote(n)}" for n, u in old_uniques.items() if new_uniques.get(n) != u
    ]
    statements += [
        f"{drop} CONSTRAINT{rerun.if_exists()} {quote(n)}" for n, c in old_checks.items() if new_checks.get(n) != c
    ]
    if old_pk is not None and old_pk != new_pk:
        # MariaDB has no DROP PRIMARY KEY IF EXISTS; DROP INDEX `PRIMARY` is the same step and takes one
        # (a key that changes is added back in the same statement: its drop runs again as it is).
        gone = new_pk is None and rerun.alter
        statements.append(f"{drop} INDEX IF EXISTS `PRIMARY`" if gone else f"{drop} PRIMARY KEY")
    return statements


def _add_constraints(old: Table, new: Table, renamed: dict, table: str, rerun: Rerun = PLAIN) -> list[str]:
    """ADD PRIMARY KEY, UNIQUE KEY and CHECK for those that differ; IF NOT EXISTS (where ``rerun`` has it)
    only on a name the table does not have before the ALTER TABLE (MariaDB reads it against those)."""
    old_pk, old_uniques, old_checks, old_keys = _renamed_keys(old, renamed)
    new_pk, new_uniques, new_checks, new_keys = _renamed_keys(new, {})
    taken = {n.lower() for n in list(old_uniques) + list(old_checks) + [i.name for i in old.indexes] if n}
    statements = []
    if new_pk is not None and old_pk != new_pk:  # IF NOT EXISTS only where no key is dropped before it
        guard = rerun.if_not_exists(old_pk is None)
        statements.append(f"ALTER TABLE {table} ADD PRIMARY KEY{guard} ({names_sql(new_pk.columns)})")
    statements += [
        f"ALTER TABLE {table} ADD UNIQUE KEY{rerun.if_not_exists(n.lower() not in taken)} {quote(n)} "
        f"({names_sql(u.columns)})"
        for n, u in new_uniques.items()
        if old_uniques.get(n) != u
    ]
    statements += [
        f"ALTER TABLE {table} ADD CONSTRAINT{rerun.if_not_exists(n.lower() not in taken)} {quote(n)} "
        f"CHECK ({c.expression})"
        for n, c in new_checks.items()
        if old_checks.get(n) != c
    ]
    return statements


def _instant_add(column: Column) -> bool:
    return (
        column.generated is None
        and not column.options.get("auto_increment")
        and (column.nullable or column.default is not None)
    )
