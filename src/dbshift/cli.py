"""The ``dbshift`` command line: a thin Typer layer over :class:`dbshift.project.Project`.

Command modules register themselves on :data:`app`; each keeps its heavy imports inside
its functions so that ``dbshift status`` starts in a few tens of milliseconds.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from dbshift.commands import (
    GLOBAL_FLAGS,
    GLOBAL_OPTIONS,
    State,
    report_error,
    report_internal_error,
    report_usage_error,
)

app = typer.Typer(
    name="dbshift",
    help="dbshift: draft, rehearse, apply and revert database migrations without losing data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    suggest_commands=False,  # click suggests already; Typer's own suggestion printed it twice
)

COMMAND_MODULES = [
    "dbshift.commands.migrate",
    "dbshift.commands.safety",
    "dbshift.commands.draft",
    "dbshift.commands.lint",
    "dbshift.commands.teams",
]


def _print_version(value: bool) -> None:
    if value:
        from dbshift import __version__

        sys.stdout.write(f"dbshift {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str = typer.Option(None, "--db", help="Database URL (overrides dbshift.toml and DATABASE_URL)."),
    env: str = typer.Option(None, "--env", help="Named environment from dbshift.toml."),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Answer yes to confirmation questions."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Show more detail."),
    project: str = typer.Option(None, "-C", "--project", help="Project folder (default: search upwards from here)."),
    lock_timeout: float = typer.Option(
        None, "--lock-timeout", help="Seconds to wait for the migration lock (default 30)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the dbshift version and exit."
    ),
) -> None:
    """Global options; they may also be given after the command name."""
    if lock_timeout is not None:
        from dbshift.config import check_lock_timeout

        check_lock_timeout(lock_timeout, "--lock-timeout")
    ctx.obj = State(db=db, env=env, json=json_output, yes=yes, verbose=verbose, root=project, lock_timeout=lock_timeout)


#: Each command's module: a command loads only its own module, so that Typer builds a small
#: command group (building all 26 costs ~15 ms of every start-up); --help, a group such as
#: ``hooks`` and unknown words load all of COMMAND_MODULES. tests/house/test_cli_homes.py
#: keeps this in step with the modules' registrations.
COMMAND_HOMES = {
    name: module
    for module, names in {
        "dbshift.commands.migrate": ("init", "new", "hash", "status", "history", "apply", "rollback", "repair", "demo"),
        "dbshift.commands.safety": ("backup", "backups", "restore", "verify", "rehearse", "rollback-plan", "report"),
        "dbshift.commands.draft": ("diff", "plan", "inspect"),
        "dbshift.commands.lint": ("lint",),
        "dbshift.commands.teams": ("check", "sync", "baseline", "import", "squash"),
    }.items()
    for name in names
}


def _load_commands(command: str | None) -> None:
    if command in COMMAND_HOMES:
        importlib.import_module(COMMAND_HOMES[command])
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


#: Options a command has of its own under a global option's name (after the command, they are its).
COMMAND_OWN_OPTIONS = {"baseline": {"--version"}}


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
        command = next((a for a in rest if not a.startswith("-")), None)
        if name in COMMAND_OWN_OPTIONS.get(command, ()):
            rest.append(arg)
        elif name in GLOBAL_OPTIONS:
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


def wants_json(args: list[str]) -> bool:
    """Whether hoisted arguments ask for JSON output (``--json`` before any ``--``)."""
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def file_error(exc: OSError):
    """A file-system error as a dbshift error naming the file: exit 2 when the path is to blame."""
    import errno

    from dbshift.errors import CheckFailed, ConfigError

    path_problems = {
        errno.ENAMETOOLONG,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EACCES,
        errno.EPERM,
        errno.EEXIST,
        errno.ELOOP,
        errno.EROFS,
    }
    kind = ConfigError if exc.errno in path_problems else CheckFailed
    where = f"{exc.filename}: " if exc.filename else ""
    return kind(f"{where}{exc.strerror or exc}", hint="check the path, its folders and their permissions")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn dbshift errors into exit codes.

    Every error is one line plus a hint on stderr (with ``--json`` also a JSON object on stdout);
    an unexpected exception is an "internal error" line, never a traceback (``-v`` shows it).
    """
    from dbshift.errors import DbshiftError

    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    as_json = wants_json(args)
    try:
        _load_commands(_command_name(args))
        code = app(args=args, prog_name="dbshift", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except DbshiftError as exc:
        sys.exit(report_error(exc, as_json))
    except KeyboardInterrupt:
        sys.stderr.write("dbshift: interrupted; the current migration was rolled back\n")
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("dbshift: aborted\n")
        sys.exit(1)
    except click.exceptions.ClickException as exc:  # usage errors: bad option, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `dbshift`: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        sys.exit(report_usage_error(exc, as_json))
    except OSError as exc:  # a path the user named: too long, missing, not allowed, a folder
        sys.exit(report_error(file_error(exc), as_json))
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug in dbshift, never a traceback
        sys.exit(report_internal_error(exc, as_json, verbose="-v" in args or "--verbose" in args))
