"""Stories about the command line: set-up, output, errors and exit codes."""

from __future__ import annotations

import json

from conftest import write_migration


def test_init_new_apply_status_history_from_the_command_line(run_cli, tmp_path):
    assert run_cli("init", "--db", "sqlite:///shop.db").returncode == 0
    assert (tmp_path / "dbshift.toml").exists() and (tmp_path / "migrations" / "dbshift.sum").exists()
    created = run_cli("new", "add users", "--json")
    path = tmp_path / json.loads(created.stdout)["path"]
    path.write_text("-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE users;\n")
    assert run_cli("hash").returncode == 0
    applied = run_cli("apply")
    assert applied.returncode == 0 and "1 migration(s) applied" in applied.stdout
    status = json.loads(run_cli("status", "--json").stdout)
    assert status["current_version"] == int(path.name[:14]) and status["pending"] == []
    assert status["sum_file"]["up_to_date"] is True
    history = json.loads(run_cli("history", "--json").stdout)
    assert [e["action"] for e in history["log"]] == ["apply"]
    assert (tmp_path / "shop.db").exists()


def test_global_options_work_after_the_command_name(run_cli, tmp_path):
    run_cli("init")
    other = tmp_path / "other.db"
    result = run_cli("status", "--db", f"sqlite:///{other}", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["database"].endswith("other.db")


def test_a_user_error_is_one_line_with_a_hint_and_no_traceback(run_cli, project):
    (project.config.migrations_dir / "20260101090000_bad.sql").write_text("-- risky: yes\n-- migrate:up\nSELECT 1;\n")
    result = run_cli("status", cwd=project.config.root)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "20260101090000_bad.sql:1" in lines[0]
    assert lines[1].startswith("hint: ") and len(lines) == 2
    assert "Traceback" not in result.output


def test_a_failed_migration_exits_1_naming_file_line_and_statement(run_cli, project):
    write_migration(project, 20260101090000, "bad", "CREATE TABLE t (x);\nINSERT INTO nope VALUES (1);")
    result = run_cli("apply", cwd=project.config.root)
    assert result.returncode == 1
    assert "20260101090000_bad.sql:3: no such table: nope in `INSERT INTO nope VALUES (1);`" in result.stderr
    assert "Traceback" not in result.output


def test_usage_and_config_errors_exit_2(run_cli, tmp_path):
    assert run_cli("apply", "--no-such-option").returncode == 2
    no_config = run_cli("status")
    assert no_config.returncode == 2 and "no database configured" in no_config.stderr
    bad_url = run_cli("status", "--db", "oracle://x")
    assert bad_url.returncode == 2 and "unsupported database URL scheme" in bad_url.stderr
    (tmp_path / "dbshift.toml").write_text("[database\nurl=")
    assert run_cli("status").returncode == 2


def test_passwords_never_appear_in_output(run_cli, tmp_path):
    result = run_cli("status", "--db", "postgresql://app:s3cret@127.0.0.1:1/nodb", "--json")
    assert "s3cret" not in result.output


def test_the_demo_tells_the_whole_story_and_every_cent_comes_back(run_cli, tmp_path):
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), "--orders", "2000")
    assert result.returncode == 0, result.output
    assert "every row and every cent came back" in result.stdout
    assert (tmp_path / "demo" / "shop.db").exists()
