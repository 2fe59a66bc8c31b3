"""The catalogue of lint rules: the shared ones, the history ones, and each dialect's module."""

from __future__ import annotations

import functools
import importlib

from dbshift.dialects.description import describe, known_dialects
from dbshift.lint.findings import Rule
from dbshift.lint.rules import COMMON_RULES

#: Every dialect with lint rules: its description names its lint module (rules, type names and
#: whether its DDL is transactional).
DIALECTS = frozenset(name for name in known_dialects() if describe(name).lint)

HISTORY_RULES = [
    Rule(
        "missing-down",
        "warning",
        DIALECTS,
        "No down section",
        "the migration has no down: `dbshift rollback` cannot undo it",
        "write a `-- migrate:down` section (mark it lossy when it cannot bring every value back)",
    ),
    Rule(
        "pending-before-applied",
        "error",
        DIALECTS,
        "Pending migration older than an applied one",
        "this pending migration is older than migrations already applied ({detail}): it runs after them, "
        "in an order no other database saw",
        "give it a new timestamp (rename the file) so it runs after the applied ones",
    ),
]


def dialect_module(dialect: str):
    """The lint module of ``dialect``; ConfigError for an unknown one."""
    from dbshift.errors import ConfigError

    if dialect not in DIALECTS:
        raise ConfigError(f"no lint rules for dialect {dialect!r}", hint="dialects: " + ", ".join(sorted(DIALECTS)))
    return importlib.import_module(describe(dialect).lint)


def all_rules() -> dict[str, Rule]:
    """Every rule of every dialect, by code."""
    return dict(_all_rules())


@functools.cache
def _all_rules() -> dict[str, Rule]:
    """Built once per process: lint asks for it for every section it reads."""
    from dbshift.lint.data import DATA_RULES
    from dbshift.lint.observe_findings import OBSERVED_RULES

    rules = {rule.code: rule for rule in COMMON_RULES + HISTORY_RULES + DATA_RULES + OBSERVED_RULES}
    for dialect in sorted(DIALECTS):
        rules.update({rule.code: rule for rule in dialect_module(dialect).RULES})
    return rules


def rules_for(dialect: str) -> list[Rule]:
    """The rules that apply to ``dialect``, shared ones first."""
    return list(_rules_for(dialect))


@functools.cache
def _rules_for(dialect: str) -> tuple[Rule, ...]:
    return tuple(r for r in COMMON_RULES + list(dialect_module(dialect).RULES) if dialect in r.dialects)
