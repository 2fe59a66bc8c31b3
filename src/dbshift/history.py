"""The two bookkeeping tables dbshift keeps in the target database.

``dbshift_history``: one row per applied (or half-applied) migration.
``dbshift_log``: every apply, rollback, repair and restore, with time and who.
The SQL here is plain and portable; the dialect supplies placeholders and the log's key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

from dbshift.dialects.base import (  # noqa: F401
    BOOKKEEPING_TABLES,
    HISTORY_TABLE,
    LOCK_TABLE,
    LOG_TABLE,
    Database,
)

APPLIED = "applied"
RUNNING = "running"


@dataclass
class AppliedMigration:
    """A row of ``dbshift_history``."""

    version: int
    name: str
    checksum: str
    status: str
    applied_at: str
    duration_ms: int | None
    applied_by: str | None
    host: str | None
    backup: str | None
    record: dict
    #: Values the up's loss checks counted that the down will not give back (None: no check ran).
    lost_values: int | None = None
    #: The applied file as it was (``{"file": name, "text": text}``), so its down can run after the
    #: file is gone (another branch checked out); None for rows written before dbshift kept it.
    stored_down: dict | None = None

    @property
    def declared(self) -> str | None:
        """The schema a declarative apply (``apply --schema``) drafted this row from, when it has no file."""
        return (self.stored_down or {}).get("declared")

    def as_json(self) -> dict:
        """A JSON-friendly dict (``stored_down``: whether the file is kept, not its whole text)."""
        return {**self.__dict__, "stored_down": self.stored_down is not None, "declared": self.declared}


@dataclass
class LogEntry:
    """A row of ``dbshift_log``."""

    id: int
    at: str
    action: str
    version: int | None
    name: str | None
    actor: str | None
    host: str | None
    duration_ms: int | None
    detail: str | None

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return dict(self.__dict__)


def current_version(applied: dict[int, "AppliedMigration"]) -> int:
    """The newest fully applied version (0 when none is)."""
    return max((v for v, a in applied.items() if a.status == APPLIED), default=0)


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def current_actor() -> str:
    """Who runs dbshift: the OS user name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def current_host() -> str:
    """This machine's host name."""
    import socket

    return socket.gethostname()


def lock_holder() -> dict:
    """What the lock records about its holder."""
    return {"pid": os.getpid(), "host": current_host(), "user": current_actor(), "since": now_iso()}


class History:
    """Reads and writes the bookkeeping tables through a dialect's :class:`Database`."""

    def __init__(self, db: Database):
        self.db = db

    @cached_property
    def _host(self) -> str:
        return current_host()

    @cached_property
    def _actor(self) -> str:
        return current_actor()

    def ensure_tables(self) -> None:
        """Create the bookkeeping tables if they are missing (idempotent)."""
        if not self.db.table_exists(HISTORY_TABLE):
            self.db.check_schema_to_create_in()
            self.db.execute(
                f"CREATE TABLE {HISTORY_TABLE} ("
                "version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, "
                "checksum VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, "
                "applied_at VARCHAR(40) NOT NULL, duration_ms INTEGER, applied_by VARCHAR(255), "
                "host VARCHAR(255), backup TEXT, record TEXT, lost_values BIGINT, stored_down TEXT)"
            )
            self._columns.update({"lost_values", "stored_down"})
        else:  # a history table written by an older dbshift gets the columns it lacks
            for column, type_ in (("lost_values", "BIGINT"), ("stored_down", "TEXT")):
                if column not in self._columns:
                    self.db.execute(f"ALTER TABLE {HISTORY_TABLE} ADD COLUMN {column} {type_}")
                    self._columns.add(column)
        if not self.db.table_exists(LOG_TABLE):
            self.db.execute(
                f"CREATE TABLE {LOG_TABLE} (id {self.db.autoincrement_pk}, at VARCHAR(40) NOT NULL, "
                "action VARCHAR(32) NOT NULL, version BIGINT, name VARCHAR(255), actor VARCHAR(255), "
                "host VARCHAR(255), duration_ms INTEGER, detail TEXT)"
            )

    @cached_property
    def _columns(self) -> set[str]:
        """The history table's columns (older dbshift versions wrote fewer), lower case."""
        cursor = self.db.connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {HISTORY_TABLE} WHERE 1 = 0")
            return {d[0].lower() for d in cursor.description}
        finally:
            cursor.close()

    def applied(self) -> dict[int, AppliedMigration]:
        """All history rows by version (empty when the table does not exist yet)."""
        if not self.db.table_exists(HISTORY_TABLE):
            return {}
        lost = "lost_values" if "lost_values" in self._columns else "NULL"
        stored = "stored_down" if "stored_down" in self._columns else "NULL"
        rows = self.db.execute(
            "SELECT version, name, checksum, status, applied_at, duration_ms, applied_by, host, backup, record, "
            f"{lost}, {stored} FROM {HISTORY_TABLE} ORDER BY version"
        )
        return {
            int(row[0]): AppliedMigration(
                int(row[0]),
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                json.loads(row[9]) if row[9] else {},
                None if row[10] is None else int(row[10]),
                stored_down=json.loads(row[11]) if row[11] else None,
            )
            for row in rows
        }

    def store_down(self, version: int, file: str, text: str, declared: str | None = None) -> None:
        """Keep the applied file's text with its row, so its down can run once the file is gone.
        ``declared``: the schema a declarative apply drafted it from (it has no file of its own)."""
        if "stored_down" in self._columns and text:
            p = self.db.placeholder
            stored = {"file": file, "text": text, **({"declared": declared} if declared else {})}
            self.db.execute(
                f"UPDATE {HISTORY_TABLE} SET stored_down = {p} WHERE version = {p}", (json.dumps(stored), version)
            )

    def record(
        self,
        version: int,
        name: str,
        checksum: str,
        status: str,
        duration_ms: int | None = None,
        backup: str | None = None,
        record: dict | None = None,
        lost_values: int | None = None,
    ) -> None:
        """Insert or replace the history row of ``version`` (``lost_values``: what its loss checks counted)."""
        p = self.db.placeholder
        self.db.execute(f"DELETE FROM {HISTORY_TABLE} WHERE version = {p}", (version,))
        self.db.execute(
            f"INSERT INTO {HISTORY_TABLE} (version, name, checksum, status, applied_at, duration_ms, "
            f"applied_by, host, backup, record) VALUES ({', '.join([p] * 10)})",
            (
                version,
                name,
                checksum,
                status,
                now_iso(),
                duration_ms,
                self._actor,
                self._host,
                backup,
                json.dumps(record) if record else None,
            ),
        )
        if lost_values is not None:
            self.db.execute(f"UPDATE {HISTORY_TABLE} SET lost_values = {p} WHERE version = {p}", (lost_values, version))

    def remove(self, version: int) -> None:
        """Delete the history row of ``version`` (after its down ran)."""
        self.db.execute(f"DELETE FROM {HISTORY_TABLE} WHERE version = {self.db.placeholder}", (version,))

    def set_checksum(self, version: int, checksum: str) -> None:
        """Accept a changed file on purpose (``dbshift repair``)."""
        p = self.db.placeholder
        self.db.execute(f"UPDATE {HISTORY_TABLE} SET checksum = {p} WHERE version = {p}", (checksum, version))

    def log(
        self,
        action: str,
        version: int | None = None,
        name: str | None = None,
        detail: str | None = None,
        duration_ms: int | None = None,
    ) -> None:
        """Append one line to ``dbshift_log``."""
        p = self.db.placeholder
        self.db.execute(
            f"INSERT INTO {LOG_TABLE} (at, action, version, name, actor, host, duration_ms, detail) "
            f"VALUES ({', '.join([p] * 8)})",
            (now_iso(), action, version, name, self._actor, self._host, duration_ms, detail),
        )

    def has_log(self) -> bool:
        """Whether ``dbshift_log`` exists (a database dbshift never changed has none)."""
        return self.db.table_exists(LOG_TABLE)

    def log_entries(self, limit: int = 200) -> list[LogEntry]:
        """The newest ``limit`` log lines, oldest first."""
        if not self.db.table_exists(LOG_TABLE):
            return []
        rows = self.db.execute(
            f"SELECT id, at, action, version, name, actor, host, duration_ms, detail FROM {LOG_TABLE} "
            f"ORDER BY id DESC LIMIT {int(limit)}"
        )
        return [LogEntry(*row) for row in reversed(rows)]
