"""Verify of a 1 GB SQLite database: `dbshift verify` vs `sqlite3 db "PRAGMA integrity_check"`.

Run: ./dev bench bench/verify.py [--rounds 3]   (or .venv/bin/python bench/verify.py)

`dbshift verify` runs the integrity check, the foreign key check and a fingerprint (row count
+ order-independent content hash) of every table; the fingerprints are computed on a second
connection while the integrity check runs. The fingerprints alone are timed in-process too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from _bigdb import big_database
from _timing import BENCH_DIR, VENV_BIN, WORK, interleaved, report, run_quiet

sys.path.insert(0, str(BENCH_DIR.parent / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    source = big_database()
    size = os.path.getsize(source)
    folder = WORK / "verify"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dbshift.toml").write_text(f'[database]\nurl = "sqlite:///{source}"\n')

    from dbshift.dialects.sqlite import SQLiteDatabase
    from dbshift.safety.fingerprint import fingerprint_tables
    from dbshift.urls import parse_url

    def fingerprints_only() -> None:
        db = SQLiteDatabase(parse_url(f"sqlite:///{source}"), readonly=True)
        try:
            fingerprint_tables(db)
        finally:
            db.close()

    jobs = {
        "sqlite3 PRAGMA integrity_check": lambda: subprocess.run(
            ["sqlite3", str(source), "PRAGMA integrity_check"], check=True, capture_output=True
        ),
        "dbshift verify": lambda: run_quiet([str(VENV_BIN / "dbshift"), "--json", "verify"], folder),
        "fingerprints only (in-process)": fingerprints_only,
    }
    times = interleaved(jobs, args.rounds)
    print(f"database: {source} ({size / 1e6:.0f} MB), {args.rounds} interleaved rounds\n")
    print(report(times, "sqlite3 PRAGMA integrity_check") + "\n")
    for name in ("dbshift verify", "fingerprints only (in-process)"):
        print(f"{name}: {size / 1e6 / statistics.median(times[name]):.0f} MB/s")


if __name__ == "__main__":
    main()
