"""Inspectors: a live database -> :class:`dbshift.schema.model.Schema`, one module per dialect."""

from __future__ import annotations

import importlib

from dbshift.errors import ConfigError
from dbshift.schema.model import Schema

#: dialect name -> "module:function" that takes a :class:`Database` and returns a Schema.
INSPECTORS = {
    "sqlite": "dbshift.inspectors.sqlite:inspect_database",
    "postgresql": "dbshift.inspectors.postgresql:inspect_database",
    "mysql": "dbshift.inspectors.mysql:inspect_database",
}


def inspect(db) -> Schema:
    """The schema of the database ``db`` is connected to, read by its dialect's inspector."""
    target = INSPECTORS.get(db.dialect)
    if target is None:
        raise ConfigError(f"no schema inspector for the {db.dialect} dialect")
    module_name, function = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(f"schema inspection is not available for {db.dialect} yet",
                          hint="dbshift diff and inspect work on SQLite today") from None
    return getattr(module, function)(db)
