"""Whether the down of a PostgreSQL column change gives every value back, from PostgreSQL's semantics.

For each column whose type changes (``ALTER COLUMN ... TYPE new USING old::new``, and back with
``USING new::old``) or whose values are converted (``--convert``/``--reverse``), one of three:

* **always**: every value of the old type comes back identical (a wider integer, any type to
  ``text``, a ``date`` to a ``timestamp``...). Nothing to check.
* **never**: the down cannot give values back at all (PostgreSQL has no cast from ``boolean``
  back to ``jsonb``): the operation's ``lossy_reverse`` says so.
* **the data decides** (``bigint`` -> ``double precision`` beyond 2^53, ``numeric(12,2)`` ->
  ``integer`` with cents, ``text`` -> ``integer`` holding '007', a shorter ``varchar(n)``,
  ``timestamptz`` -> ``timestamp`` across a DST change, any user conversion): a loss check, a
  query counting the current values that the up followed by the down would not give back
  identical (compared as the text PostgreSQL prints, so ``-0`` and ``0``, ``1.50`` and ``1.5``
  differ). See :attr:`dbshift.planners.operations.Operation.loss_checks`.
"""

from __future__ import annotations

import re

from dbshift.planners.postgresql_objects import quote
from dbshift.schema import diff as d

ALWAYS, NEVER, DATA = "always", "never", "data"
INTEGERS = {"SMALLINT": 1, "INTEGER": 2, "BIGINT": 3}
#: Significant decimal digits a float type gives back exactly (what PostgreSQL's float -> numeric prints).
FLOAT_DIGITS = {"REAL": 6, "DOUBLE PRECISION": 15}
#: Types PostgreSQL casts ``jsonb`` to, with no cast back.
FROM_JSON_ONLY = {"BOOLEAN", "SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE PRECISION", "NUMERIC"}
#: Lossless pairs that no rule below covers: (old, new) base types.
ALWAYS_PAIRS = {
    ("SMALLINT", "REAL"),
    ("SMALLINT", "DOUBLE PRECISION"),
    ("INTEGER", "DOUBLE PRECISION"),
    ("REAL", "DOUBLE PRECISION"),
    ("BOOLEAN", "INTEGER"),
    ("JSONB", "JSON"),
    ("DATE", "TIMESTAMP WITHOUT TIME ZONE"),
    ("DATE", "TIMESTAMP WITH TIME ZONE"),
}


#: PostgreSQL's own types, as the inspector names them (upper case, without arguments or []).
BUILT_IN = (
    set(INTEGERS)
    | set(FLOAT_DIGITS)
    | {
        "NUMERIC",
        "MONEY",
        "TEXT",
        "CHARACTER VARYING",
        "CHARACTER",
        '"CHAR"',
        "NAME",
        "CITEXT",
        "BOOLEAN",
        "BYTEA",
        "DATE",
        "TIME WITHOUT TIME ZONE",
        "TIME WITH TIME ZONE",
        "TIMESTAMP WITHOUT TIME ZONE",
        "TIMESTAMP WITH TIME ZONE",
        "INTERVAL",
        "JSON",
        "JSONB",
        "UUID",
        "XML",
        "INET",
        "CIDR",
        "MACADDR",
        "MACADDR8",
        "BIT",
        "BIT VARYING",
        "TSVECTOR",
        "TSQUERY",
        "POINT",
        "LINE",
        "LSEG",
        "BOX",
        "PATH",
        "POLYGON",
        "CIRCLE",
        "OID",
        "INT4RANGE",
        "INT8RANGE",
        "NUMRANGE",
        "TSRANGE",
        "TSTZRANGE",
        "DATERANGE",
    }
)


def built_in(type_: str) -> bool:
    """Whether ``type_`` is one of PostgreSQL's own types (else an enum, a domain, a composite...)."""
    return split_type(type_.upper().removesuffix("[]"))[0] in BUILT_IN


def split_type(type_: str) -> tuple[str, list[int]]:
    """``NUMERIC(12,2)`` -> (``NUMERIC``, [12, 2]); ``CHARACTER VARYING(10)`` -> (``CHARACTER VARYING``, [10])."""
    match = re.fullmatch(r"([A-Z ]+?)\s*\(([-\d, ]+)\)(.*)", type_)
    if not match:
        return type_, []
    return (match[1] + match[3]).strip(), [int(n) for n in match[2].split(",")]


def cast_verdict(old: str, new: str) -> tuple[str, str]:
    """(ALWAYS | NEVER | DATA, why) for ``ALTER COLUMN TYPE new USING col::new`` followed by the way back."""
    if old == new:
        return ALWAYS, ""
    if not built_in(old) or not built_in(new):
        # An enum or a domain takes a value only as itself (a label, a checked value), or the up
        # fails; it reads back as the same text. (A type the migration creates cannot be named in a
        # check that runs before it anyway.)
        return ALWAYS, ""
    (old_base, old_args), (new_base, new_args) = split_type(old), split_type(new)
    if old_base in ("JSONB", "JSON") and new_base in FROM_JSON_ONLY:
        return NEVER, f"PostgreSQL has no cast from {new.lower()} back to {old.lower()}"
    if new_base in ("TEXT", "CHARACTER VARYING") and not new_args:
        return ALWAYS, ""  # every type prints a text that reads back as the same value
    if old_base == new_base == "CHARACTER VARYING" and (not new_args or (old_args and new_args[0] >= old_args[0])):
        return ALWAYS, ""
    if old_base in INTEGERS and new_base in INTEGERS:
        return (ALWAYS, "") if INTEGERS[new_base] >= INTEGERS[old_base] else (DATA, "")
    if new_base == "NUMERIC" and (not new_args or _scale(new_args) >= 0):
        if old_base in INTEGERS:
            return ALWAYS, ""  # an integer fits exactly, or the up fails
        if old_base == "NUMERIC" and _holds(new_args, old_args):
            return ALWAYS, ""
    if (
        old_base == "NUMERIC"
        and new_base in FLOAT_DIGITS
        and old_args
        and _scale(old_args) >= 0
        and old_args[0] <= FLOAT_DIGITS[new_base]
    ):
        return ALWAYS, ""
    return (ALWAYS, "") if (old_base, new_base) in ALWAYS_PAIRS else (DATA, "")


def _scale(args: list[int]) -> int:
    return args[1] if len(args) > 1 else 0


def _holds(new_args: list[int], old_args: list[int]) -> bool:
    """numeric(new_args) holds every numeric(old_args) value exactly."""
    if not new_args:
        return True
    if not old_args:
        return False
    return _scale(new_args) >= _scale(old_args) and new_args[0] - _scale(new_args) >= old_args[0] - _scale(old_args)


def reverse_losses(change: d.AlterTable, table: str, cast) -> tuple[list[str], list[str]]:
    """(reasons the down loses values for sure, loss checks) of ``change``'s kept columns.

    ``table``: the table's name before the migration (the checks run before its statements);
    ``cast``: the planner's ``cast(column_sql, old_type, new_type)``.
    """
    reasons, checks = [], []
    for old, new in change.altered:
        up, down = change.up_values.get(new.name), change.down_values.get(old.name)
        if old.generated is not None or new.generated is not None:
            continue  # see the planner's generated-column steps
        if up is not None and down is None:
            continue  # no reverse conversion: the diff's lossy_down says so
        if up is None and down is None:
            if old.type == new.type:
                continue
            verdict, why = cast_verdict(old.type, new.type)
            if verdict == ALWAYS:
                continue
            if verdict == NEVER:
                reasons.append(f"{change.name}.{new.name}: {why}")
                continue
        checks.append(round_trip_check(change, table, old, new, cast))
    return reasons, checks


def _new_row(change: d.AlterTable, cast) -> list[str]:
    """The SELECT list that computes each new column as the up does, from the table's current row."""
    old_columns = {c.name: c for c in change.old.columns}
    parts = []
    for column in change.new.columns:
        value, source = change.up_values.get(column.name), change.sources.get(column.name)
        if column.generated is not None or (value is None and source is None) or not built_in(column.type):
            continue  # (a type the migration creates does not exist yet when the check runs)
        if value is None:
            before = old_columns[source]
            value = quote(source) if before.type == column.type else cast(quote(source), before.type, column.type)
        parts.append(f"CAST(({value}) AS {column.type}) AS {quote(column.name)}")
    return parts


def round_trip_check(change: d.AlterTable, table: str, old, new, cast) -> str:
    """A query counting the rows whose ``old`` value would not come back identical after the up and the down.

    A value the way back cannot hold (a ``real`` of 2^63 going back to ``bigint``) counts as lost
    instead of making the check fail: the cast back is guarded by the old type's range.
    """
    given = change.down_values.get(old.name)
    back_value = f"CAST(({given or cast(quote(new.name), new.type, old.type)}) AS {old.type})"
    guards = [] if given else _guards(old, new)
    if guards:
        back_value = f"CASE WHEN {' AND '.join(guards)} THEN {back_value} END"
    # The old value rides along with the new row (one scan; joining the table again by ctid took
    # 2.5-3.5x as long on 2,000,000 rows).
    columns = [*_new_row(change, cast), f"{quote(old.name)} AS dbshift_before"]
    new_row = f"SELECT {', '.join(columns)} FROM {quote(table)}"
    back = f"SELECT dbshift_before, {back_value} AS dbshift_back FROM ({new_row}) AS {quote(change.name)}"
    return (
        f"SELECT count(*) FROM ({back}) AS dbshift_round_trip "
        f"WHERE dbshift_round_trip.dbshift_back::text IS DISTINCT FROM dbshift_round_trip.dbshift_before::text"
    )


def _guards(old, new) -> list[str]:
    """Conditions under which the cast back can run (a value outside them would make it fail: it is lost)."""
    guards = []
    bounds = _range(old.type, new.type)
    if bounds is not None:
        low, compare, high = bounds
        guards.append(f"{quote(new.name)} {compare} {low} AND {quote(new.name)} < {high}")
    base, args = split_type(new.type)
    if base in ("CHARACTER VARYING", "CHARACTER") and args:
        # The up cuts a longer text to the length, and what is left may not read back as the old type.
        guards.append(f"char_length(CAST(dbshift_before AS text)) <= {args[0]}")
    return guards


INTEGER_LIMITS = {"SMALLINT": 2**15, "INTEGER": 2**31, "BIGINT": 2**63}
NUMBERS = {"SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE PRECISION", "NUMERIC"}


def _range(old: str, new: str) -> tuple[str, str, str] | None:
    """(low, comparison with low, high): the numbers of type ``new`` that go back into type ``old``
    (an integer or a ``numeric(p,s)``) are those ``> low`` (or ``>=``) and ``< high``, when ``new`` is a
    number type; else None. The new values came from the old type's, so integers stay whole."""
    (old_base, old_args), (new_base, _) = split_type(old), split_type(new)
    if new_base not in NUMBERS:
        return None
    if old_base in INTEGER_LIMITS:
        limit = INTEGER_LIMITS[old_base]
        return f"-{limit}", ">=", f"{limit}"
    if old_base == "NUMERIC" and old_args and _scale(old_args) >= 0:
        precision, scale = old_args[0], _scale(old_args)
        limit = f"{10 ** (precision - scale)} - 0.{'0' * scale}5"  # what rounds to a digit too many
        return f"-({limit})", ">", f"({limit})"
    return None
