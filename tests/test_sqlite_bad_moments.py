"""SQLite at bad moments: a file that is not a database, a mistyped folder, `status` right after a
killed apply, `status` behind a long apply (issue 11, items 1, 2, 6 and 8)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import write_migration

V1, V2 = 20260101090000, 20260102090000
READ_AND_WRITE_COMMANDS = [
    ["status"],
    ["apply"],
    ["inspect"],
    ["history"],
    ["rollback"],
    ["verify"],
    ["backup"],
    ["apply", "--dry-run"],
    ["status", "--json"],
]


def one_line_error(result) -> str:
    """The error line of a failed command, after checking there is no traceback."""
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:"), result.output
    return lines[0]


@pytest.mark.parametrize("command", READ_AND_WRITE_COMMANDS, ids=" ".join)
def test_a_file_that_is_not_a_database_is_named_and_left_as_it_was(project, run_cli, command):
    fake = project.config.root / "fake.db"
    fake.write_bytes(b"garbage\n" * 100)
    result = run_cli("--db", "sqlite:///fake.db", *command)
    assert result.returncode == 2
    assert "fake.db is not a SQLite database" in one_line_error(result)
    assert "hint:" in result.stderr
    assert fake.read_bytes() == b"garbage\n" * 100
    assert sorted(p.name for p in project.config.root.iterdir()) == ["dbshift.toml", "fake.db", "migrations"]


def test_verify_against_a_text_file_says_it_is_not_a_backup(project, run_cli):
    write_migration(project, V1, "t", "CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (7);", "DROP TABLE t;")
    project.hash()
    project.apply()
    notes = project.config.root / "notes.txt"
    notes.write_text("not a backup\n")
    result = run_cli("verify", "--against", "notes.txt")
    assert result.returncode == 2
    assert "notes.txt is not a SQLite database" in one_line_error(result) and "backups" in result.stderr
    assert notes.read_text() == "not a backup\n"


@pytest.mark.parametrize(
    "command", [["status"], ["history"], ["inspect"], ["apply"], ["verify"], ["status", "--json"]], ids=" ".join
)
def test_a_mistyped_folder_creates_nothing_and_says_the_file_does_not_exist(project, run_cli, command):
    write_migration(project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;")
    project.hash()
    result = run_cli("--db", "sqlite:///nope/dir/app.db", *command)
    assert result.returncode == 2
    line = one_line_error(result)
    assert "nope/dir" in line and ("does not exist" in line or "no database file" in line) and "hint:" in result.stderr
    assert not (project.config.root / "nope").exists()


def test_status_on_a_database_not_created_yet_says_so_and_creates_nothing(project, run_cli):
    result = run_cli("status")
    assert result.returncode == 0, result.output
    assert "no such file yet" in result.stdout
    assert not (project.config.root / "app.db").exists()
    assert project.status().database_exists is False


def _kill_during_a_long_apply(project) -> None:
    """Apply a migration that changes accounts then inserts millions of rows; SIGKILL it halfway."""
    write_migration(
        project,
        V2,
        "big",
        "UPDATE accounts SET cents = 0;\nCREATE TABLE busy (n INTEGER);\n"
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 40000000)\n"
        "INSERT INTO busy SELECT n FROM c;",
        "DROP TABLE busy;",
    )
    project.hash()
    victim = _spawn(project, "apply")
    journal = project.config.url.path.with_name("app.db-journal")
    _wait_until(lambda: journal.exists() and journal.stat().st_size > 0)
    time.sleep(0.5)
    assert victim.poll() is None
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert journal.exists(), "the kill left no hot journal: nothing to prove"


@pytest.fixture
def accounts(project):
    write_migration(
        project,
        V1,
        "accounts",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, cents INTEGER);\n"
        "INSERT INTO accounts VALUES (1, 1050), (2, 99);",
        "DROP TABLE accounts;",
    )
    project.hash()
    project.apply()
    return project


def test_status_right_after_a_killed_apply_works_and_says_the_migration_was_rolled_back(accounts, run_cli):
    _kill_during_a_long_apply(accounts)
    status = run_cli("status")
    assert status.returncode == 0 and "Traceback" not in status.output, status.output
    assert f"interrupted: apply of {V2}_big was rolled back, the database is as before" in " ".join(
        status.stdout.split()
    )
    history = run_cli("history")
    assert history.returncode == 0, history.output
    log = accounts.history()[1]
    assert log[-1].action == "recovered" and f"{V2}_big" in log[-1].detail
    with sqlite3.connect(accounts.config.url.path) as check:
        assert check.execute("SELECT id, cents FROM accounts ORDER BY id").fetchall() == [(1, 1050), (2, 99)]
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert [m.version for m in accounts.status().pending] == [V2]


def test_status_after_a_killed_apply_without_write_access_says_what_is_needed(accounts, run_cli):
    if os.geteuid() == 0:
        pytest.skip("root writes through file permissions")
    _kill_during_a_long_apply(accounts)
    folder = accounts.config.root
    folder.chmod(0o555)
    try:
        result = run_cli("status")
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2 and "write access" in one_line_error(result)


def test_status_behind_a_long_apply_says_at_once_who_it_waits_for(accounts):
    write_migration(
        accounts,
        V2,
        "big",
        "CREATE TABLE busy (n INTEGER);\n"
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 40000000)\n"
        "INSERT INTO busy SELECT n FROM c;",
        "DROP TABLE busy;",
    )
    accounts.hash()
    applying = _spawn(accounts, "apply")
    try:
        journal = accounts.config.url.path.with_name("app.db-journal")
        _wait_until(lambda: journal.exists() and journal.stat().st_size > 0)
        time.sleep(0.5)
        started = time.monotonic()
        status = _spawn(accounts, "status", "--lock-timeout", "1")
        stdout, stderr = status.communicate(timeout=60)
        took = time.monotonic() - started
    finally:
        applying.send_signal(signal.SIGINT)
        applying.communicate(timeout=60)
    assert status.returncode == 4, (stdout, stderr)
    assert stderr.startswith(f"waiting for the migration lock held by pid {applying.pid} on host ")
    assert f"running apply of {V2}_big" in " ".join(stderr.split()) and "Traceback" not in stderr
    assert took < 10


def _spawn(project, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    return subprocess.Popen(
        [sys.executable, "-m", "dbshift", *args],
        cwd=project.config.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
