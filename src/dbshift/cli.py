"""The ``dbshift`` command line: a thin Typer layer over :class:`dbshift.project.Project`.

Command modules register themselves on :data:`app`; each keeps its heavy imports inside
its functions so that ``dbshift status`` starts in a few tens of milliseconds.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from dbshift.commands import GLOBAL_FLAGS, GLOBAL_OPTIONS, State, report_error

app = typer.Typer(
    name="dbshift",
    help="dbshift: draft, rehearse, apply and revert database migrations without losing data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

COMMAND_MODULES = [
    "dbshift.commands.migrate",
    "dbshift.commands.safety",
    "dbshift.commands.draft",
    "dbshift.commands.lint",
]


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", help="Database URL (overrides dbshift.toml and DATABASE_URL)."),
    env: str = typer.Option(None, "--env", help="Named environment from dbshift.toml."),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to confirmation questions."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Show more detail."),
    project: str = typer.Option(None, "-C", "--project", help="Project folder (default: search upwards from here)."),
    lock_timeout: float = typer.Option(None, "--lock-timeout", help="Seconds to wait for the migration lock (default 30)."),
) -> None:
    """Global options; they may also be given after the command name."""
    ctx.obj = State(db=db, env=env, json=json_output, yes=yes, verbose=verbose, root=project, lock_timeout=lock_timeout)


#: Everyday commands load only their own module, so that Typer builds a small command group;
#: every other command (and --help) loads all of COMMAND_MODULES.
EVERYDAY_COMMANDS = {
    name: "dbshift.commands.migrate"
    for name in ("init", "new", "hash", "status", "history", "apply", "rollback", "repair", "demo")
}


def _load_commands(command: str | None) -> None:
    if command in EVERYDAY_COMMANDS:
        importlib.import_module(EVERYDAY_COMMANDS[command])
        return
    for module in COMMAND_MODULES:
        importlib.import_module(module)


def _command_name(args: list[str]) -> str | None:
    """The command in hoisted arguments: the first word after the global options."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.split("=", 1)[0] in GLOBAL_OPTIONS:
            index += 1 if "=" in arg else 2
        elif arg in GLOBAL_FLAGS:
            index += 1
        else:
            return None if arg.startswith("-") else arg
    return None


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options written after the command name in front of it."""
    front, rest = [], []
    index = 0
    while index < len(argv):
        arg = argv[index]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(argv[index:])
            break
        if name in GLOBAL_OPTIONS:
            front.append(arg)
            if "=" not in arg and index + 1 < len(argv):
                front.append(argv[index + 1])
                index += 1
        elif arg in GLOBAL_FLAGS:
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn dbshift errors into exit codes."""
    from dbshift.errors import DbshiftError

    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    _load_commands(_command_name(args))
    try:
        code = app(args=args, prog_name="dbshift", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except DbshiftError as exc:
        sys.exit(report_error(exc))
    except KeyboardInterrupt:
        sys.stderr.write("dbshift: interrupted; the current migration was rolled back\n")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("dbshift: aborted\n")
        sys.exit(1)
    except click.exceptions.ClickException as exc:  # usage errors: bad option, missing argument
        exc.show()
        sys.exit(exc.exit_code)
