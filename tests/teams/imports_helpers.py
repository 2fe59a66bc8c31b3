"""Old tools' projects made in temporary folders, as those tools would leave them (their files, their
history tables with their real column layout), for `dbshift import` stories."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""

REVISION = '''"""{message}"""
from alembic import op
import sqlalchemy as sa

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{up}


def downgrade():
{down_body}
'''


def _body(lines: list[str]) -> str:
    return "\n".join("    " + line for line in lines) or "    pass"


def alembic_project(folder: Path, url: str, revisions: list[tuple[str, str, list[str], list[str]]]) -> Path:
    """An Alembic project (alembic.ini, env.py, one file per revision: id, message, upgrade and
    downgrade Python lines), linear in the order given."""
    (folder / "alembic" / "versions").mkdir(parents=True)
    (folder / "alembic.ini").write_text(f"[alembic]\nscript_location = %(here)s/alembic\nsqlalchemy.url = {url}\n")
    (folder / "alembic" / "env.py").write_text(ENV_PY)
    down = None
    for revision, message, up, down_lines in revisions:
        text = REVISION.format(message=message, revision=revision, down=down, up=_body(up), down_body=_body(down_lines))
        (folder / "alembic" / "versions" / f"{revision}_{message.replace(' ', '_')}.py").write_text(text)
        down = revision
    return folder


def alembic(folder: Path, *args: str) -> str:
    """Run Alembic itself in the project folder."""
    done = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def chinook_statements(corpus: Path, file: str) -> tuple[list[str], list[str], list[str]]:
    """The CREATE TABLE, ALTER TABLE and CREATE INDEX statements of a Chinook schema, in order."""
    from dbshift.dialects.description import describe

    dialect = "sqlite" if "Sqlite" in file else "postgresql"
    text = (corpus / "schemas" / "chinook" / "schema-only" / file).read_text()
    creates, alters, indexes = [], [], []
    for statement in describe(dialect).split_script(text):
        code = re.sub(r"/\*.*?\*/", "", statement.sql, flags=re.S).strip()
        for prefix, bucket in (("CREATE TABLE", creates), ("ALTER TABLE", alters), ("CREATE INDEX", indexes)):
            if code.upper().startswith(prefix):
                bucket.append(code.rstrip(";"))
    return creates, alters, indexes


def table_name(create: str) -> str:
    return re.match(r"CREATE TABLE\s+(\S+)", create)[1]


def index_name(create: str) -> str:
    return re.match(r"CREATE INDEX\s+(\S+)", create)[1]


FLYWAY_HISTORY = """
CREATE TABLE "flyway_schema_history" (
    "installed_rank" INT NOT NULL PRIMARY KEY,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INT,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),
    "execution_time" INT NOT NULL,
    "success" BOOLEAN NOT NULL
);
CREATE INDEX "flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");
"""


def flyway_migrate(db_path: Path, folder: Path, scripts: list[str], checksum=None) -> None:
    """Run versioned scripts on a SQLite file as Flyway does: each script's SQL, then its row in
    flyway_schema_history (the checksum is Flyway's CRC-32 of the file's lines unless given)."""
    from dbshift.teams.imports.flyway import flyway_checksum

    connection = sqlite3.connect(db_path)
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'flyway_schema_history'").fetchall():
        connection.executescript(FLYWAY_HISTORY)
    for script in scripts:
        data = (folder / script).read_bytes()
        connection.executescript(data.decode())
        match = re.match(r"^V([\d._]+)__(.+)\.sql$", Path(script).name)
        rank = connection.execute("SELECT count(*) + 1 FROM flyway_schema_history").fetchone()[0]
        connection.execute(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, "
            "installed_by, execution_time, success) VALUES (?, ?, ?, 'SQL', ?, ?, 'alice', 12, 1)",
            (rank, match[1].replace("_", "."), match[2].replace("_", " "), script, checksum or flyway_checksum(data)),
        )
    connection.commit()
    connection.close()


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to prove nothing was written)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sqlite_dump(path: Path) -> list[str]:
    """The whole SQLite database as SQL text (schema and every row), to prove nothing changed."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()
