"""``dbshift baseline``: adopt an existing database that has no dbshift history.

Its schema is inspected and written as a baseline migration, recorded as applied at version V
without running anything; later migrations apply on top.
"""

from __future__ import annotations

from pathlib import Path

from dbshift.errors import SafetyRefusal
from dbshift.history import APPLIED, History, lock_holder


def baseline(project, version: str | int | None = None) -> tuple[Path, int]:
    """Write the baseline migration from the live schema and record it as applied; its path and version."""
    from dbshift.drafting import sources
    from dbshift.drafting.render import render
    from dbshift.migrations import load_migration, new_version, parse_version, write_sql_migration

    migrations = project.migrations()
    wanted = new_version(taken={m.version for m in migrations}) if version is None else parse_version(str(version))
    dialect = project.config.require_url().dialect
    with project.connect() as db, db.lock(project.config.lock_timeout, lock_holder()):
        history = History(db)
        if history.applied():
            raise SafetyRefusal(
                "this database already has dbshift history: baseline is for a database without it",
                hint="`dbshift status` shows where it stands; new migrations apply on top",
            )
        older = [m.file for m in migrations if m.version <= wanted]
        if older:
            raise SafetyRefusal(
                f"{older[0]} is not newer than the baseline version {wanted}",
                hint="pass --version older than every migration in the folder",
            )
        schema = sources.inspect_database(db)
        path = write_sql_migration(
            project.config.migrations_dir,
            "baseline",
            up=render(schema, "sql", dialect).strip(),
            down=None,
            description="baseline: the schema of the existing database",
            version=wanted,
        )
        migration = load_migration(path)
        with db.transaction():
            history.ensure_tables()
            history.record(migration.version, migration.name, migration.checksum, APPLIED, 0)
            history.store_down(migration.version, migration.file, migration.text)
            history.log("baseline", migration.version, migration.name, detail="recorded from inspection; nothing ran")
    project.hash()
    return path, wanted
