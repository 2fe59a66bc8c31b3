"""Stories about concurrent runs and crashes, with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from conftest import write_migration
from dbshift.dialects import open_database
from dbshift.history import lock_holder
from test_apply import rows_of, schema_of

SLOW_INSERT = (
    "CREATE TABLE big (n INTEGER, payload BLOB);\n"
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {rows})\n"
    "INSERT INTO big SELECT n, randomblob(64) FROM c;"
)


def spawn_cli(project, *args) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen([sys.executable, "-m", "dbshift", *args], cwd=project.config.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_applies_apply_each_migration_exactly_once(project):
    for index in range(1, 6):
        write_migration(project, 20260101090000 + index, f"step{index}",
                        SLOW_INSERT.replace("big", f"big{index}").format(rows=60_000), f"DROP TABLE big{index};")
    first, second = spawn_cli(project, "apply"), spawn_cli(project, "apply")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    applied, log = project.history()
    assert [a.version for a in applied] == [20260101090000 + i for i in range(1, 6)]
    assert sorted(e.version for e in log if e.action == "apply") == [20260101090000 + i for i in range(1, 6)]
    assert all(rows_of(project, f"SELECT count(*) FROM big{i}") == [(60_000,)] for i in range(1, 6))


def test_a_second_apply_waits_for_the_lock(project):
    write_migration(project, 20260101090000, "t", "CREATE TABLE t (x);", "DROP TABLE t;")
    db = open_database(project.config.url)
    holding = threading.Event()

    def hold_lock_for_a_second():
        with db.lock(5, lock_holder()):
            holding.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold_lock_for_a_second)
    holder.start()
    holding.wait()
    started = time.monotonic()
    result = spawn_cli(project, "apply")
    result.communicate(timeout=60)
    holder.join()
    assert result.returncode == 0
    assert time.monotonic() - started >= 0.5
    assert project.status().current_version == 20260101090000


def test_a_held_lock_exits_4_naming_the_holder(project):
    write_migration(project, 20260101090000, "t", "CREATE TABLE t (x);", "DROP TABLE t;")
    db = open_database(project.config.url)
    with db.lock(5, lock_holder()):
        result = spawn_cli(project, "apply", "--lock-timeout", "0.3")
        _, stderr = result.communicate(timeout=60)
    assert result.returncode == 4
    assert f"pid {os.getpid()}" in stderr and "since" in stderr and "Traceback" not in stderr
    assert project.status().current_version == 0


def test_a_process_killed_in_the_middle_of_a_long_migration_leaves_the_previous_version(project):
    write_migration(project, 20260101090000, "users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n"
                    "INSERT INTO users (name) VALUES ('ada');", "DROP TABLE users;")
    project.apply()
    before = schema_of(project)
    write_migration(project, 20260102090000, "long",
                    "ALTER TABLE users ADD COLUMN phone TEXT;\nUPDATE users SET name = 'changed';\n"
                    + SLOW_INSERT.format(rows=20_000_000), "DROP TABLE big;")
    victim = spawn_cli(project, "apply")
    journal = project.config.url.path.with_name("app.db-journal")
    deadline = time.monotonic() + 30
    while not journal.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # well inside the insert of 20 million rows
    assert victim.poll() is None, "the migration finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert schema_of(project) == before
    assert rows_of(project, "SELECT name FROM users") == [("ada",)]
    status = project.status()
    assert status.current_version == 20260101090000 and not status.dirty
    assert rows_of(project, "PRAGMA integrity_check") == [("ok",)]
