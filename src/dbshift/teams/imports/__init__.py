"""``dbshift import TOOL PATH``: move a project from Flyway, dbmate, Alembic or Django to dbshift.

Each tool has one module here that reads its migrations (``read``) and the database's history
table it keeps (``applied``); :mod:`dbshift.teams.imports.driver` turns them into dbshift
migration files and ``dbshift_history`` rows, so nothing that ran under the old tool runs again.
The modules load only when their tool is imported.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from dbshift.errors import ConfigError

#: Tool name -> its module (loaded on demand).
TOOLS = {
    "flyway": "dbshift.teams.imports.flyway",
    "dbmate": "dbshift.teams.imports.dbmate",
    "alembic": "dbshift.teams.imports.alembic",
    "django": "dbshift.teams.imports.django",
}


@dataclass
class ImportedMigration:
    """One migration of the old tool, as SQL: ``down`` None means the old tool had no down."""

    #: The old tool's own id of it: Flyway ``1.1``, dbmate ``20200101120000``, Alembic ``ae1027a6acf``.
    origin: str
    name: str
    description: str
    up: str
    down: str | None
    transaction: bool = True
    #: Where it came from (a file, or the command that printed it), for messages.
    source: str = ""
    #: What the tool's module keeps for checking its history (Flyway: the file's checksum).
    extra: dict = field(default_factory=dict)


@dataclass
class Reading:
    """What a tool's folder holds: its migrations in the order the tool runs them, and what was left out."""

    migrations: list[ImportedMigration]
    warnings: list[str] = field(default_factory=list)


@dataclass
class ToolApplied:
    """A migration the old tool's history table records as applied."""

    origin: str
    installed_on: str | None = None
    installed_by: str | None = None


def tool_module(tool: str):
    """The module that reads ``tool``'s migrations; a clear error for a tool dbshift does not know."""
    if tool not in TOOLS:
        raise ConfigError(
            f"dbshift cannot import from {tool!r}",
            hint="the tools it imports from: " + ", ".join(TOOLS),
        )
    return importlib.import_module(TOOLS[tool])


def detect(path: Path) -> str | None:
    """The tool whose migrations ``path`` looks like it holds, or None."""
    for tool in TOOLS:
        if tool_module(tool).looks_like(path):
            return tool
    return None
