"""The contract every dialect implements: one open connection to a target database.

A dialect file (``sqlite.py``, ``postgresql.py``, ``mysql.py``) subclasses :class:`Database`
and overrides what differs; the runner, history and project code never branch on the dialect.
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from dbshift.urls import DatabaseURL

if TYPE_CHECKING:
    from dbshift.dialects.description import DialectDescription


#: dbshift's own tables: the history of applied migrations and the log of every run. Inspectors,
#: fingerprints and records leave them out of the user's schema and data.
HISTORY_TABLE = "dbshift_history"
LOG_TABLE = "dbshift_log"
#: Who holds the migration lock, where the lock itself cannot say (MySQL/MariaDB's named locks).
LOCK_TABLE = "dbshift_lock"
BOOKKEEPING_TABLES = (HISTORY_TABLE, LOG_TABLE, LOCK_TABLE)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def foreign_key_violations(db: Database, keys: list[tuple]) -> list[str]:
    """For each (name, child, parent, child columns, parent columns): rows whose parent is missing."""
    problems = []
    for name, child, parent, columns, targets in keys:
        present = " AND ".join(f"c.{db.quote(c)} IS NOT NULL" for c in columns)
        match = " AND ".join(f"p.{db.quote(t)} = c.{db.quote(c)}" for c, t in zip(columns, targets))
        count = db.execute(
            f"SELECT count(*) FROM {db.quote(child)} c WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {db.quote(parent)} p WHERE {match})"
        )[0][0]
        if count:
            problems.append(f"{child}: {count} row(s) violate foreign key {name} -> {parent}")
    return problems


def word_at(text: str, offset: int | None) -> str:
    """The word starting at ``offset``, upper case ("" at the end or for None): with a splitter's
    first-code offset, a cheap first look before a parser decides (``BEGIN`` may start a transaction)."""
    if offset is None:
        return ""
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[offset:end].upper()


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a script and the 1-based line of the file where it starts."""

    sql: str
    line: int


@dataclass
class TableWatch:
    """Tables touched by statements run while watching (see :meth:`Database.watch_tables`)."""

    known: bool = True
    written: set[str] = field(default_factory=set)
    #: Tables whose row count the statements change on purpose (direct INSERT or DELETE).
    row_changes: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)


class LineCounter:
    """The line where an offset of ``text`` lies, for offsets asked in increasing order.

    Each newline is counted once over a whole script (a splitter asking for every statement's
    line from the start of the file took minutes on 300,000 statements).
    """

    def __init__(self, text: str, first_line: int = 1):
        self.text = text
        self.offset = 0
        self.line = first_line

    def line_at(self, offset: int) -> int:
        """The line of ``offset`` (counting on from the previous offset asked for)."""
        if offset < self.offset:  # asked out of order: count again from the start
            self.line -= self.text.count("\n", offset, self.offset)
        else:
            self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


SUM_MASK = (1 << 64) - 1


def summed_digest(rows: int, first_sum: int, second_sum: int) -> tuple[int, bytes]:
    """A content digest made of two per-row hash sums (modulo 2**64): the row order does not matter."""
    return rows, f"{first_sum & SUM_MASK}:{second_sum & SUM_MASK}".encode()


def sum_row_hashes(batches: Iterable[list[bytes]]) -> tuple[int, bytes]:
    """Row count and digest from the sums of each serialized row's CRC-32 and Adler-32."""
    crc_sum = adler_sum = rows = 0
    for batch in batches:
        crc_sum += sum(map(zlib.crc32, batch))
        adler_sum += sum(map(zlib.adler32, batch))
        rows += len(batch)
    return summed_digest(rows, crc_sum, adler_sum)


class Database(ABC):
    """A connection to the database being migrated, with its dialect's behaviour."""

    dialect: str = ""
    #: DDL runs inside a transaction and rolls back with it.
    transactional_ddl: bool = True
    #: The DB-API placeholder for a bound parameter.
    placeholder: str = "?"
    #: Column definition of the auto-numbered primary key of ``dbshift_log``.
    autoincrement_pk: str = "INTEGER PRIMARY KEY"

    #: What opening the database found and put right (SQLite: a killed run's half-written
    #: transaction rolled back), for ``status`` to say; None when there was nothing.
    recovered: str | None = None
    #: Told at once, with a one-line message naming the holder, when the migration lock (or another
    #: process's write) makes this connection wait.
    on_wait: Callable[[str], None] | None = None

    def __init__(self, url: DatabaseURL):
        self.url = url

    # -- connection and transactions -------------------------------------------------
    @property
    @abstractmethod
    def connection(self) -> Any:
        """The underlying DB-API connection (for Python migrations and inspectors)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @abstractmethod
    def begin(self) -> None:
        """Start a transaction."""

    @abstractmethod
    def commit(self) -> None:
        """Commit the current transaction."""

    @abstractmethod
    def rollback(self) -> None:
        """Roll the current transaction back (a no-op when none is open)."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one statement with bound parameters; returns its rows (empty for DDL/DML)."""

    def interrupt(self) -> None:
        """Stop the statement running on this connection now (called from another thread); the
        statement then fails and the transaction can be rolled back. Nothing by default."""

    def run_statement(self, sql: str) -> None:
        """Run one statement of a user's migration (dialects add their own checks)."""
        self.execute(sql)

    def split_script(self, text: str, first_line: int = 1) -> list[Statement]:
        """Split a SQL script into statements, keeping the line where each starts (the dialect's
        splitter, through the memo of :meth:`DialectDescription.split_script`)."""
        return self.description.split_script(text, first_line)

    @property
    def description(self) -> "DialectDescription":
        """What dbshift knows of this dialect without a connection (quoting, names, types...)."""
        from dbshift.dialects.description import describe

        return describe(self.dialect)

    def quote(self, identifier: str) -> str:
        """Quote an identifier for this dialect."""
        return self.description.quote(identifier)

    def check_schema_to_create_in(self) -> None:
        """Raise ConfigError when new tables would have nowhere to go (PostgreSQL: a search_path
        naming no existing schema). Nothing to check by default."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether a table of this name exists in the current database/schema."""

    # -- locking and safety ------------------------------------------------------------
    @abstractmethod
    def lock(self, timeout: float, holder: dict) -> contextlib.AbstractContextManager:
        """Hold the migration lock for the ``with`` block; raise LockHeld after ``timeout``."""

    def note_running(self, what: str | None) -> None:
        """Record what the lock holder is running now (a migration's label), where the lock can
        keep it for others to read; nothing by default."""

    @abstractmethod
    def backup(self, destination: Path, progress: Callable[[int, int], None] | None = None) -> None:
        """Write a consistent copy of the database to ``destination``."""

    #: File-name suffix of this dialect's backups.
    backup_suffix: str = ".backup"

    def verify_backup(self, path: Path, thorough: bool = True) -> str | None:
        """Check a backup file; return a problem description, or None when it is sound.

        ``thorough=False`` allows a quicker check where the dialect has one.
        """
        return None

    def backup_details(self, path: Path) -> dict:
        """Dialect facts for a backup's manifest (page count, server version...)."""
        return {}

    # -- safety net: fingerprints, checks, copies, restore ----------------------------------
    def user_tables(self) -> list[str]:
        """Names of the tables holding data (not the dialect's own catalog tables), sorted."""
        raise NotImplementedError(f"{self.dialect}: user_tables")

    def table_definition(self, table: str) -> str:
        """The table's schema as text (columns, constraints, indexes), for comparisons."""
        raise NotImplementedError(f"{self.dialect}: table_definition")

    def schema_snapshot(self) -> list[tuple[str, str]]:
        """Every schema object as (name, definition), sorted; equal snapshots mean equal schemas."""
        return [(table, self.table_definition(table)) for table in self.user_tables()]

    def row_texts(self, table: str, batch: int = 20000) -> Iterator[list[bytes]]:
        """The table's rows, each serialized to bytes unambiguously, in batches (any order)."""
        cursor = self.connection.cursor()
        cursor.execute(f"SELECT * FROM {self.quote(table)}")
        while rows := cursor.fetchmany(batch):
            yield [repr(row).encode() for row in rows]

    def content_digest(self, table: str) -> tuple[int, bytes]:
        """Row count and a digest of the table's rows: equal rows give equal digests whatever
        order the database keeps them in, and any changed, added or removed row changes it."""
        return sum_row_hashes(self.row_texts(table))

    def integrity_problems(self) -> list[str]:
        """Storage-level corruption found by the database's own check (empty when sound)."""
        return []

    def foreign_key_problems(self) -> list[str]:
        """Rows that violate a foreign key (empty when none do)."""
        return []

    def size_estimate(self) -> dict:
        """``{"database_bytes", "largest_table_bytes", "largest_table"}`` for disk-space checks."""
        raise NotImplementedError(f"{self.dialect}: size_estimate")

    def free_space_path(self) -> Path | None:
        """A path on the file system that holds the database (None when it is on a server)."""
        return None

    def create_scratch(self) -> "Database":
        """A new empty database of this dialect, gone when the returned connection closes."""
        raise NotImplementedError(f"{self.dialect}: create_scratch")

    @contextlib.contextmanager
    def empty_scratch(self) -> Iterator["Database"]:
        """An empty throw-away database (for a desired state), dropped afterwards, even on error."""
        scratch = self.create_scratch()
        try:
            yield scratch
        finally:
            scratch.close()

    def allow_forward_references(self) -> None:
        """Let the statements that follow create a table before the tables its foreign keys name
        (as a hand-written schema file may), where the dialect can; the default does nothing."""

    def scratch_copy(self, folder: Path) -> "Database":
        """A consistent writable copy of this database in ``folder`` (for rehearsals)."""
        raise NotImplementedError(f"{self.dialect}: scratch_copy")

    def open_backup(self, path: Path) -> "Database":
        """A read-only view of a backup made by :meth:`backup` (for ``verify --against``)."""
        raise NotImplementedError(f"{self.dialect}: open_backup")

    def restore(self, backup: Path, keep_current_as: Path | None, checks: Callable[[Path, str], None]) -> dict:
        """Replace the database with ``backup``; ``checks(copy, sha256)`` vets the copy before it goes live.

        With ``keep_current_as`` the database as it was is first kept at that path.
        Returns facts for the log (e.g. ``{"sha256": ..., "kept_by": "hard link"}``).
        """
        raise NotImplementedError(f"{self.dialect}: restore")

    def tables_written_by(self, statements: list[str]) -> set[str] | None:
        """Existing tables the statements would write, found without running them (None: cannot tell)."""
        return None

    @contextlib.contextmanager
    def watch_tables(self) -> Iterator["TableWatch"]:
        """Record which tables the statements run inside the block write to.

        Dialects that cannot tell leave ``known`` False and the sets empty.
        """
        yield TableWatch(known=False)

    def describe_error(self, exc: BaseException) -> str:
        """A one-line message for a driver error."""
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    def is_driver_error(self, exc: BaseException) -> bool:
        """Whether ``exc`` came from the database driver (a failed statement)."""
        return False

    def ends_transaction(self, sql: str) -> bool:
        """Whether ``sql`` begins, commits or rolls back a transaction (savepoints aside): inside a
        migration it would end the transaction dbshift runs the migration in. Read by the database's
        own machinery, never from the text; False by default."""
        return False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in a transaction, committing on success and rolling back on error."""
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()
