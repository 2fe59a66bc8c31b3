"""MySQL/MariaDB statement watcher (see :mod:`dbshift.lint.observe`).

What it reads, all from a second connection while the statement runs on the copy, or from the
copy's own connection between statements:

- metadata locks from ``performance_schema.metadata_locks`` when ``performance_schema`` is on
  (otherwise an info note says they are not observable);
- the copy's thread state in ``information_schema.PROCESSLIST``: ``copy to tmp table`` is
  ALGORITHM=COPY, during which writes to the table wait (MariaDB and MySQL take a SHARED_NO_WRITE
  metadata lock for it); this works whatever ``performance_schema`` says;
- each table's InnoDB table id before and after (``INNODB_SYS_TABLES`` on MariaDB, ``INNODB_TABLES``
  on MySQL 8): a new id means the table was rebuilt; the session's ``Handler_write`` counter tells
  a copy (rows written one by one through a temporary table) from an in-place rebuild.
"""

from __future__ import annotations

import threading
import time

from dbshift.lint.observe import TableSeen

POLL_SECONDS = 0.005
COPY_STATES = ("copy to tmp table",)
#: Metadata lock types a writer (SHARED_WRITE) and a reader (SHARED_READ) wait for.
BLOCKS_WRITES = {"SHARED_NO_WRITE", "SHARED_NO_READ_WRITE", "SHARED_READ_ONLY", "EXCLUSIVE"}
BLOCKS_READS = {"SHARED_NO_READ_WRITE", "EXCLUSIVE"}

_IDS = (
    "SELECT CONVERT(CAST(CAST(SUBSTRING_INDEX(NAME, '/', -1) AS BINARY) AS CHAR CHARACTER SET filename) "
    "USING utf8mb4), TABLE_ID FROM information_schema.{view} WHERE NAME LIKE CONCAT(DATABASE(), '/%%')"
)
_MDL = (
    "SELECT m.OBJECT_NAME, m.LOCK_TYPE FROM performance_schema.metadata_locks m "
    "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
    "WHERE t.PROCESSLIST_ID = %s AND m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = %s AND m.LOCK_STATUS = 'GRANTED'"
)


class MySQLObserver:
    """Watches statements on the copy ``copy`` (a MySQL/MariaDB Database) from a second connection."""

    def __init__(self, copy):
        self.copy = copy
        self.thread_id = copy.connection.thread_id()
        self.watcher = copy.description.open(copy.url, busy_timeout=5)
        self.notes: list[str] = []
        self._ids_view = self._find_ids_view()
        self.metadata_locks = self._performance_schema_on()
        if not self.metadata_locks:
            self.notes.append(
                "metadata locks: performance_schema is off on this server, so dbshift reads the statement's "
                "processlist state instead ('copy to tmp table' means writes to the table wait)"
            )
        if self._ids_view is None:
            self.notes.append(
                "table rebuilds: the InnoDB table ids are not readable (no PROCESS privilege, or not InnoDB)"
            )
        self._thread: threading.Thread | None = None

    def _query(self, db, sql: str, params=()) -> list[tuple]:
        with db.connection.cursor() as cursor:
            cursor.execute(sql, tuple(params) if params else None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def _find_ids_view(self) -> str | None:
        for view in ("INNODB_SYS_TABLES", "INNODB_TABLES"):
            try:
                self._query(self.watcher, _IDS.format(view=view).replace("%%", "%") + " LIMIT 0")
                return view
            except Exception:
                continue
        return None

    def _performance_schema_on(self) -> bool:
        try:
            return bool(int(self._query(self.watcher, "SELECT @@performance_schema")[0][0]))
        except Exception:
            return False

    def close(self) -> None:
        """Close the watching connection."""
        self.watcher.close()

    def migration_started(self) -> None:
        """Nothing kept across statements."""

    def _ids(self) -> dict[str, int]:
        if self._ids_view is None:
            return {}
        return dict(self._query(self.copy, _IDS.format(view=self._ids_view).replace("%%", "%")))

    def _written(self) -> int:
        return int(self._query(self.copy, "SHOW SESSION STATUS LIKE 'Handler_write'")[0][1])

    def start(self) -> None:
        """Before a statement: table ids, the write counter; then watch."""
        self._before_ids = self._ids()
        self._states: list[str] = []
        self._locks: dict[str, set[str]] = {}
        self._before_written = self._written()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dbshift-observe", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        database = self.copy.url.database
        while not self._stop.is_set():
            try:
                for (state,) in self._query(
                    self.watcher, "SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = %s", (self.thread_id,)
                ):
                    if state and state not in self._states:
                        self._states.append(state)
                if self.metadata_locks:
                    for name, kind in self._query(self.watcher, _MDL, (self.thread_id, database)):
                        if not name.startswith("#sql"):  # the copy's temporary table
                            self._locks.setdefault(name, set()).add(kind)
            except Exception:  # the watcher never stops the statement
                return
            time.sleep(POLL_SECONDS)

    def stop(self, failed: bool) -> list[TableSeen]:
        """After the statement: stop watching, compare table ids and the rows written."""
        self._stop.set()
        self._thread.join()
        if failed:
            return []
        written = self._written() - self._before_written
        after = self._ids()
        rebuilt = sorted(n for n, i in after.items() if n in self._before_ids and i != self._before_ids[n])
        copying = [s for s in self._states if s.lower() in COPY_STATES]
        tables = []
        for name in sorted(set(rebuilt) | set(self._locks)):
            kinds = self._locks.get(name, set())
            copied = name in rebuilt and (bool(copying) or written > 0)
            evidence = (
                f"copied through a temporary table ({written:,} rows written, state '{copying[0]}')"
                if copied and copying
                else ("copied through a temporary table" if copied else "rebuilt in place (new table id)")
            )
            locks = tuple(sorted(kinds)) or (("SHARED_NO_WRITE",) if copied else ())
            tables.append(
                TableSeen(
                    name,
                    locks,
                    blocks_writes=bool(kinds & BLOCKS_WRITES) or copied if (kinds or copied) else None,
                    blocks_reads=bool(kinds & BLOCKS_READS) if kinds else None,
                    rewritten=name in rebuilt,
                    rows=self._count(name) if name in after else None,
                    evidence=evidence if name in rebuilt else "",
                )
            )
        return tables

    def _count(self, name: str) -> int | None:
        try:
            return int(self._query(self.copy, f"SELECT count(*) FROM {self.copy.quote(name)}")[0][0])
        except Exception:
            return None
