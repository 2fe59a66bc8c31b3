"""How ``dbshift import`` reports what it wrote and recorded."""

from __future__ import annotations

from dbshift.commands import console, escape, print_json


def print_import(result, as_json: bool) -> None:
    """The migrations written (or, with --dry-run, to be written), which were recorded as applied, the warnings."""
    if as_json:
        print_json(result.as_json())
        return
    out = console()
    verb = "would write" if result.dry_run else "wrote"
    for file in result.files:
        state = "applied" if file.applied else ("-" if result.files_only else "pending")
        down = "" if file.has_down else " (no down)"
        out.print(f"{file.version}_{escape(file.name)}.sql  <- {result.tool} {escape(file.origin)}  {state}{down}")
    for warning in result.warnings:
        out.print(f"[yellow]warning: {escape(warning)}[/yellow]", soft_wrap=True)
    summary = f"{verb} {len(result.files)} migration(s) from {result.tool}"
    if not result.files_only:
        record = "would record" if result.dry_run else "recorded"
        summary += f"; {record} {result.recorded} as applied (imported, nothing ran)"
    out.print(summary)
