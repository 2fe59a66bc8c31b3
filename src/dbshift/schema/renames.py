"""Rename decisions: explicit hints first, then a questioner on a terminal, else never guess.

A rename candidate is one table (or one column within a table) that disappeared while one of
a compatible shape appeared. Without a hint or a "yes" from a person the differ treats it as
a drop plus an add (flagged destructive) and reports the exact ``--rename`` hint to give.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

from dbshift.errors import ConfigError

Ask = Callable[[str], bool]


@dataclass(frozen=True)
class Candidate:
    """A possible rename: ``table`` is None for a table rename, else the table of the column."""

    table: str | None
    old: str
    new: str
    detail: str = ""

    @property
    def hint(self) -> str:
        """The ``--rename`` option that confirms this rename."""
        return f"--rename {self.table}.{self.old}={self.new}" if self.table else f"--rename {self.old}={self.new}"

    @property
    def question(self) -> str:
        """The question a person is asked."""
        what = (
            f"{self.table}.{self.old} renamed to {self.table}.{self.new}"
            if self.table
            else f"table {self.old} renamed to {self.new}"
        )
        return f"Was {what}{f' ({self.detail})' if self.detail else ''}? [y/N]"


@dataclass
class RenamePolicy:
    """Where rename decisions come from: hints, then ``ask`` (None: never guess)."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    ask: Ask | None = None
    #: Candidates nobody confirmed: reported to the user with their hint.
    unconfirmed: list[Candidate] = field(default_factory=list)

    @staticmethod
    def from_hints(hints: list[str] | tuple[str, ...] = (), ask: Ask | None = None) -> "RenamePolicy":
        """Parse ``old_table=new_table`` and ``table.old_column=new_column`` hints."""
        policy = RenamePolicy(ask=ask)
        for hint in hints:
            left, sep, right = hint.partition("=")
            left, right = left.strip(), right.strip()
            if not sep or not left or not right:
                raise ConfigError(
                    f"bad --rename {hint!r}", hint="write --rename old_table=new_table or --rename table.old=new"
                )
            if "." in left:
                table, _, column = left.partition(".")
                policy.columns[(table, column)] = right.split(".")[-1]
            else:
                policy.tables[left] = right
        return policy

    def table_hint(self, old: str) -> str | None:
        """The new name the hints give table ``old``: a hint spelled exactly like it, else one ignoring case."""
        return _hinted(self.tables, old)

    def column_hint(self, table: str, old: str) -> str | None:
        """The new name the hints give ``table.old``, if any (``table`` is the old or new name).

        A hint spelled exactly like the names wins over one that matches them only ignoring case
        (PostgreSQL's ``"Users"`` and ``users`` are two tables).
        """
        return _hinted(self.columns, (table, old))

    def decide(self, candidate: Candidate) -> bool:
        """Whether ``candidate`` is a rename: asks when it can, otherwise records it and says no."""
        if self.ask is not None and self.ask(candidate.question):
            return True
        self.unconfirmed.append(candidate)
        return False

    def inverse(self, table_renames: dict[str, str], column_renames: dict[tuple[str, str], str]) -> "RenamePolicy":
        """A policy for the reverse diff that repeats exactly the renames decided forwards."""
        policy = RenamePolicy()
        policy.tables = {new: old for old, new in table_renames.items()}
        policy.columns = {(table, new): old for (table, old), new in column_renames.items()}
        return policy


def _hinted(hints: dict, key):
    """``hints[key]``, else the hint whose key equals ``key`` ignoring case."""
    if key in hints:
        return hints[key]
    return next((new for written, new in hints.items() if _folded(written) == _folded(key)), None)


def _folded(key):
    return tuple(part.lower() for part in key) if isinstance(key, tuple) else key.lower()


def terminal_questioner(stream_in=None, stream_out=None) -> Ask | None:
    """A questioner reading y/N from a terminal; None when stdin is not a terminal."""
    stream_in = stream_in or sys.stdin
    stream_out = stream_out or sys.stderr
    if not stream_in.isatty():
        return None

    def ask(question: str) -> bool:
        stream_out.write(question + " ")
        stream_out.flush()
        return stream_in.readline().strip().lower() in ("y", "yes")

    return ask
