"""Preflight: the checks that run before ``apply`` and ``rollback`` change anything."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dbshift.dialects.base import Database
from dbshift.errors import SafetyRefusal


@dataclass
class Check:
    """One preflight check and its outcome."""

    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return dict(self.__dict__)


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (the nearest existing folder)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def space_needed(sizes: dict, with_backup: bool) -> int:
    """Bytes a run may need: a backup of the whole database plus a rebuild of its largest table.

    A rebuild writes the table's new copy and (journal or WAL) its old pages once more.
    """
    return (sizes["database_bytes"] if with_backup else 0) + 2 * sizes["largest_table_bytes"]


def check_opens(db: Database) -> Check:
    """The database answers a query about its own schema."""
    try:
        tables = db.user_tables()
    except Exception as exc:  # any driver error means it does not open properly
        return Check("database opens", False, db.describe_error(exc))
    return Check("database opens", True, f"{len(tables)} table(s)")


def check_disk_space(db: Database, backups_dir: Path, with_backup: bool) -> Check:
    """Free space beside the database (and the backups) covers backup + rebuild."""
    place = db.free_space_path()
    if place is None:
        return Check("free disk space", True, "the database is on a server; its host manages space")
    sizes = db.size_estimate()
    needed = space_needed(sizes, with_backup)
    free = min(free_bytes(place), free_bytes(backups_dir)) if with_backup else free_bytes(place)
    detail = (
        f"{_mb(free)} free, {_mb(needed)} needed (backup {_mb(sizes['database_bytes']) if with_backup else 'none'}, "
        f"rebuild of {sizes['largest_table'] or 'the largest table'} {_mb(2 * sizes['largest_table_bytes'])})"
    )
    return Check("free disk space", free >= needed, detail)


def check_backups_writable(backups_dir: Path) -> Check:
    """A file can be created in the backups folder (creating the folder if needed)."""
    try:
        backups_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=backups_dir, prefix=".dbshift-write-test-"):
            pass
    except OSError as exc:
        return Check("backups folder writable", False, f"{backups_dir}: {exc.strerror or exc}")
    if not os.access(backups_dir, os.W_OK):
        return Check("backups folder writable", False, f"{backups_dir}: not writable")
    return Check("backups folder writable", True, str(backups_dir))


def run_preflight(db: Database, backups_dir: Path, with_backup: bool) -> list[Check]:
    """Every check; the lock and dirty state are checked by the caller, which holds the lock."""
    checks = [check_opens(db)]
    if not checks[0].ok:
        return checks
    checks.append(check_disk_space(db, backups_dir, with_backup))
    if with_backup:
        checks.append(check_backups_writable(backups_dir))
    return checks


def require_preflight(db: Database, backups_dir: Path, with_backup: bool, action: str) -> list[Check]:
    """Run the checks and refuse ``action`` (exit 3) with the first failing check's reason."""
    checks = run_preflight(db, backups_dir, with_backup)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise SafetyRefusal(
            f"preflight refused the {action}: {failed[0].name}: {failed[0].detail}",
            hint="nothing was changed; fix that and run it again",
        )
    return checks


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
