"""The 1 GB SQLite database the backup/verify benchmarks share: made once under bench/.work/."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from _timing import WORK

BIG_DB = WORK / "big" / "app.db"
TARGET_BYTES = 1_000_000_000

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                     amount_cents INTEGER NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, note TEXT);
CREATE INDEX orders_user ON orders(user_id);
CREATE TABLE events (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB);
"""

USERS = 1_000_000
ORDERS = 5_600_000
EVENTS = 100_000

FILL = f"""
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {USERS})
INSERT INTO users SELECT x, 'user' || x || '@example.com', 'User ' || x, '2026-01-' || (1 + x % 28) FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {ORDERS})
INSERT INTO orders SELECT x, 1 + abs(random()) % {USERS}, abs(random()) % 500000,
    CASE x % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'shipped' END,
    '2026-' || (1 + x % 12) || '-' || (1 + x % 28), hex(randomblob(50)) FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {EVENTS})
INSERT INTO events SELECT x, 1 + x % {ORDERS}, 'status', randomblob(1000) FROM n;
"""


def big_database() -> Path:
    """The path of the 1 GB database, creating it on first use (a minute or two)."""
    if BIG_DB.exists():
        return BIG_DB
    BIG_DB.parent.mkdir(parents=True, exist_ok=True)
    partial = BIG_DB.with_name("partial.db")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    conn = sqlite3.connect(partial)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;")
    conn.executescript(SCHEMA)
    conn.executescript(FILL)
    conn.close()
    partial.rename(BIG_DB)
    print(f"made {BIG_DB} ({BIG_DB.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s")
    return BIG_DB


if __name__ == "__main__":
    big_database()
