"""Generated names (quotes, spaces, unicode) and comments around statements never hide nor
invent an effect: each dialect's analyser names exactly the table and column the statement
drops or deletes from, and finds nothing in strings or comments. PostgreSQL and MySQL are read
by their parsers; SQLite runs each statement on a copy of a database holding that table."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbshift.analysis import ColumnRef, TableName, analyse, analyser_for
from dbshift.dialects import open_database
from dbshift.urls import parse_url

DIALECTS = ("sqlite", "postgresql", "mysql")
SCARY = ["DROP TABLE t", "DELETE FROM t", "ALTER TABLE t DROP COLUMN c", "; DROP TABLE t;", "TRUNCATE t", "'", '"', "`"]

names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10).filter(
    lambda n: n.strip() == n and n.strip() and not n.lower().startswith("sqlite_") and n.lower() != "id"
)
comment_texts = st.one_of(
    st.sampled_from(SCARY), st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
)


def quote(dialect: str, name: str) -> str:
    mark = "`" if dialect == "mysql" else '"'
    return mark + name.replace(mark, mark * 2) + mark


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@st.composite
def comments(draw, dialect: str) -> str:
    """Zero to three comments (line or block), as the dialect writes them, around a statement."""
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        text = draw(comment_texts).replace("\n", " ")
        if draw(st.booleans()):
            parts.append(f"-- {text}\n")
        else:
            parts.append("/* " + text.replace("*/", "* /").lstrip("!M") + " */ ")
    return "".join(parts)


def effects_of(dialect: str, table: str, column: str, sql: str):
    """The statement's effects; on SQLite, read on a database holding ``table`` with ``column``."""
    if dialect != "sqlite":
        return analyse(dialect, sql)
    db = open_database(parse_url("sqlite:///:memory:"))
    try:
        db.execute(
            f"CREATE TABLE {quote(dialect, table)} (id INTEGER PRIMARY KEY, {quote(dialect, column)} TEXT, other TEXT)"
        )
        with analyser_for(db) as analyser:
            return analyser.statement(sql)
    finally:
        db.close()


@pytest.mark.parametrize("sql_dialect", DIALECTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), table=names, column=names)
def test_a_dropped_column_is_named_exactly_whatever_surrounds_it(sql_dialect, data, table, column):
    dialect = sql_dialect
    if table.lower() == column.lower() or column.lower() == "other":
        return
    sql = (
        data.draw(comments(dialect))
        + f"ALTER TABLE {quote(dialect, table)} DROP COLUMN {quote(dialect, column)}"
        + data.draw(comments(dialect))
    )
    effects = effects_of(dialect, table, column, sql)
    assert effects.unreadable is None, sql
    assert effects.drops_columns == [ColumnRef(TableName(table), column)], sql
    assert not (effects.drops or effects.deletes or effects.truncates), sql


@pytest.mark.parametrize("sql_dialect", DIALECTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), table=names, column=names)
def test_a_dropped_table_and_a_delete_are_named_exactly(sql_dialect, data, table, column):
    dialect = sql_dialect
    if column.lower() == "other":
        return
    before = data.draw(comments(dialect))
    drop = effects_of(dialect, table, column, before + f"DROP TABLE {quote(dialect, table)}")
    assert [d.table for d in drop.drops] == [TableName(table)]
    delete = effects_of(
        dialect, table, column, before + f"DELETE FROM {quote(dialect, table)} WHERE {quote(dialect, column)} = 'x'"
    )
    assert [(d.table, d.countable) for d in delete.deletes] == [(TableName(table), True)]
    assert not delete.drops and not delete.drops_columns


@pytest.mark.parametrize("sql_dialect", DIALECTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), table=names, column=names, text=comment_texts)
def test_strings_and_comments_invent_no_effect(sql_dialect, data, table, column, text):
    dialect = sql_dialect
    if column.lower() == "other":
        return
    sql = (
        data.draw(comments(dialect))
        + f"UPDATE {quote(dialect, table)} SET {quote(dialect, column)} = {literal(text)}"
        + data.draw(comments(dialect))
    )
    effects = effects_of(dialect, table, column, sql)
    assert effects.unreadable is None, sql
    assert not effects.removes_data, sql
    assert effects.updates == [TableName(table)]


def test_postgresql_folds_unquoted_names_and_keeps_quoted_ones():
    effects = analyse("postgresql", 'DROP TABLE Orders, "Orders", app.Items')
    assert [d.table for d in effects.drops] == [TableName("orders"), TableName("Orders"), TableName("items", "app")]


def test_mysql_reads_backticks_and_partitions():
    effects = analyse("mysql", "ALTER TABLE `sa``les` DROP PARTITION p2023, `p 2024`")
    assert [(p.table, p.partitions) for p in effects.drops_partitions] == [(TableName("sa`les"), ("p2023", "p 2024"))]
    assert analyse("mysql", "/*!40101 DROP TABLE t */").unreadable
    assert analyse("mysql", "CALL purge()").unreadable


def test_the_analysis_module_loads_no_parser_until_asked():
    import subprocess
    import sys

    code = (
        "import sys, dbshift.analysis, dbshift.safety.plan; "
        "print(sorted(m for m in ('pglast', 'sqlglot') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
