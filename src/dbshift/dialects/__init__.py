"""Dialects: one file per database, each a :class:`~dbshift.dialects.base.Database`."""

from __future__ import annotations

from dbshift.dialects.base import Database, Statement
from dbshift.urls import DatabaseURL

__all__ = ["Database", "Statement", "open_database"]


def open_database(url: DatabaseURL, busy_timeout: float = 30.0, readonly: bool = False, on_wait=None) -> Database:
    """Open a connection to ``url`` with the dialect's own class (imported lazily).

    ``readonly`` promises that nothing will be written; SQLite then opens the file read-only
    and does not create a missing one. ``on_wait(message)`` hears when the lock makes it wait.
    """
    if url.dialect == "sqlite":
        from dbshift.dialects.sqlite import SQLiteDatabase

        return SQLiteDatabase(url, busy_timeout=busy_timeout, readonly=readonly, on_wait=on_wait)
    if url.dialect == "postgresql":
        from dbshift.dialects.postgresql import PostgreSQLDatabase

        db = PostgreSQLDatabase(url, busy_timeout=busy_timeout)
    elif url.dialect == "mysql":
        from dbshift.dialects.mysql import MySQLDatabase

        db = MySQLDatabase(url, busy_timeout=busy_timeout)
    else:
        raise ValueError(f"unknown dialect {url.dialect}")
    db.on_wait = on_wait
    return db
