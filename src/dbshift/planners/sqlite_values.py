"""What SQLite stores when a value moves to a column of another type, and loss checks built on it.

SQLite converts a value to the *affinity* of the column it is stored in
(https://sqlite.org/datatype3.html#type_affinity): a TEXT column turns numbers into text, a
NUMERIC or INTEGER column turns text that is a well-formed number (``'007'``, ``' 1'``,
``'1e2'``) into that number and a REAL that is an exact integer into an INTEGER, a REAL column
turns integers and numeric text into REALs, and a BLOB (or untyped) column keeps everything.

A table rebuild copies each value into the new column (the up) and back into the old one (the
down), so whether a value comes back depends on the value: 9007199254740993 does not survive a
REAL, ``'007'`` does not survive an INTEGER. :func:`loss_checks` writes, for each such column, a
query counting the current values that the up followed by the down would not give back
identical (same storage class, same value, compared byte for byte). The expressions below are
what SQLite itself does on storage, written with its own ``CAST`` and comparison rules; the
property test over type pairs proves them against real rebuilds.
"""

from __future__ import annotations

from dbshift.dialects.sqlite_description import SQLITE, type_affinity

OLD = '"_dbshift_old"'
BACK = '"_dbshift_back"'
quote, literal = SQLITE.quote, SQLITE.literal


SMALLEST, LARGEST = "-9223372036854775808", "9223372036854775807"


def stored_as(affinity: str, value: str) -> str:
    """SQL: what a column of ``affinity`` stores when given ``value`` (an expression).

    One ``CASE typeof(value)``: SQLite evaluates its operand once and ``value`` once more in the
    branch taken, so a conversion that is already of the column's class costs little.
    """
    value = f"({value})"  # an expression given by --convert may be `a OR b`: `+a OR b` would be wrong
    if affinity == "TEXT":
        return f"(CASE typeof({value}) WHEN 'integer' THEN CAST({value} AS TEXT) WHEN 'real' THEN CAST({value} AS TEXT) ELSE {value} END)"
    if affinity == "REAL":
        return (
            f"(CASE typeof({value}) WHEN 'real' THEN {value} WHEN 'integer' THEN CAST({value} AS REAL) "
            f"WHEN 'text' THEN (CASE WHEN {_is_a_number(value)} THEN CAST({value} AS REAL) ELSE {value} END) "
            f"ELSE {value} END)"
        )
    if affinity in ("INTEGER", "NUMERIC"):
        # Numeric text becomes a number, then (like a REAL given to the column) an INTEGER when the
        # number is a whole one inside the 64-bit range. CAST(... AS NUMERIC) alone keeps a REAL
        # above 2^51, where the column would store an INTEGER.
        number = f"CAST({value} AS NUMERIC)"
        return (
            f"(CASE typeof({value}) WHEN 'integer' THEN {value} WHEN 'real' THEN {_whole_to_integer(value)} "
            f"WHEN 'text' THEN (CASE WHEN {_is_a_number(value)} THEN {_whole_to_integer(number)} ELSE {value} END) "
            f"ELSE {value} END)"
        )
    return value  # BLOB affinity (a BLOB or untyped column) keeps every value as it is


def _is_a_number(text: str) -> str:
    """SQL: ``text`` (a TEXT value) is one that numeric affinity turns into a number.

    ``CAST(v AS NUMERIC)`` has NUMERIC affinity and ``+v`` none, so SQLite applies numeric
    affinity to ``+v`` before comparing: the two are equal exactly when the whole text is a number.
    """
    return f"CAST({text} AS NUMERIC) = +{text}"


def _whole_to_integer(number: str) -> str:
    """SQL: ``number`` (an INTEGER or a REAL) as SQLite's integer affinity leaves it: a REAL that is a
    whole number strictly between -2^63 and 2^63 - 1 becomes that INTEGER (-2^63 stays a REAL)."""
    return (
        f"(CASE WHEN {number} = CAST({number} AS INTEGER) AND {number} > {SMALLEST} AND {number} < {LARGEST} "
        f"THEN CAST({number} AS INTEGER) ELSE {number} END)"
    )


def same_value(left: str, right: str) -> str:
    """SQL: the two values are identical: same storage class, same value, text compared byte by byte."""
    return f"(typeof({left}) = typeof({right}) AND +{left} IS +{right} COLLATE BINARY)"


def comes_back(affinity: str, back: str, old: str) -> str:
    """SQL: a column of ``affinity`` that holds ``old`` and is given ``back`` stores ``old`` again.

    It runs on every row, so the common case is decided first with ``back`` evaluated once: ``back``
    equal to ``old`` (``IS`` without affinity: different classes never match, except an INTEGER and
    a REAL, which SQLite compares exactly). Then the column stores ``old`` again, because what a
    column holds already has its affinity (SQLite applies it on every write) and storing it again
    changes nothing: an INTEGER column given 5.0 for its 5 stores 5, a REAL column given 5 for its
    5.0 stores 5.0. The one exception is -2^63, which SQLite keeps as a REAL when given as a REAL.
    Every other row takes the exact comparison of what the column would store.
    """
    exact = same_value(stored_as(affinity, back), old)
    if affinity == "BLOB":
        return exact  # stored as given: the exact comparison is already the cheap one
    shortcut = f"+{back} IS +{old} COLLATE BINARY"
    if affinity in ("INTEGER", "NUMERIC"):
        shortcut += f" AND {old} IS NOT {SMALLEST}"
    return f"(({shortcut}) OR {exact})"


def loss_checks(change, table_before: str) -> list[str]:
    """Loss-check queries for one table rebuild (``change`` is an AlterTable; ``table_before`` is the
    table's name before the migration). Each returns the count of values that would not come back
    and the ``table.column`` it counts, for every kept column whose round trip the data decides."""
    new_values = _new_values(change)
    checks = []
    for column, new_name in checked_columns(change):
        back = change.down_values.get(column.name, quote(new_name))
        inner = ", ".join([f"{quote(column.name)} AS {OLD}"] + [f"{v} AS {quote(n)}" for n, v in new_values.items()])
        rows = f"(SELECT {OLD}, {back} AS {BACK} FROM (SELECT {inner} FROM {quote(table_before)}))"
        label = literal(f"{change.name}.{column.name}")
        kept = comes_back(column_affinity(change.old, column), BACK, OLD)
        checks.append(f"SELECT count(*), {label} FROM {rows} WHERE NOT {kept}")
    return checks


def column_affinity(table, column) -> str:
    """The affinity ``column`` of ``table`` stores values with: a STRICT table's ANY column keeps them as
    they are (in an ordinary table, ANY is NUMERIC like any unknown type name)."""
    if table.options.get("strict") and column.type.upper() == "ANY":
        return "BLOB"
    return type_affinity(column.type)


def checked_columns(change) -> list[tuple]:
    """(old column, new name) of every kept column whose round trip the values decide: its affinity
    changes, or a conversion (with its reverse) is given."""
    result = []
    for column in change.old.columns:
        new_name = next((n for n, o in change.sources.items() if o == column.name), None)
        if new_name is None or column.name in change.lossy_down or column.generated is not None:
            continue
        converted = new_name in change.up_values or column.name in change.down_values
        if converted or column_affinity(change.old, column) != column_affinity(change.new, change.new.column(new_name)):
            result.append((column, new_name))
    return result


def _new_values(change) -> dict[str, str]:
    """New column name -> SQL over the old row for what the up stores in it (kept and computed columns)."""
    values = {}
    for column in change.new.columns:
        if column.generated is not None:
            continue
        value = change.up_values.get(column.name)
        source = change.sources.get(column.name)
        if value is None and source is None:
            continue
        values[column.name] = stored_as(
            column_affinity(change.new, column), value if value is not None else quote(source)
        )
    return values
