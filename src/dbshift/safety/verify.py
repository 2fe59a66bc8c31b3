"""``dbshift verify``: integrity, foreign keys and per-table fingerprints, optionally against a backup."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager

from dbshift.dialects.base import Database
from dbshift.safety.fingerprint import SAME, Fingerprint, compare, fingerprint_tables

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
    """Check the database; the storage check runs on its own connection beside the fingerprints."""
    started = time.perf_counter()
    with open_db() as db:
        backup = db.open_backup(against) if against is not None else None
        try:
            with _in_background(open_db, lambda d: d.integrity_problems()) as integrity:
                foreign_keys = db.foreign_key_problems()
                fingerprints = fingerprint_tables(db)
                comparison = compare(fingerprints, fingerprint_tables(backup)) if backup is not None else {}
        finally:
            if backup is not None:
                backup.close()
    return VerifyReport(integrity.result, foreign_keys, fingerprints, str(against) if against else None,
                        comparison, time.perf_counter() - started)


class _Background:
    result = None
    error: BaseException | None = None


@contextlib.contextmanager
def _in_background(open_db: OpenDatabase, work: Callable[[Database], object]):
    """Run ``work`` on a second connection in a thread; its result is ready after the block."""
    box = _Background()

    def run():
        try:
            with open_db() as db:
                box.result = work(db)
        except BaseException as exc:  # handed to the caller's thread below
            box.error = exc

    thread = threading.Thread(target=run, name="dbshift-verify", daemon=True)
    thread.start()
    try:
        yield box
    finally:
        thread.join()
    if box.error is not None:
        raise box.error
