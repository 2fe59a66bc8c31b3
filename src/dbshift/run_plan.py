"""Which migrations an apply or a rollback runs, in which order, and what refuses them first.

:class:`dbshift.project.Project` calls these under its lock; ``sync``, ``squash`` and ``apply
--schema`` reuse them, so every path refuses the same states with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from dbshift.dialects.base import Database
from dbshift.errors import ChecksumMismatch, ConfigError, DirtyState, MigrationFileError, SafetyRefusal
from dbshift.history import APPLIED, History
from dbshift.migrations import Migration, order_for_apply
from dbshift.status import Status
from dbshift.teams.squash_records import INSIDE_HINT, refuse_rollback_across

if TYPE_CHECKING:  # the runner and backups load only when something runs
    from dbshift.backup import BackupInfo
    from dbshift.runner import StepResult

#: Asks a person a question: ``confirm(question, accepts_data_loss=False) -> bool``. A question
#: with ``accepts_data_loss=True`` must be answered by a person, never by a standing ``-y``.
Confirm = Callable[..., bool]


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


def refuse_unsafe_state(status: Status) -> None:
    """Refuse to go on from a database stopped inside a squash, left dirty, or whose applied files changed."""
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


def apply_plan(status: Status, target: int | None) -> list[Migration]:
    """Pending migrations up to ``target`` in apply order; refuses unfilled templates and unmet dependencies."""
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


def rollback_plan(status: Status, migrations, steps: int | None, target: int | None) -> list[Migration]:
    """Applied migrations to revert, in reverse apply order (dependents before what they need)."""
    by_version = with_declared(migrations, status.applied)
    applied = [a for a in status.applied if a.status == APPLIED]
    newest_first = list(reversed(order_for_apply([by_version[a.version] for a in applied if a.version in by_version])))
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


def confirm_lossy_downs(db: Database, plan: list[Migration], force: bool, confirm: Confirm | None) -> None:
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
    if counted and not (confirm is not None and confirm(question, accepts_data_loss=True)):
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
    if confirm is not None and confirm(question, accepts_data_loss=True):
        return
    raise SafetyRefusal(
        f"refusing a lossy rollback: the down of {first.label} {what}"
        + (f" (and {len(lossy) - 1} more)" if len(lossy) > 1 else ""),
        hint="see `dbshift rollback-plan`; pass --force to run it (a backup is taken first); -y does not accept losing data",
    )


def with_declared(migrations: list[Migration], applied) -> dict[int, Migration]:
    """Migrations by version: the files, and the stored text of ``apply --schema`` rows without one."""
    by_version = {m.version: m for m in migrations}
    if any(a.declared for a in applied):
        from dbshift.drafting.declarative import declared_migrations

        by_version.update({m.version: m for m in declared_migrations({a.version: a for a in applied}, migrations)})
    return by_version


def refuse_out_of_order(status: Status, plan: list[Migration], allowed: bool) -> None:
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


def preview(db: Database, migration: Migration, direction: str):
    """The statements a dry run shows for ``migration`` in ``direction`` (a Python migration's are known only when it runs)."""
    from dbshift.dialects.base import Statement
    from dbshift.runner import statements_of

    if migration.kind == "py":
        return [
            Statement(
                f"-- Python migration {migration.file}: {direction}(ctx) runs code; its SQL is known when it runs", 0
            )
        ]
    return statements_of(db, migration, direction)
