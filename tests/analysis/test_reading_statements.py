"""What the analysers report for single statements: renames are not losses, a trigger's delete
is one, cascades count, and a statement that would run away on the SQLite copy stops there."""

from __future__ import annotations

import time

from dbshift.analysis import (
    ColumnRef,
    Rename,
    TableName,
    analyse,
    analyse_script,
    analyser_for,
)
from dbshift.dialects import open_database
from dbshift.urls import parse_url


def sqlite_with(schema: str):
    db = open_database(parse_url("sqlite:///:memory:"))
    db.connection.executescript(schema)
    return db


def test_a_renamed_column_is_a_rename_and_a_dropped_one_a_loss_on_sqlite():
    db = sqlite_with("CREATE TABLE users (id INTEGER PRIMARY KEY, phone TEXT, email TEXT);")
    script = analyse_script(
        db, ["ALTER TABLE users RENAME COLUMN phone TO mobile;", "ALTER TABLE users DROP COLUMN email;"]
    )
    renamed, dropped = script.statements
    assert renamed.renames == [Rename(TableName("users"), "mobile", column="phone")] and not renamed.removes_data
    assert dropped.drops_columns == [ColumnRef(TableName("users"), "email")]


def test_a_delete_made_by_a_trigger_counts_on_sqlite():
    db = sqlite_with(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY);\nCREATE TABLE purge (id INTEGER);\n"
        "CREATE TRIGGER purge_orders AFTER INSERT ON purge BEGIN DELETE FROM orders WHERE id = new.id; END;"
    )
    effects = analyse(db, "INSERT INTO purge VALUES (1);")
    assert [(d.table, d.by_trigger, d.countable) for d in effects.deletes] == [
        (TableName("orders"), "purge_orders", False)
    ]


def test_a_statement_that_runs_away_on_the_copy_is_unreadable_not_a_hang():
    started = time.monotonic()
    effects = analyse(
        "sqlite", "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
    )
    assert effects.unreadable and "interrupted" in effects.unreadable
    assert time.monotonic() - started < 10


def test_cascades_and_opaque_statements_count_as_losses_on_postgresql():
    assert analyse("postgresql", "DROP SCHEMA app CASCADE").other_losses == [
        "schema app and everything that uses it (CASCADE)"
    ]
    truncate = analyse("postgresql", "TRUNCATE orders, users CASCADE")
    assert truncate.truncates == [TableName("orders"), TableName("users")] and truncate.other_losses
    assert analyse("postgresql", "CALL archive_orders()").unreadable
    assert not analyse("postgresql", "DROP INDEX orders_status; DROP VIEW recent").removes_data


def test_a_server_rebuild_is_a_drop_plus_a_rename_it_cannot_prove():
    with analyser_for("mysql") as analyser:
        script = analyser.script(
            [
                "CREATE TABLE t_new (id INT)",
                "INSERT INTO t_new SELECT id FROM t",
                "DROP TABLE t",
                "RENAME TABLE t_new TO t",
            ]
        )
    assert [(r.table, r.proven) for r in script.rebuilds] == [(TableName("t"), False)]


def test_mysql_partition_and_event_changes_that_keep_rows_are_not_losses():
    keeping = [
        "ALTER TABLE sales ADD PARTITION (PARTITION p2025 VALUES LESS THAN (2026));",
        "ALTER TABLE sales REORGANIZE PARTITION pmax INTO (PARTITION p1 VALUES LESS THAN (10), "
        "PARTITION pmax VALUES LESS THAN MAXVALUE)",
        "ALTER TABLE sales COALESCE PARTITION 2",
        "ALTER TABLE sales REMOVE PARTITIONING;",
        # an event's or trigger's body is the application's logic, run later (like a function's)
        "CREATE EVENT purge ON SCHEDULE EVERY 1 DAY DO DELETE FROM sales WHERE amount < 0",
        "DROP EVENT purge;",
        "CREATE TRIGGER fill BEFORE INSERT ON sales FOR EACH ROW SET NEW.amount = 1",
    ]
    assert [s for s in keeping if analyse("mysql", s).removes_data] == []
    assert [p.partitions for p in analyse("mysql", "ALTER TABLE `sales` DROP PARTITION `p2024`;").drops_partitions] == [
        ("p2024",)
    ]
    assert analyse("mysql", "ALTER TABLE sales EXCHANGE PARTITION p1 WITH TABLE old_sales").unreadable


def test_turning_on_writable_schema_on_sqlite_is_unreadable():
    assert analyse("sqlite", "PRAGMA writable_schema = ON").unreadable
    assert not analyse("sqlite", "PRAGMA foreign_keys = ON").removes_data


def test_a_server_rebuild_through_a_table_set_aside_is_a_rebuild_too():
    with analyser_for("postgresql") as analyser:
        script = analyser.script(
            [
                "ALTER TABLE readings RENAME TO readings__dbshift_old",
                "CREATE TABLE readings (id int, value int)",
                "INSERT INTO readings SELECT id, value FROM readings__dbshift_old",
                "DROP TABLE readings__dbshift_old",
            ]
        )
    assert [(r.table, r.proven) for r in script.rebuilds] == [(TableName("readings"), False)]
    assert script.rebuilt(script.statements[-1].drops[0])
