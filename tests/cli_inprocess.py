"""The CLI run in this process through its entry point, :func:`dbshift.cli.main`: thousands of runs
take seconds instead of the minutes as many subprocesses would."""

from __future__ import annotations

import io
import traceback
from contextlib import redirect_stderr, redirect_stdout

from conftest import CLIResult


def run_dbshift(*args: str) -> CLIResult:
    """``dbshift ARGS`` as a user would type it: exit code, stdout and stderr."""
    from dbshift.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # noqa: BLE001 - what `python -m dbshift` would print: a traceback, exit 1
            err.write(traceback.format_exc())
            code = 1
    return CLIResult(code, out.getvalue(), err.getvalue())


def is_one_error_with_hint(result: CLIResult) -> bool:
    """stderr is exactly ``error: ...`` and ``hint: ...``, and neither stream holds a traceback."""
    lines = result.stderr.strip().splitlines()
    return (
        len(lines) == 2
        and lines[0].startswith("error: ")
        and lines[1].startswith("hint: ")
        and "Traceback" not in result.output
        and "internal error" not in result.output
    )
