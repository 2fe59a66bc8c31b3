"""PostgreSQL inspection of a 500-table schema: dbshift vs migra's inspector (schemainspect).

A scratch database is created on the server (and dropped at the end, even on error) holding
500 tables of 10 columns, 2 indexes and 1 foreign key each (the tables of bench/diff.py).
In-process, each round opens a connection, inspects and closes it:

- dbshift: ``dbshift.inspectors.inspect`` on a :class:`PostgreSQLDatabase` (psycopg 3);
- schemainspect: ``schemainspect.get_inspector(S(url))`` as migra does, on sqlbag/SQLAlchemy
  with psycopg2 (the driver of migra's plain ``postgresql://`` URLs) and with psycopg 3;
- floor: the same connection running only dbshift's catalog queries, nothing built from them.

Whole processes: ``dbshift inspect --db URL -f json`` vs a Python process that runs
schemainspect (migra has no inspect-only command) and prints its table count.

Server: PostgreSQL at $DBSHIFT_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres,
the maintenance database in which the scratch database is created).
Run: ./dev bench bench/pg_inspect.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from _timing import VENV_BIN, WORK, interleaved, report, run_quiet

SERVER = os.environ.get("DBSHIFT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = 500
TYPES = ["INTEGER", "TEXT", "REAL", "TEXT", "INTEGER", "TEXT", "REAL", "INTEGER", "TEXT"]


def table_sql(i: int) -> str:
    """bench/diff.py's table: id + c1..c8 + parent_id (10 columns), 2 indexes, 1 foreign key."""
    columns = ["id INTEGER PRIMARY KEY"]
    for c in range(1, 9):
        columns.append(f"c{c} {TYPES[c]}{' NOT NULL DEFAULT 0' if c == 1 else ''}")
    parent = f"t{i - 1}" if i > 0 else "t0"  # t0 refers to itself: one foreign key each, no cycle
    columns.append(f"parent_id INTEGER REFERENCES {parent}(id)")
    sql = f"CREATE TABLE t{i} (\n  " + ",\n  ".join(columns) + "\n);\n"
    sql += f"CREATE INDEX t{i}_c1 ON t{i}(c1);\n"
    sql += f"CREATE INDEX t{i}_c2_c4 ON t{i}(c2, c4);\n"
    return sql


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def sqlalchemy_url(url: str, driver: str) -> str:
    return url.replace("postgresql://", f"postgresql+{driver}://", 1)


def admin_execute(sql: str) -> None:
    import psycopg

    from dbshift.dialects.postgresql import connection_kwargs
    from dbshift.urls import parse_url

    with psycopg.connect(**connection_kwargs(parse_url(SERVER)), autocommit=True) as conn:
        conn.execute(sql)


def build(url: str) -> None:
    import psycopg

    from dbshift.dialects.postgresql import connection_kwargs
    from dbshift.urls import parse_url

    with psycopg.connect(**connection_kwargs(parse_url(url)), autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute("".join(table_sql(i) for i in range(TABLES)))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")


def dbshift_inspect(url: str):
    from dbshift.dialects.postgresql import PostgreSQLDatabase
    from dbshift.inspectors import inspect
    from dbshift.urls import parse_url

    parsed = parse_url(url)

    def run() -> int:
        db = PostgreSQLDatabase(parsed)
        try:
            return len(inspect(db).tables)
        finally:
            db.close()

    return run


def catalog_floor(url: str):
    """dbshift's catalog queries alone (rows fetched, nothing built): the server's share."""
    from dbshift.dialects.postgresql import PostgreSQLDatabase
    from dbshift.inspectors import postgresql as pg
    from dbshift.urls import parse_url

    parsed = parse_url(url)
    recorded: list[tuple] = []

    class Recorder:
        def execute(self, sql, params=()):
            rows = real.execute(sql, params)
            recorded.append((sql, tuple(params)))
            return rows

    real = PostgreSQLDatabase(parsed)
    try:
        pg.inspect_database(Recorder())
    finally:
        real.close()

    def run() -> int:
        db = PostgreSQLDatabase(parsed)
        try:
            return sum(len(db.execute(sql, params)) for sql, params in recorded)
        finally:
            db.close()

    return run, len(recorded)


def schemainspect_inspect(url: str):
    import warnings

    warnings.filterwarnings("ignore", "pkg_resources is deprecated")  # schemainspect's own import
    from schemainspect import get_inspector
    from sqlbag import S

    def run() -> int:
        with S(url) as session:
            return len([t for t in get_inspector(session).tables if t.startswith('"public".')])

    return run


SCHEMAINSPECT_SCRIPT = """\
import sys
from schemainspect import get_inspector
from sqlbag import S

with S(sys.argv[1]) as session:
    print(len(get_inspector(session).tables))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    run_quiet([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "src")], WORK.parent)
    root = WORK / "pg_inspect"
    root.mkdir(parents=True, exist_ok=True)
    name = f"dbshift_bench_inspect_{uuid.uuid4().hex[:8]}"
    url = with_database(SERVER, name)
    admin_execute(f'CREATE DATABASE "{name}"')
    try:
        build(url)
        floor, queries = catalog_floor(url)
        in_process = {
            "floor: dbshift's catalog queries only": floor,
            "dbshift inspect (psycopg 3)": dbshift_inspect(url),
            "schemainspect (psycopg2)": schemainspect_inspect(sqlalchemy_url(url, "psycopg2")),
            "schemainspect (psycopg 3)": schemainspect_inspect(sqlalchemy_url(url, "psycopg")),
        }
        for label, job in in_process.items():  # every tool sees the 500 tables (and warms up)
            if not label.startswith("floor"):
                assert job() == TABLES, label
        times = interleaved(in_process, args.rounds)
        print(
            f"{TABLES} tables (10 columns, 2 indexes, 1 foreign key each) on PostgreSQL; "
            f"{args.rounds} interleaved rounds\n\nIn-process (connect, inspect, close); "
            f"the floor runs dbshift's {queries} catalog queries:\n"
        )
        print(report(times, "schemainspect (psycopg2)"))

        script = root / "schemainspect_run.py"
        script.write_text(SCHEMAINSPECT_SCRIPT)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        whole = {
            "python -c pass": lambda: run_quiet([sys.executable, "-c", "pass"], root, env),
            "dbshift inspect -f json": lambda: run_quiet(
                [str(VENV_BIN / "dbshift"), "--db", url, "inspect", "-f", "json"], root, env
            ),
            "schemainspect script (psycopg2)": lambda: run_quiet(
                [sys.executable, str(script), sqlalchemy_url(url, "psycopg2")], root, env
            ),
        }
        times = interleaved(whole, args.rounds)
        print("\nWhole processes:\n")
        print(report(times, "schemainspect script (psycopg2)"))
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
