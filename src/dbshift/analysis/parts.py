"""One script read by several analysers, each holding an independent part of the schema.

An analyser that runs statements on a copy of the schema (SQLite) pays for the whole copy on
some statements: SQLite's ``ALTER TABLE`` re-reads every table and index of the database it
runs in, so 50 ``DROP COLUMN`` on a 100-table copy took a quarter of a second. When the caller
knows which tables each statement can reach (a drafted migration: the planner wrote each
statement for one change), the statements are routed to small copies instead; the rebuilds a
script makes up are still found over the whole script, in its order.
"""

from __future__ import annotations

from collections.abc import Iterable

from dbshift.analysis.base import Analyser
from dbshift.analysis.effects import StatementEffects


class Parts(Analyser):
    """Statements read one after another, each by the analyser of its part (``route``: the part
    of each statement, in the order they are given). The parts are closed with it."""

    def __init__(self, parts: list[Analyser], route: Iterable[int]):
        if not parts:
            raise ValueError("Parts needs at least one analyser")
        self.parts = parts
        self.route = iter(route)
        self.dialect = parts[0].dialect
        self.reads_copies = parts[0].reads_copies

    def statement(self, sql: str, rerun: bool = True) -> StatementEffects:
        """The effects of ``sql`` read by the analyser of its part."""
        part = next(self.route, None)
        if part is None:
            raise ValueError("more statements than the route names")
        return self.parts[part].statement(sql, rerun)

    def same_name(self, a: str, b: str) -> bool:
        """The parts' rule for identifiers (they are of one dialect)."""
        return self.parts[0].same_name(a, b)

    def close(self) -> None:
        """Close every part."""
        for part in self.parts:
            part.close()
