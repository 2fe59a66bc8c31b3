"""Stories about rolling back on SQLite."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift import Project
from dbshift.errors import SafetyRefusal, UnknownVersionError
from test_apply import rows_of, schema_of


@pytest.fixture
def applied_shop(project):
    write_migration(project, 20260101090000, "users",
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                    "INSERT INTO users (name) VALUES ('ada'), ('bob');", "DROP TABLE users;")
    write_migration(project, 20260102090000, "users_index", "CREATE INDEX users_name ON users(name);",
                    "DROP INDEX users_name;")
    write_migration(project, 20260103090000, "users_phone", "ALTER TABLE users ADD COLUMN phone TEXT;",
                    "ALTER TABLE users DROP COLUMN phone;")
    project.apply()
    return project


def test_rollback_reverts_the_newest_migration_and_logs_it(applied_shop):
    result = applied_shop.rollback(force=True)
    assert [s.migration.version for s in result.steps] == [20260103090000]
    assert applied_shop.status().current_version == 20260102090000
    log = applied_shop.history()[1]
    assert log[-1].action == "rollback" and log[-1].version == 20260103090000
    assert result.backups[0].path.name in log[-1].detail


def test_a_lossless_down_needs_no_force(applied_shop):
    applied_shop.rollback(force=True)
    result = applied_shop.rollback()  # DROP INDEX loses no data
    assert [s.migration.version for s in result.steps] == [20260102090000]


def test_rollback_steps_and_to(applied_shop):
    applied_shop.rollback(steps=2, force=True)
    assert applied_shop.status().current_version == 20260101090000
    applied_shop.apply()
    applied_shop.rollback(to="20260101_090000", force=True)
    assert applied_shop.status().current_version == 20260101090000


def test_rollback_to_zero_and_apply_again_give_the_same_schema(applied_shop):
    schema = schema_of(applied_shop)
    applied_shop.rollback(to=0, force=True)
    assert schema_of(applied_shop) == [] and applied_shop.status().current_version == 0
    applied_shop.apply()
    assert schema_of(applied_shop) == schema


def test_a_destructive_down_is_refused_without_force_and_nothing_changes(applied_shop, run_cli):
    schema = schema_of(applied_shop)
    with pytest.raises(SafetyRefusal, match="20260103090000_users_phone drops or deletes data"):
        applied_shop.rollback()
    cli = run_cli("rollback", cwd=applied_shop.config.root)
    assert cli.returncode == 3 and "--force" in cli.stderr
    assert schema_of(applied_shop) == schema
    assert applied_shop.status().current_version == 20260103090000


def test_a_typed_confirmation_allows_a_destructive_down(applied_shop):
    questions = []
    project = Project(applied_shop.config.root, confirm=lambda q: questions.append(q) or True)
    project.rollback()
    assert "users_phone" in questions[0]
    assert project.status().current_version == 20260102090000


def test_a_backup_is_taken_before_every_rollback_and_holds_the_data(applied_shop):
    result = applied_shop.rollback(to=0, force=True)
    conn = sqlite3.connect(result.backups[0].path)
    assert conn.execute("SELECT name, phone FROM users ORDER BY id").fetchall() == [("ada", None), ("bob", None)]
    conn.close()


def test_a_migration_without_down_is_refused_by_name(applied_shop):
    write_migration(applied_shop, 20260104090000, "one_way", "CREATE TABLE one_way (x);")
    applied_shop.apply()
    with pytest.raises(SafetyRefusal, match="20260104090000_one_way.sql has no down section"):
        applied_shop.rollback(force=True)
    assert applied_shop.status().current_version == 20260104090000


def test_rollback_to_an_unknown_version_is_refused(applied_shop, run_cli):
    with pytest.raises(UnknownVersionError):
        applied_shop.rollback(to=20250101000000)
    cli = run_cli("rollback", "--to", "12", cwd=applied_shop.config.root)
    assert cli.returncode == 2 and "not a migration version" in cli.stderr


def test_rollback_dry_run_prints_the_down_sql_and_changes_nothing(applied_shop):
    result = applied_shop.rollback(to=0, dry_run=True)
    assert [s.statements[0].sql for s in result.steps] == [
        "ALTER TABLE users DROP COLUMN phone;", "DROP INDEX users_name;", "DROP TABLE users;"]
    assert applied_shop.status().current_version == 20260103090000
    assert rows_of(applied_shop, "SELECT count(*) FROM users") == [(2,)]


def test_a_failing_down_rolls_back_completely(applied_shop):
    path = applied_shop.config.migrations_dir / "20260103090000_users_phone.sql"
    write_migration(applied_shop, 20260104090000, "broken_down", "CREATE TABLE t (x);",
                    "DROP TABLE t;\nDROP TABLE no_such_table;")
    applied_shop.apply()
    with pytest.raises(Exception, match="20260104090000_broken_down.sql:5: no such table: no_such_table"):
        applied_shop.rollback(force=True)
    assert applied_shop.status().current_version == 20260104090000
    assert rows_of(applied_shop, "SELECT count(*) FROM sqlite_schema WHERE name = 't'") == [(1,)]
    assert path.exists()


def test_rolling_back_a_migration_that_another_depends_on_is_refused(project):
    write_migration(project, 20260101090000, "index_on_a", "CREATE INDEX a_x ON a(x);", "DROP INDEX a_x;",
                    header="-- depends: 20260102090000\n")
    write_migration(project, 20260102090000, "a", "CREATE TABLE a (x);", "DROP TABLE a;")
    project.apply()
    with pytest.raises(SafetyRefusal, match="20260101090000_index_on_a.sql depends on 20260102090000"):
        project.rollback(to=20260101090000, force=True)
    assert project.status().current_version == 20260102090000
    assert [s.migration.name for s in project.rollback(steps=1, force=True).steps] == ["index_on_a"]
    project.apply()
    project.rollback(to=0, force=True)
    assert project.status().applied == []
