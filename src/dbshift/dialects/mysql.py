"""MySQL and MariaDB (PyMySQL): DDL commits implicitly, ``GET_LOCK``, ``mysqldump`` backups."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from dbshift.dialects.base import Database, Statement
from dbshift.errors import CheckFailed, ConfigError, LockHeld

LOCK_POLL_SECONDS = 0.05
DUMP_TOOLS = ("mariadb-dump", "mysqldump")
DUMP_COMPLETED = "-- Dump completed"


class MySQLDatabase(Database):
    """A MySQL/MariaDB database in autocommit mode with explicit transactions.

    MySQL commits DDL implicitly, so ``transactional_ddl`` is False: the runner records each
    migration as ``running`` before it starts, and a crash leaves a visible dirty state.
    """

    dialect = "mysql"
    transactional_ddl = False
    placeholder = "%s"
    autoincrement_pk = "BIGINT AUTO_INCREMENT PRIMARY KEY"
    backup_suffix = ".sql"

    def __init__(self, url, busy_timeout: float = 30.0):
        super().__init__(url)
        import pymysql

        self._pymysql = pymysql
        if not url.database:
            raise ConfigError(f"no database name in {url.masked()}", hint="use mysql://user@host:3306/dbname")
        try:
            self._conn = pymysql.connect(
                **connection_kwargs(url), autocommit=True, charset="utf8mb4",
                connect_timeout=max(1, min(int(busy_timeout), 30)),
            )
        except pymysql.MySQLError as exc:
            raise ConfigError(
                f"cannot connect to {url.masked()}: {describe_mysql_error(exc)}",
                hint="check that the server is running and the URL's user, host, port and database are right",
            ) from None

    @property
    def connection(self):
        return self._conn

    def close(self) -> None:
        if self._conn.open:
            self._conn.close()

    def begin(self) -> None:
        self._conn.begin()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        if self._conn.open:
            self._conn.rollback()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        # Without parameters PyMySQL sends the SQL as written, so a literal % needs no escaping.
        with self._conn.cursor() as cursor:
            cursor.execute(sql, tuple(params) if params else None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def split_script(self, text: str, first_line: int = 1) -> list[Statement]:
        return split_mysql_script(text, first_line)

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def table_exists(self, name: str) -> bool:
        rows = self.execute(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (name,),
        )
        return bool(rows)

    def is_driver_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self._pymysql.MySQLError)

    def describe_error(self, exc: BaseException) -> str:
        return describe_mysql_error(exc)

    # -- lock ------------------------------------------------------------------------------
    @property
    def lock_name(self) -> str:
        """``GET_LOCK`` names are server-wide, so the name includes the database (64 chars max)."""
        return f"dbshift:{self.url.database}"[:64]

    def lock(self, timeout: float, holder: dict) -> contextlib.AbstractContextManager:
        return self._named_lock(timeout)

    @contextlib.contextmanager
    def _named_lock(self, timeout: float) -> Iterator[None]:
        """``GET_LOCK``, polled until ``timeout``; the server releases it if the process dies."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while self.execute("SELECT GET_LOCK(%s, 0)", (self.lock_name,))[0][0] != 1:
            if time.monotonic() >= deadline:
                raise LockHeld(
                    f"the migration lock is held by {self._describe_holder()}",
                    hint="wait for the other run to finish, or raise --lock-timeout",
                )
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            if self._conn.open:
                self.rollback()
                self.execute("SELECT RELEASE_LOCK(%s)", (self.lock_name,))

    def _describe_holder(self) -> str:
        owner = self.execute("SELECT IS_USED_LOCK(%s)", (self.lock_name,))[0][0]
        if owner is None:
            return "another session (it may have just finished)"
        rows = self.execute(
            "SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = %s", (owner,)
        )
        if not rows:
            return f"connection {owner}"
        user, host, seconds = rows[0]
        pid = self._client_pid(owner)
        who = f"pid {pid} " if pid else ""
        return f"{who}connection {owner} ({user}@{host}), idle {seconds} s"

    def _client_pid(self, connection_id: int) -> str | None:
        """The client's pid from performance_schema connection attributes, when it is enabled."""
        try:
            rows = self.execute(
                "SELECT a.ATTR_VALUE FROM performance_schema.session_connect_attrs a "
                "WHERE a.PROCESSLIST_ID = %s AND a.ATTR_NAME = '_pid'",
                (connection_id,),
            )
        except self._pymysql.MySQLError:
            return None
        return rows[0][0] if rows else None

    # -- backups ---------------------------------------------------------------------------
    def backup(self, destination: Path, progress: Callable[[int, int], None] | None = None) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        tool = dump_tool()
        if progress:
            progress(0, 1)
        with option_file(self.url) as options:
            command = [tool, f"--defaults-extra-file={options}", *DUMP_OPTIONS,
                       f"--result-file={destination}", *client_arguments(self.url), self.url.database]
            result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise CheckFailed(
                f"{Path(tool).name} failed: {first_line(result.stderr) or f'exit code {result.returncode}'}",
                hint="the database was not changed; fix the problem above and run again",
            )
        if progress:
            progress(1, 1)

    def verify_backup(self, path: Path) -> str | None:
        tail = _tail(path)
        if DUMP_COMPLETED not in tail:
            return f"the dump does not end with '{DUMP_COMPLETED}' (it was cut short)"
        return None

    def backup_details(self, path: Path) -> dict:
        text = path.read_text(encoding="utf-8", errors="replace")
        return {
            "format": "SQL dump; restore with `mariadb DBNAME < FILE` (or mysql)",
            "server_version": self.execute("SELECT VERSION()")[0][0],
            "tool_version": subprocess.run([dump_tool(), "--version"], capture_output=True, text=True).stdout.strip(),
            "tables": len(re.findall(r"^CREATE TABLE ", text, re.MULTILINE)),
        }


DUMP_OPTIONS = ("--single-transaction", "--routines", "--triggers", "--hex-blob", "--no-tablespaces")


def connection_kwargs(url) -> dict:
    """PyMySQL keyword arguments for ``url``."""
    kwargs = {"host": url.host or "localhost", "port": url.port or 3306, "user": url.user or "root",
              "database": url.database}
    if url.password is not None:
        kwargs["password"] = url.password
    return kwargs


def client_arguments(url) -> list[str]:
    """Client-tool arguments naming the server, without the password."""
    return [f"--host={url.host or 'localhost'}", f"--port={url.port or 3306}", f"--user={url.user or 'root'}"]


@contextlib.contextmanager
def option_file(url) -> Iterator[str]:
    """A private option file holding the password, so it never appears in a process list."""
    with tempfile.TemporaryDirectory(prefix="dbshift-") as folder:
        path = Path(folder) / "client.cnf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("[client]\n")
            if url.password is not None:
                escaped = url.password.replace("\\", "\\\\").replace('"', '\\"')
                handle.write(f'password="{escaped}"\n')
        yield str(path)


def dump_tool() -> str:
    """``mariadb-dump`` or ``mysqldump``, or a clear error when neither is installed."""
    for name in DUMP_TOOLS:
        path = shutil.which(name)
        if path:
            return path
    raise ConfigError(
        "neither mariadb-dump nor mysqldump was found on PATH; MySQL/MariaDB backups need the server's own tools",
        hint="install the client tools (e.g. `apt install mariadb-client` or `mysql-client`)",
    )


def describe_mysql_error(exc: BaseException) -> str:
    """``message (error code)`` for a PyMySQL error."""
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return f"{args[1]} (error {args[0]})"
    return first_line(exc)


def first_line(exc_or_text) -> str:
    """The first non-empty line of an error or text."""
    text = str(exc_or_text).strip()
    return text.splitlines()[0].strip() if text else type(exc_or_text).__name__


def _tail(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as handle:
        handle.seek(max(path.stat().st_size - size, 0))
        return handle.read().decode("utf-8", errors="replace")


# -- statement splitting ------------------------------------------------------------------
_WORD = re.compile(r"[A-Za-z_0-9$\u0080-\uffff]+")
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)", re.IGNORECASE)
_ROUTINE_START = re.compile(
    r"CREATE\s+(OR\s+REPLACE\s+)?(DEFINER\s*=\s*\S+\s+)?(AGGREGATE\s+)?(TRIGGER|PROCEDURE|FUNCTION|EVENT)\b",
    re.IGNORECASE,
)
_NOT_BLOCK_ENDS = {"IF", "LOOP", "WHILE", "REPEAT"}


def split_mysql_script(text: str, first_line: int = 1) -> list[Statement]:
    """Split a script as the ``mysql`` client does, with the line where each statement starts.

    Delimiters inside '...' and "..." strings (backslash escapes), `identifiers`, -- and #
    comments and /* */ comments do not count. ``DELIMITER $$`` lines change the delimiter;
    without them, the BEGIN ... END body of a trigger, procedure, function or event is kept
    whole.
    """
    scanner = _Scanner(text)
    statements: list[Statement] = []
    start, delimiter = 0, ";"
    while start < len(text):
        code = _first_code_offset(text, start, delimiter)
        if code is None:
            break
        if (match := _DELIMITER.match(text, code)) and _at_line_start(text, code):
            delimiter, start = match.group(1), match.end()
            continue
        end = scanner.statement_end(code, delimiter)
        sql = text[code:end].strip()
        if delimiter == ";" and end < len(text):
            sql += ";"
        statements.append(Statement(sql=sql, line=first_line + text.count("\n", 0, code)))
        start = end + len(delimiter)
    return statements


class _Scanner:
    """Finds where each statement ends, skipping quoted text and comments."""

    def __init__(self, text: str):
        self.text = text

    def statement_end(self, start: int, delimiter: str) -> int:
        """Index of the delimiter that ends the statement starting at ``start`` (or len(text))."""
        text, i, n = self.text, start, len(self.text)
        routine = delimiter == ";" and bool(_ROUTINE_START.match(text, start))
        depth = 0
        while i < n:
            char = text[i]
            if char in "'\"`":
                i = self.skip_quoted(i)
            elif _comment_at(text, i):
                i = _skip_comment(text, i)
            elif text.startswith(delimiter, i) and depth == 0:
                return i
            elif routine and (match := _WORD.match(text, i)):
                depth = _track_block(match.group(0).upper(), depth, text, match.end())
                i = match.end()
            else:
                i += 1
        return n

    def skip_quoted(self, i: int) -> int:
        """Skip a quoted string or identifier; strings also escape with a backslash."""
        text, quote = self.text, self.text[i]
        j = i + 1
        while j < len(text):
            if text[j] == "\\" and quote != "`":
                j += 2
            elif text[j] == quote:
                if text.startswith(quote * 2, j):
                    j += 2
                    continue
                return j + 1
            else:
                j += 1
        return len(text)


def _track_block(word: str, depth: int, text: str, after: int) -> int:
    """BEGIN and CASE open a block; END closes one (END IF/LOOP/WHILE/REPEAT close other things)."""
    if word == "BEGIN" or (word == "CASE" and depth > 0):
        return depth + 1
    if word == "END" and depth > 0:
        following = _WORD.match(text, _skip_space(text, after))
        if following and following.group(0).upper() in _NOT_BLOCK_ENDS:
            return depth
        return depth - 1
    return depth


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _comment_at(text: str, i: int) -> bool:
    if text[i] == "#":
        return True
    if text.startswith("--", i):
        return i + 2 >= len(text) or text[i + 2] in " \t\r\n"
    return text.startswith("/*", i) and not text.startswith("/*!", i)


def _skip_comment(text: str, i: int) -> int:
    if text.startswith("/*", i):
        close = text.find("*/", i + 2)
        return len(text) if close < 0 else close + 2
    newline = text.find("\n", i)
    return len(text) if newline < 0 else newline + 1


def _first_code_offset(text: str, i: int, delimiter: str) -> int | None:
    """Offset of the first character from ``i`` that is not space, a comment or a stray delimiter."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif _comment_at(text, i):
            i = _skip_comment(text, i)
        elif text.startswith(delimiter, i):
            i += len(delimiter)
        else:
            return i
    return None


def _at_line_start(text: str, i: int) -> bool:
    line_start = text.rfind("\n", 0, i) + 1
    return not text[line_start:i].strip()
