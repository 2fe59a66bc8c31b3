"""Whether a MySQL/MariaDB column change gives every value back on the way down.

:func:`value_losses` answers for each altered column of a table: nothing to check (the types
are the same, or the change widens: INT -> BIGINT, VARCHAR(10) -> VARCHAR(20), ENUM labels
added), a check (the data decides: :func:`round_trip_loss` writes a query counting the current
values that the up followed by the down would not give back, e.g. BIGINT -> DOUBLE beyond 2^53,
DECIMAL(12,2) -> INT with fractions, VARCHAR -> INT with '007', DATETIME -> DATE), or lossy
(:class:`CannotTell`: no reverse conversion, or types whose conversion dbshift cannot replay).

The counting query replays both conversions with ``CAST`` as ALTER TABLE and UPDATE store a
value (an out-of-range value makes the up itself fail in strict mode, so it is never lost
silently), and compares in the old column's kind: numbers and dates as values, strings byte for
byte (a case-insensitive collation would call 'A' and 'a' equal). A conversion given by the user
(``--convert`` and ``--reverse``) is replayed the same way: the reverse expression is read with
sqlglot and each new column in it replaced by its value. The property test over type pairs
(tests/servers/test_type_pairs_mysql.py) checks these counts against the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbshift.planners.mysql_objects import literal, quote
from dbshift.schema import diff as d
from dbshift.schema.model import Column

_TYPE = re.compile(r"^(?P<name>[A-Z]+)(?:\((?P<args>[^)]*)\))?(?P<rest>.*)$")
_INTEGER_BYTES = {"TINYINT": 1, "SMALLINT": 2, "MEDIUMINT": 3, "INT": 4, "INTEGER": 4, "BIGINT": 8}
#: Decimal digits an integer type of that many bytes may need (signed or not).
_INTEGER_DIGITS = {1: 3, 2: 5, 3: 8, 4: 10, 8: 20}
_BLOBS = {"TINYBLOB": 255, "BLOB": 65535, "MEDIUMBLOB": 16777215, "LONGBLOB": 4294967295}
_TEXTS = {"VARCHAR": None, "TINYTEXT": 255, "TEXT": 65535, "MEDIUMTEXT": 16777215, "LONGTEXT": 4294967295}


@dataclass(frozen=True)
class Kind:
    """A column type as far as conversions go: family, size and the CAST that stores a value as it."""

    family: str  # integer, decimal, real, text, char, date, datetime, labels, bytes, other
    size: tuple = ()
    unsigned: bool = False

    def cast(self, expression: str, source: Kind | None = None) -> str:
        """``expression`` (a value of ``source``'s type, if known) as a column of this type would hold it.

        Numbers are cast with room to spare (DECIMAL(65, scale)), so a value out of the column's
        range stays different instead of being clamped to the largest one as CAST does (ALTER TABLE
        refuses it). A floating-point number becomes an integer as ALTER TABLE makes it: rounded
        half to even (CAST AS SIGNED); other values round half away from zero.
        """
        if not self.replayable:
            raise CannotTell(f"dbshift cannot replay how a {self.family} column stores a value")
        if self.family == "integer":
            if source is not None and source.family == "real":
                return f"CAST({expression} AS {'UNSIGNED' if self.unsigned else 'SIGNED'})"
            return f"CAST({expression} AS DECIMAL(65,0))"
        if self.family == "decimal":
            return f"CAST({expression} AS DECIMAL(65,{self.size[1]}))"
        if self.family == "real":
            return f"CAST({expression} AS {'FLOAT' if self.size == ('FLOAT',) else 'DOUBLE'})"
        if self.family == "char":  # CHAR(n) gives its values back without trailing spaces
            return f"TRIM(TRAILING ' ' FROM CAST({expression} AS CHAR))"
        if self.family == "text":
            return f"CAST({expression} AS CHAR)"
        if self.family == "date":
            return f"CAST({expression} AS DATE)"
        return f"CAST({expression} AS DATETIME({self.size[0]}))"

    @property
    def replayable(self) -> bool:
        """:meth:`cast` stores a value as a column of this type does."""
        return self.family in ("integer", "decimal", "real", "text", "char", "date", "datetime")

    def same(self, stored: str, computed: str) -> str:
        """SQL true when two values of this type are the same value (NULLs too)."""
        if self.family in ("text", "char"):
            return f"BINARY {stored} <=> BINARY {computed}"
        return f"{stored} <=> {computed}"


def kind_of(column_type: str) -> Kind:
    """The :class:`Kind` of a column type as ``information_schema.COLUMNS.COLUMN_TYPE`` writes it."""
    match = _TYPE.match(column_type.strip().upper())
    if not match:
        return Kind("other")
    name, args, rest = match["name"], match["args"] or "", match["rest"]
    numbers = tuple(int(a) for a in re.findall(r"\d+", args))
    if name in _INTEGER_BYTES:
        if name == "TINYINT" and numbers == (1,) and "UNSIGNED" not in rest:
            return Kind("integer", (1,))
        return Kind("integer", (_INTEGER_BYTES[name],), "UNSIGNED" in rest)
    if name in ("DECIMAL", "NUMERIC"):
        return Kind("decimal", (numbers + (10, 0))[:2] if len(numbers) != 1 else (numbers[0], 0), "UNSIGNED" in rest)
    if name in ("DOUBLE", "REAL") or (name == "FLOAT" and not numbers):
        return Kind("real", (name if name == "FLOAT" else "DOUBLE",), "UNSIGNED" in rest)
    if name in _TEXTS and "BINARY" not in rest:
        return Kind("text", (numbers[0] if numbers else _TEXTS[name],))
    if name == "CHAR" and "BINARY" not in rest:
        return Kind("char", (numbers[0] if numbers else 1,))
    if name in ("ENUM", "SET"):  # labels: a value the new list lacks makes ALTER TABLE fail (strict mode)
        return Kind("labels", (name,))
    if name in ("VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB"):
        return Kind("bytes", (numbers[0] if numbers else _BLOBS[name],))
    if name == "DATE":
        return Kind("date")
    if name in ("DATETIME", "TIMESTAMP"):
        return Kind("datetime", (numbers[0] if numbers else 0,))
    return Kind("other")


def widens(old: Kind, new: Kind) -> bool:
    """Every value of ``old`` is a value of ``new`` and comes back as it was."""
    if old.family == "integer" and new.family == "integer":
        return (
            old.unsigned == new.unsigned
            and new.size[0] >= old.size[0]
            or (old.unsigned and not new.unsigned and new.size[0] > old.size[0])
        )
    if old.family == "integer" and new.family == "decimal":
        return new.size[0] - new.size[1] >= _INTEGER_DIGITS[old.size[0]] and (not new.unsigned or old.unsigned)
    if old.family == "decimal" and new.family == "decimal":
        return (
            new.size[1] >= old.size[1]
            and new.size[0] - new.size[1] >= old.size[0] - old.size[1]
            and (not new.unsigned or old.unsigned)
        )
    if old.family == "integer" and new.family == "real":  # exact: 53 bits in a DOUBLE, 24 in a FLOAT
        return old.size[0] <= (4 if new.size == ("DOUBLE",) else 2)
    if old.family == "real" and new.family == "real":
        return new.size == ("DOUBLE",) or old.size == new.size
    if old.family in ("text", "char") and new.family == "text":
        return new.size[0] >= old.size[0]
    if old.family == new.family == "labels":
        return old.size == new.size
    if old.family == new.family == "bytes":
        return new.size[0] >= old.size[0]
    if old.family == "date" and new.family == "datetime":
        return True
    if old.family == "datetime" and new.family == "datetime":
        return new.size[0] >= old.size[0]
    return False


def round_trip_loss(table: str, old: Column, new: Column, up: str | None = None, down: str | None = None) -> str | None:
    """A query counting the values of ``old`` that the change to ``new`` and back would not give back;
    None when the change always gives every value back. ``up``/``down``: the user's conversions
    (``down`` already over the old row, see :func:`replay_reverse`). Raises :class:`CannotTell`."""
    before, after = kind_of(old.type), kind_of(new.type)
    if up is None and down is None and (old.type == new.type or widens(before, after)):
        return None
    if not (before.replayable and after.replayable) or unreplayable(before, after):
        raise CannotTell(f"{table}.{old.name}: dbshift cannot tell whether {old.type} -> {new.type} keeps every value")
    stored = after.cast(f"({up})") if up is not None else after.cast(quote(old.name), before)
    back = before.cast(f"({down})") if down is not None else before.cast(stored, after)
    return f"SELECT COUNT(*) FROM {quote(table)} WHERE NOT ({before.same(quote(old.name), back)})"


def unreplayable(before: Kind, after: Kind) -> bool:
    """Pairs whose ALTER TABLE conversion CAST does not replay: a date read as a floating-point
    number (20240229 in a FLOAT is 20240228, which ALTER TABLE turns back into '2024-02-00')."""
    families = {before.family, after.family}
    return bool(families & {"date", "datetime"}) and "real" in families


class CannotTell(Exception):
    """The planner cannot prove either way whether a change gives every value back."""


def replay_reverse(reverse: str, values: dict[str, str]) -> str:
    """The reverse expression with each column it names replaced by ``values[column]`` (SQL over the
    old row); a column missing from ``values`` raises :class:`CannotTell`."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(reverse, read="mysql")
    except sqlglot.errors.ParseError as exc:
        raise CannotTell(f"cannot read the reverse conversion {reverse!r}: {exc}") from None
    lowered = {name.lower(): value for name, value in values.items()}

    def swap(node):
        if isinstance(node, exp.Column) and not node.table:
            value = lowered.get(node.name.lower())
            if value is None:
                raise CannotTell(f"the reverse conversion {reverse!r} reads {node.name}, which has no old value")
            return sqlglot.parse_one(f"({value})", read="mysql")
        return node

    return tree.transform(swap).sql(dialect="mysql")


def value_losses(change: d.AlterTable, table_before: str) -> tuple[list[str], list[str]]:
    """(loss checks, why the down is lossy) for the altered columns of ``change``.

    A column given a value without a reverse conversion is lossy. A column made generated gets
    the values its expression computes: a check counts the rows where they differ from the stored
    ones (its down copies the computed values back into a plain column). A type change, with or
    without conversions, is checked by :func:`round_trip_loss` unless it always keeps every value.
    """
    checks = []
    lossy = [f"no reverse conversion for {change.name}.{c}" for c in change.lossy_down]
    after_up = _values_after_up(change)
    for old, new in change.altered:
        label = literal(f"{change.name}.{new.name}")
        if old.name in change.lossy_down:
            continue
        try:
            if new.generated is not None:
                if old.generated is None:
                    computed = replay_reverse(new.generated, after_up)
                    checks.append(
                        f"SELECT COUNT(*), {label} FROM {quote(table_before)} "
                        f"WHERE NOT ({kind_of(new.type).same(quote(old.name), kind_of(new.type).cast(computed))})"
                    )
                continue
            if old.generated is not None:
                continue  # its values are copied back as they are
            down = change.down_values.get(old.name)
            down = replay_reverse(down, after_up) if down is not None else None
            check = round_trip_loss(table_before, old, new, change.up_values.get(new.name), down)
        except CannotTell as exc:
            lossy.append(str(exc))
            continue
        if check is not None:
            checks.append(check.replace("SELECT COUNT(*)", f"SELECT COUNT(*), {label}", 1))
    return checks, lossy


def _values_after_up(change: d.AlterTable) -> dict[str, str]:
    """New column name -> SQL over the old row giving the value it holds after the up. Left out
    (so a reverse that reads them cannot tell): added columns without a computed value, and
    columns of types whose stored values :meth:`Kind.cast` cannot replay."""
    values = {}
    old_by_name = {c.name: c for c in change.old.columns}
    for column in change.new.columns:
        source = old_by_name.get(change.sources.get(column.name, ""))
        kind = kind_of(column.type)
        try:
            if column.name in change.up_values:
                values[column.name] = kind.cast(f"({change.up_values[column.name]})")
            elif source is not None and source.generated is None:
                values[column.name] = (
                    quote(source.name)
                    if source.type == column.type
                    else kind.cast(quote(source.name), kind_of(source.type))
                )
        except CannotTell:
            continue
    return values
