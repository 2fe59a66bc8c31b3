"""Data-aware findings: read-only counts on the live database of what a pending statement would
break or remove: rows whose NULLs a new NOT NULL rejects, duplicates a new UNIQUE rejects
(with up to 5 example keys or values), the rows and values a drop, truncate or delete removes,
and the values a column type change would truncate, round or fail to convert (the SQL of that
count is the dialect's: ``lint/data_<dialect>.py``, named by the lint module's ``TYPE_CHANGE_DATA``).

Queries are plain ``SELECT count(*)`` with identifiers quoted by the database; a table the query
cannot read (created by an earlier pending migration, say) is skipped, not an error.
"""

from __future__ import annotations

import importlib

from dbshift.lint.findings import LintScript, Rule

ALL = frozenset({"sqlite", "postgresql", "mysql"})
SERVERS = frozenset({"postgresql", "mysql"})
EXAMPLES = 5
#: Above this many rows the duplicate search (a GROUP BY over the whole table: 12 s on 5M rows)
#: reads only the first SAMPLE_ROWS rows, and the finding says so.
SAMPLE_ROWS = 1_000_000


def _many(number: int, word: str) -> str:
    """``1 row``, ``2,345 rows``."""
    return f"{number:,} {word}{'' if number == 1 else 's'}"


DATA_RULES = [
    Rule(
        "data-dropped",
        "error",
        ALL,
        "Data removed (counted)",
        "on the live database, this removes {detail}",
        "back the data up or move it first; if it really must go, suppress with the reason",
    ),
    Rule(
        "nulls-block-not-null",
        "error",
        ALL,
        "NULLs a new NOT NULL rejects (counted)",
        "{detail}: the change fails on the live database",
        "backfill the NULLs first (UPDATE ... WHERE col IS NULL), then add NOT NULL",
    ),
    Rule(
        "rows-violate-constraint",
        "error",
        ALL,
        "Rows a new FOREIGN KEY or CHECK rejects (counted)",
        "{detail}: adding the constraint fails on the live database",
        "fix or remove those rows first (or add the constraint NOT VALID and fix them before VALIDATE)",
    ),
    Rule(
        "duplicates-block-unique",
        "error",
        ALL,
        "Duplicates a new UNIQUE rejects (counted)",
        "{detail}: the unique index or constraint fails on the live database, halfway through its build",
        "remove or merge the duplicates first, then add the unique index",
    ),
    Rule(
        "values-changed-by-type",
        "error",
        SERVERS,
        "Values a type change truncates, rounds or cannot convert (counted)",
        "{detail}",
        "fix or convert those rows first (UPDATE ... WHERE ...), or pick a type that holds every value; "
        "a USING clause states the conversion you mean",
    ),
]


class _Reader:
    """Read-only queries on the live database; None when a query fails (the table is not there yet)."""

    def __init__(self, db):
        self.db = db
        self._tables: dict | None = None

    def rows(self, sql: str) -> list[tuple] | None:
        """The rows of a query; None when the database refuses it."""
        return self.attempt(sql)[0]

    def attempt(self, sql: str) -> tuple[list[tuple] | None, Exception | None]:
        """(rows, None), or (None, the driver's error) when the database refuses the query."""
        try:
            return self.db.execute(sql), None
        except Exception as exc:
            if not self.db.is_driver_error(exc):
                raise
            self.db.rollback()  # PostgreSQL: a failed query ends the transaction's usefulness
            return None, exc

    def count(self, table, condition: str | None = None) -> int | None:
        """Rows of ``table`` matching ``condition``; None when they cannot be counted."""
        found = self.rows(
            f"SELECT count(*) FROM {table.quoted(self.db.quote)}" + (f" WHERE {condition}" if condition else "")
        )
        return int(found[0][0]) if found else None

    def at_least(self, table, rows: int) -> bool:
        """Whether ``table`` holds at least ``rows`` rows (reads no more than that many)."""
        found = self.rows(f"SELECT count(*) FROM (SELECT 1 FROM {table.quoted(self.db.quote)} LIMIT {int(rows)}) rows_")
        return bool(found) and int(found[0][0]) >= rows

    def _table(self, table):
        """The live table of that name (the schema is inspected once per lint run), or None."""
        if self._tables is None:
            from dbshift.inspectors import inspect

            self._tables = {t.name.lower(): t for t in inspect(self.db).tables}
        return self._tables.get(table.name.lower())

    def key_columns(self, table) -> tuple[str, ...]:
        """The table's primary key columns on the live database."""
        found = self._table(table)
        return found.primary_key.columns if found is not None and found.primary_key else ()

    def column_type(self, table, column: str) -> str | None:
        """The column's type on the live database, as the inspector writes it (``NUMERIC(10,2)``)."""
        found = self._table(table)
        match = next((c for c in found.columns if c.name == column), None) if found is not None else None
        if match is None and found is not None:  # MySQL: column names are case-insensitive
            match = next((c for c in found.columns if c.name.lower() == column.lower()), None)
        return match.type if match is not None else None


def _drops(script: LintScript, reader: _Reader):
    quote = reader.db.quote
    for statement in script.statements:
        effects = statement.effects
        counted = [
            ("row", str(d.table), reader.count(d.live_name or d.table))
            for d in effects.drops
            if not script.created_before(d.table, statement.index - 1)
            and not any((r.dropped or r.table) == d.table for r in script.rebuilds)
        ]
        counted += [
            ("value", str(c), reader.count(c.table, f"{quote(c.column)} IS NOT NULL"))
            for c in effects.drops_columns
            if not script.created_before(c.table, statement.index)
        ]
        counted += [("row", f"{t} (TRUNCATE)", reader.count(t)) for t in effects.truncates]
        counted += [
            ("row", f"{d.table} (DELETE)", reader.count(d.table, d.where))
            for d in effects.deletes
            if d.countable and d.by_trigger is None and not script.created_before(d.table, statement.index)
        ]
        for word, what, number in counted:
            if number:
                yield statement, "data-dropped", f"{_many(number, word)} of {what}"


def _null_blocks(script: LintScript, reader: _Reader):
    quote = reader.db.quote
    for statement in script.statements:
        for change in statement.changes:
            columns: tuple[str, ...] = ()
            if change.kind == "set_not_null" or (change.kind == "alter_column_type" and change.has("not_null")):
                columns = (change.name,)
            elif change.kind == "add_constraint" and change.has("check") and not change.has("not_valid"):
                columns = change.columns
            for column in columns:
                if script.created_before(change.table, statement.index):
                    continue
                number = reader.count(change.table, f"{quote(column)} IS NULL")
                if number:
                    keys = reader.key_columns(change.table)
                    examples = _examples(reader, change.table, keys, f"{quote(column)} IS NULL")
                    yield (
                        statement,
                        "nulls-block-not-null",
                        f"rows of {change.table} with {column} NULL: {number:,}{examples}{getattr(script.types, 'NULLS_NOTE', '')}",
                    )


def _examples(reader: _Reader, table, keys: tuple[str, ...], condition: str, source: str | None = None) -> str:
    """`` (id = 3, 4)``: up to 5 keys of the rows matching ``condition`` ('' without a key)."""
    if not keys:
        return ""
    quote = reader.db.quote
    found = (
        reader.rows(
            f"SELECT {', '.join(map(quote, keys))} FROM {source or table.quoted(quote)} WHERE {condition} "
            f"ORDER BY {', '.join(map(quote, keys))} LIMIT {EXAMPLES}"
        )
        or []
    )
    shown = [row[0] if len(row) == 1 else tuple(row) for row in found]
    return f" ({', '.join(keys)} = {', '.join(map(repr, shown))})" if shown else ""


def _duplicate_blocks(script: LintScript, reader: _Reader):
    quote = reader.db.quote
    for statement in script.statements:
        for change in statement.changes:
            if (
                change.kind not in ("add_constraint", "create_index")
                or not change.has("unique")
                or not change.columns
                or script.created_before(change.table, statement.index)
            ):
                continue
            columns = ", ".join(map(quote, change.columns))
            not_null = " AND ".join(f"{quote(c)} IS NOT NULL" for c in change.columns)
            source, sampled = change.table.quoted(quote), ""
            if reader.at_least(change.table, SAMPLE_ROWS + 1):
                source = f"(SELECT {columns} FROM {source} LIMIT {SAMPLE_ROWS}) sample_"
                sampled = f" in a sample of {SAMPLE_ROWS:,} rows (the table has more; the rest not checked)"
            groups = f"SELECT {columns}, count(*) FROM {source} WHERE {not_null} GROUP BY {columns} HAVING count(*) > 1"
            counted = reader.rows(f"SELECT count(*) FROM ({groups}) duplicates")
            if counted and counted[0][0]:
                examples = reader.rows(f"{groups} ORDER BY {columns} LIMIT {EXAMPLES}") or []
                shown = ", ".join(repr(row[0] if len(row) == 2 else tuple(row[:-1])) for row in examples)
                yield (
                    statement,
                    "duplicates-block-unique",
                    (
                        f"values of {change.table} ({', '.join(change.columns)}) held by more than one row{sampled}: "
                        f"{counted[0][0]:,} (e.g. {shown})"
                    ),
                )


def _violating_condition(change, quote) -> str | None:
    """The WHERE of the rows a new, validated FOREIGN KEY or CHECK rejects (None: not countable)."""
    if change.has("not_valid"):
        return None
    if change.has("check") and change.condition:
        return f"NOT ({change.condition})"  # a CHECK that is NULL passes, and so does NOT (NULL)
    if (
        change.has("foreign_key")
        and change.references is not None
        and change.columns
        and len(change.columns) == len(change.referenced_columns)
    ):
        child = change.table.quoted(quote)
        present = " AND ".join(f"{child}.{quote(c)} IS NOT NULL" for c in change.columns)
        parent = "dbshift_parent"
        match = " AND ".join(
            f"{parent}.{quote(r)} = {child}.{quote(c)}" for c, r in zip(change.columns, change.referenced_columns)
        )
        return f"{present} AND NOT EXISTS (SELECT 1 FROM {change.references.quoted(quote)} {parent} WHERE {match})"
    return None


def _constraint_violations(script: LintScript, reader: _Reader):
    quote = reader.db.quote
    for statement, change in ((s, c) for s in script.statements for c in s.changes if c.kind == "add_constraint"):
        condition = _violating_condition(change, quote)
        if condition is None or script.created_before(change.table, statement.index):
            continue
        number = reader.count(change.table, condition)
        if number:
            what = (
                f"rows of {change.table} whose ({', '.join(change.columns)}) has no match in {change.references}"
                if change.has("foreign_key")
                else f"rows of {change.table} failing CHECK ({change.condition})"
            )
            examples = _examples(reader, change.table, reader.key_columns(change.table), condition)
            yield statement, "rows-violate-constraint", f"{what}: {number:,}{examples}"


class TypeChange:
    """One ``alter_column_type`` change on a live table, for the dialect's count
    (``lint/data_<dialect>.py``'s ``changed_values(reader, change)``, which returns the detail of
    the finding or None)."""

    def __init__(self, reader: _Reader, change, old_type: str, live_name: str):
        quote = reader.db.quote
        self.change, self.old_type, self.live_name = change, old_type, live_name
        self.table, self.column = change.table, quote(live_name)
        self.keys = reader.key_columns(change.table)
        #: What the counts read: the table, or its first SAMPLE_ROWS rows when it has more.
        self.source, self.sampled = change.table.quoted(quote), ""
        if reader.at_least(change.table, SAMPLE_ROWS + 1):
            self.source = f"(SELECT * FROM {self.source} LIMIT {SAMPLE_ROWS}) sample_"
            self.sampled = f" in a sample of {SAMPLE_ROWS:,} rows (the table has more; the rest not checked)"

    def counted(self, reader: _Reader, condition: str, what: str) -> str | None:
        """``what: N (id = ...)`` for the rows matching ``condition``; None when none does."""
        found = reader.rows(f"SELECT count(*) FROM {self.source} WHERE {condition}")
        if not found or not found[0][0]:
            return None
        examples = _examples(reader, self.table, self.keys, condition, self.source)
        return f"{what}{self.sampled}: {int(found[0][0]):,}{examples}"

    @property
    def label(self) -> str:
        """``users.price numeric(10,2) -> integer``."""
        return f"{self.table}.{self.live_name} {self.old_type.lower()} -> {self.change.type_sql}"


def _type_changes(script: LintScript, reader: _Reader):
    """Values of live columns a type change would not keep (the dialect's module counts them).
    A ``USING`` that computes more than a cast of the column is the user's conversion: not judged."""
    module_name = getattr(script.types, "TYPE_CHANGE_DATA", None)
    if module_name is None:
        return
    module = importlib.import_module(module_name)
    for statement in script.statements:
        for change in statement.changes:
            if (
                change.kind != "alter_column_type"
                or change.type_sql is None
                or change.has("custom_using")
                or script.created_before(change.table, statement.index)
            ):
                continue
            live_name = next(  # MySQL's CHANGE old new TYPE renames as it converts
                (r.column for r in statement.effects.renames if r.column and r.new_name == change.name),
                change.name,
            )
            old_type = reader.column_type(change.table, live_name)
            if old_type is None or module.keeps_every_value(old_type, change):
                continue  # (a lossless pair: no query)
            detail = module.changed_values(reader, TypeChange(reader, change, old_type, live_name))
            if detail:
                yield statement, "values-changed-by-type", detail


def data_findings(script: LintScript, db):
    """(statement, code, detail) of the data-aware rules on the live database ``db``."""
    reader = _Reader(db)
    for check in (_drops, _null_blocks, _constraint_violations, _duplicate_blocks, _type_changes):
        yield from check(script, reader)
