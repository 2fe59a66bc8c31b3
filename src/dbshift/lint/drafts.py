"""Lint of the migration ``dbshift diff`` / ``plan`` draft: the findings of its up and down,
read against the schema the draft starts from (``--from``: the migrations' end state, the live
database, a file or a revision), shown as a short block after the draft."""

from __future__ import annotations

from dbshift.lint.findings import Finding


def draft_findings(project, result) -> list[Finding]:
    """The findings of a :class:`dbshift.drafting.draft.DraftResult` (empty when it drafts nothing)."""
    from dbshift.dialects.description import describe
    from dbshift.lint.catalogue import DIALECTS
    from dbshift.lint.engine import Section, lint_in_order
    from dbshift.lint.settings import LintSettings

    dialect = project.config.require_url().dialect
    if result.empty or dialect not in DIALECTS:
        return []
    settings = LintSettings.from_config(project.config)
    # the draft starts from the diff's current schema, whatever --from named: create it first
    prelude = list(describe(dialect).planner_module().schema_sql(_starting_schema(result.diff)))
    file = str(result.path) if result.path else "<draft>"
    sections = [Section(result.plan.up_sql(), dialect, file)]
    if result.plan.reversible:  # the down starts where the up ends: one analyser reads both
        sections.append(Section(result.plan.down_sql(), dialect, file, name="down"))
    return lint_in_order(sections, dialect, settings, prelude)


def _starting_schema(diff):
    """The part of the schema the draft starts from that its statements can see: the tables it
    changes and the tables their foreign keys name (an ALTER on SQLite reads the whole schema,
    so replaying 500 untouched tables made a 50-table draft's lint take seconds). With views or
    triggers, which may read any table, the whole schema."""
    from dataclasses import fields, replace

    from dbshift.schema.model import Table

    current = diff.current
    if current.views or current.triggers:
        return current
    names = set()
    for change in diff.changes:
        for value in (getattr(change, f.name) for f in fields(change)):
            if isinstance(value, Table):
                names.add(value.name)
            elif isinstance(value, str):  # a table's name (other names match no table)
                names.add(value)
            elif isinstance(getattr(value, "table", None), str):  # an index, by its table
                names.add(value.table)
    names = {n.lower() for n in names}
    touched = {t.name.lower() for t in current.tables if t.name.lower() in names}
    keep = touched | {  # a rebuild's foreign-key check reads the parents
        fk.ref_table.lower() for t in current.tables if t.name.lower() in touched for fk in t.foreign_keys
    }
    return replace(current, tables=tuple(t for t in current.tables if t.name.lower() in keep))


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
