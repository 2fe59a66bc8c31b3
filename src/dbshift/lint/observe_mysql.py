"""MySQL/MariaDB statement watcher (see :mod:`dbshift.lint.observe`).

What it reads, all from second connections while the statement runs on the copy, or from the
copy's own connection between statements:

- metadata locks from ``performance_schema.metadata_locks`` when ``performance_schema`` is on
  (otherwise an info note says they are not observable). MariaDB shows an upgraded lock under the
  type it was first taken as: an ALTER holds SHARED_UPGRADABLE there for its whole run, even while
  it has upgraded it to SHARED_NO_WRITE (a copy) or EXCLUSIVE (its last moment). So for each table
  the statement holds more than a plain read or write lock on, a third connection asks, with
  ``lock_wait_timeout = 0`` (it never queues, so it cannot make the statement wait), for the lock
  a writer needs (``SELECT ... FOR UPDATE``: SHARED_WRITE) and the one a reader needs (SHARED_READ):
  refused means a concurrent writer (reader) would have waited. Writers "wait" when they were
  refused in most of the probes: the brief EXCLUSIVE every ALTER takes to commit is not a block;
- the copy's thread state in ``information_schema.PROCESSLIST``: ``copy to tmp table`` is
  ALGORITHM=COPY, during which writes to the table wait (MariaDB and MySQL take a SHARED_NO_WRITE
  metadata lock for it); this is what is used when ``performance_schema`` is off;
- each table's InnoDB table id before and after (``INNODB_SYS_TABLES`` on MariaDB, ``INNODB_TABLES``
  on MySQL 8): a new id means the table was rebuilt; the session's ``Handler_write`` counter tells
  a copy (every row written again through a temporary table) from an in-place rebuild.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dbshift.lint.observe import TableSeen

POLL_SECONDS = 0.005
COPY_STATES = ("copy to tmp table",)
#: Metadata lock types a writer (SHARED_WRITE) and a reader (SHARED_READ) wait for.
BLOCKS_WRITES = {"SHARED_NO_WRITE", "SHARED_NO_READ_WRITE", "SHARED_READ_ONLY", "EXCLUSIVE"}
BLOCKS_READS = {"SHARED_NO_READ_WRITE", "EXCLUSIVE"}
#: Lock types no concurrent reader or writer waits for: tables holding only these are not probed or reported.
WEAK = {"SHARED", "SHARED_HIGH_PRIO", "SHARED_READ", "SHARED_WRITE", "SHARED_WRITE_LOW_PRIO"}
#: From weakest to strongest, to name the strongest lock seen.
_ORDER = ["SHARED_UPGRADABLE", "SHARED_READ_ONLY", "SHARED_NO_WRITE", "SHARED_NO_READ_WRITE", "EXCLUSIVE"]
_LOCK_WAIT_TIMEOUT = 1205

_IDS = (
    "SELECT CONVERT(CAST(CAST(SUBSTRING_INDEX(NAME, '/', -1) AS BINARY) AS CHAR CHARACTER SET filename) "
    "USING utf8mb4), TABLE_ID FROM information_schema.{view} WHERE NAME LIKE CONCAT(DATABASE(), '/%%')"
)
_MDL = (
    "SELECT m.OBJECT_NAME, m.LOCK_TYPE FROM performance_schema.metadata_locks m "
    "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
    "WHERE t.PROCESSLIST_ID = %s AND m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = %s AND m.LOCK_STATUS = 'GRANTED'"
)


@dataclass
class _Probes:
    """What the zero-wait probes of one table said: how many ran, how many a writer (reader) lost."""

    asked: int = 0
    writes_refused: int = 0
    reads_refused: int = 0
    failed: int = 0

    def blocks(self) -> tuple[bool | None, bool | None]:
        """(writers wait, readers wait): refused in most of the probes that ran; None when none ran."""
        ran = self.asked - self.failed
        if ran <= 0:
            return None, None
        return self.writes_refused * 2 > ran, self.reads_refused * 2 > ran

    def describe(self) -> str:
        """``a writer's SHARED_WRITE refused in 9 of 10 zero-wait probes, a reader's SHARED_READ in 1``."""
        ran = self.asked - self.failed
        return (
            f"a writer's SHARED_WRITE was refused in {self.writes_refused} of {ran} zero-wait probes, "
            f"a reader's SHARED_READ in {self.reads_refused}"
        )


class MySQLObserver:
    """Watches statements on the copy ``copy`` (a MySQL/MariaDB Database) from a second connection."""

    def __init__(self, copy):
        self.copy = copy
        self.thread_id = copy.connection.thread_id()
        self.watcher = copy.description.open(copy.url, busy_timeout=5)
        self.prober = None
        self.notes: list[str] = []
        self._ids_view = self._find_ids_view()
        missing = self._metadata_locks_missing()
        self.metadata_locks = not missing
        if self.metadata_locks:
            self.prober = self._open_prober()
        else:
            self.notes.append(
                f"metadata locks: {missing}, so dbshift reads the statement's processlist state instead "
                "('copy to tmp table' means writes to the table wait)"
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

    def _metadata_locks_missing(self) -> str:
        """Why performance_schema.metadata_locks cannot be read here ("" when it can)."""
        try:
            if not int(self._query(self.watcher, "SELECT @@performance_schema")[0][0]):
                return "performance_schema is off on this server"
            enabled = self._query(
                self.watcher,
                "SELECT ENABLED FROM performance_schema.setup_instruments WHERE NAME = 'wait/lock/metadata/sql/mdl'",
            )
        except Exception:
            return "performance_schema is not readable on this server"
        if enabled and enabled[0][0] == "YES":
            return ""
        return (
            "performance_schema is on but its instrument wait/lock/metadata/sql/mdl is not (start the server "
            "with --performance-schema-instrument='wait/lock/metadata/sql/mdl=ON')"
        )

    def _open_prober(self):
        """The connection that asks for locks without waiting; None (and a note) when the server
        cannot ask without waiting (MySQL's lock_wait_timeout is at least 1 s; MariaDB's may be 0)."""
        prober = self.copy.description.open(self.copy.url, busy_timeout=5)
        try:
            self._query(prober, "SET SESSION lock_wait_timeout = 0")
            if int(self._query(prober, "SELECT @@SESSION.lock_wait_timeout")[0][0]) == 0:
                return prober
        except Exception:
            pass
        prober.close()
        self.notes.append(
            "whether writers wait: this server cannot ask for a metadata lock without waiting "
            "(lock_wait_timeout = 0), so the lock types are as performance_schema lists them"
        )
        return None

    def close(self) -> None:
        """Close the watching connections."""
        self.watcher.close()
        if self.prober is not None:
            self.prober.close()

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
        self._probes: dict[str, _Probes] = {}
        self._before_written = self._written()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dbshift-observe", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                for (state,) in self._query(
                    self.watcher, "SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = %s", (self.thread_id,)
                ):
                    if state and state not in self._states:
                        self._states.append(state)
                if self.metadata_locks:
                    for name in self._poll_locks():
                        if self.prober is not None:
                            self._probe(name)
            except Exception:  # the watcher never stops the statement
                return
            time.sleep(POLL_SECONDS)

    def _poll_locks(self) -> set[str]:
        """Record the copy's table locks now; the tables it holds more than a read or write lock on."""
        strong = set()
        for name, kind in self._query(self.watcher, _MDL, (self.thread_id, self.copy.url.database)):
            if name.startswith("#sql"):  # the copy's temporary table
                continue
            self._locks.setdefault(name, set()).add(kind)
            if kind not in WEAK:
                strong.add(name)
        return strong

    def _probe(self, name: str) -> None:
        """Ask, without waiting, for a writer's then a reader's lock on ``name``; count the refusals."""
        probes = self._probes.setdefault(name, _Probes())
        probes.asked += 1
        table = self.copy.quote(name)
        try:
            for sql, field in (
                (f"SELECT 1 FROM {table} WHERE FALSE FOR UPDATE", "writes_refused"),
                (f"SELECT 1 FROM {table} WHERE FALSE", "reads_refused"),
            ):
                try:
                    self._query(self.prober, sql)
                except Exception as exc:
                    if getattr(exc, "args", (None,))[0] != _LOCK_WAIT_TIMEOUT:
                        raise
                    setattr(probes, field, getattr(probes, field) + 1)
        except Exception:  # the table is being renamed or dropped: this probe says nothing
            probes.failed += 1

    def stop(self, failed: bool) -> list[TableSeen]:
        """After the statement: stop watching, compare table ids and the rows written."""
        self._stop.set()
        self._thread.join()
        if failed:
            return []
        still = self._still_held()
        written = self._written() - self._before_written
        after = self._ids()
        rebuilt = sorted(n for n, i in after.items() if n in self._before_ids and i != self._before_ids[n])
        copying = [s for s in self._states if s.lower() in COPY_STATES]
        strong = {n for n, kinds in self._locks.items() if kinds - WEAK}
        tables = []
        for name in sorted(set(rebuilt) | strong):
            rows = self._count(name) if name in after else None
            # a copy writes every row again; an in-place rebuild writes none through the handler
            copied = name in rebuilt and (bool(copying) or bool(written and written >= (rows or 0)))
            seen = (
                self._from_metadata_locks(name, copied)
                if self.metadata_locks
                else self._from_processlist(name, copied, copying)
            )
            seen.rewritten = name in rebuilt
            seen.rows = rows
            seen.held_until_commit = bool(still.get(name, set()) - WEAK)
            if name in rebuilt:
                seen.evidence = (
                    f"copied through a temporary table ({written:,} rows written"
                    + (f", state '{copying[0]}')" if copying else ")")
                    if copied
                    else "rebuilt in place (new table id)"
                )
            tables.append(seen)
        return tables

    def _still_held(self) -> dict[str, set[str]]:
        """The copy's table locks right after the statement (kept until the migration commits)."""
        if not self.metadata_locks:
            return {}
        held: dict[str, set[str]] = {}
        for name, kind in self._query(self.watcher, _MDL, (self.thread_id, self.copy.url.database)):
            held.setdefault(name, set()).add(kind)
        return held

    def _from_metadata_locks(self, name: str, copied: bool) -> TableSeen:
        """The table's locks as performance_schema listed them, named by what the probes found."""
        kinds = self._locks.get(name, set())
        listed = sorted(kinds - WEAK, key=_ORDER.index) if kinds - WEAK else []
        probes = self._probes.get(name, _Probes())
        writes, reads = probes.blocks()
        if writes is None:  # no probe ran: what the listed types say
            writes, reads = bool(kinds & BLOCKS_WRITES) or copied, bool(kinds & BLOCKS_READS)
        strongest = listed[-1] if listed else ""
        if reads and strongest not in BLOCKS_READS:
            strongest = "EXCLUSIVE"  # upgraded past what the table lists
        elif writes and strongest not in BLOCKS_WRITES:
            strongest = "SHARED_NO_WRITE"
        how = "performance_schema.metadata_locks listed " + " + ".join(listed or ["no lock"])
        if probes.asked:
            how += "; " + probes.describe()
        return TableSeen(
            name,
            (strongest,) if strongest else (),
            blocks_writes=writes,
            blocks_reads=reads,
            lock_evidence=how,
        )

    def _from_processlist(self, name: str, copied: bool, copying: list[str]) -> TableSeen:
        """performance_schema is off: a copy is known by the thread's state, which means SHARED_NO_WRITE."""
        return TableSeen(
            name,
            ("SHARED_NO_WRITE",) if copied else (),
            blocks_writes=True if copied else None,
            blocks_reads=None,
            lock_evidence=f"the processlist showed state '{copying[0]}'" if copied and copying else "",
        )

    def _count(self, name: str) -> int | None:
        try:
            return int(self._query(self.copy, f"SELECT count(*) FROM {self.copy.quote(name)}")[0][0])
        except Exception:
            return None
