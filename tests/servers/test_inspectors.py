"""Inspectors on the real servers: pg_catalog and information_schema -> the neutral schema model."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbshift.dialects import open_database
from dbshift.inspectors import inspect
from dbshift.schema.model import Schema
from dbshift.urls import parse_url
from servers.conftest import create_database, drop_database

DATA = Path(__file__).parent / "data"


def load_and_inspect(url: str, sql: str) -> Schema:
    db = open_database(parse_url(url))
    try:
        for statement in db.split_script(sql):
            db.execute(statement.sql)
        return inspect(db)
    finally:
        db.close()


def test_postgresql_inspector_reads_the_catalog(pg_url):
    schema = load_and_inspect(pg_url, (DATA / "postgresql_rich.sql").read_text())
    authors, books = schema.table("authors"), schema.table("books")
    assert authors.column("tags").type == "TEXT[]" and authors.column("feeling").type == "mood"
    assert authors.column("feeling").default == "'ok'::mood" and authors.primary_key.autoincrement
    assert (
        authors.column("name").options == {"comment": "full name"} and authors.options["comment"] == "people who write"
    )
    assert books.column("id").options["identity"] == "ALWAYS" and books.column("pages").type == "posint"
    assert books.column("title").type == "CHARACTER VARYING(200)" and not books.column("title").nullable
    assert (
        books.column("title_lower").generated == "lower(title::text)" and books.column("title_lower").generated_stored
    )
    fk = books.foreign_keys[0]
    assert (fk.columns, fk.ref_table, fk.on_delete, fk.deferrable) == (
        ("author_id",),
        "authors",
        "CASCADE",
        "DEFERRABLE INITIALLY DEFERRED",
    )
    checks = {c.name: c for c in books.checks}
    assert checks["books_price_check"].expression == "price >= 0::numeric" and checks["pages_small"].options == {
        "not_valid": True
    }
    assert [u.columns for u in books.uniques] == [("author_id", "title")]
    indexes = {i.name: i for i in books.indexes + authors.indexes}
    assert (
        indexes["books_lower"].keys[0].expression == "lower(title::text)" and indexes["books_lower"].keys[0].descending
    )
    assert indexes["books_lower"].where == "pages::integer > 10"
    assert indexes["books_tags"].options == {"method": "gin"} and indexes["books_cover"].options == {
        "include": ["title"]
    }
    assert {v.name: v.options.get("materialized", False) for v in schema.views} == {"counts": True, "long_books": False}
    assert schema.trigger("books_touch").sql.startswith("CREATE TRIGGER books_touch BEFORE UPDATE ON books")
    assert schema.options["enums"] == {"mood": ["sad", "ok", "happy"]}
    assert schema.options["domains"] == {
        "posint": {
            "type": "integer",
            "not_null": False,
            "default": None,
            "checks": {"posint_check": "CHECK (VALUE > 0)"},
        }
    }
    assert list(schema.options["sequences"]) == ["invoice_numbers"] and "touch()" in schema.options["functions"]
    assert schema.table("dbshift_history") is None


def test_mysql_inspector_reads_information_schema(my_url):
    schema = load_and_inspect(my_url, (DATA / "mysql_rich.sql").read_text())
    authors, books = schema.table("authors"), schema.table("books")
    assert authors.options["engine"] == "InnoDB" and authors.options["comment"] == "people"
    assert authors.primary_key.autoincrement and authors.column("mood").type == "ENUM('sad','ok')"
    assert authors.column("mood").default == "'ok'" and authors.column("score").default == "1.50"
    assert authors.column("note").default is None and authors.column("created").options["on_update"]
    assert books.column("title").collation == "utf8mb4_bin"
    assert books.column("title_len").generated and not books.column("title_len").generated_stored
    assert books.column("title_upper").generated_stored
    assert {c.name for c in books.checks} >= {"pages_small"}
    fk = books.foreign_keys[0]
    assert (fk.name, fk.columns, fk.ref_table, fk.on_delete, fk.on_update) == (
        "fk_author",
        ("author_id",),
        "authors",
        "CASCADE",
        "SET NULL",
    )
    assert [u.name for u in books.uniques] == ["title_author"]
    indexes = {i.name: i for i in books.indexes}
    assert indexes["ft"].options == {"type": "FULLTEXT"} and indexes["title_prefix"].options == {
        "prefix": {"title": 10}
    }
    assert "`books`" in schema.view("long_books").sql and "dbshift_t_" not in schema.view("long_books").sql
    assert schema.trigger("books_bi").table == "books"


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_the_same_sql_in_two_databases_inspects_equal(dialect, request):
    base = request.getfixturevalue("postgres_url" if dialect == "postgresql" else "mysql_url")
    sql = (DATA / f"{dialect}_rich.sql").read_text()
    first, second = create_database(base), create_database(base)
    try:
        assert load_and_inspect(first, sql) == load_and_inspect(second, sql)
    finally:
        drop_database(base, first)
        drop_database(base, second)


def _databases(db) -> set[str]:
    if db.dialect == "postgresql":
        return {r[0] for r in db.execute("SELECT datname FROM pg_database")}
    return {r[0] for r in db.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")}


def test_a_desired_state_runs_in_a_scratch_database_dropped_afterwards_even_on_error(server_url):
    # Only the scratch databases' own names are checked: other sessions may create and drop theirs meanwhile.
    db = open_database(parse_url(server_url))
    try:
        before = _databases(db)
        with db.empty_scratch() as scratch:
            first = scratch.url.database
            assert first not in before and first in _databases(db) and scratch.user_tables() == []
            scratch.execute("CREATE TABLE wanted (id INTEGER PRIMARY KEY, note VARCHAR(20) NOT NULL)")
            desired = inspect(scratch)
        assert [c.name for c in desired.table("wanted").columns] == ["id", "note"]
        assert first not in _databases(db) and db.user_tables() == []
        with pytest.raises(ZeroDivisionError):
            with db.empty_scratch() as scratch:
                second = scratch.url.database
                scratch.execute("CREATE TABLE t (x INTEGER)")
                1 / 0
        assert second not in _databases(db)
    finally:
        db.close()


def test_postgresql_inspector_reads_inheritance_partitions_aggregates_and_rules(pg_url):
    schema = load_and_inspect(
        pg_url,
        """
        CREATE TABLE events (id integer NOT NULL, at date NOT NULL, CONSTRAINT positive CHECK (id > 0),
                             CONSTRAINT parent_only CHECK (id < 1000) NO INHERIT);
        CREATE TABLE events_2026 (note text, CONSTRAINT in_2026 CHECK (at >= '2026-01-01')) INHERITS (events);
        CREATE RULE events_route AS ON INSERT TO events WHERE new.at >= '2026-01-01'
            DO INSTEAD INSERT INTO events_2026 (id, at) VALUES (new.id, new.at);
        CREATE TABLE logs (id integer PRIMARY KEY, day date) PARTITION BY LIST (id);
        CREATE TABLE logs_one PARTITION OF logs FOR VALUES IN (1);
        CREATE INDEX logs_day ON logs (day);
        CREATE FUNCTION longer(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT a || b $$;
        CREATE AGGREGATE concat_all(text) (SFUNC = longer, STYPE = text, INITCOND = '');
    """,
    )
    child = schema.table("events_2026")
    assert child.options["inherits"] == ["events"] and child.column_names == ("id", "at", "note")
    assert {c.name for c in child.checks} == {"positive", "in_2026"}, "inherited CHECKs show, NO INHERIT ones do not"
    assert {c.name: c.options for c in schema.table("events").checks} == {
        "parent_only": {"no_inherit": True},
        "positive": {},
    }
    assert schema.options["rules"]["events"]["events_route"].startswith("CREATE RULE events_route AS")
    assert schema.table("logs").options == {"partition_by": "LIST (id)"}
    partition = schema.table("logs_one")
    assert partition.options == {"partition_of": "logs", "partition_bound": "FOR VALUES IN (1)"}
    assert partition.primary_key is None and partition.indexes == (), "the parent's key and index are the parent's"
    assert [i.name for i in schema.table("logs").indexes] == ["logs_day"]
    assert schema.options["aggregates"] == {
        "concat_all(text)": "CREATE AGGREGATE concat_all(text) (SFUNC = longer, STYPE = text, INITCOND = '')"
    }
