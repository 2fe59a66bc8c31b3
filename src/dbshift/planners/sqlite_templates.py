"""SQLite's migration templates: an INTEGER PRIMARY KEY (the rowid) as a new table's key."""

from __future__ import annotations

from dbshift.planners.templates import MigrationTemplates


class SQLiteTemplates(MigrationTemplates):
    """SQLite: RENAME COLUMN and DROP COLUMN are native ALTER TABLE (3.25, 3.35); no rebuild."""

    key_column = "id INTEGER PRIMARY KEY"
