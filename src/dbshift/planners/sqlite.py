"""SQLite planner: changes -> operations, with native ALTER TABLE where SQLite allows it.

Anything native ALTER cannot express is done with SQLite's documented table rebuild
(https://sqlite.org/lang_altertable.html#otheralter): one rebuild per table for all of its
changes, indexes recreated, the views and triggers around it dropped first and recreated after,
and ``PRAGMA foreign_key_check`` on the table and on the tables that reference it, once the
direction has changed everything the check reads (see :mod:`.sqlite_key_checks`). A native
``RENAME COLUMN`` (or ``RENAME TO``) also rewrites the REFERENCES clauses naming it in other tables,
so a child whose foreign keys only follow its parents' native renames runs nothing; a parent's
rebuild rewrites no child, so a child following a rebuilt parent's renamed key is rebuilt. Migrations
run with ``foreign_keys=OFF`` (the runner guarantees it), so dropping the old copy of a parent
table never fires ON DELETE CASCADE on its children. ``secure_delete`` is never touched.
"""

from __future__ import annotations

from dataclasses import replace

from dbshift.dialects.sqlite_description import SQLITE
from dbshift.inspectors.sqlite_tokens import tokenize
from dbshift.planners.operations import (
    Operation,
    Plan,
    foreign_key_actions,
    plan_view_or_trigger,
    rename_table_operation,
)
from dbshift.planners.operations import foreign_key_sql as shared_foreign_key_sql
from dbshift.planners.sqlite_key_checks import place_key_checks
from dbshift.planners.sqlite_values import checked_columns, loss_checks
from dbshift.schema import diff as d
from dbshift.schema.model import Column, ForeignKey, Index, Schema, Table

REBUILD_PREFIX = "_dbshift_new_"


#: SQLite's quoted identifier and string literal, as its description writes them.
quote, literal = SQLITE.quote, SQLITE.literal


# -- rendering ----------------------------------------------------------------------------
def create_table_sql(table: Table, name: str | None = None) -> str:
    """``CREATE TABLE`` for ``table`` (under ``name`` when given), without its indexes."""
    inline_pk = _inline_pk_column(table)
    parts = [column_sql(c, table, c.name == inline_pk) for c in table.columns]
    if table.primary_key and inline_pk is None:
        parts.append(
            _constraint_name(table.primary_key.name) + "PRIMARY KEY (" + _names(table.primary_key.columns) + ")"
        )
    parts += [_constraint_name(u.name) + "UNIQUE (" + _names(u.columns) + ")" for u in table.uniques]
    parts += [_constraint_name(c.name) + f"CHECK ({c.expression})" for c in table.checks]
    parts += [foreign_key_sql(k) for k in table.foreign_keys]
    suffix = ", ".join(
        word for flag, word in (("without_rowid", "WITHOUT ROWID"), ("strict", "STRICT")) if table.options.get(flag)
    )
    body = ",\n  ".join(parts)
    return f"CREATE TABLE {quote(name or table.name)} (\n  {body}\n){(' ' + suffix) if suffix else ''}"


def _inline_pk_column(table: Table) -> str | None:
    pk = table.primary_key
    if pk and len(pk.columns) == 1 and (pk.autoincrement or pk.name is None):
        return pk.columns[0]
    return None


def column_sql(column: Column, table: Table | None = None, inline_pk: bool = False) -> str:
    """One column definition."""
    words = [quote(column.name)]
    if column.type:
        words.append(column.type)
    if inline_pk and table is not None and table.primary_key is not None:
        words.append("PRIMARY KEY" + (" AUTOINCREMENT" if table.primary_key.autoincrement else ""))
    if not column.nullable:
        words.append("NOT NULL")
    if column.default is not None:
        words.append("DEFAULT " + default_sql(column.default))
    if column.collation:
        words.append("COLLATE " + column.collation)
    if column.generated is not None:
        words.append(
            f"GENERATED ALWAYS AS ({column.generated}) " + ("STORED" if column.generated_stored else "VIRTUAL")
        )
    return " ".join(words)


def default_sql(expression: str) -> str:
    """A DEFAULT value: literals as they are, anything else in parentheses."""
    tokens = tokenize(expression)
    simple = len(tokens) == 1 or (len(tokens) == 2 and tokens[0].text in "+-" and tokens[1].kind == "num")
    return expression if simple else f"({expression})"


def foreign_key_sql(key: ForeignKey) -> str:
    """A table-level FOREIGN KEY clause."""
    return shared_foreign_key_sql(key, quote)


def create_index_sql(index: Index, table: str | None = None) -> str:
    """``CREATE INDEX`` for ``index``."""
    keys = []
    for key in index.keys:
        text = quote(key.column) if key.column is not None else key.expression
        if key.collation:
            text += f" COLLATE {key.collation}"
        if key.descending:
            text += " DESC"
        keys.append(text)
    sql = f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {quote(index.name)} ON {quote(table or index.table)} ({', '.join(keys)})"
    return sql + (f" WHERE {index.where}" if index.where else "")


def _names(names) -> str:
    return ", ".join(quote(n) for n in names)


def _constraint_name(name: str | None) -> str:
    return f"CONSTRAINT {quote(name)} " if name else ""


def schema_sql(schema: Schema) -> list[str]:
    """Statements that create ``schema`` from nothing (tables by foreign keys, then indexes, views, triggers)."""
    statements = []
    for table in d.order_by_foreign_keys(list(schema.tables)):
        statements.append(create_table_sql(table))
        statements += [create_index_sql(i) for i in table.indexes]
    statements += [v.sql for v in schema.views]
    statements += [t.sql for t in schema.triggers]
    return statements


# -- planning -----------------------------------------------------------------------------
def plan_diff(diff: d.Diff) -> Plan:
    """The operations that carry out ``diff`` on SQLite."""
    follows = _followed_renames(diff)
    # A table rebuilt in either direction gets its views and triggers recreated around it in both.
    rebuilt = {c.name.lower() for c in diff.changes if isinstance(c, d.AlterTable) and None in _both_ways(c, follows)}
    changes = _with_dependents_recreated(diff, rebuilt)
    operations = [_plan_change(change, diff, follows) for change in changes]
    rebuilt_up, rebuilt_down = {}, {}
    for step, change in enumerate(changes):
        if isinstance(change, d.AlterTable):
            if operations[step].rewrites_table:
                rebuilt_up[step] = change.new.name
            if change.name.lower() in rebuilt and _both_ways(change, follows)[1] is None:
                rebuilt_down[step] = _name_before(change, diff)
    place_key_checks(changes, operations, diff, rebuilt_up, rebuilt_down)
    return Plan(operations=operations)


#: Table (by SQLite's name rule) -> the column renames a direction runs on it with native
#: ``RENAME COLUMN``, in order.
Renames = dict[str, tuple[tuple[str, str], ...]]
#: A direction's :data:`Renames`, or None when every table it alters is rebuilt.
Follows = Renames | None


def _followed_renames(diff: d.Diff) -> tuple[Follows, Follows]:
    """The native column renames of the up and of the down, which SQLite carries into the REFERENCES
    clauses of every table naming those columns (https://sqlite.org/lang_altertable.html, with
    ``legacy_alter_table`` off): a child whose keys only follow them needs no rebuild."""
    altered = [c for c in diff.changes if isinstance(c, d.AlterTable)]
    return _settled(altered), _settled([c.inverse() for c in altered])


def _settled(changes: list[d.AlterTable]) -> Follows:
    """Which tables rename columns natively, given that each child's plan depends on its parents'
    (a chain settles in as many rounds as it is long; tables that keep flipping are all rebuilt)."""
    key = SQLITE.name_rule.table
    follows: Renames = {}
    for _ in range(len(changes) + 1):
        native = {
            key(c.name): tuple(c.renamed.items())
            for c in changes
            if c.renamed and _native_steps(c, follows) is not None
        }
        if native == follows:
            return follows
        follows = native
    return None


def _both_ways(change: d.AlterTable, follows: tuple[Follows, Follows]) -> tuple[list[str] | None, list[str] | None]:
    """The native statements of the up and of the down (None: that direction rebuilds the table)."""
    up, down = follows
    return (
        None if up is None else _native_steps(change, up),
        None if down is None else _native_steps(change.inverse(), down),
    )


def _with_dependents_recreated(diff: d.Diff, rebuilt: set[str]) -> list:
    """The changes plus a drop/create pair for each untouched view and trigger a rebuild disturbs."""
    if not rebuilt:
        return list(diff.changes)
    touched = {
        (type(c).__name__, getattr(c, "view", getattr(c, "trigger", None)).name.lower())
        for c in diff.changes
        if isinstance(c, (d.DropView, d.DropTrigger))
    }
    drops, creates = [], []
    for view in diff.desired.views:
        old = diff.current.view(view.name)
        if old == view and ("DropView", view.name.lower()) not in touched:
            drops.append(d.DropView(old))
            creates.append(d.CreateView(view))
    for trigger in diff.desired.triggers:
        old = diff.current.trigger(trigger.name)
        if old == trigger and ("DropTrigger", trigger.name.lower()) not in touched and _mentions(trigger, rebuilt):
            drops.append(d.DropTrigger(old))
            creates.append(d.CreateTrigger(trigger))
    return drops + list(diff.changes) + creates


def _mentions(trigger, tables: set[str]) -> bool:
    if trigger.table.lower() in tables:
        return True
    return any(t.kind in ("word", "id") and t.text.lower() in tables for t in tokenize(trigger.sql))


def _plan_change(change, diff: d.Diff, follows: tuple[Follows, Follows]) -> Operation:
    if isinstance(change, d.CreateTable):
        create = [create_table_sql(change.table)] + [create_index_sql(i) for i in change.table.indexes]
        return Operation(f"create table {change.table.name}", create, [f"DROP TABLE {quote(change.table.name)}"])
    if isinstance(change, d.DropTable):
        create = [create_table_sql(change.table)] + [create_index_sql(i) for i in change.table.indexes]
        return Operation(
            f"drop table {change.table.name}",
            [f"DROP TABLE {quote(change.table.name)}"],
            create,
            destructive=True,
            lossy_reverse=f"the rows of table {change.table.name} are not brought back",
        )
    if isinstance(change, d.RenameTable):
        return rename_table_operation(change, quote)
    if isinstance(change, d.AlterTable):
        return plan_alter_table(change, _name_before(change, diff), follows)
    if isinstance(change, d.CreateIndex):
        return Operation(
            f"create index {change.index.name}",
            [create_index_sql(change.index)],
            [f"DROP INDEX {quote(change.index.name)}"],
        )
    if isinstance(change, d.DropIndex):
        return Operation(
            f"drop index {change.index.name}",
            [f"DROP INDEX {quote(change.index.name)}"],
            [create_index_sql(change.index)],
        )
    return plan_view_or_trigger(change, quote)


def _name_before(change: d.AlterTable, diff: d.Diff) -> str:
    """The altered table's name before the migration (its rename, if any, runs first)."""
    return next((old for old, new in diff.table_renames.items() if new.lower() == change.name.lower()), change.name)


# -- altering one table -------------------------------------------------------------------
def plan_alter_table(
    change: d.AlterTable, table_before: str | None = None, follows: tuple[Follows, Follows] = ({}, {})
) -> Operation:
    """Native ALTER TABLE statements when they reach the new definition exactly, else one rebuild
    (without its foreign key checks: :func:`plan_diff` places them where the plan has changed
    everything they read). ``follows``: the native column renames of the other tables in the up
    and in the down, which SQLite writes into this table's REFERENCES clauses itself.

    Where the values decide whether the rebuild's reverse gives them back (a BIGINT in a REAL,
    text in a number column), the operation carries loss checks (``table_before``: the table's
    name before the migration, which the checks read).
    """
    native_up, native_down = _both_ways(change, follows)
    up = rebuild_sql(change) if native_up is None else native_up
    down = rebuild_sql(change.inverse()) if native_down is None else native_down
    rewrites = native_up is None
    lossy = ", ".join(f"{change.name}.{c}" for c in change.lossy_down)
    dropped = [c.name for c in change.dropped]
    coerced = [
        new.name
        for old, new in change.altered
        if not SQLITE.compatible_types(old.type, new.type) and new.name not in change.up_values
    ]
    notes = [
        f"{change.name}.{c}: values are copied as they are and SQLite converts them to the new type's "
        f"affinity; give --convert to say how"
        for c in coerced
    ]
    notes += [
        f"{change.name}.{column.name}: some values may not come back on the way down; the migration counts "
        "them when it is applied (-- loss-check), and a rollback that would lose any needs --force"
        for column, _ in (checked_columns(change) if rewrites else [])
    ]
    return Operation(
        description=change.describe()
        + (" (table rebuild)" if rewrites else "")
        + (" (nothing to run: SQLite rewrites its REFERENCES with the parent's RENAME COLUMN)" if not up else ""),
        sql=up,
        reverse=down,
        destructive=bool(dropped or coerced),
        notes=notes,
        rewrites_table=rewrites,
        loss_checks=loss_checks(change, table_before or change.name) if rewrites else [],
        lossy_reverse=(f"no reverse conversion for {lossy}" if lossy else "")
        or (
            f"dropped column(s) {', '.join(change.name + '.' + c for c in dropped)} come back "
            + ("with the values --reverse gives" if any(c in change.down_values for c in dropped) else "empty")
            if dropped
            else ""
        ),
    )


def _native_steps(change: d.AlterTable, follows: Renames | None = None) -> list[str] | None:
    """ALTER TABLE statements that turn ``old`` into ``new`` exactly, or None when none can; [] when
    the other tables' native column renames (``follows``, default none) already do it."""
    if change.up_values or change.old.options != change.new.options:
        return None
    # Indexes are dropped and created by their own operations.
    table = _followed(change.old.definition(), follows or {})
    statements = []
    for old_name, new_name in change.renamed.items():
        table = _rename_column(table, old_name, new_name)
        statements.append(f"ALTER TABLE {quote(table.name)} RENAME COLUMN {quote(old_name)} TO {quote(new_name)}")
    for column in change.dropped:
        if not _can_drop(table, column):
            return None
        table = replace(table, columns=tuple(c for c in table.columns if c.name != column.name))
        statements.append(f"ALTER TABLE {quote(table.name)} DROP COLUMN {quote(column.name)}")
    for column in change.added:
        key = next((k for k in change.new.foreign_keys if k.columns == (column.name,)), None)
        if not _can_add(column, key, change.new):
            return None
        table = replace(
            table,
            columns=table.columns + (column,),
            foreign_keys=tuple(
                sorted(
                    table.foreign_keys + ((key,) if key else ()), key=lambda k: (k.columns, k.ref_table, k.ref_columns)
                )
            ),
        )
        definition = column_sql(column)
        if key is not None:
            definition += f" REFERENCES {quote(key.ref_table)}" + (
                f" ({_names(key.ref_columns)})" if key.ref_columns else ""
            )
            definition += foreign_key_actions(key)
        statements.append(f"ALTER TABLE {quote(table.name)} ADD COLUMN {definition}")
    if replace(table, indexes=()) != change.new.definition():
        return None
    return statements


def _rename_column(table: Table, old: str, new: str) -> Table:
    """``table`` after SQLite's RENAME COLUMN, which also renames the column in the table's own
    references to itself."""

    def swap(names):
        return tuple(new if n.lower() == old.lower() else n for n in names)

    columns = tuple(replace(c, name=new) if c.name.lower() == old.lower() else c for c in table.columns)
    pk = replace(table.primary_key, columns=swap(table.primary_key.columns)) if table.primary_key else None
    uniques = tuple(replace(u, columns=swap(u.columns)) for u in table.uniques)
    keys = tuple(replace(k, columns=swap(k.columns)) for k in table.foreign_keys)
    table = replace(table, columns=columns, primary_key=pk, uniques=uniques, foreign_keys=keys)
    return _followed(table, {SQLITE.name_rule.table(table.name): ((old, new),)}, itself=True)


def _followed(table: Table, follows: Renames, itself: bool = False) -> Table:
    """``table`` with the referenced columns of its foreign keys renamed as ``follows`` renames them
    in their tables (SQLite rewrites a REFERENCES clause spelling the old name in any case, and
    writes the new name as the RENAME COLUMN spells it); its references to itself only when ``itself``."""
    key = SQLITE.name_rule.table
    mine = key(table.name)
    keys = []
    for fk in table.foreign_keys:
        parent = key(fk.ref_table)
        if (parent == mine) == itself:
            for old, new in follows.get(parent, ()):
                fk = replace(fk, ref_columns=tuple(new if c.lower() == old.lower() else c for c in fk.ref_columns))
        keys.append(fk)
    return replace(table, foreign_keys=tuple(keys))


def _can_drop(table: Table, column: Column) -> bool:
    """SQLite's DROP COLUMN rules: not a key, not used by a CHECK or generated column (indexes go first)."""
    name = column.name.lower()
    in_keys = (
        (table.primary_key and name in _lower(table.primary_key.columns))
        or any(name in _lower(u.columns) for u in table.uniques)
        or any(name in _lower(k.columns) for k in table.foreign_keys)
    )
    expressions = [c.expression for c in table.checks] + [c.generated for c in table.columns if c.generated]
    used = any(_uses(e, name) for e in expressions)
    return not (in_keys or used)


def _can_add(column: Column, key: ForeignKey | None, new: Table) -> bool:
    """SQLite's ADD COLUMN rules: no key, a constant default when NOT NULL, no STORED generation."""
    name = column.name.lower()
    if (new.primary_key and name in _lower(new.primary_key.columns)) or any(
        name in _lower(u.columns) for u in new.uniques
    ):
        return False
    if column.generated is not None and column.generated_stored:
        return False
    constant = column.default is None or _is_constant(column.default)
    if not constant or (not column.nullable and column.default is None and column.generated is None):
        return False
    if key is not None and column.default not in (None, "NULL"):
        return False
    return not any(_uses(c.expression, name) for c in new.checks)


def _is_constant(expression: str) -> bool:
    tokens = tokenize(expression)
    return all(t.kind in ("num", "str", "blob") or t.is_word("NULL", "TRUE", "FALSE") or t.text in "+-" for t in tokens)


def _uses(expression: str, name: str) -> bool:
    return any(t.kind in ("word", "id") and t.text.lower() == name for t in tokenize(expression))


def _lower(names) -> set[str]:
    return {n.lower() for n in names}


def rebuild_sql(change: d.AlterTable) -> list[str]:
    """SQLite's table rebuild: create the new shape, copy, drop, rename, recreate indexes (the
    foreign key checks that follow are placed by :func:`plan_diff`)."""
    new, old = change.new, change.old
    temporary = REBUILD_PREFIX + new.name
    targets, values = [], []
    for column in new.columns:
        if column.generated is not None:
            continue
        value = change.up_values.get(column.name)
        source = change.sources.get(column.name)
        if value is None and source is None:
            continue
        targets.append(quote(column.name))
        values.append(value if value is not None else quote(source))
    statements = [create_table_sql(new, temporary)]
    if targets:
        statements.append(
            f"INSERT INTO {quote(temporary)} ({', '.join(targets)})\n"
            f"  SELECT {', '.join(values)} FROM {quote(old.name)}"
        )
    if _autoincrement(old) and _autoincrement(new):
        statements.append(
            f"UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
            f"{literal(old.name)}), 0)) WHERE name = {literal(temporary)}"
        )
    statements.append(f"DROP TABLE {quote(old.name)}")
    statements.append(f"ALTER TABLE {quote(temporary)} RENAME TO {quote(new.name)}")
    # Indexes that change are dropped before and created after the rebuild by their own operations.
    statements += [create_index_sql(i, new.name) for i in new.indexes if i in old.indexes]
    return statements


def _autoincrement(table: Table) -> bool:
    return bool(table.primary_key and table.primary_key.autoincrement)
