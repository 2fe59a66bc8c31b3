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
from dbshift.safety.fingerprint import SAME, Fingerprint, compare, data_tables, fingerprint_table, fingerprint_tables

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


def verify(open_db: OpenDatabase, against: Path | None = None) -> VerifyReport:
    """Check the database: two connections share the checks and the per-table fingerprints."""
    started = time.perf_counter()
    with open_db() as db:
        backup = db.open_backup(against) if against is not None else None
        try:
            jobs: queue.SimpleQueue = queue.SimpleQueue()
            # The two whole-database checks first: they are the longest jobs, so the tables'
            # fingerprints fill in around them on whichever connection is free.
            tables = data_tables(db)
            for job in [INTEGRITY, FOREIGN_KEYS, *[(FINGERPRINT, table) for table in tables]]:
                jobs.put(job)
            results: dict[tuple[str, str], object] = {}
            with _in_background(open_db, lambda second: _run_jobs(second, jobs, results)):
                _run_jobs(db, jobs, results)
            fingerprints = {table: results[FINGERPRINT, table] for table in tables}
            comparison = compare(fingerprints, fingerprint_tables(backup)) if backup is not None else {}
        finally:
            if backup is not None:
                backup.close()
    return VerifyReport(results[INTEGRITY], results[FOREIGN_KEYS], fingerprints, str(against) if against else None,
                        comparison, time.perf_counter() - started)


FINGERPRINT = "fingerprint"
INTEGRITY, FOREIGN_KEYS = ("check", "integrity"), ("check", "foreign keys")


def _run_jobs(db: Database, jobs: queue.SimpleQueue, results: dict[tuple[str, str], object]) -> None:
    """Take jobs until none are left: the two checks, then one table's fingerprint per job."""
    while True:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            return
        if job == INTEGRITY:
            results[job] = db.integrity_problems()
        elif job == FOREIGN_KEYS:
            results[job] = db.foreign_key_problems()
        else:
            results[job] = fingerprint_table(db, job[1])


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
