"""Stories about the command line that every database shares: set-up, apply, status, history, failures."""

from __future__ import annotations

import json

from stories.db import NO_SUCH_TABLE, add, dialect_of, tables


def test_init_new_apply_status_history_from_the_command_line(run_cli, tmp_path, database_url):
    assert run_cli("init", "--db", database_url).returncode == 0
    assert (tmp_path / "dbshift.toml").exists() and (tmp_path / "migrations" / "dbshift.sum").exists()
    created = run_cli("new", "add users", "--json")
    path = tmp_path / json.loads(created.stdout)["path"]
    path.write_text("-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n")
    assert run_cli("hash").returncode == 0
    applied = run_cli("apply")
    assert applied.returncode == 0 and "1 migration(s) applied" in applied.stdout, applied.output
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["current_version"] == int(path.name[:14]) and status["pending"] == []
    assert status["sum_file"]["up_to_date"] is True
    history = json.loads(run_cli("history", "--json").stdout)
    assert [e["action"] for e in history["log"]] == ["apply"]


def test_a_failed_migration_exits_1_naming_file_line_and_statement(run_cli, project):
    add(project, 20260101090000, "bad", "CREATE TABLE t (x INTEGER);\nINSERT INTO no_such_table VALUES (1);")
    result = run_cli("apply", cwd=project.config.root)
    assert result.returncode == 1
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith("error: migrations/20260101090000_bad.sql:3: ")
    assert first_line.endswith(" in `INSERT INTO no_such_table VALUES (1);`")
    assert NO_SUCH_TABLE[dialect_of(project)] in first_line and "Traceback" not in result.output
    assert tables(project) == (["t"] if dialect_of(project) == "mysql" else [])
