"""Value conversions for changed columns: ``table.column=EXPRESSION`` in either direction.

A conversion is an SQL expression over the *other* side's columns: ``--convert
"orders.amount=amount_cents / 100.0"`` fills the new ``amount`` from the old row, and
``--reverse "orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)"`` fills the old column
back from the new row on the way down. ``--default "orders.note=''"`` backfills a NOT NULL
column. A value map ``--map "orders.kind=1:'First option',2:'Second'"`` becomes a CASE
expression both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dbshift.dialects.sqlite_description import SQLITE
from dbshift.errors import ConfigError


@dataclass
class Conversions:
    """Expressions keyed by (table, column), lower-cased; ``up`` by new names, ``down`` by old."""

    up: dict[tuple[str, str], str] = field(default_factory=dict)
    down: dict[tuple[str, str], str] = field(default_factory=dict)
    defaults: dict[tuple[str, str], str] = field(default_factory=dict)

    @staticmethod
    def parse(
        convert=(), reverse=(), defaults=(), maps=(), quote: Callable[[str], str] = SQLITE.quote
    ) -> "Conversions":
        """Read the command-line options into a :class:`Conversions` (``quote``: the dialect's, for --map)."""
        result = Conversions()
        for option, target, flag in (
            (convert, result.up, "--convert"),
            (reverse, result.down, "--reverse"),
            (defaults, result.defaults, "--default"),
        ):
            for text in option:
                key, expression = _split(text, flag)
                target[key] = expression
        for text in maps:
            key, body = _split(text, "--map")
            pairs = _map_pairs(body)
            result.up[key] = _case(quote(key[1]), pairs)
            result.down.setdefault(key, _case(quote(key[1]), [(b, a) for a, b in pairs]))
        return result

    def up_for(self, table: str, column: str) -> str | None:
        """The up conversion of ``table.column`` (new names), if given."""
        return self.up.get((table.lower(), column.lower()))

    def down_for(self, table: str, column: str) -> str | None:
        """The reverse conversion of ``table.column`` (old names), if given."""
        return self.down.get((table.lower(), column.lower()))

    def default_for(self, table: str, column: str) -> str | None:
        """The backfill expression for ``table.column``, if given."""
        return self.defaults.get((table.lower(), column.lower()))


def _split(text: str, flag: str) -> tuple[tuple[str, str], str]:
    left, sep, expression = text.partition("=")
    table, dot, column = left.strip().partition(".")
    if not sep or not dot or not table or not column or not expression.strip():
        raise ConfigError(f"bad {flag} {text!r}", hint=f'write {flag} "table.column=SQL expression"')
    return (table.lower(), column.lower()), expression.strip()


def _map_pairs(body: str) -> list[tuple[str, str]]:
    pairs = []
    for item in _split_commas(body):
        old, sep, new = item.partition(":")
        if not sep:
            raise ConfigError(f"bad --map entry {item!r}", hint='write --map "table.column=OLD:NEW,OLD:NEW"')
        pairs.append((old.strip(), new.strip()))
    return pairs


def _split_commas(text: str) -> list[str]:
    """Split at commas outside single-quoted strings."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _case(column_sql: str, pairs: list[tuple[str, str]]) -> str:
    whens = " ".join(f"WHEN {old} THEN {new}" for old, new in pairs)
    return f"CASE {column_sql} {whens} END"
