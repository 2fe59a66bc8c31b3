"""Linting: each section of each migration is split by the dialect, read by the dialect's
analyser (:mod:`dbshift.analysis`), and the rules of :mod:`dbshift.lint.rules` and
``lint/<dialect>.py`` turn what it does into findings; suppressions and settings are applied last.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

from dbshift.lint.findings import SEVERITIES, Finding, LintScript, LintStatement, Rule
from dbshift.lint.rules import COMMON_RULES
from dbshift.lint.settings import LintSettings, suppressions_above

#: The lint module of each dialect (its rules, type names and whether its DDL is transactional).
DIALECT_MODULES = {"sqlite": "dbshift.lint.sqlite", "postgresql": "dbshift.lint.postgresql", "mysql": "dbshift.lint.mysql"}
#: The statement splitter of each dialect (module, function); pure Python, no driver needed.
SPLITTERS = {"sqlite": ("dbshift.dialects.sqlite", "split_sqlite_script"),
             "postgresql": ("dbshift.dialects.postgresql", "split_postgresql_script"),
             "mysql": ("dbshift.dialects.mysql", "split_mysql_script")}

HISTORY_RULES = [
    Rule("missing-down", "warning", frozenset(DIALECT_MODULES), "No down section",
         "the migration has no down: `dbshift rollback` cannot undo it",
         "write a `-- migrate:down` section (mark it lossy when it cannot bring every value back)",
         lambda script: ()),
    Rule("pending-before-applied", "error", frozenset(DIALECT_MODULES), "Pending migration older than an applied one",
         "this pending migration is older than migrations already applied ({detail}): it runs after them, "
         "in an order no other database saw",
         "give it a new timestamp (rename the file) so it runs after the applied ones",
         lambda script: ()),
]


def dialect_module(dialect: str):
    """The lint module of ``dialect``; ConfigError for an unknown one."""
    from dbshift.errors import ConfigError

    if dialect not in DIALECT_MODULES:
        raise ConfigError(f"no lint rules for dialect {dialect!r}", hint="dialects: " + ", ".join(DIALECT_MODULES))
    return importlib.import_module(DIALECT_MODULES[dialect])


def all_rules() -> dict[str, Rule]:
    """Every rule of every dialect, by code."""
    from dbshift.lint.data import DATA_RULES

    rules = {rule.code: rule for rule in COMMON_RULES + HISTORY_RULES + DATA_RULES}
    for dialect in DIALECT_MODULES:
        rules.update({rule.code: rule for rule in dialect_module(dialect).RULES})
    return rules


def rules_for(dialect: str) -> list[Rule]:
    """The rules that apply to ``dialect``, shared ones first."""
    return [r for r in COMMON_RULES + list(dialect_module(dialect).RULES) if dialect in r.dialects]


def lint_sql(sql: str, dialect: str, *, file: str = "<sql>", first_line: int = 1, section: str = "up",
             transactional: bool | None = None, settings: LintSettings | None = None,
             file_lines: list[str] | None = None, prelude: list[str] = (), database=None,
             fresh_tables: frozenset[str] = frozenset()) -> list[Finding]:
    """The findings of one SQL script (a migration section) in ``dialect``.

    ``transactional``: dbshift runs the script inside one transaction (default: the dialect's
    habit). ``file_lines`` are the lines of the whole file, for ``-- lint:ignore`` comments
    above statements (default: the script's own lines starting at ``first_line``). ``database``:
    an open :class:`dbshift.dialects.base.Database` whose schema the statements start from;
    ``prelude``: statements that run before (earlier migrations), for analysers that need them.
    ``fresh_tables``: names of tables the migration's up creates (when linting its down).
    """
    settings = settings or LintSettings()
    module = dialect_module(dialect)
    module_name, function = SPLITTERS[dialect]
    statements = getattr(importlib.import_module(module_name), function)(sql, first_line)
    if file_lines is None:
        file_lines = [""] * (first_line - 1) + sql.splitlines()
    script = _read_script(dialect, module, [s.sql for s in statements], [s.line for s in statements],
                          file, section, module.TRANSACTIONAL_DDL if transactional is None else transactional and module.TRANSACTIONAL_DDL,
                          settings, prelude, database)
    script.fresh_tables = frozenset(fresh_tables)
    known = set(all_rules())
    ignored = {s.line: suppressions_above(file_lines, s.line, file, known) for s in script.statements}
    findings = []
    for rule in rules_for(dialect):
        if rule.code in settings.disabled:
            continue
        for statement, detail in rule.check(script):
            if rule.code not in ignored[statement.line]:
                findings.append(_finding(rule, settings, file, statement, detail, section))
    if database is not None and section == "up":
        findings += _data_findings(script, database, settings, ignored)
    return sorted(findings, key=lambda f: (f.line, SEVERITIES.index(f.severity), f.code))


def _read_script(dialect, module, sqls: list[str], lines: list[int], file: str, section: str,
                 transactional: bool, settings: LintSettings, prelude: list[str], database) -> LintScript:
    from dbshift.analysis import analyser_for

    with analyser_for(database if database is not None else dialect) as analyser:
        if analyser.replays_schema:
            for sql in prelude:
                analyser.statement(sql)
        effects = analyser.script(sqls)
    statements = [LintStatement(index, line, effect) for index, (line, effect) in enumerate(zip(lines, effects.statements))]
    open_at_end = _mark_transactions(statements, transactional)
    return LintScript(dialect, file, section, statements, effects.rebuilds, transactional, open_at_end,
                      settings.server_version, module)


def _data_findings(script: LintScript, database, settings: LintSettings, ignored: dict) -> list[Finding]:
    """Findings of the data-aware rules: counts on the live database (pending migrations only)."""
    from dbshift.lint.data import DATA_RULES, data_findings

    rules = {rule.code: rule for rule in DATA_RULES}
    return [_finding(rules[code], settings, script.file, statement, detail, script.section)
            for statement, code, detail in data_findings(script, database)
            if code not in settings.disabled and code not in ignored[statement.line]]


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


def _finding(rule: Rule, settings: LintSettings, file: str, statement: LintStatement, detail: str,
             section: str) -> Finding:
    severity = settings.severities.get(rule.code, rule.severity)
    if section == "down" and rule.destructive and severity != "info":
        severity = SEVERITIES[SEVERITIES.index(severity) + 1]
    text = " ".join(statement.effects.sql.split())
    return Finding(rule.code, severity, file, statement.line, text[:200] + ("..." if len(text) > 200 else ""),
                   rule.problem.format(detail=detail).replace(" ()", ""), rule.fix, section)


def lint_migrations(source, dialect: str | None = None, *, applied: Iterable[int] | None = None,
                    settings: LintSettings | None = None, database=None, before: Iterable = ()) -> list[Finding]:
    """The findings of migrations: a :class:`dbshift.project.Project` (its migrations, dialect and
    ``[lint]`` settings) or a list of :class:`dbshift.migrations.Migration` with ``dialect``.

    ``applied`` are the versions already applied (history rules need them; None: not checked).
    ``database``: an open database whose schema the first migration starts from; ``before``:
    migrations that run before the first one (their statements set up the schema the analysis
    reads the linted ones against, when no ``database`` holds it).
    """
    from dbshift.errors import ConfigError

    if hasattr(source, "migrations") and callable(source.migrations):
        config = source.config
        settings = settings or LintSettings.from_config(config)
        dialect = dialect or (config.url.dialect if config.url is not None else None)
        source = source.migrations()
    if dialect is None:
        raise ConfigError("lint needs a dialect", hint="configure a database URL, or pass --dialect")
    settings = settings or LintSettings()
    applied = set(applied) if applied is not None else None
    findings: list[Finding] = []
    prelude: list[str] = []
    for migration in before:
        prelude += _up_statements(migration, dialect)
    for migration in source:
        findings.extend(lint_migration(migration, dialect, settings=settings, applied=applied, prelude=prelude,
                                       database=database))
        prelude = prelude + _up_statements(migration, dialect)
    return findings


def _up_statements(migration, dialect: str) -> list[str]:
    if migration.kind != "sql":
        return []
    module_name, function = SPLITTERS[dialect]
    return [s.sql for s in getattr(importlib.import_module(module_name), function)(migration.up_sql, migration.up_line)]


def lint_migration(migration, dialect: str, *, settings: LintSettings | None = None,
                   applied: set[int] | None = None, prelude: list[str] = (), database=None) -> list[Finding]:
    """The findings of one migration file: its up and down sections and its place in the history."""
    settings = settings or LintSettings()
    file = str(migration.path)
    lines = Path(migration.path).read_text(encoding="utf-8").splitlines() if migration.kind == "sql" else []
    findings = []
    if migration.kind == "sql":
        transactional = migration.transaction
        findings += lint_sql(migration.up_sql, dialect, file=file, first_line=migration.up_line, section="up",
                             transactional=transactional, settings=settings, file_lines=lines,
                             prelude=prelude, database=database)
        up = _up_statements(migration, dialect)
        fresh = _created_tables(up, dialect)
        if migration.has_down:
            findings += lint_sql(migration.down_sql or "", dialect, file=file, first_line=migration.down_line,
                                 section="down", transactional=transactional, settings=settings, file_lines=lines,
                                 prelude=[*prelude, *up], database=database, fresh_tables=fresh)
    findings += _history_findings(migration, settings, applied, lines)
    return findings


def _created_tables(statements: list[str], dialect: str) -> frozenset[str]:
    """Names of the tables ``statements`` create (read by the dialect's analyser)."""
    from dbshift.analysis import analyser_for

    with analyser_for(dialect) as analyser:
        effects = analyser.script(statements)
    return frozenset(table.name for statement in effects.statements for table in statement.creates)


def _history_findings(migration, settings: LintSettings, applied: set[int] | None, lines: list[str]) -> list[Finding]:
    from dbshift.lint.settings import file_suppressions

    rules = {rule.code: rule for rule in HISTORY_RULES}
    found = []
    no_down = not migration.has_down or (migration.kind == "sql" and not (migration.down_sql or "").strip())
    if no_down:
        found.append(("missing-down", ""))
    if applied is not None and migration.version not in applied and any(v > migration.version for v in applied):
        found.append(("pending-before-applied", f"newest applied: {max(applied)}"))
    ignored = file_suppressions(lines, str(migration.path), set(all_rules()))
    return [_file_finding(rules[code], settings, str(migration.path), detail)
            for code, detail in found if code not in settings.disabled and code not in ignored]


def _file_finding(rule: Rule, settings: LintSettings, file: str, detail: str) -> Finding:
    severity = settings.severities.get(rule.code, rule.severity)
    return Finding(rule.code, severity, file, 1, "", rule.problem.format(detail=detail), rule.fix, "file")
