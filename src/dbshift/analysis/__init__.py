"""Statement analysis: what a statement creates, drops, deletes, truncates, renames or rebuilds,
read the way the database reads it (SQLite: the database itself, through its authorizer, on a
schema-only copy; PostgreSQL: its own parser, ``pglast``; MySQL/MariaDB: ``sqlglot``).

One analyser per dialect, in one file each, loaded only when a statement is analysed::

    with analyser_for(db) as analyser:
        script = analyser.script(statements)

A statement the analyser cannot read comes back with ``unreadable`` set: callers count it as
losing data. The results are plain data (:mod:`dbshift.analysis.effects`) for safety checks and
lint rules alike.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dbshift.analysis.effects import (
    ColumnRef,
    DroppedPartitions,
    DroppedTable,
    Rebuild,
    Rename,
    RowCopy,
    RowDeletion,
    SchemaChange,
    ScriptEffects,
    StatementEffects,
    TableName,
)
from dbshift.dialects.description import describe

if TYPE_CHECKING:
    from dbshift.analysis.base import Analyser
    from dbshift.dialects.base import Database

__all__ = [
    "ColumnRef",
    "DroppedPartitions",
    "DroppedTable",
    "Rebuild",
    "Rename",
    "RowCopy",
    "RowDeletion",
    "SchemaChange",
    "ScriptEffects",
    "StatementEffects",
    "TableName",
    "analyse",
    "analyse_script",
    "analyser_for",
]


def analyser_for(db_or_dialect: Database | str) -> Analyser:
    """The analyser of a database (its live schema is what the statements start from) or of a
    dialect name (``sqlite``, ``postgresql``, ``mysql``: an empty schema)."""
    dialect = db_or_dialect if isinstance(db_or_dialect, str) else db_or_dialect.dialect
    module = importlib.import_module(describe(dialect).analyser)  # the dialect's description names it
    return module.make_analyser(None if isinstance(db_or_dialect, str) else db_or_dialect)


def analyse(db_or_dialect: Database | str, sql: str) -> StatementEffects:
    """What one statement does (see :func:`analyser_for`)."""
    with analyser_for(db_or_dialect) as analyser:
        return analyser.statement(sql)


def analyse_script(db_or_dialect: Database | str, statements: list[str]) -> ScriptEffects:
    """What a script's statements do, in order, with the table rebuilds they make up."""
    with analyser_for(db_or_dialect) as analyser:
        return analyser.script(statements)
