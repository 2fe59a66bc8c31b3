"""Planners: a :class:`Diff` -> a :class:`Plan` of operations, one module per dialect."""

from __future__ import annotations

from dbshift.dialects.description import describe


def planner_for(dialect: str):
    """The planner module of ``dialect`` (``plan_diff(diff)``, ``schema_sql(schema)``)."""
    return describe(dialect).planner_module()


def plan(diff, dialect: str):
    """The plan that carries out ``diff`` on ``dialect``."""
    return planner_for(dialect).plan_diff(diff)
