"""Schemas that SQLite accepts but read oddly, found by the lint fuzzer's draft path
(tests/lint/test_lint_fuzz.py): the inspector reads them as SQLite does, and a drafted down
brings them back exactly."""

from __future__ import annotations

import sqlite3

import pytest

from dbshift.drafting.draft import draft_schemas
from dbshift.drafting.sources import schema_from_sql
from dbshift.errors import ConfigError
from dbshift.inspectors.sqlite import inspect_sqlite


@pytest.mark.parametrize(
    "declared, type_, generated",
    [
        ("x GENERATED", "X GENERATED", None),  # GENERATED and ALWAYS are words of a type name to SQLite
        ("int GENERATED ALWAYS ASc(1)", "INT GENERATED ALWAYS ASC (1)", None),
        ("integer GENERATED ALWAYS AS (c + 1)", "INTEGER", "c + 1"),
        ("AS (c * 2) STORED", "", "c * 2"),
    ],
)
def test_a_column_whose_type_name_holds_generated_is_read_as_sqlite_reads_it(declared, type_, generated):
    column = schema_from_sql(f"CREATE TABLE t (c integer, g {declared});").tables[0].columns[1]
    assert (column.type, column.generated) == (type_, generated)


def test_an_index_on_a_quoted_name_no_column_has_comes_back_the_same_after_a_drafted_down():
    current_sql = (
        'CREATE TABLE users (id int, email text, "a.b" int);\n'
        'CREATE INDEX by_string ON users ("no such column");\n'  # SQLite indexes the string 'no such column'
        'CREATE INDEX mixed ON users ("a.b" DESC, "z\'z", email);\n'
        'CREATE INDEX empty ON users ("");\n'
    )
    desired_sql = 'CREATE TABLE users (id int, email text, "a.b" int);\n'
    current = schema_from_sql(current_sql)
    keys = {index.name: [(k.column, k.expression) for k in index.keys] for index in current.tables[0].indexes}
    assert keys == {
        "by_string": [(None, '"no such column"')],
        "mixed": [("a.b", None), (None, '"z\'z"'), ("email", None)],
        "empty": [(None, '""')],
    }
    draft = draft_schemas(current, schema_from_sql(desired_sql))
    connection = sqlite3.connect(":memory:")
    connection.executescript(current_sql)
    connection.executescript(draft.plan.up_sql())
    connection.executescript(draft.plan.down_sql())
    assert inspect_sqlite(connection) == current


def test_a_nul_in_schema_text_is_an_error_naming_its_line():
    with pytest.raises(ConfigError, match=r"^schema\.sql:2: a NUL byte"):
        schema_from_sql("CREATE TABLE a (x int);\nCREATE TABLE b (y\x00 int);\n", origin="schema.sql")


def test_a_type_sqlite_keeps_cut_in_half_is_read_by_lint_apply_diff_and_verify(project):
    """SQLite stores a type written ``[a] é`` one byte short, cutting é in half: reading it as text
    failed ("Could not decode to UTF-8"), an internal error in lint, apply, diff and verify."""
    from cli_inprocess import run_dbshift
    from conftest import write_migration

    up = (
        "CREATE TABLE t (id INTEGER PRIMARY KEY, typ [br] NOT\ufeff NULL, b [x]é);\nINSERT INTO t VALUES (1, 'v', 'é');"
    )
    write_migration(project, 20260101000000, "t", up, "DROP TABLE t;")
    project.hash()
    root = str(project.config.root)
    for argv in (["lint"], ["apply"], ["diff", "--from", "db", "--to", "migrations"], ["verify"], ["inspect"]):
        result = run_dbshift("-C", root, *argv)
        assert result.returncode == 0 and "internal error" not in result.output, (argv, result.output)
    columns = {c.name: c.type for c in schema_from_sql(up).tables[0].columns}
    assert columns["typ"].startswith("BR ] NOT") and columns["b"].startswith("X ]")
    assert sqlite3.connect(project.config.root / "app.db").execute("SELECT typ, b FROM t").fetchall() == [("v", "é")]
