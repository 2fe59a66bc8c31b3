"""Lint in ``dbshift check``: the findings of the migrations a revision adds, read on top of its
base's migrations, summed up as one line of the report (a problem while an error-level finding
remains; warnings are counted, not failed)."""

from __future__ import annotations

from dbshift.lint.findings import Finding


def added_findings(config, base_migrations, added) -> list[Finding]:
    """The findings of ``added`` (migrations new since the base), after ``base_migrations``."""
    from dbshift.lint.catalogue import DIALECTS
    from dbshift.lint.engine import lint_migrations
    from dbshift.lint.settings import LintSettings

    dialect = config.require_url().dialect
    if not added or dialect not in DIALECTS:
        return []
    ordered = sorted(added, key=lambda m: m.version)
    settings = LintSettings.from_config(config)
    return lint_migrations(ordered, dialect, settings=settings, before=base_migrations)


def summary(findings: list[Finding]) -> tuple[bool, str]:
    """(ok, detail) for the report: the error-level findings listed, the others counted."""
    errors = [f for f in findings if f.severity == "error"]
    others = len(findings) - len(errors)
    counted = f"{others} warning/info finding(s)" if others else "no warnings"
    if not errors:
        return True, f"no error-level finding in the added migrations ({counted})"
    listed = "; ".join(f"{_name(f.file)}:{f.line} {f.code}" for f in errors)
    return False, (
        f"{len(errors)} error-level finding(s): {listed} ({counted}; see `dbshift lint`, "
        "`dbshift lint --fix`, or `-- lint:ignore CODE reason`)"
    )


def _name(file: str) -> str:
    from pathlib import Path

    return Path(file).name
