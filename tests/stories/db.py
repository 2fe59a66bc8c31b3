"""Reading a project's database the same way on every dialect, through dbshift's own ``open_database``."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from conftest import write_migration
from dbshift.dialects import open_database
from dbshift.history import BOOKKEEPING_TABLES

#: What each database says when a statement names a table that does not exist.
NO_SUCH_TABLE = {
    "sqlite": "no such table: no_such_table",
    "postgresql": 'relation "no_such_table" does not exist',
    "mysql": "no_such_table' doesn't exist (error 1146)",
}


def dialect_of(project) -> str:
    """``sqlite``, ``postgresql`` or ``mysql``."""
    return project.config.url.dialect


def rows(project, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """The rows of ``sql`` run on the project's database in a connection of its own (``?`` placeholders)."""
    db = open_database(project.config.url)
    try:
        return db.execute(sql.replace("?", db.placeholder), params)
    finally:
        db.close()


def tables(project) -> list[str]:
    """The user's tables (without dbshift's own), sorted."""
    db = open_database(project.config.url)
    try:
        return [t for t in db.user_tables() if t not in BOOKKEEPING_TABLES]
    finally:
        db.close()


def schema(project) -> list[tuple[str, str]]:
    """Every user table as (name, definition) as the database reports it: equal means the same schema."""
    db = open_database(project.config.url)
    try:
        return [(name, text) for name, text in db.schema_snapshot() if not name.startswith("dbshift_")]
    finally:
        db.close()


def fingerprints(project) -> dict:
    """Rows, content hash and schema per table, as ``dbshift verify`` computes them."""
    return {name: (fp.rows, fp.content, fp.schema) for name, fp in project.verify().fingerprints.items()}


def drop_index(project, index: str, table: str) -> str:
    """``DROP INDEX`` as the dialect writes it (MySQL names the table)."""
    return f"DROP INDEX {index} ON {table};" if dialect_of(project) == "mysql" else f"DROP INDEX {index};"


def sleep(project, seconds: float, table: str = "busy") -> str:
    """SQL that keeps the database busy for about ``seconds`` (SQLite: a big insert into a new ``table``)."""
    dialect = dialect_of(project)
    if dialect == "postgresql":
        return f"SELECT pg_sleep({seconds});"
    if dialect == "mysql":
        return f"SELECT SLEEP({seconds});"
    rows_needed = int(seconds * 4_000_000)
    return (
        f"CREATE TABLE {table} (n INTEGER);\nWITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
        f"WHERE n < {rows_needed})\nINSERT INTO {table} SELECT n FROM c;"
    )


def spawn_cli(project, *args: str) -> subprocess.Popen:
    """Start ``dbshift ARGS`` as a separate process in the project folder."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "dbshift", *args],
        cwd=project.config.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def add(project, version: int, name: str, up: str, down: str | None = None, header: str = "") -> Path:
    """Write a migration as a user would, and refresh ``dbshift.sum``."""
    path = write_migration(project, version, name, up, down, header)
    project.hash()
    return path


V_SHOP = 20260101090000

SHOP_UP = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100) NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    note VARCHAR(20),
    FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX orders_user ON orders (user_id);
"""


def make_shop(project, users: int = 50, orders: int = 400) -> None:
    """Apply the shop schema (users, orders) and fill it with rows: every fifth order has no note."""
    add(project, V_SHOP, "shop", SHOP_UP, "DROP TABLE orders;\nDROP TABLE users;")
    project.apply()
    insert_rows(project, "users", [(i, f"user{i}@example.com", f"User {i}") for i in range(1, users + 1)])
    insert_rows(
        project,
        "orders",
        [(i, 1 + i % users, 100 * i + 7, f"note {i}" if i % 5 else None) for i in range(1, orders + 1)],
    )


def insert_rows(project, table: str, values: list[tuple]) -> None:
    """Insert ``values`` into ``table`` with one multi-row statement of bound parameters."""
    db = open_database(project.config.url)
    try:
        marks = "(" + ", ".join([db.placeholder] * len(values[0])) + ")"
        with db.transaction():
            db.execute(
                f"INSERT INTO {db.quote(table)} VALUES " + ", ".join([marks] * len(values)),
                [value for row in values for value in row],
            )
    finally:
        db.close()


def witness(project) -> tuple:
    """Evidence that nobody wrote to the real database: fingerprints and history; on SQLite also the
    file's bytes, mtime and -wal/-journal companions."""
    evidence = (fingerprints(project), rows(project, "SELECT version, status FROM dbshift_history ORDER BY version"))
    path = project.config.url.path
    if dialect_of(project) != "sqlite":
        return evidence
    files = sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))
    return evidence + (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, files)
