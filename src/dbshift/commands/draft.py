"""Commands for drafting migrations from a desired schema: diff, plan, inspect."""

from __future__ import annotations

from typing import List

import typer

from dbshift.cli import app
from dbshift.commands import console, print_json, table

FROM_HELP = "Schema to start from: migrations (default), db, a .sql file, a database URL, git:REV or git:REV:file.sql."
TO_HELP = "Desired schema: schema.sql (default), db, migrations, another .sql file, a URL, git:REV or git:REV:file.sql."

#: Options shared by `diff` and `plan`.
RENAME_OPTION = typer.Option(None, "--rename", help="A rename: old_table=new_table or table.old=new (repeatable).")
CONVERT_OPTION = typer.Option(None, "--convert", help="New value from the old row: table.column=SQL (repeatable).")
REVERSE_OPTION = typer.Option(
    None, "--reverse", help="Old value back from the new row, for the down: table.column=SQL."
)
DEFAULT_OPTION = typer.Option(None, "--default", help="Backfill for a NOT NULL column: table.column=SQL.")
MAP_OPTION = typer.Option(None, "--map", help="Value map for a type change: table.column=OLD:NEW,OLD:NEW.")


def _draft(
    ctx: typer.Context, source, target, rename, convert, reverse, default, value_map, name=None, check_rows=True
):
    from dbshift.schema.renames import terminal_questioner

    state = ctx.obj
    ask = None if state.json else terminal_questioner()
    return state.project().diff(
        source,
        target,
        name=name,
        renames=rename or [],
        convert=convert or [],
        reverse=reverse or [],
        defaults=default or [],
        maps=value_map or [],
        ask=ask,
        check_rows=check_rows,
    )


@app.command()
def diff(
    ctx: typer.Context,
    source: str = typer.Option(None, "--from", help=FROM_HELP),
    target: str = typer.Option(None, "--to", help=TO_HELP),
    rename: List[str] = RENAME_OPTION,
    convert: List[str] = CONVERT_OPTION,
    reverse: List[str] = REVERSE_OPTION,
    default: List[str] = DEFAULT_OPTION,
    value_map: List[str] = MAP_OPTION,
    name: str = typer.Option(None, "--name", help="Write the migration under this name and update dbshift.sum."),
    check: bool = typer.Option(False, "--check", help="Exit 1 when the schemas differ (for CI); write nothing."),
) -> None:
    """Compare two schemas and draft the migration (up and down) between them."""
    result = _draft(
        ctx, source, target, rename, convert, reverse, default, value_map, None if check else name, check_rows=not check
    )
    if ctx.obj.json:
        print_json(_with_lint(ctx, result))
    else:
        _render_diff(result)
        _render_lint(ctx, result)
    if check and not result.empty:
        raise typer.Exit(1)


def _render_diff(result) -> None:
    from rich.markup import escape

    out = console()
    if result.empty:
        out.print(f"no differences between {escape(result.source)} and {escape(result.target)}")
        _render_notes(result)
        return
    _render_candidates(result)
    out.print(f"[bold]-- up ({escape(result.source)} -> {escape(result.target)})[/bold]")
    out.print(escape(result.plan.up_sql()), soft_wrap=True)
    out.print("[bold]-- down[/bold]")
    out.print(escape(result.plan.down_sql() if result.plan.reversible else "-- irreversible"), soft_wrap=True)
    _render_notes(result)
    flags = [
        f
        for f, on in (("destructive", result.plan.destructive), ("rewrites tables", result.plan.rewrites_tables))
        if on
    ]
    if flags:
        out.print(f"[yellow]flags: {', '.join(flags)}[/yellow]")
    if result.path:
        out.print(f"wrote {escape(str(result.path))}")


def _render_candidates(result) -> None:
    from rich.markup import escape

    for candidate in result.diff.unconfirmed:
        console().print(
            f"[yellow]possible rename:[/yellow] {escape(candidate.question.removesuffix(' [y/N]'))} "
            f"Treated as drop + add (destructive). If it was, run again with [bold]{escape(candidate.hint)}[/bold]",
            soft_wrap=True,
        )


@app.command()
def plan(
    ctx: typer.Context,
    source: str = typer.Option(None, "--from", help=FROM_HELP),
    target: str = typer.Option(None, "--to", help=TO_HELP),
    rename: List[str] = RENAME_OPTION,
    convert: List[str] = CONVERT_OPTION,
    reverse: List[str] = REVERSE_OPTION,
    default: List[str] = DEFAULT_OPTION,
    value_map: List[str] = MAP_OPTION,
) -> None:
    """Show the operations a diff would run, each with its reverse and flags."""
    result = _draft(ctx, source, target, rename, convert, reverse, default, value_map)
    if ctx.obj.json:
        print_json(_with_lint(ctx, result))
        return
    if result.empty:
        console().print("nothing to do: the schemas are the same")
        _render_notes(result)
        return
    _render_candidates(result)
    rows = [
        [
            i + 1,
            op.description,
            "yes" if op.destructive else "",
            "yes" if op.rewrites_table else "",
            "none" if op.reverse is None else ("lossy: " + op.lossy_reverse if op.lossy_reverse else "yes"),
        ]
        for i, op in enumerate(result.plan.operations)
    ]
    console().print(table(None, ["#", "operation", "destructive", "rewrites table", "reverse"], rows))
    _render_notes(result)
    _render_lint(ctx, result)


def _with_lint(ctx: typer.Context, result) -> dict:
    """The draft as JSON with its lint findings (``lint``)."""
    from dbshift.lint.drafts import draft_findings

    return {**result.as_json(), "lint": [f.as_json() for f in draft_findings(ctx.obj.project(), result)]}


def _render_lint(ctx: typer.Context, result) -> None:
    """The short lint block after a draft."""
    from rich.markup import escape

    from dbshift.lint.drafts import draft_findings, render_block

    if not result.empty:
        for line in render_block(draft_findings(ctx.obj.project(), result)):
            console().print(f"[yellow]{escape(line)}[/yellow]", soft_wrap=True)


def _render_notes(result) -> None:
    """The plan's notes (rename inferences, what a dialect cannot do), then each operation's."""
    from rich.markup import escape

    for note in result.plan.notes + [note for op in result.plan.operations for note in op.notes]:
        console().print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)


@app.command("inspect")
def inspect_command(
    ctx: typer.Context,
    source: str = typer.Option(
        None, "--source", "--from", help="db (default), migrations, a .sql file, a URL, git:REV or git:REV:file.sql."
    ),
    fmt: str = typer.Option("sql", "--format", "-f", help="sql, json or mermaid."),
) -> None:
    """Print a schema as SQL, JSON or a Mermaid ER diagram."""
    import sys

    from dbshift.drafting.render import FORMATS, render
    from dbshift.errors import ConfigError

    state = ctx.obj
    if state.json:
        fmt = "json"
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", hint="use --format sql, json or mermaid")
    project = state.project()
    schema = project.inspect(source)
    text = render(schema, fmt, project.config.require_url().dialect)
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
