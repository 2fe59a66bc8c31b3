"""The library API: a :class:`Project` is a config, a migrations folder and a database.

Every CLI command is one call here; the CLI only parses arguments and renders results.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from dbshift import sumfile
from dbshift.config import Config, load_config, write_config
from dbshift.dialects import open_database
from dbshift.dialects.base import Database
from dbshift.errors import (
    ConfigError,
    UnknownVersionError,
)
from dbshift.history import APPLIED, AppliedMigration, History, LogEntry, current_version, lock_holder
from dbshift.migrations import Migration, discover, parse_version, write_template
from dbshift.run_plan import (
    Confirm,
    RunResult,
    apply_plan,
    confirm_lossy_downs,
    preview,
    refuse_out_of_order,
    refuse_unsafe_state,
    rollback_plan,
    with_declared,
)
from dbshift.status import Status, status_of

if TYPE_CHECKING:  # backups load only when something runs
    from dbshift.backup import BackupInfo

__all__ = ["Confirm", "Project", "RunResult", "Status"]


class Project:
    """A dbshift project: ``dbshift.toml``, its migrations folder and its database."""

    def __init__(
        self,
        root: Path | str | None = None,
        db: str | None = None,
        env: str | None = None,
        lock_timeout: float | None = None,
        on_event: Callable[..., None] | None = None,
        confirm: Confirm | None = None,
    ):
        self.config: Config = load_config(root, db=db, env=env)
        if lock_timeout is not None:
            self.config.lock_timeout = lock_timeout
        self.on_event = on_event or (lambda *args, **kwargs: None)
        self.confirm = confirm

    # -- set-up ---------------------------------------------------------------------------
    @staticmethod
    def init(root: Path | str = ".", url: str = "sqlite:///app.db") -> "Project":
        """Write ``dbshift.toml`` and an empty ``migrations/`` in ``root``."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        from dbshift.urls import parse_url

        parse_url(url, root)  # refuse a bad URL before writing anything
        write_config(root, url)
        project = Project(root)
        project.config.migrations_dir.mkdir(parents=True, exist_ok=True)
        sumfile.write(project.config.migrations_dir, [])
        return project

    def migrations(self) -> list[Migration]:
        """Every migration file, parsed and checked, in version order."""
        return discover(self.config.migrations_dir)

    def new(self, name: str, python: bool = False, template: str | None = None, values: dict | None = None) -> Path:
        """Write a migration from the template and update ``dbshift.sum``; ``template`` (add-column,
        rename-column, add-index, create-table, backfill) fills in a common operation for the
        project's dialect with ``values`` (table, column, type, to, index, key, value)."""
        if template is not None:
            from dbshift.drafting.templates import write_from_template

            dialect = self.config.require_url().dialect
            path = write_from_template(self.config.migrations_dir, name, template, dialect, values or {})
            self.hash()
            return path
        path = write_template(self.config.migrations_dir, name, python=python)
        self.hash()
        return path

    def hash(self) -> Path:
        """Rewrite ``dbshift.sum`` from the files as they are now."""
        return sumfile.write(self.config.migrations_dir, self.migrations())

    @contextlib.contextmanager
    def connect(self, readonly: bool = False) -> Iterator[Database]:
        """An open connection to the project's database (``readonly``: for reading only)."""
        db = open_database(
            self.config.require_url(),
            busy_timeout=self.config.lock_timeout,
            readonly=readonly,
            on_wait=lambda message: self.on_event("waiting", message=message),
        )
        try:
            if db.recovered:
                self._log_recovery(db.recovered)
            yield db
        finally:
            db.close()

    def _log_recovery(self, what: str) -> None:
        """Note in ``dbshift_log`` that opening the database rolled back a killed run's changes."""
        self.on_event("recovered", message=what)
        try:
            db = open_database(self.config.require_url(), busy_timeout=self.config.lock_timeout)
        except Exception:  # the log is best effort: the rollback itself is what mattered
            return
        try:
            history = History(db)
            if history.has_log():
                with db.transaction():
                    history.log("recovered", detail=what)
        except Exception:
            pass
        finally:
            db.close()

    # -- reading --------------------------------------------------------------------------
    def status(self) -> Status:
        """Current version, applied, pending, changed files and dirty state."""
        migrations = self.migrations()
        with self.connect(readonly=True) as db:
            applied = History(db).applied()
            recovered = db.recovered
        status = self._status(migrations, applied)
        status.recovered = recovered
        path = self.config.require_url().path
        status.database_exists = path is None or path.exists()
        return status

    def status_of(self, migrations: list[Migration], applied: dict[int, AppliedMigration]) -> Status:
        """The status of ``migrations`` against ``applied`` (history rows), without connecting."""
        return self._status(migrations, applied)

    def refuse_unsafe(self, status: Status, plan: list[Migration] = (), allow_out_of_order: bool = False) -> None:
        """Refuse a dirty or edited history, and a ``plan`` that runs out of order unless it is allowed."""
        refuse_unsafe_state(status)
        refuse_out_of_order(status, list(plan), allow_out_of_order or self.config.out_of_order)

    @contextlib.contextmanager
    def locked(self, migrations: list[Migration]) -> Iterator[tuple[Database, History, Status]]:
        """The database under the migration lock, its history (tables made) and its status against
        ``migrations``; a dirty or edited history is refused before the caller runs anything."""
        with self.connect() as db, db.lock(self.config.lock_timeout, lock_holder()):
            history = History(db)
            with db.transaction():
                history.ensure_tables()
            status = self._status(migrations, history.applied())
            refuse_unsafe_state(status)
            yield db, history, status

    def run_rollback(
        self, db: Database, history: History, plan: list[Migration], version: int, force: bool, action: str
    ) -> RunResult:
        """Run the downs of ``plan`` (newest first) under the lock the caller holds, after lint's
        refusal of a down that would lock a big table (:mod:`dbshift.lint.gate`), the pre-flight,
        the lossy-down refusal (all unless ``force``) and a backup.

        Every rollback on the live database comes here (``rollback``, ``sync``), so none skips them."""
        from dbshift.lint.gate import refuse_blocking
        from dbshift.runner import Runner

        if not plan:
            return RunResult()
        refuse_blocking(self.config, db, plan, force, self.on_event, direction="down")
        self.require_preflight(db, True, action)
        confirm_lossy_downs(db, plan, force, self.confirm)
        backup = self._backup(db, f"before-{action}-{plan[0].version}", version, thorough=False)
        return RunResult(Runner(db, history, self.on_event).rollback(plan, str(backup.path)), [backup])

    def _status(self, migrations: list[Migration], applied: dict[int, AppliedMigration]) -> Status:
        return status_of(self.config.require_url().masked(), self.config.migrations_dir, migrations, applied)

    def history(self, limit: int = 200) -> tuple[list[AppliedMigration], list[LogEntry]]:
        """Applied migrations and the newest ``limit`` log entries."""
        with self.connect(readonly=True) as db:
            history = History(db)
            return sorted(history.applied().values(), key=lambda a: a.version), history.log_entries(limit)

    # -- changing -------------------------------------------------------------------------
    def apply(
        self,
        to: str | int | None = None,
        dry_run: bool = False,
        atomic: bool = False,
        allow_out_of_order: bool = False,
        force: bool = False,
    ) -> RunResult:
        """Apply pending migrations (up to version ``to``), each in its own transaction.

        A pending migration older than the newest applied one is refused unless
        ``allow_out_of_order`` (or ``out_of_order = true`` in dbshift.toml); error-level lint
        findings that block (:mod:`dbshift.lint.gate`) are refused unless ``force``.
        """
        allow_out_of_order = allow_out_of_order or self.config.out_of_order
        migrations = self.migrations()
        target = self._target_version(to, migrations)
        from dbshift.runner import StepResult

        with self.connect(readonly=dry_run) as db:
            if dry_run:
                status = self._status(migrations, History(db).applied())
                refuse_unsafe_state(status)
                plan = apply_plan(status, target)
                refuse_out_of_order(status, plan, allow_out_of_order)
                return RunResult(
                    [StepResult(m, "up", statements=preview(db, m, "up"), dry_run=True) for m in plan], dry_run=True
                )
            with db.lock(self.config.lock_timeout, lock_holder()):
                history = History(db)
                with db.transaction():
                    history.ensure_tables()
                status = self._status(migrations, history.applied())
                refuse_unsafe_state(status)
                plan = apply_plan(status, target)
                refuse_out_of_order(status, plan, allow_out_of_order)
                if atomic and not db.transactional_ddl:
                    raise ConfigError(
                        f"--atomic needs transactional DDL, and {db.dialect} commits each DDL statement on its own",
                        hint="apply without --atomic; each migration is then recorded and recoverable on its own",
                    )
                if atomic and any(not m.transaction for m in plan):
                    names = ", ".join(m.file for m in plan if not m.transaction)
                    raise ConfigError(f"--atomic cannot include no-transaction migrations: {names}")
                return self.run_apply(db, history, plan, status.current_version, atomic, force=force)

    def apply_schema(self, schema: str | None = None, save: str | None = None, force: bool = False, **options):
        """Draft the live database -> ``schema`` (default schema.sql) and apply it as one migration,
        recorded in the history (``save``: also written as a migration file); see
        :mod:`dbshift.drafting.declarative`. Destructive changes need ``force``."""
        from dbshift.drafting.declarative import apply_schema

        return apply_schema(self, schema or "schema.sql", save=save, force=force, **options)

    def run_apply(
        self, db: Database, history: History, plan: list[Migration], version: int, atomic: bool, force: bool = False
    ) -> RunResult:
        """Run ``plan`` under the lock the caller holds: lint's refusal of what would lock a big
        table (:mod:`dbshift.lint.gate`, unless ``force``) and the pre-flight first, then each
        migration in its own transaction (or all in one when ``atomic``), a backup before each risky one.

        Every apply of migrations to the live database comes here (``apply``, ``apply --schema``,
        ``sync``), so none skips the refusals."""
        from dbshift.lint.gate import refuse_blocking
        from dbshift.runner import Runner
        from dbshift.safety.records import Recorder

        if not plan:
            return RunResult()
        refuse_blocking(self.config, db, plan, force, self.on_event)
        self.require_preflight(db, any(m.risky or m.destructive for m in plan), "apply")
        runner = Runner(db, history, self.on_event, recorder=Recorder())
        result = RunResult()
        if atomic:
            backup = self._backup_if_risky(db, plan, version, result)
            result.steps = runner.apply_atomically(plan, backup)
            return result
        for migration in plan:
            backup = self._backup_if_risky(db, [migration], version, result)
            result.steps.append(runner.apply_one(migration, backup))
            version = max(version, migration.version)
        return result

    def _backup_if_risky(self, db: Database, plan: list[Migration], version: int, result: RunResult) -> str | None:
        """Back up before a plan that holds a risky or destructive migration; the backup's path."""
        if not any(m.risky or m.destructive for m in plan):
            return None
        info = self._backup(db, f"before-{plan[0].version}", version, thorough=False)
        result.backups.append(info)
        return str(info.path)

    def rollback(
        self,
        steps: int | None = None,
        to: str | int | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> RunResult:
        """Run downs newest first: ``steps`` migrations (default 1) or all above version ``to``."""
        if steps is not None and to is not None:
            raise ConfigError("give either --steps or --to, not both")
        migrations = self.migrations()
        target = self._target_version(to, migrations, allow_applied_only=True) if to is not None else None
        from dbshift.runner import StepResult

        with self.connect(readonly=dry_run) as db:
            if dry_run:
                status = self._status(migrations, History(db).applied())
                plan = rollback_plan(status, migrations, steps, target)
                return RunResult(
                    [StepResult(m, "down", statements=preview(db, m, "down"), dry_run=True) for m in plan],
                    dry_run=True,
                )
            with db.lock(self.config.lock_timeout, lock_holder()):
                history = History(db)
                status = self._status(migrations, history.applied())
                refuse_unsafe_state(status)
                plan = rollback_plan(status, migrations, steps, target)
                return self.run_rollback(db, history, plan, status.current_version, force, "rollback")

    def repair(self, dirty: str | None = None) -> list[str]:
        """Accept changed files on purpose; resolve dirty migrations as ``applied`` or ``pending``."""
        migrations = self.migrations()
        by_version = {m.version: m for m in migrations}
        actions: list[str] = []
        with self.connect() as db, db.lock(self.config.lock_timeout, lock_holder()):
            history = History(db)
            with db.transaction():
                history.ensure_tables()
            status = self._status(migrations, history.applied())
            if status.dirty and dirty not in ("applied", "pending"):
                names = ", ".join(f"{a.version}_{a.name}" for a in status.dirty)
                raise ConfigError(
                    f"dirty migration(s) {names}: say how to resolve them",
                    hint="check the database, then `dbshift repair --dirty applied` (it did run) or `--dirty pending` (it did not)",
                )
            recorded = {a.version: a for a in status.applied}
            with db.transaction():
                for migration in status.changed:
                    old = recorded[migration.version].checksum
                    history.set_checksum(migration.version, migration.checksum)
                    history.store_down(migration.version, migration.file, migration.text)
                    history.log(
                        "repair",
                        migration.version,
                        migration.name,
                        detail=f"checksum {old[:12]} -> {migration.checksum[:12]}",
                    )
                    actions.append(f"accepted the edited file {migration.file}")
                for row in status.dirty:
                    if dirty == "applied":
                        checksum = by_version[row.version].checksum if row.version in by_version else row.checksum
                        history.record(row.version, row.name, checksum, APPLIED, row.duration_ms, row.backup)
                        if row.version in by_version:
                            history.store_down(row.version, by_version[row.version].file, by_version[row.version].text)
                    else:
                        history.remove(row.version)
                    history.log("repair", row.version, row.name, detail=f"dirty -> {dirty}")
                    actions.append(f"marked {row.version}_{row.name} as {dirty}")
        self.hash()
        return actions

    # -- safety net (dbshift.safety, dbshift.backup) -----------------------------------------
    def backup(self, out: Path | str | None = None, csv_tables: list[str] | None = None) -> BackupInfo:
        """A verified backup with its manifest (``out``: where; default the backups folder)."""
        self.require_database()
        with self.connect(readonly=True) as db:
            version = self._current_version(db)
            return self._backup(db, "manual", version, csv_tables=csv_tables, path=Path(out) if out else None)

    def backups(self) -> list[BackupInfo]:
        """The backups in the backups folder, oldest first."""
        from dbshift.backup import list_backups

        return list_backups(self.config.backups_dir)

    def restore(self, path: Path | str, force: bool = False, expect_version: int | None = None):
        """Replace the database with a checked backup; the current one is kept as a backup first."""
        from dbshift.backup import restore_backup

        with self.connect() as db, db.lock(self.config.lock_timeout, lock_holder()):
            try:
                current = self._current_version(db)
            except Exception:  # a damaged database is what restores are for
                current = None
            result = restore_backup(db, Path(path), self.config.backups_dir, current, expect_version, force)
            history = History(db)
            with db.transaction():
                history.ensure_tables()
                kept = f"; the replaced database is kept at {result.safety_backup.path}" if result.safety_backup else ""
                history.log("restore", result.schema_version, None, detail=f"from {result.restored_from}{kept}")
            return result

    def verify(self, against: Path | str | None = None):
        """Integrity, foreign keys and per-table fingerprints (compared with backup ``against``)."""
        from dbshift.safety.verify import verify

        self.require_database()
        try:
            return verify(
                lambda: self.connect(readonly=True),
                Path(against) if against else None,
                progress=lambda message: self.on_event("progress", message=message),
            )
        finally:
            self.on_event("progress-done")

    def rehearse(self):
        """Apply the pending migrations to a copy, check it, roll back and compare with the original."""
        from dbshift.safety.rehearse import rehearse

        migrations = self.migrations()
        self.require_database()
        with self.connect(readonly=True) as db:
            status = self._status(migrations, History(db).applied())
            refuse_unsafe_state(status)
            return rehearse(db, apply_plan(status, None), self.config.root / "checks")

    def observe(self, settings=None):
        """Apply the pending migrations to a copy, watching each statement: (observed, findings)."""
        from dbshift.lint.observe import observe_pending

        self.require_database()
        with self.connect(readonly=True) as db:
            status = self._status(self.migrations(), History(db).applied())
            refuse_unsafe_state(status)
            return observe_pending(db, apply_plan(status, None), settings)

    def rollback_plan(self, to: str | int | None = None):
        """The written plan for reverting applied migrations above ``to`` (default: all), newest first."""
        from dbshift.safety.plan import build_plan

        migrations = self.migrations()
        target = self._target_version(to, migrations, allow_applied_only=True) if to is not None else 0
        self.require_database()
        with self.connect(readonly=True) as db:
            applied = sorted(
                (a for a in History(db).applied().values() if a.status == APPLIED),
                key=lambda a: a.version,
                reverse=True,
            )
            return build_plan(
                db,
                self.config.require_url().masked(),
                applied,
                with_declared(migrations, applied),
                self.backups(),
                target,
            )

    def report(self, version: str | int) -> str:
        """The migration record of an applied version, as Markdown."""
        from dbshift.safety.records import render_report

        return render_report(*self._report_parts(version))

    def report_json(self, version: str | int) -> dict:
        """The migration record of an applied version as a JSON-friendly dict (its Markdown included)."""
        from dbshift.safety.records import render_report

        row, migration, log, step = self._report_parts(version)
        return {
            "applied": row.as_json(),
            "file": migration.file if migration else None,
            "file_changed": bool(migration and migration.checksum != row.checksum),
            "log": [e.as_json() for e in log],
            "rollback": step.as_json(),
            "markdown": render_report(row, migration, log, step),
        }

    def _report_parts(self, version: str | int):
        from dbshift.safety.plan import analyse_down, choose_backup

        wanted = parse_version(str(version)) if not isinstance(version, int) else version
        self.require_database()
        with self.connect(readonly=True) as db:
            history = History(db)
            by_version = with_declared(self.migrations(), history.applied().values())
            row = history.applied().get(wanted)
            if row is None:
                raise UnknownVersionError(
                    f"version {version} is not applied", hint="`dbshift history` lists applied versions"
                )
            log = [e for e in history.log_entries(10_000) if e.version == wanted]
            step = analyse_down(db, by_version.get(wanted), row)
            step.restore_instead = (
                choose_backup(row, self.backups()) if step.verdict not in ("lossless", "rebuild") else None
            )
            return row, by_version.get(wanted), log, step

    def preflight(self, with_backup: bool = True):
        """The checks apply and rollback run first, as a list (for ``--json`` and tests)."""
        from dbshift.safety.preflight import run_preflight

        with self.connect(readonly=True) as db:
            return run_preflight(db, self.config.backups_dir, with_backup)

    def require_preflight(self, db: Database, with_backup: bool, action: str) -> None:
        """Refuse ``action`` when a pre-flight check fails (a backup must be possible when ``with_backup``)."""
        from dbshift.safety.preflight import require_preflight

        require_preflight(db, self.config.backups_dir, with_backup, action)

    def require_database(self) -> None:
        """Refuse when the configured SQLite file does not exist (reading commands never create it)."""
        url = self.config.require_url()
        if url.path is not None and not url.path.exists():
            raise ConfigError(
                f"no database file at {url.path}", hint="check --db / dbshift.toml, or run `dbshift apply` first"
            )

    @staticmethod
    def _current_version(db: Database) -> int:
        return current_version(History(db).applied())

    # -- drafting (dbshift.schema) ------------------------------------------------------------
    def inspect(self, source: str | None = None):
        """The :class:`Schema` of ``source``: ``db`` (default), ``migrations``, a .sql file or a URL."""
        from dbshift.drafting.draft import load_source

        return load_source(self, source, "db")[1]

    def diff(
        self,
        source: str | None = None,
        target: str | None = None,
        name: str | None = None,
        version: int | None = None,
        **options,
    ):
        """Diff ``source`` (default: migrations end state) against ``target`` (default: schema.sql).

        ``options``: renames, convert, reverse, defaults, maps (lists of option strings) and ``ask``
        (a rename questioner), ``check_rows`` (refuse NOT NULL columns without a value when the live
        table has rows; default on). With ``name`` the file is written and dbshift.sum updated.
        """
        from dbshift.drafting.draft import draft, write_migration

        result = draft(self, source, target, **options)
        if name and not result.empty:
            result.path = write_migration(self.config.migrations_dir, name, result, version=version)
            self.hash()
        return result

    def _backup(self, db: Database, reason: str, version: int, **options) -> BackupInfo:
        from dbshift.backup import create_backup

        self.on_event("backup-start", reason=reason)
        info = create_backup(
            db,
            self.config.backups_dir,
            reason,
            version,
            keep=self.config.keep_backups,
            progress=lambda done, total: self.on_event("backup-progress", done=done, total=total),
            **options,
        )
        self.on_event("backup-done", path=info.path)
        return info

    def _target_version(self, to, migrations: list[Migration], allow_applied_only: bool = False) -> int | None:
        if to is None:
            return None
        version = parse_version(str(to)) if not isinstance(to, int) else to
        if version != 0 and version not in {m.version for m in migrations}:
            if allow_applied_only:
                with self.connect() as db:
                    if version in History(db).applied():
                        return version
            raise UnknownVersionError(
                f"unknown version {to}: no migration has it",
                hint="`dbshift status` lists the versions; 0 means before the first migration",
            )
        return version
