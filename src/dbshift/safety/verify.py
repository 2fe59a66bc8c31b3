"""``dbshift verify``: integrity, foreign keys and per-table fingerprints, optionally against a backup."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager

from dbshift.dialects.base import Database
from dbshift.safety.fingerprint import SAME, Fingerprint, compare, data_tables, fingerprint_table

OpenDatabase = Callable[[], ContextManager[Database]]


@dataclass
class VerifyReport:
    """What ``verify`` found."""

    integrity: list[str]
    foreign_keys: list[str]
    fingerprints: dict[str, Fingerprint]
    against: str | None = None
    comparison: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Sound storage, no foreign-key violations, and (against a backup) every table the same."""
        return not self.integrity and not self.foreign_keys and all(v == SAME for v in self.comparison.values())

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "ok": self.ok,
            "integrity": self.integrity or "ok",
            "foreign_keys": self.foreign_keys or "ok",
            "tables": [
                {**fp.as_json(), **({"against": self.comparison.get(name)} if self.against else {})}
                for name, fp in self.fingerprints.items()
            ],
            "against": self.against,
            "comparison": self.comparison,
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[str], None]


def verify(open_db: OpenDatabase, against: Path | None = None, progress: Progress | None = None) -> VerifyReport:
    """Check the database: the storage and foreign key checks on a second connection, beside the fingerprints.

    ``progress(message)`` hears each step as it starts (a big file takes minutes).
    """
    progress = progress or (lambda message: None)
    started = time.perf_counter()
    with open_db() as db:
        backup = db.open_backup(against) if against is not None else None
        try:
            checks: queue.SimpleQueue = queue.SimpleQueue()
            for name in CHECKS:
                checks.put(name)
            results: dict[str, list[str]] = {}
            # The checks run inside the database without Python's GIL; fingerprints need it, and two
            # threads hashing at once mostly wait for each other. So the second connection takes the
            # checks, this one the fingerprints and then any check still waiting.
            with _in_background(open_db, lambda second: _run_checks(second, checks, results, progress)):
                fingerprints = _fingerprints(db, "", progress)
                comparison = compare(fingerprints, _fingerprints(backup, "the backup's ", progress)) if backup else {}
                _run_checks(db, checks, results, progress)
                if len(results) < len(CHECKS):
                    progress(
                        "verify: waiting for the " + " and ".join(n for n in CHECKS if n not in results) + " check"
                    )
        finally:
            if backup is not None:
                backup.close()
    return VerifyReport(
        results["integrity"],
        results["foreign keys"],
        fingerprints,
        str(against) if against else None,
        comparison,
        time.perf_counter() - started,
    )


CHECKS: dict[str, Callable[[Database], list[str]]] = {
    "integrity": lambda db: db.integrity_problems(),
    "foreign keys": lambda db: db.foreign_key_problems(),
}


def _fingerprints(db: Database, whose: str, progress: Progress) -> dict[str, Fingerprint]:
    """Every data table's fingerprint, saying which table is being read."""
    names = data_tables(db)
    fingerprints = {}
    for index, name in enumerate(names, 1):
        progress(f"verify: fingerprinting {whose}table {name} ({index} of {len(names)})")
        fingerprints[name] = fingerprint_table(db, name)
    return fingerprints


def _run_checks(db: Database, checks: queue.SimpleQueue, results: dict[str, list[str]], progress: Progress) -> None:
    """Run the named checks still in the queue on ``db``, until none is left."""
    while True:
        try:
            name = checks.get_nowait()
        except queue.Empty:
            return
        progress(f"verify: {name} check started")
        results[name] = CHECKS[name](db)


class _Background:
    error: BaseException | None = None


@contextlib.contextmanager
def _in_background(open_db: OpenDatabase, work: Callable[[Database], object]):
    """Run ``work`` on a second connection in a thread; it has finished when the block ends."""
    box = _Background()

    def run():
        try:
            with open_db() as db:
                work(db)
        except BaseException as exc:  # handed to the caller's thread below
            box.error = exc

    thread = threading.Thread(target=run, name="dbshift-verify", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if box.error is not None:
        raise box.error
