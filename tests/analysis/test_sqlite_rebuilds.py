"""SQLite table rebuilds are judged by what their copy really carries, as SQLite reads it: a
drafted migration whose down drops ``users.phone`` next to a rebuild is LOSSY naming that column;
a rebuild that copies every column as it is rolls back without --force even without the
``-- lossless-down`` header; one that leaves a column out names it; one that converts values
needs the header (dbshift's promise) or --force."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift.errors import SafetyRefusal

pytestmark = pytest.mark.dialects("sqlite")

V1, V2 = 20260101000000, 20260102000000
START = (
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL);"
)
ORDERS = [(1, 1, "new"), (2, 2, "paid")]


def values(project, sql: str) -> list[tuple]:
    with sqlite3.connect(project.config.root / "app.db") as conn:
        return conn.execute(sql).fetchall()


def shop(project):
    write_migration(project, V1, "start", START, "DROP TABLE orders;\nDROP TABLE users;")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.executemany("INSERT INTO users (id, name) VALUES (?, ?)", [(1, "ada"), (2, "bob")])
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", ORDERS)
    return project


def test_a_drafted_migration_whose_down_drops_users_phone_is_lossy_naming_it(project, run_cli):
    shop(project)
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, phone TEXT);\n"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL CHECK (status <> ''));"
    )
    drafted = project.diff(name="phone_and_check").path.read_text()
    assert "-- undo: alter table users: add column phone" in drafted  # the comment above the DROP COLUMN
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("UPDATE users SET phone = '+1 555 0100' WHERE id = 1")

    step = project.rollback_plan(to=V1).steps[0]
    assert step.verdict == "lossy"
    assert [loss.describe() for loss in step.losses] == ["column users.phone (1 row(s) with data)"]
    result = run_cli("rollback", cwd=project.config.root)
    assert result.returncode == 3 and "column users.phone" in result.stderr, result.output
    assert values(project, "SELECT id, phone FROM users ORDER BY id") == [(1, "+1 555 0100"), (2, None)]


def plain_rebuild(select: str) -> str:
    return (
        f"CREATE TABLE orders_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL);\n"
        f"INSERT INTO orders_new (id, user_id, status) {select};\n"
        "DROP TABLE orders;\n"
        "ALTER TABLE orders_new RENAME TO orders;"
    )


def rebuild_migration(project, down: str, header: str = "") -> None:
    up = (
        "CREATE TABLE orders_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL "
        "CHECK (status <> ''));\nINSERT INTO orders_new SELECT * FROM orders;\nDROP TABLE orders;\n"
        "ALTER TABLE orders_new RENAME TO orders;"
    )
    write_migration(project, V2, "rebuild", up, down, header=header)
    project.hash()
    project.apply()


def test_a_rebuild_that_copies_every_column_as_it_is_rolls_back_without_the_header(project):
    shop(project)
    rebuild_migration(project, plain_rebuild("SELECT id, user_id, status FROM orders"))
    step = project.rollback_plan(to=V1).steps[0]
    assert (step.verdict, step.rebuilds) == ("rebuild", ["orders"])
    project.rollback()  # no --force
    assert values(project, "SELECT * FROM orders ORDER BY id") == ORDERS


def test_a_rebuild_that_converts_values_needs_the_header_or_force(project):
    shop(project)
    rebuild_migration(project, plain_rebuild("SELECT id, user_id, upper(status) FROM orders"))
    assert project.rollback_plan(to=V1).steps[0].verdict == "unknown"
    with pytest.raises(SafetyRefusal, match="cannot see its copy bring every value back"):
        project.rollback()
    assert values(project, "SELECT * FROM orders ORDER BY id") == ORDERS


def test_a_converting_rebuild_dbshift_vouches_for_is_a_lossless_rebuild(project):
    shop(project)
    rebuild_migration(
        project, plain_rebuild("SELECT id, user_id, lower(status) FROM orders"), header="-- lossless-down\n"
    )
    assert project.rollback_plan(to=V1).steps[0].verdict == "rebuild"


def test_the_header_does_not_excuse_a_column_the_copy_leaves_out(project):
    shop(project)
    down = (
        "CREATE TABLE orders_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);\n"
        "INSERT INTO orders_new SELECT id, user_id FROM orders;\nDROP TABLE orders;\n"
        "ALTER TABLE orders_new RENAME TO orders;"
    )
    rebuild_migration(project, down, header="-- lossless-down\n")
    step = project.rollback_plan(to=V1).steps[0]
    assert step.verdict == "lossy"
    assert [loss.describe() for loss in step.losses] == ["column orders.status (2 row(s) with data)"]
    with pytest.raises(SafetyRefusal, match="column orders.status"):
        project.rollback()
    assert values(project, "SELECT * FROM orders ORDER BY id") == ORDERS


def test_a_rebuild_through_a_renamed_old_table_is_read_too(project):
    shop(project)
    down = (
        "ALTER TABLE orders RENAME TO orders_old;\n"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL);\n"
        "INSERT INTO orders SELECT id, user_id, status FROM orders_old;\nDROP TABLE orders_old;"
    )
    rebuild_migration(project, down)
    assert project.rollback_plan(to=V1).steps[0].verdict == "rebuild"
    project.rollback()
    assert values(project, "SELECT * FROM orders ORDER BY id") == ORDERS


def test_a_table_dropped_and_replaced_by_an_empty_one_loses_its_rows(project):
    shop(project)
    down = (
        "DROP TABLE orders;\n"
        "CREATE TABLE orders_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL);\n"
        "ALTER TABLE orders_new RENAME TO orders;"
    )
    rebuild_migration(project, down, header="-- lossless-down\n")
    step = project.rollback_plan(to=V1).steps[0]
    assert [loss.describe() for loss in step.losses] == ["table orders (2 row(s) with data)"]
