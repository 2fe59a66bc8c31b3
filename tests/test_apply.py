"""Apply stories that are about SQLite or about the files, not the database (the stories every
database shares are in ``tests/stories``)."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift import Project
from dbshift.errors import ConfigError, DirtyState, MigrationFailed, UnknownVersionError


def rows_of(project, sql: str) -> list[tuple]:
    conn = sqlite3.connect(project.config.url.path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def shop(project):
    """A project with three migrations: users, orders, and an index."""
    write_migration(
        project,
        20260101090000,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
        "INSERT INTO users (name) VALUES ('ada'), ('bob');",
        "DROP TABLE users;",
    )
    write_migration(
        project,
        20260102090000,
        "orders",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), cents INTEGER);",
        "DROP TABLE orders;",
    )
    write_migration(
        project,
        20260103090000,
        "orders_index",
        "CREATE INDEX orders_user ON orders(user_id);",
        "DROP INDEX orders_user;",
    )
    return project


def test_apply_to_an_unknown_version_is_refused(shop):
    with pytest.raises(UnknownVersionError, match="unknown version 20990101000000"):
        shop.apply(to=20990101000000)
    assert shop.status().current_version == 0


def test_dry_run_prints_the_sql_and_changes_nothing(shop):
    db_file = shop.config.url.path
    result = shop.apply(dry_run=True)
    assert [s.statements[0].sql.split()[0] for s in result.steps] == ["CREATE", "CREATE", "CREATE"]
    assert result.steps[0].statements[1].sql.startswith("INSERT INTO users")
    assert not db_file.exists()
    assert shop.status().current_version == 0 and not db_file.exists()


def test_each_migration_is_its_own_transaction_without_atomic(shop):
    write_migration(shop, 20260104090000, "broken", "SELECT * FROM missing;")
    with pytest.raises(MigrationFailed):
        shop.apply()
    assert shop.status().current_version == 20260103090000


def test_a_no_transaction_migration_that_fails_leaves_a_dirty_state_that_repair_resolves(shop):
    write_migration(
        shop,
        20260104090000,
        "vacuum",
        "CREATE TABLE half (x);\nSELECT * FROM missing;",
        "DROP TABLE half;",
        header="-- no-transaction\n",
    )
    with pytest.raises(MigrationFailed):
        shop.apply()
    status = shop.status()
    assert [a.version for a in status.dirty] == [20260104090000]
    with pytest.raises(DirtyState, match="20260104090000_vacuum"):
        shop.apply()
    with pytest.raises(ConfigError, match="say how to resolve"):
        shop.repair()
    assert shop.repair(dirty="pending") == ["marked 20260104090000_vacuum as pending"]
    assert not shop.status().dirty and shop.status().pending[0].version == 20260104090000


def test_a_risky_migration_gets_a_usable_backup_first(shop):
    shop.apply()
    write_migration(shop, 20260104090000, "drop_orders", "DROP TABLE orders;", header="-- destructive\n")
    result = shop.apply()
    backup = result.backups[0]
    assert backup.path.exists() and backup.manifest["schema_version"] == 20260103090000
    assert backup.manifest["check"] == "quick"  # PRAGMA quick_check; `dbshift backup` runs the full one
    conn = sqlite3.connect(backup.path)
    assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'orders'").fetchone() == (1,)
    assert conn.execute("SELECT name FROM users ORDER BY id").fetchall() == [("ada",), ("bob",)]
    conn.close()
    assert shop.history()[0][-1].backup == str(backup.path)


def test_a_foreign_key_check_statement_fails_the_migration_when_rows_violate(shop):
    shop.apply()
    write_migration(
        shop,
        20260104090000,
        "orphans",
        "INSERT INTO orders (user_id, cents) VALUES (99, 1);\nPRAGMA foreign_key_check(orders);",
    )
    with pytest.raises(MigrationFailed, match=r"_orphans.sql:3: foreign key check failed"):
        shop.apply()
    assert rows_of(shop, "SELECT count(*) FROM orders") == [(0,)]


def test_out_of_order_dependencies_are_applied_after_what_they_need(project):
    write_migration(
        project, 20260101090000, "needs_later", "INSERT INTO t VALUES (1);", header="-- depends: 20260102090000\n"
    )
    write_migration(project, 20260102090000, "table", "CREATE TABLE t (x);")
    result = project.apply()
    assert [s.migration.version for s in result.steps] == [20260102090000, 20260101090000]


def test_an_unmet_dependency_is_refused(project):
    write_migration(project, 20260101090000, "a", "CREATE TABLE a (x);")
    write_migration(project, 20260102090000, "b", "CREATE TABLE b (x);", header="-- depends: 20260103090000\n")
    write_migration(project, 20260103090000, "c", "CREATE TABLE c (x);")
    with pytest.raises(Exception, match="depends on 20260103090000, which is neither applied nor in this run"):
        project.apply(to=20260102090000)
    assert project.status().current_version == 0


def test_db_env_and_database_url_override_the_config_file(project, tmp_path, monkeypatch):
    config = project.config.config_file
    config.write_text(config.read_text() + '\n[environments.staging]\nurl = "sqlite:///staging.db"\n')
    assert Project(tmp_path).config.url.path == tmp_path / "app.db"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from_env.db")
    assert Project(tmp_path).config.url.path == tmp_path / "from_env.db"
    assert Project(tmp_path, env="staging").config.url.path == tmp_path / "staging.db"
    assert Project(tmp_path, db="sqlite:////tmp/abs.db", env="staging").config.url.path.as_posix() == "/tmp/abs.db"
    with pytest.raises(ConfigError, match="unknown environment 'prod'"):
        Project(tmp_path, env="prod")
