"""``dbshift new NAME --template T``: a migration for a common operation, with its down, in the
project's dialect (rendered by the dialect's templates, see :mod:`dbshift.planners.templates`).

Values not given (``--table``, ``--column``...) are written as ``<TODO: what>`` placeholders, and
:func:`refuse_unfilled` stops ``apply`` before a half-filled migration runs, naming its line.
"""

from __future__ import annotations

import re
from pathlib import Path

from dbshift.errors import ConfigError, MigrationFileError

PLACEHOLDER = re.compile(r"<TODO: [^>\n]*>")


def template_names() -> list[str]:
    """Every template, in the order ``--help`` lists them."""
    from dbshift.planners.templates import NEEDS

    return list(NEEDS)


def write_from_template(directory: Path, name: str, template: str, dialect: str, values: dict) -> Path:
    """Write migration ``name`` from ``template`` for ``dialect``; ``values``: table, column, type, to,
    index, key, value (missing ones become placeholders)."""
    from dbshift.dialects.description import describe
    from dbshift.migrations import write_python_migration, write_sql_migration

    if template not in template_names():
        raise ConfigError(f"unknown template {template!r}", hint="the templates are: " + ", ".join(template_names()))
    rendered = getattr(describe(dialect).migration_templates(values), template.replace("-", "_"))()
    if rendered.python is not None:
        return write_python_migration(directory, name, rendered.python)
    return write_sql_migration(
        directory,
        name,
        up=rendered.up,
        down=rendered.down,
        description=rendered.description,
        transaction=rendered.transaction,
        risky=rendered.risky,
    )


def missing_values(template: str, values: dict) -> list[str]:
    """The values ``template`` needs that ``values`` does not give (they become placeholders)."""
    from dbshift.planners.templates import NEEDS

    return [what for what in NEEDS.get(template, ()) if not values.get(what)]


def refuse_unfilled(migrations) -> None:
    """A migration that still holds a ``<TODO: ...>`` placeholder is an error naming its line."""
    for migration in migrations:
        match = PLACEHOLDER.search(migration.text or "")
        if match is None:
            continue
        line = migration.text.count("\n", 0, match.start()) + 1
        raise MigrationFileError(
            f"{migration.path}:{line}: the template placeholder {match.group()} is not filled in",
            hint="write the real name or SQL in its place (or `dbshift new` again with --table/--column/...); "
            "nothing was applied",
        )
