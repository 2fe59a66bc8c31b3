"""Dialects: one file per database, each a :class:`~dbshift.dialects.base.Database`."""

from __future__ import annotations

from dbshift.dialects.base import Database, Statement
from dbshift.urls import DatabaseURL

__all__ = ["Database", "Statement", "open_database"]


def open_database(url: DatabaseURL, busy_timeout: float = 30.0, readonly: bool = False) -> Database:
    """Open a connection to ``url`` with the dialect's own class (imported lazily).

    ``readonly`` promises that nothing will be written; SQLite then opens the file read-only
    and does not create a missing one.
    """
    if url.dialect == "sqlite":
        from dbshift.dialects.sqlite import SQLiteDatabase

        return SQLiteDatabase(url, busy_timeout=busy_timeout, readonly=readonly)
    if url.dialect == "postgresql":
        from dbshift.dialects.postgresql import PostgreSQLDatabase

        return PostgreSQLDatabase(url, busy_timeout=busy_timeout)
    if url.dialect == "mysql":
        from dbshift.dialects.mysql import MySQLDatabase

        return MySQLDatabase(url, busy_timeout=busy_timeout)
    raise ValueError(f"unknown dialect {url.dialect}")
