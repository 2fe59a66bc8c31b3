"""Squash on PostgreSQL and MariaDB: the scratch database is a temporary one on the server, and
the squashed file builds the same schema as the migrations it replaces (own databases, dropped)."""

import json

import pytest

from cli_inprocess import run_dbshift
from dbshift import Project
from dbshift.drafting import sources
from servers.conftest import create_database, drop_database
from teams.conftest import Repo
from teams.squash_project import table_name, version, write_history
from value_oracle import assert_same_values, fill_with_edge_values, snapshot

COUNT = 40


@pytest.fixture(params=["postgresql", "mysql"])
def server_repo(request, tmp_path, monkeypatch):
    """A project on a new database of each server, in a git repository, and a second empty database."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    base = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    url, fresh = create_database(base), create_database(base)
    try:
        yield Repo(Project.init(tmp_path, url)), fresh, request.param
    finally:
        drop_database(base, url)
        drop_database(base, fresh)


def _quote(dialect: str):
    if dialect == "mysql":
        return lambda name: "`" + name.replace("`", "``") + "`"
    return lambda name: '"' + name.replace('"', '""') + '"'


def test_squash_on_a_server_keeps_the_old_database_and_builds_the_same_schema_anew(server_repo):
    repo, fresh, dialect = server_repo
    root = str(repo.root)
    write_history(repo.project, COUNT, _quote(dialect))
    repo.commit("40 migrations")
    repo.project.apply()
    filled = table_name(3)
    with repo.project.connect() as db:
        fill_with_edge_values(db, filled, [("name", "VARCHAR(50)", True)], key="id")
        db.commit()
        before = snapshot(db)
        before_schema = sources.inspect_database(db)

    done = run_dbshift("-C", root, "--json", "squash", "--to", str(version(COUNT)))
    assert done.returncode == 0, done.output
    assert len(json.loads(done.stdout)["replaced"]) == COUNT
    repo.commit("squash")

    status = run_dbshift("-C", root, "--json", "status")
    assert status.returncode == 0, status.output
    report = json.loads(status.stdout)
    assert report["missing_files"] == [] and report["changed"] == [] and len(report["squashed"]) == COUNT - 1
    repo.migration(
        version(COUNT + 1),
        "add_notes",
        f"ALTER TABLE {_quote(dialect)(filled)} ADD COLUMN notes VARCHAR(30);",
        f"ALTER TABLE {_quote(dialect)(filled)} DROP COLUMN notes;",
    )
    assert run_dbshift("-C", root, "apply").returncode == 0
    assert run_dbshift("-C", root, "rollback", "--force").returncode == 0
    with repo.project.connect() as db:
        assert_same_values(before, snapshot(db))
        assert sources.inspect_database(db) == before_schema

    built = run_dbshift("-C", root, "--db", fresh, "--json", "apply", "--to", str(version(COUNT)))
    assert built.returncode == 0, built.output
    assert [s["version"] for s in json.loads(built.stdout)["steps"]] == [version(COUNT)]
    assert sources.schema_from_url(fresh) == before_schema
