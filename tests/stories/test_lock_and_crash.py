"""Stories about concurrent runs and crashes, with real processes, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from dbshift.dialects import open_database
from dbshift.history import lock_holder
from stories.db import add, dialect_of, rows, schema, sleep, spawn_cli, tables

V1, V2 = 20260101090000, 20260102090000


def test_two_concurrent_applies_apply_each_migration_exactly_once(project):
    versions = [V1 + index for index in range(1, 6)]
    for index, version in enumerate(versions, 1):
        add(
            project,
            version,
            f"step{index}",
            f"CREATE TABLE t{index} (n INTEGER);\n{sleep(project, 0.2, f'busy{index}')}\n"
            f"INSERT INTO t{index} (n) VALUES ({index});",
            f"DROP TABLE t{index};",
        )
    first, second = spawn_cli(project, "apply"), spawn_cli(project, "apply")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    applied, log = project.history()
    assert [a.version for a in applied] == versions
    assert sorted(e.version for e in log if e.action == "apply") == versions
    assert [rows(project, f"SELECT n FROM t{i}") for i in range(1, 6)] == [[(i,)] for i in range(1, 6)]


def test_a_second_apply_waits_for_the_lock(project):
    add(project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;")
    holder = open_database(project.config.url)
    holding = threading.Event()

    def hold_the_lock_for_a_second():
        with holder.lock(5, lock_holder()):
            holding.set()
            time.sleep(1.0)

    thread = threading.Thread(target=hold_the_lock_for_a_second)
    thread.start()
    try:
        holding.wait(10)
        started = time.monotonic()
        waiting = spawn_cli(project, "apply")
        output = waiting.communicate(timeout=60)
    finally:
        thread.join()
        holder.close()
    assert waiting.returncode == 0, output
    assert time.monotonic() - started >= 0.5
    assert project.status().current_version == V1


def test_a_held_lock_exits_4_naming_the_holder(project):
    add(project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;")
    holder = open_database(project.config.url)
    try:
        with holder.lock(5, lock_holder()):
            blocked = spawn_cli(project, "apply", "--lock-timeout", "0.3")
            _, stderr = blocked.communicate(timeout=60)
            expected = f"pid {os.getpid()} on host "
    finally:
        holder.close()
    assert blocked.returncode == 4, stderr
    assert "lock is held by" in stderr and expected in stderr and "Traceback" not in stderr
    assert project.status().current_version == 0 and tables(project) == []


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def _busy_in_the_migration(project) -> bool:
    """Whether the apply has reached the long statement in the middle of its migration."""
    dialect = dialect_of(project)
    if dialect == "postgresql":
        return (
            rows(
                project,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'SELECT pg_sleep%'",
            )[0][0]
            > 0
        )
    if dialect == "mysql":
        return (
            rows(
                project,
                "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
                "AND INFO LIKE 'SELECT SLEEP%'",
            )[0][0]
            > 0
        )
    return project.config.url.path.with_name("app.db-journal").exists()


def _kill_halfway(project) -> None:
    """Apply a migration that changes users, then works for a long time; SIGKILL it in the middle."""
    add(
        project,
        V2,
        "long",
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);\nUPDATE users SET name = 'changed';\n"
        f"{sleep(project, 1)}\nCREATE TABLE never (x INTEGER);",
        "DROP TABLE never;\nALTER TABLE users DROP COLUMN phone;",
    )
    victim = spawn_cli(project, "apply")
    _wait_until(lambda: _busy_in_the_migration(project))
    time.sleep(0.3)
    assert victim.poll() is None, "the migration finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL


@pytest.fixture
def users(project):
    add(
        project,
        V1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n"
        "INSERT INTO users (id, name) VALUES (1, 'ada');",
        "DROP TABLE users;",
    )
    project.apply()
    return project


@pytest.mark.dialects("sqlite", "postgresql")
def test_a_migration_killed_halfway_leaves_no_trace(users, run_cli):
    before = schema(users)
    _kill_halfway(users)
    assert schema(users) == before and rows(users, "SELECT name FROM users") == [("ada",)]
    status = users.status()
    assert status.current_version == V1 and not status.dirty and [m.version for m in status.pending] == [V2]
    assert "dirty" not in run_cli("status", cwd=users.config.root).stdout
    if dialect_of(users) == "sqlite":
        assert rows(users, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.dialects("mysql")
def test_a_migration_killed_halfway_on_mysql_leaves_a_dirty_state_that_status_reports_and_repair_resolves(
    users, run_cli
):
    _kill_halfway(users)
    cli = run_cli("status", cwd=users.config.root)
    assert cli.returncode != 0 and "dirty" in cli.stdout and f"{V2}_long" in cli.stdout
    assert [a.version for a in users.status().dirty] == [V2]
    assert rows(users, "SELECT name FROM users") == [("changed",)]  # each statement committed on its own
    repaired = run_cli("repair", "--dirty", "pending", cwd=users.config.root)
    assert repaired.returncode == 0, repaired.output
    assert not users.status().dirty and [m.version for m in users.status().pending] == [V2]
    assert users.history()[1][-1].action == "repair"
