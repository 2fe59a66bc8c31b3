"""PostgreSQL statement watcher (see :mod:`dbshift.lint.observe`).

While a statement runs on the copy, a second connection polls ``pg_locks`` for the copy's backend
(joined to ``pg_class`` for table names) and, for each table it takes more than ACCESS SHARE on,
asks for the lock a writer needs (ROW EXCLUSIVE) and the one a reader needs (ACCESS SHARE) with
``NOWAIT``: refused means a concurrent writer (reader) would have waited. ``NOWAIT`` never queues,
so the probe cannot make the statement wait. Before and after the statement the copy's own
connection reads each table's ``relfilenode``: a new one means the table was rewritten.
"""

from __future__ import annotations

import threading
import time

from dbshift.lint.observe import TableSeen

POLL_SECONDS = 0.005
#: Lock modes a writer (ROW EXCLUSIVE) and a reader (ACCESS SHARE) wait for, from PostgreSQL's
#: conflict table; used only when the NOWAIT probe could not run.
BLOCKS_WRITES = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
BLOCKS_READS = {"AccessExclusiveLock"}

_LOCKS = (
    "SELECT l.relation, n.nspname, c.relname, l.mode FROM pg_catalog.pg_locks l "
    "JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE l.pid = %s AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p', 'm') "
    "AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_toast%%'"
)
_FILES = (
    "SELECT c.oid, n.nspname, c.relname, c.relfilenode FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') "
    "AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_toast%'"
)


def mode_name(mode: str) -> str:
    """``AccessExclusiveLock`` -> ``ACCESS EXCLUSIVE``."""
    words, word = [], ""
    for char in mode.removesuffix("Lock"):
        if char.isupper() and word:
            words.append(word)
            word = ""
        word += char
    return " ".join([*words, word]).upper()


class PostgreSQLObserver:
    """Watches statements on the copy ``copy`` (a PostgreSQL Database) from a second connection."""

    def __init__(self, copy):
        import psycopg

        self._errors = psycopg.errors
        self.copy = copy
        self.conn = copy.connection
        self.pid = self.conn.info.backend_pid
        self.watcher = copy.description.open(copy.url, busy_timeout=5)
        self.notes: list[str] = []
        self._rows: dict[int, int | None] = {}
        self._thread: threading.Thread | None = None

    def close(self) -> None:
        """Close the watching connection."""
        self.watcher.close()

    def migration_started(self) -> None:
        """Row counts are read once per migration."""
        self._rows = {}

    def start(self) -> None:
        """Before a statement: the locks already held, each table's storage, then watch."""
        self._before_locks = self._held()
        self._before_files = self._files()
        self._seen: dict[int, set[str]] = {}
        self._names: dict[int, str] = {}
        self._probed: dict[int, tuple[bool | None, bool | None]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dbshift-observe", daemon=True)
        self._thread.start()

    def _held(self) -> dict[int, set[str]]:
        held: dict[int, set[str]] = {}
        for oid, _schema, _name, mode in self.watcher.connection.execute(_LOCKS, (self.pid,)).fetchall():
            held.setdefault(oid, set()).add(mode)
        return held

    def _files(self) -> dict[int, tuple[str, str, int]]:
        """oid -> (schema, name, relfilenode), read by the copy's connection (it sees its own changes)."""
        return {row[0]: tuple(row[1:]) for row in self.conn.execute(_FILES).fetchall()}

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
            except Exception:  # the watcher never stops the statement
                return
            time.sleep(POLL_SECONDS)

    def _poll(self) -> dict[int, set[str]]:
        now: dict[int, set[str]] = {}
        for oid, schema, name, mode in self.watcher.connection.execute(_LOCKS, (self.pid,)).fetchall():
            now.setdefault(oid, set()).add(mode)
            self._names[oid] = f"{schema}.{name}" if schema != "public" else name
            if mode not in self._before_locks.get(oid, set()):
                self._seen.setdefault(oid, set()).add(mode)
                if oid not in self._probed and mode != "AccessShareLock":
                    self._probed[oid] = (
                        self._probe(schema, name, "ROW EXCLUSIVE"),
                        self._probe(schema, name, "ACCESS SHARE"),
                    )
        return now

    def _probe(self, schema: str, name: str, mode: str) -> bool | None:
        """True when ``mode`` on the table is refused right now (a concurrent session would wait)."""
        quote = self.copy.quote
        try:
            with self.watcher.connection.transaction():
                self.watcher.connection.execute(f"LOCK TABLE {quote(schema)}.{quote(name)} IN {mode} MODE NOWAIT")
            return False
        except self._errors.LockNotAvailable:
            return True
        except Exception:
            return None

    def stop(self, failed: bool) -> list[TableSeen]:
        """After the statement: stop watching, look once more (locks kept until commit), compare storage."""
        self._stop.set()
        self._thread.join()
        try:
            still = self._poll()
        except Exception:
            still = {}
        after = {} if failed else self._files()
        rewritten = {
            oid
            for oid, (_s, _n, node) in after.items()
            if oid in self._before_files and node and node != self._before_files[oid][2]
        }
        tables = []
        for oid in sorted(set(self._seen) | rewritten):
            modes = self._seen.get(oid, set())
            writes, reads = self._probed.get(oid, (None, None))
            if writes is None:
                writes = bool(modes & BLOCKS_WRITES)
            if reads is None:
                reads = bool(modes & BLOCKS_READS)
            schema, name = (after.get(oid) or self._before_files.get(oid) or (None, self._names.get(oid, "?"), 0))[:2]
            label = self._names.get(oid) or (name if schema in (None, "public") else f"{schema}.{name}")
            strong = sorted((m for m in modes if m != "AccessShareLock"), key=_strength, reverse=True)
            tables.append(
                TableSeen(
                    label,
                    tuple(mode_name(m) for m in strong[:1]) or tuple(mode_name(m) for m in modes),
                    writes,
                    reads,
                    held_until_commit=bool(still.get(oid, set()) & modes - {"AccessShareLock"}),
                    rewritten=oid in rewritten,
                    rows=None if failed or oid not in after else self._count(oid, after[oid]),
                    evidence="new relfilenode" if oid in rewritten else "",
                )
            )
        return [t for t in tables if t.locks != ("ACCESS SHARE",) or t.rewritten]

    def _count(self, oid: int, where: tuple[str, str, int]) -> int | None:
        """Rows of the table, read once per migration; a savepoint keeps a failure from ending the transaction."""
        if oid in self._rows:
            return self._rows[oid]
        quote = self.copy.quote
        in_transaction = self.conn.info.transaction_status == 2  # INTRANS
        try:
            if in_transaction:
                self.conn.execute("SAVEPOINT dbshift_observe")
            rows = self.conn.execute(f"SELECT count(*) FROM {quote(where[0])}.{quote(where[1])}").fetchone()[0]
            if in_transaction:
                self.conn.execute("RELEASE SAVEPOINT dbshift_observe")
        except Exception:
            if in_transaction:
                self.conn.execute("ROLLBACK TO SAVEPOINT dbshift_observe")
            rows = None
        self._rows[oid] = rows
        return rows


_ORDER = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]


def _strength(mode: str) -> int:
    return _ORDER.index(mode) if mode in _ORDER else -1
