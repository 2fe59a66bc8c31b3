"""Migration templates (``dbshift new NAME --template T``): the common operations with their downs.

:class:`MigrationTemplates` renders them in ANSI SQL; each dialect's ``<dialect>_templates`` module
overrides what its database does differently (named by its description's ``templates``). A value
the user did not give is written as a ``<TODO: what>`` placeholder, never quoted, so a half-filled
file cannot run: ``apply`` refuses it, naming the line (see :mod:`dbshift.drafting.templates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

#: What a template needs, per template; ``index`` and ``key`` have defaults.
NEEDS = {
    "add-column": ("table", "column", "type"),
    "rename-column": ("table", "column", "to"),
    "add-index": ("table", "column"),
    "create-table": ("table", "column", "type"),
    "backfill": ("table", "column", "value"),
}


def placeholder(what: str) -> str:
    """The text written where the user has to fill in ``what``."""
    return f"<TODO: {what}>"


@dataclass
class Rendered:
    """A filled template: SQL up and down (or a Python file), and its header flags."""

    description: str
    up: str = ""
    down: str = ""
    transaction: bool = True
    risky: bool = False
    #: The whole text of a Python migration (``up``/``down`` are then unused).
    python: str | None = None


class MigrationTemplates:
    """ANSI renderings of the templates; dialects override what differs."""

    #: The key column of a new table.
    key_column = "id BIGINT NOT NULL PRIMARY KEY"
    #: The statements that add and drop an index, and whether they may run in a transaction.
    index_transaction = True

    #: The driver's parameter mark, for the backfill's Python code.
    mark = "?"

    def __init__(self, quote: Callable[[str], str], values: dict | None = None):
        self.quote = quote
        self.values = {k: v for k, v in (values or {}).items() if v not in (None, "")}

    # -- filling in ------------------------------------------------------------------------
    def name(self, what: str) -> str:
        """A quoted name the user gave, or its placeholder."""
        value = self.values.get(what)
        return self.quote(value) if value is not None else placeholder(what)

    def raw(self, what: str) -> str:
        """SQL text the user gave as it is (a type, an expression), or its placeholder."""
        return self.values.get(what) or placeholder(what)

    def columns(self) -> str:
        """The quoted, comma-separated columns of ``--column a,b``."""
        value = self.values.get("column")
        if value is None:
            return placeholder("column")
        return ", ".join(self.quote(c.strip()) for c in value.split(",") if c.strip())

    def index_name(self) -> str:
        """``--index``, else ``ix_<table>_<columns>`` (its placeholder while table or column is missing)."""
        if "index" in self.values:
            return self.quote(self.values["index"])
        if "table" not in self.values or "column" not in self.values:
            return placeholder("index")
        parts = [self.values["table"]] + [c.strip() for c in self.values["column"].split(",")]
        return self.quote("ix_" + "_".join(parts)[:60])

    def label(self, what: str) -> str:
        """A value for a description (the placeholder's word when missing)."""
        return self.values.get(what) or what

    # -- the templates -----------------------------------------------------------------------
    def add_column(self) -> Rendered:
        """ADD COLUMN; the down drops it (and its values: a rollback needs --force)."""
        table, column = self.name("table"), self.name("column")
        return Rendered(
            f"add column {self.label('table')}.{self.label('column')}",
            f"ALTER TABLE {table} ADD COLUMN {column} {self.raw('type')};",
            f"ALTER TABLE {table} DROP COLUMN {column};",
        )

    def rename_column(self) -> Rendered:
        """RENAME COLUMN both ways: nothing is copied, nothing is lost."""
        table, old, new = self.name("table"), self.name("column"), self.name("to")
        return Rendered(
            f"rename column {self.label('table')}.{self.label('column')} to {self.label('to')}",
            f"ALTER TABLE {table} RENAME COLUMN {old} TO {new};",
            f"ALTER TABLE {table} RENAME COLUMN {new} TO {old};",
        )

    def add_index(self) -> Rendered:
        """CREATE INDEX; the down drops it."""
        index, table = self.index_name(), self.name("table")
        return Rendered(
            f"add index on {self.label('table')} ({self.label('column')})",
            f"CREATE INDEX {index} ON {table} ({self.columns()});",
            f"DROP INDEX {index};",
        )

    def create_table(self) -> Rendered:
        """CREATE TABLE with a key and one column; the down drops it."""
        table = self.name("table")
        return Rendered(
            f"create table {self.label('table')}",
            f"CREATE TABLE {table} (\n    {self.key_column},\n    {self.name('column')} {self.raw('type')}\n);",
            f"DROP TABLE {table};",
        )

    def backfill(self) -> Rendered:
        """A Python migration filling the column's NULLs in batches of keys, each batch its own
        statement (and, outside a transaction, its own commit); the down empties the column again."""
        return Rendered(
            f"backfill {self.label('table')}.{self.label('column')}",
            python=BACKFILL.format(
                description=f"backfill {self.label('table')}.{self.label('column')}",
                table=self.name("table"),
                column=self.name("column"),
                key=self.quote(self.values.get("key", "id")),
                value=self.raw("value"),
                p=self.mark,
                transaction=self.backfill_transaction,
            ),
            risky=True,
        )

    #: Whether the backfill runs in one transaction (False: each batch commits, locks stay short).
    backfill_transaction = False


BACKFILL = '''\
"""{description}: fills the NULLs of the column in batches of keys."""

DESCRIPTION = "{description}"
DEPENDS: list[str] = []
RISKY = True
# Each batch commits on its own, so the table is never locked for long; a failure halfway leaves the
# migration dirty (`dbshift repair --dirty pending`, then apply again: filled rows are skipped).
TRANSACTION = {transaction}
BATCH = 1000
TABLE, COLUMN, KEY = {table!r}, {column!r}, {key!r}
VALUE = {value!r}  # SQL computed for each row, e.g. another column or a constant
MARK = {p!r}  # the driver's parameter mark


def _run(ctx, sql, params):
    """Run ``sql`` with ``params``; where the mark is %s, a literal % in the SQL is doubled."""
    if MARK == "%s":
        sql = sql.replace("%", "%%").replace("%%s", "%s")
    return ctx.execute(sql, params)


def _batches(ctx):
    """Ranges of keys [low, high) with BATCH rows each (high None: to the end)."""
    low = ctx.query(f"SELECT MIN({{KEY}}) FROM {{TABLE}}")[0][0]
    while low is not None:
        sql = f"SELECT {{KEY}} FROM {{TABLE}} WHERE {{KEY}} >= {{MARK}} ORDER BY {{KEY}} LIMIT 1 OFFSET {{BATCH}}"
        rows = _run(ctx, sql, (low,))
        high = rows[0][0] if rows else None
        yield low, high
        low = high


def _update(ctx, assignment, condition):
    for low, high in _batches(ctx):
        upper, params = (f" AND {{KEY}} < {{MARK}}", (low, high)) if high is not None else ("", (low,))
        _run(ctx, f"UPDATE {{TABLE}} SET {{assignment}} WHERE {{KEY}} >= {{MARK}}{{upper}} AND {{condition}}", params)


def up(ctx):
    """Fill the column where it is NULL. Refused when it holds values already: the down empties it."""
    if ctx.query(f"SELECT 1 FROM {{TABLE}} WHERE {{COLUMN}} IS NOT NULL LIMIT 1"):
        raise RuntimeError(
            f"{{TABLE}}.{{COLUMN}} already holds values, and the down of this backfill would empty them: "
            "backfill a column just added (or write this migration's down yourself)"
        )
    _update(ctx, f"{{COLUMN}} = {{VALUE}}", f"{{COLUMN}} IS NULL")


def down(ctx):
    """Empty the column again (it was empty before the up)."""
    _update(ctx, f"{{COLUMN}} = NULL", f"{{COLUMN}} IS NOT NULL")
'''
