"""Data-aware findings: before a pending migration runs, lint counts on the live database the
rows its new NOT NULL or UNIQUE would reject and the values its drops would remove, naming
example keys; nothing on the database changes."""

from __future__ import annotations

import json

import pytest
from tests.conftest import write_migration

USERS = {
    "sqlite": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, email TEXT)",
    "postgresql": "CREATE TABLE users (id bigint PRIMARY KEY, name text, phone text, email text)",
    "mysql": "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(50), phone VARCHAR(50), email VARCHAR(100))",
}
ROWS = (
    "INSERT INTO users VALUES (1, 'ann', '555', 'a@x'), (2, 'bob', NULL, 'a@x'), (3, NULL, '777', 'c@x'), "
    "(4, NULL, NULL, NULL), (5, 'eve', NULL, NULL)"
)
SET_NOT_NULL = {
    "sqlite": None,
    "postgresql": "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
    "mysql": "ALTER TABLE users MODIFY name VARCHAR(50) NOT NULL;",
}


def _findings(run_cli) -> dict[str, list[str]]:
    result = run_cli("lint", "--format", "json")
    assert "Traceback" not in result.output
    found: dict[str, list[str]] = {}
    for f in json.loads(result.stdout)["findings"]:
        found.setdefault(f["code"], []).append(f["problem"])
    return found


def _project_with_users(tmp_path, url, dialect):
    from dbshift import Project

    project = Project.init(tmp_path, url)
    write_migration(project, 20260101000000, "users", USERS[dialect] + ";\n" + ROWS + ";", "DROP TABLE users;")
    return project


def _story(project, run_cli, dialect):
    tighten = "CREATE UNIQUE INDEX one_email ON users (email);\nALTER TABLE users DROP COLUMN phone;\n"
    tighten += "DELETE FROM users WHERE name IS NULL;\n" + (SET_NOT_NULL[dialect] or "")
    write_migration(project, 20260102000000, "tighten", tighten, "SELECT 1;")
    project.hash()
    assert run_cli("apply", "--to", "20260101000000").returncode == 0
    found = _findings(run_cli)
    assert found["duplicates-block-unique"] == [
        (
            "values of users (email) held by more than one row: 1 (e.g. 'a@x'): the unique index or constraint fails "
            "on the live database, halfway through its build"
        )
    ]
    assert sorted(found["data-dropped"]) == [
        "on the live database, this removes 2 rows of users (DELETE)",
        "on the live database, this removes 2 values of users.phone",
    ]
    if SET_NOT_NULL[dialect]:
        [nulls] = found["nulls-block-not-null"]
        assert nulls.startswith("rows of users with name NULL: 2 (id = 3, 4)")
    assert json.loads(run_cli("status", "--json").stdout)["current_version"] == 20260101000000  # nothing ran


def test_sqlite_counts_duplicates_and_removed_values_before_anything_runs(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _story(_project_with_users(tmp_path, "sqlite:///app.db", "sqlite"), run_cli, "sqlite")


@pytest.mark.parametrize("fresh_server_url", ["postgresql", "mysql"], indirect=True)
def test_servers_count_nulls_duplicates_and_removed_values_before_anything_runs(fresh_server_url, run_cli, tmp_path):
    dialect = "postgresql" if fresh_server_url.startswith("postgresql") else "mysql"
    _story(_project_with_users(tmp_path, fresh_server_url, dialect), run_cli, dialect)


def test_a_clean_table_gives_no_data_finding(project, run_cli):
    write_migration(
        project,
        20260101000000,
        "users",
        USERS["sqlite"] + ";\nINSERT INTO users VALUES (1, 'ann', NULL, 'a@x');",
        "DROP TABLE users;",
    )
    write_migration(
        project, 20260102000000, "unique", "CREATE UNIQUE INDEX one_email ON users (email);", "DROP INDEX one_email;"
    )
    project.hash()
    assert run_cli("apply", "--to", "20260101000000").returncode == 0
    found = _findings(run_cli)
    assert not {"duplicates-block-unique", "data-dropped", "nulls-block-not-null"} & set(found)


@pytest.mark.parametrize("fresh_server_url", ["postgresql", "mysql"], indirect=True)
def test_orphans_and_rows_failing_a_check_are_counted_with_their_keys(fresh_server_url, run_cli, tmp_path):
    from dbshift import Project

    dialect = "postgresql" if fresh_server_url.startswith("postgresql") else "mysql"
    project = Project.init(tmp_path, fresh_server_url)
    orders = (
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT, total INT);\n"
        "INSERT INTO orders VALUES (10, 1, 5), (11, 9, 7), (12, NULL, -3), (13, 8, -1), (14, 2, 0);"
    )
    write_migration(
        project,
        20260101000000,
        "users",
        USERS[dialect] + ";\n" + ROWS + ";\n" + orders,
        "DROP TABLE orders;\nDROP TABLE users;",
    )
    write_migration(
        project,
        20260102000000,
        "constraints",
        "ALTER TABLE orders ADD CONSTRAINT buyer FOREIGN KEY (user_id) REFERENCES users (id);\n"
        "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0);",
        "SELECT 1;",
    )
    project.hash()
    assert run_cli("apply", "--to", "20260101000000").returncode == 0
    found = sorted(_findings(run_cli)["rows-violate-constraint"])
    assert found[0].startswith("rows of orders failing CHECK (total >= 0): 2 (id = 12, 13)")
    assert found[1].startswith("rows of orders whose (user_id) has no match in users: 2 (id = 11, 13)")
