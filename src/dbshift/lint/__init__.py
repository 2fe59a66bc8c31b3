"""``dbshift lint``: every risky statement of a migration named before it runs.

A library API returning findings as data (the CLI only renders them)::

    from dbshift.lint import lint_migrations
    findings = lint_migrations(Project("."))          # or (list_of_migrations, "postgresql")

Each :class:`Finding` has a stable ``code``, a ``severity`` (error / warning / info), the
``file`` and ``line``, the ``statement``, one line saying what goes wrong in production
(``problem``) and the safe alternative (``fix``). Statements are read by the dialect's parser
through :mod:`dbshift.analysis` (loaded only when lint runs).
"""

from __future__ import annotations

from dbshift.lint.engine import (
    all_rules,
    lint_migration,
    lint_migrations,
    lint_sql,
    rules_for,
)
from dbshift.lint.findings import SEVERITIES, Finding, Rule
from dbshift.lint.settings import LintSettings

__all__ = [
    "SEVERITIES",
    "Finding",
    "LintSettings",
    "Rule",
    "all_rules",
    "lint_migration",
    "lint_migrations",
    "lint_sql",
    "rules_for",
]
