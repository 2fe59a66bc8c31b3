"""Stories about applying and rolling back, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json

import pytest

from dbshift import Project
from dbshift.errors import ChecksumMismatch, ConfigError, DirtyState, MigrationFailed, MigrationFileError, SafetyRefusal
from stories.db import NO_SUCH_TABLE, add, dialect_of, drop_index, rows, schema, tables

V1, V2, V3, V4 = 20260101090000, 20260102090000, 20260103090000, 20260104090000


@pytest.fixture
def shop(project):
    """Three pending migrations: users (with rows), orders, an index on orders."""
    add(
        project,
        V1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n"
        "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob;semicolon');",
        "DROP TABLE users;",
    )
    add(
        project,
        V2,
        "orders",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), cents INTEGER);",
        "DROP TABLE orders;",
    )
    add(
        project,
        V3,
        "orders_index",
        "CREATE INDEX orders_user ON orders(user_id);",
        drop_index(project, "orders_user", "orders"),
    )
    return project


@pytest.fixture
def applied_shop(project):
    """Three applied migrations on users: the table with rows, an index, and a phone column."""
    add(
        project,
        V1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n"
        "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob');",
        "DROP TABLE users;",
    )
    add(
        project,
        V2,
        "users_index",
        "CREATE INDEX users_name ON users(name);",
        drop_index(project, "users_name", "users"),
    )
    add(
        project,
        V3,
        "users_phone",
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
        "ALTER TABLE users DROP COLUMN phone;",
    )
    project.apply()
    return project


def test_apply_runs_pending_migrations_in_order_and_records_who_when_how_long(shop, run_cli):
    result = shop.apply()
    assert [s.migration.version for s in result.steps] == [V1, V2, V3]
    assert tables(shop) == ["orders", "users"]
    assert rows(shop, "SELECT name FROM users ORDER BY id") == [("ada",), ("bob;semicolon",)]
    status = shop.status()
    assert status.current_version == V3 and not status.pending and not status.dirty
    applied, log = shop.history()
    assert [a.status for a in applied] == ["applied"] * 3 and [e.action for e in log] == ["apply"] * 3
    assert all(a.applied_by and a.host and a.duration_ms is not None and a.applied_at for a in applied)
    assert all(a.checksum == m.checksum for a, m in zip(applied, shop.migrations()))
    cli = run_cli("status", "--json", cwd=shop.config.root)
    assert cli.returncode == 0 and json.loads(cli.stdout)["current_version"] == V3


def test_a_second_apply_has_nothing_to_do(shop):
    shop.apply()
    assert shop.apply().steps == []


def test_apply_to_a_version_stops_there(shop):
    shop.apply(to="20260102_090000")
    assert shop.status().current_version == V2
    assert [m.version for m in shop.status().pending] == [V3]
    assert tables(shop) == ["orders", "users"]


def test_a_malformed_migration_is_refused_before_anything_runs(shop):
    shop.apply(to=V1)
    bad = shop.config.migrations_dir / f"{V4}_bad.sql"
    bad.write_text("-- destroy\n-- migrate:up\nDROP TABLE users;\n")
    with pytest.raises(MigrationFileError, match=f"{V4}_bad.sql:1: unknown header flag 'destroy'"):
        shop.apply()
    assert tables(shop) == ["users"] and rows(shop, "SELECT count(*) FROM users") == [(2,)]
    bad.unlink()
    assert shop.status().current_version == V1 and len(shop.status().pending) == 2


@pytest.mark.dialects("sqlite", "postgresql")
def test_a_failing_statement_leaves_the_database_as_it_was(shop):
    shop.apply(to=V1)
    before = (schema(shop), rows(shop, "SELECT id, name FROM users ORDER BY id"))
    add(
        shop,
        V2,
        "orders",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY);\nINSERT INTO users (id, name) VALUES (3, 'eve');\n"
        "UPDATE users SET name = 'x';\n\nINSERT INTO no_such_table VALUES (1);",
        "DROP TABLE orders;",
    )
    with pytest.raises(MigrationFailed) as caught:
        shop.apply()
    assert f"{V2}_orders.sql:6:" in str(caught.value) and NO_SUCH_TABLE[dialect_of(shop)] in str(caught.value)
    assert "INSERT INTO no_such_table" in str(caught.value) and "rolled back" in caught.value.hint
    assert (schema(shop), rows(shop, "SELECT id, name FROM users ORDER BY id")) == before
    assert shop.status().current_version == V1 and not shop.status().dirty
    assert shop.history()[1][-1].action == "apply-failed"


@pytest.mark.dialects("mysql")
def test_a_failing_statement_on_mysql_leaves_a_dirty_state_that_status_shows_and_repair_resolves(shop, run_cli):
    shop.apply(to=V1)
    add(
        shop,
        V2,
        "orders",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);",
        "DROP TABLE orders;",
    )
    with pytest.raises(MigrationFailed) as caught:
        shop.apply()
    assert f"{V2}_orders.sql:3:" in str(caught.value) and NO_SUCH_TABLE["mysql"] in str(caught.value)
    assert "outside a transaction" in caught.value.hint and "repair" in caught.value.hint
    assert tables(shop) == ["orders", "users"]  # MySQL commits each DDL statement on its own
    cli = run_cli("status", cwd=shop.config.root)
    assert cli.returncode != 0 and "dirty" in cli.stdout and f"{V2}_orders" in cli.stdout
    with pytest.raises(DirtyState, match=f"{V2}_orders"):
        shop.apply()
    with pytest.raises(ConfigError, match="say how to resolve"):
        shop.repair()
    assert shop.repair(dirty="applied") == [f"marked {V2}_orders as applied"]
    assert shop.status().current_version == V2 and not shop.status().dirty


@pytest.mark.dialects("sqlite", "postgresql")
def test_an_atomic_apply_is_all_or_nothing(shop):
    add(shop, V4, "broken", "CREATE TABLE fine (x INTEGER);\nSELECT * FROM missing;")
    with pytest.raises(MigrationFailed, match=f"{V4}_broken.sql:3"):
        shop.apply(atomic=True)
    assert tables(shop) == [] and shop.status().current_version == 0


@pytest.mark.dialects("mysql")
def test_an_atomic_apply_is_refused_on_mysql_before_anything_runs(shop):
    with pytest.raises(ConfigError, match="--atomic needs transactional DDL"):
        shop.apply(atomic=True)
    assert tables(shop) == [] and shop.status().current_version == 0


@pytest.mark.dialects("sqlite", "postgresql")
def test_python_migrations_run_in_the_migration_transaction(shop):
    shop.apply()
    mark = "?" if dialect_of(shop) == "sqlite" else "%s"  # each driver's own placeholder
    (shop.config.migrations_dir / f"{V4}_backfill.py").write_text(
        "def up(ctx):\n"
        "    for (user_id,) in ctx.query('SELECT id FROM users'):\n"
        f"        ctx.execute('INSERT INTO orders (id, user_id, cents) VALUES ({mark}, {mark}, 100)', (user_id, user_id))\n"
        "def down(ctx):\n"
        "    ctx.execute('DELETE FROM orders')\n"
    )
    shop.apply()
    assert rows(shop, "SELECT user_id, cents FROM orders ORDER BY user_id") == [(1, 100), (2, 100)]
    assert shop.history()[0][-1].record["tables"] == ["orders"]
    (shop.config.migrations_dir / "20260105090000_broken.py").write_text(
        "def up(ctx):\n    ctx.execute('DELETE FROM orders')\n    raise ValueError('bad data')\n"
    )
    with pytest.raises(MigrationFailed, match=r"20260105090000_broken.py:3: ValueError: bad data"):
        shop.apply()
    assert rows(shop, "SELECT count(*) FROM orders") == [(2,)]


def test_an_edited_applied_migration_is_caught_and_repair_accepts_it(shop, run_cli):
    shop.apply()
    path = shop.config.migrations_dir / f"{V2}_orders.sql"
    path.write_text(path.read_text().replace("cents INTEGER", "cents BIGINT"))
    assert [m.path for m in shop.status().changed] == [path]
    add(shop, V4, "more", "CREATE TABLE more_rows (x INTEGER);", "DROP TABLE more_rows;")
    with pytest.raises(ChecksumMismatch, match=f"{V2}_orders.sql"):
        shop.apply()
    cli = run_cli("apply", cwd=shop.config.root)
    assert cli.returncode == 3 and "changed since it was applied" in cli.stderr and "dbshift repair" in cli.stderr
    assert "more_rows" not in tables(shop)
    assert shop.repair() == [f"accepted the edited file {V2}_orders.sql"]
    assert shop.history()[1][-1].action == "repair"
    assert len(shop.apply().steps) == 1 and "more_rows" in tables(shop)


def test_rollback_reverts_the_newest_migration_and_logs_it_with_its_backup(applied_shop):
    result = applied_shop.rollback(force=True)
    assert [s.migration.version for s in result.steps] == [V3]
    assert applied_shop.status().current_version == V2
    assert rows(applied_shop, "SELECT id, name FROM users ORDER BY id") == [(1, "ada"), (2, "bob")]
    log = applied_shop.history()[1]
    assert log[-1].action == "rollback" and log[-1].version == V3
    assert result.backups[0].path.name in log[-1].detail and result.backups[0].path.exists()


def test_a_lossless_down_needs_no_force(applied_shop):
    applied_shop.rollback(force=True)
    result = applied_shop.rollback()  # DROP INDEX loses no data
    assert [s.migration.version for s in result.steps] == [V2]


def test_rollback_by_steps_and_to_a_version(applied_shop):
    applied_shop.rollback(steps=2, force=True)
    assert applied_shop.status().current_version == V1
    assert [e.action for e in applied_shop.history()[1]][-2:] == ["rollback", "rollback"]
    applied_shop.apply()
    applied_shop.rollback(to="20260101_090000", force=True)
    assert applied_shop.status().current_version == V1 and tables(applied_shop) == ["users"]


def test_rollback_to_zero_and_apply_again_give_the_same_schema(applied_shop):
    before = schema(applied_shop)
    applied_shop.rollback(to=0, force=True)
    assert tables(applied_shop) == [] and applied_shop.status().current_version == 0
    applied_shop.apply()
    assert schema(applied_shop) == before


def test_a_destructive_down_is_refused_without_force_and_nothing_changes(applied_shop, run_cli):
    before = schema(applied_shop)
    with pytest.raises(SafetyRefusal, match=f"{V3}_users_phone drops or deletes data"):
        applied_shop.rollback()
    cli = run_cli("rollback", cwd=applied_shop.config.root)
    assert cli.returncode == 3 and "--force" in cli.stderr
    assert schema(applied_shop) == before and applied_shop.status().current_version == V3


def test_a_typed_confirmation_allows_a_destructive_down(applied_shop):
    questions = []
    project = Project(applied_shop.config.root, confirm=lambda q, **_: questions.append(q) or True)
    project.rollback()
    assert "users_phone" in questions[0]
    assert project.status().current_version == V2


def test_a_migration_without_down_is_refused_by_name(applied_shop):
    add(applied_shop, V4, "one_way", "CREATE TABLE one_way (x INTEGER);")
    applied_shop.apply()
    with pytest.raises(SafetyRefusal, match=f"{V4}_one_way.sql has no down section"):
        applied_shop.rollback(force=True)
    assert applied_shop.status().current_version == V4 and "one_way" in tables(applied_shop)


def test_rollback_dry_run_prints_the_down_sql_and_changes_nothing(applied_shop):
    result = applied_shop.rollback(to=0, dry_run=True)
    assert [s.statements[0].sql for s in result.steps] == [
        "ALTER TABLE users DROP COLUMN phone;",
        drop_index(applied_shop, "users_name", "users"),
        "DROP TABLE users;",
    ]
    assert applied_shop.status().current_version == V3
    assert rows(applied_shop, "SELECT count(*) FROM users") == [(2,)]


@pytest.mark.dialects("sqlite", "postgresql")
def test_a_failing_down_rolls_back_completely(applied_shop):
    add(applied_shop, V4, "broken_down", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;\nDROP TABLE no_such_table;")
    applied_shop.apply()
    with pytest.raises(MigrationFailed, match=f"{V4}_broken_down.sql:5: .*no_such_table"):
        applied_shop.rollback(force=True)
    assert applied_shop.status().current_version == V4 and "t" in tables(applied_shop)
