"""Where a schema comes from: the live database, a ``.sql`` file, another URL, the migrations.

A ``.sql`` file and the migrations directory are never parsed by hand: they are executed in a
scratch in-memory database and read back by the same inspector as a live database, so both
sides of a diff are normalized by the database itself.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from dbshift.dialects.description import describe
from dbshift.errors import ConfigError
from dbshift.schema.model import Schema

LIVE = ("db", "database", "live")
MIGRATIONS = ("migrations", "migrations-dir")
DEFAULT_DESIRED = "schema.sql"


@contextlib.contextmanager
def scratch_database(dialect: str, server=None) -> Iterator:
    """An empty throw-away database like ``server``; without a server, an in-memory SQLite one."""
    if server is not None:
        with server.empty_scratch() as db:
            yield db
        return
    url = describe(dialect).embedded_scratch_url()
    if url is None:
        raise ConfigError(f"no scratch database for {dialect}", hint="pass --from/--to db or a database URL")
    from dbshift.dialects import open_database
    from dbshift.urls import parse_url

    db = open_database(parse_url(url))
    try:
        yield db
    finally:
        db.close()


def inspect_database(db) -> Schema:
    """The schema of an open database."""
    from dbshift.inspectors import inspect

    return inspect(db)


def schema_from_sql(text: str, dialect: str = "sqlite", origin: str = "schema", server=None) -> Schema:
    """Execute ``text`` in a scratch database (on ``server`` for server dialects) and inspect the result."""
    if "\x00" in text:  # no driver takes one (sqlite3 raises ValueError): named like a file's
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(
            f"{origin}:{line}: a NUL byte (\\x00) in the text", hint="remove it: SQL text cannot hold NUL bytes"
        )
    with scratch_database(dialect, server) as db:
        db.allow_forward_references()
        try:
            _run_script(db, text)
        except Exception as exc:  # noqa: BLE001 - driver errors differ per dialect
            if not db.is_driver_error(exc):
                raise
            _raise_with_line(dialect, text, origin, server)
        return inspect_database(db)


def _run_script(db, text: str) -> None:
    """Run a whole script: in one call where the driver can (sqlite3), else statement by statement."""
    executescript = getattr(db.connection, "executescript", None)
    if executescript is not None:
        executescript(text)
        return
    for statement in db.split_script(text):
        db.execute(statement.sql)


def _raise_with_line(dialect: str, text: str, origin: str, server=None) -> None:
    """Run ``text`` again statement by statement to name the line that fails."""
    with scratch_database(dialect, server) as db:
        db.allow_forward_references()
        for statement in db.split_script(text):
            try:
                db.execute(statement.sql)
            except Exception as exc:  # noqa: BLE001 - driver errors differ per dialect
                if not db.is_driver_error(exc):
                    raise
                raise ConfigError(
                    f"{origin}:{statement.line}: {db.describe_error(exc)}",
                    hint="the desired schema must run as-is on an empty database",
                ) from None


def schema_from_file(path: Path, dialect: str = "sqlite", server=None) -> Schema:
    """The schema a ``.sql`` file creates."""
    if not path.is_file():
        raise ConfigError(
            f"schema file not found: {path}",
            hint="write the schema there, or name another file, db, migrations or a database URL",
        )
    from dbshift.migrations import migration_text

    return schema_from_sql(migration_text(path, path.read_bytes()), dialect, origin=str(path), server=server)


def schema_from_migrations(migrations: list, dialect: str = "sqlite", server=None) -> Schema:
    """The schema after applying every migration to an empty scratch database."""
    from dbshift.history import History
    from dbshift.runner import Runner

    with scratch_database(dialect, server) as db:
        history = History(db)
        history.ensure_tables()
        Runner(db, history).apply(migrations)
        return inspect_database(db)


def schema_from_url(url: str, base_dir: Path | None = None) -> Schema:
    """The schema of the database at ``url`` (opened read-only)."""
    from dbshift.dialects import open_database
    from dbshift.urls import parse_url

    db = open_database(parse_url(url, base_dir), readonly=True)
    try:
        return inspect_database(db)
    finally:
        db.close()
