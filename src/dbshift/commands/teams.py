"""Commands for teams in git: check (CI), sync (branch switching), baseline, import."""

from __future__ import annotations

import typer

from dbshift.cli import app
from dbshift.commands import console, escape, print_json


@app.command("check")
def check_command(
    ctx: typer.Context,
    base: str = typer.Option(None, "--base", help="Revision to compare with (default: merge base with main/master)."),
    fmt: str = typer.Option("markdown", "--format", "-f", help="markdown or json."),
) -> None:
    """CI check: new migrations fit the base, give schema.sql, their downs restore the base, sum current."""
    from dbshift.errors import ConfigError
    from dbshift.teams.check import check

    if fmt not in ("markdown", "json"):
        raise ConfigError(f"--format {fmt}: not a report format", hint="use --format markdown or --format json")
    state = ctx.obj
    report = check(state.project(quiet=True), base)
    if state.json or fmt == "json":
        print_json(report.as_json())
    else:
        import sys

        sys.stdout.write(report.markdown())
    if not report.ok:
        raise typer.Exit(1)


@app.command("sync")
def sync_command(
    ctx: typer.Context,
    force: bool = typer.Option(
        False,
        "--force",
        help="Run downs that drop or delete data (a backup is taken first), or that lint refuses (long locks on big tables).",
    ),
    allow_out_of_order: bool = typer.Option(
        False, "--allow-out-of-order", help="Also apply pending migrations older than the newest applied one."
    ),
) -> None:
    """After a branch switch: roll back migrations not in this checkout (stored downs), apply pending ones."""
    from dbshift.teams.sync import sync

    state = ctx.obj
    result = sync(state.project(), force=force, allow_out_of_order=allow_out_of_order)
    if state.json:
        print_json(result.as_json())
        return
    out = console()
    for step in result.reverted:
        out.print(f"reverted {escape(step.migration.label)} (from another branch)")
    for step in result.applied:
        out.print(f"applied {escape(step.migration.label)}")
    if not result.reverted and not result.applied:
        out.print("nothing to do: the database matches this checkout")


@app.command("baseline")
def baseline_command(
    ctx: typer.Context,
    version: str = typer.Option(None, "--version", help="The baseline's version (default: now)."),
) -> None:
    """Adopt an existing database: write its schema as a baseline migration and record it, running nothing."""
    from dbshift.teams.baseline import baseline

    state = ctx.obj
    path, number = baseline(state.project(), version)
    if state.json:
        print_json({"path": str(path), "version": number})
    else:
        console().print(f"wrote {escape(str(path))} and recorded it as applied (version {number}); nothing ran")


@app.command("import")
def import_command(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help="flyway, dbmate, alembic or django."),
    path: str = typer.Argument(
        ..., help="The old tool's folder (Flyway or dbmate migrations, the one holding alembic.ini or manage.py)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be written and recorded; change nothing."),
    files_only: bool = typer.Option(False, "--files-only", help="Convert the files; leave the database alone."),
    history_table: str = typer.Option(None, "--history-table", help="The old tool's history table, if renamed."),
) -> None:
    """Move a Flyway, dbmate, Alembic or Django project to dbshift: its files, and its history (nothing runs again)."""
    from dbshift.commands.imports import print_import
    from dbshift.teams.imports.driver import import_project

    state = ctx.obj
    result = import_project(state.project(), tool, path, dry_run, files_only, history_table)
    print_import(result, state.json)


@app.command("squash")
def squash_command(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="The newest version to squash: it and every older one become one file."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the file it would write and what it would move; touch nothing."
    ),
) -> None:
    """Replace the migrations up to --to with one migration made from their schema (old files archived)."""
    from dbshift.teams.squash import squash

    state = ctx.obj
    result = squash(state.project(), to, dry_run=dry_run)
    if state.json:
        print_json(result.as_json())
        return
    out = console()
    if dry_run:
        out.print(f"[bold]-- would write {escape(str(result.path))}:[/bold]", soft_wrap=True)
        out.print(escape(result.text.rstrip("\n")), soft_wrap=True, highlight=False)
        out.print(
            f"[bold]-- would move {len(result.replaced)} migrations into {escape(str(result.archive))}:[/bold] "
            + escape(", ".join(result.replaced)),
            soft_wrap=True,
        )
        out.print("[dim]dry run: nothing written, moved or hashed[/dim]")
    else:
        out.print(
            f"squashed {len(result.replaced)} migrations into {escape(str(result.path))}; "
            f"the old files are in {escape(str(result.archive))}",
            soft_wrap=True,
        )
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)


hooks_app = typer.Typer(help="Git hooks that keep the database in step with the checkout.", no_args_is_help=True)
app.add_typer(hooks_app, name="hooks")


@hooks_app.command("install")
def hooks_install_command(
    ctx: typer.Context,
    sync: bool = typer.Option(
        False, "--sync", help="After checkout/merge run `dbshift sync` (default: status --brief)."
    ),
    chain: bool = typer.Option(False, "--chain", help="Keep existing hooks: move them to NAME.local, run them first."),
) -> None:
    """Write post-checkout, post-merge and pre-commit hooks (core.hooksPath respected)."""
    from dbshift.teams.hooks import install

    state = ctx.obj
    result = install(state.project(quiet=True), sync=sync, chain=chain)
    if state.json:
        print_json(result.as_json())
        return
    out = console()
    for path in result.chained:
        out.print(f"kept your hook as {escape(str(path))} (the dbshift hook runs it first)", soft_wrap=True)
    names = ", ".join(p.name for p in result.written)
    out.print(f"wrote {names} in {escape(str(result.folder))}", soft_wrap=True)


@hooks_app.command("uninstall")
def hooks_uninstall_command(ctx: typer.Context) -> None:
    """Remove the hooks dbshift wrote; a hook it chained (NAME.local) gets its name back."""
    from dbshift.teams.hooks import uninstall

    state = ctx.obj
    result = uninstall(state.project(quiet=True))
    if state.json:
        print_json(result.as_json())
        return
    out = console()
    if result.removed:
        names = ", ".join(p.name for p in result.removed)
        out.print(f"removed {names} from {escape(str(result.folder))}", soft_wrap=True)
    else:
        out.print(f"no dbshift hooks in {escape(str(result.folder))}", soft_wrap=True)
    for path in result.restored:
        out.print(f"put your hook back at {escape(str(path))}", soft_wrap=True)
    for path in result.kept:
        out.print(f"left {escape(str(path))} as it is (dbshift did not write it)", soft_wrap=True)
