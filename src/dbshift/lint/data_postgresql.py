"""PostgreSQL's count for ``values-changed-by-type``: the live values of a column that
``ALTER COLUMN ... TYPE new`` would not keep, found by PostgreSQL's own casts there and back
(``CAST(CAST(col AS new) AS old) IS DISTINCT FROM col``: 19.99 rounds to 20, a timestamp loses
its time, a text is cut). When the cast itself fails on a value (SQLSTATE class 22: invalid input,
out of range, too long), the ALTER fails the same way: that is the finding, with the rows whose
value is not valid input for the new type (``pg_input_is_valid``, PostgreSQL 16+).

Pairs that keep every value (``integer`` -> ``bigint``, a longer ``varchar``...) are known from
:func:`dbshift.planners.postgresql_losses.cast_verdict` and run no query.
"""

from __future__ import annotations

from dbshift.planners.postgresql_losses import ALWAYS, INTEGER_LIMITS, NUMBERS, cast_verdict, split_type

#: pglast's internal type names -> the names the inspector (``format_type``) gives them.
CANONICAL = {
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "float4": "REAL",
    "float8": "DOUBLE PRECISION",
    "numeric": "NUMERIC",
    "varchar": "CHARACTER VARYING",
    "bpchar": "CHARACTER",
    "text": "TEXT",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITHOUT TIME ZONE",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
    "time": "TIME WITHOUT TIME ZONE",
    "timetz": "TIME WITH TIME ZONE",
    "interval": "INTERVAL",
    "json": "JSON",
    "jsonb": "JSONB",
    "uuid": "UUID",
    "bytea": "BYTEA",
}
#: SQLSTATE class of data exceptions: the query failed because of a value.
DATA_EXCEPTION = "22"


def canonical_type(change) -> str | None:
    """The new type as the inspector writes a column's type (``NUMERIC(10,2)``,
    ``TIMESTAMP(3) WITHOUT TIME ZONE``); None for a type this table does not know (or an array)."""
    name = CANONICAL.get(change.type_name or "")
    if name is None or "[" in (change.type_sql or ""):
        return None
    args = list(change.type_args)
    if name == "NUMERIC" and len(args) == 1:
        args.append(0)
    if name == "CHARACTER" and not args:
        args = [1]
    if not args:
        return name
    first, _, rest = name.partition(" ") if name.startswith(("TIME", "TIMESTAMP")) else (name, "", "")
    return f"{first}({','.join(map(str, args))}){' ' + rest if rest else ''}"


def keeps_every_value(old_type: str, change) -> bool:
    """Whether every value of ``old_type`` survives the change as it is (then nothing is counted)."""
    new = canonical_type(change)
    return new is not None and cast_verdict(old_type, new)[0] == ALWAYS


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def changed_values(reader, change) -> str | None:
    """The finding's detail for a :class:`dbshift.lint.data.TypeChange`, or None (nothing lost,
    or the count cannot run: a pair with no cast back, say)."""
    column, new = change.column, change.change.type_sql
    changed = f"{column} IS NOT NULL AND CAST(CAST({column} AS {new}) AS {change.old_type}) IS DISTINCT FROM {column}"
    rows, error = reader.attempt(f"SELECT count(*) FROM {change.source} WHERE {changed}")
    if error is None:
        return change.counted(
            reader,
            changed,
            f"values of {change.label} that the new type would not keep as they are (rounded, cut, or too long for it)",
        )
    if not str(getattr(error, "sqlstate", "") or "").startswith(DATA_EXCEPTION):
        return None
    message = (str(error).strip().splitlines() or ["?"])[0]
    detail = f"{change.label}: the ALTER fails on the live database: {message}"
    probes = [f"NOT pg_input_is_valid(CAST({column} AS text), {_literal(new)})"]  # PostgreSQL 16+
    limit = _integer_limit(change)
    if limit is not None:
        probes.append(f"(round({column}) < -{limit} OR round({column}) >= {limit})")
    for probe in probes:
        counted = change.counted(reader, f"{column} IS NOT NULL AND {probe}", f"values {new} cannot hold")
        if counted:
            return f"{detail}; {counted}"
    return detail


def _integer_limit(change) -> int | None:
    """2^31 for a number column becoming ``integer`` (2^15, 2^63 for the others): the rows out of
    its range are found without ``pg_input_is_valid`` (PostgreSQL before 16)."""
    new = canonical_type(change.change)
    if new not in INTEGER_LIMITS or split_type(change.old_type.upper())[0] not in NUMBERS:
        return None
    return INTEGER_LIMITS[new]
