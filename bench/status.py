"""`dbshift status` vs `alembic current` vs `yoyo list` on 200 applied migrations (whole processes).

Run: ./dev bench bench/status.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from _timing import VENV_BIN, WORK, interleaved, report, run_quiet

COUNT = 200


def make_dbshift(folder: Path) -> None:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (folder / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n')
    for i in range(COUNT):
        (migrations / f"{20260101000000 + (i // 60) * 100 + i % 60}_table_{i}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT);\n-- migrate:down\nDROP TABLE t{i};\n"
        )
    run_quiet([str(VENV_BIN / "dbshift"), "hash"], folder)
    run_quiet([str(VENV_BIN / "dbshift"), "apply"], folder)


ALEMBIC_REVISION = '''"""table {i}"""
from alembic import op
import sqlalchemy as sa

revision = "r{i:04d}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t{i}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Text))


def downgrade():
    op.drop_table("t{i}")
'''


def make_alembic(folder: Path) -> None:
    folder.mkdir(parents=True)
    run_quiet([str(VENV_BIN / "alembic"), "init", "alembic"], folder)
    ini = folder / "alembic.ini"
    ini.write_text(ini.read_text().replace("driver://user:pass@localhost/dbname", "sqlite:///app.db"))
    versions = folder / "alembic" / "versions"
    for i in range(COUNT):
        down = "None" if i == 0 else f'"r{i - 1:04d}"'
        (versions / f"r{i:04d}_table_{i}.py").write_text(ALEMBIC_REVISION.format(i=i, down=down))
    run_quiet([str(VENV_BIN / "alembic"), "upgrade", "head"], folder)


def make_yoyo(folder: Path) -> None:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    for i in range(COUNT):
        (migrations / f"{i:04d}_table_{i}.sql").write_text(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v TEXT);\n")
        (migrations / f"{i:04d}_table_{i}.rollback.sql").write_text(f"DROP TABLE t{i};\n")
    run_quiet(
        [
            str(VENV_BIN / "yoyo"),
            "apply",
            "--batch",
            "--no-config-file",
            "--database",
            "sqlite:///app.db",
            "migrations",
        ],
        folder,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    # An installed package has bytecode; an editable checkout under PYTHONDONTWRITEBYTECODE=1 has none.
    run_quiet([sys.executable, "-m", "compileall", "-q", str(Path(__file__).resolve().parents[1] / "src")], WORK.parent)
    root = WORK / "status"
    shutil.rmtree(root, ignore_errors=True)
    make_dbshift(root / "dbshift")
    make_alembic(root / "alembic")
    make_yoyo(root / "yoyo")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def command(argv, cwd):
        return lambda: run_quiet(argv, cwd, env)

    jobs = {
        "python -c pass": command([sys.executable, "-c", "pass"], root),
        "dbshift status": command([str(VENV_BIN / "dbshift"), "status"], root / "dbshift"),
        "dbshift status --json": command([str(VENV_BIN / "dbshift"), "status", "--json"], root / "dbshift"),
        "alembic current": command([str(VENV_BIN / "alembic"), "current"], root / "alembic"),
        "yoyo list": command(
            [str(VENV_BIN / "yoyo"), "list", "--no-config-file", "--database", "sqlite:///app.db", "migrations"],
            root / "yoyo",
        ),
    }
    times = interleaved(jobs, args.rounds)
    print(f"{COUNT} applied migrations, {args.rounds} interleaved rounds, whole processes\n")
    print(report(times, "alembic current"))
    print()
    print(report({k: v for k, v in times.items() if k != "python -c pass"}, "yoyo list"))


if __name__ == "__main__":
    main()
