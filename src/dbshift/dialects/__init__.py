"""Dialects: one file per database, each a :class:`~dbshift.dialects.base.Database`."""

from __future__ import annotations

from dbshift.dialects.base import Database, Statement
from dbshift.dialects.description import describe
from dbshift.urls import DatabaseURL

__all__ = ["Database", "Statement", "describe", "open_database"]


def open_database(url: DatabaseURL, busy_timeout: float = 30.0, readonly: bool = False) -> Database:
    """Open a connection to ``url`` with the dialect's own class (imported lazily).

    ``readonly`` promises that nothing will be written; SQLite then opens the file read-only
    and does not create a missing one.
    """
    return describe(url.dialect).open(url, busy_timeout=busy_timeout, readonly=readonly)
