"""``dbshift squash --to V``: replace the migrations up to V with one migration made from their schema.

The migrations up to V are applied to a scratch database of the project's dialect (SQLite in
memory; a temporary database on the PostgreSQL/MariaDB server), the result is inspected and
planned from an empty schema by the drafting code: the up creates it, the down drops it. The new
file takes version V; its header records every replaced file with its checksum (see
:mod:`dbshift.teams.squash_records`), and the replaced files move to ``migrations/squashed/V/``.

A squash is schema only: rows the migrations inserted (seed data) are not carried, and the
squash says which tables had them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from dbshift.errors import ConfigError, MigrationFileError, SafetyRefusal, UnknownVersionError
from dbshift.teams.squash_records import ARCHIVE, squashes

HEADER = """\
-- description: squash of {count} migrations up to {version} (schema only)
-- dbshift squash: this file replaces the migrations listed below; their files are in {archive}/.
-- Databases that ran them keep their history; new databases start from this file.
{records}
"""


@dataclass
class SquashResult:
    """What a squash wrote: the new file, the archived files and the warnings about data."""

    path: Path
    version: int
    archive: Path
    replaced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The squashed file's text; with ``dry_run`` nothing was written or moved.
    text: str = ""
    dry_run: bool = False

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "path": str(self.path),
            "version": self.version,
            "archive": str(self.archive),
            "replaced": self.replaced,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "text": self.text,
        }


def squash(project, to: str | int, dry_run: bool = False) -> SquashResult:
    """Squash the project's migrations up to version ``to`` into one (see the module docstring).

    ``dry_run``: every check and the scratch build run, the result holds the file's text, and
    nothing is written or moved (the migrations folder, ``dbshift.sum`` and the database stay as they are)."""
    from dbshift.migrations import parse_version

    migrations = project.migrations()
    version = to if isinstance(to, int) else parse_version(str(to))
    chosen = _chosen(migrations, version)
    folder = project.config.migrations_dir
    _refuse_unsettled_files(project, migrations)
    _refuse_unsettled_database(project, chosen)
    archive = folder / ARCHIVE / str(version)
    if archive.exists():
        raise SafetyRefusal(
            f"{archive} already exists: version {version} was squashed before",
            hint="move that folder away if it is left over from an abandoned squash",
        )
    schema, seeded = _schema_of(project, chosen)
    up, down = _create_and_drop(schema, project.config.require_url().dialect)
    text = _render(chosen, version, f"migrations/{ARCHIVE}/{version}", up, down)
    path = folder / f"{version}_squashed.sql"
    if not dry_run:
        _write(path, archive, chosen, text)
        project.hash()
    warnings = [
        f"table {name} holds {rows} row(s) made by the migrations: the squashed file is schema only and will "
        "not insert them"
        for name, rows in seeded
    ]
    warnings += [
        f"{m.file} is a Python migration: any data it changed is not carried" for m in chosen if m.kind == "py"
    ]
    return SquashResult(path, version, archive, [m.file for m in chosen], warnings, text, dry_run)


def _chosen(migrations: list, version: int) -> list:
    """The migrations up to ``version``; clear refusals for an unknown version or a second squash."""
    if version == 0:
        raise UnknownVersionError("squash --to 0 names no migration", hint="give the newest version to squash")
    for earlier in squashes(migrations):
        if version <= earlier.version:
            what = "already squashed" if version == earlier.version else f"inside the squash up to {earlier.version}"
            raise SafetyRefusal(
                f"version {version} is {what} ({earlier.migration.file})",
                hint="squash a newer version to fold that squash in too; `dbshift status` lists the versions",
            )
    if version not in {m.version for m in migrations}:
        raise UnknownVersionError(
            f"unknown version {version}: no migration has it", hint="`dbshift status` lists the versions"
        )
    chosen = [m for m in migrations if m.version <= version]
    if len(chosen) < 2:
        raise ConfigError(
            f"only one migration up to {version}: nothing to squash", hint="squash a newer version, or keep the file"
        )
    covered = {m.version for m in chosen}
    for migration in migrations:
        inside = migration.version in covered
        for dependency in migration.depends:
            if inside != (dependency in covered) and not (not inside and dependency == version):
                raise MigrationFileError(
                    f"{migration.path}: depends on {dependency}, across the squash up to {version}",
                    hint="squash up to a version that keeps both sides together, or drop that depends",
                )
    return chosen


def _refuse_unsettled_files(project, migrations: list) -> None:
    """Refuse when dbshift.sum is stale or git holds uncommitted changes in the migrations folder."""
    from dbshift import sumfile
    from dbshift.teams.gitsource import run_git

    folder = project.config.migrations_dir
    check = sumfile.check(folder, migrations)
    if not check.ok:
        first = (check.changed + check.missing_from_sum + check.missing_files)[0]
        raise SafetyRefusal(
            f"{folder / sumfile.SUM_NAME} is out of date ({first}): the files are not the ones recorded",
            hint="review the migrations, run `dbshift hash`, commit, then squash",
        )
    try:
        inside = run_git(folder, "rev-parse", "--is-inside-work-tree")
    except ConfigError:  # git is not installed: there is no repository to compare with
        return
    if inside.returncode != 0:
        return  # not in a git repository: nothing to compare with
    changes = run_git(folder, "status", "--porcelain", "--untracked-files=all", "--", ".")
    if changes.returncode == 0 and changes.stdout.strip():
        first = changes.stdout.splitlines()[0][3:]
        raise SafetyRefusal(
            f"uncommitted changes in {folder} ({first})",
            hint="commit or stash them first, so the squash is one commit to review (or revert)",
        )


def _refuse_unsettled_database(project, chosen: list) -> None:
    """The project's database must have run all of the squashed migrations, or none of them."""
    status = project.status()
    if not status.database_exists:
        return
    project.refuse_unsafe(status)
    applied = {a.version for a in status.applied}
    covered = [m for m in chosen if m.version not in applied]
    if covered and len(covered) < len(chosen):
        raise SafetyRefusal(
            f"{status.url} has run {len(chosen) - len(covered)} of the {len(chosen)} migrations up to "
            f"{chosen[-1].version}, not {covered[0].file}",
            hint=f"`dbshift apply --to {chosen[-1].version}` first (or squash a version it has fully run)",
        )


def _schema_of(project, chosen: list):
    """The schema the migrations build in a scratch database, and the tables they left rows in."""
    from dbshift.dialects.description import describe
    from dbshift.drafting import sources
    from dbshift.history import History
    from dbshift.runner import Runner

    dialect = project.config.require_url().dialect
    with contextlib.ExitStack() as stack:
        # SQLite builds in memory; a server dialect on a temporary database of the project's server
        server = (
            None if describe(dialect).embedded_scratch_url() else stack.enter_context(project.connect(readonly=True))
        )
        db = stack.enter_context(sources.scratch_database(dialect, server))
        history = History(db)
        history.ensure_tables()
        Runner(db, history).apply(chosen)
        schema = sources.inspect_database(db)
        counts = [
            (table.name, db.execute(f"SELECT COUNT(*) FROM {db.quote(table.name)}")[0][0]) for table in schema.tables
        ]
        return schema, [(name, rows) for name, rows in counts if rows]


def _create_and_drop(schema, dialect: str) -> tuple[str, str]:
    """The statements that create ``schema`` on an empty database, and those that drop it again."""
    from dbshift.drafting.draft import draft_schemas
    from dbshift.schema.model import Schema

    plan = draft_schemas(Schema.build(dialect=dialect), schema, dialect).plan
    if plan.empty:
        return "-- the squashed migrations leave no schema objects", "-- nothing to drop"
    return plan.up_sql().strip(), plan.down_sql().strip()


def _render(chosen: list, version: int, archive: str, up: str, down: str) -> str:
    """The squashed file's text: the header (with the record of every replaced file), up, down."""
    lines = []
    for migration in chosen:
        earlier = next(iter(squashes([migration])), None)
        if earlier is not None:  # a squash folded into this one: keep what it accepted
            lines += [f"-- squashes {v} {file} sha256:{digest}" for v, file, digest in earlier.files]
        lines.append(f"-- squashes {migration.version} {migration.file} sha256:{migration.checksum}")
    header = HEADER.format(count=len(chosen), version=version, archive=archive, records="\n".join(lines))
    return f"{header}-- migrate:up\n{up}\n\n-- migrate:down\n{down}\n"


def _write(path: Path, archive: Path, chosen: list, text: str) -> Path:
    """Write the squashed file at ``path`` and move the replaced ones into ``archive`` (the new file last)."""
    staged = path.with_name(f".{path.name}.tmp")  # not a migration name: discovery skips it
    staged.write_text(text, encoding="utf-8")
    archive.mkdir(parents=True)
    for migration in chosen:
        os.replace(migration.path, archive / migration.file)
    os.replace(staged, path)
    return path
