"""One description per database: everything dbshift knows about a dialect without a connection.

How it quotes names and strings, how it compares names, its comment syntax, which family a
declared type belongs to (for rename matching and lossless checks), how it splits a script, and
where its Database class, inspector and planner live. Adding a database means adding one
description file and one line to :data:`REGISTERED`; no other module branches on a dialect name.

The shape follows sqlglot: a dialect is a class of overrides over ANSI defaults, so a description
states only where its database differs. The classes hold no connection and import no driver:
start-up pays for a few small modules only.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from dbshift.errors import ConfigError

if TYPE_CHECKING:
    from dbshift.dialects.base import Database, Statement
    from dbshift.urls import DatabaseURL


def exact(name: str) -> str:
    """A name compared exactly as written."""
    return name


def folded(name: str) -> str:
    """A name compared ignoring case."""
    return name.lower()


@dataclass(frozen=True)
class NameRule:
    """When two names are the same object, per kind: each function maps a name to its comparison key."""

    #: Tables, views and triggers.
    table: Callable[[str], str] = folded
    column: Callable[[str], str] = folded
    #: Index and constraint names.
    index: Callable[[str], str] = folded


#: Type families shared by every description: what a declared type's values are, across dialects.
INTEGER, REAL, DECIMAL, TEXT, BLOB, BOOLEAN, TEMPORAL, JSON, OTHER = (
    "integer",
    "real",
    "decimal",
    "text",
    "blob",
    "boolean",
    "temporal",
    "json",
    "other",
)
NUMBER_FAMILIES = frozenset({INTEGER, REAL, DECIMAL})


class DialectDescription:
    """ANSI defaults; each database overrides what differs."""

    #: The URL scheme's dialect name (``DatabaseURL.dialect``).
    name = ""
    #: "module:Class" of its :class:`~dbshift.dialects.base.Database`, imported when a connection opens.
    database_class = ""
    #: "module:function" of its inspector (a Database -> Schema).
    inspector = ""
    #: Module of its planner (``plan_diff(diff)``, ``schema_sql(schema)``).
    planner = ""
    #: "module:function" of its differ hook (``(current, desired) -> [ObjectChange]``) for the schema-level
    #: objects only it has (PostgreSQL's extensions, rules and policies, MySQL's events); "" when none.
    object_differ = ""
    #: "module:function" of its script splitter (``(text, first_line) -> [Statement]``).
    splitter = ""
    #: How names compare (see :class:`NameRule`).
    name_rule = NameRule()
    #: The identifier quote character.
    quote_character = '"'
    #: Whether the parser folds an unquoted name to lower case (``Users`` is ``users``).
    folds_unquoted_names = False
    #: A pattern (``re.DOTALL``) matching string literals and comments: text that is not SQL that runs.
    strings_and_comments = r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/"
    #: Module of its statement analyser (``make_analyser(db)``), see :mod:`dbshift.analysis`.
    analyser = ""
    #: Module of its lint rules (``RULES``...), see :mod:`dbshift.lint`.
    lint = ""
    #: "module:Class" of its statement observer (what a statement really locks and rewrites on a
    #: rehearsal copy), see :mod:`dbshift.lint.observe`; empty: not observed.
    observer = ""
    #: "module:Class" of its migration templates (``dbshift new --template``), see :mod:`dbshift.planners.templates`.
    templates = "dbshift.planners.templates:MigrationTemplates"
    #: URL schemes that name this dialect (``scheme://`` or ``scheme+driver://``).
    url_schemes: tuple[str, ...] = ()
    #: The URL's path is a database file (SQLite), not a database on a server.
    file_based = False

    def quote(self, identifier: str) -> str:
        """``identifier`` quoted so that the database reads it exactly as written."""
        q = self.quote_character
        return q + identifier.replace(q, q + q) + q

    def literal(self, text: str) -> str:
        """``text`` as a SQL string literal."""
        return "'" + text.replace("'", "''") + "'"

    def type_family(self, declared: str) -> str:
        """The family of a declared type: integer, real, decimal, text, blob, boolean, temporal, json, other."""
        return _family_by_words(declared)

    def compatible_types(self, old: str, new: str) -> bool:
        """Whether a value of ``old`` type may plausibly be the same data as ``new`` (numbers with numbers,
        text with text): the differ pairs a dropped and an added column as a rename candidate only then."""
        a, b = self.type_family(old), self.type_family(new)
        return a == b or (a in NUMBER_FAMILIES and b in NUMBER_FAMILIES)

    def split_script(self, text: str, first_line: int = 1) -> list["Statement"]:
        """``text`` split into statements, each with the line where it starts (a text split
        lately is not split again: see :class:`_SplitMemo`)."""
        return _SPLITS.split(self.splitter, text, first_line)

    def diff_objects(self, current: Any, desired: Any) -> list:
        """The typed changes of the dialect-only objects from ``current`` to ``desired`` (two Schemas)."""
        return _load(self.object_differ)(current, desired) if self.object_differ else []

    def embedded_scratch_url(self) -> str | None:
        """A URL for a throw-away database that needs no server (SQLite: ``:memory:``), or None."""
        return None

    def analysis_stamp(self) -> str:
        """What, besides dbshift's code and the parsers, decides how its analyser reads a statement
        (the lint cache keys on it): nothing by default."""
        return ""

    # -- the dialect's heavier parts, imported on first use ---------------------------------
    def open(
        self,
        url: "DatabaseURL",
        busy_timeout: float = 30.0,
        readonly: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> "Database":
        """A connection to ``url`` with the dialect's Database class. ``readonly`` promises that nothing
        will be written (a server takes the promise as it is); ``on_wait(message)`` hears when the lock
        makes it wait."""
        db = _load(self.database_class)(url, busy_timeout=busy_timeout)
        db.on_wait = on_wait
        return db

    def inspect(self, db: "Database") -> Any:
        """The schema of the database ``db`` is connected to, read by this dialect's inspector."""
        return _load(self.inspector)(db)

    def migration_templates(self, values: dict) -> Any:
        """This dialect's migration templates, filled with ``values`` (table, column, type...)."""
        return _load(self.templates)(self.quote, values)

    def planner_module(self) -> Any:
        """The planner module (``plan_diff``, ``schema_sql``)."""
        return importlib.import_module(self.planner)


class _SplitMemo:
    """The statements of the scripts split lately, by splitter, text and first line: ``apply``
    splits each up for its lint gate, its history record and its runner (twice), ``lint`` an
    up for its findings and again for its down's. Bounded by the characters held; a text too
    big to keep is split each time (its run costs far more than its split)."""

    def __init__(self, budget: int):
        self.budget, self.held = budget, 0
        self.splits: OrderedDict[tuple[str, int, str], tuple[Statement, ...]] = OrderedDict()
        self.lock = threading.Lock()

    def split(self, splitter: str, text: str, first_line: int) -> list[Statement]:
        """The statements of ``text`` (a new list each time; a Statement cannot be changed)."""
        key = (splitter, first_line, text)
        with self.lock:
            found = self.splits.get(key)
            if found is not None:
                self.splits.move_to_end(key)
                return list(found)
        statements = _load(splitter)(text, first_line)
        size = 2 * len(text)  # the text and the statements cut from it
        if size <= self.budget // 8:
            with self.lock:
                if key not in self.splits:
                    self.splits[key] = tuple(statements)
                    self.held += size
                while self.held > self.budget:
                    (_, _, old), _ = self.splits.popitem(last=False)
                    self.held -= 2 * len(old)
        return statements


_SPLITS = _SplitMemo(budget=16_000_000)  # characters: ~2,000 migrations of 4 KB each, texts of up to 1M


def forget_splits() -> None:
    """Empty the memo of split scripts (a benchmark round then pays what a new process pays)."""
    with _SPLITS.lock:
        _SPLITS.splits.clear()
        _SPLITS.held = 0


def _load(target: str) -> Any:
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


_WORD_FAMILIES = (
    (BOOLEAN, ("BOOL",)),
    (INTEGER, ("INT", "SERIAL")),
    (DECIMAL, ("NUMERIC", "DECIMAL", "DEC(", "MONEY")),
    (REAL, ("REAL", "FLOA", "DOUB")),
    (JSON, ("JSON",)),
    (TEMPORAL, ("DATE", "TIME", "YEAR", "INTERVAL")),
    (BLOB, ("BLOB", "BYTEA", "BINARY")),
    (TEXT, ("CHAR", "CLOB", "TEXT", "STRING", "ENUM", "SET(", "UUID", "CITEXT")),
)


def _family_by_words(declared: str) -> str:
    upper = declared.upper()
    for family, words in _WORD_FAMILIES:
        if any(word in upper for word in words):
            return family
    return OTHER


#: dialect name -> "module:instance" of its description. One line per database.
REGISTERED = {
    "sqlite": "dbshift.dialects.sqlite_description:SQLITE",
    "postgresql": "dbshift.dialects.postgresql_description:POSTGRESQL",
    "mysql": "dbshift.dialects.mysql_description:MYSQL",
}


@functools.cache
def describe(dialect: str) -> DialectDescription:
    """The description of ``dialect`` (a name as in ``DatabaseURL.dialect``); ConfigError if unknown."""
    target = REGISTERED.get(dialect)
    if target is None:
        known = ", ".join(sorted(REGISTERED))
        raise ConfigError(f"unknown database dialect {dialect!r}", hint=f"dbshift knows {known}")
    return _load(target)


def known_dialects() -> list[str]:
    """Every registered dialect name."""
    return sorted(REGISTERED)


def dialect_of_scheme(scheme: str) -> str | None:
    """The dialect a URL scheme (without ``+driver``) names, or None."""
    return next((name for name in known_dialects() if scheme in describe(name).url_schemes), None)


def known_schemes() -> list[str]:
    """Every URL scheme dbshift takes, e.g. for a hint."""
    return [scheme for name in known_dialects() for scheme in describe(name).url_schemes]
