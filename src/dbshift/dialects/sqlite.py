"""SQLite: the embedded default dialect (standard library ``sqlite3``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from dbshift.dialects.base import Database, Statement
from dbshift.errors import CheckFailed, ConfigError, LockHeld

LOCK_POLL_SECONDS = 0.05


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

    def __init__(self, url, busy_timeout: float = 30.0, readonly: bool = False):
        super().__init__(url)
        target, uri = url.database or ":memory:", False
        if url.path is not None and readonly:
            # Reading never creates or changes the file; a missing file reads as an empty database.
            target, uri = (f"file:{url.path}?mode=ro", True) if url.path.exists() else (":memory:", False)
        elif url.path is not None:
            url.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(target, timeout=busy_timeout, isolation_level=None, uri=uri)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open SQLite database {target}: {exc}") from None
        self._conn.execute("PRAGMA foreign_keys=OFF")

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self._conn.close()

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

    def run_statement(self, sql: str) -> None:
        rows = self._conn.execute(sql).fetchall()
        if rows and _is_foreign_key_check(sql):
            table, rowid, parent, _ = rows[0]
            raise CheckFailed(
                f"foreign key check failed: {len(rows)} row(s) violate foreign keys "
                f"(first: {table} rowid {rowid} -> {parent})"
            )

    def split_script(self, text: str, first_line: int = 1) -> list[Statement]:
        return split_sqlite_script(text, first_line)

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table_exists(self, name: str) -> bool:
        rows = self._conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?", (name,)
        ).fetchall()
        return bool(rows)

    def is_driver_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def lock(self, timeout: float, holder: dict) -> contextlib.AbstractContextManager:
        if self.url.path is None:
            return contextlib.nullcontext()
        return file_lock(Path(str(self.url.path) + ".dbshift-lock"), timeout, holder)

    def backup(self, destination: Path, progress: Callable[[int, int], None] | None = None) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(destination)
        try:
            callback = (lambda status, remaining, total: progress(total - remaining, total)) if progress else None
            self._conn.backup(target, pages=4096, progress=callback)
        finally:
            target.close()

    backup_suffix = ".sqlite3"

    def verify_backup(self, path: Path) -> str | None:
        check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = check.execute("PRAGMA integrity_check").fetchall()
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


def _is_foreign_key_check(sql: str) -> bool:
    words = sql.lstrip().lower().split(None, 1)
    return bool(words) and words[0] == "pragma" and "foreign_key_check" in sql.lower()


def split_sqlite_script(text: str, first_line: int = 1) -> list[Statement]:
    """Split ``text`` at semicolons that end a complete statement, as SQLite itself judges it."""
    statements: list[Statement] = []
    start = 0
    search_from = 0
    while True:
        end = text.find(";", search_from)
        if end < 0:
            break
        chunk = text[start : end + 1]
        search_from = end + 1
        if sqlite3.complete_statement(chunk):
            _append_statement(statements, text, start, chunk, first_line)
            start = end + 1
    tail = text[start:]
    if _strip_comments(tail).strip():
        _append_statement(statements, text, start, tail, first_line)
    return statements


def _append_statement(statements: list[Statement], text: str, start: int, chunk: str, first_line: int) -> None:
    body_offset = _first_code_offset(chunk)
    if body_offset is None:
        return
    line = first_line + text.count("\n", 0, start + body_offset)
    statements.append(Statement(sql=chunk.strip(), line=line))


def _first_code_offset(chunk: str) -> int | None:
    """Offset of the first character that is neither white space nor inside a comment."""
    i, n = 0, len(chunk)
    while i < n:
        if chunk[i].isspace():
            i += 1
        elif chunk.startswith("--", i):
            newline = chunk.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif chunk.startswith("/*", i):
            close = chunk.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif chunk[i] == ";":
            i += 1
        else:
            return i
    return None


def _strip_comments(chunk: str) -> str:
    offset = _first_code_offset(chunk)
    return "" if offset is None else chunk[offset:]


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, holder: dict) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, released by the kernel if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(timeout, 0.0)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockHeld(
                        f"the migration lock is held by {_describe_holder(path)}",
                        hint="wait for the other run to finish, or raise --lock-timeout",
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        yield
    finally:
        os.close(fd)


def _describe_holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"
