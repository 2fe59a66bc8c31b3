"""Neutral steps for a column whose values are computed from the rows it joins: add it nullable,
backfill it, then constrain it.

A NOT NULL column cannot be added to a table with rows unless each row gets its value in the same
statement, and a value computed from the old row (``--default``, ``--convert``) cannot be given there.
So every planner takes the same three steps; each renders them in its own SQL (PostgreSQL one
statement a step; MySQL folds the adds into one ALTER TABLE and the backfills into one UPDATE). The
online-changes work builds on the same steps (batched backfills, NOT VALID constraints).
"""

from __future__ import annotations

from dataclasses import dataclass

from dbshift.schema.diff import AlterTable
from dbshift.schema.model import Column


@dataclass(frozen=True)
class AddColumnNullable:
    """Add ``column`` to ``table`` allowing NULL (whatever ``column.nullable`` says: it is filled next)."""

    table: str
    column: Column


@dataclass(frozen=True)
class Backfill:
    """Set ``column`` of every row of ``table`` to ``value``, SQL over the row as it was."""

    table: str
    column: str
    value: str


@dataclass(frozen=True)
class SetNotNull:
    """Make ``column`` (as it ends up) NOT NULL, once every row has its value."""

    table: str
    column: Column


Step = AddColumnNullable | Backfill | SetNotNull


def backfill_steps(change: AlterTable, column: Column) -> list[Step]:
    """How ``column``, added by ``change`` with a value computed from each old row (``change.up_values``),
    is filled: added nullable, backfilled, then made NOT NULL if it is; ``[]`` for a column without one."""
    value = change.up_values.get(column.name)
    if value is None:
        return []
    table = change.old.name
    steps: list[Step] = [AddColumnNullable(table, column), Backfill(table, column.name, value)]
    return steps + ([SetNotNull(table, column)] if not column.nullable else [])


def filled_columns(change: AlterTable) -> list[Step]:
    """The steps of every column ``change`` adds with computed values, in the table's order, step by step
    (each column's add, backfill, NOT NULL: a renderer picks the kinds it folds together)."""
    return [step for column in change.added for step in backfill_steps(change, column)]
