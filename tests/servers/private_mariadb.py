"""A private MariaDB server for the tests that need a server setting the shared one lacks (its
``performance_schema`` is off and cannot be switched on while it runs).

:func:`private_mariadb` installs a fresh data directory in a temporary folder, starts ``mariadbd``
on a free TCP port (and a socket in the same folder) with the options given, waits until it
answers, yields its URL (database ``test``, user root without a password), then shuts it down and
removes the folder, also when the test or the start-up fails. It takes about a second.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: Small InnoDB files: the data directory is ~25 MB and is made in half a second.
_SMALL = ["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M", "--skip-name-resolve"]
#: As Debian's packaged server (the shared one) is set up: utf8mb4, not the compiled-in latin1.
_LIKE_SHARED = ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"]
START_SECONDS = 30.0


class ServerUnavailable(Exception):
    """The private server cannot be had here (a program is missing, or it would not start)."""


def _program(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.is_file()), None
    )
    if found is None:
        raise ServerUnavailable(f"{name} not found (install mariadb-server to run this test)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_up(server: subprocess.Popen, port: int, log: Path) -> None:
    import pymysql

    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.poll() is not None:
            raise ServerUnavailable(f"mariadbd exited with {server.returncode}: {_tail(log)}")
        try:
            pymysql.connect(host="127.0.0.1", port=port, user="root", password="", connect_timeout=1).close()
            return
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"mariadbd did not answer within {START_SECONDS:.0f} s: {_tail(log)}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def private_mariadb(*options: str) -> Iterator[str]:
    """A MariaDB server of its own, started with ``options`` (``--performance-schema=ON``...);
    yields ``mysql://root@127.0.0.1:PORT/test``. Raises :class:`ServerUnavailable` with the reason
    when it cannot be installed or started; the folder is removed whatever happens."""
    install, server_program = _program("mariadb-install-db"), _program("mariadbd")
    as_root = ["--user=root"] if os.geteuid() == 0 else []  # mariadbd refuses root without it
    folder = Path(tempfile.mkdtemp(prefix="dbshift-mariadb-"))
    server = None
    try:
        data, log = folder / "data", folder / "error.log"
        made = subprocess.run(
            [install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
             "--skip-test-db", *as_root, *_SMALL],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if made.returncode != 0:
            raise ServerUnavailable(f"mariadb-install-db failed: {(made.stderr or made.stdout).strip()[-300:]}")
        port = _free_port()
        server = subprocess.Popen(
            [server_program, "--no-defaults", f"--datadir={data}", f"--socket={folder / 'mysqld.sock'}",
             f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={folder / 'mysqld.pid'}",
             f"--log-error={log}", *as_root, *_SMALL, *_LIKE_SHARED, *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_until_up(server, port, log)
        import pymysql

        admin = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
        try:
            admin.cursor().execute("CREATE DATABASE test")
        finally:
            admin.close()
        yield f"mysql://root@127.0.0.1:{port}/test"
    finally:
        if server is not None:
            server.terminate()  # SIGTERM: mariadbd shuts down cleanly
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
