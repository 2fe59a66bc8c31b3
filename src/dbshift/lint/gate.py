"""Lint at apply time: ``dbshift apply`` lints the up sections it is about to run and refuses
the findings that block (unless ``--force``); the others are printed and the apply goes on.

The policy (``docs/lint.md``, "Lint at apply"): a finding blocks when it is error-level (after
the ``[lint]`` severities) and it is **not**

- a destructive or backward-incompatible change (``drop-table``, ``truncate``...): the safety
  rules already govern data loss (the migration's ``-- destructive`` flag, the backup taken first,
  ``-- loss-check`` and ``rollback --force``), and a drop in a migration is usually meant;
- a data-aware count (not run at apply: counting rows of big tables is not cheap, and the
  statement fails on those rows anyway, inside its transaction);
- ``pending-before-applied``: apply's own out-of-order check (``--allow-out-of-order``) decides.

What is left is what takes a site down or breaks the run: long locks and rewrites
(``index-not-concurrent``, ``constraint-not-valid``...), transaction misuse and NOT NULL without
a default. ``[lint] apply = "warn"`` prints them without refusing; ``"off"`` skips lint at apply.
"""

from __future__ import annotations

from dbshift.lint.findings import Finding

#: Codes that never block apply (governed elsewhere, see the module docstring).
NOT_BLOCKING = frozenset({"pending-before-applied"})


def blocks_apply(finding: Finding, rules: dict) -> bool:
    """Whether ``finding`` stops ``dbshift apply`` (without ``--force``)."""
    rule = rules.get(finding.code)
    return (
        finding.severity == "error"
        and finding.section != "down"
        and finding.code not in NOT_BLOCKING
        and rule is not None
        and rule.check is not None  # data-aware and history rules have no statement check
        and not rule.destructive
    )


def apply_findings(config, db, plan) -> tuple[list[Finding], list[Finding]]:
    """(blocking, other) findings of the up sections of ``plan`` (migrations about to run on
    ``db``, read against its live schema); both empty when ``[lint] apply = "off"``."""
    from dbshift.lint.catalogue import DIALECTS, all_rules
    from dbshift.lint.engine import lint_migrations
    from dbshift.lint.settings import LintSettings

    settings = LintSettings.from_config(config)
    sql = [m for m in plan if m.kind == "sql"]
    if settings.apply == "off" or not sql or db.dialect not in DIALECTS:
        return [], []
    findings = [
        f
        for f in lint_migrations(sql, db.dialect, settings=settings, database=db, data=False)
        if f.section == "up" and f.severity != "info"
    ]
    rules = all_rules()
    blocking = [f for f in findings if settings.apply == "error" and blocks_apply(f, rules)]
    return blocking, [f for f in findings if f not in blocking]


def describe(finding: Finding) -> str:
    """One line: ``file:line: severity code: problem``."""
    return f"{finding.file}:{finding.line}: {finding.severity} {finding.code}: {finding.problem}"


def refuse_blocking(config, db, plan, force: bool, on_event) -> None:
    """Lint ``plan`` before apply: SafetyRefusal listing the blocking findings unless ``force``;
    the other findings (and forced blocking ones) go to ``on_event("lint-findings", lines=...)``."""
    from dbshift.errors import SafetyRefusal

    blocking, other = apply_findings(config, db, plan)
    if blocking and not force:
        listed = "\n".join("  " + describe(f) for f in blocking)
        codes = sorted({f.code for f in blocking})
        raise SafetyRefusal(
            f"apply refused: {len(blocking)} error-level lint finding(s) in the migrations to apply\n{listed}",
            hint=(
                f"make the change safe (`dbshift lint --fix` rewrites some), or put `-- lint:ignore {codes[0]} reason` "
                'above the statement, or pass --force to apply anyway ([lint] apply = "warn" in dbshift.toml '
                "only prints them)"
            ),
        )
    shown = blocking + other
    if shown:
        on_event("lint-findings", lines=[describe(f) for f in shown])
