"""A dropped NOT NULL column must come back with a value on the way down (issue 10, item 4): its
default, or the value `--reverse` gives; without either, `diff` says so instead of writing a down
that cannot run."""

from __future__ import annotations

import sqlite3

from conftest import write_migration

START = "CREATE TABLE users (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT NOT NULL, nick TEXT NOT NULL DEFAULT 'anon');"


def _users(project):
    with sqlite3.connect(project.config.root / "app.db") as conn:
        return conn.execute(
            "SELECT id, first_name, typeof(first_name) FROM users ORDER BY id"
        ).fetchall(), conn.execute("SELECT last_name, nick FROM users ORDER BY id").fetchall()


def _started(project):
    write_migration(project, 20260101000000, "users", START, "DROP TABLE users;")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?)",
            [(1, "Ada", "Lovelace", "ada"), (2, "héllo ✓", "O'Brien", "x"), (3, None, "", "y")],
        )
    (project.config.root / "schema.sql").write_text("CREATE TABLE users (id INTEGER PRIMARY KEY, first_name TEXT);")
    return project


def test_dropping_a_not_null_column_without_a_value_for_the_down_is_an_error_with_a_hint(project, run_cli):
    _started(project)
    result = run_cli("diff", "--name", "drop_names")
    assert result.returncode == 2
    assert (
        "users.last_name is dropped, and it is NOT NULL without a default: the down could not put it back on the rows of users"
        in result.output
    )
    assert '--reverse "users.last_name=<SQL expression>"' in result.output
    assert "Traceback" not in result.output
    assert not list(project.config.migrations_dir.glob("*_drop_names.sql"))


def test_with_a_reverse_value_the_down_runs_and_the_kept_columns_come_back(project, run_cli):
    """--reverse "users.last_name=''": the down rebuilds the table giving last_name '' and nick its default;
    the draft says the dropped columns' values do not come back, and every other value does."""
    _started(project)
    kept_before, _ = _users(project)
    result = run_cli("diff", "--name", "drop_names", "--reverse", "users.last_name=''")
    assert result.returncode == 0, result.output
    text = next(project.config.migrations_dir.glob("*_drop_names.sql")).read_text()
    assert "-- destructive" in text and "-- lossy: dropped column(s) users.last_name, users.nick come back" in text
    assert run_cli("apply").returncode == 0
    rolled_back = run_cli("rollback", "--force")
    assert rolled_back.returncode == 0, rolled_back.output
    kept_after, dropped_after = _users(project)
    assert kept_after == kept_before
    assert dropped_after == [("", "anon")] * 3


def test_on_an_empty_table_the_column_comes_back_without_a_value(project, run_cli):
    """No rows, nothing to give a value to: the draft is written and its down runs."""
    write_migration(project, 20260101000000, "users", START, "DROP TABLE users;")
    project.hash()
    project.apply()
    (project.config.root / "schema.sql").write_text("CREATE TABLE users (id INTEGER PRIMARY KEY, first_name TEXT);")
    assert run_cli("diff", "--name", "drop_names").returncode == 0
    assert run_cli("apply").returncode == 0
    assert run_cli("rollback", "--force").returncode == 0
    with sqlite3.connect(project.config.root / "app.db") as conn:
        assert [row[1] for row in conn.execute("PRAGMA table_info(users)")] == ["id", "first_name", "last_name", "nick"]
