"""A down that loses data is refused without --force however it is written: a quote inside a
name, a comment line or block above the statement, several tables in one DROP, a DELETE inside a
WITH, or a statement dbshift cannot read. ``-y`` answers questions but never accepts the loss.
Each story checks that the values are still there afterwards, and what rollback-plan says."""

from __future__ import annotations

import pytest

from conftest import write_migration
from stories.db import dialect_of, rows

V1, V2 = 20260101090000, 20260102090000


def quote(project, name: str) -> str:
    """``name`` quoted the way the project's database reads it."""
    mark = "`" if dialect_of(project) == "mysql" else '"'
    return mark + name.replace(mark, mark * 2) + mark


def notes_with_values(project, down: str, up: str = "SELECT 1;") -> None:
    """``notes`` holding three rows, then a migration V2 whose down is ``down``."""
    write_migration(
        project,
        V1,
        "notes",
        "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40), v INT);\n"
        "INSERT INTO notes VALUES (1, 'keep me', 1), (2, 'me too', 2), (3, NULL, 3);",
        "DROP TABLE notes;",
    )
    write_migration(project, V2, "change", up, down)
    project.hash()
    project.apply()


def refused_and_unchanged(project, run_cli, *flags: str):
    """Run ``dbshift [flags] rollback``: exit 3, one clear error, and notes keeps every value."""
    result = run_cli(*flags, "rollback", cwd=project.config.root)
    assert result.returncode == 3, result.output
    assert "Traceback" not in result.output and "refusing a lossy rollback" in result.stderr
    assert project.status().current_version == V2
    return result


def test_a_column_with_a_quote_in_its_name_is_not_dropped_without_force(project, run_cli):
    column = "extra c`ol" if dialect_of(project) == "mysql" else 'extra c"ol'
    notes_with_values(
        project,
        up=f"ALTER TABLE notes ADD COLUMN {quote(project, column)} VARCHAR(20);",
        down=f"ALTER TABLE notes DROP COLUMN {quote(project, column)};",
    )
    rows(project, f"UPDATE notes SET {quote(project, column)} = 'kept' WHERE id = 1")

    result = refused_and_unchanged(project, run_cli)
    assert f"column notes.{column}" in result.stderr
    assert rows(project, f"SELECT id, {quote(project, column)} FROM notes ORDER BY id") == [
        (1, "kept"),
        (2, None),
        (3, None),
    ]
    step = project.rollback_plan(to=V1).steps[0]
    assert step.verdict == "lossy"
    assert [loss.describe() for loss in step.losses] == [f"column notes.{column} (1 row(s) with data)"]


def test_a_comment_line_above_the_drop_does_not_hide_it(project, run_cli):
    notes_with_values(
        project,
        up="ALTER TABLE notes ADD COLUMN phone VARCHAR(20);",
        down="-- the phone column goes\nALTER TABLE notes DROP COLUMN phone;",
    )
    rows(project, "UPDATE notes SET phone = '+1 555 0100' WHERE id <= 2")

    refused_and_unchanged(project, run_cli)
    assert rows(project, "SELECT phone FROM notes ORDER BY id") == [("+1 555 0100",), ("+1 555 0100",), (None,)]
    plan = run_cli("rollback-plan", "--to", str(V1), cwd=project.config.root)
    assert f"| 1 | {V2}_change | LOSSY | column notes.phone (2 row(s) with data) |" in plan.stdout


def test_a_block_comment_before_drop_table_does_not_hide_it(project, run_cli):
    notes_with_values(
        project,
        up="CREATE TABLE archive (id INT PRIMARY KEY, body VARCHAR(40));\nINSERT INTO archive VALUES (7, 'old note');",
        down="/* the archive is not needed any more */ DROP TABLE archive;",
    )
    refused_and_unchanged(project, run_cli)
    assert rows(project, "SELECT id, body FROM archive") == [(7, "old note")]
    losses = project.rollback_plan(to=V1).steps[0].losses
    assert [loss.describe() for loss in losses] == ["table archive (1 row(s) with data)"]


@pytest.mark.dialects("postgresql", "mysql")  # SQLite's DROP TABLE takes one table
def test_every_table_of_one_drop_table_is_counted(project, run_cli):
    notes_with_values(
        project,
        up="CREATE TABLE tags (id INT PRIMARY KEY, name VARCHAR(20));\n"
        "INSERT INTO tags VALUES (1, 'red'), (2, 'blue');",
        down="DROP TABLE tags, notes;",
    )
    result = refused_and_unchanged(project, run_cli)
    assert "table tags; table notes" in result.stderr
    assert rows(project, "SELECT name FROM tags ORDER BY id") == [("red",), ("blue",)]
    assert rows(project, "SELECT body FROM notes ORDER BY id") == [("keep me",), ("me too",), (None,)]
    losses = project.rollback_plan(to=V1).steps[0].losses
    assert [loss.describe() for loss in losses] == [
        "table tags (2 row(s) with data)",
        "table notes (3 row(s) with data)",
    ]


@pytest.mark.dialects("sqlite", "postgresql")  # MariaDB has no WITH before DELETE
def test_a_delete_inside_a_with_is_seen(project, run_cli):
    down = (
        "WITH gone AS (DELETE FROM notes WHERE v >= 2 RETURNING id) SELECT count(*) FROM gone;"
        if dialect_of(project) == "postgresql"
        else "WITH late AS (SELECT id FROM notes WHERE v >= 2) DELETE FROM notes WHERE id IN (SELECT id FROM late);"
    )
    notes_with_values(project, down=down)
    refused_and_unchanged(project, run_cli)
    assert rows(project, "SELECT id, body FROM notes ORDER BY id") == [(1, "keep me"), (2, "me too"), (3, None)]
    losses = project.rollback_plan(to=V1).steps[0].losses
    assert [loss.what for loss in losses] == ["rows of notes"]
    if dialect_of(project) == "postgresql":  # the WHERE of a DELETE in a WITH is counted too
        assert losses[0].rows == 2


def test_yes_answers_questions_but_does_not_accept_losing_data(project, run_cli):
    notes_with_values(
        project,
        up="CREATE TABLE archive (id INT PRIMARY KEY, body VARCHAR(40));\nINSERT INTO archive VALUES (7, 'old note');",
        down="DROP TABLE archive;",
    )
    result = refused_and_unchanged(project, run_cli, "-y")
    assert "--force" in result.stderr and "-y does not accept losing data" in result.stderr
    assert rows(project, "SELECT id, body FROM archive") == [(7, "old note")]

    forced = run_cli("-y", "rollback", "--force", cwd=project.config.root)
    assert forced.returncode == 0, forced.output
    assert project.status().current_version == V1


@pytest.mark.dialects("postgresql", "mysql")
def test_a_statement_dbshift_cannot_read_counts_as_lossy(project, run_cli):
    down = (
        "DO $$ BEGIN DELETE FROM notes; END $$;"
        if dialect_of(project) == "postgresql"
        else "/*!50000 DELETE FROM notes */;"
    )
    notes_with_values(project, down=down)
    result = refused_and_unchanged(project, run_cli)
    assert "may lose data: cannot read" in result.stderr
    assert rows(project, "SELECT body FROM notes ORDER BY id") == [("keep me",), ("me too",), (None,)]
    assert project.rollback_plan(to=V1).steps[0].verdict == "unknown"


def test_names_in_strings_and_comments_invent_no_loss(project):
    notes_with_values(
        project,
        up="INSERT INTO notes VALUES (4, 'DROP TABLE notes', 4);",
        down="-- DROP TABLE notes; DELETE FROM notes\nDELETE FROM notes WHERE body = 'DROP TABLE notes';",
    )
    step = project.rollback_plan(to=V1).steps[0]
    assert step.verdict == "lossy" and [(loss.what, loss.rows) for loss in step.losses] == [("rows of notes", 1)]
    write_migration(
        project,
        V2 + 1,
        "harmless",
        "SELECT 1;",
        "-- DROP TABLE notes;\nUPDATE notes SET body = 'DELETE FROM notes; DROP TABLE notes' WHERE id = 4;",
    )
    project.hash()
    project.apply()
    assert project.rollback_plan(to=V2).steps[0].verdict == "lossless"
    project.rollback()  # no --force needed: nothing is lost
    assert rows(project, "SELECT body FROM notes WHERE id = 4") == [("DELETE FROM notes; DROP TABLE notes",)]
