"""PostgreSQL's differ hook: its extensions, rules and row-level security policies as typed changes.

The neutral differ (:mod:`dbshift.schema.diff`) calls :func:`diff_objects` through the PostgreSQL
description, so lint and the review screen read these changes without planning; the planner renders
them (and adds the rules and policies that must be made again over a table it reshapes).
"""

from __future__ import annotations

from dataclasses import dataclass

from dbshift.schema.diff import ObjectChange, changed_objects
from dbshift.schema.model import Schema


@dataclass(frozen=True)
class ExtensionChange(ObjectChange):
    """An extension (``options["extensions"][name]``: its schema) installed, dropped or moved."""

    kind = "extension"


@dataclass(frozen=True)
class RuleChange(ObjectChange):
    """A rule, keyed (table, name); its definition is the ``CREATE RULE`` text."""

    kind = "rule"


@dataclass(frozen=True)
class PolicyChange(ObjectChange):
    """A row-level security policy, keyed (table, name); its definition is a dict (as, for, to, using...)."""

    kind = "policy"


def rules(options: dict) -> dict[tuple[str, str], str]:
    """The schema's rules by (table, rule name): their ``CREATE RULE`` text."""
    return {(table, name): sql for table, found in options.get("rules", {}).items() for name, sql in found.items()}


def policies(options: dict) -> dict[tuple[str, str], dict]:
    """The schema's policies by (table, policy name)."""
    return {
        (table, name): policy for table, found in options.get("policies", {}).items() for name, policy in found.items()
    }


def diff_objects(current: Schema, desired: Schema) -> list[ObjectChange]:
    """Extensions, rules and policies that come, go or change from ``current`` to ``desired``."""
    old, new = current.options, desired.options
    return (
        changed_objects(ExtensionChange, old.get("extensions", {}), new.get("extensions", {}))
        + changed_objects(RuleChange, rules(old), rules(new))
        + changed_objects(PolicyChange, policies(old), policies(new))
    )
