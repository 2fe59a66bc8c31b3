"""Inspectors: a live database -> :class:`dbshift.schema.model.Schema`, one module per dialect."""

from __future__ import annotations

from dbshift.dialects.description import describe
from dbshift.schema.model import Schema


def inspect(db) -> Schema:
    """The schema of the database ``db`` is connected to, read by its dialect's inspector."""
    return describe(db.dialect).inspect(db)
