"""Commands for teams in git: check (CI), sync (branch switching)."""

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
