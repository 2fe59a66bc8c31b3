"""Rollback stories that are about SQLite or about the files (the shared ones are in ``tests/stories``)."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift.errors import SafetyRefusal, UnknownVersionError


@pytest.fixture
def applied_shop(project):
    write_migration(
        project,
        20260101090000,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
        "INSERT INTO users (name) VALUES ('ada'), ('bob');",
        "DROP TABLE users;",
    )
    write_migration(
        project, 20260102090000, "users_index", "CREATE INDEX users_name ON users(name);", "DROP INDEX users_name;"
    )
    write_migration(
        project,
        20260103090000,
        "users_phone",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
        "ALTER TABLE users DROP COLUMN phone;",
    )
    project.apply()
    return project


def test_a_backup_is_taken_before_every_rollback_and_holds_the_data(applied_shop):
    result = applied_shop.rollback(to=0, force=True)
    conn = sqlite3.connect(result.backups[0].path)
    assert conn.execute("SELECT name, phone FROM users ORDER BY id").fetchall() == [("ada", None), ("bob", None)]
    conn.close()


def test_rollback_to_an_unknown_version_is_refused(applied_shop, run_cli):
    with pytest.raises(UnknownVersionError):
        applied_shop.rollback(to=20250101000000)
    cli = run_cli("rollback", "--to", "12", cwd=applied_shop.config.root)
    assert cli.returncode == 2 and "not a migration version" in cli.stderr


def test_rolling_back_a_migration_that_another_depends_on_is_refused(project):
    write_migration(
        project,
        20260101090000,
        "index_on_a",
        "CREATE INDEX a_x ON a(x);",
        "DROP INDEX a_x;",
        header="-- depends: 20260102090000\n",
    )
    write_migration(project, 20260102090000, "a", "CREATE TABLE a (x);", "DROP TABLE a;")
    project.apply()
    with pytest.raises(SafetyRefusal, match="20260101090000_index_on_a.sql depends on 20260102090000"):
        project.rollback(to=20260101090000, force=True)
    assert project.status().current_version == 20260102090000
    assert [s.migration.name for s in project.rollback(steps=1, force=True).steps] == ["index_on_a"]
    project.apply()
    project.rollback(to=0, force=True)
    assert project.status().applied == []
