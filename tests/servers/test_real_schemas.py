"""Real schemas (Chinook, Sakila) on the real servers: inspect, render, re-apply, inspect again: equal."""

from __future__ import annotations

import re

import pytest

from dbshift.dialects import open_database
from dbshift.inspectors import inspect
from dbshift.planners import planner_for
from dbshift.urls import parse_url
from servers.conftest import create_database, drop_database

#: Lines of the upstream scripts that pick or recreate the database itself (psql's \c, USE, and
#: MySQL's CREATE/DROP SCHEMA, which are CREATE/DROP DATABASE there: Sakila's script would drop
#: and leave behind a database named sakila on the server).
DATABASE_LINES = re.compile(r"^\s*((DROP|CREATE)\s+(DATABASE|SCHEMA)|\\c\s|USE\s)[^\n]*$", re.IGNORECASE | re.MULTILINE)

SCHEMAS = [
    ("postgresql", "chinook/schema-only/Chinook_PostgreSql.schema.sql"),
    ("postgresql", "chinook/schema-only/Chinook_PostgreSql_AutoIncrementPKs.schema.sql"),
    ("postgresql", "chinook/schema-only/Chinook_PostgreSql_SerialPKs.schema.sql"),
    ("postgresql", "sakila/postgres-sakila-schema.sql"),
    ("mysql", "chinook/schema-only/Chinook_MySql.schema.sql"),
    ("mysql", "chinook/schema-only/Chinook_MySql_AutoIncrementPKs.schema.sql"),
    ("mysql", "sakila/mysql-sakila-schema.sql"),
]


def load(url: str, sql: str) -> None:
    db = open_database(parse_url(url))
    try:
        # The upstream Sakila script names its own database (`sakila.film`); ours has another name.
        for statement in db.split_script(DATABASE_LINES.sub("", sql).replace("sakila.", "")):
            db.execute(statement.sql)
    finally:
        db.close()


def inspect_url(url: str):
    db = open_database(parse_url(url))
    try:
        return inspect(db)
    finally:
        db.close()


@pytest.mark.parametrize("dialect,path", SCHEMAS, ids=[p.rsplit("/", 1)[-1] for _, p in SCHEMAS])
def test_a_real_schema_inspects_renders_and_reapplies_to_the_same_schema(dialect, path, corpus, request):
    base = request.getfixturevalue("postgres_url" if dialect == "postgresql" else "mysql_url")
    original_url, copy_url = create_database(base), create_database(base)
    try:
        load(original_url, (corpus / "schemas" / path).read_text())
        original = inspect_url(original_url)
        assert len(original.tables) >= 11
        load(copy_url, "\n".join(s.rstrip(";") + ";" for s in planner_for(dialect).schema_sql(original)))
        assert inspect_url(copy_url) == original
    finally:
        drop_database(base, original_url)
        drop_database(base, copy_url)
