"""Ctrl-C during a long statement stops it at once and says what became of the migration, and a
run that has to wait for the migration lock says so at once (issue 11, items 5 and 8)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from dbshift.dialects import open_database
from dbshift.history import lock_holder
from stories.db import add, dialect_of, rows, schema, spawn_cli

V1, V2 = 20260101090000, 20260102090000


def long_statement(project) -> str:
    """One statement that runs for far longer than the test waits (SQLite: a 40M-row insert)."""
    dialect = dialect_of(project)
    if dialect == "postgresql":
        return "SELECT pg_sleep(60);"
    if dialect == "mysql":
        return "SELECT SLEEP(60);"
    return (
        "CREATE TABLE busy (n INTEGER);\nWITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
        "WHERE n < 40000000)\nINSERT INTO busy SELECT n FROM c;"
    )


def busy_in_the_long_statement(project) -> bool:
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


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.fixture
def accounts(project):
    add(
        project,
        V1,
        "accounts",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL);\n"
        "INSERT INTO accounts (id, cents) VALUES (1, 1050), (2, 99), (3, 0);",
        "DROP TABLE accounts;",
    )
    project.apply()
    return project


def test_ctrl_c_stops_the_running_statement_and_every_cent_is_back(accounts):
    before = schema(accounts), rows(accounts, "SELECT id, cents FROM accounts ORDER BY id")
    add(
        accounts,
        V2,
        "big",
        "UPDATE accounts SET cents = cents * 100;\n" + long_statement(accounts) + "\nCREATE TABLE never (x INTEGER);",
        "DROP TABLE never;",
    )
    run = spawn_cli(accounts, "apply")
    wait_until(lambda: busy_in_the_long_statement(accounts))
    time.sleep(0.3)
    assert run.poll() is None, "the migration finished before Ctrl-C"
    pressed = time.monotonic()
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    stopped_after = time.monotonic() - pressed
    assert stopped_after < 3, f"Ctrl-C took {stopped_after:.1f} s to stop the statement"
    assert run.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    log = accounts.history()[1]
    assert log[-1].action == "apply-interrupted" and log[-1].version == V2
    if dialect_of(accounts) == "mysql":
        # DDL commits on its own on MariaDB: the UPDATE stayed, the migration is dirty, and the user is told.
        assert f"interrupted: the up of {V2}_big was stopped part-way" in stderr and "repair --dirty" in stderr
        assert [a.version for a in accounts.status().dirty] == [V2]
        assert rows(accounts, "SELECT id, cents FROM accounts ORDER BY id") == [(1, 105000), (2, 9900), (3, 0)]
        return
    assert f"interrupted: {V2}_big rolled back, the database is as before" in stderr
    assert (schema(accounts), rows(accounts, "SELECT id, cents FROM accounts ORDER BY id")) == before
    status = accounts.status()
    assert status.current_version == V1 and not status.dirty and [m.version for m in status.pending] == [V2]


def test_a_run_that_waits_for_the_lock_says_who_holds_it_at_once(accounts):
    add(accounts, V2, "more", "CREATE TABLE more_accounts (id INTEGER);", "DROP TABLE more_accounts;")
    holder = open_database(accounts.config.url)
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with holder.lock(5, lock_holder()):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        holding.wait(10)
        waiting = spawn_cli(accounts, "apply", "--lock-timeout", "20")
        first_line = waiting.stderr.readline()  # said before the lock is free
        assert waiting.poll() is None
    finally:
        release.set()
        thread.join()
        holder.close()
    stdout, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, (stdout, stderr)
    assert first_line.startswith("waiting for the migration lock held by")
    assert f"pid {os.getpid()} on host " in first_line and " since " in first_line
    assert accounts.status().current_version == V2
