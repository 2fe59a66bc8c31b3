"""Real schemas: Chinook (with its data) and the two SQLite ports of Sakila; every value (with its
SQLite type) is compared by the value oracle after the up and after the down."""

from __future__ import annotations

import sqlite3

import pytest

from dbshift.dialects.sqlite import SQLiteDatabase
from dbshift.drafting.draft import draft_schemas
from dbshift.drafting.render import render
from dbshift.drafting.sources import inspect_database, schema_from_file, schema_from_sql
from dbshift.schema.diff import order_by_foreign_keys
from dbshift.urls import parse_url
from value_oracle import assert_same_values, snapshot

#: Sakila CHECK constraints need these values; every other column gets a value from its type.
SAKILA_VALUES = {"rating": "PG", "special_features": None}


def _load(path, script: str) -> SQLiteDatabase:
    db = SQLiteDatabase(parse_url(f"sqlite:///{path}"))
    db.connection.executescript(script)
    return db


def _run(db: SQLiteDatabase, script: str) -> None:
    db.begin()
    try:
        for statement in db.split_script(script):
            db.run_statement(statement.sql)
    except BaseException:
        db.rollback()
        raise
    db.commit()


def test_chinook_inspects_renders_and_reapplies_to_the_same_schema(corpus, tmp_path):
    """Chinook with its data: the rendered SQL builds exactly the inspected schema, in every format."""
    db = _load(tmp_path / "chinook.db", (corpus / "schemas/chinook/Chinook_Sqlite.sql").read_text(encoding="utf-8"))
    try:
        schema = inspect_database(db)
        assert len(schema.tables) == 11
        assert sum(len(t.indexes) for t in schema.tables) == 11
        assert schema_from_sql(render(schema, "sql")) == schema
        assert render(schema, "mermaid").count("||--o{") == sum(len(t.foreign_keys) for t in schema.tables)
        assert draft_schemas(schema, schema_from_sql(render(schema, "sql"))).empty
    finally:
        db.close()


def test_chinook_gains_autoincrement_keys_and_keeps_every_row_both_ways(corpus, tmp_path):
    """The diff to Chinook's AUTOINCREMENT variant rebuilds all 11 tables with their data, and back."""
    db = _load(tmp_path / "chinook.db", (corpus / "schemas/chinook/Chinook_Sqlite.sql").read_text(encoding="utf-8"))
    try:
        current = inspect_database(db)
        desired = schema_from_file(corpus / "schemas/chinook/schema-only/Chinook_Sqlite_AutoIncrementPKs.schema.sql")
        before = snapshot(db)
        draft = draft_schemas(current, desired)
        assert draft.plan.rewrites_tables and not draft.plan.destructive
        _run(db, draft.plan.up_sql())
        assert inspect_database(db) == desired
        assert_same_values(before, snapshot(db))
        _run(db, draft.plan.down_sql())
        assert inspect_database(db) == current
        assert_same_values(before, snapshot(db))
    finally:
        db.close()


def _fill(db: SQLiteDatabase, schema, rows: int = 3) -> None:
    """``rows`` rows per table, keys 1..rows, every foreign key pointing at an existing row."""
    for table in order_by_foreign_keys(list(schema.tables)):
        columns = [c for c in table.columns if c.generated is None]
        for n in range(1, rows + 1):
            values = [SAKILA_VALUES[c.name] if c.name in SAKILA_VALUES else _value(c.type, n) for c in columns]
            names = ", ".join(f'"{c.name}"' for c in columns)
            db.execute(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(columns))})', values)


def _value(declared: str, n: int):
    upper = declared.upper()
    if any(word in upper for word in ("INT", "NUMERIC", "DECIMAL", "REAL", "FLOAT", "DOUBLE")):
        return n
    if "DATE" in upper or "TIME" in upper:
        return f"2026-01-0{n} 10:00:00"
    if "BLOB" in upper:
        return bytes([n])
    return f"value {n}"


@pytest.mark.parametrize("direction", ["jooq_to_bradleygrant", "bradleygrant_to_jooq"])
def test_sakila_id_type_changes_apply_to_a_database_with_rows_and_keep_them(corpus, tmp_path, direction):
    """The two Sakila ports differ in id column types; the diff keeps every row, and the down restores them."""
    jooq = corpus / "schemas/sakila/sqlite-sakila-schema.sql"
    bradleygrant = corpus / "schemas/sakila-bradleygrant/sqlite-sakila-schema.sql"
    start, goal = (jooq, bradleygrant) if direction == "jooq_to_bradleygrant" else (bradleygrant, jooq)
    db = _load(tmp_path / "sakila.db", start.read_text(encoding="utf-8"))
    try:
        current = inspect_database(db)
        assert len(current.tables) == 16 and current.views and current.triggers
        _fill(db, current)
        assert db.execute("PRAGMA foreign_key_check") == []
        before = snapshot(db)
        desired = schema_from_file(goal)
        draft = draft_schemas(current, desired)
        assert not draft.plan.destructive
        _run(db, draft.plan.up_sql())
        assert inspect_database(db) == desired
        assert_same_values(before, snapshot(db))
        _run(db, draft.plan.down_sql())
        assert inspect_database(db) == current
        assert_same_values(before, snapshot(db))
    finally:
        db.close()


def test_the_sakila_rows_are_real_rows(corpus, tmp_path):
    """The filler above writes rows that satisfy Sakila's CHECKs and foreign keys."""
    db = _load(tmp_path / "sakila.db", (corpus / "schemas/sakila/sqlite-sakila-schema.sql").read_text(encoding="utf-8"))
    try:
        _fill(db, inspect_database(db))
        assert db.execute("SELECT count(*) FROM film") == [(3,)]
        assert db.execute("SELECT count(*) FROM payment") == [(3,)]
    finally:
        db.close()
    assert sqlite3.sqlite_version_info >= (3, 35)
