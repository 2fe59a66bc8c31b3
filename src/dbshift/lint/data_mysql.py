"""MySQL/MariaDB's count for ``values-changed-by-type``: the live values of a column that
``ALTER TABLE ... MODIFY`` would not keep. In strict mode the ALTER fails on the first of them
(out of range, data too long, incorrect value); without strict mode it silently truncates or
clamps them. Each value is replayed with the casts MySQL has (the planner's
:class:`dbshift.planners.mysql_losses.Kind`: there with room to spare, and back) and checked
against the new type's range or length.

Pairs that keep every value (``INT`` -> ``BIGINT``, a longer ``VARCHAR``...) are known from
:func:`dbshift.planners.mysql_losses.widens` and run no query; types whose storing the casts
cannot replay (ENUM, SET, binary strings, a date through a float) are not counted.
"""

from __future__ import annotations

from dbshift.planners.mysql_losses import kind_of, unreplayable, widens


def keeps_every_value(old_type: str, change) -> bool:
    """Whether every value of ``old_type`` survives the change as it is (then nothing is counted)."""
    return old_type.upper() == change.type_sql.upper() or widens(kind_of(old_type), kind_of(change.type_sql))


def _out_of_range(stored: str, column: str, after) -> list[str]:
    """Conditions true when the value cannot be stored in the new type at all."""
    if after.family == "integer":
        bits = after.size[0] * 8
        low, high = (0, 2**bits - 1) if after.unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return [f"{stored} NOT BETWEEN {low} AND {high}"]
    if after.family == "decimal":
        precision, scale = after.size
        found = [f"ABS({stored}) >= {10 ** (precision - scale)}"]
        return found + ([f"{stored} < 0"] if after.unsigned else [])
    if after.family in ("text", "char"):
        return [f"CHAR_LENGTH({column}) > {after.size[0]}"]
    return []


def changed_values(reader, change) -> str | None:
    """The finding's detail for a :class:`dbshift.lint.data.TypeChange`, or None."""
    before, after = kind_of(change.old_type), kind_of(change.change.type_sql)
    if not (before.replayable and after.replayable) or unreplayable(before, after):
        return None
    column = change.column
    stored = after.cast(column, before)
    lost = [f"NOT ({before.same(column, before.cast(stored, after))})", *_out_of_range(stored, column, after)]
    condition = f"{column} IS NOT NULL AND ({' OR '.join(lost)})"
    counted = change.counted(
        reader, condition, f"values of {change.label} that the new type truncates, rounds or cannot hold"
    )
    if counted is None:
        return None
    return counted + " (strict mode: the ALTER fails on them; otherwise they are silently changed)"
