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
    fix: bool = typer.Option(False, "--fix", help="Rewrite the migrations into the safe form where it is mechanical."),
    diff: bool = typer.Option(False, "--diff", "--dry-run", help="Print the --fix rewrite as a diff; write nothing."),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Read every migration again (not the findings remembered in .dbshift_cache/)."
    ),
) -> None:
    """Name every risky statement of migrations before they run; exit 1 on an error-level finding."""
    from dbshift.errors import ConfigError
    from dbshift.lint import all_rules
    from dbshift.lint.engine import lint_dialect
    from dbshift.lint.formats import FORMATS, render

    state = ctx.obj
    output_format = output_format or ("json" if state.json else "text")
    if output_format not in FORMATS:
        raise ConfigError(f"unknown --format {output_format!r}", hint="formats: " + ", ".join(FORMATS))
    if sum(bool(x) for x in (files, pending, every)) > 1:
        raise ConfigError("give files, --pending or --all, not several", hint="dbshift lint --all")
    if observe and (files or every or fix or diff):
        raise ConfigError(
            "--observe runs the pending migrations: give no files, --all or --fix", hint="dbshift lint --observe"
        )
    project = state.project(quiet=True)
    dialect = lint_dialect(project.config, dialect)
    if fix or diff:
        _fix(project, files or [], every, dialect, write=not diff)
        return
    found = _findings(project, files or [], pending or observe, every, dialect, cache=not no_cache)
    if observe:
        from dbshift.lint import LintSettings

        found += project.observe(LintSettings.from_config(project.config))[1]
    findings = _relative(found)
    sys.stdout.write(render(findings, output_format, all_rules()))
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


def _findings(project, files: list[Path], pending: bool, every: bool, dialect: str | None, cache: bool):
    """Lint what was asked: given files, every migration, or the pending ones (the default when
    a database is configured). ``cache``: reuse the findings of migrations read before (not for
    the pending ones, whose data-aware findings read the live database)."""
    from dbshift.lint import LintSettings, lint_migrations
    from dbshift.lint.cache import FindingsCache
    from dbshift.migrations import chosen_files

    config = project.config
    settings = LintSettings.from_config(config)
    dialect = dialect or (config.url.dialect if config.url is not None else None)
    remembered = None
    if cache and dialect and config.config_file is not None:  # a project folder, not any folder a file was linted in
        remembered = FindingsCache.for_project(config.root, dialect, settings)
    if files:
        chosen, before = chosen_files(project.migrations() if config.migrations_dir.is_dir() else [], files)
        return lint_migrations(chosen, _need(dialect), settings=settings, before=before, cache=remembered)
    if every or (not pending and config.url is None):
        migrations = project.migrations()
        applied = {a.version for a in project.status().applied} if config.url is not None else None
        return lint_migrations(migrations, _need(dialect), settings=settings, applied=applied, cache=remembered)
    status = project.status()
    with project.connect(readonly=True) as db:
        return lint_migrations(
            status.pending, _need(dialect), settings=settings, applied={a.version for a in status.applied}, database=db
        )


def _fix(project, files: list[Path], every: bool, dialect: str | None, write: bool) -> None:
    """Print the diff of the --fix rewrites (and write them when ``write``), then what was left."""
    from dbshift.lint.fix import plan_fixes, write_fixes

    fixes = plan_fixes(project, [Path(f) for f in files], every, dialect)
    for fix in fixes:
        sys.stdout.write(fix.diff(_relative_path(fix.path)))
        for code, line, why in fix.skipped:
            sys.stdout.write(f"{_relative_path(fix.path)}:{line}: not fixed {code}: {why}\n")
    changed = [f for f in fixes if f.changed]
    if write:
        write_fixes(project, fixes)
    verb = "would be rewritten (nothing written)"
    if write:
        verb = "rewritten (dbshift.sum updated)" if changed else "rewritten"
    fixed = sum(len(f.fixed) for f in changed)
    sys.stdout.write(f"{len(changed)} migration(s) {verb}: {fixed} finding(s) fixed\n")


def _relative_path(path: Path | str, folders: dict | None = None) -> str:
    """``path`` relative to the current folder when it is under it, without resolving symlinks
    (a lint of 500 files spent a tenth of its time there); ``folders`` remembers each folder's
    relative path for one call's many files."""
    import os

    folder, name = os.path.split(os.path.abspath(path))
    folders = {} if folders is None else folders
    if folder not in folders:
        relative = os.path.relpath(folder, os.getcwd())
        folders[folder] = None if relative == ".." or relative.startswith(".." + os.sep) else relative
    relative = folders[folder]
    if relative is None:
        return str(path)
    return name if relative == "." else os.path.join(relative, name)


def _relative(found: list) -> list:
    """The findings with their files relative to the current folder when they are under it."""
    from dbshift.lint import Finding

    folders: dict = {}
    files: dict[str, str] = {}
    relative = []
    for f in found:
        if f.file not in files:
            files[f.file] = _relative_path(f.file, folders)
        file = files[f.file]
        # built positionally: dataclasses.replace looks the fields up again for each of 1,000s
        relative.append(
            f if file == f.file else Finding(f.code, f.severity, file, f.line, f.statement, f.problem, f.fix, f.section)
        )
    return relative


def _need(dialect: str | None) -> str:
    from dbshift.errors import ConfigError

    if dialect is None:
        raise ConfigError(
            "lint needs to know the dialect", hint="configure a database URL, or pass --dialect postgresql"
        )
    return dialect
