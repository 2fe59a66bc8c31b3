"""PostgreSQL planner: changes -> operations, every table change as native ALTER TABLE.

PostgreSQL has transactional DDL and an ALTER TABLE for everything the model holds: RENAME
COLUMN, ALTER COLUMN TYPE ... USING, SET/DROP NOT NULL, SET/DROP DEFAULT, identity, and
constraints. A new foreign key or CHECK is added ``NOT VALID`` and then validated, so the long
scan holds a lighter lock than the ALTER (SHARE UPDATE EXCLUSIVE instead of ACCESS EXCLUSIVE).
The statements of one AlterTable run in this order: drop constraints that go, change types,
defaults and values (expressions see the old row, old names), add columns, drop columns,
rename, add constraints. Enums, domains, sequences and functions (schema ``options``) are
created before the table steps and dropped after them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from dbshift.planners.operations import Operation, Plan
from dbshift.schema import diff as d
from dbshift.schema.model import NO_ACTION, Check, Column, ForeignKey, Index, PrimaryKey, Schema, Table, Unique

SERIAL_TYPES = {"INTEGER": "SERIAL", "BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}
#: Type changes PostgreSQL makes without rewriting the table (binary-coercible widenings).
NO_REWRITE = {("CHARACTER VARYING", "TEXT"), ("CHARACTER VARYING", "CHARACTER VARYING")}


def quote(name: str) -> str:
    """PostgreSQL's quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _names(names) -> str:
    return ", ".join(quote(n) for n in names)


# -- rendering ----------------------------------------------------------------------------
def column_sql(column: Column, table: Table | None = None) -> str:
    """One column definition (serial columns of a new table as SERIAL)."""
    type_, default = column.type, column.default
    if table is not None and _is_serial(column, table.name):
        type_, default = SERIAL_TYPES[column.type], None
    words = [quote(column.name), type_]
    if column.collation:
        words.append(f"COLLATE {quote(column.collation)}")
    if "identity" in column.options:
        words.append(f"GENERATED {column.options['identity']} AS IDENTITY")
    if column.generated is not None:
        words.append(f"GENERATED ALWAYS AS ({column.generated}) STORED")
    if not column.nullable:
        words.append("NOT NULL")
    if default is not None:
        words.append(f"DEFAULT {default}")
    return " ".join(words)


def _is_serial(column: Column, table: str) -> bool:
    expected = f"nextval('{_sequence_name(table, column.name)}'::regclass)"
    return column.type in SERIAL_TYPES and column.default == expected


def _sequence_name(table: str, column: str) -> str:
    name = f"{table}_{column}_seq"
    return quote(name) if not name.islower() or not name.replace("_", "").isalnum() else name


def foreign_key_sql(key: ForeignKey) -> str:
    """``CONSTRAINT name FOREIGN KEY (...) REFERENCES t (...) [actions] [DEFERRABLE ...]``."""
    sql = f"CONSTRAINT {quote(key.name)} " if key.name else ""
    sql += f"FOREIGN KEY ({_names(key.columns)}) REFERENCES {quote(key.ref_table)} ({_names(key.ref_columns)})"
    if key.on_update != NO_ACTION:
        sql += f" ON UPDATE {key.on_update}"
    if key.on_delete != NO_ACTION:
        sql += f" ON DELETE {key.on_delete}"
    if key.deferrable:
        sql += " " + key.deferrable
    return sql


def constraint_sql(item) -> str:
    """A table constraint clause (primary key, unique, check or foreign key)."""
    if isinstance(item, ForeignKey):
        return foreign_key_sql(item)
    named = f"CONSTRAINT {quote(item.name)} " if item.name else ""
    if isinstance(item, PrimaryKey):
        return named + f"PRIMARY KEY ({_names(item.columns)})"
    if isinstance(item, Unique):
        deferrable = item.options.get("deferrable")
        return named + f"UNIQUE ({_names(item.columns)})" + (f" {deferrable}" if deferrable else "")
    return named + f"CHECK ({item.expression})"


def _constraints(table: Table) -> list:
    return ([table.primary_key] if table.primary_key else []) + list(table.uniques) + list(table.checks) + list(
        table.foreign_keys)


def create_table_sql(table: Table, with_foreign_keys: bool = True) -> list[str]:
    """CREATE TABLE (constraints inline; NOT VALID ones added after), indexes and comments."""
    inline = [c for c in _constraints(table) if not c.options.get("not_valid")
              and (with_foreign_keys or not isinstance(c, ForeignKey))]
    parts = [column_sql(c, table) for c in table.columns] + [constraint_sql(c) for c in inline]
    parts += [f"CONSTRAINT {quote(n)} {definition}" for n, definition in table.options.get("exclusion_constraints", {}).items()]
    statements = [f"CREATE TABLE {quote(table.name)} (\n  " + ",\n  ".join(parts) + "\n)"]
    statements += [_add_constraint(table.name, c) for c in _constraints(table) if c.options.get("not_valid")]
    statements += [create_index_sql(i) for i in table.indexes]
    return statements + _comments(table, None)


def _add_constraint(table: str, item) -> str:
    suffix = " NOT VALID" if item.options.get("not_valid") else ""
    return f"ALTER TABLE {quote(table)} ADD {constraint_sql(item)}{suffix}"


def _comments(new: Table, old: Table | None) -> list[str]:
    statements = []
    if new.options.get("comment") != (old.options.get("comment") if old else None):
        statements.append(f"COMMENT ON TABLE {quote(new.name)} IS {_comment_value(new.options.get('comment'))}")
    for column in new.columns:
        before = old.column(column.name) if old else None
        if column.options.get("comment") != (before.options.get("comment") if before else None):
            statements.append(f"COMMENT ON COLUMN {quote(new.name)}.{quote(column.name)} IS "
                              f"{_comment_value(column.options.get('comment'))}")
    return statements


def _comment_value(text: str | None) -> str:
    return "NULL" if text is None else literal(text)


def create_index_sql(index: Index, concurrently: bool = False) -> str:
    """``CREATE INDEX`` with method, keys, INCLUDE and WHERE."""
    keys = []
    for key in index.keys:
        text = quote(key.column) if key.column is not None else f"({key.expression})"
        if key.collation:
            text += f" COLLATE {quote(key.collation)}"
        keys.append(text + (" DESC" if key.descending else ""))
    method = index.options.get("method")
    sql = (f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {'CONCURRENTLY ' if concurrently else ''}{quote(index.name)} "
           f"ON {quote(index.table)}{f' USING {method}' if method else ''} ({', '.join(keys)})")
    if index.options.get("include"):
        sql += f" INCLUDE ({_names(index.options['include'])})"
    return sql + (f" WHERE {index.where}" if index.where else "")


def _drop_view_sql(view) -> str:
    kind = "MATERIALIZED VIEW" if view.options.get("materialized") else "VIEW"
    return f"DROP {kind} {quote(view.name)}"


def _view_sql(view) -> list[str]:
    comment = view.options.get("comment")
    kind = "MATERIALIZED VIEW" if view.options.get("materialized") else "VIEW"
    return [view.sql] + ([f"COMMENT ON {kind} {quote(view.name)} IS {literal(comment)}"] if comment else [])


def schema_sql(schema: Schema) -> list[str]:
    """Statements that create ``schema`` from nothing: types, tables, foreign keys, indexes, views, triggers."""
    statements = _create_extras(schema.options, {})
    tables = d.order_by_foreign_keys(list(schema.tables))
    for table in tables:
        statements += create_table_sql(table, with_foreign_keys=False)
    for table in tables:
        statements += [_add_constraint(table.name, k) for k in table.foreign_keys if not k.options.get("not_valid")]
    for view in schema.views:
        statements += _view_sql(view)
    return statements + [t.sql for t in schema.triggers]


# -- schema extras: enums, domains, sequences, functions ----------------------------------
def _create_extras(new: dict, old: dict) -> list[str]:
    statements = []
    for name, labels in new.get("enums", {}).items():
        before = old.get("enums", {}).get(name)
        if before is None:
            statements.append(f"CREATE TYPE {quote(name)} AS ENUM ({', '.join(literal(v) for v in labels)})")
        elif before != labels and labels[: len(before)] == before:
            statements += [f"ALTER TYPE {quote(name)} ADD VALUE {literal(v)}" for v in labels[len(before):]]
    for name, domain in new.get("domains", {}).items():
        statements += _domain_sql(name, domain, old.get("domains", {}).get(name))
    for name, (type_, start, increment, low, high, cycle) in new.get("sequences", {}).items():
        if name not in old.get("sequences", {}):
            statements.append(f"CREATE SEQUENCE {quote(name)} AS {type_} INCREMENT {increment} MINVALUE {low} "
                              f"MAXVALUE {high} START {start}{' CYCLE' if cycle == 'True' else ''}")
    return statements + _function_sql(new.get("functions", {}), old.get("functions", {}))


def _function_sql(new: dict, old: dict) -> list[str]:
    """CREATE OR REPLACE for new and changed functions (dropped first when the result type changes)."""
    statements = []
    for signature, definition in new.items():
        before = old.get(signature)
        if before is not None and before != definition and _returns(before) != _returns(definition):
            statements.append(f"DROP FUNCTION {signature}")  # CREATE OR REPLACE cannot change the result type
        if before != definition:
            statements.append(definition.strip())
    return statements


def _domain_sql(name: str, new: dict, old: dict | None) -> list[str]:
    """CREATE DOMAIN, or the ALTER DOMAIN steps from ``old`` to ``new`` (same base type)."""
    target = quote(name)
    if old is None:
        sql = f"CREATE DOMAIN {target} AS {new['type']}"
        sql += f" DEFAULT {new['default']}" if new["default"] is not None else ""
        sql += " NOT NULL" if new["not_null"] else ""
        return [sql + "".join(f" CONSTRAINT {quote(c)} {check}" for c, check in new["checks"].items())]
    statements = [f"ALTER DOMAIN {target} DROP CONSTRAINT {quote(c)}" for c, check in old["checks"].items()
                  if new["checks"].get(c) != check]
    if old["default"] != new["default"]:
        statements.append(f"ALTER DOMAIN {target} " + (f"SET DEFAULT {new['default']}" if new["default"] is not None
                                                         else "DROP DEFAULT"))
    if old["not_null"] != new["not_null"]:
        statements.append(f"ALTER DOMAIN {target} {'SET' if new['not_null'] else 'DROP'} NOT NULL")
    statements += [f"ALTER DOMAIN {target} ADD CONSTRAINT {quote(c)} {check}" for c, check in new["checks"].items()
                   if old["checks"].get(c) != check]
    return statements


def _returns(definition: str) -> str:
    match = re.search(r"^\s*RETURNS\s+(.*)$", definition, re.MULTILINE)
    return match.group(1).strip() if match else ""


def _drop_extras(new: dict, old: dict) -> list[str]:
    statements = [f"DROP FUNCTION {signature}" for signature in old.get("functions", {})
                  if signature not in new.get("functions", {})]
    statements += [f"DROP SEQUENCE {quote(n)}" for n in old.get("sequences", {}) if n not in new.get("sequences", {})]
    statements += [f"DROP DOMAIN {quote(n)}" for n in old.get("domains", {}) if n not in new.get("domains", {})]
    statements += [f"DROP TYPE {quote(n)}" for n in old.get("enums", {}) if n not in new.get("enums", {})]
    return statements


def _changed_domains_and_enums(new: dict, old: dict) -> list[str]:
    """Domains redefined and enums changed other than by appending: not planned, only reported."""
    notes = [f"domain {n} changed its base type: alter it by hand" for n, v in new.get("domains", {}).items()
             if n in old.get("domains", {}) and old["domains"][n]["type"] != v["type"]]
    for name, labels in new.get("enums", {}).items():
        before = old.get("enums", {}).get(name)
        if before is not None and labels[: len(before)] != before:
            notes.append(f"enum {name} changed other than by appending values: alter it by hand")
    return notes


# -- planning -----------------------------------------------------------------------------
def plan_diff(diff: d.Diff) -> Plan:
    """The operations that carry out ``diff`` on PostgreSQL."""
    current, desired = diff.current.options, diff.desired.options
    operations = []
    create = _create_extras(desired, current)
    if create:
        operations.append(_create_extras_operation(create, desired, current))
    for change in views_in_dependency_order(_with_views_recreated(diff)):
        operation = _plan_change(change)
        if operation is not None:
            operations.append(operation)
    drop = _drop_extras(desired, current)
    if drop:
        operations.append(Operation("drop types, sequences and functions", drop, _create_extras(current, desired)))
    notes = [f"{c.question.removesuffix(' [y/N]')} Not assumed; if it was, add {c.hint}" for c in diff.unconfirmed]
    return Plan(operations=operations, notes=notes + _changed_domains_and_enums(desired, current))


def _create_extras_operation(create: list[str], desired: dict, current: dict) -> Operation:
    """Create types/sequences/functions; the reverse drops them and puts changed functions back."""
    reverse = _drop_extras(current, desired)
    reverse += _function_sql({s: f for s, f in current.get("functions", {}).items() if s in desired.get("functions", {})},
                             desired.get("functions", {}))
    reverse += [s for name, domain in current.get("domains", {}).items() if name in desired.get("domains", {})
                for s in _domain_sql(name, domain, desired["domains"][name])]
    appended = [n for n, labels in desired.get("enums", {}).items()
                if n in current.get("enums", {}) and labels != current["enums"][n]]
    return Operation("create types, sequences and functions", create, reverse,
                     lossy_reverse=f"values added to enum(s) {', '.join(appended)} cannot be removed" if appended else "")


def views_in_dependency_order(changes: list) -> list:
    """Views created after the views they read, and dropped before them."""
    creates = [c for c in changes if isinstance(c, d.CreateView)]
    drops = [c for c in changes if isinstance(c, d.DropView)]
    ordered_creates = _order_views(creates)
    ordered_drops = list(reversed(_order_views(drops)))
    result, created, dropped = [], iter(ordered_creates), iter(ordered_drops)
    for change in changes:
        if isinstance(change, d.CreateView):
            result.append(next(created))
        elif isinstance(change, d.DropView):
            result.append(next(dropped))
        else:
            result.append(change)
    return result


def _order_views(changes: list) -> list:
    """Topological order: a view after every other view of ``changes`` its SQL names."""
    pending, ordered = list(changes), []
    while pending:
        names = {c.view.name.lower() for c in pending}
        ready = [c for c in pending if not any(
            other != c.view.name.lower() and _mentions(c.view, other) for other in names)]
        ready = ready or pending[:1]  # a cycle cannot be ordered; keep going
        ordered += ready
        pending = [c for c in pending if c not in ready]
    return ordered


def _with_views_recreated(diff: d.Diff) -> list:
    """Unchanged views that stand on something the diff reshapes are dropped first and recreated after.

    A view cannot outlive a column type change or drop under it, nor a view it reads being
    dropped and recreated.
    """
    reshaped = {c.name.lower() for c in diff.changes if isinstance(c, d.AlterTable)
                and (c.dropped or any(a.type != b.type for a, b in c.altered))}
    disturbed = reshaped | {c.view.name.lower() for c in diff.changes if isinstance(c, d.DropView)}
    touched = {c.view.name.lower() for c in diff.changes if isinstance(c, (d.DropView, d.CreateView))}
    unchanged = [v for v in diff.desired.views if diff.current.view(v.name) == v and v.name.lower() not in touched]
    keep = []
    while True:
        more = [v for v in unchanged if v not in keep and any(_mentions(v, name) for name in disturbed)]
        if not more:
            break
        keep += more
        disturbed |= {v.name.lower() for v in more}
    return [d.DropView(v) for v in keep] + list(diff.changes) + [d.CreateView(v) for v in keep]


def _mentions(view, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", view.sql.split(" AS", 1)[-1].lower()) is not None


def _plan_change(change) -> Operation | None:
    if isinstance(change, d.CreateTable):
        return Operation(f"create table {change.table.name}", create_table_sql(change.table),
                         [f"DROP TABLE {quote(change.table.name)}"])
    if isinstance(change, d.DropTable):
        return Operation(f"drop table {change.table.name}", [f"DROP TABLE {quote(change.table.name)}"],
                         create_table_sql(change.table), destructive=True,
                         lossy_reverse=f"the rows of table {change.table.name} are not brought back")
    if isinstance(change, d.RenameTable):
        return Operation(f"rename table {change.old} to {change.new}",
                         [f"ALTER TABLE {quote(change.old)} RENAME TO {quote(change.new)}"],
                         [f"ALTER TABLE {quote(change.new)} RENAME TO {quote(change.old)}"])
    if isinstance(change, d.AlterTable):
        return plan_alter_table(change)
    if isinstance(change, d.CreateIndex):
        return Operation(f"create index {change.index.name}", [create_index_sql(change.index)],
                         [f"DROP INDEX {quote(change.index.name)}"])
    if isinstance(change, d.DropIndex):
        return Operation(f"drop index {change.index.name}", [f"DROP INDEX {quote(change.index.name)}"],
                         [create_index_sql(change.index)])
    return _plan_view_or_trigger(change)


def _plan_view_or_trigger(change) -> Operation:
    if isinstance(change, d.CreateView):
        return Operation(f"create view {change.view.name}", _view_sql(change.view), [_drop_view_sql(change.view)])
    if isinstance(change, d.DropView):
        return Operation(f"drop view {change.view.name}", [_drop_view_sql(change.view)], _view_sql(change.view))
    drop = f"DROP TRIGGER {quote(change.trigger.name)} ON {quote(change.trigger.table)}"
    if isinstance(change, d.CreateTrigger):
        return Operation(f"create trigger {change.trigger.name}", [change.trigger.sql], [drop])
    if isinstance(change, d.DropTrigger):
        return Operation(f"drop trigger {change.trigger.name}", [drop], [change.trigger.sql])
    raise TypeError(f"unknown change {change!r}")


# -- altering one table -------------------------------------------------------------------
def plan_alter_table(change: d.AlterTable) -> Operation:
    """Native ALTER TABLE statements both ways; flags for drops, rewrites and lossy reverses."""
    lossy = ", ".join(f"{change.name}.{c}" for c in change.lossy_down)
    dropped = [c.name for c in change.dropped]
    return Operation(
        description=change.describe(),
        sql=alter_table_sql(change),
        reverse=alter_table_sql(change.inverse()),
        destructive=bool(dropped),
        rewrites_table=any(_rewrites(a.type, b.type) for a, b in change.altered) or bool(change.up_values),
        lossy_reverse=(f"no reverse conversion for {lossy}" if lossy else "")
        or (f"dropped column(s) {', '.join(change.name + '.' + c for c in dropped)} come back empty" if dropped else ""),
    )


def _rewrites(old: str, new: str) -> bool:
    if old == new:
        return False
    return (old.split("(")[0], new.split("(")[0]) not in NO_REWRITE


def alter_table_sql(change: d.AlterTable) -> list[str]:
    """The statements that turn ``change.old`` into ``change.new``."""
    table = quote(change.old.name)
    old_items, new_items = _constraint_map(change.old, change.renamed), _constraint_map(change.new, {})
    statements = [f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}" for name, item in old_items.items()
                  if new_items.get(name) != item]
    statements += [f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}" for name in _exclusions_out(change)]
    statements += _column_changes(change, table)
    for column in change.added:
        statements += _add_column(change, table, column)
    statements += [f"ALTER TABLE {table} DROP COLUMN {quote(c.name)}" for c in change.dropped]
    statements += [f"ALTER TABLE {table} RENAME COLUMN {quote(o)} TO {quote(n)}" for o, n in change.renamed.items()]
    for name, item in new_items.items():
        if old_items.get(name) != item:
            statements += _add_constraint_validated(change.new.name, item)
    new_exclusions = change.new.options.get("exclusion_constraints", {})
    statements += [f"ALTER TABLE {table} ADD CONSTRAINT {quote(n)} {new_exclusions[n]}" for n in _exclusions_in(change)]
    return statements + _comments(change.new, _renamed_table(change.old, change.renamed))


def _exclusions_out(change: d.AlterTable) -> list[str]:
    old, new = change.old.options.get("exclusion_constraints", {}), change.new.options.get("exclusion_constraints", {})
    return [n for n in old if new.get(n) != old[n]]


def _exclusions_in(change: d.AlterTable) -> list[str]:
    old, new = change.old.options.get("exclusion_constraints", {}), change.new.options.get("exclusion_constraints", {})
    return [n for n in new if old.get(n) != new[n]]


def _constraint_map(table: Table, renamed: dict[str, str]) -> dict[str, object]:
    """Constraints by name, their column lists as they read after ``renamed`` (PostgreSQL follows renames)."""
    def swap(names):
        return tuple(renamed.get(n, n) for n in names)

    items = {}
    for item in _constraints(table):
        if isinstance(item, Check):
            items[item.name] = item
        else:
            items[item.name] = replace(item, columns=swap(item.columns))
    return items


def _renamed_table(table: Table, renamed: dict[str, str]) -> Table:
    return replace(table, columns=tuple(replace(c, name=renamed.get(c.name, c.name)) for c in table.columns))


def _add_constraint_validated(table: str, item) -> list[str]:
    """FKs and CHECKs: NOT VALID, then VALIDATE (a lighter lock for the scan) unless meant to stay NOT VALID."""
    if not isinstance(item, (ForeignKey, Check)) or item.options.get("not_valid"):
        return [_add_constraint(table, item)]
    return [_add_constraint(table, replace(item, options={**item.options, "not_valid": True})),
            f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(item.name)}"]


def _column_changes(change: d.AlterTable, table: str) -> list[str]:
    """Type, value, default, identity and NULL changes of kept columns, named as before any rename."""
    statements, not_null, identity = [], [], []
    for old, new in change.altered:
        column = quote(old.name)
        value = change.up_values.get(new.name)
        if old.generated != new.generated or old.generated_stored != new.generated_stored:
            statements += [f"ALTER TABLE {table} DROP COLUMN {column}",
                           f"ALTER TABLE {table} ADD COLUMN {column_sql(replace(new, name=old.name))}"]
            continue
        if old.default != new.default and old.default is not None:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT")
        if old.options.get("identity") and old.options.get("identity") != new.options.get("identity"):
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} DROP IDENTITY")
        if old.type != new.type or old.collation != new.collation:
            using = value if value is not None else _cast(column, old.type, new.type)
            collate = f" COLLATE {quote(new.collation)}" if new.collation else ""
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {new.type}{collate} USING {using}")
        elif value is not None:
            statements.append(f"UPDATE {table} SET {column} = {value}")
        if new.default is not None and old.default != new.default:
            statements.append(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {new.default}")
        if old.nullable != new.nullable:
            not_null.append(f"ALTER TABLE {table} ALTER COLUMN {column} {'DROP' if new.nullable else 'SET'} NOT NULL")
        if new.options.get("identity") and old.options.get("identity") != new.options.get("identity"):
            # An identity column must already be NOT NULL.
            identity.append(f"ALTER TABLE {table} ALTER COLUMN {column} ADD GENERATED {new.options['identity']} AS IDENTITY")
    return statements + not_null + identity


def _cast(column: str, old: str, new: str) -> str:
    """``col::new``; to or from a user type (enum, domain) by way of text, which every type reads and prints."""
    user_type = not old.isupper() or not new.isupper()
    return f"{column}::text::{new}" if user_type else f"{column}::{new}"


def _add_column(change: d.AlterTable, table: str, column: Column) -> list[str]:
    """ADD COLUMN; a column filled from the old row is added nullable, filled, then made NOT NULL."""
    value = change.up_values.get(column.name)
    if value is None:
        return [f"ALTER TABLE {table} ADD COLUMN {column_sql(column)}"]
    statements = [f"ALTER TABLE {table} ADD COLUMN {column_sql(replace(column, nullable=True))}",
                  f"UPDATE {table} SET {quote(column.name)} = {value}"]
    if not column.nullable:
        statements.append(f"ALTER TABLE {table} ALTER COLUMN {quote(column.name)} SET NOT NULL")
    return statements
