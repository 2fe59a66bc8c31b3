"""SQLite statement watcher (see :mod:`dbshift.lint.observe`).

SQLite locks the whole database, not a table. After each statement a second connection on the
copy's file asks, without waiting, for the write lock (``BEGIN IMMEDIATE``) and reads the schema:
refused means every writer (reader) of the database waits until the migration commits. Each
table's root page is read before and after (by the copy's own connection, which sees its own
changes): a table whose root page changed was copied into new pages (a rebuild: create, copy,
drop, rename). With ``auto_vacuum`` on, a DROP TABLE may also move other tables' root pages; the
watcher then says so.
"""

from __future__ import annotations

import sqlite3
import time

from dbshift.lint.observe import TableSeen

_PAGES = "SELECT name, rootpage FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"


class SQLiteObserver:
    """Watches statements on the copy ``copy`` (a SQLite Database on a file)."""

    #: Said once per Python migration (watched as one unit, from before its transaction to after its commit).
    python_note = (
        "the database lock is not observed in a Python migration: SQLite is asked for it after each "
        "statement, and a Python migration's statements run inside its up(ctx), which has committed by "
        "then; one that writes holds the write lock from its first write until it commits (its table "
        "copies are still seen)"
    )

    def __init__(self, copy):
        self.copy = copy
        self.conn = copy.connection
        self.notes: list[str] = []
        path = copy.url.path
        self.probe = sqlite3.connect(str(path), timeout=0, isolation_level=None) if path is not None else None
        if self.probe is None:
            self.notes.append("the database lock: the copy is in memory, no second connection can ask for it")
        if self.conn.execute("PRAGMA auto_vacuum").fetchone()[0]:
            self.notes.append("table copies: auto_vacuum is on, so a DROP TABLE may move other tables' root pages too")
        self._known: dict[str, int] = {}
        #: root page -> when the statement that made it started (a rebuild copies into a new table first).
        self._born: dict[int, float] = {}
        self._started = time.perf_counter()

    def close(self) -> None:
        """Close the probing connection."""
        if self.probe is not None:
            self.probe.close()

    def migration_started(self) -> None:
        """Root pages as the migration starts: a table rebuilt under its own name is compared with them."""
        self._known = dict(self.conn.execute(_PAGES).fetchall())
        self._born = {}

    def start(self) -> None:
        """Before a statement: its start (SQLite's lock is read after it)."""
        self._started = time.perf_counter()

    def stop(self, failed: bool) -> list[TableSeen]:
        """After the statement: tables with new root pages, and whether the database lock is still held."""
        if failed:
            return []
        now = dict(self.conn.execute(_PAGES).fetchall())
        copied = sorted(name for name, page in now.items() if name in self._known and self._known[name] != page)
        known_pages = set(self._known.values())
        for page in now.values():
            if page not in known_pages:
                self._born.setdefault(page, self._started)
        self._known.update(now)
        ended = time.perf_counter()
        tables = [
            TableSeen(
                name,
                rewritten=True,
                rows=self._count(name),
                evidence="new root page: its rows were copied",
                seconds=ended - self._born.get(now[name], self._started),
            )
            for name in copied
        ]
        writes, reads = self._probe()
        if writes:
            tables.append(
                TableSeen(
                    "",
                    ("write lock",),
                    blocks_writes=True,
                    blocks_reads=reads,
                    held_until_commit=self.conn.in_transaction,
                )
            )
        return tables

    def _probe(self) -> tuple[bool | None, bool | None]:
        """(writers wait, readers wait) right now, asked without waiting."""
        if self.probe is None:
            return None, None
        try:
            self.probe.execute("BEGIN IMMEDIATE")
            self.probe.execute("ROLLBACK")
            return False, False
        except sqlite3.OperationalError:
            pass
        try:
            self.probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return True, False
        except sqlite3.OperationalError:
            return True, True

    def _count(self, name: str) -> int | None:
        try:
            return int(self.conn.execute(f"SELECT count(*) FROM {self.copy.quote(name)}").fetchone()[0])
        except sqlite3.Error:
            return None
