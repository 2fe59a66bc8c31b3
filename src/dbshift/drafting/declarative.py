"""Declarative apply (``dbshift apply --schema schema.sql``): draft the live database -> the schema
and apply the drafted migration in one step, for development loops.

Nothing here is new machinery: the draft is :func:`dbshift.drafting.draft.draft` (the same rename
questions, conversions and NOT NULL checks as ``diff``), the file is what ``diff --name`` writes,
and it runs through the project's own apply path (lock, lint's refusal of a long lock on a big
table, pre-flight, backup of a risky or destructive migration, loss checks, the migration record). What is added is the refusal of
anything destructive without ``--force`` and the bookkeeping: the drafted migration is recorded in
the history with its text (so ``rollback`` runs its down), and with ``--save NAME`` it is also
written to the migrations folder (and ``dbshift.sum``) to be committed.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dbshift.errors import ConfigError, SafetyRefusal

#: The migration name of a declarative apply that is not saved under a name of its own.
DEFAULT_NAME = "schema"


@dataclass
class DeclaredApply:
    """What ``apply --schema`` did: the draft, the migration it ran (None: nothing to change)."""

    draft: object
    migration: object | None = None
    steps: list = field(default_factory=list)
    backups: list = field(default_factory=list)
    saved: Path | None = None
    dry_run: bool = False

    @property
    def empty(self) -> bool:
        """The database already matches the schema."""
        return self.draft.empty

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "schema": self.draft.target,
            "changed": not self.empty,
            "dry_run": self.dry_run,
            "version": self.migration.version if self.migration else None,
            "name": self.migration.name if self.migration else None,
            "saved": str(self.saved) if self.saved else None,
            "up": self.draft.plan.up_sql(),
            "down": self.draft.plan.down_sql(),
            "steps": [s.as_json() for s in self.steps],
            "backups": [str(b.path) for b in self.backups],
        }


def apply_schema(
    project,
    schema: str,
    save: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    **options,
) -> DeclaredApply:
    """Draft the live database -> ``schema`` (a .sql file or ``git:REV:path.sql``) and apply it.

    Refused (exit 3, nothing changed) when file migrations are pending, and, without ``force`` (or
    a person typing yes), when the change is destructive: a drop, a lossy or missing down, values
    the loss checks count; without ``force`` also when lint finds a long lock or rewrite of a big
    table (:mod:`dbshift.lint.gate`, as plain ``apply``). ``options`` are :func:`dbshift.drafting.draft.draft`'s (renames,
    convert, reverse, defaults, maps, ask).
    """
    from dbshift.drafting.draft import draft
    from dbshift.history import History
    from dbshift.migrations import slug

    if save is not None:
        slug(save)  # a name that cannot be a file name is refused before anything is read
    migrations = project.migrations()
    with project.connect(readonly=True) as db:
        applied = History(db).applied()
    _refuse_pending(project, migrations, applied)
    result = DeclaredApply(draft(project, "db", schema, **options), dry_run=dry_run)
    if result.empty:
        return result
    migration = drafted_migration(project, result.draft, save, migrations, applied)
    result.migration = migration
    if dry_run:
        return result
    _refuse_destructive(project, result.draft, force)
    _run(project, result, migrations, set(applied), force)
    return result


def _run(project, result: DeclaredApply, migrations: list, applied_before: set, force: bool) -> None:
    """Apply the drafted migration under the lock, as ``apply`` does; save its file after it ran."""

    migration = result.migration
    with project.locked(migrations) as (db, history, status):
        if {a.version for a in status.applied} != applied_before:
            raise SafetyRefusal(
                "the database changed while the schema was being drafted (another apply or rollback ran)",
                hint="run `dbshift apply --schema` again; nothing was changed",
            )
        _refuse_counted_losses(project, db, migration, force)
        run = project.run_apply(db, history, [migration], status.current_version, atomic=False, force=force)
        result.steps, result.backups = run.steps, run.backups
        if migration.extras.get("save_as") is not None:
            result.saved = _save(project, migration)


def drafted_migration(project, result, save: str | None, migrations: list, applied: dict):
    """The drafted migration as the file ``diff --name`` writes, parsed, with a version after every
    file and every applied one (so ``rollback`` takes it first). Not written anywhere yet."""
    from dbshift.drafting.draft import write_migration
    from dbshift.migrations import _next_second, new_version, parse_migration, slug

    name = slug(save) if save else DEFAULT_NAME
    taken = {m.version for m in migrations} | set(applied)
    version = new_version(taken=taken)
    while taken and version <= max(taken):
        version = _next_second(version)
    with tempfile.TemporaryDirectory(prefix="dbshift-declare-") as folder:
        path = write_migration(Path(folder), name, result, version=version)
        data = path.read_bytes()
    file = path.name
    where = project.config.migrations_dir / file if save else Path("drafted") / file
    migration = parse_migration(file, data, where)
    if save:
        migration.extras["save_as"] = data
    else:
        migration.extras["declared"] = result.target
    return migration


def _save(project, migration) -> Path:
    """Write the applied migration's exact bytes to the migrations folder and update dbshift.sum."""
    path = project.config.migrations_dir / migration.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(migration.extras["save_as"])
    project.hash()
    return path


def _refuse_pending(project, migrations: list, applied: dict) -> None:
    """File migrations not applied yet come first: the schema is drafted against the live database."""
    status = project.status_of(migrations, applied)
    project.refuse_unsafe(status)
    if status.pending:
        names = ", ".join(m.file for m in status.pending[:3]) + (" ..." if len(status.pending) > 3 else "")
        raise SafetyRefusal(
            f"{len(status.pending)} migration file(s) are pending ({names}): apply them before `apply --schema`",
            hint="run `dbshift apply` first, then `dbshift apply --schema` drafts what is left to change",
        )


def _refuse_destructive(project, result, force: bool) -> None:
    """Refuse a plan that loses data or cannot be undone, unless ``force`` or a person types yes."""
    if force:
        return
    plan = result.plan
    reasons = [op.description for op in plan.operations if op.destructive]
    reasons += [f"its down is lossy ({op.lossy_reverse})" for op in plan.operations if op.lossy_reverse]
    reasons += [f"{op.description} cannot be undone" for op in plan.operations if op.reverse is None]
    if not reasons:
        return
    what = "; ".join(dict.fromkeys(reasons))
    if project.confirm is not None and project.confirm(
        f"Applying {result.target} would: {what}. A backup is taken first.", accepts_data_loss=True
    ):
        return
    renames = [c.hint for c in result.diff.unconfirmed]
    hint = "pass --force to apply it anyway (a backup is taken first); -y does not accept losing data"
    if renames:
        hint = f"if it is a rename, say so: {' '.join(renames)}; otherwise {hint}"
    raise SafetyRefusal(f"refusing a destructive change from {result.target}: {what}", hint=hint)


def _refuse_counted_losses(project, db, migration, force: bool) -> None:
    """Run the migration's loss checks (read only) first: values its down would not give back."""
    if force or not migration.loss_checks:
        return
    counts: dict[str, int] = {}
    for number, check in enumerate(migration.loss_checks, 1):
        row = db.execute(check)[0]
        label = str(row[1]) if len(row) > 1 else f"loss check {number}"
        counts[label] = counts.get(label, 0) + int(row[0] or 0)
    lost = [f"{n} value(s) of {label}" for label, n in counts.items() if n]
    if not lost:
        return
    what = ", ".join(lost)
    if project.confirm is not None and project.confirm(
        f"Rolling this change back would not give back {what}.", accepts_data_loss=True
    ):
        return
    raise SafetyRefusal(
        f"refusing a lossy change: rolling it back would not give back {what}",
        hint="pass --force to apply it anyway (a backup is taken first), or change the schema or --reverse",
    )


def declared_migrations(applied: dict, migrations: list) -> list:
    """The migrations of history rows a declarative apply recorded without a file, parsed from the
    text the history keeps (so ``rollback`` runs their downs)."""
    from dbshift.migrations import parse_migration

    files = {m.version for m in migrations}
    found = []
    for version, row in applied.items():
        if row.declared and version not in files:
            file = row.stored_down.get("file") or f"{version}_{row.name}.sql"
            found.append(parse_migration(file, row.stored_down["text"].encode("utf-8"), Path("history") / file))
    return found


def check_options(schema: str | None, save: str | None, force: bool, drafting: dict, **others) -> None:
    """``--save`` and the drafting options need ``--schema`` (``--force`` alone is plain apply's); ``--to``, ``--atomic`` and
    ``--allow-out-of-order`` do not go with it."""
    if schema is None:
        needs = "--save" if save is not None else "--" + next(k for k, v in drafting.items() if v)
        needs = {"--renames": "--rename", "--defaults": "--default", "--maps": "--map"}.get(needs, needs)
        raise ConfigError(
            f"{needs} goes with --schema (a declarative apply); plain `apply` runs the migration files",
            hint="dbshift apply --schema schema.sql [--save NAME] [--force]",
        )
    given = [option for option, value in others.items() if value]
    if given:
        raise ConfigError(
            f"{given[0]} does not go with --schema",
            hint="`apply --schema` applies one drafted migration; apply pending files with plain `dbshift apply` first",
        )
