"""Linting: each section of each migration is split by the dialect, read by the dialect's
analyser (:mod:`dbshift.analysis`), and the rules of :mod:`dbshift.lint.rules` and
``lint/<dialect>.py`` turn what it does into findings; suppressions and settings are applied last.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dbshift.dialects.description import describe
from dbshift.lint.catalogue import (  # noqa: F401 (re-exported)
    HISTORY_RULES,
    _all_rules,
    all_rules,
    dialect_module,
    rules_for,
)
from dbshift.lint.findings import SEVERITIES, Finding, LintScript, LintStatement, Rule
from dbshift.lint.settings import LintSettings, suppressions_above


def lint_sql(
    sql: str,
    dialect: str,
    *,
    file: str = "<sql>",
    first_line: int = 1,
    section: str = "up",
    transactional: bool | None = None,
    settings: LintSettings | None = None,
    file_lines: list[str] | None = None,
    prelude: list[str] = (),
    database=None,
    fresh_tables: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The findings of one SQL script (a migration section) in ``dialect``.

    ``transactional``: dbshift runs the script inside one transaction (default: the dialect's
    habit). ``file_lines`` are the lines of the whole file, for ``-- lint:ignore`` comments
    above statements (default: the script's own lines starting at ``first_line``). ``database``:
    an open :class:`dbshift.dialects.base.Database` whose schema the statements start from (and
    whose data the data-aware rules count); ``prelude``: statements that run before (earlier
    migrations), for analysers that read statements against a schema. ``fresh_tables``: names of
    tables the migration's up creates (when linting its down).
    """
    from dbshift.analysis import analyser_for

    with analyser_for(database if database is not None else dialect) as analyser:
        if analyser.replays_schema:
            analyser.replay(list(prelude))
        to_lint = Section(sql, dialect, file, first_line, section, transactional, file_lines, fresh_tables)
        return _lint_section(to_lint, analyser, settings or LintSettings(), database)[0]


def lint_in_order(
    sections: list[Section],
    dialect: str,
    settings: LintSettings | None = None,
    prelude=(),
    parts=None,
    database=None,
) -> list:
    """The findings of ``sections`` read one after another by one analyser, after ``prelude``
    (a draft's up, then its down, which starts where the up ends; the downs of a rollback, each
    starting where the one before ends). ``database``: an open database whose schema the first
    section starts from (its data is not counted).

    Where the dialect's analyser runs statements on a copy of the schema (SQLite), ``prelude`` is
    iterated (only there) and ``parts`` called: it returns ``(preludes, route)`` when the
    statements fall into independent parts (None: they do not), each part then read by its own
    analyser from its own prelude, ``route`` naming the part of each statement of the sections in
    order. An ALTER TABLE on SQLite re-reads the whole copy, so small copies read faster.
    """
    import contextlib

    from dbshift.analysis import analyser_for

    findings: list[Finding] = []
    with contextlib.ExitStack() as stack:
        analyser = stack.enter_context(analyser_for(database if database is not None else dialect))
        split = parts() if analyser.replays_schema and parts is not None else None
        if split is not None:
            from dbshift.analysis.parts import Parts

            preludes, route = split
            readers = []
            for part_prelude in preludes:
                readers.append(stack.enter_context(analyser_for(dialect)))
                readers[-1].replay(list(part_prelude))
            analyser = Parts(readers, route)
        elif analyser.replays_schema:
            analyser.replay(list(prelude))
        up = None  # a down is weighed against the up read just before it
        for section in sections:
            found, script = _lint_section(
                section, analyser, settings or LintSettings(), None, up=up if section.name == "down" else None
            )
            findings += found
            up = script if section.name == "up" else None
    return findings


@dataclass
class Section:
    """A script to lint and where it comes from."""

    sql: str
    dialect: str
    file: str = "<sql>"
    first_line: int = 1
    name: str = "up"
    transactional: bool | None = None
    file_lines: list[str] | None = None
    fresh_tables: frozenset[str] = frozenset()
    #: For an up: whether its migration has no down, or one without statements (None: not known;
    #: a function when answering costs a split, see :meth:`LintScript.down_is_empty`).
    down_empty: bool | None | Callable[[], bool] = None


def _lint_section(
    section: Section,
    analyser,
    settings: LintSettings,
    database,
    data: bool = True,
    up: LintScript | None = None,
) -> tuple[list[Finding], LintScript]:
    """The findings of ``section`` read by ``analyser`` (which it advances), and the script read
    (``data``: also the data-aware findings when a ``database`` is given). For a down, ``up`` is
    its migration's up as read."""
    module = dialect_module(section.dialect)
    statements = describe(section.dialect).split_script(section.sql, section.first_line)
    file_lines = section.file_lines
    if file_lines is None:
        file_lines = [""] * (section.first_line - 1) + section.sql.split("\n")  # lines as the splitter counts them
    transactional = module.TRANSACTIONAL_DDL and (section.transactional is None or section.transactional)
    # why a statement fails a second run is read by not-rerunnable, for a script outside one
    # transaction only: SQLite compiles each schema change again to tell
    effects = analyser.script([s.sql for s in statements], rerun=not transactional)
    read = [LintStatement(i, s.line, e) for i, (s, e) in enumerate(zip(statements, effects.statements))]
    open_at_end = _mark_transactions(read, transactional)
    script = LintScript(
        section.dialect,
        section.file,
        section.name,
        read,
        effects.rebuilds,
        transactional,
        open_at_end,
        settings.server_version,
        module,
        frozenset(section.fresh_tables),
        up,
        section.down_empty,
    )
    ignored = {s.line: suppressions_above(file_lines, s.line, section.file, _KNOWN_CODES) for s in read}
    findings = []
    for rule in rules_for(section.dialect):
        if rule.code in settings.disabled:
            continue
        for statement, detail in rule.check(script):
            if rule.code not in ignored[statement.line]:
                findings.append(_finding(rule, settings, section.file, statement, detail, section.name))
    if data and database is not None and section.name == "up":
        findings += _data_findings(script, database, settings, ignored)
    return sorted(findings, key=lambda f: (f.line, SEVERITIES.index(f.severity), f.code)), script


class _KnownCodes:
    """Every rule code, gathered only when a ``lint:ignore`` comment names one (a lint whose
    findings come from the cache loads no rule module)."""

    def __contains__(self, code: object) -> bool:
        return code in _all_rules()


_KNOWN_CODES = _KnownCodes()


def _data_findings(script: LintScript, database, settings: LintSettings, ignored: dict) -> list[Finding]:
    """Findings of the data-aware rules: counts on the live database (pending migrations only)."""
    from dbshift.lint.data import DATA_RULES, data_findings

    rules = {rule.code: rule for rule in DATA_RULES}
    return [
        _finding(rules[code], settings, script.file, statement, detail, script.section)
        for statement, code, detail in data_findings(script, database)
        if code not in settings.disabled and code not in ignored[statement.line]
    ]


def _mark_transactions(statements: list[LintStatement], transactional: bool) -> bool:
    """Mark which transaction each statement runs in; whether one is open after the last."""
    open_, current, counter = transactional, (0 if transactional else None), 0
    for statement in statements:
        statement.in_transaction, statement.transaction = open_, current if open_ else None
        for change in statement.changes:
            if change.kind != "transaction":
                continue
            if change.has("begin") and not open_:
                counter += 1
                open_, current = True, counter
            elif not change.has("begin"):
                open_, current = False, None
    return open_


def _finding(
    rule: Rule, settings: LintSettings, file: str, statement: LintStatement, detail: str, section: str
) -> Finding:
    severity = settings.severities.get(rule.code, rule.severity)
    if section == "down" and rule.destructive and severity != "info":
        severity = SEVERITIES[SEVERITIES.index(severity) + 1]
    text = " ".join(statement.effects.sql.split())
    return Finding(
        rule.code,
        severity,
        file,
        statement.line,
        text[:200] + ("..." if len(text) > 200 else ""),
        rule.problem.format(detail=detail).replace(" ()", ""),
        rule.fix,
        section,
    )


def lint_dialect(config, dialect: str | None) -> str | None:
    """The dialect lint reads a project's migrations in: the configured database's, else
    ``dialect`` (``--dialect``). A ``dialect`` other than the database's is a ConfigError: the
    statements would be judged by one dialect's rules on another's analysis of the live schema,
    and ``--fix`` would write SQL the database cannot run."""
    from dbshift.errors import ConfigError

    url = config.url
    if url is None:
        return dialect
    if dialect is not None and dialect != url.dialect:
        raise ConfigError(
            f"--dialect {dialect}, but the database {url.masked()} is {url.dialect}",
            hint="leave --dialect out (it is for a folder with no database configured), or pass --db with a "
            f"{dialect} database",
        )
    return url.dialect


def lint_migrations(
    source,
    dialect: str | None = None,
    *,
    applied: Iterable[int] | None = None,
    settings: LintSettings | None = None,
    database=None,
    before: Iterable = (),
    data: bool = True,
    down: bool = True,
    cache=None,
) -> list[Finding]:
    """The findings of migrations: a :class:`dbshift.project.Project` (its migrations, dialect and
    ``[lint]`` settings) or a list of :class:`dbshift.migrations.Migration` with ``dialect``.

    ``applied`` are the versions already applied (history rules need them; None: not checked).
    ``database``: an open database whose schema the first migration starts from; ``before``:
    migrations not linted that run among them, by version (their statements set up the schema the
    analysis reads the linted ones against, when no ``database`` holds it; linting versions 1 and
    3 reads 3 after 2 ran). ``data``: run the data-aware
    rules (row counts on ``database``); ``down``: lint the down sections too. Apply turns both off
    to stay cheap (it runs the ups only). ``cache``: a :class:`dbshift.lint.cache.FindingsCache`
    whose stored findings stand for migrations read before (ignored with a ``database``).
    """
    from dbshift.errors import ConfigError

    if hasattr(source, "migrations") and callable(source.migrations):
        config = source.config
        settings = settings or LintSettings.from_config(config)
        dialect = lint_dialect(config, dialect)
        source = source.migrations()
    if dialect is None:
        raise ConfigError("lint needs a dialect", hint="configure a database URL, or pass --dialect")
    settings = settings or LintSettings()
    applied = set(applied) if applied is not None else None
    cache = cache if database is None else None  # counts on live data are never remembered
    findings: list[Finding] = []
    with _LazyAnalyser(database if database is not None else dialect, dialect) as analysers:
        chain = ""
        waiting = deque(sorted(before, key=lambda m: m.version))
        for migration in source:
            while waiting and waiting[0].version < migration.version:
                passed = waiting.popleft()
                analysers.skip(passed)
                chain = _chained(cache, chain, passed)
            key = cache.key(chain, migration.checksum) if cache is not None and migration.kind == "sql" else None
            chain = _chained(cache, chain, migration)
            found = cache.get(key, str(migration.path)) if key is not None else None
            lines = _file_lines(migration)
            if found is None:
                found = _section_findings(migration, lines, dialect, settings, database, analysers.get(), data, down)
                if key is not None:
                    cache.put(key, found)
            else:
                analysers.skip(migration)
            findings += found + _history_findings(migration, settings, applied, lines)
    if cache is not None:
        cache.save()
    return findings


def _chained(cache, chain: str, migration) -> str:
    return cache.chain(chain, migration.checksum) if cache is not None else chain


class _LazyAnalyser:
    """The analyser, made when a migration is first read (a lint whose findings all come from the
    cache loads no parser); the migrations passed over are replayed into it first."""

    def __init__(self, db_or_dialect, dialect: str) -> None:
        self._target, self._dialect = db_or_dialect, dialect
        self._analyser = None
        self._skipped: list = []

    def skip(self, migration) -> None:
        """``migration`` ran before the next one read (its up sets up the schema they start from)."""
        if self._analyser is None:
            self._skipped.append(migration)
        elif self._analyser.replays_schema:
            self._analyser.replay(_up_statements(migration, self._dialect))

    def get(self):
        """The analyser, advanced past every migration skipped so far."""
        if self._analyser is None:
            from dbshift.analysis import analyser_for

            self._analyser = analyser_for(self._target).__enter__()
            if self._analyser.replays_schema:
                self._analyser.replay([sql for m in self._skipped for sql in _up_statements(m, self._dialect)])
            self._skipped = []
        return self._analyser

    def __enter__(self) -> _LazyAnalyser:
        return self

    def __exit__(self, *exc) -> None:
        if self._analyser is not None:
            self._analyser.__exit__(*exc)


def _up_statements(migration, dialect: str) -> list[str]:
    if migration.kind != "sql":
        return []
    return [s.sql for s in describe(dialect).split_script(migration.up_sql, migration.up_line)]


def lint_migration(
    migration,
    dialect: str,
    *,
    settings: LintSettings | None = None,
    applied: set[int] | None = None,
    database=None,
    analyser=None,
    data: bool = True,
    down: bool = True,
) -> list[Finding]:
    """The findings of one migration file: its up and down sections and its place in the history.

    ``analyser``: the analyser the earlier migrations were read by (advanced past this one's up);
    default: a new one for ``database`` or ``dialect``.
    """
    from dbshift.analysis import analyser_for

    settings = settings or LintSettings()
    lines = _file_lines(migration)
    history = _history_findings(migration, settings, applied, lines)
    if analyser is None:
        with analyser_for(database if database is not None else dialect) as fresh:
            return _section_findings(migration, lines, dialect, settings, database, fresh, data, down) + history
    return _section_findings(migration, lines, dialect, settings, database, analyser, data, down) + history


def _section_findings(
    migration, lines: list[str], dialect: str, settings: LintSettings, database, analyser, data: bool, down: bool
):
    """The findings of a SQL migration's up (which advances ``analyser``) and down (read
    tentatively: the next migration starts where the up ends); none for a Python migration.
    ``lines``: the file's lines (for ``lint:ignore`` comments)."""
    if migration.kind != "sql":
        return []
    file = str(migration.path)
    up = Section(migration.up_sql, dialect, file, migration.up_line, "up", migration.transaction, lines)
    up.down_empty = lambda: not migration.has_down or not describe(dialect).split_script(migration.down_sql or "", 1)
    findings, script = _lint_section(up, analyser, settings, database, data)
    if migration.has_down and down:
        fresh = frozenset(t.name for s in script.statements for t in s.effects.creates)
        down_section = Section(
            migration.down_sql or "", dialect, file, migration.down_line, "down", migration.transaction, lines, fresh
        )
        with analyser.tentatively() as down_analyser:
            findings += _lint_section(down_section, down_analyser, settings, database, data, up=script)[0]
    return findings


def _file_lines(migration) -> list[str]:
    """The migration file's lines (none for a Python migration): from the text discovery read
    (no second read of 500 files), else from the file."""
    from dbshift.migrations import text_lines

    if migration.kind != "sql":
        return []
    return text_lines(getattr(migration, "text", "") or Path(migration.path).read_text(encoding="utf-8"))


def _history_findings(migration, settings: LintSettings, applied: set[int] | None, lines: list[str]) -> list[Finding]:
    from dbshift.lint.settings import file_suppressions

    rules = {rule.code: rule for rule in HISTORY_RULES}
    found = []
    no_down = not migration.has_down or (migration.kind == "sql" and not (migration.down_sql or "").strip())
    if no_down:
        found.append(("missing-down", ""))
    if applied is not None and migration.version not in applied and any(v > migration.version for v in applied):
        found.append(("pending-before-applied", f"newest applied: {max(applied)}"))
    ignored = file_suppressions(lines, str(migration.path), _KNOWN_CODES)
    return [
        _file_finding(rules[code], settings, str(migration.path), detail)
        for code, detail in found
        if code not in settings.disabled and code not in ignored
    ]


def _file_finding(rule: Rule, settings: LintSettings, file: str, detail: str) -> Finding:
    severity = settings.severities.get(rule.code, rule.severity)
    return Finding(rule.code, severity, file, 1, "", rule.problem.format(detail=detail), rule.fix, "file")
