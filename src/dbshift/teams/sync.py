"""``dbshift sync``: after a branch switch, roll back what the other branch applied, then apply ours.

Each apply keeps the applied file's text in the history, so a migration whose file is not in
this checkout can still be rolled back with its own down. Every rule of ``rollback`` holds:
a lock, lint's refusal of a down that locks a big table, the pre-flight checks, a backup first,
and lossy downs only with ``--force`` (:meth:`dbshift.project.Project.run_rollback`); the apply
that follows is plain ``apply`` (its ``--force`` is sync's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbshift.errors import SafetyRefusal
from dbshift.history import APPLIED
from dbshift.migrations import Migration, parse_migration


@dataclass
class SyncResult:
    """What sync rolled back (the other branch's migrations) and applied (this checkout's)."""

    reverted: list = field(default_factory=list)
    applied: list = field(default_factory=list)
    backups: list = field(default_factory=list)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "reverted": [s.as_json() for s in self.reverted],
            "applied": [s.as_json() for s in self.applied],
            "backups": [str(b.path) for b in self.backups],
        }


def foreign_migrations(status) -> list:
    """Applied history rows whose file is not in this checkout, newest first."""
    return sorted((a for a in status.missing_files if a.status == APPLIED), key=lambda a: a.version, reverse=True)


def stored_migration(row) -> Migration:
    """The migration a history row stored when it was applied; a clear refusal when it stored none."""
    if not row.stored_down or not row.stored_down.get("text"):
        raise SafetyRefusal(
            f"{row.version}_{row.name} is applied but not in this checkout, and its down was not stored "
            "(it was applied before dbshift kept downs in the history)",
            hint="check out the branch that has its file and roll it back there, or `dbshift restore` a backup "
            "taken before it (`dbshift backups` lists them)",
        )
    file = row.stored_down.get("file") or f"{row.version}_{row.name}.sql"
    migration = parse_migration(file, row.stored_down["text"].encode("utf-8"), Path(f"history:{file}"))
    if not migration.has_down:
        raise SafetyRefusal(
            f"{row.version}_{row.name} is applied but not in this checkout, and it has no down",
            hint="`dbshift restore` a backup taken before it (`dbshift backups` lists them)",
        )
    return migration


def sync(project, force: bool = False, allow_out_of_order: bool = False) -> SyncResult:
    """Roll back the applied migrations this checkout does not have (newest first), then apply its pending ones."""
    result = SyncResult()
    migrations = project.migrations()
    with project.locked(migrations) as (db, history, status):
        foreign = foreign_migrations(status)
        plan = [stored_migration(row) for row in foreign]
        _refuse_out_of_order_after(project, migrations, history.applied(), foreign, allow_out_of_order)
        reverted = project.run_rollback(db, history, plan, status.current_version, force, "sync")
        result.reverted, result.backups = reverted.steps, reverted.backups
    applied = project.apply(allow_out_of_order=allow_out_of_order, force=force)
    result.applied, result.backups = applied.steps, result.backups + applied.backups
    return result


def _refuse_out_of_order_after(project, migrations, applied: dict, foreign: list, allowed: bool) -> None:
    """Refuse before rolling anything back when the apply that follows would be refused."""
    from dbshift.migrations import out_of_order

    remaining = {v: a for v, a in applied.items() if v not in {f.version for f in foreign}}
    project.refuse_unsafe(project.status_of(migrations, remaining), out_of_order(migrations, remaining), allowed)
