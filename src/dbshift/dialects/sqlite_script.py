"""Splitting a SQLite script into statements where SQLite itself would: at a semicolon after which
``sqlite3.complete_statement`` calls the text complete.

Asking ``complete_statement`` at every semicolon of a growing chunk is quadratic when a chunk holds
many semicolons (a trigger body, strings full of them, a quote left open near the top of a 30 MB
file). So :func:`_complete_ends` runs the state machine of SQLite's ``sqlite3_complete()``
(``src/complete.c``) once over the whole text to find the candidate ends, and each candidate is
then confirmed by ``complete_statement`` on its own statement: linear in the size of the script.
Should the two ever disagree, the rest of the script is split the old way (correct, if slower).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from typing import Iterator

from dbshift.dialects.base import LineCounter, Statement

# Tokens and states of sqlite3_complete() (src/complete.c).
_SEMI, _WS, _OTHER, _EXPLAIN, _CREATE, _TEMP, _TRIGGER, _END = range(8)
_START, _NORMAL = 1, 2
_TRANSITIONS = (
    # SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END
    (1, 0, 2, 3, 4, 2, 2, 2),  # 0 INVALID: nothing but white space and comments yet
    (1, 1, 2, 3, 4, 2, 2, 2),  # 1 START: just after a statement's semicolon
    (1, 2, 2, 2, 2, 2, 2, 2),  # 2 NORMAL: inside an ordinary statement
    (1, 3, 3, 2, 4, 2, 2, 2),  # 3 EXPLAIN: after EXPLAIN
    (1, 4, 2, 2, 2, 4, 5, 2),  # 4 CREATE: after CREATE (TEMP)
    (6, 5, 5, 5, 5, 5, 5, 5),  # 5 TRIGGER: inside CREATE TRIGGER
    (6, 6, 5, 5, 5, 5, 5, 7),  # 6 SEMI: a semicolon inside the trigger body
    (1, 7, 5, 5, 5, 5, 5, 5),  # 7 END: END after such a semicolon
)
_KEYWORDS = {
    "create": _CREATE,
    "trigger": _TRIGGER,
    "temp": _TEMP,
    "temporary": _TEMP,
    "end": _END,
    "explain": _EXPLAIN,
}
#: SQLite's IdChar: letters, digits, _ and $, and every non-ASCII character (written as the ASCII
#: characters it excludes: a class spanning all of Unicode takes 10 ms to compile).
_IDENTIFIER = r"[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+"
#: Inside an ordinary statement everything up to the next semicolon leaves the state as it is:
#: plain text, closed quotes and [names], and comments. One match skips it all (possessive: no
#: backtracking); what stops it is a semicolon, or a quote or comment left open.
_NORMAL_RUN = (
    r"""(?:[^;'"`\[\-/]++|'[^']*+'|"[^"]*+"|`[^`]*+`|\[[^\]]*+\]|--[^\n]*+\n|-(?!-)"""
    r"""|/\*(?:[^*]++|\*(?!/))*+\*/|/(?!\*))*+"""
)
_SPACE = " \t\n\r\f"
_CLOSING = {"'": "'", '"': '"', "`": "`", "[": "]"}


#: From a statement's start, white space and comments leave the state as it is, and any first token
#: but CREATE or EXPLAIN leads to NORMAL: such a statement, up to its semicolon, is matched at once.
_LEADING = r"""(?:[ \t\n\r\f]++|--[^\n]*+\n|/\*(?:[^*]++|\*(?!/))*+\*/)*+"""
_NOT_CREATE_OR_EXPLAIN = r"(?!(?i:create|explain)(?!" + _IDENTIFIER[:-1] + r"))"
_ORDINARY_STATEMENT = _LEADING + _NOT_CREATE_OR_EXPLAIN + _NORMAL_RUN + ";"


@functools.lru_cache(maxsize=None)
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """The identifier, ordinary-run and ordinary-statement patterns, compiled when first needed (not
    at start-up)."""
    return re.compile(_IDENTIFIER), re.compile(_NORMAL_RUN), re.compile(_ORDINARY_STATEMENT)


def _complete_ends(text: str) -> Iterator[int]:
    """Offsets of the semicolons after which ``sqlite3_complete`` would call the text complete."""
    identifier, normal_run, ordinary_statement = _patterns()
    state, i, n = 0, 0, len(text)
    while i < n:
        if state <= _START and (statement := ordinary_statement.match(text, i)):
            i = statement.end()
            state = _START
            yield i - 1
            continue
        if state == _NORMAL:
            i = normal_run.match(text, i).end()
            if i >= n:
                return
        char = text[i]
        end = i + 1
        if char == ";":
            token = _SEMI
        elif char in _SPACE:
            token = _WS
        elif char in _CLOSING:
            close = text.find(_CLOSING[char], i + 1)
            if close < 0:
                return  # an open quote: nothing after it ends a statement
            token, end = _OTHER, close + 1
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            if newline < 0:
                return
            token, end = _WS, newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close < 0:
                return
            token, end = _WS, close + 2
        elif word := identifier.match(text, i):
            token, end = _KEYWORDS.get(word.group(0).lower(), _OTHER), word.end()
        else:
            token = _OTHER
        state = _TRANSITIONS[state][token]
        if token == _SEMI and state == _START:
            yield i
        i = end


def split_sqlite_script(text: str, first_line: int = 1) -> list[Statement]:
    """Split ``text`` at semicolons that end a complete statement, as SQLite itself judges it."""
    statements: list[Statement] = []
    lines = LineCounter(text, first_line)
    start = 0
    for end in _complete_ends(text):
        chunk = text[start : end + 1]
        if not _complete(chunk):
            return statements + split_by_complete_statement(text, start, lines)
        _append_statement(statements, lines, start, chunk)
        start = end + 1
    tail = text[start:]
    if _strip_comments(tail).strip():
        _append_statement(statements, lines, start, tail)
    return statements


def split_by_complete_statement(text: str, start: int = 0, lines: LineCounter | None = None) -> list[Statement]:
    """The plain way (asking ``complete_statement`` at every semicolon), from ``start``: correct, but
    quadratic in the semicolons of one statement."""
    statements: list[Statement] = []
    lines = lines or LineCounter(text)
    search_from = start
    while True:
        end = text.find(";", search_from)
        if end < 0:
            break
        chunk = text[start : end + 1]
        search_from = end + 1
        if _complete(chunk):
            _append_statement(statements, lines, start, chunk)
            start = end + 1
    tail = text[start:]
    if _strip_comments(tail).strip():
        _append_statement(statements, lines, start, tail)
    return statements


def _complete(chunk: str) -> bool:
    """``sqlite3.complete_statement``, which raises on a NUL: its tokenizer reads one as an
    ordinary character, as it reads ``?`` (the statement is then reported, not the script refused)."""
    return sqlite3.complete_statement(chunk.replace("\x00", "?") if "\x00" in chunk else chunk)


def _append_statement(statements: list[Statement], lines: LineCounter, start: int, chunk: str) -> None:
    body_offset = _first_code_offset(chunk)
    if body_offset is None:
        return
    statements.append(Statement(sql=chunk.strip(), line=lines.line_at(start + body_offset)))


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
            close = chunk.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif chunk[i] == ";":
            i += 1
        else:
            return i
    return None


def _strip_comments(chunk: str) -> str:
    offset = _first_code_offset(chunk)
    return "" if offset is None else chunk[offset:]
