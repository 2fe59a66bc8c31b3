"""Safety-net commands: backup, backups, restore, verify, rehearse, rollback-plan, report."""

from __future__ import annotations

import typer

from dbshift.cli import app
from dbshift.commands import console, escape, print_json, table

LARGE_BACKUP_PAGES = 16384  # show a progress bar from this many pages on (64 MB at 4 KiB pages)


def _state(ctx: typer.Context):
    return ctx.obj


class BackupProgress:
    """A progress bar for backups of large databases (on a terminal, without --json)."""

    def __init__(self):
        self.bar = None
        self.task = None

    def __call__(self, event: str, **data) -> None:
        if event != "backup-progress" or not data["total"]:
            return
        if self.bar is None:
            if data["total"] < LARGE_BACKUP_PAGES:
                return
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

            self.bar = Progress(
                "backup", BarColumn(), TaskProgressColumn(), TimeRemainingColumn(), console=console(), transient=True
            )
            self.bar.start()
            self.task = self.bar.add_task("backup", total=data["total"])
        self.bar.update(self.task, completed=data["done"])
        if data["done"] >= data["total"]:
            self.bar.stop()


def _project(state, on_event=None):
    from dbshift.project import Project

    return Project(state.root, db=state.db, env=state.env, lock_timeout=state.lock_timeout, on_event=on_event)


@app.command()
def backup(
    ctx: typer.Context,
    out: str = typer.Option(None, "--out", help="Write the backup here (default: the backups folder)."),
    csv_tables: list[str] = typer.Option(None, "--csv", help="Also export this table as CSV (repeatable)."),
) -> None:
    """A consistent online backup, integrity-checked, with a JSON manifest beside it."""
    state = _state(ctx)
    info = _project(state, None if state.json else BackupProgress()).backup(out=out, csv_tables=csv_tables or None)
    if state.json:
        print_json(info.as_json())
        return
    manifest = info.manifest
    console().print(
        f"backup written: {escape(str(info.path))} ({manifest['size'] / 1e6:.1f} MB, schema version "
        f"{manifest['schema_version']}, sha256 {manifest['sha256'][:16]}..., integrity ok)"
    )
    for name, export in manifest.get("csv", {}).items():
        console().print(f"exported {escape(name)}: {export['rows']} row(s) -> {escape(str(export['path']))}")


@app.command()
def backups(ctx: typer.Context) -> None:
    """List the backups in the backups folder, oldest first."""
    state = _state(ctx)
    found = _project(state).backups()
    if state.json:
        print_json([b.as_json() for b in found])
        return
    rows = [
        [
            b.path.name,
            b.manifest.get("created_at"),
            b.manifest.get("schema_version"),
            b.manifest.get("reason"),
            f"{b.manifest.get('size', 0) / 1e6:.1f} MB",
        ]
        for b in found
    ]
    console().print(table(None, ["file", "created", "schema version", "reason", "size"], rows))
    console().print(f"{len(found)} backup(s) in {escape(str(_project(state).config.backups_dir))}")


@app.command()
def restore(
    ctx: typer.Context,
    path: str = typer.Argument(..., help="The backup file to restore."),
    force: bool = typer.Option(False, "--force", help="Restore even when its schema version is not the expected one."),
    expect_version: str = typer.Option(
        None,
        "--expect-version",
        help="The schema version the backup should have (default: the database's current version).",
    ),
) -> None:
    """Replace the database with a backup: sha256 and integrity checked, current database kept first."""
    from dbshift.errors import ConfigError
    from dbshift.migrations import parse_version

    if not path.strip():
        raise ConfigError(
            "restore needs the path of a backup file, not an empty name", hint="`dbshift backups` lists the backups"
        )
    state = _state(ctx)
    expected = parse_version(expect_version) if expect_version is not None else None
    result = _project(state).restore(path, force=force, expect_version=expected)
    if state.json:
        print_json(result.as_json())
        return
    console().print(f"restored {escape(str(result.restored_from))} (schema version {result.schema_version})")
    if result.safety_backup:
        console().print(
            f"the replaced database is kept at {escape(str(result.safety_backup.path))} ({escape(str(result.kept_by))})"
        )


@app.command()
def verify(
    ctx: typer.Context,
    against: str = typer.Option(None, "--against", help="Compare every table with this backup."),
) -> None:
    """Integrity check, foreign key check and a fingerprint of every table."""
    state = _state(ctx)
    from dbshift.commands import ProgressPrinter

    report = _project(state, None if state.json else ProgressPrinter(state.verbose)).verify(against)
    if state.json:
        print_json(report.as_json())
    else:
        _render_verify(report)
    if not report.ok:
        raise typer.Exit(1)


def _render_verify(report) -> None:
    out = console()
    columns = ["table", "rows", "content hash"] + (["against the backup"] if report.against else [])
    rows = [
        [name, fp.rows, fp.content[:16]] + ([report.comparison.get(name)] if report.against else [])
        for name, fp in report.fingerprints.items()
    ]
    rows += [[name, "", "", verdict] for name, verdict in report.comparison.items() if name not in report.fingerprints]
    out.print(table(None, columns, rows))
    out.print(
        "integrity: " + ("ok" if not report.integrity else "[red]" + escape("; ".join(report.integrity[:3])) + "[/red]")
    )
    out.print(
        "foreign keys: "
        + (
            "ok"
            if not report.foreign_keys
            else f"[red]{len(report.foreign_keys)} violation(s), first: {escape(report.foreign_keys[0])}[/red]"
        )
    )
    out.print("[green]verified[/green]" if report.ok else "[red]verify found problems[/red]")


@app.command()
def rehearse(ctx: typer.Context) -> None:
    """Apply pending migrations to a copy, check it, roll back, and prove it equals the original."""
    state = _state(ctx)
    result = _project(state).rehearse()
    if state.json:
        print_json(result.as_json())
    else:
        _render_rehearsal(result)
    if not result.ok:
        raise typer.Exit(1)


def _render_rehearsal(result) -> None:
    from rich.markup import escape

    out = console()
    if not result.migrations:
        out.print("no pending migrations: only the checks ran")
    colour = {"pass": "green", "fail": "red", "skipped": "yellow"}
    rows = [[s.name, s.outcome, f"{s.seconds * 1000:.0f} ms", s.detail] for s in result.steps]
    rendered = table(None, ["step", "result", "time", "detail"], rows)
    out.print(rendered)
    if result.observed is not None:
        _render_observed(out, result)
    for step in result.steps:
        if step.outcome == "fail":
            out.print(f"[{colour['fail']}]failed:[/{colour['fail']}] {escape(step.name)}: {escape(step.detail)}")
    out.print(
        "[green]rehearsal passed; the real database was not touched[/green]"
        if result.ok
        else "[red]rehearsal failed; the real database was not touched[/red]"
    )


def _render_observed(out, result) -> None:
    """The observed table (statements that locked or rewrote something on the copy) and its findings."""
    from rich.markup import escape

    rows = result.observed.rows()
    if rows:
        out.print(table("observed on the copy", ["statement", "locks", "rewrote", "time"], rows))
    for finding in result.findings:
        out.print(escape(f"{finding.file}:{finding.line}: {finding.severity} {finding.code}: {finding.problem}"))


@app.command("rollback-plan")
def rollback_plan(
    ctx: typer.Context,
    to: str = typer.Option(None, "--to", help="Plan the revert down to this version (default: all, 0)."),
    out: str = typer.Option(None, "--out", help="Write the Markdown plan to this file."),
) -> None:
    """A Markdown plan for reverting applied migrations: lossless or lossy, what is lost, backups, steps."""
    from pathlib import Path

    from dbshift.safety.plan import render_markdown

    state = _state(ctx)
    plan = _project(state).rollback_plan(to=to)
    if state.json:
        print_json(plan.as_json())
        return
    text = render_markdown(plan)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        console().print(f"wrote {escape(out)}")
    else:
        import sys

        sys.stdout.write(text)


@app.command()
def report(
    ctx: typer.Context,
    version: str = typer.Argument(..., help="An applied migration's version."),
) -> None:
    """The record of an applied migration as Markdown: what ran, when, how long, tables, way back."""
    import sys

    state = _state(ctx)
    if state.json:
        print_json(_project(state).report_json(version))
        return
    sys.stdout.write(_project(state).report(version))
