"""``dbshift lint --fix``: rewrite migrations into the safe form where the rewrite is mechanical.

The findings of :mod:`dbshift.lint` say which statements to rewrite; the dialect's lint module
names its rewriter (``FIXER``, e.g. :mod:`dbshift.lint.postgresql_fix`), which builds the new
statements from the parser's tree. This module puts them back in the file (statements not
rewritten keep their text and comments), makes the unified diff, and writes the file and
``dbshift.sum`` only when asked. An applied migration is never rewritten: its checksum would no
longer match the history.
"""

from __future__ import annotations

import codecs
import difflib
import importlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileFix:
    """The rewrite of one migration file."""

    path: Path
    old: str
    new: str
    #: Codes of the findings the rewrite fixes.
    fixed: list[str] = field(default_factory=list)
    #: (code, line, why) of findings it leaves.
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    #: How the file ends its lines and whether it starts with a BOM: written back the same way.
    line_end: str = "\n"
    bom: bool = False

    @property
    def changed(self) -> bool:
        """Whether the file's text changes."""
        return self.old != self.new

    def diff(self, shown: str | None = None) -> str:
        """The unified diff of the rewrite (``shown``: the file name to print)."""
        name = shown or str(self.path)
        lines = difflib.unified_diff(
            self.old.splitlines(keepends=True), self.new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
        return "".join(lines)


def fixer_for(dialect: str):
    """The rewriter module of ``dialect`` (None: lint cannot fix its findings yet)."""
    from dbshift.lint.catalogue import dialect_module

    name = getattr(dialect_module(dialect), "FIXER", None)
    return importlib.import_module(name) if name else None


def refuse_applied(migrations, applied: set[int]) -> None:
    """SafetyRefusal naming the first migration of ``migrations`` already applied."""
    from dbshift.errors import SafetyRefusal

    for migration in migrations:
        if migration.version in applied:
            raise SafetyRefusal(
                f"{migration.path}: already applied, so lint --fix will not rewrite it (its checksum would "
                "no longer match the history)",
                hint="write the safe form in a new migration (`dbshift new NAME`), or lint --diff to only see the fix",
            )


def plan_fixes(project, files: list[Path], every: bool = False, dialect: str | None = None) -> list[FileFix]:
    """The rewrites ``dbshift lint --fix`` makes: of ``files``, or every migration (``every``, or
    no database configured), or the pending ones (with --all too: applied ones are never rewritten). An applied one is refused (SafetyRefusal)."""
    from dbshift.errors import ConfigError
    from dbshift.lint.settings import LintSettings
    from dbshift.migrations import chosen_files

    config = project.config
    dialect = dialect or (config.url.dialect if config.url is not None else None)
    if dialect is None:
        raise ConfigError("lint --fix needs to know the dialect", hint="configure a database URL, or pass --dialect")
    known = project.migrations() if config.migrations_dir.is_dir() else []
    applied = {a.version for a in project.status().applied} if config.url is not None else set()
    if files:
        chosen, others = chosen_files(known, files)
        refuse_applied(chosen, applied)
    else:  # every migration not applied yet (applied ones are never rewritten, even with --all)
        chosen = [m for m in known if m.version not in applied]
        others = [m for m in known if m.version in applied]
    return fix_migrations(chosen, dialect, LintSettings.from_config(config), others)


def fix_migrations(migrations, dialect: str, settings=None, before=()) -> list[FileFix]:
    """The rewrites of ``migrations`` (SQL ones with fixable findings), in order; nothing written."""
    from dbshift.lint.engine import lint_migrations

    fixer = fixer_for(dialect)
    if fixer is None:
        return []
    findings = lint_migrations(migrations, dialect, settings=settings, before=before, data=False)
    fixes = []
    for migration in migrations:
        mine = [
            f
            for f in findings
            if f.section == "up" and f.code in fixer.FIXABLE and Path(f.file) == Path(str(migration.path))
        ]
        if migration.kind == "sql" and mine:
            fixes.append(_fix_one(migration, dialect, fixer, mine))
    return fixes


def _fix_one(migration, dialect: str, fixer, findings) -> FileFix:
    from dbshift.dialects.description import describe

    split = describe(dialect).split_script
    up = split(migration.up_sql, migration.up_line)
    down = split(migration.down_sql or "", migration.down_line) if migration.has_down else []
    by_line = {statement.line: index for index, statement in enumerate(up)}
    wanted = [(f.code, by_line[f.line]) for f in findings if f.line in by_line]
    rewrite = fixer.rewrite([s.sql for s in up], [s.sql for s in down], wanted, migration.transaction)
    raw = Path(migration.path).read_bytes()
    old = _text(migration.path, raw)
    new = _rebuild(old, migration, up, rewrite)
    skipped = [(code, up[index].line, why) for code, index, why in rewrite.skipped]
    line_end = "\r\n" if b"\r\n" in raw else "\n"
    return FileFix(Path(migration.path), old, new, rewrite.fixed, skipped, line_end, raw.startswith(codecs.BOM_UTF8))


def _text(path, raw: bytes) -> str:
    """The file's text as the migration was read from it (its line numbers are the same): not
    ``read_text``, whose universal newlines also end a line at a lone ``\\r``. A CRLF becomes a
    newline, as the migration's statements have it, so each is found in the text."""
    from dbshift.migrations import migration_text

    return migration_text(Path(path), raw).replace("\r\n", "\n")


def _rebuild(text: str, migration, up, rewrite) -> str:
    """The file's text with the up's statements replaced, the ``before`` statements first and a
    ``-- no-transaction`` header when the rewrite needs one."""
    lines = text.split("\n")
    start = migration.up_line - 1  # first line of the up's body (0-based)
    end = migration.down_line - 2 if migration.has_down else len(lines)
    body = "\n".join(lines[start:end])
    rebuilt, cursor = [], 0
    for index, statement in enumerate(up):
        at = body.find(statement.sql, cursor)
        if index in rewrite.statements and at >= 0:
            rebuilt.append(body[cursor:at] + rewrite.statements[index])
            cursor = at + len(statement.sql)
    rebuilt.append(body[cursor:])
    new_body = "\n".join(rewrite.before + ["".join(rebuilt)]) if rewrite.before else "".join(rebuilt)
    header = lines[:start]
    if rewrite.no_transaction and migration.transaction:
        header = header[:-1] + ["-- no-transaction"] + header[-1:]
    return "\n".join(header + [new_body] + lines[end:])


def write_fixes(project, fixes: list[FileFix]) -> None:
    """Write the changed files (with the line ends and BOM each had) and ``dbshift.sum``."""
    for fix in fixes:
        if fix.changed:
            text = ("\ufeff" if fix.bom else "") + fix.new.replace("\n", fix.line_end)
            fix.path.write_bytes(text.encode("utf-8"))
    if any(fix.changed for fix in fixes):
        project.hash()
