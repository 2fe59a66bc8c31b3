"""A big migration splits into the right statements, each with the line where it starts, on every
dialect, and splitting reads the file once (issue 11, item 4: it used to recount lines from the
start of the file for every statement, so 300,000 INSERTs never started)."""

from __future__ import annotations

import pytest

from dbshift.dialects.mysql_script import split_mysql_script
from dbshift.dialects.postgresql import split_postgresql_script
from dbshift.dialects.sqlite import split_sqlite_script

SPLITTERS = {"sqlite": split_sqlite_script, "postgresql": split_postgresql_script, "mysql": split_mysql_script}

#: Statements each splitter must keep whole although they hold semicolons, quotes or comments.
TRICKY = {
    "common": [
        "INSERT INTO notes (id, body) VALUES (1, 'semi; colon'), (2, 'it''s; fine');",
        "INSERT INTO notes (id, body) VALUES (3, lower(upper(trim('  (nested;)  '))));",
        "UPDATE notes SET body = 'two\nlines; here' WHERE id = 1;",
        "DELETE FROM notes WHERE body = '-- not a comment;';",
        "INSERT INTO notes (id, body) VALUES (4, '/* not a comment; */');",
    ],
    "sqlite": [
        "CREATE TRIGGER notes_touch AFTER UPDATE ON notes BEGIN\n  UPDATE notes SET id = id WHERE id = 0;\n  "
        "SELECT 1;\nEND;",
        'INSERT INTO "odd;name" ("a;b") VALUES (1);',
    ],
    "postgresql": [
        "CREATE FUNCTION add_one(n integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC\n  SELECT n + 1;\nEND;",
        "DO $body$ BEGIN PERFORM 1; END $body$;",
        "INSERT INTO notes (id, body) VALUES (5, E'back\\\\slash\\'; quote');",
        'INSERT INTO "odd;name" ("a;b") VALUES (1);',
    ],
    "mysql": [
        "INSERT INTO notes (id, body) VALUES (5, 'back\\\\slash\\'; quote');",
        'INSERT INTO notes (id, body) VALUES (6, "double; quoted");',
        "INSERT INTO `odd;name` (`a;b`) VALUES (1);",
        "CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW BEGIN\n  SET NEW.id = NEW.id;\n  "
        "SET NEW.body = 'x;';\nEND;",
    ],
}


def big_script(dialect: str, count: int) -> tuple[str, list[tuple[int, str]]]:
    """A script of ``count`` plain INSERTs with the tricky statements and comments mixed in, and the
    (line, statement) pairs it holds."""
    tricky = TRICKY["common"] + TRICKY[dialect]
    parts, expected, line = [], [], 1
    for index in range(count):
        if index % 997 == 0:
            parts.append(f"-- a comment line; {index}\n\n")
            line += 2
        statement = (
            tricky[index // 997 % len(tricky)]
            if index % 997 == 500
            else (f"INSERT INTO orders (id, note, cents) VALUES ({index}, 'order; {index}', {index * 7});")
        )
        expected.append((line, statement))
        parts.append(statement + "\n")
        line += statement.count("\n") + 1
    return "".join(parts), expected


@pytest.mark.parametrize("dialect", SPLITTERS)
def test_a_big_script_splits_into_every_statement_with_its_line(dialect):
    text, expected = big_script(dialect, 30_000)
    statements = SPLITTERS[dialect](text, first_line=1)
    assert [(s.line, without_leading_comments(s.sql)) for s in statements] == expected


def without_leading_comments(sql: str) -> str:
    """The statement without the comment lines before it (SQLite's splitter keeps them; SQLite skips them)."""
    while sql.startswith("--"):
        sql = sql.split("\n", 1)[1].lstrip()
    return sql


@pytest.mark.parametrize("dialect", SPLITTERS)
def test_lines_count_from_where_the_section_starts(dialect):
    text = "\n-- up\nCREATE TABLE a (x INTEGER);\n\nINSERT INTO a VALUES (1);\n/* last */ INSERT INTO a VALUES (2);\n"
    lines = [s.line for s in SPLITTERS[dialect](text, first_line=40)]
    assert lines == [42, 44, 45]


class CountingText(str):
    """A script that tallies how many characters ``count`` has been asked to read."""

    scanned = 0

    def count(self, sub, start=0, end=None):  # noqa: D102 - str.count
        end = len(self) if end is None else end
        CountingText.scanned += max(0, end - start)
        return super().count(sub, start, end)


@pytest.mark.parametrize("dialect", SPLITTERS)
def test_splitting_reads_the_script_once_not_once_per_statement(dialect):
    text, expected = big_script(dialect, 5_000)
    CountingText.scanned = 0
    statements = SPLITTERS[dialect](CountingText(text))
    assert len(statements) == len(expected)
    # Counting newlines from the start for every statement read the text 2,500 times over here.
    assert CountingText.scanned <= 2 * len(text)


PIECES = [
    "'",
    '"',
    "`",
    "[",
    "]",
    ";",
    ";",
    ";",
    "--",
    "\n",
    "/*",
    "*/",
    " ",
    "\t",
    "x",
    "é",
    "CREATE",
    "create",
    "TRIGGER",
    "TEMP",
    "TEMPORARY",
    "END",
    "end",
    "EXPLAIN",
    "BEGIN",
    "SELECT 1",
    "-",
    "/",
    "t$1",
    "\f",
    "\v",
]


def test_the_sqlite_splitter_cuts_exactly_where_complete_statement_says(monkeypatch):
    import random

    from dbshift.dialects import sqlite_script

    plain_split = sqlite_script.split_by_complete_statement

    def no_fallback(text, *args):
        raise AssertionError(f"the state machine disagreed with complete_statement on {text!r}")

    monkeypatch.setattr(sqlite_script, "split_by_complete_statement", no_fallback)
    chance = random.Random(11)
    for _ in range(4000):
        text = "".join(chance.choice(PIECES) + chance.choice(["", " "]) for _ in range(chance.randrange(40)))
        fast = [(s.line, s.sql) for s in sqlite_script.split_sqlite_script(text)]
        plain = [(s.line, s.sql) for s in plain_split(text)]
        assert fast == plain, repr(text)


@pytest.mark.parametrize(
    "opening",
    ["INSERT INTO t VALUES ('never closed;\n", "/* never closed;\n", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"],
)
def test_a_quote_left_open_at_the_top_does_not_make_sqlite_splitting_quadratic(monkeypatch, opening):
    from dbshift.dialects import sqlite_script

    text = opening + "".join(f"INSERT INTO t VALUES ({i}, 'a;b');\n" for i in range(2_000))
    asked = []
    real = sqlite_script.sqlite3.complete_statement
    monkeypatch.setattr(
        sqlite_script.sqlite3, "complete_statement", lambda chunk: asked.append(len(chunk)) or real(chunk)
    )
    statements = sqlite_script.split_sqlite_script(text)
    assert sum(asked) <= 2 * len(text)
    monkeypatch.setattr(sqlite_script.sqlite3, "complete_statement", real)
    assert [s.sql for s in statements] == [s.sql for s in sqlite_script.split_by_complete_statement(text)]
