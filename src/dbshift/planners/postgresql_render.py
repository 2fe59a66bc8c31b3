"""PostgreSQL SQL for the schema model: column, constraint, table, index and comment statements.

Rendering only, no planning: :mod:`postgresql` decides what changes and in which order, and
writes them with these functions (so do :mod:`postgresql_rebuild` and the other planners' helpers).
"""

from __future__ import annotations

from dataclasses import replace

from dbshift.planners import postgresql_sequences as column_sequences
from dbshift.planners.operations import foreign_key_sql as shared_foreign_key_sql
from dbshift.planners.postgresql_objects import literal, quote
from dbshift.schema import diff as d
from dbshift.schema.model import (
    Check,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    Trigger,
    Unique,
)

SERIAL_TYPES = {"INTEGER": "SERIAL", "BIGINT": "BIGSERIAL", "SMALLINT": "SMALLSERIAL"}


def quoted_names(names) -> str:
    """Names quoted and joined with commas: ``"a", "b"``."""
    return ", ".join(quote(n) for n in names)


def column_sql(column: Column, table: Table | None = None, sequences: dict | None = None) -> str:
    """One column definition (serial columns of a new table as SERIAL, unless the sequence is a
    standalone one of ``sequences`` that the column only draws from)."""
    type_, default = column.type, column.default
    standalone = table is not None and sequence_name(table.name, column.name).strip('"') in (sequences or {})
    serial = is_serial(column, table.name) or column_sequences.kind(column) == "serial" if table is not None else False
    if serial and column.type in SERIAL_TYPES and not standalone:
        type_, default = SERIAL_TYPES[column.type], None
    words = [quote(column.name), type_]
    if column.collation:
        words.append(f"COLLATE {quote(column.collation)}")
    if "identity" in column.options:
        words.append(column_sequences.identity_clause(column, table.name if table is not None else None))
    if column.generated is not None:
        words.append(f"GENERATED ALWAYS AS ({column.generated}) STORED")
    if not column.nullable:
        words.append("NOT NULL")
    if default is not None:
        words.append(f"DEFAULT {default}")
    return " ".join(words)


def is_serial(column: Column, table: str) -> bool:
    """The column is a SERIAL: an integer whose default is the next value of its own sequence."""
    expected = f"nextval('{sequence_name(table, column.name)}'::regclass)"
    return column.type in SERIAL_TYPES and column.default == expected


def sequence_name(table: str, column: str) -> str:
    """The name PostgreSQL gives a serial column's sequence, quoted where it needs to be."""
    name = f"{table}_{column}_seq"
    return quote(name) if not name.islower() or not name.replace("_", "").isalnum() else name


def foreign_key_sql(key: ForeignKey) -> str:
    """``CONSTRAINT name FOREIGN KEY (...) REFERENCES t (...) [actions] [DEFERRABLE ...]``."""
    return shared_foreign_key_sql(key, quote)


def constraint_sql(item) -> str:
    """A table constraint clause (primary key, unique, check or foreign key)."""
    if isinstance(item, ForeignKey):
        return foreign_key_sql(item)
    named = f"CONSTRAINT {quote(item.name)} " if item.name else ""
    if isinstance(item, PrimaryKey):
        return named + f"PRIMARY KEY ({quoted_names(item.columns)})" + _key_index_sql(item.options)
    if isinstance(item, Unique):
        deferrable = item.options.get("deferrable")
        nulls = " NULLS NOT DISTINCT" if item.options.get("nulls_not_distinct") else ""
        return (
            named
            + f"UNIQUE{nulls} ({quoted_names(item.columns)})"
            + _key_index_sql(item.options)
            + (f" {deferrable}" if deferrable else "")
        )
    return named + f"CHECK ({item.expression})" + (" NO INHERIT" if item.options.get("no_inherit") else "")


def _key_index_sql(options: dict) -> str:
    """`` INCLUDE (...)`` and `` WITH (...)`` of a primary key's or UNIQUE constraint's index."""
    include = f" INCLUDE ({quoted_names(options['include'])})" if options.get("include") else ""
    return include + storage_sql(options.get("storage"))


def storage_sql(storage: dict | None) -> str:
    """`` WITH (fillfactor='70', ...)``: a table's or index's storage parameters, or ''."""
    if not storage:
        return ""
    return " WITH (" + ", ".join(f"{name}={literal(value)}" for name, value in storage.items()) + ")"


def storage_changes(table: str, old: dict, new: dict) -> list[str]:
    """ALTER TABLE ... SET (...) / RESET (...) for the table's storage parameters that change."""
    old, new = old.get("storage") or {}, new.get("storage") or {}
    statements = []
    if any(old.get(k) != v for k, v in new.items()):
        statements.append(
            f"ALTER TABLE {quote(table)} SET ("
            + ", ".join(f"{k}={literal(v)}" for k, v in new.items() if old.get(k) != v)
            + ")"
        )
    if any(k not in new for k in old):
        statements.append(f"ALTER TABLE {quote(table)} RESET ({', '.join(k for k in old if k not in new)})")
    return statements


def table_constraints(table: Table) -> list:
    """The table's primary key, UNIQUE constraints, CHECKs and foreign keys, in that order."""
    return (
        ([table.primary_key] if table.primary_key else [])
        + list(table.uniques)
        + list(table.checks)
        + list(table.foreign_keys)
    )


def create_table_sql(table: Table, with_foreign_keys: bool = True, schema: Schema | None = None) -> list[str]:
    """CREATE TABLE (constraints inline; NOT VALID ones added after), indexes and comments.

    A table that inherits (``INHERITS``) leaves out the columns and CHECKs its parents in
    ``schema`` give it, and then sets the defaults and NOT NULLs where it differs from them; a
    partition (``PARTITION OF``) takes every column from its parent.
    """
    parents = _parents(table, schema)
    inherited = {c.name: c for p in reversed(parents) for c in p.columns}
    inherited_checks = {c.name for p in parents for c in p.checks if not c.options.get("no_inherit")}
    inline = [
        c
        for c in table_constraints(table)
        if not c.options.get("not_valid")
        and (with_foreign_keys or not isinstance(c, ForeignKey))
        and not (isinstance(c, Check) and c.name in inherited_checks)
    ]
    partition_of = table.options.get("partition_of")
    standalone = schema.options.get("sequences", {}) if schema is not None else {}
    parts = [] if partition_of else [column_sql(c, table, standalone) for c in table.columns if c.name not in inherited]
    parts += [constraint_sql(c) for c in inline]
    parts += [
        f"CONSTRAINT {quote(n)} {definition}"
        for n, definition in table.options.get("exclusion_constraints", {}).items()
    ]
    body = " (\n  " + ",\n  ".join(parts) + "\n)" if parts or not partition_of else ""
    if partition_of:
        sql = f"CREATE TABLE {quote(table.name)} PARTITION OF {quote(partition_of)}{body} {table.options['partition_bound']}"
    else:
        sql = f"CREATE TABLE {quote(table.name)}{body}"
    if table.options.get("inherits"):
        sql += f" INHERITS ({quoted_names(table.options['inherits'])})"
    if table.options.get("partition_by"):
        sql += f" PARTITION BY {table.options['partition_by']}"
    sql += storage_sql(table.options.get("storage"))
    not_valid = [
        c
        for c in table_constraints(table)
        if c.options.get("not_valid") and not (isinstance(c, Check) and c.name in inherited_checks)
    ]
    statements = [sql] + _inherited_column_fixes(table, inherited) + row_security_sql(table.name, {}, table.options)
    statements += [
        s
        for c in table.columns
        if c.name not in inherited
        and column_sequences.kind(c) == "serial"
        and c.type in SERIAL_TYPES
        and sequence_name(table.name, c.name).strip('"') not in standalone
        for s in column_sequences.serial_settings_sql(table.name, c)
    ]
    statements += [add_constraint_sql(table.name, c) for c in not_valid]
    statements += [s for i in table.indexes for s in index_sql(i)]
    statements += table_comments_sql(table, None)
    return statements + [s for c in inline + not_valid for s in constraint_comment_sql(table.name, c)]


def parent_names(table: Table) -> list[str]:
    """The tables ``table`` inherits from or is a partition of."""
    partition_of = table.options.get("partition_of")
    return list(table.options.get("inherits", [])) + ([partition_of] if partition_of else [])


def _parents(table: Table, schema: Schema | None) -> list[Table]:
    if schema is None:
        return []
    return [p for p in (schema.table(name) for name in parent_names(table)) if p is not None]


def _inherited_column_fixes(table: Table, inherited: dict[str, Column]) -> list[str]:
    """Defaults and NOT NULLs of inherited columns where the child differs from its parent."""
    statements = []
    for column in table.columns:
        parent = inherited.get(column.name)
        if parent is None:
            continue
        target = f"ALTER TABLE ONLY {quote(table.name)} ALTER COLUMN {quote(column.name)}"
        if column.default != parent.default:
            statements.append(
                f"{target} SET DEFAULT {column.default}" if column.default is not None else f"{target} DROP DEFAULT"
            )
        if not column.nullable and parent.nullable:
            statements.append(f"{target} SET NOT NULL")
    return statements


def row_security_sql(table: str, old: dict, new: dict) -> list[str]:
    """ENABLE/DISABLE and FORCE/NO FORCE ROW LEVEL SECURITY where the table options ``new`` differ from ``old``."""
    statements = []
    for option, on, off in (("row_security", "ENABLE", "DISABLE"), ("force_row_security", "FORCE", "NO FORCE")):
        if bool(old.get(option)) != bool(new.get(option)):
            statements.append(f"ALTER TABLE {quote(table)} {on if new.get(option) else off} ROW LEVEL SECURITY")
    return statements


def add_constraint_sql(table: str, item) -> str:
    """``ALTER TABLE ... ADD`` the constraint (``NOT VALID`` when it is)."""
    suffix = " NOT VALID" if item.options.get("not_valid") else ""
    return f"ALTER TABLE {quote(table)} ADD {constraint_sql(item)}{suffix}"


def table_comments_sql(new: Table, old: Table | None) -> list[str]:
    """COMMENT ON the table and its columns where ``new`` differs from ``old`` (None: a new table)."""
    statements = []
    if new.options.get("comment") != (old.options.get("comment") if old else None):
        statements.append(f"COMMENT ON TABLE {quote(new.name)} IS {_comment_value(new.options.get('comment'))}")
    for column in new.columns:
        before = old.column(column.name) if old else None
        if column.options.get("comment") != (before.options.get("comment") if before else None):
            statements.append(
                f"COMMENT ON COLUMN {quote(new.name)}.{quote(column.name)} IS "
                f"{_comment_value(column.options.get('comment'))}"
            )
    return statements


def _comment_value(text: str | None) -> str:
    return "NULL" if text is None else literal(text)


def comment_on_constraint_sql(table: str, name: str, comment: str | None) -> str:
    """COMMENT ON CONSTRAINT (``None``: remove the comment)."""
    return f"COMMENT ON CONSTRAINT {quote(name)} ON {quote(table)} IS {_comment_value(comment)}"


def constraint_comment_sql(table: str, item) -> list[str]:
    """The comment of a constraint just added, if it has one."""
    comment = item.options.get("comment")
    return [comment_on_constraint_sql(table, item.name, comment)] if comment is not None else []


def constraint_comments_sql(change: d.AlterTable, recreated: set[str]) -> list[str]:
    """Comments of the table's constraints (foreign keys apart) that change, or that go with a constraint
    added or re-added (``recreated``: names)."""
    before = {c.name: c for c in table_constraints(change.old)}
    statements = []
    for item in table_constraints(change.new):
        if isinstance(item, ForeignKey) or item.name is None:
            continue
        was = before.get(item.name)
        if was is None or item.name in recreated:
            statements += constraint_comment_sql(change.new.name, item)
        elif was.options.get("comment") != item.options.get("comment"):
            statements.append(comment_on_constraint_sql(change.new.name, item.name, item.options.get("comment")))
    return statements


def uncommented(item):
    """``item`` (a constraint, index, view or trigger) without its comment: what its definition is."""
    if item is None or "comment" not in item.options:
        return item
    return replace(item, options={k: v for k, v in item.options.items() if k != "comment"})


def comment_sql(item, comment: str | None) -> str:
    """COMMENT ON an index, view or trigger."""
    if isinstance(item, Index):
        target = f"INDEX {quote(item.name)}"
    elif isinstance(item, Trigger):
        target = f"TRIGGER {quote(item.name)} ON {quote(item.table)}"
    else:
        target = f"{'MATERIALIZED VIEW' if item.options.get('materialized') else 'VIEW'} {quote(item.name)}"
    return f"COMMENT ON {target} IS {_comment_value(comment)}"


def with_comment(item, statements: list[str]) -> list[str]:
    """The statements that create ``item``, then its comment if it has one."""
    comment = item.options.get("comment")
    return statements + ([comment_sql(item, comment)] if comment is not None else [])


def index_sql(index: Index) -> list[str]:
    """CREATE INDEX and the index's comment."""
    return with_comment(index, [create_index_sql(index)])


def create_index_sql(index: Index, concurrently: bool = False) -> str:
    """``CREATE INDEX`` with method, keys (and their operator classes), INCLUDE and WHERE."""
    keys = []
    opclasses = index.options.get("opclasses") or [None] * len(index.keys)
    parameters = index.options.get("opclass_parameters") or [None] * len(index.keys)
    for key, opclass, given in zip(index.keys, opclasses, parameters):
        text = quote(key.column) if key.column is not None else f"({key.expression})"
        if key.collation:
            text += f" COLLATE {quote(key.collation)}"
        text += f" {opclass}" if opclass else ""
        text += f" ({', '.join(f'{k}={literal(v)}' for k, v in given.items())})" if given else ""
        keys.append(text + (" DESC" if key.descending else ""))
    method = index.options.get("method")
    sql = (
        f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {'CONCURRENTLY ' if concurrently else ''}{quote(index.name)} "
        f"ON {quote(index.table)}{f' USING {method}' if method else ''} ({', '.join(keys)})"
    )
    if index.options.get("include"):
        sql += f" INCLUDE ({quoted_names(index.options['include'])})"
    sql += " NULLS NOT DISTINCT" if index.options.get("nulls_not_distinct") else ""
    sql += storage_sql(index.options.get("storage"))
    return sql + (f" WHERE {index.where}" if index.where else "")


def drop_view_sql(view) -> str:
    """DROP VIEW or DROP MATERIALIZED VIEW."""
    kind = "MATERIALIZED VIEW" if view.options.get("materialized") else "VIEW"
    return f"DROP {kind} {quote(view.name)}"


def view_sql(view) -> list[str]:
    """The view's CREATE statement and its comment."""
    return with_comment(view, [view.sql])


def parents_first(tables: list[Table]) -> list[Table]:
    """``tables`` with every table after the tables it inherits from (otherwise in the given order)."""
    names = {t.name for t in tables}
    ordered, placed, pending = [], set(), list(tables)
    while pending:
        ready = next((t for t in pending if all(p in placed or p not in names for p in parent_names(t))), pending[0])
        ordered.append(ready)
        placed.add(ready.name)
        pending.remove(ready)
    return ordered
