"""SQLite: the embedded default dialect (standard library ``sqlite3``)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import marshal
import os
import sqlite3
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from dbshift.dialects.base import Database, TableWatch, sum_row_hashes
from dbshift.dialects.sqlite_description import type_affinity  # noqa: F401 (also read from here)
from dbshift.dialects.sqlite_script import split_sqlite_script  # noqa: F401 (also read from here)
from dbshift.errors import CheckFailed, ConfigError, LockHeld
from dbshift.urls import parse_url

LOCK_POLL_SECONDS = 0.05
#: Primary result codes (the low byte of an extended code): https://sqlite.org/rescode.html
SQLITE_BUSY, SQLITE_READONLY, SQLITE_NOTADB = 5, 8, 26
#: Page cache for ``PRAGMA foreign_key_check`` in a migration: it probes the parent's key once per
#: child row, and with SQLite's default 2 MiB cache a rebuilt 2M-row table's check took 3x longer
#: (bench/rebuild.py). Pages are allocated only as used; the setting is restored afterwards.
FOREIGN_KEY_CHECK_CACHE_KIB = 65536
BACKUP_STEP_PAGES = 16384  # pages per backup step (progress granularity)
#: Whole-database reads (integrity and foreign key checks, fingerprints) memory-map the file: their
#: page lookups then cost no system call each. On bench/verify.py's 1 GB file foreign_key_check took
#: 6.5 s instead of 12.5 s and integrity_check 9.5 s instead of 15.5 s. SQLite caps it at its own limit.
READ_MMAP_BYTES = 1 << 40
#: marshal format 2 writes every value by type and content only (no object references, no
#: interning marks), so equal rows give equal bytes in every process and Python version.
ROW_MARSHAL_VERSION = 2
#: Rows per chunk of a key-order digest: a first chunk, then as many as make about
#: KEY_ORDER_CHUNK_BYTES of text (at most KEY_ORDER_MAX_CHUNK). Chunking does not change the digest.
KEY_ORDER_FIRST_CHUNK = 16
KEY_ORDER_MAX_CHUNK = 20000
KEY_ORDER_CHUNK_BYTES = 4 << 20


class SQLiteDatabase(Database):
    """A SQLite file (or ``:memory:``) opened in autocommit mode with explicit transactions.

    Migrations run with ``foreign_keys=OFF`` (SQLite's default, and what its documented
    table-rebuild procedure requires, so that dropping a parent never cascades to children).
    A ``PRAGMA foreign_key_check`` statement in a migration fails the migration when it
    reports violations.
    """

    dialect = "sqlite"
    transactional_ddl = True
    placeholder = "?"
    autoincrement_pk = "INTEGER PRIMARY KEY"

    def __init__(self, url, busy_timeout: float = 30.0, readonly: bool = False, on_wait=None):
        super().__init__(url)
        self.on_wait = on_wait
        self._busy_timeout = busy_timeout
        #: An empty in-memory database where statements are prepared to learn what they are.
        self._probe: sqlite3.Connection | None = None
        target, uri = url.database or ":memory:", False
        try:
            if url.path is not None:
                target, uri = self._file_target(url.path, readonly)
            self._conn = sqlite3.connect(target, timeout=busy_timeout, isolation_level=None, uri=uri)
            self._first_read(self._conn)
            self._conn.execute("PRAGMA foreign_keys=OFF")
        except sqlite3.Error as exc:
            raise ConfigError(
                f"cannot open SQLite database {url.path or target}: {exc}", hint="check the path and its permissions"
            ) from None

    def _file_target(self, path: Path, readonly: bool) -> tuple[str, bool]:
        """What to connect to for the file ``path``: reading never creates or changes anything (a
        missing file reads as an empty database), and nothing creates a missing folder."""
        if not path.parent.is_dir():
            raise ConfigError(
                f"no folder {path.parent} for the SQLite database {path.name}: the file does not exist",
                hint="check the path in --db / dbshift.toml (dbshift creates the database file, "
                "never the folders above it)",
            )
        if path.exists() and not path.is_file():
            raise ConfigError(f"{path} is not a SQLite database (it is a folder)", hint="check --db / dbshift.toml")
        if readonly and not path.exists():
            return ":memory:", False
        if path.exists() and any(Path(str(path) + suffix).exists() for suffix in ("-journal", "-wal")):
            self.recovered = self._roll_back_interrupted_write(path)
        if readonly:
            return f"file:{urllib.parse.quote(str(path))}?mode=ro", True
        return str(path), False

    def _roll_back_interrupted_write(self, path: Path) -> str | None:
        """Roll back what a killed process left half-written (its hot journal); what happened, or None.

        A read-only connection cannot do it (SQLite then refuses every read with "attempt to write a
        readonly database"), so a writable one does, once: that restores the database as it was before
        the interrupted transaction, as any next writer would. A running process's journal is not hot.
        """
        probe = sqlite3.connect(
            f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True, timeout=self._busy_timeout, isolation_level=None
        )
        try:
            self._first_read(probe)
            return None
        except sqlite3.Error as exc:
            if exc.sqlite_errorcode & 0xFF != SQLITE_READONLY:
                raise
        finally:
            probe.close()
        try:
            fixer = sqlite3.connect(
                f"file:{urllib.parse.quote(str(path))}?mode=rw",
                uri=True,
                timeout=self._busy_timeout,
                isolation_level=None,
            )
            try:
                self._first_read(fixer)
            finally:
                fixer.close()
        except sqlite3.Error as exc:
            raise ConfigError(
                f"{path}: an interrupted migration left {path.name}-journal behind, and rolling it back "
                f"needs write access ({exc})",
                hint=f"run `dbshift status` once as a user who can write {path.parent} (it rolls the "
                "interrupted migration back; nothing else changes)",
            ) from None
        holder = _read_holder(Path(str(path) + ".dbshift-lock"))
        what = holder.get("running") or "an interrupted migration"
        run = (
            f" (killed run: pid {holder.get('pid')} on host {holder.get('host')} since {holder.get('since')})"
            if holder
            else ""
        )
        return f"interrupted: {what} was rolled back, the database is as before{run}"

    def _first_read(self, connection: sqlite3.Connection) -> None:
        """Read the schema once: refuses a file that is not a database, rolls back a hot journal on a
        writable connection, and says at once when another process's write makes it wait."""
        try:
            connection.execute("PRAGMA busy_timeout=0")
            try:
                connection.execute("SELECT count(*) FROM sqlite_schema").fetchall()
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != SQLITE_BUSY:
                    raise
            self._say_waiting()
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            try:
                connection.execute("SELECT count(*) FROM sqlite_schema").fetchall()
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != SQLITE_BUSY:
                    raise
                raise LockHeld(
                    f"the database {self.url.path} stayed locked for {self._busy_timeout:g} s by "
                    f"{_describe_holder(self._lock_path())}",
                    hint="wait for the other run to finish, or raise --lock-timeout",
                ) from None
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode & 0xFF != SQLITE_NOTADB:
                raise
            raise ConfigError(
                f"{self.url.path} is not a SQLite database ({exc}); it was not changed",
                hint="check --db / dbshift.toml; `dbshift restore` replaces a damaged database with a backup",
            ) from None
        finally:
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")

    def _say_waiting(self) -> None:
        """Tell the user at once that another process's write makes this one wait."""
        if self.on_wait is not None:
            self.on_wait(f"waiting for the migration lock held by {_describe_holder(self._lock_path())}")

    def _lock_path(self) -> Path:
        return Path(str(self.url.path) + ".dbshift-lock")

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self._conn.close()
        if self._probe is not None:
            self._probe.close()

    def interrupt(self) -> None:
        self._conn.interrupt()

    def begin(self) -> None:
        self._conn.execute("BEGIN")

    def commit(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._conn.execute(sql, params).fetchall()

    def ends_transaction(self, sql: str) -> bool:
        """SQLite's authorizer says so while the statement is prepared (never run) on an empty
        in-memory database: BEGIN, COMMIT, END and ROLLBACK are SQLITE_TRANSACTION."""
        if self._probe is None:
            self._probe = sqlite3.connect(":memory:", isolation_level=None)
        actions: list[int] = []
        self._probe.set_authorizer(lambda action, *_: actions.append(action) or sqlite3.SQLITE_OK)
        try:
            self._probe.execute("EXPLAIN " + sql).fetchall()
        except (sqlite3.Error, ValueError):  # an unknown table, a syntax error: the run will say so
            pass
        finally:
            self._probe.set_authorizer(None)
        return sqlite3.SQLITE_TRANSACTION in actions

    def run_statement(self, sql: str) -> None:
        if not _is_foreign_key_check(sql):
            self._conn.execute(sql).fetchall()
            return
        rows = self._with_cache_kib(FOREIGN_KEY_CHECK_CACHE_KIB, sql)
        if rows:
            table, rowid, parent, _ = rows[0]
            raise CheckFailed(
                f"foreign key check failed: {len(rows)} row(s) violate foreign keys "
                f"(first: {table} rowid {rowid} -> {parent})"
            )

    def _with_cache_kib(self, kib: int, sql: str) -> list[tuple]:
        """Run ``sql`` with a page cache of at least ``kib`` KiB, then restore the connection's setting."""
        previous = self._conn.execute("PRAGMA cache_size").fetchone()[0]
        current_kib = (
            -previous if previous < 0 else previous * self._conn.execute("PRAGMA page_size").fetchone()[0] // 1024
        )
        if current_kib >= kib:
            return self._conn.execute(sql).fetchall()
        self._conn.execute(f"PRAGMA cache_size=-{int(kib)}")
        try:
            return self._conn.execute(sql).fetchall()
        finally:
            self._conn.execute(f"PRAGMA cache_size={int(previous)}")

    def table_exists(self, name: str) -> bool:
        rows = self._conn.execute("SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?", (name,)).fetchall()
        return bool(rows)

    def is_driver_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def lock(self, timeout: float, holder: dict) -> contextlib.AbstractContextManager:
        if self.url.path is None:
            return contextlib.nullcontext()
        return self._file_lock(timeout, holder)

    @contextlib.contextmanager
    def _file_lock(self, timeout: float, holder: dict) -> Iterator[None]:
        with file_lock(self._lock_path(), timeout, holder, self.on_wait) as fd:
            self._lock_record = (fd, holder)
            try:
                yield
            finally:
                self._lock_record = None

    _lock_record: tuple[int, dict] | None = None

    def note_running(self, what: str | None) -> None:
        """Write what the lock holder is doing into the lock file (a crash then names it)."""
        if self._lock_record is not None:
            fd, holder = self._lock_record
            _write_holder(fd, {**holder, "running": what} if what else holder)

    def backup(self, destination: Path, progress: Callable[[int, int], None] | None = None) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(destination)
        # A new file needs no rollback journal: a failed copy is deleted, a finished one fsynced
        # once at the end. The source is memory-mapped: 1.6 s instead of 2.4 s for 1 GB.
        target.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
        # One read transaction over all steps: other processes' writes cannot restart the copy
        # (journal mode: they wait; WAL mode: they go on, and the copy is the snapshot).
        own_transaction = not self._conn.in_transaction
        try:
            with self._memory_mapped():
                if own_transaction:
                    self._conn.execute("BEGIN")
                    self._conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()
                callback = (lambda status, remaining, total: progress(total - remaining, total)) if progress else None
                self._conn.backup(target, pages=BACKUP_STEP_PAGES, progress=callback)
                if own_transaction:
                    self._conn.execute("COMMIT")
            target.close()
            _fsync(destination)
            _fsync(destination.parent)
        except BaseException:
            if own_transaction and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            target.close()
            destination.unlink(missing_ok=True)
            raise

    backup_suffix = ".sqlite3"

    def verify_backup(self, path: Path, thorough: bool = True) -> str | None:
        # quick_check reads every page and record but skips matching indexes against their
        # tables: 0.3 s instead of 3 s on a 100 MB file, enough to prove a fresh copy sound.
        check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check.execute(f"PRAGMA mmap_size={READ_MMAP_BYTES}")
            result = check.execute("PRAGMA integrity_check" if thorough else "PRAGMA quick_check").fetchall()
        except sqlite3.Error as exc:
            return str(exc)
        finally:
            check.close()
        return None if result == [("ok",)] else "; ".join(r[0] for r in result[:3])

    def backup_details(self, path: Path) -> dict:
        check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            page_count = check.execute("PRAGMA page_count").fetchone()[0]
            page_size = check.execute("PRAGMA page_size").fetchone()[0]
        finally:
            check.close()
        return {"page_count": page_count, "page_size": page_size, "sqlite_version": sqlite3.sqlite_version}

    # -- safety net -------------------------------------------------------------------------
    def user_tables(self) -> list[str]:
        rows = self._conn.execute(
            "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        ).fetchall()
        return [row[0] for row in rows]

    def table_definition(self, table: str) -> str:
        rows = self._conn.execute(
            "SELECT type, sql FROM sqlite_schema WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type <> 'table', sql",
            (table,),
        ).fetchall()
        return "\n".join(_normalize_sql(sql, body_only=kind == "table") for kind, sql in rows)

    def schema_snapshot(self) -> list[tuple[str, str]]:
        tables = [(name, self.table_definition(name)) for name in self.user_tables()]
        views = self._conn.execute("SELECT name, sql FROM sqlite_schema WHERE type='view' ORDER BY name").fetchall()
        return tables + [(name, _normalize_sql(sql)) for name, sql in views]

    def content_digest(self, table: str) -> tuple[int, bytes]:
        """In key order where the primary key is the rowid and every value is JSON-exact, else summed per row."""
        with self._memory_mapped():
            in_key_order = self._digest_in_key_order(table)
            if in_key_order is not None:
                return in_key_order
            try:
                return sum_row_hashes(self._marshalled_rows(table))
            except sqlite3.OperationalError as exc:
                if "decode" not in str(exc):
                    raise
            # TEXT that is not valid UTF-8 cannot become a Python str: hash SQLite's own quoting instead.
            return sum_row_hashes(self.row_texts(table))

    def _digest_in_key_order(self, table: str) -> tuple[int, bytes] | None:
        """Row count and SHA-1 of the rows as SQLite's ``json_array`` text, one per line, in rowid
        order: SQLite builds the text and Python only hashes it (on bench/verify.py's 5.6M-row table
        ~4.8 s against ~9 s for marshalling each row). JSON is exact for NULL, INTEGER and TEXT; so
        None (use the summed digest) when the rowid is not the primary key (``VACUUM`` may renumber
        it), or a value is REAL (JSON rounds it to 15 digits) or a BLOB (JSON refuses it), or a chunk of
        rows would not fit in one SQLite string, or the table has more columns than ``json_array`` takes."""
        from dbshift.dialects.sqlite_description import DECLARED_TYPE, declared_type

        described = [
            (cid, name, declared_type(declared), *rest)
            for cid, name, declared, *rest in self._conn.execute(
                f'SELECT cid, name, {DECLARED_TYPE}, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)',
                (table,),
            )
        ]
        key = self._rowid_key(table, described)
        if key is None:
            return None
        columns = [(name, declared) for _, name, declared, _, _, _, hidden in described if hidden != 1]
        may_be_real = [
            f"(typeof({self.quote(name)}) = 'real')"
            for name, declared in columns
            if name != key and type_affinity(declared) != "TEXT"
        ]
        rows_sql = (
            f"SELECT {self.quote(key)} AS dbshift_key, "
            f"json_array({', '.join(self.quote(name) for name, _ in columns)}) AS dbshift_row, "
            f"{' + '.join(may_be_real) or '0'} AS dbshift_reals FROM {self.quote(table)} {{where}} "
            f"ORDER BY {self.quote(key)} LIMIT {{limit}}"
        )
        chunk_sql = (
            "SELECT max(dbshift_key), count(*), group_concat(dbshift_row, char(10)), total(dbshift_reals) FROM ({})"
        )
        first = chunk_sql.format(rows_sql.format(where="", limit=KEY_ORDER_FIRST_CHUNK))
        rest = chunk_sql.format(rows_sql.format(where=f"WHERE {self.quote(key)} > ?", limit="?"))
        digest, total, limit = hashlib.sha1(), 0, KEY_ORDER_FIRST_CHUNK
        previous, self._conn.text_factory = self._conn.text_factory, bytes
        try:
            last, count, text, reals = self._conn.execute(first).fetchone()
            while count:
                if reals:
                    return None
                digest.update(text + b"\n")
                total += count
                limit = max(1, min(KEY_ORDER_MAX_CHUNK, KEY_ORDER_CHUNK_BYTES * count // (len(text) + 1)))
                last, count, text, reals = self._conn.execute(rest, (last, limit)).fetchone()
        except (sqlite3.OperationalError, sqlite3.DataError) as exc:
            # A BLOB (JSON refuses it), rows too long to join within SQLite's length limit, or more
            # columns than a function takes (SQLITE_MAX_FUNCTION_ARG: 127 in the SQLite here).
            if not any(reason in str(exc) for reason in ("BLOB", "too big", "too many arguments")):
                raise
            return None
        finally:
            self._conn.text_factory = previous
        return total, b"key-order:" + digest.digest()

    def _rowid_key(self, table: str, described: list[tuple]) -> str | None:
        """The column that is the table's rowid (its INTEGER PRIMARY KEY), or None (``described``:
        the table's ``PRAGMA table_xinfo`` rows)."""
        keys = [row for row in described if row[5]]
        if len(keys) != 1 or keys[0][2].upper() != "INTEGER":
            return None
        # WITHOUT ROWID tables, and the INTEGER PRIMARY KEY DESC quirk, keep the key in an index instead.
        if any(origin == "pk" for _, _, _, origin, _ in self._conn.execute(f"PRAGMA index_list({self.quote(table)})")):
            return None
        return keys[0][1]

    def _marshalled_rows(self, table: str, batch: int = 20000) -> Iterator[list[bytes]]:
        """Each row's values marshalled (type-tagged, so 1, 1.0, '1' and x'31' differ), in batches."""
        cursor = self._conn.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.quote(table)}")
            while rows := cursor.fetchmany(batch):
                yield list(map(marshal.dumps, rows, itertools.repeat(ROW_MARSHAL_VERSION, len(rows))))
        finally:
            cursor.close()

    def row_texts(self, table: str, batch: int = 20000) -> Iterator[list[bytes]]:
        """Each row as SQLite's ``quote()`` of every column, comma-joined (slower, but takes any bytes)."""
        columns = [name for (name,) in self._conn.execute("SELECT name FROM pragma_table_info(?)", (table,))]
        if not columns:
            return
        row_sql = " || ',' || ".join(f"quote({self.quote(c)})" for c in columns)
        cursor = self._conn.cursor()
        # Raw bytes: no UTF-8 decoding per row; the hash only needs the bytes.
        previous, self._conn.text_factory = self._conn.text_factory, bytes
        try:
            cursor.execute(f"SELECT {row_sql} FROM {self.quote(table)}")
            while rows := cursor.fetchmany(batch):
                yield [row[0] for row in rows]
        finally:
            self._conn.text_factory = previous
            cursor.close()

    def integrity_problems(self) -> list[str]:
        with self._memory_mapped():
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return [] if rows == [("ok",)] else [row[0] for row in rows]

    def foreign_key_problems(self) -> list[str]:
        with self._memory_mapped():
            rows = self._conn.execute("PRAGMA foreign_key_check").fetchall()
        return [f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in rows]

    @contextlib.contextmanager
    def _memory_mapped(self) -> Iterator[None]:
        """Memory-map the file for the block (see READ_MMAP_BYTES), then restore the setting."""
        setting = self._conn.execute("PRAGMA mmap_size").fetchone()  # None for :memory:
        if setting is None:
            yield
            return
        previous = setting[0]
        self._conn.execute(f"PRAGMA mmap_size={READ_MMAP_BYTES}")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA mmap_size={previous}")

    def size_estimate(self) -> dict:
        page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        total = self._conn.execute("PRAGMA page_count").fetchone()[0] * page_size
        if self.url.path is not None:
            wal = Path(str(self.url.path) + "-wal")
            total += wal.stat().st_size if wal.exists() else 0
        largest, largest_bytes = None, total
        try:
            row = self._conn.execute(
                "SELECT s.tbl_name, sum(d.pgsize) AS size FROM dbstat d JOIN sqlite_schema s ON s.name = d.name "
                "GROUP BY s.tbl_name ORDER BY size DESC LIMIT 1"
            ).fetchone()
            if row:
                largest, largest_bytes = row
        except sqlite3.Error:  # dbstat is optional; without it assume the whole file is one table
            pass
        return {"database_bytes": total, "largest_table": largest, "largest_table_bytes": largest_bytes}

    def free_space_path(self) -> Path | None:
        return self.url.path.parent if self.url.path is not None else None

    def create_scratch(self) -> "SQLiteDatabase":
        """A new empty in-memory database."""
        return SQLiteDatabase(parse_url("sqlite:///:memory:"))

    def scratch_copy(self, folder: Path) -> "SQLiteDatabase":
        destination = folder / "rehearsal.sqlite3"
        self.backup(destination)
        return SQLiteDatabase(_file_url(destination))

    def open_backup(self, path: Path) -> "SQLiteDatabase":
        if not path.is_file():
            raise ConfigError(f"no backup file at {path}", hint="`dbshift backups` lists them")
        try:
            return SQLiteDatabase(_file_url(path), readonly=True)
        except ConfigError as exc:
            raise ConfigError(
                exc.message, hint="name a backup file of this database; `dbshift backups` lists them"
            ) from None

    def restore(self, backup: Path, keep_current_as: Path | None, checks: Callable[[Path, str], None]) -> dict:
        if self.url.path is None:
            raise ConfigError("an in-memory database cannot be restored", hint="restore into a file database")
        target = self.url.path
        staged = target.with_name(f".{target.name}.dbshift-restore")
        facts = {"sha256": copy_with_sha256(backup, staged)}
        try:
            checks(staged, facts["sha256"])
            if keep_current_as is not None:
                facts["kept_by"] = self._keep_current(keep_current_as)
            _fsync(staged)
            self._conn.close()
            os.replace(staged, target)  # atomic: readers see the old file or the new one
            _fsync(target.parent)
        finally:
            staged.unlink(missing_ok=True)
        # A -wal left from the old file would be replayed onto the new one: remove it with -shm.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        self._conn = sqlite3.connect(target, timeout=30.0, isolation_level=None)
        self._conn.execute("PRAGMA foreign_keys=OFF")
        return facts

    def _keep_current(self, destination: Path) -> str:
        """Keep the live file at ``destination``: a hard link when everything is in the main file."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            try:
                os.link(self.url.path, destination)
                return "hard link"
            except OSError:  # another file system, or links not allowed: copy instead
                pass
        self.backup(destination)
        return "online backup"

    def tables_written_by(self, statements: list[str]) -> set[str] | None:
        # EXPLAIN compiles a statement (the authorizer sees every table) without running it;
        # statements that need an earlier one to have run do not compile and name new tables only.
        with self.watch_tables() as watch:
            for sql in statements:
                try:
                    self._conn.execute("EXPLAIN " + sql).fetchall()
                except sqlite3.Error:
                    pass
        return watch.written

    @contextlib.contextmanager
    def watch_tables(self) -> Iterator[TableWatch]:
        watch = TableWatch()
        just_dropped: list[str] = []

        def authorize(action, arg1, arg2, _db, _trigger):
            _note_action(watch, just_dropped, action, arg1, arg2)
            return sqlite3.SQLITE_OK

        self._conn.set_authorizer(authorize)
        try:
            yield watch
        finally:
            self._conn.set_authorizer(None)


_WRITE_ON_ARG1 = {
    sqlite3.SQLITE_INSERT,
    sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE,
    sqlite3.SQLITE_CREATE_TABLE,
    sqlite3.SQLITE_DROP_TABLE,
}
_WRITE_ON_ARG2 = {
    sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_DROP_INDEX,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_DROP_TRIGGER,
}


def _note_action(watch: TableWatch, just_dropped: list[str], action: int, arg1, arg2) -> None:
    """Sort one authorizer callback into the watch's sets."""
    table = arg1 if action in _WRITE_ON_ARG1 else arg2 if action in _WRITE_ON_ARG2 else None
    if not table or table.startswith("sqlite_"):
        return
    watch.written.add(table)
    if action == sqlite3.SQLITE_CREATE_TABLE:
        watch.created.add(table)
    elif action == sqlite3.SQLITE_DROP_TABLE:
        watch.dropped.add(table)
        just_dropped.append(table)  # DROP TABLE also authorizes a DELETE on it: not a row change
    elif action == sqlite3.SQLITE_DELETE and table in just_dropped:
        just_dropped.remove(table)
    elif action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE):
        watch.row_changes.add(table)


def _normalize_sql(sql: str, body_only: bool = False) -> str:
    """Collapse white space; with ``body_only`` drop ``CREATE TABLE name`` (renames quote it)."""
    text = " ".join(sql.split())
    if body_only:
        text = text[text.find("(") :] if "(" in text else text
    return text.replace("( ", "(").replace(" )", ")")


def _file_url(path: Path):
    from dbshift.urls import parse_url

    return parse_url(f"sqlite:///{path.resolve()}")


COPY_CHUNK = 4 << 20


def copy_with_sha256(source: Path, destination: Path) -> str:
    """Copy ``source`` to ``destination`` (mode 0600) and return the sha256 of the bytes copied.

    A second thread hashes each block while the next one is read and written.
    """
    import hashlib
    import queue
    import threading

    digest = hashlib.sha256()
    blocks: queue.Queue = queue.Queue(maxsize=8)

    def hash_blocks() -> None:
        while (block := blocks.get()) is not None:
            digest.update(block)

    worker = threading.Thread(target=hash_blocks, name="dbshift-copy-sha256", daemon=True)
    worker.start()
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with open(source, "rb") as reader, open(os.open(destination, flags, 0o600), "wb") as writer:
            while block := reader.read(COPY_CHUNK):
                blocks.put(block)
                writer.write(block)
    finally:
        blocks.put(None)
        worker.join()
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_foreign_key_check(sql: str) -> bool:
    words = sql.lstrip().lower().split(None, 1)
    return bool(words) and words[0] == "pragma" and "foreign_key_check" in sql.lower()


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, holder: dict, on_wait: Callable[[str], None] | None = None) -> Iterator[int]:
    """An exclusive ``flock`` on ``path`` (yields its descriptor), released by the kernel if the process dies.

    ``on_wait`` hears at once, naming the holder, when another process holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(timeout, 0.0)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if on_wait is not None:
                    on_wait(f"waiting for the migration lock held by {_describe_holder(path)}")
                    on_wait = None
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"the migration lock is held by {_describe_holder(path)}",
                        hint="wait for the other run to finish, or raise --lock-timeout",
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)
        _write_holder(fd, holder)
        yield fd
    finally:
        os.close(fd)


def _write_holder(fd: int, holder: dict) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)


def _read_holder(path: Path) -> dict:
    """What the lock file says about its (last) holder; empty when nothing readable."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _describe_holder(path: Path) -> str:
    info = _read_holder(path)
    if not info:
        return "another process"
    running = f", running {info['running']}" if info.get("running") else ""
    return f"pid {info.get('pid')} on host {info.get('host')} since {info.get('since')}{running}"
