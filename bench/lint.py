"""`dbshift lint` speed, three measures (figures and method in docs/benchmarks.md):

- ``files``: `dbshift lint` of 500 PostgreSQL migration files (squawk's rule cases and the sqldef
  PostgreSQL corpus, from ../shared/corpus) as a whole process, side by side with `squawk` (the
  squawk-cli package of the bench extra) on the same files: with the findings cache warm (the
  files were linted once before) and with --no-cache (every file parsed). Target: at most 1.5x squawk.
- ``apply``: `dbshift apply` of 200 small SQLite migrations with lint at apply (the default) and
  with `[lint] apply = "off"`. Target: lint adds at most 10%.
- ``gate``: the lint gate of ``apply`` alone on those 200 migrations, in CPU time (what lint adds,
  without the disk waits of the apply around it).
- ``data``: each data-aware check on a 5,000,000-row PostgreSQL table (BENCH_PG_URL, default the
  test server). Target: at most 2 s each. Long: run it only with --rows or BENCH_LINT_DATA=1.

Run: ./dev bench bench/lint.py files|apply|gate|data [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _timing import BENCH_DIR, SRC, WORK, interleaved, report

CORPUS = BENCH_DIR.parent.parent / "shared" / "corpus"
FILES = 500
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONDONTWRITEBYTECODE")},
    "PYTHONPATH": str(SRC),
}
DBSHIFT = [sys.executable, "-m", "dbshift"]


def _run(argv: list[str], cwd: Path, ok=(0, 1), env: dict | None = None) -> None:
    """Run a linter; exit 1 (findings) is a normal outcome, anything else is a broken benchmark."""
    proc = subprocess.run(argv, cwd=cwd, env={**ENV, **(env or {})}, capture_output=True, text=True)
    if proc.returncode not in ok:
        raise SystemExit(
            f"{' '.join(argv[:3])} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )


def _sources() -> list[tuple[str, str]]:
    """(up, down) pairs: squawk's cases, then the sqldef PostgreSQL cases with an up."""
    import yaml

    pairs = [(case["sql"], "") for case in json.loads((CORPUS / "squawk" / "cases.json").read_text())]
    for path in sorted((CORPUS / "sqldef" / "postgres").glob("*.yml")):
        for case in (yaml.safe_load(path.read_text()) or {}).values():
            if isinstance(case, dict) and (case.get("up") or "").strip():
                pairs.append((case["up"], case.get("down") or ""))
    return pairs


def make_files(folder: Path) -> Path:
    """500 migration files (the first 500 of the corpus) in ``folder/migrations``; an empty config."""
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (folder / "dbshift.toml").write_text("")
    pairs = _sources()
    for i in range(FILES):
        up, down = pairs[i % len(pairs)]
        version = 20260101000000 + (i // 60) * 100 + i % 60
        text = f"-- migrate:up\n{up.strip()}\n" + (f"-- migrate:down\n{down.strip()}\n" if down.strip() else "")
        (migrations / f"{version}_case_{i}.sql").write_text(text)
    return migrations


#: The floor of any Python linter on pglast: start Python, load the parser, read each file and parse
#: its two sections into libpg_query's JSON tree; no CLI, no rule, no output.
PARSE_FLOOR = """
import json, sys
from pathlib import Path
from pglast.parser import parse_sql_json
for path in sorted(Path(sys.argv[1]).glob("*.sql")):
    for section in path.read_text(encoding="utf-8").split("-- migrate:down"):
        try:
            json.loads(parse_sql_json(section.replace("-- migrate:up", "")))
        except Exception:
            pass
"""


def bench_files(rounds: int) -> None:
    _run([sys.executable, "-m", "compileall", "-q", str(SRC)], BENCH_DIR, ok=(0,))  # the venv's habit: .pyc present
    root = WORK / "lint_files"
    shutil.rmtree(root, ignore_errors=True)
    migrations = make_files(root)
    (root / "empty" / "migrations").mkdir(parents=True)  # start-up alone: imports, config, pglast
    (root / "empty" / "dbshift.toml").write_text("")
    files = sorted(str(p) for p in migrations.glob("*.sql"))
    squawk = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    if squawk is None:
        raise SystemExit("squawk not found: pip install the bench extra (squawk-cli)")
    lint = [*DBSHIFT, "lint", "--all", "--dialect", "postgresql"]
    _run(lint, root)  # the cache of the warm row: the files were linted once before (a hook, CI with its cache)
    jobs = {
        "squawk (500 files)": lambda: _run([squawk, *files], root),
        "dbshift lint --all, cache warm (500 files)": lambda: _run(lint, root),
        "dbshift lint --all --no-cache (500 files read)": lambda: _run([*lint, "--no-cache"], root),
        "dbshift lint FILE... (500 files named, as a hook passes them; cache warm)": lambda: _run(
            [*DBSHIFT, "lint", "--dialect", "postgresql", *files], root
        ),
        "dbshift lint of no file (start-up)": lambda: _run(lint, root / "empty"),
        "floor: python + pglast parse of the 500 files, no rule": lambda: _run(
            [sys.executable, "-c", PARSE_FLOOR, str(migrations)], root
        ),
    }
    times = interleaved(jobs, rounds)
    load = os.getloadavg()
    print(f"{FILES} PostgreSQL migration files from squawk's cases and sqldef's corpus, {rounds} interleaved rounds")
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print(report(times, "squawk (500 files)"))


def _apply_project() -> Path:
    """bench/apply.py's 200 migrations in ``.work/lint_apply``, hashed, with no database yet."""
    sys.path.insert(0, str(SRC))
    from apply import COUNT, UP

    from dbshift import Project

    root = WORK / "lint_apply"
    shutil.rmtree(root, ignore_errors=True)
    (root / "migrations").mkdir(parents=True)
    (root / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    for i in range(COUNT):
        version = 20260101000000 + (i // 60) * 100 + i % 60
        (root / "migrations" / f"{version}_table_{i}.sql").write_text(
            f"-- migrate:up\n{UP.format(i=i)}\n-- migrate:down\nDROP TABLE t{i};\n"
        )
    Project(root).hash()
    return root


def bench_apply(rounds: int) -> None:
    root = _apply_project()
    from dbshift import Project
    from dbshift.dialects.description import forget_splits

    database = root / "app.db"
    config = root / "dbshift.toml"
    base = config.read_text()

    def fresh(name: str) -> None:
        forget_splits()  # as in a new process: the gate (or the runner) splits each up once
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)
        config.write_text(base + ('\n[lint]\napply = "off"\n' if "off" in name else ""))

    cpu: dict[str, list[float]] = {}

    def apply(name: str):
        def job() -> None:
            started = time.process_time()
            Project(root).apply()
            cpu.setdefault(name, []).append(time.process_time() - started)

        return job

    off, on = 'dbshift apply, [lint] apply = "off"', "dbshift apply, lint at apply (default)"
    times = interleaved({off: apply(off), on: apply(on)}, rounds, setup=fresh)
    print(f"200 small SQLite migrations, Project.apply() in-process, {rounds} interleaved rounds\n")
    print(report(times, off))
    # CPU time of the same rounds: a shared machine's disk waits (each migration commits) move the
    # wall times above by more than lint costs, not these
    print("\nCPU time of the same rounds:\n")
    print(report(cpu, off))


def bench_gate(rounds: int) -> None:
    """The lint gate alone (what apply adds): CPU time of ``apply_findings`` for the 200 ups against
    an empty database, each round with no split remembered. CPU time, not wall time: the figure a
    busy shared machine's disk waits do not move."""
    root = _apply_project()
    from dbshift import Project
    from dbshift.dialects.description import forget_splits
    from dbshift.lint.gate import apply_findings

    project = Project(root)
    times = []
    with project.connect() as db:
        plan = project.migrations()
        for _ in range(rounds + 1):  # the first round imports the lint modules: not counted
            forget_splits()
            started = time.process_time()
            apply_findings(project.config, db, plan)
            times.append(time.process_time() - started)
    times = sorted(times[1:])
    print(f"lint gate of 200 small SQLite migrations (apply_findings), CPU time, {rounds} rounds")
    print(f"median {times[len(times) // 2] * 1000:.1f} ms, min {times[0] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")


DATA_MIGRATION = {
    "nulls-block-not-null": "ALTER TABLE big ALTER COLUMN note SET NOT NULL;",
    "duplicates-block-unique": "CREATE UNIQUE INDEX big_code ON big (code);",
    "rows-violate-constraint (FOREIGN KEY)": "ALTER TABLE big ADD FOREIGN KEY (parent) REFERENCES parent (id);",
    "rows-violate-constraint (CHECK)": "ALTER TABLE big ADD CONSTRAINT positive CHECK (amount > 0);",
    "data-dropped (column)": "ALTER TABLE big DROP COLUMN note;",
    "data-dropped (DELETE ... WHERE)": "DELETE FROM big WHERE amount < 10;",
    "values-changed-by-type (varchar(5): cut)": "ALTER TABLE big ALTER COLUMN note TYPE varchar(5);",
    "values-changed-by-type (integer: every value fits)": "ALTER TABLE big ALTER COLUMN code TYPE integer;",
}


def bench_data(rows: int, rounds: int) -> None:
    sys.path.insert(0, str(SRC))
    from dbshift.dialects import open_database
    from dbshift.lint import lint_migrations
    from dbshift.migrations import parse_migration
    from dbshift.urls import parse_url

    url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = open_database(parse_url(url))
    name = "dbshift_bench_lint_data"
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    admin.close()
    db = open_database(parse_url(url).with_database(name))
    try:
        started = time.perf_counter()
        with db.transaction():
            db.execute("CREATE TABLE parent (id bigint PRIMARY KEY)")
            db.execute("INSERT INTO parent SELECT g FROM generate_series(1, 1000) g")
            db.execute("CREATE TABLE big (id bigint PRIMARY KEY, code bigint, parent bigint, amount int, note text)")
            db.execute(
                "INSERT INTO big SELECT g, g % 4999999, 1 + g % 1003, g % 1000, CASE WHEN g % 1000000 = 7 THEN NULL "
                f"ELSE 'row ' || g END FROM generate_series(1, {rows}) g"
            )
        db.execute("ANALYZE big")
        print(f"table big: {rows:,} rows, filled in {time.perf_counter() - started:.1f} s\n")
        print("| check | finding | median | min | max |\n|---|---|---|---|---|")
        for label, sql in DATA_MIGRATION.items():
            path = WORK / "20260101000000_data_check.sql"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"-- migrate:up\n{sql}\n")
            migration = parse_migration(path.name, path.read_bytes(), path)
            times, found = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                found = lint_migrations([migration], "postgresql", database=db)
                times.append(time.perf_counter() - started)
            data = [f for f in found if f.code.split()[0] in label.split()[0]]
            shown = (data[0].problem[:90] if data else "none").replace("|", "/")
            times.sort()
            print(f"| {label} | {shown} | {times[len(times) // 2]:.2f} s | {times[0]:.2f} s | {times[-1]:.2f} s |")
    finally:
        db.close()
        admin = open_database(parse_url(url))
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("files", "apply", "gate", "data"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=None, help="data: rows of the big table (default 5,000,000)")
    args = parser.parse_args()
    if args.what == "files":
        bench_files(args.rounds)
    elif args.what == "apply":
        bench_apply(args.rounds)
    elif args.what == "gate":
        bench_gate(args.rounds)
    elif args.rows is None and not os.environ.get("BENCH_LINT_DATA"):
        raise SystemExit("data builds a 5,000,000-row table: pass --rows N or set BENCH_LINT_DATA=1")
    else:
        bench_data(args.rows or 5_000_000, args.rounds)


if __name__ == "__main__":
    main()
