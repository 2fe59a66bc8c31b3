"""Shared pieces of the CLI: global state, output helpers, error reporting.

Rich is imported only when something is printed, never at start-up of a JSON command.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

GLOBAL_OPTIONS = {"--db", "--env", "-C", "--project", "--lock-timeout"}
GLOBAL_FLAGS = {"--json", "-y", "--yes", "-v", "--verbose", "--version"}


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

#: The width of output that is not a terminal (a pipe, a file, a CI log): wide enough that Rich
#: never cuts a version, name or path; tables still take only the width their cells need.
UNLIMITED_WIDTH = 100_000


def _new_console(stderr: bool):
    from rich.console import Console

    made = Console(stderr=stderr, highlight=False)
    if not made.is_terminal:
        made.width = UNLIMITED_WIDTH
    return made


def console():
    """The shared Rich console (stdout); not cut to any width when stdout is not a terminal."""
    global _console
    if _console is None:
        _console = _new_console(stderr=False)
    return _console


def error_console():
    """The shared Rich console for stderr; not cut to any width when stderr is not a terminal."""
    global _error_console
    if _error_console is None:
        _error_console = _new_console(stderr=True)
    return _error_console


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def report_error(exc, as_json: bool = False) -> int:
    """Print a dbshift error as one line plus a hint (with ``as_json`` also as JSON on stdout);
    return its exit code."""
    return _report(exc.message, exc.hint, exc.exit_code, error_code(exc), as_json)


def report_usage_error(exc, as_json: bool = False) -> int:
    """Print a command-line usage error (click's) as one line plus a hint; return its exit code (2)."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "dbshift"
    return _report(exc.format_message(), f"see `{command} --help`", exc.exit_code, "usage_error", as_json)


def report_internal_error(exc: BaseException, as_json: bool = False, verbose: bool = False) -> int:
    """The last resort for an unexpected exception: one "internal error" line, the traceback only
    with ``-v``; return 1."""
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    message = f"internal error: {type(exc).__name__}: {exc}"
    hint = "this is a bug in dbshift; run again with -v for the details and report it"
    return _report(message, hint, 1, "internal_error", as_json)


def error_code(exc) -> str:
    """A stable name for the kind of error: ``ConfigError`` -> ``config_error``."""
    name = type(exc).__name__
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def _report(message: str, hint: str | None, exit_code: int, code: str, as_json: bool) -> int:
    from rich.markup import escape

    message, hint = shorten_paths(message), shorten_paths(hint) if hint else hint
    if as_json:
        print_json({"error": {"code": code, "message": message, "hint": hint, "exit_code": exit_code}})
    error_console().print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)
    if hint:
        error_console().print(f"[dim]hint:[/dim] {escape(hint)}", soft_wrap=True)
    return exit_code


def escape(value) -> str:
    """``value`` as text that Rich prints as it is: a path or name with ``[brackets]`` is not markup."""
    from rich.markup import escape as escape_markup

    return escape_markup(str(value))


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

    #: Off a terminal, a long step's progress is written at most this often.
    PLAIN_PROGRESS_SECONDS = 5.0

    def __init__(self, verbose: bool = False):
        self.verbose = verbose
        self._last_progress = 0.0

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
        elif event == "lost-values":
            lost = ", ".join(f"{n} of {label}" for label, n in data["counts"].items() if n)
            out.print(
                f"[yellow]warning: {data['total']} value(s) will not come back if {escape(data['migration'].label)} "
                f"is rolled back ({escape(lost)}); a backup or `dbshift restore` is the way back for them[/yellow]",
                soft_wrap=True,
            )
        elif event == "interrupted":
            out.print("[red]interrupted[/red]")
        elif event in ("running", "progress"):
            self._progress(data)
        elif event == "progress-done" and self._last_progress:
            sys.stdout.write("\r\x1b[2K" if console().is_terminal else "\n")
            self._last_progress = 0.0
        elif event == "lint-findings":
            for line in data["lines"]:
                out.print(f"[yellow]lint: {escape(line)}[/yellow]", soft_wrap=True)
        elif event == "waiting":
            error_console().print(f"[yellow]{escape(data['message'])}[/yellow]", soft_wrap=True)
        elif event == "backup-done":
            out.print(f"[dim]backup written: {escape(str(data['path']))}[/dim]")
        elif self.verbose and event == "backup-progress" and data["total"]:
            out.print(f"[dim]backup {100 * data['done'] // data['total']}%[/dim]")

    def _progress(self, data: dict) -> None:
        """A long step's progress: rewritten in place on a terminal, a line every few seconds otherwise."""
        import time

        if "message" in data:
            text = data["message"]
        else:
            arrow = "↑ applying" if data["direction"] == "up" else "↓ reverting"
            at = f"statement at line {data['line']}" if data.get("line") else "running"
            text = f"{arrow} {data['migration'].label} ... {at}: {data['seconds']:.0f} s "
        now = time.monotonic()
        if console().is_terminal:
            self._last_progress = now
            sys.stdout.write(f"\r\x1b[2K{text}")
            sys.stdout.flush()
            return
        if now - self._last_progress >= self.PLAIN_PROGRESS_SECONDS:
            self._last_progress = now
            sys.stdout.write(f"\n{text}")
            sys.stdout.flush()
