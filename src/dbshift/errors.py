"""Typed errors: each carries an exit code and a one-line hint for the user."""

from __future__ import annotations


class DbshiftError(Exception):
    """A user-facing error: one line of message, an optional hint, an exit code."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(DbshiftError):
    """Bad configuration, URL or command-line usage (exit 2)."""

    exit_code = 2


class MigrationFileError(DbshiftError):
    """A migration file that is malformed, duplicated or has bad dependencies (exit 2)."""

    exit_code = 2


class UnknownVersionError(DbshiftError):
    """A version named on the command line that no migration has (exit 2)."""

    exit_code = 2


class MigrationFailed(DbshiftError):
    """A statement of a migration failed; the migration was rolled back (exit 1). ``line``: the
    file's line the failure is at, when one statement is to blame."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, line: int | None = None):
        super().__init__(message, hint)
        self.line = line


class CheckFailed(DbshiftError):
    """A verification or check did not pass (exit 1)."""

    exit_code = 1


class SafetyRefusal(DbshiftError):
    """dbshift refused to do something that could lose data (exit 3)."""

    exit_code = 3


class ChecksumMismatch(SafetyRefusal):
    """An applied migration's file changed after it was applied (exit 3)."""


class DirtyState(SafetyRefusal):
    """A migration was left half-applied by a crash (exit 3)."""


class LockHeld(DbshiftError):
    """Another dbshift process holds the migration lock (exit 4)."""

    exit_code = 4


class Interrupted(DbshiftError):
    """The user pressed Ctrl-C during a migration; it was stopped and rolled back (exit 130)."""

    exit_code = 130
