"""`dbshift apply` of 200 small migrations vs the floor: one sqlite3 executescript per file.

Both in-process (library call vs bare Python loop) and as whole processes.
Run: ./dev bench bench/apply.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from _timing import VENV_BIN, WORK, interleaved, report, run_quiet

COUNT = 200
UP = """CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount INTEGER DEFAULT 0);
INSERT INTO t{i} (name, amount) VALUES ('a', 1), ('b', 2), ('c', 3);
CREATE INDEX t{i}_name ON t{i}(name);"""

FLOOR_SCRIPT = """
import sqlite3, sys
from pathlib import Path
conn = sqlite3.connect(sys.argv[1])
for path in sorted(Path(sys.argv[2]).glob("*.sql")):
    up = path.read_text().split("-- migrate:up", 1)[1].split("-- migrate:down", 1)[0]
    conn.executescript({wrap})
conn.close()
"""


def make_project(folder: Path) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (folder / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    for i in range(COUNT):
        version = 20260101000000 + (i // 60) * 100 + i % 60
        (migrations / f"{version}_table_{i}.sql").write_text(
            f"-- migrate:up\n{UP.format(i=i)}\n-- migrate:down\nDROP TABLE t{i};\n"
        )
    run_quiet([str(VENV_BIN / "dbshift"), "hash"], folder)
    return migrations


def floor_in_process(database: Path, migrations: Path, per_file_transaction: bool) -> None:
    conn = sqlite3.connect(database)
    for path in sorted(migrations.glob("*.sql")):
        up = path.read_text().split("-- migrate:up", 1)[1].split("-- migrate:down", 1)[0]
        conn.executescript(f"BEGIN;{up}COMMIT;" if per_file_transaction else up)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    run_quiet([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "src")], WORK.parent)
    root = WORK / "apply"
    shutil.rmtree(root, ignore_errors=True)
    migrations = make_project(root)
    database = root / "app.db"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    floor_file = root / "floor.py"

    from dbshift import Project

    def fresh(_name: str) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(database) + suffix).unlink(missing_ok=True)

    in_process = {
        "floor: executescript per file": lambda: floor_in_process(database, migrations, False),
        "floor: executescript per file, one transaction each": lambda: floor_in_process(database, migrations, True),
        "dbshift: Project.apply()": lambda: Project(root).apply(),
    }
    times = interleaved(in_process, args.rounds, setup=fresh)
    print(f"{COUNT} migrations (CREATE TABLE + INSERT 3 rows + CREATE INDEX each), {args.rounds} interleaved rounds\n")
    print("In-process:\n")
    print(report(times, "floor: executescript per file"))

    def process(argv):
        return lambda: run_quiet(argv, root, env)

    floor_file.write_text(FLOOR_SCRIPT.format(wrap="up"))
    whole = {
        "floor: python floor.py": process([sys.executable, str(floor_file), str(database), str(migrations)]),
        "dbshift apply": process([str(VENV_BIN / "dbshift"), "apply"]),
    }
    times = interleaved(whole, args.rounds, setup=fresh)
    print("\nWhole processes:\n")
    print(report(times, "floor: python floor.py"))


if __name__ == "__main__":
    main()
