"""Planners: a :class:`Diff` -> a :class:`Plan` of operations, one module per dialect."""

from __future__ import annotations

import importlib

from dbshift.errors import ConfigError

#: dialect name -> module with ``plan_diff(diff)`` and ``schema_sql(schema)``.
PLANNERS = {
    "sqlite": "dbshift.planners.sqlite",
    "postgresql": "dbshift.planners.postgresql",
    "mysql": "dbshift.planners.mysql",
}


def planner_for(dialect: str):
    """The planner module of ``dialect``."""
    name = PLANNERS.get(dialect)
    if name is not None:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    raise ConfigError(f"no migration planner for the {dialect} dialect yet", hint="dbshift diff works on SQLite today")


def plan(diff, dialect: str):
    """The plan that carries out ``diff`` on ``dialect``."""
    return planner_for(dialect).plan_diff(diff)
