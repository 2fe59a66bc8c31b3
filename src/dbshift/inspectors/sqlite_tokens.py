"""Tokens of the CREATE statements SQLite keeps in ``sqlite_schema``.

SQLite's PRAGMAs report columns, types, NOT NULL, defaults, keys and foreign keys, but not
CHECK expressions, collations, generated-column expressions, constraint names, deferrability,
AUTOINCREMENT or partial-index WHERE clauses. Those exist only in the statement text SQLite
stored after it accepted it; this module reads that already-validated text token by token. It
never parses a user's file: desired schemas are executed in a scratch database first.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from dbshift.dialects.sqlite_description import SQLITE

# Every SQLite keyword (https://sqlite.org/lang_keywords.html): a quoted identifier that spells
# one of these keeps its quotes when normalized.
KEYWORDS = frozenset(
    """
ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN
BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS
CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE
DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL
FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE
IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL JOIN KEY LAST
LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF OFFSET ON OR
ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE RANGE RECURSIVE
REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS
SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION
UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT
""".split()
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))
  | (?P<blob>[xX]'[0-9A-Fa-f]*')
  | (?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)
  | (?P<str>'(?:[^']|'')*')
  | (?P<dq>"(?:[^"]|"")*")
  | (?P<bq>`(?:[^`]|``)*`)
  | (?P<br>\[[^\]]*\])
  | (?P<num>(?:0[xX][0-9A-Fa-f]+)|(?:\d+\.?\d*(?:[eE][+-]?\d+)?)|(?:\.\d+(?:[eE][+-]?\d+)?))
  | (?P<var>[?:@$][A-Za-z0-9_]*)
  | (?P<op>\|\||->>|->|<<|>>|<=|>=|==|!=|<>|.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is word, id (a quoted identifier), str, num, blob, var or op."""

    kind: str
    text: str

    @property
    def upper(self) -> str:
        """The token's text in upper case (for keyword tests)."""
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        """Whether this is an unquoted word equal to one of ``words`` (case-insensitive)."""
        return self.kind == "word" and self.upper in words

    @property
    def name(self) -> str:
        """The identifier this token names (quotes removed)."""
        return self.text


def tokenize(sql: str) -> list[Token]:
    """Split SQL text into tokens, dropping white space and comments."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        text = match.group()
        if kind == "space":
            continue
        if kind == "dq":
            tokens.append(Token("id", text[1:-1].replace('""', '"')))
        elif kind == "bq":
            tokens.append(Token("id", text[1:-1].replace("``", "`")))
        elif kind == "br":
            tokens.append(Token("id", text[1:-1]))
        else:
            tokens.append(Token(kind, text))
    return tokens


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


#: SQLite's double-quoted identifier, as its description writes it.
quote_identifier = SQLITE.quote


def render_token(token: Token) -> str:
    """A token as normalized SQL text: keywords upper case, identifiers bare when safe."""
    if token.kind == "id":
        plain = _PLAIN.match(token.text) and token.text.upper() not in KEYWORDS
        return token.text if plain else quote_identifier(token.text)
    if token.kind == "word":
        return token.upper if token.upper in KEYWORDS else token.text
    return token.text


def join_tokens(tokens: list[Token]) -> str:
    """Normalized SQL text of ``tokens``: one space between tokens except around ( ) , and ."""
    out: list[str] = []
    previous: Token | None = None
    for token in tokens:
        text = render_token(token)
        if out and not _glued(previous, token):
            out.append(" ")
        out.append(text)
        previous = token
    return "".join(out)


def _glued(previous: Token | None, token: Token) -> bool:
    if previous is None:
        return True
    if previous.kind == "op" and previous.text in ("(", "."):
        return True
    if token.kind == "op" and token.text in (")", ",", ".", ";"):
        return True
    # a function call: name(...)
    return (
        token.kind == "op" and token.text == "(" and previous.kind in ("word", "id") and previous.upper not in KEYWORDS
    )


@functools.lru_cache(maxsize=4096)
def normalize(sql: str | None) -> str | None:
    """Normalized text of an SQL fragment (None stays None)."""
    if sql is None:
        return None
    return join_tokens(tokenize(sql))


def split_top_level(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    """Split ``tokens`` at ``separator`` tokens outside parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
        if depth == 0 and token.kind == "op" and token.text == separator:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def matching_paren(tokens: list[Token], start: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``start``."""
    depth = 0
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1
