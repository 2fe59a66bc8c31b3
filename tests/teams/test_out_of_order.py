"""Two branches each add a migration; the older one lands after the newer one was applied."""

import json

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from conftest import write_migration


@pytest.fixture
def late_migration(project):
    write_migration(
        project, 20260102000000, "add_orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY);", "DROP TABLE orders;"
    )
    project.hash()
    project.apply()
    write_migration(
        project, 20260101000000, "add_notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY);", "DROP TABLE notes;"
    )  # written on a branch merged later: older timestamp
    project.hash()
    return project


def _tables(project):
    with project.connect(readonly=True) as db:
        return sorted(
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'dbshift%'")
        )


def test_status_names_the_migration_that_is_out_of_order(late_migration):
    root = str(late_migration.config.root)
    shown = run_dbshift("-C", root, "status")
    assert "out of order: 20260101000000_add_notes.sql is older than the newest applied 20260102000000" in shown.stdout
    as_json = json.loads(run_dbshift("-C", root, "--json", "status").stdout)
    assert as_json["out_of_order"] == [{"version": 20260101000000, "file": "20260101000000_add_notes.sql"}]


def test_apply_refuses_it_and_changes_nothing(late_migration):
    refused = run_dbshift("-C", str(late_migration.config.root), "apply")
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert "20260101000000_add_notes.sql is older than the newest applied migration" in refused.stderr
    assert _tables(late_migration) == ["orders"]


def test_allow_out_of_order_applies_it(late_migration):
    done = run_dbshift("-C", str(late_migration.config.root), "apply", "--allow-out-of-order")
    assert done.returncode == 0, done.output
    assert _tables(late_migration) == ["notes", "orders"]


def test_the_setting_in_dbshift_toml_allows_it_too(late_migration):
    config = late_migration.config.config_file
    config.write_text(config.read_text().replace("[migrations]\n", "[migrations]\nout_of_order = true\n"))
    done = run_dbshift("-C", str(late_migration.config.root), "apply")
    assert done.returncode == 0, done.output
    assert _tables(late_migration) == ["notes", "orders"]


def test_a_setting_that_is_not_true_or_false_is_a_config_error(late_migration):
    config = late_migration.config.config_file
    config.write_text(config.read_text().replace("[migrations]\n", '[migrations]\nout_of_order = "yes"\n'))
    result = run_dbshift("-C", str(late_migration.config.root), "apply")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "out_of_order = 'yes' must be true or false" in result.stderr


def test_a_migration_that_depends_on_the_newer_one_is_not_out_of_order(project):
    write_migration(
        project, 20260102000000, "add_orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY);", "DROP TABLE orders;"
    )
    project.hash()
    project.apply()
    write_migration(
        project,
        20260101000000,
        "index_orders",
        "CREATE INDEX orders_id ON orders(id);",
        "DROP INDEX orders_id;",
        header="-- depends: 20260102000000\n",
    )
    project.hash()
    assert project.status().out_of_order == []
    assert [s.migration.name for s in project.apply().steps] == ["index_orders"]
