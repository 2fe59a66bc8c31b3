"""The library API: a :class:`Project` is a config, a migrations folder and a database.

Every CLI command is one call here; the CLI only parses arguments and renders results.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from dbshift import sumfile
from dbshift.config import Config, load_config, write_config
from dbshift.dialects import open_database
from dbshift.dialects.base import Database
from dbshift.errors import (
    ChecksumMismatch,
    ConfigError,
    DirtyState,
    MigrationFileError,
    SafetyRefusal,
    UnknownVersionError,
)
from dbshift.history import APPLIED, RUNNING, AppliedMigration, History, LogEntry, current_version, lock_holder
from dbshift.migrations import Migration, discover, order_for_apply, out_of_order, parse_version, write_template
from dbshift.teams.squash_records import INSIDE_HINT, reconcile, refuse_rollback_across

if TYPE_CHECKING:  # the runner and backups load only when something runs
    from dbshift.backup import BackupInfo
    from dbshift.runner import StepResult

#: Asks a person a question: ``confirm(question, accepts_data_loss=False) -> bool``. A question
#: with ``accepts_data_loss=True`` must be answered by a person, never by a standing ``-y``.
Confirm = Callable[..., bool]


@dataclass
class Status:
    """Where the database stands against the migrations folder."""

    url: str
    current_version: int
    applied: list[AppliedMigration]
    pending: list[Migration]
    changed: list[Migration]
    missing_files: list[AppliedMigration]
    dirty: list[AppliedMigration]
    sum_check: sumfile.SumCheck
    #: A killed run's half-done migration that opening the database rolled back (None: nothing was).
    recovered: str | None = None
    #: False when the database is a SQLite file that does not exist yet (``apply`` creates it).
    database_exists: bool = True
    #: Pending migrations older than the newest applied one (a branch merged after a newer one ran).
    out_of_order: list[Migration] = field(default_factory=list)
    #: History rows of migrations a squashed file replaced (accepted: see dbshift.teams.squash_records).
    squashed: list[AppliedMigration] = field(default_factory=list)
    #: Why this database cannot go on: it stopped inside a squash (None: it did not).
    inside_squash: str | None = None

    @property
    def ok(self) -> bool:
        """No changed files, no dirty state, not stopped inside a squash."""
        return not (self.changed or self.dirty or self.inside_squash)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "database": self.url,
            "current_version": self.current_version,
            "applied": [a.as_json() for a in self.applied],
            "pending": [{"version": m.version, "name": m.name, "file": m.file} for m in self.pending],
            "changed": [{"version": m.version, "file": m.file} for m in self.changed],
            "missing_files": [{"version": a.version, "name": a.name} for a in self.missing_files],
            "dirty": [{"version": a.version, "name": a.name} for a in self.dirty],
            "recovered": self.recovered,
            "database_exists": self.database_exists,
            "out_of_order": [{"version": m.version, "file": m.file} for m in self.out_of_order],
            "squashed": [{"version": a.version, "name": a.name} for a in self.squashed],
            "inside_squash": self.inside_squash,
            "sum_file": {
                "exists": self.sum_check.exists,
                "up_to_date": self.sum_check.ok,
                "changed": self.sum_check.changed,
                "not_in_sum": self.sum_check.missing_from_sum,
            },
        }


@dataclass
class RunResult:
    """What an apply or rollback did (or, with dry_run, would do)."""

    steps: list[StepResult] = field(default_factory=list)
    backups: list[BackupInfo] = field(default_factory=list)
    dry_run: bool = False

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "dry_run": self.dry_run,
            "steps": [s.as_json() for s in self.steps],
            "backups": [str(b.path) for b in self.backups],
        }


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
        self._refuse_unsafe_state(status)
        _refuse_out_of_order(status, list(plan), allow_out_of_order or self.config.out_of_order)

    def prepare_rollback(self, db: Database, plan: list[Migration], version: int, force: bool, action: str):
        """What runs before any down: the preflight, the lossy-down refusal (unless ``force``), a backup (returned)."""
        self._preflight(db, True, action)
        self._confirm_lossy_downs(db, plan, force)
        return self._backup(db, f"before-{action}-{plan[0].version}", version, thorough=False)

    def _status(self, migrations: list[Migration], applied: dict[int, AppliedMigration]) -> Status:
        by_version = {m.version: m for m in migrations}
        newest = current_version(applied)  # no migration can be out of order before any is applied
        status = Status(
            url=self.config.require_url().masked(),
            current_version=current_version(applied),
            applied=sorted(applied.values(), key=lambda a: a.version),
            pending=[m for m in migrations if m.version not in applied],
            changed=[
                by_version[v] for v, a in applied.items() if v in by_version and by_version[v].checksum != a.checksum
            ],
            missing_files=[a for v, a in applied.items() if v not in by_version and not a.declared],
            dirty=[a for a in applied.values() if a.status == RUNNING],
            sum_check=sumfile.check(self.config.migrations_dir, migrations),
            out_of_order=out_of_order(migrations, applied) if newest else [],
        )
        reconcile(status, migrations)
        return status

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
                self._refuse_unsafe_state(status)
                plan = self._apply_plan(status, target)
                _refuse_out_of_order(status, plan, allow_out_of_order)
                return RunResult(
                    [StepResult(m, "up", statements=_preview(db, m, "up"), dry_run=True) for m in plan], dry_run=True
                )
            with db.lock(self.config.lock_timeout, lock_holder()):
                history = History(db)
                with db.transaction():
                    history.ensure_tables()
                status = self._status(migrations, history.applied())
                self._refuse_unsafe_state(status)
                plan = self._apply_plan(status, target)
                _refuse_out_of_order(status, plan, allow_out_of_order)
                if plan:
                    from dbshift.lint.gate import refuse_blocking

                    refuse_blocking(self.config, db, plan, force, self.on_event)
                    self._preflight(db, any(m.risky or m.destructive for m in plan), "apply")
                if atomic and not db.transactional_ddl:
                    raise ConfigError(
                        f"--atomic needs transactional DDL, and {db.dialect} commits each DDL statement on its own",
                        hint="apply without --atomic; each migration is then recorded and recoverable on its own",
                    )
                if atomic and any(not m.transaction for m in plan):
                    names = ", ".join(m.file for m in plan if not m.transaction)
                    raise ConfigError(f"--atomic cannot include no-transaction migrations: {names}")
                return self._run_apply(db, history, plan, status.current_version, atomic)

    def apply_schema(self, schema: str | None = None, save: str | None = None, force: bool = False, **options):
        """Draft the live database -> ``schema`` (default schema.sql) and apply it as one migration,
        recorded in the history (``save``: also written as a migration file); see
        :mod:`dbshift.drafting.declarative`. Destructive changes need ``force``."""
        from dbshift.drafting.declarative import apply_schema

        return apply_schema(self, schema or "schema.sql", save=save, force=force, **options)

    def _run_apply(
        self, db: Database, history: History, plan: list[Migration], version: int, atomic: bool
    ) -> RunResult:
        from dbshift.runner import Runner
        from dbshift.safety.records import Recorder

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
        from dbshift.runner import Runner, StepResult

        with self.connect(readonly=dry_run) as db:
            if dry_run:
                status = self._status(migrations, History(db).applied())
                plan = self._rollback_plan(db, status, migrations, steps, target)
                return RunResult(
                    [StepResult(m, "down", statements=_preview(db, m, "down"), dry_run=True) for m in plan],
                    dry_run=True,
                )
            with db.lock(self.config.lock_timeout, lock_holder()):
                history = History(db)
                status = self._status(migrations, history.applied())
                self._refuse_unsafe_state(status)
                plan = self._rollback_plan(db, status, migrations, steps, target)
                if not plan:
                    return RunResult()
                backup = self.prepare_rollback(db, plan, status.current_version, force, "rollback")
                steps_done = Runner(db, history, self.on_event).rollback(plan, str(backup.path))
                return RunResult(steps_done, [backup])

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
        self._require_database()
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

        self._require_database()
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
        self._require_database()
        with self.connect(readonly=True) as db:
            status = self._status(migrations, History(db).applied())
            self._refuse_unsafe_state(status)
            return rehearse(db, self._apply_plan(status, None), self.config.root / "checks")

    def observe(self, settings=None):
        """Apply the pending migrations to a copy, watching each statement: (observed, findings)."""
        from dbshift.lint.observe import observe_pending

        self._require_database()
        with self.connect(readonly=True) as db:
            status = self._status(self.migrations(), History(db).applied())
            self._refuse_unsafe_state(status)
            return observe_pending(db, self._apply_plan(status, None), settings)

    def rollback_plan(self, to: str | int | None = None):
        """The written plan for reverting applied migrations above ``to`` (default: all), newest first."""
        from dbshift.safety.plan import build_plan

        migrations = self.migrations()
        target = self._target_version(to, migrations, allow_applied_only=True) if to is not None else 0
        self._require_database()
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
                _by_version(migrations, applied),
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
        self._require_database()
        with self.connect(readonly=True) as db:
            history = History(db)
            by_version = _by_version(self.migrations(), history.applied().values())
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

    def _preflight(self, db: Database, with_backup: bool, action: str) -> None:
        from dbshift.safety.preflight import require_preflight

        require_preflight(db, self.config.backups_dir, with_backup, action)

    def _require_database(self) -> None:
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

    @staticmethod
    def _refuse_unsafe_state(status: Status) -> None:
        if status.inside_squash:
            raise SafetyRefusal(status.inside_squash, hint=INSIDE_HINT)
        if status.dirty:
            names = ", ".join(f"{a.version}_{a.name}" for a in status.dirty)
            raise DirtyState(
                f"migration {names} was left half-applied (dirty)",
                hint="check the database, then `dbshift repair --dirty applied` or `--dirty pending`",
            )
        if status.changed:
            names = ", ".join(str(m.path) for m in status.changed)
            raise ChecksumMismatch(
                f"applied migration changed since it was applied: {names}",
                hint="restore the file from version control, or accept the edit with `dbshift repair`",
            )

    @staticmethod
    def _apply_plan(status: Status, target: int | None) -> list[Migration]:
        pending = [m for m in status.pending if target is None or m.version <= target]
        if any("<TODO:" in m.text for m in pending):  # a template's placeholder left unfilled
            from dbshift.drafting.templates import refuse_unfilled

            refuse_unfilled(pending)
        chosen = {m.version for m in pending}
        applied = {a.version for a in status.applied if a.status == APPLIED}
        for migration in pending:
            for dependency in migration.depends:
                if dependency not in applied and dependency not in chosen:
                    raise MigrationFileError(
                        f"{migration.path}: depends on {dependency}, which is neither applied nor in this run",
                        hint=f"apply up to {dependency} too (drop --to, or raise it)",
                    )
        return order_for_apply(pending)

    @staticmethod
    def _rollback_plan(db, status: Status, migrations, steps: int | None, target: int | None) -> list[Migration]:
        """Applied migrations to revert, in reverse apply order (dependents before what they need)."""
        by_version = _by_version(migrations, status.applied)
        applied = [a for a in status.applied if a.status == APPLIED]
        newest_first = list(
            reversed(order_for_apply([by_version[a.version] for a in applied if a.version in by_version]))
        )
        if target is not None:
            plan = [m for m in newest_first if m.version > target]
        else:
            count = 1 if steps is None else steps
            if count < 0:
                raise ConfigError("--steps must be 0 or more", hint="steps=1 reverts the newest migration")
            plan = newest_first[:count]
        refuse_rollback_across(migrations, status, plan)
        lowest = min((m.version for m in plan), default=None)
        missing = [
            a
            for a in applied
            if a.version not in by_version
            and lowest is not None
            and a.version > min(lowest, target if target is not None else lowest)
        ]
        if missing:
            raise SafetyRefusal(
                f"cannot roll back {missing[0].version}_{missing[0].name}: its migration file is gone",
                hint="restore the file from version control, or restore a backup instead",
            )
        no_down = [m for m in plan if not m.has_down]
        if no_down:
            raise SafetyRefusal(
                f"{no_down[0].path} has no down section, so it cannot be rolled back",
                hint="write its `-- migrate:down`, or restore a backup taken before it",
            )
        chosen = {m.version for m in plan}
        for migration in newest_first:
            blocking = set(migration.depends) & chosen
            if migration.version not in chosen and blocking:
                raise SafetyRefusal(
                    f"{migration.path} depends on {min(blocking)}, which this rollback would revert",
                    hint="roll back further (it too), or keep that migration",
                )
        return plan

    def _confirm_lossy_downs(self, db: Database, plan: list[Migration], force: bool) -> None:
        """Refuse downs that may lose data unless ``force``, or a person types yes when asked.

        The question is asked with ``accepts_data_loss=True``: ``-y`` answers ordinary questions,
        never this one; only ``--force`` (or a typed yes on a terminal) accepts losing data.
        """
        from dbshift.safety.plan import LOSSY, lossy_downs, lost_values_note

        if force:
            return
        applied = History(db).applied()
        counted = [note for m in plan if (note := lost_values_note(applied.get(m.version)))]
        question = f"Rolling back: {'; '.join(counted)}. A backup is taken first."
        if counted and not (self.confirm is not None and self.confirm(question, accepts_data_loss=True)):
            # values the up's loss checks counted: -y does not accept losing them
            raise SafetyRefusal(
                f"refusing a lossy rollback: {'; '.join(counted)}",
                hint="pass --force to roll back anyway (a backup is taken first), "
                "or `dbshift restore` a backup taken before the migration",
            )
        lossy = lossy_downs(db, plan)
        if not lossy:
            return
        first = lossy[0]
        what = first.reason if first.verdict == LOSSY else f"may lose data: {first.reason}"
        others = ", ".join(step.label for step in lossy[1:])
        question = (
            f"The down of {first.label} {what}."
            + (f" So may the down of {others}." if others else "")
            + " A backup is taken first."
        )
        if self.confirm is not None and self.confirm(question, accepts_data_loss=True):
            return
        raise SafetyRefusal(
            f"refusing a lossy rollback: the down of {first.label} {what}"
            + (f" (and {len(lossy) - 1} more)" if len(lossy) > 1 else ""),
            hint="see `dbshift rollback-plan`; pass --force to run it (a backup is taken first); -y does not accept losing data",
        )


def _by_version(migrations: list[Migration], applied) -> dict[int, Migration]:
    """Migrations by version: the files, and the stored text of ``apply --schema`` rows without one."""
    by_version = {m.version: m for m in migrations}
    if any(a.declared for a in applied):
        from dbshift.drafting.declarative import declared_migrations

        by_version.update({m.version: m for m in declared_migrations({a.version: a for a in applied}, migrations)})
    return by_version


def _refuse_out_of_order(status: Status, plan: list[Migration], allowed: bool) -> None:
    """Refuse to apply a migration older than the newest applied one, unless the user allows it."""
    late = [m for m in status.out_of_order if m in plan]
    if late and not allowed:
        others = f" (and {len(late) - 1} more)" if len(late) > 1 else ""
        raise SafetyRefusal(
            f"{late[0].file} is older than the newest applied migration {status.current_version}{others}: "
            "it would run out of order",
            hint="check it does not conflict with the newer ones, then pass --allow-out-of-order "
            "(or set out_of_order = true under [migrations] in dbshift.toml)",
        )


def _preview(db: Database, migration: Migration, direction: str):
    from dbshift.dialects.base import Statement
    from dbshift.runner import statements_of

    if migration.kind == "py":
        return [
            Statement(
                f"-- Python migration {migration.file}: {direction}(ctx) runs code; its SQL is known when it runs", 0
            )
        ]
    return statements_of(db, migration, direction)
