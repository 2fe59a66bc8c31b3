"""``dbshift lint``: render the findings of :mod:`dbshift.lint` (the rules live there)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dbshift.cli import app


@app.command()
def lint(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="Migration files to lint (default: the pending ones)."),  # noqa: B008
    pending: bool = typer.Option(False, "--pending", help="Lint the migrations not applied yet (needs the database)."),
    every: bool = typer.Option(False, "--all", help="Lint every migration in the folder."),
    output_format: str = typer.Option(
        None, "--format", help="text, json, sarif or github (default text; --json: json)."
    ),
    dialect: str = typer.Option(None, "--dialect", help="sqlite, postgresql or mysql when no database is configured."),
    observe: bool = typer.Option(
        False, "--observe", help="Also run the pending migrations on a copy and report the locks and rewrites seen."
    ),
) -> None:
    """Name every risky statement of migrations before they run; exit 1 on an error-level finding."""
    from dbshift.errors import ConfigError
    from dbshift.lint import all_rules
    from dbshift.lint.formats import FORMATS, render

    state = ctx.obj
    output_format = output_format or ("json" if state.json else "text")
    if output_format not in FORMATS:
        raise ConfigError(f"unknown --format {output_format!r}", hint="formats: " + ", ".join(FORMATS))
    if sum(bool(x) for x in (files, pending, every)) > 1:
        raise ConfigError("give files, --pending or --all, not several", hint="dbshift lint --all")
    if observe and (files or every):
        raise ConfigError(
            "--observe runs the pending migrations: give no files and no --all", hint="dbshift lint --observe"
        )
    project = state.project(quiet=True)
    found = _findings(project, files or [], pending or observe, every, dialect)
    if observe:
        from dbshift.lint import LintSettings

        found += project.observe(LintSettings.from_config(project.config))[1]
    findings = [_relative(f) for f in found]
    sys.stdout.write(render(findings, output_format, all_rules()))
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


def _findings(project, files: list[Path], pending: bool, every: bool, dialect: str | None):
    """Lint what was asked: given files, every migration, or the pending ones (the default when
    a database is configured)."""
    from dbshift.lint import LintSettings, lint_migrations
    from dbshift.migrations import load_migration

    config = project.config
    settings = LintSettings.from_config(config)
    dialect = dialect or (config.url.dialect if config.url is not None else None)
    if files:
        chosen = sorted((load_migration(Path(f)) for f in files), key=lambda m: m.version)
        known = project.migrations() if config.migrations_dir.is_dir() else []
        before = [
            m
            for m in known
            if m.version < chosen[0].version and m.path.resolve() not in {c.path.resolve() for c in chosen}
        ]
        return lint_migrations(chosen, _need(dialect), settings=settings, before=before)
    if every or (not pending and config.url is None):
        migrations = project.migrations()
        applied = {a.version for a in project.status().applied} if config.url is not None else None
        return lint_migrations(migrations, _need(dialect), settings=settings, applied=applied)
    status = project.status()
    with project.connect(readonly=True) as db:
        return lint_migrations(
            status.pending, _need(dialect), settings=settings, applied={a.version for a in status.applied}, database=db
        )


def _relative(finding):
    """The finding with its file relative to the current folder when it is under it."""
    import dataclasses
    import os

    path = Path(finding.file)
    try:
        return dataclasses.replace(finding, file=str(path.resolve().relative_to(Path(os.getcwd()).resolve())))
    except ValueError:
        return finding


def _need(dialect: str | None) -> str:
    from dbshift.errors import ConfigError

    if dialect is None:
        raise ConfigError(
            "lint needs to know the dialect", hint="configure a database URL, or pass --dialect postgresql"
        )
    return dialect
