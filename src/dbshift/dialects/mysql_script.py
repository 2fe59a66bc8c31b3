"""MySQL/MariaDB scripts as the mysql client reads them: statements split at the delimiter
(``DELIMITER`` changes it; routine and trigger bodies keep their semicolons), each with its line,
and whether a statement would end the transaction a migration runs in."""

from __future__ import annotations

import functools
import re

from dbshift.dialects.base import LineCounter, Statement, word_at
from dbshift.dialects.identifiers import IDENTIFIER_PART

_WORD = re.compile(f"{IDENTIFIER_PART}+")
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)", re.IGNORECASE)
_ROUTINE_START = re.compile(
    r"CREATE\s+(OR\s+REPLACE\s+)?(DEFINER\s*=\s*\S+\s+)?(AGGREGATE\s+)?(TRIGGER|PROCEDURE|FUNCTION|EVENT)\b"
    r"|ALTER\s+(DEFINER\s*=\s*\S+\s+)?EVENT\b",  # ALTER EVENT ... DO BEGIN ... END
    re.IGNORECASE,
)
_NOT_BLOCK_ENDS = {"IF", "LOOP", "WHILE", "REPEAT"}
_SPACES = re.compile(r"\s+")
#: A statement up to its semicolon made only of plain text and simple '...' or "..." strings (no
#: doubled quote, no backslash): no comment, `identifier` or routine body; the semicolon ends it.
_PLAIN_STATEMENT = re.compile(r"""(?:[^'"`#\-/;\\]++|'[^'\\]*+'(?!')|"[^"\\]*+"(?!"))*+""")


def split_mysql_script(text: str, first_line: int = 1) -> list[Statement]:
    """Split a script as the ``mysql`` client does, with the line where each statement starts.

    Delimiters inside '...' and "..." strings (backslash escapes), `identifiers`, -- and #
    comments and /* */ comments do not count. ``DELIMITER $$`` lines change the delimiter;
    without them, the BEGIN ... END body of a trigger, procedure, function or event (created
    or altered) is kept whole.
    """
    scanner = _Scanner(text)
    lines = LineCounter(text, first_line)
    statements: list[Statement] = []
    start, delimiter = 0, ";"
    while start < len(text):
        code = _first_code_offset(text, start, delimiter)
        if code is None:
            break
        if text[code] in "dD" and (match := _DELIMITER.match(text, code)) and _at_line_start(text, code):
            delimiter, start = match.group(1), match.end()
            continue
        end = scanner.statement_end(code, delimiter)
        sql = text[code:end].strip()
        if delimiter == ";" and end < len(text):
            sql += ";"
        statements.append(Statement(sql=sql, line=lines.line_at(code)))
        start = end + len(delimiter)
    return statements


class _Scanner:
    """Finds where each statement ends, skipping quoted text and comments."""

    def __init__(self, text: str):
        self.text = text

    def statement_end(self, start: int, delimiter: str) -> int:
        """Index of the delimiter that ends the statement starting at ``start`` (or len(text))."""
        text, i, n = self.text, start, len(self.text)
        routine = delimiter == ";" and bool(_ROUTINE_START.match(text, start))
        if delimiter == ";" and not routine:
            plain = _PLAIN_STATEMENT.match(text, start)
            if text.startswith(";", plain.end()):
                return plain.end()
        special = _special(delimiter)
        depth = 0
        while i < n:
            if not routine:
                found = special.search(text, i)
                if found is None:
                    return n
                i = found.start()
            char = text[i]
            if char in "'\"`":
                i = self.skip_quoted(i)
            elif _comment_at(text, i):
                i = _skip_comment(text, i)
            elif text.startswith(delimiter, i) and depth == 0:
                return i
            elif routine and (match := _WORD.match(text, i)):
                depth = _track_block(match.group(0).upper(), depth, text, match.end())
                i = match.end()
            else:
                i += 1
        return n

    def skip_quoted(self, i: int) -> int:
        """Skip a quoted string or identifier; strings also escape with a backslash."""
        text, quote = self.text, self.text[i]
        j = i + 1
        while True:
            close = text.find(quote, j)
            if close < 0:
                return len(text)
            if quote != "`" and (backslash := text.find("\\", j, close)) >= 0:
                j = backslash + 2  # the escaped character may be the quote
                continue
            if text.startswith(quote * 2, close):
                j = close + 2
                continue
            return close + 1


@functools.lru_cache(maxsize=16)
def _special(delimiter: str) -> re.Pattern:
    """A character that may start a string, a comment or ``delimiter``: outside a routine body the
    scanner jumps from one to the next."""
    return re.compile("['\"`#\\-/]|" + re.escape(delimiter))


def _track_block(word: str, depth: int, text: str, after: int) -> int:
    """BEGIN and CASE open a block; END closes one (END IF/LOOP/WHILE/REPEAT close other things)."""
    if word == "BEGIN" or (word == "CASE" and depth > 0):
        return depth + 1
    if word == "END" and depth > 0:
        following = _WORD.match(text, _skip_space(text, after))
        if following and following.group(0).upper() in _NOT_BLOCK_ENDS:
            return depth
        return depth - 1
    return depth


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _comment_at(text: str, i: int) -> bool:
    if text[i] == "#":
        return True
    if text.startswith("--", i):
        return i + 2 >= len(text) or text[i + 2] in " \t\r\n"
    return text.startswith("/*", i) and not text.startswith("/*!", i)


def _skip_comment(text: str, i: int) -> int:
    if text.startswith("/*", i):
        close = text.find("*/", i + 2)
        return len(text) if close < 0 else close + 2
    newline = text.find("\n", i)
    return len(text) if newline < 0 else newline + 1


def _first_code_offset(text: str, i: int, delimiter: str) -> int | None:
    """Offset of the first character from ``i`` that is not space, a comment or a stray delimiter."""
    n = len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i = _SPACES.match(text, i).end()
        elif char in "#-/" and _comment_at(text, i):
            i = _skip_comment(text, i)
        elif text.startswith(delimiter, i):
            i += len(delimiter)
        else:
            return i
    return None


def _at_line_start(text: str, i: int) -> bool:
    line_start = text.rfind("\n", 0, i) + 1
    return not text[line_start:i].strip()


def ends_transaction(sql: str) -> bool:
    """Whether ``sql`` begins, commits or rolls back a transaction (savepoints aside) or turns
    autocommit on, read by sqlglot's MySQL tokenizer: its first words say so."""
    if word_at(sql, _first_code_offset(sql, 0, ";")) not in ("BEGIN", "START", "COMMIT", "ROLLBACK", "XA", "SET"):
        return False
    from sqlglot.dialects.mysql import MySQL
    from sqlglot.tokens import TokenType

    try:
        tokens = MySQL().tokenize(sql)[:3]
    except Exception:  # noqa: BLE001 - sqlglot's token error: the run will say what is wrong
        return False
    if not tokens:
        return False
    words = [t.text.upper() for t in tokens]
    if tokens[0].token_type == TokenType.BEGIN:
        return words[1:3] != ["NOT", "ATOMIC"]  # MariaDB's BEGIN NOT ATOMIC ... END is a block of code
    if tokens[0].token_type == TokenType.COMMIT:
        return True
    if tokens[0].token_type == TokenType.ROLLBACK:
        return words[1:2] != ["TO"]
    return words[0] == "XA" or (tokens[0].token_type == TokenType.SET and words[1:2] == ["AUTOCOMMIT"])
