"""MySQL and MariaDB (PyMySQL): DDL commits implicitly, ``GET_LOCK``, ``mysqldump`` backups."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from dbshift.dialects.base import (
    LOCK_TABLE,
    Database,
    TableWatch,
    foreign_key_violations,
    sha256_file,
    summed_digest,
)
from dbshift.dialects.mysql_script import ends_transaction
from dbshift.dialects.statement_writes import (
    WriteWatcher,
    tables_written,
)
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
                **{"connect_timeout": max(1, min(int(busy_timeout), 30)), **connection_kwargs(url)},
                autocommit=True,
                charset="utf8mb4",
            )
        except pymysql.MySQLError as exc:
            raise ConfigError(
                f"cannot connect to {url.masked()}: {describe_mysql_error(exc)}",
                hint="check that the server is running and the URL's user, host, port and database are right",
            ) from None
        #: The URL of the database to connect to when this scratch database is dropped on close.
        self._drop_via = None
        #: Open :meth:`watch_tables` blocks.
        self._watchers: list = []

    @property
    def connection(self):
        return self._conn

    def close(self) -> None:
        if self._conn.open:
            self._conn.close()
        if self._drop_via is not None:
            drop_database(self._drop_via, self.url.database)

    def interrupt(self) -> None:
        """``KILL QUERY`` from a second connection: the statement fails, the connection stays."""
        killer = self._pymysql.connect(
            **{"connect_timeout": 5, **connection_kwargs(self.url)}, autocommit=True, charset="utf8mb4"
        )
        try:
            with killer.cursor() as cursor:
                cursor.execute(f"KILL QUERY {int(self._conn.thread_id())}")
        finally:
            killer.close()

    def begin(self) -> None:
        self._conn.begin()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        if self._conn.open:
            self._conn.rollback()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        for watcher in self._watchers:
            watcher.note(sql)
        return self._catalog(sql, params)

    def _catalog(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run ``sql`` unwatched (dbshift's own queries; :meth:`execute` also notes the user's)."""
        # Without parameters PyMySQL sends the SQL as written, so a literal % needs no escaping.
        with self._conn.cursor() as cursor:
            cursor.execute(sql, tuple(params) if params else None)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def table_exists(self, name: str) -> bool:
        rows = self.execute(
            "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (name,),
        )
        return bool(rows)

    def is_driver_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self._pymysql.MySQLError)

    def ends_transaction(self, sql: str) -> bool:
        return ends_transaction(sql)

    def describe_error(self, exc: BaseException) -> str:
        return describe_mysql_error(exc)

    # -- lock ------------------------------------------------------------------------------
    @property
    def lock_name(self) -> str:
        """``GET_LOCK`` names are server-wide, so the name includes the database (64 chars max)."""
        return f"dbshift:{self.url.database}"[:64]

    def lock(self, timeout: float, holder: dict) -> contextlib.AbstractContextManager:
        return self._named_lock(timeout, holder)

    @contextlib.contextmanager
    def _named_lock(self, timeout: float, holder: dict | None = None) -> Iterator[None]:
        """``GET_LOCK``, polled until ``timeout``; the server releases it if the process dies."""
        deadline = time.monotonic() + max(timeout, 0.0)
        on_wait = self.on_wait
        while self.execute("SELECT GET_LOCK(%s, 0)", (self.lock_name,))[0][0] != 1:
            if on_wait is not None:
                on_wait(f"waiting for the migration lock held by {self._describe_holder()}")
                on_wait = None
            if time.monotonic() >= deadline:
                raise LockHeld(
                    f"the migration lock is held by {self._describe_holder()}",
                    hint="wait for the other run to finish, or raise --lock-timeout",
                )
            time.sleep(LOCK_POLL_SECONDS)
        try:
            if holder:
                self._write_holder(holder)
            yield
        finally:
            if self._conn.open:
                self.rollback()
                self.execute("SELECT RELEASE_LOCK(%s)", (self.lock_name,))

    def _write_holder(self, holder: dict) -> None:
        """Keep who holds the lock in ``dbshift_lock`` (a named lock carries no data): a waiting run
        then names the holder's pid and host, as the file lock and PostgreSQL's advisory lock do."""
        try:
            if not self.table_exists(LOCK_TABLE):
                self._catalog(
                    f"CREATE TABLE IF NOT EXISTS {LOCK_TABLE} (name VARCHAR(64) NOT NULL PRIMARY KEY, "
                    "connection_id BIGINT NOT NULL, holder TEXT NOT NULL)"
                )
            self._catalog(
                f"REPLACE INTO {LOCK_TABLE} (name, connection_id, holder) VALUES (%s, CONNECTION_ID(), %s)",
                (self.lock_name, json.dumps(holder)),
            )
        except self._pymysql.MySQLError:  # no right to create it: waiting runs then name the connection only
            pass

    def _read_holder(self, connection_id: int) -> dict:
        """What the run holding the lock on connection ``connection_id`` wrote about itself."""
        try:
            found = self._catalog(
                f"SELECT holder FROM {LOCK_TABLE} WHERE name = %s AND connection_id = %s",
                (self.lock_name, connection_id),
            )
            info = json.loads(found[0][0]) if found else {}
        except (self._pymysql.MySQLError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def _describe_holder(self) -> str:
        owner = self.execute("SELECT IS_USED_LOCK(%s)", (self.lock_name,))[0][0]
        if owner is None:
            return "another session (it may have just finished)"
        rows = self.execute("SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = %s", (owner,))
        if not rows:
            return f"connection {owner}"
        user, host, seconds = rows[0]
        info = self._read_holder(owner)
        if info:
            return (
                f"pid {info.get('pid')} on host {info.get('host')} since {info.get('since')} "
                f"(connection {owner}, {user}@{host})"
            )
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
            command = [
                tool,
                f"--defaults-extra-file={options}",
                *DUMP_OPTIONS,
                f"--result-file={destination}",
                *client_arguments(self.url),
                self.url.database,
            ]
            result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise CheckFailed(
                f"{Path(tool).name} failed: {first_line(result.stderr) or f'exit code {result.returncode}'}",
                hint="the database was not changed; fix the problem above and run again",
            )
        if progress:
            progress(1, 1)

    def verify_backup(self, path: Path, thorough: bool = True) -> str | None:
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

    # -- safety net: fingerprints, checks, copies, restore ---------------------------------
    def user_tables(self) -> list[str]:
        rows = self.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
        )
        return sorted(r[0] for r in rows)

    def table_definition(self, table: str) -> str:
        create = self.execute(f"SHOW CREATE TABLE {self.quote(table)}")[0][1]
        return re.sub(r" AUTO_INCREMENT=\d+", "", create)

    def _columns(self, table: str) -> list[str]:
        rows = self.execute(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
            "ORDER BY ORDINAL_POSITION",
            (table,),
        )
        return [r[0] for r in rows]

    def content_digest(self, table: str) -> tuple[int, bytes]:
        """Computed in the server: each row's MD5 (of QUOTE() of every column) as two 64-bit halves,
        each summed over the table; only the row count and the two sums travel."""
        quoted = ", ".join(f"QUOTE({self.quote(c)})" for c in self._columns(table))
        half = "CAST(CONV(SUBSTRING(h, {}, 16), 16, 10) AS UNSIGNED)"
        count, first, second = self.execute(
            f"SELECT COUNT(*), COALESCE(SUM({half.format(1)}), 0), COALESCE(SUM({half.format(17)}), 0) "
            f"FROM (SELECT MD5(CONCAT_WS(',', {quoted})) AS h FROM {self.quote(table)}) row_hashes"
        )[0]
        return summed_digest(int(count), int(first), int(second))

    def integrity_problems(self) -> list[str]:
        tables = self.user_tables()
        if not tables:
            return []
        rows = self.execute("CHECK TABLE " + ", ".join(self.quote(t) for t in tables))
        return [
            f"{table}: {text}"
            for table, _op, kind, text in rows
            if kind.lower() == "error" or (kind.lower() == "status" and text != "OK")
        ]

    def foreign_key_problems(self) -> list[str]:
        rows = self.execute(
            "SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME, COLUMN_NAME, REFERENCED_COLUMN_NAME "
            "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() "
            "AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION"
        )
        keys: dict[tuple, tuple[list, list]] = {}
        for name, child, parent, column, target in rows:
            columns, targets = keys.setdefault((name, child, parent), ([], []))
            columns.append(column)
            targets.append(target)

        return foreign_key_violations(self, [(*key, *value) for key, value in keys.items()])

    def size_estimate(self) -> dict:
        rows = self.execute(
            "SELECT TABLE_NAME, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 2 DESC"
        )
        name, size = rows[0] if rows else (None, 0)
        return {"database_bytes": int(sum(r[1] for r in rows)), "largest_table_bytes": int(size), "largest_table": name}

    def scratch_copy(self, folder: Path) -> "MySQLDatabase":
        """A scratch database on the same server, loaded from a dump (dropped when closed).

        Its events are disabled: with the event scheduler on, the copy would otherwise run the
        real database's scheduled jobs on its own rows while it is being rehearsed on.
        """
        dump = folder / "copy.sql"
        self.backup(dump)
        copy = self.open_backup(dump)
        for name in copy._event_names():
            copy.execute(f"ALTER EVENT {copy.quote(name)} DISABLE")
        return copy

    def _event_names(self) -> list[str]:
        return [
            r[0]
            for r in self.execute("SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()")
        ]

    def create_scratch(self) -> "MySQLDatabase":
        """A new empty database on the same server, dropped when the returned connection closes."""
        name = f"dbshift_scratch_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {self.quote(name)}")
        scratch = MySQLDatabase(self.url.with_database(name))
        scratch._drop_via = self.url
        return scratch

    def allow_forward_references(self) -> None:
        """``FOREIGN_KEY_CHECKS=0`` for this session, as mysqldump's own files do."""
        self.execute("SET SESSION FOREIGN_KEY_CHECKS = 0")

    def open_backup(self, path: Path) -> "MySQLDatabase":
        """The backup loaded into a scratch database on the same server (dropped when closed)."""
        scratch = self.create_scratch()
        try:
            load_dump(scratch.url, path)
        except BaseException:
            scratch.close()
            raise
        return scratch

    def restore(self, backup: Path, keep_current_as: Path | None, checks: Callable[[Path, str], None]) -> dict:
        """Load the backup into a scratch database first; only if that works, replace this database's tables.

        MySQL commits DDL statement by statement, so the replacement itself is not atomic: the
        current database is kept as a verified dump first.
        """

        checks(backup, sha256_file(backup))
        self.open_backup(backup).close()
        if keep_current_as is not None:
            self.backup(keep_current_as)
            problem = self.verify_backup(keep_current_as)
            if problem:
                raise CheckFailed(
                    f"the copy of the current database failed its check: {problem}", hint="the database was not changed"
                )
        self._drop_everything()
        load_dump(self.url, backup)
        return {"sha256": sha256_file(backup), "kept_by": Path(dump_tool()).name if keep_current_as else None}

    def tables_written_by(self, statements: list[str]) -> set[str] | None:
        return tables_written(statements, self.dialect, set(self.user_tables()), _side_effects(self._catalog))

    @contextlib.contextmanager
    def watch_tables(self) -> Iterator[TableWatch]:
        """Statements are read as they run (MySQL keeps no per-transaction row counters); what their
        triggers, stored routines and ON DELETE CASCADE keys write is read from the definitions."""
        watcher = WriteWatcher(self.dialect, tables=set(self.user_tables()))
        before = _side_effects(self._catalog)
        self._watchers.append(watcher)
        try:
            yield watcher.watch
        except BaseException:
            watcher.watch.known = False
            raise
        finally:
            self._watchers.remove(watcher)
        after = _side_effects(self._catalog)
        watcher.finish(*(b | a for b, a in zip(before, after)))

    def _drop_everything(self) -> None:
        rows = self.execute(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
        routines = self.execute(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
        )
        self.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for name, kind in rows:
                self.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {self.quote(name)}")
            for name, kind in routines:
                self.execute(f"DROP {kind} IF EXISTS {self.quote(name)}")
            for name in self._event_names():
                self.execute(f"DROP EVENT IF EXISTS {self.quote(name)}")
        finally:
            self.execute("SET FOREIGN_KEY_CHECKS = 1")


def _side_effects(catalog: Callable[..., list[tuple]]) -> tuple[set, set, set]:
    """ON DELETE CASCADE (parent, child) pairs, (table, trigger body) and (routine, body) pairs."""
    cascades = catalog(
        "SELECT REFERENCED_TABLE_NAME, TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE() AND DELETE_RULE = 'CASCADE'"
    )
    triggers = catalog(
        "SELECT EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
    )
    routines = catalog(
        "SELECT ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
    )
    return set(cascades), set(triggers), set(routines)


DUMP_OPTIONS = ("--single-transaction", "--routines", "--triggers", "--events", "--hex-blob", "--no-tablespaces")


def drop_database(via, name: str) -> None:
    """Drop database ``name`` through a connection to the database of URL ``via``."""
    admin = MySQLDatabase(via)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {admin.quote(name)}")
    finally:
        admin.close()


def load_dump(url, path: Path) -> None:
    """Load a SQL dump into the database of ``url`` with the ``mariadb``/``mysql`` client."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise ConfigError(
            "neither mariadb nor mysql (the client) was found on PATH",
            hint="install the client tools (e.g. `apt install mariadb-client`)",
        )
    with option_file(url) as options, open(path, "rb") as dump:
        result = subprocess.run(
            [client, f"--defaults-extra-file={options}", *client_arguments(url), url.database],
            stdin=dump,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise CheckFailed(
            f"loading {path.name} failed: {first_line(result.stderr)}", hint="the database was not changed"
        )


#: The URL parameters a MySQL/MariaDB URL takes: PyMySQL's keyword, its type, and the client
#: tools' option (None: the connection only).
URL_PARAMETERS = {
    "ssl_ca": (str, "--ssl-ca"),
    "ssl_cert": (str, "--ssl-cert"),
    "ssl_key": (str, "--ssl-key"),
    "ssl_verify_cert": (bool, "--ssl-verify-server-cert"),
    "ssl_verify_identity": (bool, "--ssl-verify-server-cert"),
    "unix_socket": (str, "--socket"),
    "connect_timeout": (int, None),
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def connection_kwargs(url) -> dict:
    """PyMySQL keyword arguments for ``url``: its parts, then its parameters (see URL_PARAMETERS)."""
    kwargs = {
        "host": url.host or "localhost",
        "port": url.port or 3306,
        "user": url.user or "root",
        "database": url.database,
    }
    kwargs.update(url_parameters(url))
    if url.password is not None:
        # As bytes: PyMySQL encodes a str password as Latin-1, so "pässwörd" reached the server in
        # other bytes than the mariadb client sends (UTF-8) and "密码" failed with a traceback.
        kwargs["password"] = url.password.encode("utf-8")
    return kwargs


def url_parameters(url) -> dict:
    """The URL's parameters as typed PyMySQL keywords; an unknown parameter or a bad value is refused."""
    typed = {}
    for key, value in url.parameters:
        if key not in URL_PARAMETERS:
            raise ConfigError(
                f"unknown parameter {key!r} in {url.masked()}",
                hint=f"a MySQL/MariaDB URL takes {', '.join(URL_PARAMETERS)}",
            )
        kind = URL_PARAMETERS[key][0]
        if kind is bool and value.lower() not in _TRUE | _FALSE or kind is int and not value.isdigit():
            raise ConfigError(
                f"bad value {value!r} for {key} in {url.masked()}",
                hint="use true/false" if kind is bool else "use a whole number of seconds",
            )
        typed[key] = value.lower() in _TRUE if kind is bool else int(value) if kind is int else value
    return typed


def client_arguments(url) -> list[str]:
    """Client-tool arguments naming the server and the URL's TLS and socket settings, without the password."""
    args = [f"--host={url.host or 'localhost'}", f"--port={url.port or 3306}", f"--user={url.user or 'root'}"]
    for key, value in url_parameters(url).items():
        option = URL_PARAMETERS[key][1]
        if option is None or value is False:
            continue
        flag = option if value is True else f"{option}={value}"
        if flag not in args:
            args.append(flag)
    return args


@contextlib.contextmanager
def option_file(url) -> Iterator[str]:
    """A private option file holding the password, so it never appears in a process list."""
    with tempfile.TemporaryDirectory(prefix="dbshift-") as folder:
        path = Path(folder) / "client.cnf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
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
