"""Which tables a statement may write, read from its text (the servers' ``watch_tables``).

Conservative: a statement that may write a table marks it, and one whose effect the text cannot
show (CALL, DO, EXECUTE...) is "opaque", so the row-count check is skipped rather than guessed.
PostgreSQL and MySQL/MariaDB share it; each dialect names its own string and comment syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbshift.dialects.base import TableWatch
from dbshift.dialects.description import describe
from dbshift.dialects.identifiers import IDENTIFIER_PART, IDENTIFIER_START

_NAME = rf'(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|{IDENTIFIER_START}{IDENTIFIER_PART}*)'
_TARGET = rf"(?P<table>{_NAME}(?:\s*\.\s*{_NAME}){{0,2}})"
_LIST = rf"(?P<tables>{_NAME}(?:\s*\.\s*{_NAME}){{0,2}}(?:\s*,\s*{_NAME}(?:\s*\.\s*{_NAME}){{0,2}})*)"
_FLAGS = re.IGNORECASE | re.DOTALL


def _patterns(*texts: str) -> list[re.Pattern]:
    return [re.compile(text, _FLAGS) for text in texts]


#: Statements that add or remove rows of their target (its row count may change on purpose).
_ROW_CHANGES = _patterns(
    rf"\bINSERT\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*(?:INTO\s+)?{_TARGET}",
    rf"\bREPLACE\s+(?:(?:LOW_PRIORITY|DELAYED)\s+)*INTO\s+{_TARGET}",
    rf"^\s*REPLACE\s+(?:(?:LOW_PRIORITY|DELAYED)\s+)*{_TARGET}",
    rf"\bDELETE\s+(?:(?:LOW_PRIORITY|QUICK|IGNORE)\s+)*FROM\s+(?:ONLY\s+)?{_TARGET}",
    rf"\bMERGE\s+INTO\s+(?:ONLY\s+)?{_TARGET}",
    rf"\bTRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?{_LIST}",
    rf"\bCOPY\s+{_TARGET}\s*(?:\([^)]*\)\s*)?FROM\b",
    rf"\bLOAD\s+(?:DATA|XML)\b.*?\bINTO\s+TABLE\s+{_TARGET}",
    rf"\b(?:ATTACH|DETACH)\s+PARTITION\s+{_TARGET}",
)
_ALTER_TABLE = re.compile(
    rf"\bALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_TARGET}", _FLAGS
)
#: Statements that change a table's rows or definition but not its row count.
_WRITES = [_ALTER_TABLE] + _patterns(
    rf"\bUPDATE\s+(?:(?:LOW_PRIORITY|IGNORE)\s+)*(?:ONLY\s+)?{_TARGET}",
    rf"\bRENAME\s+(?:TO|AS)\s+{_TARGET}",
    rf"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b.*?\bON\s+(?:ONLY\s+)?{_TARGET}",
    rf"\bDROP\s+INDEX\b.*?\bON\s+{_TARGET}",
    rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:CONSTRAINT\s+)?TRIGGER\b.*?\bON\s+{_TARGET}",
)
_CREATES = _patterns(
    rf"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL|TEMPORARY|TEMP|UNLOGGED)\s+)*"
    rf"TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_TARGET}",
    rf"^\s*SELECT\b.*?\bINTO\s+(?:(?:TEMPORARY|TEMP|UNLOGGED)\s+)?(?:TABLE\s+)?{_TARGET}",
)
_DROPS = _patterns(rf"\bDROP\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?{_LIST}")
_RENAME_TABLE = re.compile(r"^\s*RENAME\s+TABLES?\s+(?P<pairs>.*)$", _FLAGS)
#: An ALTER that can drop rows: MySQL's ALTER IGNORE (drops duplicates) and partition changes.
_LOSSY_ALTER = re.compile(r"^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+TABLE\b|TABLE\b.*\bPARTITION\b)", _FLAGS)
#: Statements whose writes the text does not show.
_OPAQUE = re.compile(r"^\s*(?:CALL|DO|EXECUTE|PREPARE|HANDLER|IMPORT)\b|\bTRUNCATE\b.*\bCASCADE\b", _FLAGS)
#: The same inside a routine or trigger body, where statements follow each other.
_OPAQUE_IN_BODY = re.compile(r"\b(?:CALL|EXECUTE|PREPARE)\b|\bTRUNCATE\b.*\bCASCADE\b", _FLAGS)
_DELETE_HEAD = re.compile(r"^\s*DELETE\s+(?:(?:LOW_PRIORITY|QUICK|IGNORE)\s+)*(?P<from>FROM\s+)?", _FLAGS)
_DELETE_TAIL = re.compile(r"\b(?:WHERE|ORDER|LIMIT|RETURNING)\b", _FLAGS)
#: Words the patterns above may catch that are never a table (``AFTER INSERT OR UPDATE ON``...).
_NOT_TABLES = {
    "on",
    "or",
    "of",
    "into",
    "select",
    "values",
    "value",
    "set",
    "from",
    "where",
    "cascade",
    "restrict",
    "no",
    "nowait",
    "skip",
    "only",
    "table",
    "if",
    "default",
    "null",
    "to",
    "as",
    "current_timestamp",
    "partition",
    "with",
    "returning",
    "outfile",
    "dumpfile",
}


def _code_only(sql: str, dialect: str) -> str:
    """``sql`` with its strings and comments blanked out (the dialect's description says what they are)."""
    return re.sub(describe(dialect).strings_and_comments, " ", sql, flags=re.DOTALL)


@dataclass
class StatementWrites:
    """What one statement may write, by table name (see :func:`statement_writes`)."""

    written: set[str] = field(default_factory=set)
    row_changes: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    #: The text cannot show what it writes (a procedure call, dynamic SQL...).
    opaque: bool = False


def statement_writes(sql: str, dialect: str, tables: set[str] = frozenset()) -> StatementWrites:
    """The tables ``sql`` may write, from its text, in ``dialect`` (``postgresql`` or ``mysql``).

    ``tables`` (the existing tables) is what a multi-table DELETE is checked against: every one
    it mentions counts as losing rows.
    """
    text = _code_only(sql, dialect)
    fold_case = describe(dialect).folds_unquoted_names
    found = StatementWrites(opaque=bool(_OPAQUE.match(text)))

    def names(patterns: list[re.Pattern]) -> set[str]:
        return {
            name
            for pattern in patterns
            for match in pattern.finditer(text)
            if not _after_key_word(text, match)
            for name in _names_in(match, fold_case)
        }

    found.row_changes = names(_ROW_CHANGES)
    found.created, found.dropped = names(_CREATES), names(_DROPS)
    found.written = names(_WRITES) | found.row_changes | found.created | found.dropped
    if rename := _RENAME_TABLE.match(text):
        found.written |= {_unquote(n, fold_case) for n in re.findall(_NAME, rename["pairs"]) if n.upper() != "TO"}
    if _LOSSY_ALTER.match(text):
        found.row_changes |= names([_ALTER_TABLE])
    if _is_multi_table_delete(text):
        found.row_changes |= {n for n in (_unquote(w, fold_case) for w in re.findall(_NAME, text)) if n in tables}
    found.written |= found.row_changes
    return found


def _is_multi_table_delete(text: str) -> bool:
    """MySQL's ``DELETE a, b FROM ...`` and ``DELETE FROM a USING ...`` (PostgreSQL's too)."""
    head = _DELETE_HEAD.match(text)
    if head is None:
        return False
    tail = _DELETE_TAIL.search(text, head.end())
    tables = text[head.end() : tail.start() if tail else len(text)]
    return not head["from"] or bool(re.search(r"\bUSING\b|\bJOIN\b|,", tables, re.IGNORECASE))


def _after_key_word(text: str, match: re.Match) -> bool:
    """``ON DUPLICATE KEY UPDATE col``, ``FOR UPDATE OF t``: an UPDATE that writes no table."""
    return bool(re.search(r"\b(?:KEY|FOR)\s*$", text[: match.start()], re.IGNORECASE))


def _names_in(match: re.Match, fold_case: bool) -> set[str]:
    group = match.groupdict().get("tables") or match.group("table")
    qualified = re.findall(rf"{_NAME}(?:\s*\.\s*{_NAME}){{0,2}}", group)
    names = {_unquote(re.findall(_NAME, q)[-1], fold_case) for q in qualified}
    return {n for n in names if n.lower() not in _NOT_TABLES}


def _unquote(name: str, fold_case: bool) -> str:
    if name[0] in '"`':
        return name[1:-1].replace(name[0] * 2, name[0])
    return name.lower() if fold_case else name


class WriteWatcher:
    """What the statements run while watching may write, with what their triggers, routines and
    ON DELETE CASCADE keys write (the servers' :meth:`Database.watch_tables`)."""

    def __init__(self, dialect: str, tables: set[str]):
        self.watch = TableWatch()
        self.dialect, self.tables = dialect, tables
        self.texts: list[str] = []
        self.opaque = False

    def note(self, sql: str) -> None:
        """Add one statement that ran."""
        self.texts.append(sql)
        self._add(statement_writes(sql, self.dialect, self.tables))

    def _add(self, found: StatementWrites) -> None:
        watch = self.watch
        watch.written |= found.written
        watch.row_changes |= found.row_changes
        watch.created |= found.created
        watch.dropped |= found.dropped
        self.opaque |= found.opaque

    def _follow(self, body: str | None) -> None:
        """Add what a trigger or routine body writes; a body the catalog does not show is opaque."""
        if body is None or _OPAQUE_IN_BODY.search(_code_only(body, self.dialect)):
            self.opaque = True
            return
        self.texts.append(body)
        self._add(statement_writes(body, self.dialect, self.tables))

    def finish(
        self,
        cascades: set[tuple[str, str]],
        triggers: set[tuple[str, str | None]],
        routines: set[tuple[str, str | None]],
    ) -> TableWatch:
        """Follow (parent, child) cascading deletes, (table, body) triggers and (name, body) routines
        until nothing more is written; ``known`` is False when something stayed opaque."""
        followed: set = set()
        scanned = 0
        while True:
            before = (len(self.watch.written), len(self.watch.row_changes), scanned, len(self.texts))
            new_texts, scanned = self.texts[scanned:], len(self.texts)
            for routine in routines - followed:
                if any(re.search(rf"(?<![\w$]){re.escape(routine[0])}\s*\(", t, re.IGNORECASE) for t in new_texts):
                    followed.add(routine)
                    self._follow(routine[1])
            for trigger in triggers - followed:
                if trigger[0] in self.watch.written:
                    followed.add(trigger)
                    self._follow(trigger[1])
            self.watch.row_changes |= {child for parent, child in cascades if parent in self.watch.row_changes}
            self.watch.written |= self.watch.row_changes
            if before == (len(self.watch.written), len(self.watch.row_changes), scanned, len(self.texts)):
                break
        self.watch.known = not self.opaque
        return self.watch


def tables_written(
    statements: list[str], dialect: str, tables: set[str], side_effects: tuple[set, set, set]
) -> set[str]:
    """The tables ``statements`` may write, following the (cascades, triggers, routines) of ``side_effects``."""
    watcher = WriteWatcher(dialect, tables)
    for sql in statements:
        watcher.note(sql)
    return watcher.finish(*side_effects).written
