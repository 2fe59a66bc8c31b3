"""SIGKILL at random moments of `apply` and `rollback` of a migration that rebuilds a 100,000-row
table: after each kill `status` works and names the state, the values are exactly those of a
version, and the next `apply` completes with every value in place (issue 11, the crash test).

20 kills in the normal run (about half a minute); more with DBSHIFT_CRASH_KILLS=N, another seed
with DBSHIFT_CRASH_SEED=S.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import write_migration

KILLS = int(os.environ.get("DBSHIFT_CRASH_KILLS", "20"))
SEED = int(os.environ.get("DBSHIFT_CRASH_SEED", "20261206"))
V1, V2 = 20260101090000, 20260102090000
ROWS = 100_000

ORDERS = f"""
CREATE TABLE orders (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL, note TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
INSERT INTO orders (id, cents, note) SELECT i, (i * 7919) % 100003, CASE WHEN i % 5 = 0 THEN NULL ELSE 'order ' || i END FROM n;
"""
#: The rebuild SQLite's documentation prescribes for a change ALTER TABLE cannot make (here: a CHECK).
REBUILD_UP = """
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL CHECK (cents >= 0), note TEXT,
                         paid INTEGER NOT NULL DEFAULT 0);
INSERT INTO orders_new (id, cents, note) SELECT id, cents, note FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_cents ON orders (cents);
"""
REBUILD_DOWN = """
CREATE TABLE orders_old (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL, note TEXT);
INSERT INTO orders_old (id, cents, note) SELECT id, cents, note FROM orders;
DROP TABLE orders;
ALTER TABLE orders_old RENAME TO orders;
"""


def values_digest(path) -> tuple[str, list[str]]:
    """sha256 of every (id, cents, note) in key order, and the orders table's columns."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        digest = hashlib.sha256()
        for row in db.execute("SELECT id, cents, note FROM orders ORDER BY id"):
            digest.update(repr(row).encode())
        columns = [row[1] for row in db.execute("PRAGMA table_info(orders)")]
    return digest.hexdigest(), columns


def run(project, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dbshift", *args],
        cwd=project.config.root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    return env


def kill_at(project, delay: float, *args: str, after_start: bool = False) -> bool:
    """Start ``dbshift ARGS`` and SIGKILL it ``delay`` seconds after it starts (``after_start``: after its
    migration starts, as the lock file tells); whether it was still running then."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dbshift", *args],
        cwd=project.config.root,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lock_file = project.config.url.path.with_name("app.db.dbshift-lock")
    deadline = time.monotonic() + 60
    while after_start and process.poll() is None and time.monotonic() < deadline:
        text = lock_file.read_text() if lock_file.exists() else ""
        if f'"pid": {process.pid},' in text and '"running"' in text:
            break
        time.sleep(0.005)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return True


def named_version(status_output: str) -> int:
    match = re.search(r"current version: (\d+|none)", status_output)
    assert match, status_output
    return 0 if match.group(1) == "none" else int(match.group(1))


@pytest.mark.slow
def test_kills_at_random_moments_of_apply_and_rollback_never_lose_a_value(project):
    write_migration(project, V1, "orders", ORDERS, "DROP TABLE orders;")
    write_migration(project, V2, "rebuild_orders", REBUILD_UP, REBUILD_DOWN)
    project.hash()
    project.apply(to=V1)
    path = project.config.url.path
    original, _ = values_digest(path)
    # How long each takes unkilled: the kills land anywhere from start-up to the end.
    started = time.monotonic()
    assert run(project, "apply").returncode == 0
    apply_seconds = time.monotonic() - started
    started = time.monotonic()
    assert run(project, "rollback", "--force").returncode == 0
    rollback_seconds = time.monotonic() - started
    chance = random.Random(SEED)
    killed_running = recovered = 0
    for kill in range(KILLS):
        version = project.status().current_version
        command, seconds = (["apply"], apply_seconds) if version == V1 else (["rollback", "--force"], rollback_seconds)
        # A quarter of the kills anywhere (start-up, the backup before a rollback), the rest while the
        # migration's statements run.
        after_start = chance.random() < 0.75
        delay = chance.uniform(0, 0.2) if after_start else chance.uniform(0.05, seconds * 1.1)
        killed_running += kill_at(project, delay, *command, after_start=after_start)
        status = run(project, "status")
        context = (
            f"kill {kill}: {' '.join(command)} killed {delay:.2f} s after "
            f"{'its migration started' if after_start else 'start'}\n{status.stdout}{status.stderr}"
        )
        assert status.returncode == 0 and "Traceback" not in status.stderr, context
        named = named_version(status.stdout)
        recovered += "interrupted:" in status.stdout
        assert named in (V1, V2), context
        digest, columns = values_digest(path)
        assert digest == original, context
        assert ("paid" in columns) == (named == V2), context
        if chance.random() < 0.5:  # half the time: the next apply completes, then go on from V2
            finished = run(project, "apply")
            assert finished.returncode == 0, context + finished.stdout + finished.stderr
            assert values_digest(path) == (original, ["id", "cents", "note", "paid"]), context
    print(f"{KILLS} kills: {killed_running} while running, {recovered} left a half-done migration to roll back")
    assert killed_running >= KILLS // 2, "most kills should land while the command runs"
    finished = run(project, "apply")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert values_digest(path) == (original, ["id", "cents", "note", "paid"])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM orders WHERE paid <> 0").fetchone() == (0,)
