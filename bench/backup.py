"""Backup and restore of a 1 GB SQLite database: dbshift vs the sqlite3 shell and a plain copy.

Run: ./dev bench bench/backup.py [--rounds 3]   (or .venv/bin/python bench/backup.py)

Backup peers: `sqlite3 db ".backup out"` (no check), and the same followed by
`PRAGMA integrity_check` on the copy (what `dbshift backup` also does, plus sha256 + manifest),
or by `PRAGMA quick_check` (what the automatic backup before a risky migration does, timed
in-process through the same `create_backup` call).
Restore peer: `cp backup db` + `sqlite3 db "PRAGMA integrity_check"`; dbshift restore also
checks the sha256, keeps the replaced file, fsyncs and renames. Whole processes, interleaved.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _bigdb import big_database
from _timing import BENCH_DIR, VENV_BIN, WORK, interleaved, report, run_quiet

FOLDER = WORK / "safety"


def sh(command: str, cwd: Path) -> None:
    """Run a shell command line, failing loudly."""
    proc = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{command} failed:\n{proc.stdout}\n{proc.stderr}")


def project(url: Path) -> Path:
    """A dbshift project folder whose database is ``url`` (keep every backup)."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    (FOLDER / "dbshift.toml").write_text(
        f'[database]\nurl = "sqlite:///{url}"\n\n[backups]\ndir = "backups"\nkeep = 0\n'
    )
    return FOLDER


def clean_outputs() -> None:
    """Delete every backup and restore output of the previous job."""
    for path in [FOLDER / "backups", FOLDER / "peer"]:
        shutil.rmtree(path, ignore_errors=True)
    (FOLDER / "peer").mkdir(parents=True)


def bench_backup(source: Path, rounds: int) -> str:
    folder = project(source)
    dbshift = str(VENV_BIN / "dbshift")
    jobs = {
        "sqlite3 .backup": lambda: sh(f"sqlite3 {source} '.backup peer/out.db'", folder),
        "sqlite3 .backup + integrity_check": lambda: sh(
            f"sqlite3 {source} '.backup peer/out.db' && sqlite3 peer/out.db 'PRAGMA integrity_check'", folder
        ),
        "dbshift backup": lambda: run_quiet([dbshift, "--json", "backup"], folder),
        "sqlite3 .backup + quick_check": lambda: sh(
            f"sqlite3 {source} '.backup peer/out.db' && sqlite3 peer/out.db 'PRAGMA quick_check'", folder
        ),
        "dbshift automatic backup (quick_check, in-process)": lambda: automatic_backup(source, folder),
    }
    return report(interleaved(jobs, rounds, setup=lambda name: clean_outputs()), "sqlite3 .backup")


def automatic_backup(source: Path, folder: Path) -> None:
    """The backup `apply` takes before a risky migration: the same copy, checked with quick_check."""
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    from dbshift.backup import create_backup
    from dbshift.dialects.sqlite import SQLiteDatabase
    from dbshift.urls import parse_url

    db = SQLiteDatabase(parse_url(f"sqlite:///{source}"), readonly=True)
    try:
        create_backup(db, folder / "backups", "before", 0, thorough=False)
    finally:
        db.close()


def bench_restore(source: Path, rounds: int) -> str:
    target = WORK / "safety-target" / "app.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    folder = project(target)
    clean_outputs()
    run_quiet(
        [str(VENV_BIN / "dbshift"), "--json", "backup", "--out", str(FOLDER / "the-backup.sqlite3")], folder
    ) if not (FOLDER / "the-backup.sqlite3").exists() else None
    backup = FOLDER / "the-backup.sqlite3"
    jobs = {
        "cp + integrity_check": lambda: sh(
            f"cp {backup} {target} && sqlite3 {target} 'PRAGMA integrity_check'", folder
        ),
        "cp + sync + integrity_check": lambda: sh(
            f"cp {backup} {target} && sync {target} && sqlite3 {target} 'PRAGMA integrity_check'", folder
        ),
        "dbshift restore": lambda: run_quiet([str(VENV_BIN / "dbshift"), "--json", "restore", str(backup)], folder),
    }
    return report(interleaved(jobs, rounds, setup=lambda name: clean_outputs()), "cp + integrity_check")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["backup", "restore"])
    args = parser.parse_args()
    source = big_database()
    size = os.path.getsize(source)
    print(f"database: {source} ({size / 1e6:.0f} MB), {args.rounds} interleaved rounds\n")
    if args.only != "restore":
        print("### backup\n")
        print(bench_backup(source, args.rounds) + "\n")
    if args.only != "backup":
        print("### restore\n")
        print(bench_restore(source, args.rounds) + "\n")


if __name__ == "__main__":
    main()
