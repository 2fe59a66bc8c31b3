"""MySQL/MariaDB column placement for ALTER TABLE: where added columns go (AFTER/FIRST), the
MODIFY ... AFTER steps that put the columns in the desired order, and the temporary columns that
hold converted values (see :func:`dbshift.planners.mysql.alter_table_sql`)."""

from __future__ import annotations

from dataclasses import replace

from dbshift.planners.mysql_objects import quote
from dbshift.planners.mysql_render import column_sql
from dbshift.schema import diff as d
from dbshift.schema.model import Column


def with_generated_values(change: d.AlterTable) -> d.AlterTable:
    """A generated column that becomes a plain one keeps the values it holds: they are its computed value."""
    values = {
        n.name: quote(o.name)
        for o, n in change.altered
        if o.generated is not None and n.generated is None and n.name not in change.up_values
    }
    return replace(change, up_values={**change.up_values, **values}) if values else change


def temp_columns(change: d.AlterTable) -> dict[str, str]:
    """New name -> temporary column, for each converted column whose values need a column of the new type.

    One column whose type, collation and NULL-ability hold the new values is updated in place
    instead (MySQL assigns left to right, so only one in-place assignment can read the old row).
    """
    taken = {c.name.lower() for c in change.old.columns + change.new.columns}
    temps, in_place = {}, False
    for old, new in change.altered:
        if new.name not in change.up_values:
            continue
        holds = (
            (old.type, old.collation) == (new.type, new.collation)
            and (old.nullable or not new.nullable)
            and old.generated is None
            and new.generated is None
        )
        if holds and not in_place:
            in_place = True
            continue
        name = ("_dbshift_tmp_" + new.name)[:64]
        while name.lower() in taken:
            name = name[:60] + "_" + str(len(taken))
        taken.add(name.lower())
        temps[new.name] = name
    return temps


def reorder_sql(change: d.AlterTable) -> list[str]:
    """MODIFY ... AFTER for the columns whose order changes, after every other step.

    The columns already in the desired relative order (a longest increasing run) stay; each other
    one moves after its desired predecessor, in desired order, so predecessors are in place first.
    """
    change = with_generated_values(change)
    wanted = [c.name for c in change.new.columns]
    now = _order_after_steps(change)
    staying = _longest_increasing([wanted.index(n) for n in now])
    statements = []
    for at, name in enumerate(wanted):
        if at in staying:
            continue
        place = f" AFTER {quote(wanted[at - 1])}" if at else " FIRST"
        statements.append(
            f"ALTER TABLE {quote(change.new.name)} MODIFY COLUMN {column_sql(change.new.columns[at])}{place}"
        )
    return statements


def _order_after_steps(change: d.AlterTable) -> list[str]:
    """Column names (new) in the order the other statements leave them: in one ALTER TABLE, added
    and re-made (generated) columns come after their predecessor (see :func:`_order_after_converting`)."""
    if change.up_values:
        return _order_after_converting(change)
    regenerated = [
        new.name
        for old, new in change.altered
        if (old.generated, old.generated_stored) != (new.generated, new.generated_stored)
    ]
    new_name = {old: new for new, old in change.sources.items()}
    order = [new_name[c.name] for c in change.old.columns if c.name in new_name and new_name[c.name] not in regenerated]
    wanted = [c.name for c in change.new.columns]
    for name in wanted:
        if name in order:
            continue
        at = wanted.index(name)
        order.insert(order.index(wanted[at - 1]) + 1 if at else 0, name)
    return order


def place_while_old(change: d.AlterTable, column: Column) -> tuple[str, str | None]:
    """Where a column added before the values are computed goes: ("after", name) of its predecessor
    when that one exists by then (an old column, under its old name, or a column added before it),
    ("first", None), or ("last", None)."""
    wanted = [c.name for c in change.new.columns]
    at = wanted.index(column.name)
    if at == 0:
        return "first", None
    previous = wanted[at - 1]
    if previous in change.sources:
        return "after", change.sources[previous]
    early = [c.name for c in change.added if c.name in change.up_values]
    return ("after", previous) if previous in early[: early.index(column.name)] else ("last", None)


def place_sql(place: tuple[str, str | None]) -> str:
    """`` FIRST``, `` AFTER name`` or "" (last) for a place from :func:`place_while_old`."""
    where, name = place
    return {"first": " FIRST", "last": ""}.get(where, f" AFTER {quote(name or '')}")


def _order_after_converting(change: d.AlterTable) -> list[str]:
    """Column names (new) in the order :func:`_converting_sql` leaves them, step by step."""
    temps = temp_columns(change)
    order = [c.name for c in change.old.columns] + [temps[n.name] for o, n in change.altered if n.name in temps]
    for column in change.added:
        if column.name in change.up_values:
            where, anchor = place_while_old(change, column)
            at = {"first": 0, "last": len(order)}.get(where, order.index(anchor) + 1 if anchor in order else len(order))
            order.insert(at, column.name)
    moved = {o.name for o, n in change.altered if n.name in temps}
    back = {temp: new for new, temp in temps.items()}
    order = [back.get(name, name) for name in order if name not in moved]
    regenerated = {
        o.name: n.name
        for o, n in change.altered
        if (o.generated, o.generated_stored) != (n.generated, n.generated_stored) and n.name not in temps
    }
    order = [name for name in order if name not in regenerated] + list(regenerated.values())
    order += [c.name for c in change.added if c.name not in change.up_values]
    dropped = {c.name for c in change.dropped}
    new_name = {old: new for new, old in change.sources.items()}
    return [new_name.get(name, name) for name in order if name not in dropped]


def _longest_increasing(values: list[int]) -> set[int]:
    """The values of one longest strictly increasing subsequence."""
    best: list[list[int]] = []
    for value in values:
        candidates = [run for run in best if run[-1] < value]
        best.append(max(candidates, key=len, default=[]) + [value])
    return set(max(best, key=len, default=[]))


def position_sql(change: d.AlterTable, column: Column, positions: bool) -> str:
    """AFTER the previous column by its new name (or FIRST); "" when ``positions`` is off (the column goes last)."""
    if not positions:
        return ""
    names = [c.name for c in change.new.columns]
    at = names.index(column.name)
    return f" AFTER {quote(names[at - 1])}" if at else " FIRST"
