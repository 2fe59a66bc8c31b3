"""Stories about a user at a terminal, and SQL scripts that SQLite itself must split."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time

from conftest import write_migration
from dbshift.dialects.sqlite import split_sqlite_script
from test_apply import rows_of


def run_in_terminal(project, args: list[str], answer: str) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal and type ``answer`` when it asks."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbshift", *args],
        cwd=project.config.root,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Type yes to continue" in output.replace(b"\x1b[1m", b"").replace(b"\x1b[0m", b""):
            os.write(leader, answer.encode() + b"\n")
            answered = True
    proc.wait(timeout=60)
    os.close(leader)
    return proc.returncode, output.decode(errors="replace")


def lossy_project(project):
    write_migration(
        project,
        20260101090000,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO users (name) VALUES ('ada');",
        "DROP TABLE users;",
    )
    project.apply()
    return project


def test_a_destructive_rollback_asks_on_a_terminal_and_runs_after_a_typed_yes(project):
    code, output = run_in_terminal(lossy_project(project), ["rollback"], "yes")
    assert code == 0, output
    assert "drops or deletes data" in output
    assert project.status().current_version == 0


def test_any_other_answer_refuses_and_changes_nothing(project):
    code, output = run_in_terminal(lossy_project(project), ["rollback"], "y")
    assert code == 3, output
    assert rows_of(project, "SELECT name FROM users") == [("ada",)]


def test_trigger_bodies_stay_whole_and_lines_are_counted():
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (x TEXT);\n"
        "\n"
        "CREATE TRIGGER t_upper AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET x = upper(x) WHERE rowid = new.rowid;\n"
        "  SELECT 'a;b';\n"
        "END;\n"
        "INSERT INTO t VALUES ('x;y'); INSERT INTO t VALUES ('z')\n"
    )
    statements = split_sqlite_script(script, first_line=10)
    assert [s.line for s in statements] == [11, 13, 17, 17]
    assert statements[1].sql.startswith("CREATE TRIGGER") and statements[1].sql.endswith("END;")
    assert statements[3].sql == "INSERT INTO t VALUES ('z')"


def test_a_migration_with_a_trigger_applies_and_the_trigger_works(project):
    write_migration(
        project,
        20260101090000,
        "trigger",
        "CREATE TABLE t (x TEXT);\nCREATE TRIGGER t_upper AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET x = upper(x) WHERE rowid = new.rowid;\nEND;\nINSERT INTO t VALUES ('abc');",
        "DROP TABLE t;",
    )
    project.apply()
    assert rows_of(project, "SELECT x FROM t") == [("ABC",)]


def test_a_no_transaction_migration_applies_and_rolls_back(project):
    write_migration(
        project,
        20260101090000,
        "vacuum",
        "CREATE TABLE t (x);\nVACUUM;",
        "DROP TABLE t;\nVACUUM;",
        header="-- no-transaction\n",
    )
    project.apply()
    assert project.status().current_version == 20260101090000 and not project.status().dirty
    project.rollback(force=True)
    assert project.status().current_version == 0 and project.status().applied == []
