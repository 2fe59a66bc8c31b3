"""Where a SQLite plan checks foreign keys: after the last step that changes what the check reads.

A table rebuild is followed by ``PRAGMA foreign_key_check`` on the rebuilt table and on the
tables that reference it. Run right after the rebuild, a check can read a half-done migration: a
child rebuilt to reference its parent's renamed key column is checked before the parent's
``RENAME COLUMN`` further on, and SQLite refuses it ("foreign key mismatch"); with both tables
rebuilt, no order of the two satisfies both checks. So each check is appended to the last step of
its direction that changes a table it reads: the checked table (its definition or its name) and
its parents (their definitions, names and indexes: the key a check probes is a parent's unique
index). From there on nothing it reads changes, so the check sees the state the direction ends
in and names the table as that state does. A check moves only to a step that names the checked
table or one of its parents, so a reader that splits a plan by the tables each step names (the
draft lint's parts) finds every table the check reads in the step's part.
"""

from __future__ import annotations

from dbshift.dialects.sqlite_description import SQLITE
from dbshift.planners.operations import Operation
from dbshift.schema import diff as d
from dbshift.schema.model import Schema, Table


def place_key_checks(
    changes: list, operations: list[Operation], diff: d.Diff, rebuilt_up: dict[int, str], rebuilt_down: dict[int, str]
) -> None:
    """Append the foreign key checks of the rebuilds to the steps they must follow, in both directions.

    ``changes[i]`` was planned as ``operations[i]``; ``rebuilt_up`` maps the steps whose up rebuilds
    a table to its name in ``diff.desired``, ``rebuilt_down`` the steps whose down rebuilds one to
    its name in ``diff.current``.
    """
    quote = SQLITE.quote
    touched = [_touched(change) for change in changes]
    up_order = list(range(len(operations)))
    for step, table in _placed(rebuilt_up, diff.desired, touched, up_order):
        operations[step].sql.append(f"PRAGMA foreign_key_check({quote(table)})")
    for step, table in _placed(rebuilt_down, diff.current, touched, up_order[::-1]):
        if operations[step].reverse is not None:
            operations[step].reverse.append(f"PRAGMA foreign_key_check({quote(table)})")


def _placed(rebuilt: dict[int, str], schema: Schema, touched: list, order: list[int]) -> list[tuple[int, str]]:
    """``(step, table)``: each table to check once, after the last step in ``order`` touching what it reads."""
    key = schema.names.table
    rank = {step: n for n, step in enumerate(order)}
    wanted: dict[str, tuple[Table, int]] = {}
    for step in sorted(rebuilt, key=rank.__getitem__):
        table = schema.table(rebuilt[step])
        for checked in _tables_to_check(table, schema) if table is not None else []:
            wanted.setdefault(key(checked.name), (checked, rank[step]))
    placed = []
    for n, (table, at) in enumerate(wanted.values()):
        parents = {key(k.ref_table) for k in table.foreign_keys}
        reads = parents | {key(table.name)}
        for step in order[at:]:
            names, indexed = touched[step]
            if {key(name) for name in names} & reads or {key(name) for name in indexed} & parents:
                at = max(at, rank[step])
        placed.append((at, n, table.name))
    return [(order[at], name) for at, _, name in sorted(placed)]


def _touched(change) -> tuple[set[str], set[str]]:
    """``(tables, indexed)``: the tables a change alters, creates, drops or renames (both names),
    and the tables whose indexes it creates or drops."""
    if isinstance(change, (d.CreateTable, d.DropTable)):
        return {change.table.name}, set()
    if isinstance(change, d.RenameTable):
        return {change.old, change.new}, set()
    if isinstance(change, d.AlterTable):
        return {change.name, change.old.name, change.new.name}, set()
    if isinstance(change, (d.CreateIndex, d.DropIndex)):
        return set(), {change.index.table}
    return set(), set()  # views, triggers: a key check reads neither


def _tables_to_check(table: Table, schema: Schema) -> list[Table]:
    """The rebuilt table when it has foreign keys, and every table whose foreign keys point at it."""
    key = schema.names.table
    found = [table] if table.foreign_keys else []
    for other in schema.tables:
        if key(other.name) != key(table.name) and any(key(k.ref_table) == key(table.name) for k in other.foreign_keys):
            found.append(other)
    return found
