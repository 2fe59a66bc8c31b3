"""PostgreSQL type change on a 1,000,000-row table: integer cents -> numeric(12,2) dollars with USING.

``orders`` (1,000,000 rows: a primary key, an index on user_id, amount_cents INTEGER NOT NULL)
changes ``amount_cents`` to ``numeric(12,2)`` holding dollars. Peers, each as a whole process:

- the single hand-written ``ALTER TABLE orders ALTER COLUMN amount_cents TYPE numeric(12,2)
  USING amount_cents / 100.0`` run by ``psql``;
- dbshift's runner applying the migration that ``dbshift diff`` drafted against the server
  (``--convert orders.amount_cents=amount_cents / 100.0``): one transaction with the ALTER and
  the history and log rows;
- the same runner in this process, its imports done beforehand (connect, apply, close);
- the whole ``dbshift apply`` (adds the lock, preflight, the safety net's records and, when the
  migration is flagged risky or destructive, a ``pg_dump -Fc`` backup first);
- a Python process that only does the runner script's imports: the fixed start-up cost.

Every run starts from the same state: the database is dropped and re-created from a template
database (``CREATE DATABASE ... TEMPLATE``, ``STRATEGY FILE_COPY``) followed by a CHECKPOINT;
none of that is timed. Every result is checked (type, row count, sum to the cent). The scratch
databases are dropped at the end, even on error.

Server: $DBSHIFT_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres, the
maintenance database). Run: ./dev bench bench/pg_type_change.py [--rounds 5] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from pathlib import Path

from _timing import VENV_BIN, WORK, interleaved, report, run_quiet

SERVER = os.environ.get("DBSHIFT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = WORK / "pg_type_change"
USERS = 100_000

INITIAL = """\
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id ON orders (user_id);
"""

DESIRED = INITIAL.replace("amount_cents INTEGER NOT NULL", "amount_cents NUMERIC(12,2) NOT NULL")

HAND_WRITTEN = "ALTER TABLE orders ALTER COLUMN amount_cents TYPE numeric(12,2) USING amount_cents / 100.0;\n"

RUNNER = """\
import sys
from pathlib import Path
from dbshift.dialects.postgresql import PostgreSQLDatabase
from dbshift.history import History
from dbshift.migrations import load_migration
from dbshift.runner import Runner
from dbshift.urls import parse_url

db = PostgreSQLDatabase(parse_url(sys.argv[1]))
Runner(db, History(db)).apply_one(load_migration(Path(sys.argv[2])))
db.close()
"""

#: The runner script's imports alone, psycopg included (the dialect imports it when it connects):
#: the fixed cost of a Python process that talks to PostgreSQL.
IMPORTS = "; ".join(line for line in RUNNER.splitlines() if line.startswith(("import", "from"))) + "; import psycopg"


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


class Server:
    """An autocommit connection to the maintenance database, for CREATE/DROP DATABASE."""

    def __init__(self, url: str):
        import psycopg

        from dbshift.dialects.postgresql import connection_kwargs
        from dbshift.urls import parse_url

        self.conn = psycopg.connect(**connection_kwargs(parse_url(url)), autocommit=True)

    def execute(self, sql: str):
        return self.conn.execute(sql)

    def close(self) -> None:
        self.conn.close()


def sql(url: str, statement: str) -> list[tuple]:
    import psycopg

    from dbshift.dialects.postgresql import connection_kwargs
    from dbshift.urls import parse_url

    with psycopg.connect(**connection_kwargs(parse_url(url)), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def build(template_url: str, rows: int) -> Path:
    """The template database (dbshift project applied, rows loaded) and the migration diff drafted."""
    from dbshift import Project
    from dbshift.migrations import write_sql_migration

    shutil.rmtree(ROOT, ignore_errors=True)
    project = Project.init(ROOT / "project", template_url)
    write_sql_migration(project.config.migrations_dir, "shop", INITIAL, "DROP TABLE orders;", version=20260101000000)
    project.hash()
    project.apply()
    sql(
        template_url,
        f"INSERT INTO orders (id, user_id, amount_cents, status, created_at) "
        f"SELECT i, (i * 7919) % {USERS} + 1, (i * 104729) % 500000, "
        "(ARRAY['new', 'paid', 'shipped'])[i % 3 + 1], "
        f"timestamptz '2026-01-01' + (i % 365) * interval '1 day' FROM generate_series(1::bigint, {rows}) i",
    )
    sql(template_url, "VACUUM (FREEZE, ANALYZE)")
    (ROOT / "project" / "schema.sql").write_text(DESIRED)
    draft = project.diff(
        "db",
        "schema.sql",
        name="amount_in_dollars",
        convert=["orders.amount_cents=amount_cents / 100.0"],
        reverse=["orders.amount_cents=(amount_cents * 100)::integer"],
    )
    return draft.path


def check(url: str, label: str, rows: int) -> None:
    """Every tool must end with numeric(12,2) dollars, every row, the sum to the cent."""
    kind = sql(
        url,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'orders'::regclass AND attname = 'amount_cents'",
    )[0][0]
    count, total = sql(url, "SELECT count(*), sum(amount_cents) FROM orders")[0]
    expected = sql(url, f"SELECT sum((i * 104729) % 500000) / 100.0 FROM generate_series(1::bigint, {rows}) i")[0][0]
    assert (kind, count, total) == ("numeric(12,2)", rows, expected), (label, kind, count, total, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    run_quiet([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "src")], WORK.parent)
    tag = uuid.uuid4().hex[:8]
    template, run = f"dbshift_bench_tc_template_{tag}", f"dbshift_bench_tc_run_{tag}"
    template_url, run_url = with_database(SERVER, template), with_database(SERVER, run)
    server = Server(SERVER)
    server.execute(f'CREATE DATABASE "{template}"')
    try:
        migration = build(template_url, args.rows)
        print(f"migration drafted by `dbshift diff` against the server: {migration.name}")
        print(migration.read_text())
        project_dir = ROOT / "project"
        (project_dir / "dbshift.toml").write_text(f'[database]\nurl = "{run_url}"\n')
        runner_script = ROOT / "dbshift_runner.py"
        runner_script.write_text(RUNNER)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        python = str(VENV_BIN / "python")
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={run_url}", "-c", HAND_WRITTEN]
        backups: list[int] = []

        def dbshift_apply() -> None:
            run_quiet([str(VENV_BIN / "dbshift"), "apply"], project_dir, env)
            backups.append(len(list((project_dir / "backups").glob("*"))) if (project_dir / "backups").exists() else 0)

        from dbshift.dialects.postgresql import PostgreSQLDatabase
        from dbshift.history import History
        from dbshift.migrations import load_migration
        from dbshift.runner import Runner
        from dbshift.urls import parse_url

        def runner_in_process() -> None:
            db = PostgreSQLDatabase(parse_url(run_url))
            try:
                Runner(db, History(db)).apply_one(load_migration(migration))
            finally:
                db.close()

        jobs = {
            "hand-written ALTER (psql)": lambda: run_quiet(psql, ROOT, env),
            "dbshift: generated migration (runner)": lambda: run_quiet(
                [python, str(runner_script), run_url, str(migration)], ROOT, env
            ),
            "dbshift runner in-process (imports done)": runner_in_process,
            "dbshift apply": dbshift_apply,
            "python + the runner's imports (psycopg too), no work": lambda: run_quiet(
                [python, "-c", IMPORTS], ROOT, env
            ),
        }

        def fresh(name: str) -> None:
            if name.startswith("python"):
                return
            shutil.rmtree(project_dir / "backups", ignore_errors=True)
            server.execute(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)')
            server.execute(f'CREATE DATABASE "{run}" TEMPLATE "{template}" STRATEGY FILE_COPY')
            sql(run_url, "CHECKPOINT")

        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _ in range(args.rounds):
            for name, job in jobs.items():
                part = interleaved({name: job}, 1, setup=fresh)
                times[name] += part[name]
                if not name.startswith("python"):
                    check(run_url, name, args.rows)
        print(
            f"orders: {args.rows:,} rows; {args.rounds} interleaved rounds, whole processes; "
            f"{sql(SERVER, 'SHOW server_version')[0][0]}\n"
        )
        print(report(times, "hand-written ALTER (psql)"))
        print(
            f"\n`dbshift apply` took a backup first in {sum(1 for b in backups if b)} of {len(backups)} runs "
            f"(files in backups/ after each run: {backups})"
        )
    finally:
        for name in (run, template):
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.close()


if __name__ == "__main__":
    main()
