"""Lint of the migration ``dbshift diff`` / ``plan`` draft: the findings of its up and down,
read against the schema the project's migrations build (so a table they create counts as
existing), shown as a short block after the draft."""

from __future__ import annotations

from dbshift.lint.findings import Finding


def draft_findings(project, result) -> list[Finding]:
    """The findings of a :class:`dbshift.drafting.draft.DraftResult` (empty when it drafts nothing)."""
    from dbshift.dialects.description import describe
    from dbshift.lint.catalogue import DIALECTS
    from dbshift.lint.engine import lint_sql
    from dbshift.lint.settings import LintSettings

    dialect = project.config.require_url().dialect
    if result.empty or dialect not in DIALECTS:
        return []
    settings = LintSettings.from_config(project.config)
    split = describe(dialect).split_script
    prelude = [s.sql for m in project.migrations() if m.kind == "sql" for s in split(m.up_sql, m.up_line)]
    file = str(result.path) if result.path else "<draft>"
    findings = lint_sql(result.plan.up_sql(), dialect, file=file, settings=settings, prelude=prelude)
    if result.plan.reversible:
        after_up = prelude + [s.sql for s in split(result.plan.up_sql(), 1)]  # the down starts where the up ends
        findings += lint_sql(
            result.plan.down_sql(), dialect, file=file, section="down", settings=settings, prelude=after_up
        )
    return findings


def render_block(findings: list[Finding]) -> list[str]:
    """The short block printed after a draft: a count, then one line per finding."""
    if not findings:
        return ["lint: no findings in the drafted migration"]
    counts = ", ".join(
        f"{n} {s}{'' if n == 1 else 's'}"
        for s in ("error", "warning", "info")
        if (n := sum(f.severity == s for f in findings))
    )
    lines = [f"lint: {counts} in the drafted migration (`dbshift lint` for the fixes)"]
    lines += [f"  {f.section}:{f.line}: {f.severity} {f.code}: {f.problem}" for f in findings]
    return lines
