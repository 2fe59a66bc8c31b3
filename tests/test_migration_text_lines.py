"""A migration's lines end at a newline only: a form feed, U+2028 or another character Python's
``splitlines`` also breaks at, inside a comment or a string, is text like any other (found by the
lint fuzzer, tests/lint/test_lint_fuzz.py)."""

from __future__ import annotations

import sqlite3

from cli_inprocess import run_dbshift
from conftest import write_migration

#: (A CRLF is a line end, as in a file saved on Windows: it reaches the database as a newline.)
ODD = "a\u2028b\x0cc\x85d\x1ee\rf\x0bg"


def test_a_line_separator_or_form_feed_in_a_string_reaches_the_database_unchanged(project):
    up = f"CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES (1, '{ODD}');"
    write_migration(project, 20260101000000, "notes", up, "DROP TABLE notes;")
    project.hash()
    project.apply()
    connection = sqlite3.connect(project.config.root / "app.db")
    assert connection.execute("SELECT body FROM notes").fetchall() == [(ODD,)]


def test_a_failing_statement_after_a_form_feed_is_named_on_its_own_line(project):
    up = "-- pasted from a document: \x0c page two, \u2028 next line\nCREATE TABLE t (x);\nINSERT INTO nowhere VALUES (1);"
    path = write_migration(project, 20260101000000, "odd", up, "DROP TABLE t;")
    project.hash()
    result = run_dbshift("-C", str(project.config.root), "apply")
    assert result.returncode == 1, result.output
    assert f"{path.name}:4: no such table: nowhere" in result.stderr
    assert run_dbshift("-C", str(project.config.root), "status", "--json").returncode == 0
