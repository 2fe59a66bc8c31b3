"""Ctrl-C during a migration: stop the running statement at once, then roll back and say so.

Python runs a signal handler only between bytecodes, so a Ctrl-C during a long statement would wait
for the statement to finish. The handler here is made effective at once: the C-level handler writes
the signal number to a pipe (``signal.set_wakeup_fd``) and a watcher thread reading that pipe calls
the dialect's :meth:`~dbshift.dialects.base.Database.interrupt` (SQLite's ``interrupt()``,
PostgreSQL's cancel request, MariaDB's ``KILL QUERY``). The runner then sees :attr:`requested` and
raises :class:`~dbshift.errors.Interrupted` after rolling back.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any


class InterruptWatch:
    """While entered (in the main thread), Ctrl-C interrupts the database's running statement."""

    def __init__(self, db: Any):
        self.db = db
        #: Set once Ctrl-C was pressed; the runner stops before the next statement.
        self.requested = False
        self._depth = 0
        self._lock = threading.Lock()
        self._saved: tuple | None = None

    def __enter__(self) -> "InterruptWatch":
        self._depth += 1
        if self._depth == 1 and threading.current_thread() is threading.main_thread():
            self._start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._depth -= 1
        if self._depth == 0 and self._saved is not None:
            self._stop()

    def _start(self) -> None:
        reader, writer = os.pipe()
        os.set_blocking(writer, False)
        previous_fd = signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
        previous_handler = signal.signal(signal.SIGINT, self._on_signal)
        watcher = threading.Thread(target=self._watch, args=(reader,), name="dbshift-interrupt", daemon=True)
        watcher.start()
        self._saved = (reader, writer, previous_fd, previous_handler, watcher)

    def _stop(self) -> None:
        reader, writer, previous_fd, previous_handler, watcher = self._saved
        self._saved = None
        signal.signal(signal.SIGINT, previous_handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(writer)  # the watcher reads end-of-file and returns
        watcher.join(timeout=5)
        os.close(reader)

    def _on_signal(self, signum, frame) -> None:
        """The Python-level handler: remember the request (later presses change nothing)."""
        self.request()

    def _watch(self, reader: int) -> None:
        while True:
            try:
                data = os.read(reader, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                self.request()

    def request(self) -> None:
        """Stop the running statement (once) and remember that the user asked to stop."""
        with self._lock:
            if self.requested:
                return
            self.requested = True
        try:
            self.db.interrupt()
        except Exception:  # the statement then runs to its end; the runner still stops after it
            pass
