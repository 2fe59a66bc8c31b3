"""Table rebuild: four changes to a 2,000,000-row `orders` table, dbshift vs its peers.

The changes: rename + convert amount_cents (integer cents) -> amount (REAL dollars), add
`note TEXT NOT NULL DEFAULT ''`, drop `created_at`, add an index on (user_id, status). orders
has an index on user_id and a foreign key to users (100,000 rows). Every run starts from a copy
of the same database file (copying is not timed). Peers, each as a whole process:

- hand-written single-rebuild script run by the `sqlite3` CLI, with PRAGMA foreign_key_check;
- dbshift applying the migration `dbshift diff` generated (the runner: one transaction,
  history row, foreign-key check), and the whole `dbshift apply` (adds preflight and the
  automatic backup it takes before a risky migration);
- Alembic `batch_alter_table` (its copy can only CAST, so the conversion is a second UPDATE);
- sqlite-utils `transform` (plus add_column, an UPDATE for the conversion, create_index);
- four separate rebuilds (one per change), as a tool without coalescing would do.

No tool lowers `secure_delete` (this SQLite build defaults it to ON).
Run: ./dev bench bench/rebuild.py [--rounds 5] [--orders 2000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _timing import VENV_BIN, WORK, interleaved, report, run_quiet

ROOT = WORK / "rebuild"
USERS = 100_000
#: The checkout's virtualenv, or (in a git worktree, which has none) the one running this script:
#: with PYTHONPATH=<checkout>/src, its `python` and `dbshift` run the checkout's code.
BIN = VENV_BIN if (VENV_BIN / "python").exists() else Path(sys.executable).parent

INITIAL = """\
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TEXT NOT NULL
);
CREATE INDEX orders_user_id ON orders(user_id);
"""

DESIRED = """\
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX orders_user_id ON orders(user_id);
CREATE INDEX orders_user_status ON orders(user_id, status);
"""

HAND_WRITTEN = """\
PRAGMA foreign_keys=OFF;
BEGIN;
CREATE TABLE orders_new (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    note TEXT NOT NULL DEFAULT ''
);
INSERT INTO orders_new (id, user_id, amount, status)
    SELECT id, user_id, amount_cents / 100.0, status FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_user_id ON orders(user_id);
CREATE INDEX orders_user_status ON orders(user_id, status);
PRAGMA foreign_key_check(orders);
COMMIT;
"""

FOUR_REBUILDS = """\
PRAGMA foreign_keys=OFF;
BEGIN;
CREATE TABLE o1 (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new', created_at TEXT NOT NULL);
INSERT INTO o1 SELECT id, user_id, amount_cents / 100.0, status, created_at FROM orders;
DROP TABLE orders; ALTER TABLE o1 RENAME TO orders; CREATE INDEX orders_user_id ON orders(user_id);
CREATE TABLE o2 (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new', created_at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
INSERT INTO o2 (id, user_id, amount, status, created_at) SELECT id, user_id, amount, status, created_at FROM orders;
DROP TABLE orders; ALTER TABLE o2 RENAME TO orders; CREATE INDEX orders_user_id ON orders(user_id);
CREATE TABLE o3 (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new', note TEXT NOT NULL DEFAULT '');
INSERT INTO o3 SELECT id, user_id, amount, status, note FROM orders;
DROP TABLE orders; ALTER TABLE o3 RENAME TO orders; CREATE INDEX orders_user_id ON orders(user_id);
CREATE INDEX orders_user_status ON orders(user_id, status);
PRAGMA foreign_key_check(orders);
COMMIT;
"""

ALEMBIC = """\
import sys
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

engine = sa.create_engine("sqlite:///" + sys.argv[1])
with engine.begin() as conn:
    op = Operations(MigrationContext.configure(conn))
    with op.batch_alter_table("orders", recreate="always") as batch:
        batch.alter_column("amount_cents", new_column_name="amount", type_=sa.REAL(), existing_nullable=False)
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch.drop_column("created_at")
        batch.create_index("orders_user_status", ["user_id", "status"])
    conn.exec_driver_sql("UPDATE orders SET amount = amount / 100.0")
"""

SQLITE_UTILS = """\
import sys
import sqlite_utils

db = sqlite_utils.Database(sys.argv[1])
with db.conn:
    orders = db["orders"]
    orders.transform(rename={"amount_cents": "amount"}, types={"amount": float}, drop={"created_at"})
    db.execute("UPDATE orders SET amount = amount / 100.0")
    orders.add_column("note", str, not_null_default="")
    orders.create_index(["user_id", "status"], index_name="orders_user_status")
"""

RUNNER = """\
import sys
from pathlib import Path
from dbshift.dialects.sqlite import SQLiteDatabase
from dbshift.history import History
from dbshift.migrations import load_migration
from dbshift.runner import Runner
from dbshift.urls import parse_url

db = SQLiteDatabase(parse_url("sqlite:///" + sys.argv[1]))
Runner(db, History(db)).apply_one(load_migration(Path(sys.argv[2])))
db.close()
"""


def build(orders: int) -> tuple[Path, Path]:
    """The base database (dbshift project, first migration applied, rows) and the drafted migration."""
    from dbshift import Project
    from dbshift.migrations import write_sql_migration

    shutil.rmtree(ROOT, ignore_errors=True)
    project_dir = ROOT / "project"
    project = Project.init(project_dir, "sqlite:///app.db")
    write_sql_migration(
        project.config.migrations_dir, "shop", INITIAL, "DROP TABLE orders;\nDROP TABLE users;", version=20260101000000
    )
    project.hash()
    project.apply()
    database = project_dir / "app.db"
    conn = sqlite3.connect(database)
    with conn:
        conn.execute(
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {USERS}) "
            "INSERT INTO users SELECT i, 'user' || i || '@example.com' FROM s"
        )
        conn.execute(
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {orders}) "
            f"INSERT INTO orders SELECT i, (i * 7919) % {USERS} + 1, (i * 104729) % 500000, "
            "CASE i % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' ELSE 'shipped' END, "
            "date('2026-01-01', '+' || (i % 365) || ' days') FROM s"
        )
    conn.close()
    (project_dir / "schema.sql").write_text(DESIRED)
    draft = project.diff(
        name="orders_amount_in_dollars",
        renames=["orders.amount_cents=amount"],
        convert=["orders.amount=amount_cents / 100.0"],
        reverse=[
            "orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)",
            "orders.created_at='2026-01-01'",  # the down needs a value for the dropped NOT NULL column
        ],
    )
    base = ROOT / "base.db"
    shutil.copyfile(database, base)
    return base, draft.path


def check(database: Path, label: str, orders: int) -> None:
    """Every tool must end with the same rows: amounts in dollars, notes empty, both indexes."""
    conn = sqlite3.connect(database)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(orders)")]
        assert columns == ["id", "user_id", "amount", "status", "note"], (label, columns)
        count, total = conn.execute("SELECT count(*), sum(CAST(ROUND(amount * 100) AS INTEGER)) FROM orders").fetchone()
        expected = conn.execute(
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {orders}) "
            "SELECT sum((i * 104729) % 500000) FROM s"
        ).fetchone()[0]
        assert (count, total) == (orders, expected), (label, count, total, expected)
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(orders)")}
        assert {"orders_user_id", "orders_user_status"} <= indexes or "idx_orders_user_id" in indexes, (label, indexes)
    finally:
        conn.close()


def time_loss_checks(base: Path, migration: Path, rounds: int) -> str:
    """The migration's `-- loss-check:` queries alone on the base file (in-process, read-only), the
    part of the runner's time they take: a line with the median, the minimum and the counts."""
    from dbshift.migrations import load_migration

    checks = load_migration(migration).loss_checks
    conn = sqlite3.connect(f"file:{base}?mode=ro", uri=True)
    times, counts = [], []
    try:
        for _ in range(max(rounds, 3)):
            started = time.perf_counter()
            counts = [conn.execute(check).fetchone()[0] for check in checks]
            times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return (
        f"loss checks alone ({len(checks)} quer{'y' if len(checks) == 1 else 'ies'}, {len(times)} runs, in-process): "
        f"median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms; values counted: {counts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=2_000_000)
    parser.add_argument("--only", nargs="*", help="run only these jobs (names as printed)")
    args = parser.parse_args()
    run_quiet([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "src")], WORK.parent)
    base, migration = build(args.orders)
    run_db = ROOT / "run.db"
    project_dir = ROOT / "project"
    scripts = {}
    for name, text in (
        ("hand.sql", HAND_WRITTEN),
        ("four.sql", FOUR_REBUILDS),
        ("alembic_batch.py", ALEMBIC),
        ("sqlite_utils_transform.py", SQLITE_UTILS),
        ("dbshift_runner.py", RUNNER),
    ):
        scripts[name] = ROOT / name
        scripts[name].write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def sqlite_cli(script: Path, target: Path):
        def job() -> None:
            with script.open() as stdin:
                proc = subprocess.run(["sqlite3", "-bail", str(target)], stdin=stdin, capture_output=True, text=True)
            if proc.returncode != 0 or proc.stdout.strip():
                raise SystemExit(f"sqlite3 failed: {proc.stdout}{proc.stderr}")

        return job

    python = str(BIN / "python")
    jobs = {
        "hand-written script (sqlite3 CLI)": (sqlite_cli(scripts["hand.sql"], run_db), run_db),
        "dbshift: generated migration (runner)": (
            lambda: run_quiet([python, str(scripts["dbshift_runner.py"]), str(run_db), str(migration)], ROOT, env),
            run_db,
        ),
        "dbshift apply (with automatic backup)": (
            lambda: run_quiet([str(BIN / "dbshift"), "apply"], project_dir, env),
            project_dir / "app.db",
        ),
        "Alembic batch_alter_table + UPDATE": (
            lambda: run_quiet([python, str(scripts["alembic_batch.py"]), str(run_db)], ROOT, env),
            run_db,
        ),
        "sqlite-utils transform + UPDATE": (
            lambda: run_quiet([python, str(scripts["sqlite_utils_transform.py"]), str(run_db)], ROOT, env),
            run_db,
        ),
        "four separate rebuilds (sqlite3 CLI)": (sqlite_cli(scripts["four.sql"], run_db), run_db),
    }
    if args.only:
        jobs = {k: v for k, v in jobs.items() if k in args.only}

    def fresh(name: str) -> None:
        target = jobs[name][1]
        shutil.rmtree(project_dir / "backups", ignore_errors=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        shutil.copyfile(base, target)

    times = interleaved({name: job for name, (job, _) in jobs.items()}, args.rounds, setup=fresh)
    for name, (_, target) in jobs.items():
        check(target, name, args.orders)
    print(
        f"orders: {args.orders:,} rows, users: {USERS:,}; {args.rounds} interleaved rounds; "
        f"SQLite {sqlite3.sqlite_version}\n"
    )
    print(report(times, "hand-written script (sqlite3 CLI)"))
    print("\n" + time_loss_checks(base, migration, args.rounds))


if __name__ == "__main__":
    main()
