"""Branch switching and the CI check on PostgreSQL and MariaDB (real servers, own databases)."""

import json

import pytest

from cli_inprocess import run_dbshift
from dbshift import Project
from servers.conftest import create_database, drop_database
from teams.conftest import Repo
from value_oracle import assert_same_values, fill_with_edge_values, snapshot


@pytest.fixture(params=["postgresql", "mysql"])
def server_repo(request, tmp_path, monkeypatch):
    """A project on a new database of each server, in a git repository."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    base = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    url = create_database(base)
    try:
        yield Repo(Project.init(tmp_path, url))
    finally:
        drop_database(base, url)


def test_a_branch_round_trip_keeps_every_value_and_check_passes(server_repo):
    repo, root = server_repo, str(server_repo.root)
    repo.migration(
        20260101000000,
        "add_customers",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100), balance BIGINT);",
        "DROP TABLE customers;",
    )
    (repo.root / "schema.sql").write_text(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100), balance BIGINT);\n"
    )
    repo.commit("customers")
    repo.project.apply()
    with repo.project.connect() as db:
        fill_with_edge_values(
            db,
            "customers",
            [("id", "INTEGER", False), ("name", "VARCHAR(100)", True), ("balance", "BIGINT", True)],
            key="id",
        )
        db.commit()
        before = snapshot(db, ["customers"])
    repo.git("checkout", "-q", "-b", "feature")
    repo.migration(
        20260102000000,
        "add_phone",
        "ALTER TABLE customers ADD COLUMN phone VARCHAR(40);",
        "ALTER TABLE customers DROP COLUMN phone;",
    )
    (repo.root / "schema.sql").write_text(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(100), balance BIGINT, phone VARCHAR(40));\n"
    )
    repo.commit("phone")
    checked = run_dbshift("-C", root, "check", "--format", "json")
    assert checked.returncode == 0, checked.output
    assert json.loads(checked.stdout)["ok"] is True
    repo.project.apply()
    repo.git("checkout", "-q", "main")
    synced = run_dbshift("-C", root, "sync", "--force")
    assert synced.returncode == 0, synced.output
    assert [a.version for a in repo.project.status().applied] == [20260101000000]
    with repo.project.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db, ["customers"]))
