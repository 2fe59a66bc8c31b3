"""``dbshift check``: does this revision's set of migrations fit its base, for CI and pull requests?

The migrations added since the base run on top of the base's end state in a scratch database;
the result must be this revision's ``schema.sql`` (when the project keeps one), their downs must
bring the base back, ``dbshift.sum`` must be current and none may be older than the base's newest.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from dbshift import sumfile
from dbshift.errors import ConfigError, DbshiftError
from dbshift.teams.gitsource import GitRevision, migrations_at, repository_root, run_git
from dbshift.teams.squash_records import squashes

DEFAULT_BRANCHES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


@dataclass
class Finding:
    """One line of the report: a check, whether it passed, and what was seen."""

    check: str
    ok: bool
    detail: str


@dataclass
class CheckReport:
    """Everything ``dbshift check`` found."""

    base: str
    base_commit: str
    added: list[str]
    findings: list[Finding] = field(default_factory=list)
    #: The lint findings (:class:`dbshift.lint.Finding`) of the added migrations.
    lint: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every check passed."""
        return all(f.ok for f in self.findings)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "base": self.base,
            "base_commit": self.base_commit,
            "added": self.added,
            "ok": self.ok,
            "findings": [f.__dict__ for f in self.findings],
            "lint": [f.as_json() for f in self.lint],
        }

    def markdown(self) -> str:
        """A Markdown report fit for a pull-request comment."""
        verdict = "all checks passed" if self.ok else "problems found"
        lines = [
            f"## dbshift check: {verdict}",
            "",
            f"Base: `{self.base}` ({self.base_commit[:12]}); migrations added: "
            + (", ".join(f"`{a}`" for a in self.added) or "none"),
            "",
            "| check | result | detail |",
            "|---|---|---|",
        ]
        for finding in self.findings:
            detail = finding.detail.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {finding.check} | {'ok' if finding.ok else '**FAILED**'} | {detail} |")
        return "\n".join(lines) + "\n"


def default_base(project_root) -> tuple[str, str]:
    """The merge base of HEAD with the default branch, and how to name it; a clear error when there is none."""
    root = repository_root(project_root)
    for branch in DEFAULT_BRANCHES:
        done = run_git(root, "merge-base", "HEAD", branch)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip(), f"merge base with {branch}"
    raise ConfigError(
        "cannot tell which branch this one starts from (no origin/HEAD, main or master)",
        hint="pass the base revision: dbshift check --base main (or a commit id)",
    )


def check(project, base: str | None = None, schema_file: str = "schema.sql") -> CheckReport:
    """Check the migrations added since ``base`` (default: the merge base with the default branch)."""
    base, label = (base, base) if base else default_base(project.config.root)
    at_base = GitRevision(project.config.root, base)
    base_migrations = migrations_at(project, base)
    here = project.migrations()
    base_by_version = {m.version: m for m in base_migrations}
    added = [m for m in here if m.version not in base_by_version]
    report = CheckReport(label, at_base.commit, [m.file for m in added])
    report.findings.append(_edited_on_base(here, base_by_version))
    report.findings.append(_out_of_order(added, base_migrations))
    report.findings.append(_sum_file(project, here))
    report.findings.append(_lint(project, base_migrations, added, report))
    report.findings.extend(_run_in_scratch(project, base_migrations, added, schema_file, here))
    return report


def _lint(project, base_migrations, added, report: CheckReport) -> Finding:
    from dbshift.lint.review import added_findings, summary

    report.lint = added_findings(project.config, base_migrations, added)
    return Finding("lint", *summary(report.lint))


def _edited_on_base(here, base_by_version) -> Finding:
    squashed = {(version, digest) for s in squashes(here) for version, _, digest in s.files}  # replaced on purpose
    edited = [
        m.file
        for m in here
        if m.version in base_by_version
        and base_by_version[m.version].checksum != m.checksum
        and (m.version, base_by_version[m.version].checksum) not in squashed
    ]
    removed = [
        m.file
        for v, m in base_by_version.items()
        if v not in {h.version for h in here} and (v, m.checksum) not in squashed
    ]
    problems = [f"edited: {f}" for f in edited] + [f"removed: {f}" for f in removed]
    return Finding(
        "base migrations unchanged",
        not problems,
        "; ".join(problems) or "every migration of the base is here, byte for byte",
    )


def _out_of_order(added, base_migrations) -> Finding:
    newest = max((m.version for m in base_migrations), default=0)
    late = [m.file for m in added if m.version < newest]
    detail = (
        (
            f"older than the base's newest migration {newest}: {', '.join(late)} "
            "(give it a new timestamp, or apply with --allow-out-of-order)"
        )
        if late
        else "none is older than the base's newest"
    )
    return Finding("in order", not late, detail)


def _sum_file(project, here) -> Finding:
    try:
        result = sumfile.check(project.config.migrations_dir, here)
    except DbshiftError as exc:
        return Finding("dbshift.sum current", False, exc.message)
    problems = (
        [f"changed: {f}" for f in result.changed]
        + [f"not in the sum: {f}" for f in result.missing_from_sum]
        + [f"in the sum but no file: {f}" for f in result.missing_files]
    )
    return Finding(
        "dbshift.sum current",
        not problems,
        ("; ".join(problems) + " (run `dbshift hash` and commit it)") if problems else "up to date",
    )


def _run_in_scratch(project, base_migrations, added, schema_file: str, here=()) -> list[Finding]:
    """Apply the base, then the added migrations, compare with schema.sql, then run their downs."""
    from dbshift.drafting import sources
    from dbshift.history import History
    from dbshift.migrations import order_for_apply
    from dbshift.runner import Runner

    dialect = project.config.require_url().dialect
    findings = []
    with _scratch(project, dialect) as db:
        history = History(db)
        history.ensure_tables()
        runner = Runner(db, history)
        try:
            runner.apply(base_migrations)
        except DbshiftError as exc:
            return [Finding("base migrations apply", False, exc.message)]
        base_schema = sources.inspect_database(db)
        ordered = order_for_apply(added)
        try:
            runner.apply(ordered)
        except DbshiftError as exc:
            return [Finding("migrations apply on the base", False, exc.message)]
        findings.append(Finding("migrations apply on the base", True, f"{len(added)} applied in a scratch database"))
        findings.append(_matches_schema_file(project, sources.inspect_database(db), dialect, schema_file))
        findings.append(_downs_restore(runner, ordered, base_schema, dialect, db))
    base_sums = {m.version: m.checksum for m in base_migrations}
    squashed = [m for m in here if m.version in base_sums]
    if any(s.migration.checksum != base_sums[s.version] for s in squashes(squashed)):  # new: it must build the base
        findings.append(_squash_builds_base(project, squashed, base_schema, dialect))
    return findings


def _squash_builds_base(project, squashed, base_schema, dialect: str) -> Finding:
    """A squash of the base's migrations builds, on an empty database, exactly the base's schema."""
    from dbshift.drafting import sources

    with _server(project) as server:
        try:
            built = sources.schema_from_migrations(squashed, dialect, server)
        except DbshiftError as exc:
            return Finding("squash builds the base", False, exc.message)
    return _same(
        "squash builds the base",
        built,
        base_schema,
        dialect,
        "the squashed file builds the base's schema",
        "the squashed file does not build the base's schema",
    )


@contextlib.contextmanager
def _server(project):
    """The server scratch databases are made on: the project's, or None for a database file
    (its scratch is in memory, so CI needs no database file)."""
    if project.config.require_url().path is not None:
        yield None
        return
    with project.connect(readonly=True) as server:
        yield server


@contextlib.contextmanager
def _scratch(project, dialect: str):
    from dbshift.drafting import sources

    with _server(project) as server, sources.scratch_database(dialect, server) as db:
        yield db


def _matches_schema_file(project, after, dialect: str, schema_file: str) -> Finding:
    from dbshift.drafting import sources

    path = project.config.root / schema_file
    if not path.is_file():
        return Finding("matches schema.sql", True, f"no {schema_file} in this project: not compared")
    with _server(project) as server:
        desired = sources.schema_from_file(path, dialect, server)
    return _same(
        "matches schema.sql",
        after,
        desired,
        dialect,
        f"the migrations give exactly {schema_file}",
        f"the migrations do not give {schema_file}",
    )


def _downs_restore(runner, ordered, base_schema, dialect: str, db) -> Finding:
    from dbshift.drafting import sources

    no_down = [m.file for m in ordered if not m.has_down]
    if no_down:
        return Finding("downs restore the base", False, f"no down section: {', '.join(no_down)}")
    try:
        runner.rollback(list(reversed(ordered)))
    except DbshiftError as exc:
        return Finding("downs restore the base", False, exc.message)
    return _same(
        "downs restore the base",
        sources.inspect_database(db),
        base_schema,
        dialect,
        "the downs bring the base's schema back",
        "after the downs the schema is not the base's",
    )


def _same(check_name: str, actual, expected, dialect: str, ok_text: str, bad_text: str) -> Finding:
    from dbshift.drafting.draft import draft_schemas, plan_description

    difference = draft_schemas(actual, expected, dialect)
    if difference.empty:
        return Finding(check_name, True, ok_text)
    return Finding(check_name, False, f"{bad_text}: still needed: {plan_description(difference.plan)}")
