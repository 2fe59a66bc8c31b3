"""Commands for versioned migrations: init, new, hash, status, history, apply, rollback, repair, demo."""

from __future__ import annotations

from pathlib import Path
from typing import List

import typer

from dbshift.cli import app
from dbshift.commands import console, escape, print_json, table
from dbshift.commands.draft import CONVERT_OPTION, DEFAULT_OPTION, MAP_OPTION, RENAME_OPTION, REVERSE_OPTION


def _state(ctx: typer.Context):
    return ctx.obj


@app.command()
def init(
    ctx: typer.Context,
    url: str = typer.Option(None, "--url", help="Database URL to write (default: --db, or sqlite:///app.db)."),
) -> None:
    """Write dbshift.toml and an empty migrations/ folder here."""
    from dbshift.gitignore import ignore_generated_files
    from dbshift.project import Project

    state = _state(ctx)
    project = Project.init(Path(state.root or "."), url or state.db or "sqlite:///app.db")
    ignored = ignore_generated_files(project.config)
    if state.json:
        print_json(
            {
                "config": str(project.config.config_file),
                "migrations_dir": str(project.config.migrations_dir),
                "gitignore": ignored.as_json(),
            }
        )
        return
    console().print(
        f"wrote {escape(str(project.config.config_file))} and {escape(str(project.config.migrations_dir))}/"
    )
    if ignored.message:
        console().print(escape(ignored.message), soft_wrap=True)


@app.command()
def new(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What the migration does, e.g. add_phone."),
    python: bool = typer.Option(False, "--py", help="Write a Python migration with up(ctx)/down(ctx)."),
    template: str = typer.Option(
        None, "--template", help="add-column, rename-column, add-index, create-table or backfill, with its down."
    ),
    table_name: str = typer.Option(None, "--table", help="With --template: the table."),
    column: str = typer.Option(None, "--column", help="With --template: the column (add-index: a,b for several)."),
    type_: str = typer.Option(None, "--type", help="With --template: the column's type (add-column, create-table)."),
    to: str = typer.Option(None, "--to", help="With --template rename-column: the new name."),
    index: str = typer.Option(None, "--index", help="With --template add-index: its name (default ix_TABLE_COLUMN)."),
    key: str = typer.Option(None, "--key", help="With --template backfill: the key to batch by (default id)."),
    value: str = typer.Option(None, "--value", help="With --template backfill: the SQL each row gets."),
) -> None:
    """Write a new migration from the template (--template: a common operation with its down)."""
    values = {"table": table_name, "column": column, "type": type_, "to": to, "index": index, "key": key}
    values["value"] = value
    if template is None and any(values.values()) or template is not None and python:
        from dbshift.errors import ConfigError

        raise ConfigError(
            "--table, --column, --type, --to, --index, --key and --value fill a --template (and --py does not go with it)",
            hint="dbshift new add_phone --template add-column --table users --column phone --type text",
        )
    path = _state(ctx).project().new(name, python=python, template=template, values=values)
    if _state(ctx).json:
        print_json({"path": str(path)})
        return
    console().print(f"wrote {escape(str(path))}")
    if template is not None:
        from dbshift.drafting.templates import missing_values

        missing = missing_values(template, values)
        if missing:
            console().print(
                f"[yellow]fill in the <TODO: ...> placeholders ({', '.join(missing)}):[/yellow] "
                "`dbshift apply` refuses the file until then",
                soft_wrap=True,
            )


@app.command("hash")
def hash_command(
    ctx: typer.Context,
    check: bool = typer.Option(False, "--check", help="Only check that dbshift.sum is current (exit 1 if not)."),
) -> None:
    """Rewrite migrations/dbshift.sum from the files as they are now."""
    if check:
        from dbshift.teams.brief import check_sum

        checked = check_sum(_state(ctx).project())
        print_json(checked) if _state(ctx).json else console().print("dbshift.sum is current")
        return
    path = _state(ctx).project().hash()
    if _state(ctx).json:
        print_json({"path": str(path)})
    else:
        console().print(f"wrote {escape(str(path))}")


@app.command()
def status(
    ctx: typer.Context,
    show_all: bool = typer.Option(False, "--all", help="List every applied migration, not just the newest."),
    brief: bool = typer.Option(False, "--brief", help="One line (for git hooks and prompts)."),
) -> None:
    """Current version, applied and pending migrations, changed files, dirty state."""
    state = _state(ctx)
    project = state.project()
    result = project.status()
    if brief and not state.json:
        from dbshift.teams.brief import brief_line

        console().print(escape(brief_line(result)), soft_wrap=True)
    elif state.json:
        print_json(result.as_json())
    else:
        _render_status(result, None if show_all else RECENT_APPLIED)
        folder = project.config.migrations_dir
        if folder.exists() and not folder.is_dir():
            console().print(
                f"[yellow]{escape(str(folder))} is not a folder:[/yellow] "
                f"see {escape('[migrations]')} dir in dbshift.toml",
                soft_wrap=True,
            )
        elif not folder.exists():
            console().print(
                f"[yellow]no migrations folder at {escape(str(folder))}:[/yellow] "
                "`dbshift new NAME` creates it with the first migration",
                soft_wrap=True,
            )
    if not result.ok:  # the same exit code with and without --json
        raise typer.Exit(1)


RECENT_APPLIED = 10


def _render_status(result, recent: int | None) -> None:
    out = console()
    out.print(
        f"database: {result.url}"
        + ("" if result.database_exists else " (no such file yet: `dbshift apply` creates it)")
    )
    out.print(f"current version: [bold]{result.current_version or 'none'}[/bold]")
    applied = {a.version for a in result.applied}
    changed = {m.version for m in result.changed}
    dirty = {a.version for a in result.dirty}
    squashed = {a.version for a in result.squashed}
    rows = []
    for a in result.applied:
        state = "dirty" if a.version in dirty else ("changed" if a.version in changed else "applied")
        state = "squashed" if a.version in squashed and state == "applied" else state
        rows.append([a.version, a.name, state, a.applied_at, a.applied_by])
    for m in result.pending:
        if m.version not in applied:
            rows.append([m.version, m.name, "pending", "", ""])
    rows.sort(key=lambda r: r[0])
    hidden = [r for r in rows if r[2] in ("applied", "squashed")][:-recent] if recent else []
    if hidden:
        hidden_versions = {r[0] for r in hidden}
        rows = [r for r in rows if r[0] not in hidden_versions]
        out.print(f"[dim]{len(hidden)} older applied migration(s) not shown (--all lists them)[/dim]")
    out.print(table(None, ["version", "name", "state", "applied at", "by"], rows))
    for m in result.changed:
        out.print(f"[red]changed since applied:[/red] {escape(str(m.path))} (restore it, or `dbshift repair`)")
    for a in result.dirty:
        out.print(f"[red]dirty:[/red] {a.version}_{a.name} was left half-applied (`dbshift repair`)")
    if result.recovered:
        out.print(f"[yellow]recovered:[/yellow] {result.recovered}")
    if result.inside_squash:
        out.print(f"[red]inside a squash:[/red] {escape(result.inside_squash)}", soft_wrap=True)
    for a in result.missing_files:
        out.print(f"[yellow]applied but no file:[/yellow] {a.version}_{escape(a.name)}")
    if result.missing_files:
        out.print(
            f"[yellow]{len(result.missing_files)} applied migration(s) are not in this checkout "
            "(from another branch):[/yellow] `dbshift sync` rolls them back with their stored downs",
            soft_wrap=True,
        )
    if not result.sum_check.ok:
        out.print("[yellow]migrations/dbshift.sum is out of date:[/yellow] run `dbshift hash` and commit it")
    for m in result.out_of_order:
        out.print(
            f"[yellow]out of order:[/yellow] {escape(m.file)} is older than the newest applied "
            f"{result.current_version} (`dbshift apply --allow-out-of-order` applies it)",
            soft_wrap=True,
        )
    out.print(f"{len(result.pending)} pending")


@app.command()
def history(ctx: typer.Context, limit: int = typer.Option(50, help="How many log entries to show.")) -> None:
    """Applied migrations (who, when, how long) and the log of applies, rollbacks and repairs."""
    state = _state(ctx)
    applied, log = state.project().history(limit)
    if state.json:
        print_json({"applied": [a.as_json() for a in applied], "log": [e.as_json() for e in log]})
        return
    out = console()
    out.print(
        table(
            "applied migrations",
            ["version", "name", "status", "applied at", "by", "host", "ms", "backup"],
            [
                [a.version, a.name, a.status, a.applied_at, a.applied_by, a.host, a.duration_ms, a.backup]
                for a in applied
            ],
        )
    )
    out.print(
        table(
            "log",
            ["at", "action", "version", "name", "by", "ms", "detail"],
            [[e.at, e.action, e.version, e.name, e.actor, e.duration_ms, e.detail] for e in log],
        )
    )


@app.command()
def apply(
    ctx: typer.Context,
    to: str = typer.Option(None, "--to", help="Apply up to and including this version."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the SQL; change nothing."),
    atomic: bool = typer.Option(False, "--atomic", help="All pending migrations in one transaction."),
    allow_out_of_order: bool = typer.Option(
        False, "--allow-out-of-order", help="Also apply pending migrations older than the newest applied one."
    ),
    schema: str = typer.Option(None, "--schema", help="Draft the database -> this schema file and apply it now."),
    save: str = typer.Option(None, "--save", help="With --schema: also write the migration under this name."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Apply despite error-level lint findings (they are listed); with --schema: a destructive change too.",
    ),
    rename: List[str] = RENAME_OPTION,
    convert: List[str] = CONVERT_OPTION,
    reverse: List[str] = REVERSE_OPTION,
    default: List[str] = DEFAULT_OPTION,
    value_map: List[str] = MAP_OPTION,
) -> None:
    """Apply pending migrations, each in its own transaction with its history row (--schema: a schema file)."""
    state = _state(ctx)
    drafting = {"renames": rename, "convert": convert, "reverse": reverse, "defaults": default, "maps": value_map}
    if schema is not None or save is not None or any(drafting.values()):
        from dbshift.commands.declare import apply_schema_command

        others = {"--to": to, "--atomic": atomic, "--allow-out-of-order": allow_out_of_order}
        apply_schema_command(state, schema, save, force, dry_run, others, drafting)
        return
    result = state.project().apply(
        to=to, dry_run=dry_run, atomic=atomic, allow_out_of_order=allow_out_of_order, force=force
    )
    _render_run(state, result, "applied", "nothing to apply: the database is up to date")


@app.command()
def rollback(
    ctx: typer.Context,
    steps: int = typer.Option(None, "--steps", help="How many migrations to revert (default 1)."),
    to: str = typer.Option(None, "--to", help="Revert everything above this version (0 = all)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the SQL; change nothing."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Run downs that drop or delete data (a backup is taken first), or that lint refuses (long locks on big tables).",
    ),
) -> None:
    """Revert applied migrations newest first, after a backup."""
    if steps is not None and steps < 0:
        from dbshift.errors import ConfigError

        raise ConfigError(
            f"--steps {steps}: cannot roll back a negative number of migrations",
            hint="--steps 1 reverts the newest migration; --to VERSION reverts everything above it",
        )
    state = _state(ctx)
    result = state.project().rollback(steps=steps, to=to, dry_run=dry_run, force=force)
    _render_run(state, result, "reverted", "nothing to roll back")


def _render_run(state, result, verb: str, nothing: str) -> None:
    if state.json:
        print_json(result.as_json())
        return
    out = console()
    if result.dry_run:
        from rich.markup import escape

        for step in result.steps:
            out.print(f"[bold]-- {step.direction}: {escape(step.migration.label)}[/bold]")
            for statement in step.statements:
                out.print(escape(statement.sql))
        out.print(f"[dim]dry run: {len(result.steps)} migration(s) would be {verb}; nothing changed[/dim]")
        return
    if not result.steps:
        out.print(nothing)
        return
    out.print(f"{len(result.steps)} migration(s) {verb}")


DIRTY_RESOLUTIONS = ("applied", "pending")


@app.command()
def repair(
    ctx: typer.Context,
    dirty: str = typer.Option(None, "--dirty", help="Resolve a half-applied migration as 'applied' or 'pending'."),
) -> None:
    """Accept edited migration files on purpose, or resolve a dirty state; both are logged."""
    if dirty is not None and dirty not in DIRTY_RESOLUTIONS:
        from dbshift.errors import ConfigError

        raise ConfigError(
            f"--dirty {dirty!r}: not a way to resolve a dirty migration",
            hint="--dirty applied (it did run) or --dirty pending (it did not); nothing was changed",
        )
    state = _state(ctx)
    actions = state.project().repair(dirty=dirty)
    if state.json:
        print_json({"actions": actions})
        return
    for action in actions or ["nothing to repair"]:
        console().print(action)


@app.command()
def demo(
    ctx: typer.Context,
    folder: str = typer.Option(None, "--dir", help="Folder for the demo project (default: a new temporary folder)."),
    rows: int = typer.Option(5000, "--orders", help="How many orders the demo database starts with."),
) -> None:
    """The whole story on an embedded SQLite file: create, apply, inspect, roll back, check."""
    from dbshift.demo import run_demo

    run_demo(Path(folder) if folder else None, orders=rows, say=console().print)
