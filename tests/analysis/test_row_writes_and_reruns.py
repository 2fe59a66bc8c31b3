"""What the analysers tell about rows written and about running a statement twice, read by each
dialect's own parser: the columns an UPDATE or an upsert writes, MERGE and COPY as writes, a type
change's full type and whether its USING is a plain cast, and why a second run would fail."""

from __future__ import annotations

from dbshift.analysis import analyse_script
from dbshift.analysis.effects import ColumnRef, TableName

USERS = TableName("users")


def _read(dialect: str, *statements: str):
    return analyse_script(dialect, list(statements)).statements


def test_postgresql_merge_upsert_and_copy_write_rows_and_name_the_updated_columns():
    merge, upsert, copy, copy_out = _read(
        "postgresql",
        "MERGE INTO users u USING staged s ON u.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name "
        "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name) WHEN NOT MATCHED BY SOURCE THEN DELETE",
        'INSERT INTO users VALUES (1) ON CONFLICT (id) DO UPDATE SET "e mail" = excluded."e mail"',
        "COPY users FROM STDIN",
        "COPY users TO STDOUT",
    )
    assert (merge.updates, merge.inserts, [d.countable for d in merge.deletes]) == ([USERS], [USERS], [False])
    assert merge.updates_columns == [ColumnRef(USERS, "name")]
    assert (upsert.inserts, upsert.updates, upsert.updates_columns) == ([USERS], [USERS], [ColumnRef(USERS, "e mail")])
    assert (copy.inserts, copy_out.inserts) == ([USERS], [])


def test_mysql_upsert_and_update_name_the_columns_they_write():
    upsert, update = _read(
        "mysql",
        "INSERT INTO users VALUES (1, 'a') ON DUPLICATE KEY UPDATE `na me` = VALUES(`na me`)",
        "UPDATE users SET name = upper(name), email = NULL WHERE id = 1",
    )
    assert (upsert.updates, upsert.updates_columns) == ([USERS], [ColumnRef(USERS, "na me")])
    assert update.updates_columns == [ColumnRef(USERS, "name"), ColumnRef(USERS, "email")]


def test_sqlite_reports_the_updated_columns_and_the_added_ones():
    _, added, update = _read(
        "sqlite",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
        'ALTER TABLE users ADD COLUMN "ni ck" text',
        'UPDATE users SET "ni ck" = name',
    )
    assert [(c.kind, c.name, c.type_name) for c in added.changes] == [("add_column", "ni ck", "text")]
    assert update.updates_columns == [ColumnRef(USERS, "ni ck")]


def test_a_type_change_carries_its_full_type_and_whether_using_is_only_a_cast():
    [statement] = _read(
        "postgresql",
        'ALTER TABLE "Odd T" ALTER COLUMN a TYPE numeric(10,2) USING a::numeric(10,2), '
        "ALTER COLUMN b TYPE varchar(10), ALTER COLUMN c TYPE integer USING round(c)::integer",
    )
    changes = [(c.name, c.type_sql, c.type_args, c.has("custom_using")) for c in statement.changes]
    assert changes == [
        ("a", "numeric(10, 2)", (10, 2), False),
        ("b", "varchar(10)", (10,), False),
        ("c", "integer", (), True),
    ]
    [modify] = _read("mysql", "ALTER TABLE t MODIFY price DECIMAL(10,2) UNSIGNED NOT NULL")
    [change] = modify.changes
    assert (change.type_sql, change.type_args) == ("DECIMAL(10, 2) UNSIGNED", (10, 2))


def test_each_parser_says_why_a_statement_fails_when_run_a_second_time():
    pg = _read(
        "postgresql",
        "CREATE TABLE t (a int)",
        "CREATE TABLE IF NOT EXISTS t (a int)",
        "CREATE TEMP TABLE z (a int)",
        "CREATE INDEX ON t (a)",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)",
        'DROP TABLE "we ird"',
        "DROP INDEX CONCURRENTLY IF EXISTS i",
        "ALTER TABLE t ADD COLUMN b int, DROP COLUMN IF EXISTS c",
        "ALTER TABLE t RENAME COLUMN a TO b",
    )
    assert [s.repeat_fails for s in pg] == [
        ["CREATE TABLE t without IF NOT EXISTS"],
        [],
        [],
        [],  # an unnamed index gets a new name
        ["CREATE INDEX CONCURRENTLY i without DROP INDEX CONCURRENTLY IF EXISTS before it"],
        ["DROP TABLE we ird without IF EXISTS"],
        [],
        ["ADD COLUMN b without IF NOT EXISTS"],
        ["RENAME of a (the old name is gone when it runs again)"],
    ]
    my = _read(
        "mysql",
        "CREATE TABLE t (a INT)",
        "CREATE TEMPORARY TABLE z (a INT)",
        "DROP INDEX IF EXISTS i ON t",
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS b INT, DROP COLUMN c",
    )
    assert [s.repeat_fails for s in my] == [
        ["CREATE TABLE t without IF NOT EXISTS"],
        [],
        [],
        ["DROP COLUMN c without IF EXISTS"],
    ]
    lite = _read(
        "sqlite",
        "CREATE TABLE t (a int)",
        "CREATE TABLE IF NOT EXISTS t (a int)",
        "ALTER TABLE t ADD COLUMN b int",
        "INSERT INTO t VALUES (1, 2)",
        "DROP TABLE t",
    )
    assert [s.repeat_fails for s in lite] == [
        ["running it again fails: table t already exists"],
        [],
        ["running it again fails: duplicate column name: b"],
        [],
        ["running it again fails: no such table: t"],
    ]
