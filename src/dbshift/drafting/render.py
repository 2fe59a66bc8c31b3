"""Rendering a schema for people and tools: SQL (the dialect's CREATE statements), JSON, Mermaid."""

from __future__ import annotations

import json
import re

from dbshift.schema.model import Schema, Table

FORMATS = ("sql", "json", "mermaid")


def render(schema: Schema, fmt: str = "sql", dialect: str = "sqlite") -> str:
    """``schema`` as text in format ``fmt`` (sql, json or mermaid)."""
    if fmt == "json":
        return json.dumps(schema.to_json(), indent=2)
    if fmt == "mermaid":
        return to_mermaid(schema)
    from dbshift.planners import planner_for

    return "\n\n".join(s.rstrip(";") + ";" for s in planner_for(dialect).schema_sql(schema)) + "\n"


def to_mermaid(schema: Schema) -> str:
    """A Mermaid ``erDiagram``: tables with their columns, and one edge per foreign key."""
    lines = ["erDiagram"]
    for table in schema.tables:
        lines.append(f"    {_entity(table.name)} {{")
        lines += [f"        {_word(c.type or 'ANY')} {_word(c.name)}{_keys(table, c.name)}" for c in table.columns]
        lines.append("    }")
    for table in schema.tables:
        for key in table.foreign_keys:
            label = ",".join(key.columns)
            lines.append(f'    {_entity(key.ref_table)} ||--o{{ {_entity(table.name)} : "{label}"')
    return "\n".join(lines) + "\n"


def _keys(table: Table, column: str) -> str:
    marks = []
    if table.primary_key and column in table.primary_key.columns:
        marks.append("PK")
    if any(column in k.columns for k in table.foreign_keys):
        marks.append("FK")
    if any(u.columns == (column,) for u in table.uniques):
        marks.append("UK")
    return (" " + ", ".join(marks)) if marks else ""


def _entity(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) else f'"{name}"'


def _word(text: str) -> str:
    """Mermaid attribute types and names are single words."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "_"
