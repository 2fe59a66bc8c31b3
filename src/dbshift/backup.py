"""Backups: a consistent copy of the database plus a JSON manifest beside it.

The dialect writes the copy (SQLite's online backup API, ``pg_dump``, ``mysqldump``) and
checks it; this module names, verifies, describes and prunes backups.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dbshift import __version__
from dbshift.dialects.base import Database, sha256_file  # noqa: F401 (sha256_file: part of this API)
from dbshift.errors import CheckFailed, ConfigError, SafetyRefusal


@dataclass
class BackupInfo:
    """A backup file and what its manifest says about it."""

    path: Path
    manifest_path: Path
    manifest: dict

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {"path": str(self.path), **self.manifest}


def create_backup(
    db: Database,
    backups_dir: Path,
    reason: str,
    schema_version: int,
    keep: int = 0,
    progress=None,
    csv_tables: list[str] | None = None,
    path: Path | None = None,
    thorough: bool = True,
) -> BackupInfo:
    """Back the database up (into ``backups_dir``, or to ``path``), verify the copy, write its manifest.

    ``csv_tables`` are also exported as CSV files beside the backup. ``thorough=False`` checks the
    copy with the dialect's quicker check (the automatic backups before risky migrations).
    """
    if csv_tables:
        check_tables_exist(db, csv_tables)
    path = path or backup_path_for(db, backups_dir, reason)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise ConfigError(f"{path} already exists", hint="choose another --out path; backups never overwrite")
    db.backup(path, progress=progress)
    os.chmod(path, 0o600)
    digest = FileHash(path)  # hashing runs beside the integrity check (both release the GIL)
    problem = db.verify_backup(path, thorough=thorough)
    if problem:
        raise CheckFailed(f"backup {path} failed its check: {problem}", hint="the database was not changed")
    extra = {"csv": export_tables(db, path, csv_tables)} if csv_tables else {}
    extra["check"] = "full" if thorough else "quick"
    manifest_path, manifest = write_manifest(db, path, reason, schema_version, extra, sha256=digest.result())
    if keep:
        prune(backups_dir, keep)
    return BackupInfo(path, manifest_path, manifest)


def backup_path_for(db: Database, backups_dir: Path, reason: str) -> Path:
    """A new, timestamped file name in ``backups_dir`` for a backup taken for ``reason``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return backups_dir / f"{_database_stem(db)}-{stamp}-{_safe(reason)}{db.backup_suffix}"


class FileHash:
    """The sha256 of a file, computed in a background thread from construction on."""

    def __init__(self, path: Path):
        import threading

        self.path, self.stat = path, path.stat()
        self._value: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dbshift-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = sha256_file(self.path)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc

    def result(self) -> str:
        """Wait for the hash and return it."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value

    def still_matches(self, path: Path) -> bool:
        """Whether ``path`` is still the same unchanged file (inode, size, modification time)."""
        now = path.stat()
        return (now.st_ino, now.st_size, now.st_mtime_ns) == (
            self.stat.st_ino,
            self.stat.st_size,
            self.stat.st_mtime_ns,
        )


def write_manifest(
    db: Database,
    path: Path,
    reason: str,
    schema_version: int | None,
    extra: dict | None = None,
    sha256: str | None = None,
):
    """Write the JSON manifest beside backup ``path`` (mode 0600); returns (its path, its data)."""
    manifest = {
        "database_url": db.url.masked(),
        "dialect": db.dialect,
        "schema_version": schema_version,
        "reason": reason,
        "sha256": sha256 or sha256_file(path),
        "size": path.stat().st_size,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dbshift_version": __version__,
        **db.backup_details(path),
        **(extra or {}),
    }
    manifest_path = path.with_name(path.name + ".json")
    fd = os.open(manifest_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2) + "\n")
    os.chmod(manifest_path, 0o600)
    return manifest_path, manifest


def check_tables_exist(db: Database, tables: list[str]) -> None:
    """Refuse unknown table names before any work starts."""
    known = set(db.user_tables())
    unknown = [t for t in tables if t not in known]
    if unknown:
        raise ConfigError(
            f"no table named {unknown[0]!r} to export",
            hint="tables: " + (", ".join(sorted(known)) or "none"),
        )


def export_tables(db: Database, backup_path: Path, tables: list[str]) -> dict:
    """Export each table to ``<backup>.<table>.csv`` (mode 0600); returns rows and sha256 per table."""
    exported = {}
    for table in tables:
        csv_path = backup_path.with_name(f"{backup_path.name}.{_safe(table)}.csv")
        rows = export_csv(db, table, csv_path)
        exported[table] = {"path": csv_path.name, "rows": rows, "sha256": sha256_file(csv_path)}
    return exported


def export_csv(db: Database, table: str, path: Path, batch: int = 10000) -> int:
    """Write every row of ``table`` to a CSV file with a header line; returns the row count."""
    import csv

    cursor = db.connection.cursor()
    cursor.execute(f"SELECT * FROM {db.quote(table)}")
    count = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([column[0] for column in cursor.description])
        while rows := cursor.fetchmany(batch):
            writer.writerows(rows)
            count += len(rows)
    cursor.close()
    return count


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
        for csv_file in info.path.parent.glob(f"{glob_escape(info.path.name)}.*.csv"):
            csv_file.unlink(missing_ok=True)
        info.path.unlink(missing_ok=True)
        info.manifest_path.unlink(missing_ok=True)
        removed.append(info.path)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    import glob

    return glob.escape(name)


@dataclass
class RestoreResult:
    """What a restore did."""

    restored_from: Path
    schema_version: int | None
    safety_backup: BackupInfo | None
    kept_by: str | None

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "restored_from": str(self.restored_from),
            "schema_version": self.schema_version,
            "safety_backup": str(self.safety_backup.path) if self.safety_backup else None,
            "kept_by": self.kept_by,
        }


def read_manifest(path: Path) -> dict | None:
    """The manifest beside backup ``path``, or None when it is missing or unreadable."""
    manifest_path = path.with_name(path.name + ".json")
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_restorable(path: Path, manifest: dict | None, current: int | None, expected: int | None, force: bool) -> None:
    """Refuse a restore whose backup is missing, has no manifest, or has an unexpected schema version."""
    if not path.is_file():
        raise ConfigError(f"no backup file at {path}", hint="`dbshift backups` lists the backups")
    if manifest is None:
        if not force:
            raise SafetyRefusal(
                f"{path} has no readable manifest ({path.name}.json), so its sha256 cannot be checked",
                hint="restore a backup made by dbshift, or pass --force to rely on the integrity check alone",
            )
        return
    wanted = expected if expected is not None else current
    version = manifest.get("schema_version")
    if force or (wanted is not None and version == wanted):
        return
    if wanted is None:
        raise SafetyRefusal(
            "the current database's schema version cannot be read, so the backup cannot be matched to it",
            hint=f"the backup is at schema version {version}; pass --expect-version {version} or --force",
        )
    raise SafetyRefusal(
        f"the backup is at schema version {version}, not the expected {wanted}",
        hint=f"pass --expect-version {version} if you mean to go back to it (or --force)",
    )


def restore_backup(
    db: Database,
    path: Path,
    backups_dir: Path,
    current: int | None,
    expected: int | None = None,
    force: bool = False,
) -> RestoreResult:
    """Replace the database with backup ``path`` after checking it; the current one is kept first.

    The backup is copied beside the database, its sha256 compared with the manifest's and its
    integrity checked on that copy, and only then renamed over the database.
    """
    manifest = read_manifest(path)
    check_restorable(path, manifest, current, expected, force)

    def vet(copy: Path, sha256: str) -> None:
        if manifest is not None and manifest.get("sha256") != sha256:
            raise CheckFailed(
                f"{path} does not match the sha256 in its manifest: it is damaged or was changed",
                hint="the database was not changed; restore another backup (`dbshift backups`)",
            )
        problem = db.verify_backup(copy)
        if problem:
            raise CheckFailed(
                f"{path} failed the integrity check: {problem}",
                hint="the database was not changed; restore another backup (`dbshift backups`)",
            )

    keep_path = backup_path_for(db, backups_dir, "before-restore")
    # The live file is hashed beside the copy and checks; a hard link keeps exactly that file.
    live = FileHash(db.url.path) if db.url.path is not None and db.url.path.is_file() else None
    facts = db.restore(path, keep_path, vet)
    safety = None
    if keep_path.exists():
        os.chmod(keep_path, 0o600)
        known = live.result() if live is not None and live.still_matches(keep_path) else None
        manifest_path, data = write_manifest(
            db, keep_path, "before-restore", current, {"kept_by": facts.get("kept_by")}, sha256=known
        )
        safety = BackupInfo(keep_path, manifest_path, data)
    return RestoreResult(path, manifest.get("schema_version") if manifest else None, safety, facts.get("kept_by"))


def _database_stem(db: Database) -> str:
    if db.url.path is not None:
        return _safe(db.url.path.stem)
    return _safe(db.url.database or db.dialect)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "db"
