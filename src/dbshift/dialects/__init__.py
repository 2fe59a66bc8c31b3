"""Dialects: one file per database, each a :class:`~dbshift.dialects.base.Database`, and one
description per database (:mod:`dbshift.dialects.description`) that says everything dbshift knows
about it without a connection. Importing this package loads neither: ``urls`` reads the
descriptions while ``base`` reads ``urls``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dbshift.dialects.description import describe

if TYPE_CHECKING:
    from dbshift.dialects.base import Database
    from dbshift.urls import DatabaseURL

__all__ = ["describe", "open_database"]


def open_database(url: DatabaseURL, busy_timeout: float = 30.0, readonly: bool = False, on_wait=None) -> Database:
    """Open a connection to ``url`` with the dialect's own class (imported lazily).

    ``readonly`` promises that nothing will be written; SQLite then opens the file read-only
    and does not create a missing one. ``on_wait(message)`` hears when the lock makes it wait.
    """
    return describe(url.dialect).open(url, busy_timeout=busy_timeout, readonly=readonly, on_wait=on_wait)
