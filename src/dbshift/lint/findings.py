"""Lint findings as plain data, and the rule and script shapes the rules share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: Severities, most serious first.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One risk lint found: where it is, what goes wrong in production and what to do instead."""

    code: str
    severity: str
    file: str
    line: int
    statement: str
    problem: str
    fix: str
    #: ``up`` or ``down`` (the section of a SQL migration), ``file`` for findings about the file.
    section: str = "up"

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "section": self.section,
            "statement": self.statement,
            "problem": self.problem,
            "fix": self.fix,
        }


@dataclass
class LintStatement:
    """A statement of the script being linted, with where it runs."""

    index: int
    line: int
    effects: Any  # dbshift.analysis.StatementEffects
    #: Whether a transaction is open when the statement starts.
    in_transaction: bool = False
    #: Which transaction it runs in (None: outside any); same number, same transaction.
    transaction: int | None = None

    @property
    def changes(self):
        """The statement's schema changes (see :class:`dbshift.analysis.SchemaChange`)."""
        return self.effects.changes


@dataclass
class LintScript:
    """One section (up or down) of one migration, read by the dialect's analyser."""

    dialect: str
    file: str
    section: str
    statements: list[LintStatement]
    rebuilds: list = field(default_factory=list)
    #: dbshift runs the section inside one transaction.
    transactional: bool = True
    #: A transaction is still open after the last statement.
    open_at_end: bool = False
    #: The PostgreSQL major version the rules assume (some risks went away in 11 and 12).
    server_version: int = 16
    #: The dialect's type vocabulary (``INT_KEY_TYPES``...), its lint module.
    types: Any = None
    #: Tables the migration's up creates: its down removing them undoes the up, nothing more.
    fresh_tables: frozenset[str] = frozenset()
    #: For a down: the up of the same migration, read just before it (None: not known). Rules
    #: that weigh a down against its up (``data-change-without-reverse``) read it.
    up: LintScript | None = field(default=None, repr=False, compare=False)
    #: For an up: whether its migration has no down or one without statements (None: not known,
    #: e.g. a lone script); a function answering it when it costs a split (see :meth:`down_is_empty`).
    down_empty: bool | None | Callable[[], bool] = None

    def down_is_empty(self) -> bool | None:
        """:attr:`down_empty`, worked out on first use (only an up that changes rows asks)."""
        if callable(self.down_empty):
            self.down_empty = self.down_empty()
        return self.down_empty

    def created_before(self, table, index: int) -> bool:
        """Whether ``table`` is created by a statement before ``index`` (or by that statement):
        a new table is empty and nobody uses it yet, so locks and rewrites on it cost nothing."""
        if table is None:
            return False
        if table.name in self.fresh_tables:
            return True
        for statement in self.statements[: index + 1]:
            for created in statement.effects.creates:
                if created.name == table.name and (table.schema is None or created.schema in (None, table.schema)):
                    return True
        return False


@dataclass(frozen=True)
class Rule:
    """A lint rule: a stable code, its default severity, the dialects it applies to, what goes
    wrong (``problem``, with ``{detail}`` filled per finding) and the safe alternative."""

    code: str
    severity: str
    dialects: frozenset[str]
    title: str
    problem: str
    fix: str
    #: Finds the rule's (statement, detail) pairs in a script; None for rules judged elsewhere
    #: (history rules on the migration files, data-aware rules on the live database).
    check: Callable[[LintScript], Iterable[tuple[LintStatement, str]]] | None = None
    #: A destructive or backward-incompatible change: expected in a down, reported one level lower there.
    destructive: bool = False
