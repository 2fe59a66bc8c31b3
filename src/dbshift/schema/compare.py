"""Comparing two inspected schemas and saying, one line each, what differs.

``rehearse`` uses it to check that a rollback gave the original schema back: inspected schemas
compare what the database means (a rebuilt table's ``"id"`` and ``id`` are the same column), and
each difference is named (``t.v: type BIGINT -> REAL``), not just the table.
"""

from __future__ import annotations

from dataclasses import fields

from dbshift.schema.model import Column, Schema, Table


def schema_differences(before: Schema, after: Schema) -> list[str]:
    """Every difference between ``before`` and ``after``, one human-readable line each (empty: the same)."""
    names = before.names if before.dialect else after.names
    lines: list[str] = []
    old_tables = {names.table(t.name): t for t in before.tables}
    new_tables = {names.table(t.name): t for t in after.tables}
    lines += [f"table {old_tables[k].name} is gone" for k in old_tables if k not in new_tables]
    lines += [f"table {new_tables[k].name} appeared" for k in new_tables if k not in old_tables]
    for key, table in old_tables.items():
        if key in new_tables and table != new_tables[key]:
            lines += table_differences(table, new_tables[key], names.column, names.index)
    # Triggers by table and name: PostgreSQL lets two tables each have a trigger of one name.
    for kind, old_items, new_items, key_of in (
        ("view", before.views, after.views, lambda v: names.table(v.name)),
        ("trigger", before.triggers, after.triggers, lambda t: (names.table(t.table), names.table(t.name))),
    ):
        old_by = {key_of(i): i for i in old_items}
        new_by = {key_of(i): i for i in new_items}
        lines += [f"{kind} {old_by[k].name} is gone" for k in old_by if k not in new_by]
        lines += [f"{kind} {new_by[k].name} appeared" for k in new_by if k not in old_by]
        lines += [
            f"{kind} {old_by[k].name} changed: {old_by[k].sql!r} -> {new_by[k].sql!r}"
            for k in old_by
            if k in new_by and old_by[k] != new_by[k]
        ]
    return lines


def table_differences(old: Table, new: Table, column_key=str.lower, index_key=str.lower) -> list[str]:
    """What differs between two versions of one table: columns, keys, checks, indexes, options."""
    lines: list[str] = []
    old_columns = {column_key(c.name): c for c in old.columns}
    new_columns = {column_key(c.name): c for c in new.columns}
    lines += [f"{old.name}.{old_columns[k].name} is gone" for k in old_columns if k not in new_columns]
    lines += [f"{new.name}.{new_columns[k].name} appeared" for k in new_columns if k not in old_columns]
    for key, column in old_columns.items():
        if key in new_columns and column != new_columns[key]:
            lines += [f"{old.name}.{column.name}: {change}" for change in _field_changes(column, new_columns[key])]
        if key in new_columns and column.name != new_columns[key].name:
            lines.append(f"{old.name}.{column.name}: spelled {new_columns[key].name!r} now")
    kept_old = [column_key(c.name) for c in old.columns if column_key(c.name) in new_columns]
    kept_new = [column_key(c.name) for c in new.columns if column_key(c.name) in old_columns]
    if kept_old != kept_new:
        lines.append(f"{old.name}: column order {', '.join(kept_old)} -> {', '.join(kept_new)}")
    for label in ("primary_key", "uniques", "checks", "foreign_keys", "options"):
        if getattr(old, label) != getattr(new, label):
            lines.append(f"{old.name}: {label.replace('_', ' ')} {getattr(old, label)!r} -> {getattr(new, label)!r}")
    old_indexes = {index_key(i.name): i for i in old.indexes}
    new_indexes = {index_key(i.name): i for i in new.indexes}
    lines += [f"index {old_indexes[k].name} on {old.name} is gone" for k in old_indexes if k not in new_indexes]
    lines += [f"index {new_indexes[k].name} on {new.name} appeared" for k in new_indexes if k not in old_indexes]
    lines += [
        f"index {old_indexes[k].name} on {old.name} changed"
        for k in old_indexes
        if k in new_indexes and old_indexes[k] != new_indexes[k]
    ]
    return lines


def _field_changes(old: Column, new: Column) -> list[str]:
    """``type BIGINT -> REAL``, ``nullable True -> False``...: each attribute of a column that differs."""
    changes = []
    for field in fields(Column):
        if field.name == "name":
            continue
        a, b = getattr(old, field.name), getattr(new, field.name)
        if a != b:
            changes.append(f"{field.name} {a!r} -> {b!r}")
    return changes
