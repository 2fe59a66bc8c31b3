"""Diff speed: a 500-table schema against a desired schema differing in 50 tables.

Each table has 10 columns, 2 indexes and 1 foreign key. The 50 changed tables each gain a
column, lose an index and change a column's type. In-process: dbshift reads the live database,
executes the desired schema.sql in a scratch database, inspects both, diffs and plans; Alembic
runs `compare_metadata` against SQLAlchemy models of the desired schema (building the models
is not timed; the like-for-like dbshift row likewise reads the desired schema beforehand);
the floor reads the live schema with PRAGMAs alone. Whole processes:
`dbshift diff --from db` vs `alembic revision --autogenerate`.
Run: ./dev bench bench/diff.py [--rounds 7] [--baseline OTHER_CHECKOUT/src]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from pathlib import Path

from _timing import WORK, checkout_env, interleaved, report, run_quiet

ROOT = WORK / "diff"
TABLES = 500
CHANGED = 50
TYPES = ["INTEGER", "TEXT", "REAL", "TEXT", "INTEGER", "TEXT", "REAL", "INTEGER", "TEXT"]


def table_sql(i: int, changed: bool) -> str:
    columns = ["id INTEGER PRIMARY KEY"]
    for c in range(1, 9):
        kind = TYPES[c] if not (changed and c == 3) else "TEXT"
        columns.append(f"c{c} {kind}{' NOT NULL DEFAULT 0' if c == 1 else ''}")
    parent = f"t{i - 1}" if i > 0 else "t0"  # t0 refers to itself: one foreign key each, no cycle
    columns.append(f"parent_id INTEGER REFERENCES {parent}(id)")
    if changed:
        columns.append("extra TEXT")
    sql = f"CREATE TABLE t{i} (\n  " + ",\n  ".join(columns) + "\n);\n"
    sql += f"CREATE INDEX t{i}_c1 ON t{i}(c1);\n"
    if not changed:
        sql += f"CREATE INDEX t{i}_c2_c4 ON t{i}(c2, c4);\n"
    return sql


def schema(changed: bool) -> str:
    return "".join(table_sql(i, changed and i % (TABLES // CHANGED) == 0) for i in range(TABLES))


MODELS = '''\
"""SQLAlchemy models of the desired schema (generated)."""
import sqlalchemy as sa

metadata = sa.MetaData()
TYPES = {types!r}
for i in range({tables}):
    changed = i % ({tables} // {changed}) == 0
    columns = [sa.Column("id", sa.Integer, primary_key=True)]
    for c in range(1, 9):
        kind = "TEXT" if changed and c == 3 else TYPES[c]
        sa_type = {{"INTEGER": sa.Integer, "TEXT": sa.Text, "REAL": sa.REAL}}[kind]
        columns.append(sa.Column(f"c{{c}}", sa_type, nullable=c != 1, server_default="0" if c == 1 else None))
    parent = f"t{{i - 1}}" if i > 0 else "t0"
    columns.append(sa.Column("parent_id", sa.Integer, sa.ForeignKey(f"{{parent}}.id")))
    if changed:
        columns.append(sa.Column("extra", sa.Text))
    indexes = [sa.Index(f"t{{i}}_c1", "c1")] + ([] if changed else [sa.Index(f"t{{i}}_c2_c4", "c2", "c4")])
    sa.Table(f"t{{i}}", metadata, *columns, *indexes)
'''

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine
from models import metadata

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
"""


def build() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    conn = sqlite3.connect(ROOT / "app.db")
    conn.executescript(schema(False))
    conn.close()
    (ROOT / "schema.sql").write_text(schema(True))
    (ROOT / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    (ROOT / "migrations").mkdir()
    (ROOT / "models.py").write_text(MODELS.format(types=TYPES, tables=TABLES, changed=CHANGED))
    alembic = ROOT / "alembic"
    (alembic / "versions").mkdir(parents=True)
    (alembic / "env.py").write_text(ENV_PY)
    (alembic / "script.py.mako").write_text(
        '"""${message}"""\nrevision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n'
        "from alembic import op\nimport sqlalchemy as sa\n\ndef upgrade():\n    ${upgrades if upgrades else 'pass'}\n\n"
        "def downgrade():\n    ${downgrades if downgrades else 'pass'}\n"
    )
    (ROOT / "alembic.ini").write_text(
        "[alembic]\nscript_location = alembic\nprepend_sys_path = .\nsqlalchemy.url = sqlite:///app.db\n"
    )


def dbshift_in_process() -> int:
    from dbshift import Project

    result = Project(ROOT).diff("db", "schema.sql")
    return len(result.plan.operations)


def dbshift_like_alembic(desired):
    """Inspect the live database, diff and plan against a desired schema read beforehand
    (as Alembic's models are imported before compare_metadata is timed)."""
    from dbshift.drafting.draft import draft_schemas
    from dbshift.inspectors.sqlite import inspect_sqlite

    def run() -> int:
        conn = sqlite3.connect(ROOT / "app.db")
        current = inspect_sqlite(conn)
        conn.close()
        return len(draft_schemas(current, desired).plan.operations)

    return run


def pragmas_floor() -> int:
    conn = sqlite3.connect(ROOT / "app.db")
    count = 0
    for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'").fetchall():
        count += len(conn.execute(f'PRAGMA table_xinfo("{name}")').fetchall())
        count += len(conn.execute(f'PRAGMA foreign_key_list("{name}")').fetchall())
        for index in conn.execute(f'PRAGMA index_list("{name}")').fetchall():
            count += len(conn.execute(f'PRAGMA index_xinfo("{index[1]}")').fetchall())
    conn.close()
    return count


def alembic_compare(metadata):
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def run() -> int:
        engine = sa.create_engine(f"sqlite:///{ROOT / 'app.db'}")
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        engine.dispose()
        return len(diffs)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--baseline", type=Path, help="another checkout's src folder: its `dbshift diff` timed in the same rounds"
    )
    args = parser.parse_args()
    env = checkout_env()  # this checkout's src (not the venv's installed copy), compiled first
    build()
    sys.path.insert(0, str(ROOT))
    from models import metadata

    operations, alembic_diffs = dbshift_in_process(), alembic_compare(metadata)()
    assert operations >= CHANGED, operations
    assert alembic_diffs >= CHANGED, alembic_diffs
    from dbshift.drafting.sources import schema_from_file

    desired = schema_from_file(ROOT / "schema.sql")
    in_process = {
        "floor: PRAGMAs only (live schema)": pragmas_floor,
        "dbshift: run schema.sql in scratch, inspect both, diff, plan": dbshift_in_process,
        "dbshift: inspect live, diff, plan (desired read beforehand)": dbshift_like_alembic(desired),
        "Alembic compare_metadata": alembic_compare(metadata),
    }
    times = interleaved(in_process, args.rounds)
    print(
        f"{TABLES} tables (10 columns, 2 indexes, 1 foreign key each), {CHANGED} changed; "
        f"{args.rounds} interleaved rounds\n\nIn-process:\n"
    )
    print(report(times, "Alembic compare_metadata"))

    versions = ROOT / "alembic" / "versions"

    def clean(_name: str) -> None:
        for path in versions.glob("*.py"):
            path.unlink()

    whole = {
        "dbshift diff --from db": lambda: run_quiet(
            [sys.executable, "-m", "dbshift", "diff", "--from", "db", "--json"], ROOT, env
        ),
        **(
            {
                "dbshift diff --from db (baseline)": lambda: run_quiet(
                    [sys.executable, "-m", "dbshift", "diff", "--from", "db", "--json"],
                    ROOT,
                    {**env, "PYTHONPATH": str(args.baseline.resolve())},
                )
            }
            if args.baseline
            else {}
        ),
        "alembic revision --autogenerate": lambda: run_quiet(
            [str(Path(sys.executable).parent / "alembic"), "revision", "--autogenerate", "-m", "bench"], ROOT, env
        ),
    }
    times = interleaved(whole, args.rounds, setup=clean)
    print("\nWhole processes:\n")
    print(report(times, "alembic revision --autogenerate"))


if __name__ == "__main__":
    main()
