"""MySQL/MariaDB's migration templates: online index builds, AUTO_INCREMENT keys."""

from __future__ import annotations

from dbshift.planners.templates import MigrationTemplates, Rendered


class MySQLTemplates(MigrationTemplates):
    """MySQL/MariaDB: DDL commits on its own, so each template is one statement each way."""

    mark = "%s"
    key_column = "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY"

    def add_index(self) -> Rendered:
        """An in-place index build that lets writes go on (LOCK=NONE); DROP INDEX names its table."""
        rendered = super().add_index()
        index, table = self.index_name(), self.name("table")
        rendered.up = f"CREATE INDEX {index} ON {table} ({self.columns()}) ALGORITHM=INPLACE LOCK=NONE;"
        rendered.down = f"DROP INDEX {index} ON {table};"
        return rendered
