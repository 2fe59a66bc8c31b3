"""For the tools that write their migrations' SQL themselves (Alembic's offline mode): running the tool, and taking its bookkeeping (its version table, BEGIN/COMMIT)
out of the SQL it printed, as the dialect's own statement analysis reads it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from dbshift.errors import CheckFailed, ConfigError

TOOL_TIMEOUT = 600


def tool_command(variable: str, executable: str | None, module: str, install_hint: str) -> list[str]:
    """How to run the tool: ``$VARIABLE`` (a command line) when set, else ``executable`` on PATH,
    else ``python -m module`` when this Python has it; a clear error when none is there."""
    import importlib.util

    chosen = os.environ.get(variable)
    if chosen:
        words = shlex.split(chosen)
        if words and shutil.which(words[0]):
            return words
        raise ConfigError(f"{variable}={chosen}: no such command", hint=install_hint)
    if executable and shutil.which(executable):
        return [shutil.which(executable)]
    if importlib.util.find_spec(module) is not None:
        return [sys.executable, "-m", module] if executable else [sys.executable]
    raise ConfigError(f"{module} is not installed, and importing from it runs it", hint=install_hint)


def run_tool(command: list[str], cwd: Path, what: str, hint: str, where=None) -> subprocess.CompletedProcess:
    """Run the tool in ``cwd``; a failure is one line naming ``what`` (and ``where(stdout)``: how far it
    got) with the tool's own last error line."""
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    except OSError as exc:
        raise ConfigError(f"cannot run {command[0]}: {exc.strerror or exc}", hint=hint) from None
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"{what}: no answer after {TOOL_TIMEOUT} s", hint=hint) from None
    if done.returncode != 0:
        at = where(done.stdout) if where else ""
        raise CheckFailed(f"{what} failed{at}: {last_error_line(done.stderr or done.stdout)}", hint=hint)
    return done


def last_error_line(text: str) -> str:
    """The line of a tool's output that says what went wrong (``FAILED: ...``, an exception's last line)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(("FAILED:", "ERROR", "CommandError")) or "Error:" in line:
            return line.removeprefix("FAILED:").strip()
    return lines[-1] if lines else "(no output)"


class BookkeepingFilter:
    """Reads a tool's scripts in order with the dialect's analyser and keeps only the user's statements:
    none that writes the tool's version table, and no BEGIN/COMMIT (dbshift runs each migration in
    its own transaction)."""

    def __init__(self, dialect: str, table: str):
        from dbshift.analysis import analyser_for
        from dbshift.dialects.description import describe

        self.description = describe(dialect)
        self.table = table
        self.analyser = analyser_for(dialect)

    def __enter__(self) -> BookkeepingFilter:
        return self

    def __exit__(self, *exc) -> None:
        self.analyser.close()

    def clean(self, script: str) -> str:
        """``script`` without the bookkeeping statements, one statement after another."""
        kept = []
        for statement in self.description.split_script(script):
            effects = self.analyser.statement(statement.sql)
            if not self._is_bookkeeping(effects):
                sql = statement.sql.strip()
                kept.append(sql if sql.endswith(";") else sql + "\n;")
        return "\n\n".join(kept)

    def _is_bookkeeping(self, effects) -> bool:
        if any(change.kind == "transaction" for change in effects.changes):
            return True
        touched = [*effects.creates, *effects.updates, *effects.inserts, *(d.table for d in effects.drops)]
        touched += [d.table for d in effects.deletes]
        return any(self.analyser.same_name(t.name, self.table) for t in touched)
