"""dbshift: a database migration assistant that never loses a row without saying so first.

The library API lives on :class:`dbshift.project.Project`; the CLI is a thin layer over it.
Imports are lazy so that ``dbshift status`` starts fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Project", "DbshiftError", "__version__"]


def __getattr__(name: str):
    if name == "Project":
        from dbshift.project import Project

        return Project
    if name == "DbshiftError":
        from dbshift.errors import DbshiftError

        return DbshiftError
    raise AttributeError(name)
