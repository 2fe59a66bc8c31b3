"""A new database from a squashed 200-migration project vs applying the 200 (whole processes).

The project: 20 tables, each created and then grown by nine more migrations (columns added, an
index, a renamed column, a child table with a foreign key), as tests/teams/squash_project.py
writes it. One copy keeps the 200 files; the other is `dbshift squash --to` the newest. Each
round deletes the database file, then times `dbshift apply` on an empty SQLite file in each copy.
Both rows write one history row per migration they run (200 vs 1).

Goal (issue 13): the squashed project at least 5x faster.
Run: ./dev bench bench/squash.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from _timing import SRC, WORK, checkout_env, interleaved, report

ROOT = WORK / "squash"
REPO = Path(__file__).resolve().parents[1]
COUNT = 200
DBSHIFT = [sys.executable, "-m", "dbshift"]


def run(args: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(DBSHIFT + args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"dbshift {' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def make_project(folder: Path, env: dict) -> int:
    """The 200-migration project (written by the tests' generator); the newest version."""
    sys.path[:0] = [str(REPO / "tests"), str(SRC)]
    from dbshift import Project
    from teams.squash_project import write_history

    versions = write_history(
        Project.init(folder, "sqlite:///app.db"), COUNT, lambda n: '"' + n.replace('"', '""') + '"'
    )
    return versions[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    env = checkout_env()
    shutil.rmtree(ROOT, ignore_errors=True)
    full, squashed = ROOT / "200-migrations", ROOT / "squashed"
    newest = make_project(full, env)
    shutil.copytree(full, squashed)
    run(["squash", "--to", str(newest)], squashed, env)

    def fresh(name: str) -> None:
        (ROOT / name / "app.db").unlink(missing_ok=True)

    jobs = {
        "200-migrations": lambda: run(["apply"], full, env),
        "squashed": lambda: run(["apply"], squashed, env),
    }
    times = interleaved(jobs, args.rounds, setup=fresh)
    same = run(["--json", "inspect", "--format", "json"], full, env) == run(
        ["--json", "inspect", "--format", "json"], squashed, env
    )
    print(f"a new SQLite database, {args.rounds} interleaved rounds, whole processes; same schema: {same}\n")
    print(report(times, "squashed"))


if __name__ == "__main__":
    main()
