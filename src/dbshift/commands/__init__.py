"""Shared pieces of the CLI: global state, output helpers, error reporting.

Rich is imported only when something is printed, never at start-up of a JSON command.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

GLOBAL_OPTIONS = {"--db", "--env", "-C", "--project", "--lock-timeout"}
GLOBAL_FLAGS = {"--json", "-y", "--yes", "-v", "--verbose"}


@dataclass
class State:
    """Global options of one CLI run."""

    db: str | None = None
    env: str | None = None
    json: bool = False
    yes: bool = False
    verbose: bool = False
    root: str | None = None
    lock_timeout: float | None = None

    def project(self, quiet: bool = False):
        """The :class:`Project` these options describe, with progress and prompts wired in."""
        from dbshift.project import Project

        return Project(
            self.root,
            db=self.db,
            env=self.env,
            lock_timeout=self.lock_timeout,
            on_event=None if (self.json or quiet) else ProgressPrinter(self.verbose),
            confirm=self.confirm,
        )

    def confirm(self, question: str, accepts_data_loss: bool = False) -> bool:
        """Ask for a typed confirmation on a terminal; ``--yes`` answers for the user, except a
        question whose yes accepts losing data (only ``--force`` or a typed yes accepts that)."""
        if self.yes and not accepts_data_loss:
            return True
        if not sys.stdin.isatty() or self.json:
            return False
        console().print(f"[yellow]{question}[/yellow]")
        answer = console().input("Type [bold]yes[/bold] to continue: ")
        return answer.strip().lower() == "yes"


_console = None
_error_console = None


def console():
    """The shared Rich console (stdout)."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(highlight=False)
    return _console


def error_console():
    """The shared Rich console for stderr."""
    global _error_console
    if _error_console is None:
        from rich.console import Console

        _error_console = Console(stderr=True, highlight=False)
    return _error_console


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def report_error(exc) -> int:
    """Print a dbshift error as one line plus a hint; return its exit code."""
    from rich.markup import escape

    error_console().print(f"[bold red]error:[/bold red] {escape(shorten_paths(exc.message))}", soft_wrap=True)
    if exc.hint:
        error_console().print(f"[dim]hint:[/dim] {escape(shorten_paths(exc.hint))}", soft_wrap=True)
    return exc.exit_code


def shorten_paths(text: str) -> str:
    """Show paths under the current folder relative to it."""
    import os

    return text.replace(os.getcwd().rstrip("/") + "/", "")


def table(title: str | None, columns: list[str], rows: list[list[Any]]):
    """A Rich table with the given columns and rows (cells are str()-ed and escaped)."""
    from rich.markup import escape
    from rich.table import Table

    result = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*("" if cell is None else escape(str(cell)) for cell in row))
    return result


class ProgressPrinter:
    """Prints the runner's events as they happen."""

    def __init__(self, verbose: bool = False):
        self.verbose = verbose

    def __call__(self, event: str, **data: Any) -> None:
        from rich.markup import escape

        out = console()
        if event == "start":
            arrow = "↑ applying" if data["direction"] == "up" else "↓ reverting"
            out.print(f"{arrow} {escape(data['migration'].label)} ...", end=" ")
        elif event == "done":
            out.print(f"[green]ok[/green] ({data['duration_ms']} ms)")
        elif event == "failed":
            out.print("[red]failed[/red]")
        elif event == "backup-done":
            out.print(f"[dim]backup written: {escape(str(data['path']))}[/dim]")
        elif self.verbose and event == "backup-progress" and data["total"]:
            out.print(f"[dim]backup {100 * data['done'] // data['total']}%[/dim]")
