"""The dialect-neutral schema model: plain frozen dataclasses, comparable, hashable, JSON-able.

Every dialect's inspector produces these and every dialect's planner consumes them. Values
that only one dialect has (SQLite ``WITHOUT ROWID``/``STRICT``, a PostgreSQL schema, a MySQL
engine) go in the ``options`` map of the object they belong to; ``options`` takes part in
equality but not in the hash (a dict is not hashable), which keeps hash and equality
consistent. Expressions (defaults, CHECKs, index WHERE clauses, generated columns) are kept
as SQL text normalized by the inspector, so equal meaning written with other spacing compares
equal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, Iterable

# NameRule is re-exported here: each dialect's description holds its rule.
from dbshift.dialects.description import NameRule, describe  # noqa: F401
from dbshift.dialects.description import folded as _folded

NO_ACTION = "NO ACTION"


def _options() -> Any:
    return field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Column:
    """A table column. ``type`` is the declared type, normalized (upper case, single spaces)."""

    name: str
    type: str = ""
    nullable: bool = True
    default: str | None = None
    collation: str | None = None
    #: The expression of a generated column, and whether it is STORED (else VIRTUAL).
    generated: str | None = None
    generated_stored: bool = False
    #: Hidden from ``SELECT *`` (SQLite virtual-table hidden columns, MySQL invisible columns).
    hidden: bool = False
    options: dict = _options()


@dataclass(frozen=True)
class PrimaryKey:
    """The primary key: column names in key order, optional constraint name."""

    columns: tuple[str, ...]
    name: str | None = None
    autoincrement: bool = False
    options: dict = _options()


@dataclass(frozen=True)
class Unique:
    """A UNIQUE constraint (part of the table definition, not a CREATE INDEX)."""

    columns: tuple[str, ...]
    name: str | None = None
    options: dict = _options()


@dataclass(frozen=True)
class Check:
    """A CHECK constraint: its normalized expression and optional name."""

    expression: str
    name: str | None = None
    options: dict = _options()


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key from ``columns`` to ``ref_table(ref_columns)``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = NO_ACTION
    on_update: str = NO_ACTION
    #: None, ``"DEFERRABLE INITIALLY DEFERRED"``, ``"DEFERRABLE INITIALLY IMMEDIATE"``...
    deferrable: str | None = None
    name: str | None = None
    options: dict = _options()


@dataclass(frozen=True)
class IndexKey:
    """One key of an index: a column or an expression, with order and collation."""

    column: str | None = None
    expression: str | None = None
    descending: bool = False
    collation: str | None = None

    @property
    def label(self) -> str:
        """The column name or the expression."""
        return self.column if self.column is not None else f"({self.expression})"


@dataclass(frozen=True)
class Index:
    """A CREATE INDEX on ``table`` (constraint-backed indexes are Unique/PrimaryKey instead)."""

    name: str
    table: str
    keys: tuple[IndexKey, ...]
    unique: bool = False
    where: str | None = None
    options: dict = _options()

    @property
    def columns(self) -> tuple[str, ...]:
        """The plain column names among the keys."""
        return tuple(k.column for k in self.keys if k.column is not None)


@dataclass(frozen=True)
class Table:
    """A table with its columns, constraints and indexes."""

    name: str
    columns: tuple[Column, ...]
    primary_key: PrimaryKey | None = None
    uniques: tuple[Unique, ...] = ()
    checks: tuple[Check, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    options: dict = _options()

    def column(self, name: str, key: Callable[[str], str] = _folded) -> Column | None:
        """The column spelled ``name``, else the one equal under ``key`` (default: ignoring case), or None."""
        exact = next((c for c in self.columns if c.name == name), None)
        return exact or next((c for c in self.columns if key(c.name) == key(name)), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in table order."""
        return tuple(c.name for c in self.columns)

    def definition(self) -> "Table":
        """The table without its indexes (what CREATE TABLE itself describes)."""
        return replace(self, indexes=())


@dataclass(frozen=True)
class View:
    """A view: its name and its defining statement, normalized."""

    name: str
    sql: str
    options: dict = _options()


@dataclass(frozen=True)
class Trigger:
    """A trigger on ``table``: its name and its full defining statement, normalized."""

    name: str
    table: str
    sql: str
    options: dict = _options()


@dataclass(frozen=True)
class Schema:
    """A whole database schema. Objects are sorted by name so equal schemas compare equal."""

    tables: tuple[Table, ...] = ()
    views: tuple[View, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    dialect: str = ""
    options: dict = _options()

    @staticmethod
    def build(
        tables: Iterable[Table] = (),
        views: Iterable[View] = (),
        triggers: Iterable[Trigger] = (),
        dialect: str = "",
        options: dict | None = None,
    ) -> "Schema":
        """A schema with its objects sorted by name."""
        return Schema(
            tables=tuple(sorted(tables, key=_by_name)),
            views=tuple(sorted(views, key=_by_name)),
            triggers=tuple(sorted(triggers, key=_by_name)),
            dialect=dialect,
            options=options or {},
        )

    @property
    def names(self) -> NameRule:
        """How this schema's dialect compares names (a schema without a dialect: ignoring case).

        A MySQL server that keeps table names as written but compares them ignoring case
        (``lower_case_table_names=2``, macOS) says so in ``options["table_names"]``.
        """
        rule = describe(self.dialect).name_rule if self.dialect else NameRule()
        return replace(rule, table=_folded) if self.options.get("table_names") == "case-insensitive" else rule

    def table(self, name: str) -> Table | None:
        """The table called ``name`` under the dialect's rule, or None."""
        return _named(self.tables, name, self.names.table)

    def view(self, name: str) -> View | None:
        """The view called ``name`` under the dialect's rule, or None."""
        return _named(self.views, name, self.names.table)

    def trigger(self, name: str) -> Trigger | None:
        """The trigger called ``name`` under the dialect's rule, or None."""
        return _named(self.triggers, name, self.names.table)

    def without_names(self) -> "Schema":
        """The schema with dialect/options dropped: for comparing two databases' content only."""
        return replace(self, dialect="", options={})

    def to_json(self) -> dict:
        """A JSON-serialisable dict (tuples become lists)."""
        return asdict(self)

    @staticmethod
    def from_json(data: dict) -> "Schema":
        """Rebuild a schema from :meth:`to_json` output."""
        return _from_json(Schema, data)


def _by_name(item) -> tuple[str, str]:
    return item.name.lower(), item.name


def _named(items, name: str, key: Callable[[str], str]):
    wanted = key(name)
    return next((i for i in items if key(i.name) == wanted), None)


_NESTED = {
    "tables": Table,
    "views": View,
    "triggers": Trigger,
    "columns": Column,
    "uniques": Unique,
    "checks": Check,
    "foreign_keys": ForeignKey,
    "indexes": Index,
    "keys": IndexKey,
}


def _from_json(cls, data: dict):
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "primary_key" and value is not None:
            value = _from_json(PrimaryKey, value)
        elif f.name in _NESTED and isinstance(value, (list, tuple)) and all(isinstance(i, dict) for i in value):
            value = tuple(_from_json(_NESTED[f.name], item) for item in value)
        elif isinstance(value, (list, tuple)):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
