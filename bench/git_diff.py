"""`dbshift diff --from git:HEAD~1` against the same diff from files (whole processes, same run).

A git repository holds a project of 200 migrations (one table each, ten columns and an index)
and a schema.sql; the last commit adds migration 200 and changes schema.sql. Pairs, each the
same work but for where the old side is read from:

- migrations: `--from git:HEAD~1` (the folder read with `git ls-tree` + `git cat-file --batch`)
  vs `--from migrations` in a plain copy of HEAD~1's project (`git archive`, no git involved);
- schema file: `--from git:HEAD~1:schema.sql` vs `--from old-schema.sql` (the same bytes).

Goal (issue 13): each git row at most 1.2x its file row.
Run: ./dev bench bench/git_diff.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from _timing import WORK, checkout_env, interleaved, report

ROOT = WORK / "git_diff"
COUNT = 200
DBSHIFT = [sys.executable, "-m", "dbshift"]


def table(i: int, extra: bool = False) -> str:
    columns = ["id INTEGER PRIMARY KEY"] + [f"c{c} TEXT" for c in range(1, 10)] + (["extra TEXT"] if extra else [])
    return f"CREATE TABLE t{i} ({', '.join(columns)});\nCREATE INDEX t{i}_c1 ON t{i} (c1);\n"


def migration(i: int) -> str:
    return f"-- migrate:up\n{table(i)}-- migrate:down\nDROP TABLE t{i};\n"


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def make_repo(folder: Path, env: dict) -> None:
    """Commit 1: 199 migrations and their schema; commit 2: migration 200, and schema.sql gains a column."""
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (folder / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.email", "bench@example.com")
    git(folder, "config", "user.name", "bench")
    for i in range(1, COUNT):
        (migrations / f"{20260101000000 + (i // 60) * 100 + i % 60}_t{i}.sql").write_text(migration(i))
    (folder / "schema.sql").write_text("".join(table(i) for i in range(1, COUNT)))
    run(["hash"], folder, env)
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "199")
    (migrations / f"{20260101000000 + (COUNT // 60) * 100 + COUNT % 60}_t{COUNT}.sql").write_text(migration(COUNT))
    (folder / "schema.sql").write_text("".join(table(i, extra=i == 7) for i in range(1, COUNT + 1)))
    run(["hash"], folder, env)
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "200")


def export(repo: Path, revision: str, to: Path) -> None:
    """A plain copy of ``revision``'s files (no .git): what the file rows read."""
    data = subprocess.run(["git", "archive", revision], cwd=repo, check=True, capture_output=True).stdout
    to.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(to, filter="data")


def run(args: list[str], cwd: Path, env: dict) -> None:
    """Run dbshift; exit 0 (same) and 1 (differs, with --check) are both fine, anything else is not."""
    done = subprocess.run(DBSHIFT + args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"dbshift {' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    env = checkout_env()
    shutil.rmtree(ROOT, ignore_errors=True)
    repo, old = ROOT / "repo", ROOT / "head-1"
    make_repo(repo, env)
    export(repo, "HEAD~1", old)
    (repo / "old-schema.sql").write_bytes((old / "schema.sql").read_bytes())  # untracked: read as a file

    def job(argv: list[str], cwd: Path):
        return lambda: run(argv, cwd, env)

    to = str(repo / "schema.sql")
    pairs = {
        "migrations": (
            ("diff --from git:HEAD~1", job(["diff", "--check", "--from", "git:HEAD~1", "--to", to], repo)),
            (
                "diff --from migrations (copy of HEAD~1)",
                job(["diff", "--check", "--from", "migrations", "--to", to], old),
            ),
        ),
        "schema file": (
            ("diff --from git:HEAD~1:schema.sql", job(["diff", "--check", "--from", "git:HEAD~1:schema.sql"], repo)),
            ("diff --from old-schema.sql", job(["diff", "--check", "--from", "old-schema.sql"], repo)),
        ),
    }
    jobs = {name: fn for pair in pairs.values() for name, fn in pair}
    times = interleaved(jobs, args.rounds)
    print(f"{COUNT} migrations, {args.rounds} interleaved rounds, whole processes\n")
    for (git_name, _), (file_name, _) in pairs.values():
        print(report({file_name: times[file_name], git_name: times[git_name]}, file_name))
        print()


if __name__ == "__main__":
    main()
