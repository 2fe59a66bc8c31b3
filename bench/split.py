"""Splitting a big migration into statements: each dialect's splitter at 10k/100k/300k INSERTs.

Run: ./dev bench bench/split.py [--rounds 3] [--sizes 10000,100000,300000]

The script is what a data migration looks like: one ``INSERT`` per line with a string, a number,
a NULL and a quoted ``;`` in a string (so a splitter must read quotes). The peer for SQLite is the
way Python's ``sqlite3`` documentation and the ``sqlite3`` shell split input: add line after line
and cut when ``sqlite3.complete_statement`` says the text so far is complete. The splitters run
in this process (no database is opened): the figure is the splitting alone. Each cell is the median
wall time and, in brackets, the median CPU time of the process (what a busy machine inflates less).
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dbshift.dialects.mysql_script import split_mysql_script  # noqa: E402
from dbshift.dialects.postgresql import split_postgresql_script  # noqa: E402
from dbshift.dialects.sqlite import split_sqlite_script  # noqa: E402


def big_script(count: int) -> str:
    """``count`` INSERT statements, one per line, about 100 bytes each."""
    return "".join(
        f"INSERT INTO orders (id, customer, note, amount_cents, paid) VALUES ({i}, 'customer {i % 977}', "
        f"'note; with a semicolon {i}', {i * 7 % 100000}, NULL);\n"
        for i in range(count)
    )


def complete_statement_lines(text: str) -> list[str]:
    """The peer: accumulate lines until ``sqlite3.complete_statement`` accepts the buffer."""
    statements, buffer = [], []
    for line in text.splitlines(keepends=True):
        buffer.append(line)
        joined = "".join(buffer)
        if sqlite3.complete_statement(joined):
            statements.append(joined.strip())
            buffer = []
    return statements


SPLITTERS = {
    "dbshift sqlite": split_sqlite_script,
    "sqlite3.complete_statement per line (peer)": complete_statement_lines,
    "dbshift postgresql": split_postgresql_script,
    "dbshift mysql": split_mysql_script,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000,300000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"| statements | MB | {' | '.join(SPLITTERS)} |")
    print("|---|---|" + "---|" * len(SPLITTERS))
    for count in sizes:
        text = big_script(count)
        medians = []
        for name, split in SPLITTERS.items():
            times, cpu_times = [], []
            for _ in range(args.rounds):
                gc.collect()  # the previous run's statements are garbage: do not time their collection
                started, cpu_started = time.perf_counter(), time.process_time()
                statements = split(text)
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
                if len(statements) != count:
                    raise SystemExit(f"{name} split {count} statements into {len(statements)}")
                del statements
            medians.append(f"{statistics.median(times):.2f} s ({statistics.median(cpu_times):.2f} s CPU)")
        print(f"| {count:,} | {len(text) / 1e6:.1f} | {' | '.join(medians)} |", flush=True)


if __name__ == "__main__":
    main()
