"""Rolling back what `dbshift diff` drafted: a table rebuild that brings every column back is a
lossless revert; one that would leave a column out, or a rebuild written by hand, needs --force."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift.errors import SafetyRefusal

ORDERS = "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount_cents INTEGER NOT NULL, status TEXT NOT NULL);"
ROWS = [(1, 1999, "new"), (2, 5, "paid"), (3, 0, "new")]


def shop_with_orders(project):
    write_migration(project, 20260101000000, "orders", ORDERS, "DROP TABLE orders;")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", ROWS)
    return project


def orders(project) -> list[tuple]:
    with sqlite3.connect(project.config.root / "app.db") as conn:
        return conn.execute("SELECT * FROM orders ORDER BY id").fetchall()


def draft(project, desired: str):
    (project.config.root / "schema.sql").write_text(desired)
    return project.diff(name="change")


def test_a_drafted_rebuild_that_keeps_every_column_rolls_back_without_force(project):
    shop_with_orders(project)
    # A new CHECK needs a table rebuild on SQLite, both ways; no column is added or lost.
    result = draft(project, ORDERS.replace("status TEXT NOT NULL", "status TEXT NOT NULL CHECK (status <> '')"))
    assert "-- lossless-down" in result.path.read_text()
    project.hash()
    project.apply()

    steps = project.rollback(steps=1).steps  # no --force, no question
    assert [s.migration.name for s in steps] == ["change"]
    assert orders(project) == ROWS


def test_the_rollback_plan_calls_a_drafted_lossless_rebuild_a_lossless_table_rebuild(project):
    shop_with_orders(project)
    draft(project, ORDERS.replace("status TEXT NOT NULL", "status TEXT NOT NULL CHECK (status <> '')"))
    project.hash()
    project.apply()
    step = project.rollback_plan(to=20260101000000).steps[0]
    assert step.verdict == "rebuild" and step.rebuilds == ["orders"]


def test_a_drafted_rebuild_that_adds_a_column_still_needs_force_to_roll_back(project):
    shop_with_orders(project)
    desired = ORDERS.replace("status TEXT NOT NULL", "status TEXT NOT NULL CHECK (status <> ''), note TEXT")
    result = draft(project, desired)
    assert "-- lossless-down" not in result.path.read_text()
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("UPDATE orders SET note = 'call first' WHERE id = 1")

    with pytest.raises(SafetyRefusal, match="drops or deletes data"):
        project.rollback(steps=1)
    assert [row[3] for row in orders(project)] == ["call first", None, None]
    step = project.rollback_plan(to=20260101000000).steps[0]
    assert step.verdict == "lossy"  # the rebuild's copy leaves orders.note out: the plan names it
    assert [loss.describe() for loss in step.losses] == ["column orders.note (1 row(s) with data)"]


def test_a_rebuild_written_by_hand_needs_force_to_roll_back(project):
    shop_with_orders(project)
    rebuild = """
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, amount_cents INTEGER NOT NULL);
INSERT INTO orders_new SELECT id, amount_cents FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
"""
    write_migration(project, 20260102000000, "noop", "SELECT 1;", rebuild)
    project.hash()
    project.apply()

    with pytest.raises(SafetyRefusal):
        project.rollback(steps=1)
    project.rollback(steps=1, force=True)
    assert orders(project) == [(1, 1999), (2, 5), (3, 0)]
