"""The value oracle: proves that data survived by comparing every value, never row counts.

Use it in every test that applies a drafted migration:

    fill_with_edge_values(db, "t", [("v", "BIGINT", True), ...])   # rows from the column types
    before = snapshot(db)
    ... apply the up, then the down ...
    assert_same_values(before, snapshot(db))                       # or, for a migration recorded
    assert count_changed_values(before, snapshot(db)) == recorded   #   lossy, exactly its count

Edge values come from a column's declared type: 2^53 + 1, the largest and smallest integers, 0.1,
1e308, -0.0, '007', '1.0', '', unicode, quotes, NULL... A value the database refuses for the type
(out of range, too long) is skipped, so one list serves every dialect. A snapshot keeps each
value with its type as the database reports it (SQLite ``typeof``, PostgreSQL ``pg_typeof``, the
driver's Python type on MySQL), so 1 and 1.0 and '1' differ.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from dbshift.dialects.base import Database

BIG = 2**53 + 1
INTEGERS = [0, 1, -1, 127, -128, 255, 32767, -32768, 2**31 - 1, -(2**31), BIG, -BIG, 2**63 - 1, -(2**63)]
REALS = [0.1, -0.0, 1.5, 1e308, -1e308, 5e-324, 1 / 3, 2.0**53, 123456789.125]
TEXTS = [
    "",
    "007",
    "1.0",
    " 1",
    "1e2",
    "0",
    "-0",
    "abc",
    "héllo ✓",
    "😀",
    "it's",
    'a"b',
    "back\\slash",
    "NULL",
    "line\nbreak",
    "trailing ",
]
BLOBS = [b"", b"\x00\x01\xff", b"007", bytes(range(256))]
BOOLEANS = [True, False]
DATES = ["2024-02-29", "1970-01-01", "9999-12-31", "1000-01-01"]
DATETIMES = ["2024-02-29 12:34:56", "1970-01-01 00:00:01", "2038-01-19 03:14:07", "2024-01-01 00:00:00.123456"]
TIMESTAMPTZ = ["2024-02-29 12:34:56+05:30", "1970-01-01 00:00:01+00", "2038-01-19 03:14:07-08"]
UUIDS = ["00000000-0000-0000-0000-000000000000", "123e4567-e89b-12d3-a456-426614174000"]
JSONS = ["{}", '{"a": [1, 2.5, null, "x"]}', '"x"', "1", "null", "[]"]


def family_of(declared_type: str) -> str:
    """The family of a declared column type: integer, real, decimal, text, blob, boolean, date,
    datetime, timestamptz, uuid, json or untyped (SQLite's column without a type)."""
    t = declared_type.strip().lower()
    if not t:
        return "untyped"
    checks = [
        ("timestamptz", r"timestamptz|timestamp.*with time zone"),
        ("boolean", r"^bool|tinyint\s*\(\s*1\s*\)"),
        ("integer", r"int|serial"),
        ("decimal", r"^(decimal|numeric|dec)\s*\("),
        ("real", r"real|float|double"),
        ("uuid", r"^uuid"),
        ("json", r"json"),
        ("datetime", r"^(datetime|timestamp)"),
        ("date", r"^date"),
        ("blob", r"blob|bytea|binary"),
        ("text", r"char|text|clob|enum|string"),
    ]
    for family, pattern in checks:
        if re.search(pattern, t):
            return family
    return "numeric" if t.startswith(("numeric", "decimal")) else "untyped"


def _decimals(declared_type: str) -> list[Decimal]:
    match = re.search(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", declared_type)
    precision, scale = (int(match[1]), int(match[2] or 0)) if match else (12, 2)
    largest = Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale)
    smallest_step = Decimal(1).scaleb(-scale)
    values = [Decimal(0), smallest_step, -smallest_step, largest, -largest, Decimal("19.99"), Decimal("-0.5")]
    with localcontext() as context:
        context.prec = max(precision, 28) + 2
        return [v.quantize(smallest_step) for v in values]


def _length_limit(declared_type: str) -> int | None:
    match = re.search(r"char\s*\(\s*(\d+)\s*\)", declared_type.lower())
    return int(match[1]) if match else None


def edge_values(declared_type: str, nullable: bool = True) -> list[Any]:
    """Values worth putting in a column of ``declared_type``, edge cases first, NULL last when
    ``nullable``. The database may refuse some (out of range): :func:`fill_with_edge_values` skips
    those."""
    family = family_of(declared_type)
    values: list[Any] = {
        "integer": INTEGERS,
        "real": REALS,
        "decimal": _decimals(declared_type),
        "numeric": INTEGERS[:4] + REALS[:3] + [Decimal("19.99")],
        "text": TEXTS,
        "blob": BLOBS,
        "boolean": BOOLEANS,
        "date": DATES,
        "datetime": DATETIMES,
        "timestamptz": TIMESTAMPTZ,
        "uuid": UUIDS,
        "json": JSONS,
        "untyped": [1, BIG, 1.5, -0.0, "007", "1.0", "", b"\x00", "héllo"],
    }[family]
    limit = _length_limit(declared_type)
    if limit is not None:
        values = [v for v in values if len(v) <= limit] + ["x" * limit]
    return list(values) + ([None] if nullable else [])


@dataclass
class Column:
    """A column to fill: its name, declared type and whether it takes NULL."""

    name: str
    declared_type: str
    nullable: bool = True


def fill_with_edge_values(db: Database, table: str, columns: list[Column | tuple], key: str | None = None) -> int:
    """Insert edge-value rows into ``table`` (see :func:`insert_edge_rows`); fails when the database
    refused every row, since a comparison of empty tables proves nothing."""
    inserted = insert_edge_rows(db, table, columns, key)
    if not inserted:
        raise AssertionError(f"fill_with_edge_values: the database refused every row for {table}")
    return inserted


def insert_edge_rows(db: Database, table: str, columns: list[Column | tuple], key: str | None = None) -> int:
    """Insert rows into ``table`` so that every column holds each of its edge values once (the other
    columns rotate through theirs). Rows the database refuses are skipped. ``key``: an integer
    column to number the rows 1, 2, 3... (left out of ``columns`` if named there too). Returns the number
    of rows inserted (0 when the database refused every row: a table a whole schema is filled with may)."""
    columns = [c if isinstance(c, Column) else Column(*c) for c in columns]
    columns = [c for c in columns if c.name != key]  # the key numbers the rows (named twice, every INSERT failed)
    per_column = {c.name: edge_values(c.declared_type, c.nullable) for c in columns}
    rows: list[dict[str, Any]] = []
    for column in columns:
        for value in per_column[column.name]:
            # The other columns rotate through their own values, so UNIQUE columns do not refuse
            # every row but the first.
            at = len(rows)
            row = {c.name: per_column[c.name][at % len(per_column[c.name])] for c in columns}
            row[column.name] = value
            rows.append(row)
    inserted = 0
    for number, row in enumerate(rows, 1):
        names = ([key] if key else []) + list(row)
        values = ([number] if key else []) + [_bindable(db, v) for v in row.values()]
        sql = (
            f"INSERT INTO {db.quote(table)} ({', '.join(map(db.quote, names))}) "
            f"VALUES ({', '.join([db.placeholder] * len(values))})"
        )
        try:
            db.execute(sql, values)
            inserted += 1
        except Exception as exc:  # the type refuses this value on this database
            if not db.is_driver_error(exc):
                raise
            db.rollback()
    return inserted


def _bindable(db: Database, value: Any) -> Any:
    """sqlite3 binds no Decimal: give SQLite its text, which a NUMERIC column reads as a number."""
    return str(value) if isinstance(value, Decimal) and db.dialect == "sqlite" else value


Snapshot = dict[str, Counter]


def _typed_select(db: Database, table: str, columns: list[str]) -> str:
    """SELECT each column with the type the database gives its value."""
    typer = {"sqlite": "typeof({})", "postgresql": "pg_typeof({})::text"}.get(db.dialect)
    parts = []
    for column in columns:
        quoted = db.quote(column)
        parts.append(f"{typer.format(quoted)}, {quoted}" if typer else quoted)
    return f"SELECT {', '.join(parts)} FROM {db.quote(table)}"


def _columns(db: Database, table: str) -> list[str]:
    if db.dialect == "sqlite":
        return [
            row[1] for row in db.execute(f"SELECT * FROM pragma_table_xinfo({db.placeholder})", [table]) if row[6] != 1
        ]  # hidden=1: a virtual table's hidden column; generated ones count
    rows = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND table_schema = "
        + ("current_schema()" if db.dialect == "postgresql" else "database()")
        + " ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in rows]


def _exact(value: Any) -> str:
    """A value's exact text with its Python type: -0.0, 1, 1.0 and '1' all differ."""
    return f"{type(value).__name__}:{value!r}"


def snapshot(db: Database, tables: list[str] | None = None) -> Snapshot:
    """Every value of every user table (dbshift's own tables aside), with its type, by column name.
    A table is a multiset of rows; each row maps column name -> typed exact value."""
    names = tables if tables is not None else [t for t in db.user_tables() if not t.startswith("dbshift_")]
    result: Snapshot = {}
    for table in names:
        columns = _columns(db, table)
        typed = db.dialect in ("sqlite", "postgresql")
        rows = Counter()
        for row in db.execute(_typed_select(db, table, columns)):
            if typed:
                cells = [f"{row[2 * i]}:{_exact(row[2 * i + 1])}" for i in range(len(columns))]
            else:
                cells = [_exact(value) for value in row]
            rows[tuple(zip(columns, cells))] += 1
        result[table] = rows
    return result


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed between two snapshots, one line per table with rows gone or appeared."""
    lines = []
    for table in sorted(set(before) | set(after)):
        if table not in after:
            lines.append(f"{table}: table gone ({sum(before[table].values())} rows)")
            continue
        if table not in before:
            lines.append(f"{table}: table appeared")
            continue
        gone, appeared = before[table] - after[table], after[table] - before[table]
        for row in list(gone)[:5]:
            lines.append(f"{table}: row gone {dict(row)}")
        for row in list(appeared)[:5]:
            lines.append(f"{table}: row appeared {dict(row)}")
        extra = len(gone) + len(appeared) - min(len(gone), 5) - min(len(appeared), 5)
        if extra > 0:
            lines.append(f"{table}: {extra} more changed rows")
    return lines


def count_changed_values(before: Snapshot, after: Snapshot, key: str | None = None) -> int:
    """How many values (cells) differ. With ``key`` (a column present on both sides), rows are
    matched by it and each differing cell counts once; without, each changed row counts once."""
    total = 0
    for table in set(before) | set(after):
        old, new = before.get(table, Counter()), after.get(table, Counter())
        if key is None:
            total += max(sum((old - new).values()), sum((new - old).values()))
            continue
        by_key_old = {dict(row)[key]: dict(row) for row in old.elements()}
        by_key_new = {dict(row)[key]: dict(row) for row in new.elements()}
        for k in set(by_key_old) | set(by_key_new):
            a, b = by_key_old.get(k, {}), by_key_new.get(k, {})
            total += sum(1 for column in set(a) | set(b) if a.get(column) != b.get(column))
    return total


def assert_same_values(before: Snapshot, after: Snapshot) -> None:
    """Fail naming the rows that differ when any value, type or row changed."""
    problems = differences(before, after)
    assert not problems, "values did not survive:\n" + "\n".join(problems)


def fill_schema(db: Database, schema) -> int:
    """Fill every table of an inspected ``schema`` (a :class:`dbshift.schema.model.Schema`) with
    edge values for its columns (generated columns are left to the database). Returns the rows
    inserted in all."""
    from dbshift.schema.diff import order_by_foreign_keys

    total = 0
    for table in order_by_foreign_keys(list(schema.tables)):  # parents first: children's keys may match
        columns = [Column(c.name, c.type, c.nullable) for c in table.columns if not c.generated]
        if columns:
            total += insert_edge_rows(db, table.name, columns)
    return total
