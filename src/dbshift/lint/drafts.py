"""Lint of the migration ``dbshift diff`` / ``plan`` draft: the findings of its up and down,
read against the schema the draft starts from (``--from``: the migrations' end state, the live
database, a file or a revision), shown as a short block after the draft."""

from __future__ import annotations

from dbshift.lint.findings import Finding


def draft_findings(project, result) -> list[Finding]:
    """The findings of a :class:`dbshift.drafting.draft.DraftResult` (empty when it drafts nothing)."""
    from dbshift.lint.catalogue import DIALECTS
    from dbshift.lint.settings import LintSettings

    dialect = project.config.require_url().dialect
    if result.empty or dialect not in DIALECTS:
        return []
    file = str(result.path) if result.path else "<draft>"
    return plan_findings(result.diff, result.plan, dialect, LintSettings.from_config(project.config), file)


def plan_findings(diff, plan, dialect: str, settings=None, file: str = "<draft>", in_parts: bool = True) -> list:
    """The findings of ``plan`` (drafted for ``diff``): its up, then its down (which starts where
    the up ends), read against the schema the draft starts from (``--from``: the migrations' end
    state, the live database, a file or a revision: the diff's current schema).

    ``in_parts``: where the tables the draft changes fall into independent groups, read each
    group's statements on a copy of only the tables they can reach (the same findings, faster:
    see :func:`_parts`); False: read every statement on one copy of the whole schema (the
    reference the tests compare the parts with).
    """
    from dbshift.dialects.description import describe
    from dbshift.lint.engine import Section, lint_in_order

    sections = [Section(plan.up_sql(), dialect, file, down_empty=not plan.reversible)]
    if plan.reversible:  # the down starts where the up ends: one analyser reads both
        sections.append(Section(plan.down_sql(), dialect, file, name="down"))
    planner = describe(dialect).planner_module()

    def whole_schema():  # read only by an analyser that replays the schema, and without parts
        yield from planner.schema_sql(diff.current)

    parts = (lambda: _parts(diff, plan, dialect, planner)) if in_parts else None
    return lint_in_order(sections, dialect, settings, whole_schema(), parts)


def _parts(diff, plan, dialect: str, planner):
    """``(preludes, route)`` for :func:`dbshift.lint.engine.lint_in_order`: the draft's statements
    in groups that share no table, each group with the statements creating the tables it can
    reach; None when the draft does not split (a view or trigger may read any table; a plan whose
    steps are not one per change).

    A step reaches the tables its change names (both names of a renamed table), their parents and
    children by foreign key (a rebuild checks the keys of the tables that reference it), and the
    parents of those (the key check reads them). SQLite reads nothing else for these statements:
    without views and triggers, an ALTER TABLE fails or rewrites only what names the table.
    """
    from dbshift.dialects.description import describe

    current, desired = diff.current, diff.desired
    if current.views or current.triggers or desired.views or desired.triggers:
        return None
    if len(plan.operations) != len(diff.changes) or not plan.operations:
        return None
    named = [_tables_named(change) for change in diff.changes]
    if any(names is None for names in named):
        return None
    parents: dict[str, set[str]] = {}
    children: dict[str, set[str]] = {}
    for table in current.tables + desired.tables:
        for key in table.foreign_keys:
            parents.setdefault(table.name.lower(), set()).add(key.ref_table.lower())
            children.setdefault(key.ref_table.lower(), set()).add(table.name.lower())
    also = {}
    for old, new in diff.table_renames.items():
        also.setdefault(old.lower(), set()).add(new.lower())
        also.setdefault(new.lower(), set()).add(old.lower())
    groups = _Groups()
    reach = []
    for names in named:
        tables = {n.lower() for n in names}
        tables |= {a for n in tables for a in also.get(n, ())}
        tables |= {c for n in tables for c in children.get(n, ())}
        tables |= {p for n in tables for p in parents.get(n, ())}
        reach.append(tables)
        groups.join(tables)
    part_of = {}  # group root -> part number
    op_parts = [part_of.setdefault(groups.root(next(iter(tables))), len(part_of)) for tables in reach]
    route = _route(plan, op_parts, describe(dialect))
    if route is None:
        return None
    members = [set() for _ in part_of]
    for tables, part in zip(reach, op_parts):
        members[part] |= tables
    preludes = [
        planner.schema_sql(_only(current, [t for t in current.tables if t.name.lower() in keep])) for keep in members
    ]
    return preludes, route


def _only(schema, tables):
    """``schema`` with only ``tables``."""
    from dataclasses import replace

    return replace(schema, tables=tuple(tables))


def _tables_named(change):
    """The names of the tables a change is about, or None for a change this does not know."""
    from dbshift.schema import diff as d

    if isinstance(change, (d.CreateTable, d.DropTable)):
        return {change.table.name}
    if isinstance(change, d.RenameTable):
        return {change.old, change.new}
    if isinstance(change, d.AlterTable):
        return {change.name, change.old.name, change.new.name}
    if isinstance(change, (d.CreateIndex, d.DropIndex)):
        return {change.index.table}
    return None


def _route(plan, op_parts: list[int], description) -> list[int] | None:
    """The part of each statement of the up, then of the down, as the engine splits them (None
    when splitting step by step does not give as many statements as splitting the scripts)."""
    steps = [(op.sql, part) for op, part in zip(plan.operations, op_parts)]
    scripts = [(plan.up_sql(), steps)]
    if plan.reversible:
        steps = [(op.reverse, part) for op, part in zip(reversed(plan.operations), reversed(op_parts))]
        scripts.append((plan.down_sql(), steps))
    route = []
    for script, steps in scripts:
        found = [part for texts, part in steps for text in texts for _ in description.split_script(text)]
        if len(description.split_script(script)) != len(found):
            return None
        route += found
    return route


class _Groups:
    """Names joined into groups (union-find)."""

    def __init__(self):
        self.up: dict[str, str] = {}

    def root(self, name: str) -> str:
        """The name that stands for ``name``'s group."""
        self.up.setdefault(name, name)
        while self.up[name] != name:
            self.up[name] = self.up[self.up[name]]
            name = self.up[name]
        return name

    def join(self, names) -> None:
        """Put ``names`` in one group."""
        names = list(names)
        for name in names[1:]:
            self.up[self.root(name)] = self.root(names[0])


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
