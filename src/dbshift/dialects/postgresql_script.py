"""Splitting a PostgreSQL script into statements as ``psql`` does, with the line where each starts.

Semicolons inside '...' and E'...' strings, "identifiers", $tag$ dollar quotes, -- and (nested)
/* */ comments, parentheses, and the ``BEGIN ATOMIC ... END`` body of a SQL-standard function do not
end a statement. Linear in the script: lines are counted once, and a statement made of plain text,
simple strings and parentheses is matched at once.
"""

from __future__ import annotations

import re

from dbshift.dialects.base import LineCounter, Statement, word_at
from dbshift.dialects.identifiers import IDENTIFIER_PART, IDENTIFIER_START

_DOLLAR_TAG = re.compile(rf"\$({IDENTIFIER_START}[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]*)?\$")
_WORD = re.compile(f"{IDENTIFIER_START}{IDENTIFIER_PART}*")
_ROUTINE_START = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\b", re.IGNORECASE)
#: Characters that may start a string, a comment, a dollar quote, a parenthesis or the end of a
#: statement: outside a routine body the scanner jumps from one to the next.
#: A whole '...' string without '' inside is matched at once too (E'...' strings are checked apart).
_SPECIAL = re.compile(r"'[^']*'(?!')|['\"\-/$();]")


def _nested_parentheses(inner: str, depth: int) -> str:
    """A pattern of ``inner`` pieces and parentheses nested at most ``depth`` deep (possessive: a
    text that does not match fails at once, with no backtracking)."""
    pattern = f"(?:{inner})*+"
    for _ in range(depth):
        pattern = f"(?:{inner}|\\({pattern}\\))*+"
    return pattern


#: A statement up to its semicolon made only of plain text, simple '...' strings (no '' or backslash)
#: and parentheses nested at most three deep: no comment, dollar quote, E-string or "identifier".
#: For such text the scanner's answer is known (the semicolon ends it), so it is not walked through.
_PLAIN_STATEMENT = re.compile(_nested_parentheses(r"[^'\"\-/$;()\\]++|'[^'\\]*+'(?!')", 3))
#: A routine's BEGIN ATOMIC body holds semicolons: a statement that creates one is never taken as plain.
_STARTS_ROUTINE = re.compile(r"\s*" + _ROUTINE_START.pattern, re.IGNORECASE)


def split_postgresql_script(text: str, first_line: int = 1) -> list[Statement]:
    """Split a script at top-level semicolons, as psql does.

    Semicolons inside '...' and E'...' strings, "identifiers", $tag$ dollar quotes, -- and
    (nested) /* */ comments, parentheses, and the ``BEGIN ATOMIC ... END`` body of a
    SQL-standard function do not end a statement.
    """
    statements: list[Statement] = []
    scanner = _Scanner(text)
    lines = LineCounter(text, first_line)
    start = 0
    while True:
        end = scanner.next_statement_end(start)
        chunk = text[start : end + 1]
        _append(statements, lines, start, chunk)
        if end >= len(text):
            return statements
        start = end + 1


def _append(statements: list[Statement], lines: LineCounter, start: int, chunk: str) -> None:
    offset = _first_code_offset(chunk)
    if offset is None:
        return
    statements.append(Statement(sql=chunk[offset:].strip(), line=lines.line_at(start + offset)))


class _Scanner:
    """Finds the semicolon that ends each statement, skipping quoted text and comments."""

    def __init__(self, text: str):
        self.text = text

    def next_statement_end(self, start: int) -> int:
        """Index of the ending semicolon of the statement starting at ``start`` (or len(text))."""
        text, i, n = self.text, start, len(self.text)
        plain = _PLAIN_STATEMENT.match(text, start)
        if text.startswith(";", plain.end()) and not _STARTS_ROUTINE.match(text, start):
            return plain.end()
        parens = block_depth = 0
        routine = None
        while i < n:
            if routine is False:
                special = _SPECIAL.search(text, i)
                if special is None:
                    return n
                i = special.start()
                if special.end() - i > 1 and not _is_escape_string(text, i):
                    i = special.end()
                    continue
            char = text[i]
            if char == "(":
                parens, i = parens + 1, i + 1
            elif char == ")":
                parens, i = max(parens - 1, 0), i + 1
            elif char == ";" and parens == 0 and block_depth == 0:
                return i
            elif char == "'":
                i = self._skip_string(i)
            elif char == '"':
                i = self._skip_quoted(i, '"')
            elif char == "-" and text.startswith("--", i):
                newline = text.find("\n", i)
                i = n if newline < 0 else newline + 1
            elif char == "/" and text.startswith("/*", i):
                i = self._skip_block_comment(i)
            elif char == "$" and (match := _DOLLAR_TAG.match(text, i)) and not _is_word_char(text, i - 1):
                close = text.find(match.group(0), match.end())
                i = n if close < 0 else close + len(match.group(0))
            elif (match := _WORD.match(text, i)) and not _is_word_char(text, i - 1):
                if routine is None:
                    routine = bool(_ROUTINE_START.match(text, i))
                if routine:
                    block_depth = _track_block(match.group(0).upper(), block_depth)
                i = match.end()
            else:
                i += 1
        return n

    def _skip_string(self, i: int) -> int:
        """Skip a '...' string; E'...' strings also escape with a backslash."""
        text = self.text
        escapes = _is_escape_string(text, i)
        j = i + 1
        while True:
            close = text.find("'", j)
            if close < 0:
                return len(text)
            if escapes and (backslash := text.find("\\", j, close)) >= 0:
                j = backslash + 2  # the escaped character may be the quote
                continue
            if text.startswith("''", close):
                j = close + 2
                continue
            return close + 1

    def _skip_quoted(self, i: int, quote: str) -> int:
        close = i + 1
        while True:
            close = self.text.find(quote, close)
            if close < 0:
                return len(self.text)
            if self.text.startswith(quote * 2, close):
                close += 2
                continue
            return close + 1

    def _skip_block_comment(self, i: int) -> int:
        """Skip a /* */ comment; PostgreSQL nests them."""
        depth, j, text = 0, i, self.text
        while j < len(text):
            if text.startswith("/*", j):
                depth, j = depth + 1, j + 2
            elif text.startswith("*/", j):
                depth, j = depth - 1, j + 2
                if depth == 0:
                    return j
            else:
                j += 1
        return len(text)


def _track_block(word: str, depth: int) -> int:
    """BEGIN (ATOMIC) and CASE open a block in a routine body; END closes one."""
    if word == "BEGIN" or (word == "CASE" and depth > 0):
        return depth + 1
    if word == "END" and depth > 0:
        return depth - 1
    return depth


def _is_escape_string(text: str, quote: int) -> bool:
    """Whether the string opening at ``quote`` is an E'...' string (backslash escapes)."""
    return quote > 0 and text[quote - 1] in "eE" and not _is_word_char(text, quote - 2)


def _is_word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "_$")


def _first_code_offset(chunk: str) -> int | None:
    """Offset of the first character that is neither white space nor inside a comment."""
    n = len(chunk)
    i = n - len(chunk.lstrip())  # leading white space skipped at once
    while i < n:
        if chunk[i].isspace():
            i += 1
        elif chunk.startswith("--", i):
            newline = chunk.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif chunk.startswith("/*", i):
            i = _Scanner(chunk)._skip_block_comment(i)
        elif chunk[i] == ";":
            i += 1
        else:
            return i
    return None


#: The words a transaction statement starts with (the parser then decides).
_TRANSACTION_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "PREPARE"}


def ends_transaction(sql: str) -> bool:
    """Whether ``sql`` begins, commits or rolls back a transaction (savepoints aside), as PostgreSQL's
    own parser reads it. Only a statement whose first word may start one is parsed."""
    if word_at(sql, _first_code_offset(sql)) not in _TRANSACTION_WORDS:  # nested /* */ comments too
        return False
    from pglast import parse_sql
    from pglast.enums import TransactionStmtKind

    try:
        statements = parse_sql(sql)
    except Exception:  # noqa: BLE001 - pglast's parse error: not ours to judge; the run will say
        return False
    savepoints = {
        TransactionStmtKind.TRANS_STMT_SAVEPOINT,
        TransactionStmtKind.TRANS_STMT_RELEASE,
        TransactionStmtKind.TRANS_STMT_ROLLBACK_TO,
    }
    return any(type(raw.stmt).__name__ == "TransactionStmt" and raw.stmt.kind not in savepoints for raw in statements)
