"""MySQL/MariaDB planner: changes -> operations with native ALTER TABLE.

Column changes use MODIFY (same name), RENAME COLUMN and ADD ... AFTER, so the column order
comes out as desired. ``ALGORITHM=INSTANT`` is asked for where both MariaDB 10.4+ and MySQL
8.0.29+ do the change as a metadata-only operation (adding a nullable column or one with a
constant default, dropping a column, renaming one); the server refuses rather than silently
copying if it cannot. DDL is not transactional here: every operation is marked
``transactional=False`` and the runner records the migration as ``running`` first.

InnoDB creates an index for a foreign key that has none; such indexes are planned together
with their key, never dropped while the key still needs them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dbshift.planners.operations import Operation, Plan, plan_view_or_trigger
from dbshift.planners.postgresql import views_in_dependency_order
from dbshift.schema import diff as d
from dbshift.schema.model import Column, ForeignKey, Index, IndexKey, Schema, Table

_LITERAL = re.compile(r"^(NULL|-?\d+(\.\d+)?|'(?:[^'\\]|\\.|'')*'|b'[01]*'|x'[0-9a-f]*')$", re.IGNORECASE)
_NOW = re.compile(r"^(current_timestamp|now|localtimestamp|localtime)(\(\d*\))?$", re.IGNORECASE)


def quote(name: str) -> str:
    """MySQL's quoted identifier."""
    return "`" + name.replace("`", "``") + "`"


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _names(names) -> str:
    return ", ".join(quote(n) for n in names)


# -- rendering ----------------------------------------------------------------------------
def default_sql(expression: str) -> str:
    """Literals and CURRENT_TIMESTAMP as they are, any other expression in parentheses."""
    return expression if _LITERAL.match(expression) or _NOW.match(expression) else f"({expression})"


def column_sql(column: Column) -> str:
    """One column definition, as ``SHOW CREATE TABLE`` would write it."""
    words = [quote(column.name), column.type]
    if column.collation:
        words.append(f"COLLATE {column.collation}")
    if column.generated is not None:
        words.append(f"GENERATED ALWAYS AS ({column.generated}) {'STORED' if column.generated_stored else 'VIRTUAL'}")
    else:
        words.append("NULL" if column.nullable else "NOT NULL")
        if column.default is not None:
            words.append(f"DEFAULT {default_sql(column.default)}")
    if column.options.get("auto_increment"):
        words.append("AUTO_INCREMENT")
    if column.options.get("on_update"):
        words.append(f"ON UPDATE {column.options['on_update']}")
    if column.hidden:
        words.append("INVISIBLE")
    if column.options.get("comment"):
        words.append(f"COMMENT {literal(column.options['comment'])}")
    if column.options.get("check"):
        words.append(f"CHECK ({column.options['check']})")
    return " ".join(words)


def foreign_key_sql(key: ForeignKey) -> str:
    """``CONSTRAINT name FOREIGN KEY (...) REFERENCES t (...) [actions]``."""
    sql = f"CONSTRAINT {quote(key.name)} " if key.name else ""
    sql += f"FOREIGN KEY ({_names(key.columns)}) REFERENCES {quote(key.ref_table)} ({_names(key.ref_columns)})"
    # Left out, an action is RESTRICT; NO ACTION is reported apart from it, so it is written.
    if key.on_delete != "RESTRICT":
        sql += f" ON DELETE {key.on_delete}"
    if key.on_update != "RESTRICT":
        sql += f" ON UPDATE {key.on_update}"
    return sql


def _key_parts(index_keys, prefix: dict) -> str:
    parts = []
    for key in index_keys:
        text = quote(key.column) if key.column is not None else f"({key.expression})"
        if key.column in prefix:
            text += f"({prefix[key.column]})"
        parts.append(text + (" DESC" if key.descending else ""))
    return ", ".join(parts)


def index_clause(index: Index) -> str:
    """``[UNIQUE|FULLTEXT|SPATIAL] KEY name (...)`` inside CREATE/ALTER TABLE."""
    kind = index.options.get("type")
    word = f"{kind} KEY" if kind in ("FULLTEXT", "SPATIAL") else ("UNIQUE KEY" if index.unique else "KEY")
    return f"{word} {quote(index.name)} ({_key_parts(index.keys, index.options.get('prefix', {}))})"


def create_index_sql(index: Index) -> str:
    """``CREATE INDEX`` for ``index``."""
    return f"ALTER TABLE {quote(index.table)} ADD {index_clause(index)}"


def drop_index_sql(index: Index) -> str:
    """``DROP INDEX``."""
    return f"ALTER TABLE {quote(index.table)} DROP INDEX {quote(index.name)}"


def _constraint_clauses(table: Table) -> list[str]:
    parts = []
    if table.primary_key:
        prefix = table.primary_key.options.get("prefix", {})
        parts.append(f"PRIMARY KEY ({_key_parts(_plain_keys(table.primary_key.columns), prefix)})")
    parts += [f"UNIQUE KEY {quote(u.name)} ({_names(u.columns)})" if u.name else f"UNIQUE ({_names(u.columns)})"
              for u in table.uniques]
    parts += [index_clause(i) for i in table.indexes]
    parts += [f"CONSTRAINT {quote(c.name)} CHECK ({c.expression})" if c.name else f"CHECK ({c.expression})"
              for c in table.checks]
    return parts + [foreign_key_sql(k) for k in table.foreign_keys]


def _plain_keys(columns):
    return [IndexKey(column=c) for c in columns]


def _table_options(table: Table, explicit_comment: bool = False, before: Table | None = None) -> str:
    """ENGINE, COLLATE, COMMENT and the create options; ``before``'s create options that go are reset."""
    words = []
    if table.options.get("engine"):
        words.append(f"ENGINE={table.options['engine']}")
    if table.options.get("collation"):
        words.append(f"COLLATE={table.options['collation']}")
    if table.options.get("comment") or explicit_comment:
        words.append(f"COMMENT={literal(table.options.get('comment') or '')}")
    options = create_options(table)
    gone = [name for name in create_options(before) if name not in options] if before is not None else []
    words += [f"{_option_name(name)}={_reset_value(name)}" for name in gone]
    words += [f"{_option_name(name)}={value}" for name, value in options.items()]
    return " ".join(words)


_CREATE_OPTION = re.compile(r"(`[^`]+`|\w+)=('(?:[^'\\]|\\.|'')*'|\S+)")
#: Create options that ``=DEFAULT`` resets; the numeric ones (KEY_BLOCK_SIZE, MAX_ROWS...) take 0.
_RESET_BY_DEFAULT = {"row_format", "stats_persistent", "stats_auto_recalc", "stats_sample_pages", "pack_keys"}


def create_options(table: Table | None) -> dict[str, str]:
    """The table's create options (ROW_FORMAT, KEY_BLOCK_SIZE, engine-defined ones...) as name -> value."""
    text = table.options.get("create_options", "") if table is not None else ""
    return {name.lower() if not name.startswith("`") else name: value
            for name, value in _CREATE_OPTION.findall(text)}


def _option_name(name: str) -> str:
    return name if name.startswith("`") else name.upper()


def _reset_value(name: str) -> str:
    return "DEFAULT" if name.startswith("`") or name in _RESET_BY_DEFAULT else "0"


def create_table_sql(table: Table, with_foreign_keys: bool = True) -> str:
    """CREATE TABLE with its keys, indexes, checks and (optionally) foreign keys."""
    bare = table if with_foreign_keys else replace(table, foreign_keys=())
    parts = [column_sql(c) for c in table.columns] + _constraint_clauses(bare)
    return f"CREATE TABLE {quote(table.name)} (\n  " + ",\n  ".join(parts) + f"\n) {_table_options(table)}".rstrip()


def schema_sql(schema: Schema) -> list[str]:
    """Statements that create ``schema`` from nothing."""
    tables = d.order_by_foreign_keys(list(schema.tables))
    statements = [create_table_sql(t, with_foreign_keys=False) for t in tables]
    statements += [f"ALTER TABLE {quote(t.name)} ADD {foreign_key_sql(k)}" for t in tables for k in t.foreign_keys]
    return statements + [v.sql for v in schema.views] + [t.sql for t in schema.triggers]


# -- planning -----------------------------------------------------------------------------
def plan_diff(diff: d.Diff) -> Plan:
    """The operations that carry out ``diff`` on MySQL/MariaDB."""
    fk_indexes = _foreign_key_indexes(diff.desired)
    held = _foreign_key_indexes(diff.current)
    early, late = [], []
    for change in diff.changes:
        if isinstance(change, d.DropIndex) and (change.index.table.lower(), change.index.name.lower()) in held:
            late.append(change)  # the key that needs it goes first, in its AlterTable
        else:
            early.append(change)
    operations = []
    for change in views_in_dependency_order(early + late):
        if isinstance(change, d.CreateIndex) and (change.index.table.lower(), change.index.name.lower()) in fk_indexes:
            continue  # planned with its foreign key
        operation = _plan_change(change, fk_indexes, diff)
        if operation is not None:
            operations.append(replace(operation, transactional=False))
    notes = [f"{c.question.removesuffix(' [y/N]')} Not assumed; if it was, add {c.hint}" for c in diff.unconfirmed]
    return Plan(operations=operations, notes=notes)


def _foreign_key_indexes(schema: Schema) -> set[tuple[str, str]]:
    """(table, index) of indexes whose columns start with a foreign key's columns."""
    found = set()
    for table in schema.tables:
        for index in table.indexes:
            if any(index.columns[: len(k.columns)] == k.columns for k in table.foreign_keys):
                found.add((table.name.lower(), index.name.lower()))
    return found


def _plan_change(change, fk_indexes, diff: d.Diff) -> Operation | None:
    if isinstance(change, d.CreateTable):
        return Operation(f"create table {change.table.name}", [create_table_sql(change.table)],
                         [f"DROP TABLE {quote(change.table.name)}"])
    if isinstance(change, d.DropTable):
        return Operation(f"drop table {change.table.name}", [f"DROP TABLE {quote(change.table.name)}"],
                         [create_table_sql(change.table)], destructive=True,
                         lossy_reverse=f"the rows of table {change.table.name} are not brought back")
    if isinstance(change, d.RenameTable):
        return Operation(f"rename table {change.old} to {change.new}",
                         [f"RENAME TABLE {quote(change.old)} TO {quote(change.new)}"],
                         [f"RENAME TABLE {quote(change.new)} TO {quote(change.old)}"])
    if isinstance(change, d.AlterTable):
        return plan_alter_table(change, fk_indexes)
    if isinstance(change, d.CreateIndex):
        return Operation(f"create index {change.index.name}", [create_index_sql(change.index)],
                         [drop_index_sql(change.index)])
    if isinstance(change, d.DropIndex):
        if diff.desired.table(change.index.table) is None:
            return None
        return Operation(f"drop index {change.index.name}", [drop_index_sql(change.index)],
                         [create_index_sql(change.index)])
    return plan_view_or_trigger(change, quote)


# -- altering one table -------------------------------------------------------------------
def plan_alter_table(change: d.AlterTable, fk_indexes=frozenset()) -> Operation:
    """Native ALTER TABLE both ways; flags for drops, copies and lossy reverses."""
    lossy = ", ".join(f"{change.name}.{c}" for c in change.lossy_down)
    dropped = [c.name for c in change.dropped]
    return Operation(
        description=change.describe(),
        sql=alter_table_sql(change, fk_indexes),
        reverse=alter_table_sql(change.inverse()) + [
            f"ALTER TABLE {quote(change.name)} DROP INDEX {quote(i.name)}" for i in _added_fk_indexes(change, fk_indexes)],
        destructive=bool(dropped),
        rewrites_table=any(a.type != b.type for a, b in change.altered) or bool(change.up_values),
        lossy_reverse=(f"no reverse conversion for {lossy}" if lossy else "")
        or (f"dropped column(s) {', '.join(change.name + '.' + c for c in dropped)} come back empty" if dropped else ""),
        transactional=False,
    )


def alter_table_sql(change: d.AlterTable, fk_indexes=frozenset()) -> list[str]:
    """The statements that turn ``change.old`` into ``change.new``, in a safe order."""
    table = quote(change.old.name)
    old, new = change.old, change.new
    renamed = change.renamed
    statements = _drop_constraints(old, new, renamed, table)
    changed = {} if change.up_values else {o.name: n for o, n in change.altered if o.name in renamed and
                                           (o.generated, o.generated_stored) == (n.generated, n.generated_stored)}
    statements += [f"ALTER TABLE {table} CHANGE COLUMN {quote(o)} {column_sql(n)}" for o, n in changed.items()]
    statements += _modify_columns(replace(change, altered=tuple(p for p in change.altered if p[0].name not in changed)), table)
    statements += _add_columns(change, table)
    statements += [f"ALTER TABLE {table} DROP COLUMN {quote(c.name)}" for c in change.dropped]
    statements += [f"ALTER TABLE {table} RENAME COLUMN {quote(o)} TO {quote(n)}" for o, n in renamed.items()
                   if o not in changed]
    statements += _add_constraints(old, new, renamed, table, fk_indexes)
    if old.options != new.options:
        statements.append(f"ALTER TABLE {table} {_table_options(new, explicit_comment=True, before=old)}")
    return statements if change.up_values else _combined(statements, table)


def _combined(statements: list[str], table: str) -> list[str]:
    """Foreign-key drops, then every other clause in one ALTER TABLE, then foreign-key adds.

    One statement lets MySQL check the table once at the end: an AUTO_INCREMENT column may
    lose its key and get another in the same step, which separate statements refuse.
    """
    prefix = f"ALTER TABLE {table} "
    drops = [s for s in statements if s.startswith(prefix + "DROP FOREIGN KEY ")]
    adds = [s for s in statements if s.startswith(prefix + "ADD CONSTRAINT ") and " FOREIGN KEY " in s
            or s.startswith(prefix + "ADD FOREIGN KEY ")]
    middle = [s for s in statements if s not in drops and s not in adds]
    if len(middle) <= 1:
        return drops + middle + adds
    clauses = [s[len(prefix):].replace(", ALGORITHM=INSTANT", "") for s in middle]
    return drops + [prefix + ",\n  ".join(clauses)] + adds


def _swap(names, renamed: dict[str, str]):
    return tuple(renamed.get(n, n) for n in names)


def _renamed_keys(table: Table, renamed: dict[str, str]):
    pk = replace(table.primary_key, columns=_swap(table.primary_key.columns, renamed)) if table.primary_key else None
    uniques = {u.name: replace(u, columns=_swap(u.columns, renamed)) for u in table.uniques}
    keys = {k.name: replace(k, columns=_swap(k.columns, renamed)) for k in table.foreign_keys}
    return pk, uniques, {c.name: c for c in table.checks}, keys


def _drop_constraints(old: Table, new: Table, renamed: dict, table: str) -> list[str]:
    old_pk, old_uniques, old_checks, old_keys = _renamed_keys(old, renamed)
    new_pk, new_uniques, new_checks, new_keys = _renamed_keys(new, {})
    statements = [f"ALTER TABLE {table} DROP FOREIGN KEY {quote(n)}" for n, k in old_keys.items() if new_keys.get(n) != k]
    statements += [f"ALTER TABLE {table} DROP INDEX {quote(n)}" for n, u in old_uniques.items() if new_uniques.get(n) != u]
    statements += [f"ALTER TABLE {table} DROP CONSTRAINT {quote(n)}" for n, c in old_checks.items() if new_checks.get(n) != c]
    if old_pk is not None and old_pk != new_pk:
        statements.append(f"ALTER TABLE {table} DROP PRIMARY KEY")
    return statements


def _add_constraints(old: Table, new: Table, renamed: dict, table: str, fk_indexes) -> list[str]:
    old_pk, old_uniques, old_checks, old_keys = _renamed_keys(old, renamed)
    new_pk, new_uniques, new_checks, new_keys = _renamed_keys(new, {})
    statements = []
    if new_pk is not None and old_pk != new_pk:
        statements.append(f"ALTER TABLE {table} ADD PRIMARY KEY ({_names(new_pk.columns)})")
    statements += [f"ALTER TABLE {table} ADD UNIQUE KEY {quote(n)} ({_names(u.columns)})"
                   for n, u in new_uniques.items() if old_uniques.get(n) != u]
    statements += [f"ALTER TABLE {table} ADD CONSTRAINT {quote(n)} CHECK ({c.expression})"
                   for n, c in new_checks.items() if old_checks.get(n) != c]
    statements += [f"ALTER TABLE {table} ADD {index_clause(i)}" for i in _added_fk_indexes_of(old, new, fk_indexes)]
    statements += [f"ALTER TABLE {table} ADD {foreign_key_sql(k)}" for n, k in new_keys.items() if old_keys.get(n) != k]
    return statements


def _modify_columns(change: d.AlterTable, table: str) -> list[str]:
    """MODIFY each altered column (under its old name), then fill values computed from the old row."""
    statements, updates = [], []
    for old, new in change.altered:
        if (old.generated, old.generated_stored) != (new.generated, new.generated_stored):
            # MariaDB and MySQL cannot MODIFY a column into or out of being generated.
            statements += [f"ALTER TABLE {table} DROP COLUMN {quote(old.name)}",
                           f"ALTER TABLE {table} ADD COLUMN {column_sql(replace(new, name=old.name))}"
                           f"{_position_after_renames(change, new)}"]
            continue
        statements.append(f"ALTER TABLE {table} MODIFY COLUMN {column_sql(replace(new, name=old.name))}")
        value = change.up_values.get(new.name)
        if value is not None:
            updates.append(f"UPDATE {table} SET {quote(old.name)} = {value}")
    return statements + updates


def _add_columns(change: d.AlterTable, table: str) -> list[str]:
    statements = []
    for column in change.added:
        value = change.up_values.get(column.name)
        instant = ", ALGORITHM=INSTANT" if _instant_add(column) and value is None else ""
        if value is None:
            statements.append(f"ALTER TABLE {table} ADD COLUMN {column_sql(column)}{_position_after_renames(change, column)}{instant}")
            continue
        statements += [f"ALTER TABLE {table} ADD COLUMN {column_sql(replace(column, nullable=True))}"
                       f"{_position_after_renames(change, column)}",
                       f"UPDATE {table} SET {quote(column.name)} = {value}"]
        if not column.nullable:
            statements.append(f"ALTER TABLE {table} MODIFY COLUMN {column_sql(column)}")
    return statements


def _added_fk_indexes(change: d.AlterTable, fk_indexes) -> list[Index]:
    return _added_fk_indexes_of(change.old, change.new, fk_indexes)


def _added_fk_indexes_of(old: Table, new: Table, fk_indexes) -> list[Index]:
    """Indexes for foreign keys that this change adds (planned here, not as separate CreateIndex)."""
    existing = {i.name.lower() for i in old.indexes}
    return [i for i in new.indexes if (new.name.lower(), i.name.lower()) in fk_indexes and i.name.lower() not in existing]


def _position_after_renames(change: d.AlterTable, column: Column) -> str:
    """AFTER the previous column, named as it is at this point (before renames run)."""
    names = [c.name for c in change.new.columns]
    at = names.index(column.name)
    if at == 0:
        return " FIRST"
    previous = names[at - 1]
    return f" AFTER {quote(change.sources.get(previous, previous))}"


def _instant_add(column: Column) -> bool:
    return (column.generated is None and not column.options.get("auto_increment")
            and (column.nullable or column.default is not None))
