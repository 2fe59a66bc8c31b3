"""Adopting a database that was built without dbshift: baseline records it, later migrations apply on top."""

import json
import sqlite3

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from conftest import write_migration
from value_oracle import assert_same_values, snapshot

LEGACY = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total NUMERIC);
CREATE INDEX orders_customer ON orders(customer_id);
INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL);
INSERT INTO orders VALUES (10, 1, 12.5), (11, 2, 0.1);
"""


@pytest.fixture
def legacy(project):
    connection = sqlite3.connect(project.config.root / "app.db")
    connection.executescript(LEGACY)
    connection.close()
    return project


def test_baseline_records_the_existing_schema_without_running_anything(legacy):
    root = str(legacy.config.root)
    with legacy.connect(readonly=True) as db:
        before = snapshot(db)
    done = run_dbshift("-C", root, "--json", "baseline", "--version", "20250101000000")
    assert done.returncode == 0, done.output
    assert json.loads(done.stdout)["version"] == 20250101000000
    status = legacy.status()
    assert [a.version for a in status.applied] == [20250101000000] and status.pending == []
    assert status.sum_check.ok
    with legacy.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db))
    from dbshift.drafting.draft import draft_schemas
    from dbshift.drafting.sources import inspect_database, schema_from_migrations

    with legacy.connect(readonly=True) as db:
        live = inspect_database(db)
    rebuilt = schema_from_migrations(legacy.migrations())
    assert draft_schemas(rebuilt, live).empty  # a new database built from the baseline is the same


def test_later_migrations_apply_on_top(legacy):
    run_dbshift("-C", str(legacy.config.root), "baseline", "--version", "20250101000000")
    write_migration(
        legacy,
        20250102000000,
        "add_phone",
        "ALTER TABLE customers ADD COLUMN phone TEXT;",
        "ALTER TABLE customers DROP COLUMN phone;",
    )
    legacy.hash()
    assert [s.migration.name for s in legacy.apply().steps] == ["add_phone"]
    with legacy.connect(readonly=True) as db:
        assert db.execute("SELECT name, email FROM customers ORDER BY id") == [
            ("Ada", "ada@example.com"),
            ("Bob", None),
        ]


def test_a_database_that_has_history_is_refused(legacy):
    run_dbshift("-C", str(legacy.config.root), "baseline")
    files = sorted(p.name for p in legacy.config.migrations_dir.iterdir())
    again = run_dbshift("-C", str(legacy.config.root), "baseline")
    assert again.returncode == 3 and is_one_error_with_hint(again), again.output
    assert sorted(p.name for p in legacy.config.migrations_dir.iterdir()) == files


def test_a_version_not_older_than_the_folders_migrations_is_refused(legacy):
    write_migration(legacy, 20250102000000, "add_phone", "ALTER TABLE customers ADD COLUMN phone TEXT;")
    result = run_dbshift("-C", str(legacy.config.root), "baseline", "--version", "20250103000000")
    assert result.returncode == 3 and is_one_error_with_hint(result), result.output
    assert legacy.status().applied == []


def test_the_global_version_flag_still_prints_the_version(legacy):
    assert run_dbshift("--version").stdout.startswith("dbshift ")
    assert run_dbshift("status", "--version").stdout.startswith("dbshift ")
