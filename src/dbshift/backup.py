"""Backups: a consistent copy of the database plus a JSON manifest beside it.

The dialect writes the copy (SQLite's online backup API, ``pg_dump``, ``mysqldump``) and
checks it; this module names, verifies, describes and prunes backups.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dbshift import __version__
from dbshift.dialects.base import Database
from dbshift.errors import CheckFailed


@dataclass
class BackupInfo:
    """A backup file and what its manifest says about it."""

    path: Path
    manifest_path: Path
    manifest: dict

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {"path": str(self.path), **self.manifest}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def create_backup(
    db: Database,
    backups_dir: Path,
    reason: str,
    schema_version: int,
    keep: int = 0,
    progress=None,
) -> BackupInfo:
    """Back the database up into ``backups_dir``, verify the copy and write its manifest."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    stem = f"{_database_stem(db)}-{stamp}-{_safe(reason)}"
    path = backups_dir / f"{stem}{db.backup_suffix}"
    db.backup(path, progress=progress)
    os.chmod(path, 0o600)
    problem = db.verify_backup(path)
    if problem:
        raise CheckFailed(f"backup {path} failed its check: {problem}", hint="the database was not changed")
    manifest = {
        "database_url": db.url.masked(),
        "dialect": db.dialect,
        "schema_version": schema_version,
        "reason": reason,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dbshift_version": __version__,
        **db.backup_details(path),
    }
    manifest_path = path.with_name(path.name + ".json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.chmod(manifest_path, 0o600)
    if keep:
        prune(backups_dir, keep)
    return BackupInfo(path, manifest_path, manifest)


def list_backups(backups_dir: Path) -> list[BackupInfo]:
    """All backups with a readable manifest, oldest first."""
    if not backups_dir.is_dir():
        return []
    found = []
    for manifest_path in sorted(backups_dir.glob("*.json")):
        backup_path = manifest_path.with_name(manifest_path.name[: -len(".json")])
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if backup_path.exists():
            found.append(BackupInfo(backup_path, manifest_path, manifest))
    return sorted(found, key=lambda b: b.manifest.get("created_at", ""))


def prune(backups_dir: Path, keep: int) -> list[Path]:
    """Delete the oldest backups beyond ``keep``; returns what was deleted."""
    backups = list_backups(backups_dir)
    removed = []
    for info in backups[: max(len(backups) - keep, 0)]:
        info.path.unlink(missing_ok=True)
        info.manifest_path.unlink(missing_ok=True)
        removed.append(info.path)
    return removed


def _database_stem(db: Database) -> str:
    if db.url.path is not None:
        return _safe(db.url.path.stem)
    return _safe(db.url.database or db.dialect)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "db"
