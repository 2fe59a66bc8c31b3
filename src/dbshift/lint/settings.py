"""Lint settings (the ``[lint]`` table of ``dbshift.toml``) and ``-- lint:ignore CODE reason``
suppressions. A rule code that does not exist, or a suppression without a reason, is a
configuration error naming the file and line (exit 2).

``[lint]`` keys: ``disable = ["code", ...]``, ``server_version = 16`` (the PostgreSQL major
version the rules assume), ``apply = "error"|"warn"|"off"`` (what ``dbshift apply`` does with
the findings of the migrations it runs, see :mod:`dbshift.lint.gate`), ``big_table_rows =
100000`` (a table that big makes apply refuse long locks on it) and a ``[lint.severity]``
table (``code = "error"|"warning"|"info"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbshift.lint.findings import SEVERITIES

SUPPRESSION = "lint:ignore"
SETTING_KEYS = {"disable", "severity", "server_version", "apply", "big_table_rows"}
#: A table with at least this many rows is big: apply refuses long locks on it.
DEFAULT_BIG_TABLE_ROWS = 100_000
#: ``[lint] apply``: refuse blocking findings, only print them, or do not lint at apply.
APPLY_MODES = ("error", "warn", "off")
DEFAULT_SERVER_VERSION = 16


@dataclass
class LintSettings:
    """Rules turned off, severities changed, and the server version the rules assume."""

    disabled: frozenset[str] = frozenset()
    severities: dict[str, str] = field(default_factory=dict)
    server_version: int = DEFAULT_SERVER_VERSION
    apply: str = "error"
    big_table_rows: int = DEFAULT_BIG_TABLE_ROWS

    @staticmethod
    def from_config(config) -> LintSettings:
        """The settings of a project's :class:`dbshift.config.Config` (its ``lint`` table)."""
        return LintSettings.from_table(getattr(config, "lint", {}) or {}, config.config_file)

    @staticmethod
    def from_table(table: dict, config_file: Path | None) -> LintSettings:
        """Settings from a ``[lint]`` table; ConfigError naming the file and line when it is wrong."""
        for key in table:
            if key not in SETTING_KEYS:
                _config_error(
                    config_file, key, f"unknown [lint] setting {key!r}", "settings: " + ", ".join(sorted(SETTING_KEYS))
                )
        disabled = table.get("disable", [])
        if not isinstance(disabled, list) or not all(isinstance(code, str) for code in disabled):
            _config_error(
                config_file, "disable", "[lint] disable must be a list of rule codes", 'disable = ["drop-column"]'
            )
        severities = table.get("severity", {})
        if not isinstance(severities, dict):
            _config_error(config_file, "severity", "[lint.severity] must be a table", 'int-key = "error"')
        named = [*disabled, *severities]
        known = _every_code() if named else set()
        for code in named:
            if code not in known:
                _config_error(
                    config_file, code, f"unknown lint rule {code!r}", "the rule codes are listed in docs/lint.md"
                )
        for code, severity in severities.items():
            if severity not in SEVERITIES:
                _config_error(
                    config_file,
                    code,
                    f"severity of {code} must be one of {', '.join(SEVERITIES)}",
                    f'{code} = "warning"',
                )
        version = table.get("server_version", DEFAULT_SERVER_VERSION)
        if not isinstance(version, int) or isinstance(version, bool):
            _config_error(
                config_file, "server_version", "[lint] server_version must be a whole number", "server_version = 16"
            )
        apply = table.get("apply", "error")
        if apply not in APPLY_MODES:
            _config_error(
                config_file,
                "apply",
                f"[lint] apply must be one of {', '.join(map(repr, APPLY_MODES))}, not {apply!r}",
                'apply = "warn"',
            )
        big = table.get("big_table_rows", DEFAULT_BIG_TABLE_ROWS)
        if not isinstance(big, int) or isinstance(big, bool) or big < 1:
            _config_error(
                config_file,
                "big_table_rows",
                "[lint] big_table_rows must be a whole number of rows, 1 or more",
                "big_table_rows = 100000",
            )
        return LintSettings(frozenset(disabled), dict(severities), version, apply, big)


def _every_code() -> set[str]:
    from dbshift.lint.catalogue import all_rules

    return set(all_rules())


def _config_error(config_file: Path | None, needle: str, message: str, hint: str):
    from dbshift.errors import ConfigError

    where = str(config_file or "dbshift.toml")
    if config_file is not None and config_file.is_file():
        lines = config_file.read_text(encoding="utf-8").split("\n")  # TOML lines end at \n only
        in_lint = False
        for number, line in enumerate(lines, 1):
            in_lint = line.strip().startswith("[lint") or (in_lint and not line.strip().startswith("["))
            if in_lint and needle in line:
                where = f"{config_file}:{number}"
                break
    raise ConfigError(f"{where}: {message}", hint=hint)


def _parse(line: str, file: str, number: int, known: set[str]) -> tuple[str, str] | None:
    """The (code, reason) of a ``-- lint:ignore CODE reason`` comment line; None for other lines."""
    from dbshift.errors import ConfigError

    text = line.strip()[2:].strip()
    if not text.startswith(SUPPRESSION) or text[len(SUPPRESSION) : len(SUPPRESSION) + 1].strip():
        return None  # (`lint:ignoredrop-table` is no suppression: the finding stays)
    words = text[len(SUPPRESSION) :].split(None, 1)
    if not words:
        raise ConfigError(f"{file}:{number}: lint:ignore names no rule", hint="-- lint:ignore CODE why it is safe here")
    code = words[0]
    if code not in known:
        raise ConfigError(
            f"{file}:{number}: unknown lint rule {code!r} in lint:ignore",
            hint="the rule codes are listed in docs/lint.md",
        )
    if len(words) < 2 or not words[1].strip():
        raise ConfigError(
            f"{file}:{number}: lint:ignore {code} gives no reason", hint=f"-- lint:ignore {code} why it is safe here"
        )
    return code, words[1].strip()


def suppressions_above(file_lines: list[str], line: int, file: str, known: set[str]) -> dict[str, str]:
    """The ``lint:ignore`` suppressions (code -> reason) in the comment lines right above the
    statement starting at ``line`` (1-based)."""
    found: dict[str, str] = {}
    index = line - 2
    while 0 <= index < len(file_lines) and file_lines[index].strip().startswith("--"):
        parsed = _parse(file_lines[index], file, index + 1, known)
        if parsed is not None:
            found[parsed[0]] = parsed[1]
        index -= 1
    return found


def file_suppressions(file_lines: list[str], file: str, known: set[str]) -> dict[str, str]:
    """Suppressions in a migration's header comments (before ``-- migrate:up``), for findings
    about the whole file."""
    found: dict[str, str] = {}
    for number, line in enumerate(file_lines, 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            break
        if stripped[2:].strip().lower().startswith("migrate:"):
            break
        parsed = _parse(line, file, number, known) if stripped else None
        if parsed is not None:
            found[parsed[0]] = parsed[1]
    return found
