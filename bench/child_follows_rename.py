"""A parent's key column renamed with a 200,000-row child that follows it (SQLite).

Before the child-follows change the draft rebuilt the child (every row copied) besides the
parent's native RENAME COLUMN; now the child has nothing to run. Prints, for the checkout whose
src is on PYTHONPATH: the rebuilds planned, the up's statements alone (one transaction on a copy
of the database), and the whole `Project.apply` and `Project.rollback` (runner, history, and the
automatic backup a risky migration gets). One round each; copying is not timed.
Run: PYTHONPATH=<checkout>/src python bench/child_follows_rename.py
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from dbshift import Project

ROWS = 200_000
START = (
    'CREATE TABLE p (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
    'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES p("key col"), n INTEGER, note TEXT);\n'
)
END = START.replace('"key col"', '"kéy"')


def _kid_sums(path: Path) -> tuple:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*), sum(ref), sum(n), sum(length(note)) FROM kid").fetchone()


def main() -> None:
    """Build the project, draft the rename, time the up alone, then apply and roll back."""
    root = Path(tempfile.mkdtemp(prefix="dbshift-follow-"))
    project = Project.init(root, "sqlite:///app.db")
    project.config.migrations_dir.mkdir(exist_ok=True)
    start = project.config.migrations_dir / "20260101000000_start.sql"
    start.write_text("-- migrate:up\n" + START + "-- migrate:down\nDROP TABLE kid;\nDROP TABLE p;\n")
    project.hash()
    project.apply()
    db = root / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT INTO p VALUES (?, ?, ?)", [(i, i * 10, f"p{i}") for i in range(1, 1001)])
        rows = [(i, (i % 1000 + 1) * 10, i, f"row {i} ✓") for i in range(1, ROWS + 1)]
        conn.executemany("INSERT INTO kid VALUES (?, ?, ?, ?)", rows)
    before = _kid_sums(db)
    (root / "schema.sql").write_text(END)
    drafted = project.diff(name="rename_key", renames=["p.key col=kéy"])
    print("rebuilds planned:", [op.description for op in drafted.plan.operations if op.rewrites_table])
    copy = root / "copy.db"
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    started = time.perf_counter()
    conn.executescript("BEGIN;\n" + drafted.plan.up_sql() + "\nCOMMIT;")
    print(f"up statements alone: {time.perf_counter() - started:.3f} s")
    conn.close()
    started = time.perf_counter()
    project.apply()
    print(f"Project.apply: {time.perf_counter() - started:.3f} s")
    started = time.perf_counter()
    project.rollback()
    print(f"Project.rollback: {time.perf_counter() - started:.3f} s")
    assert _kid_sums(db) == before
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
