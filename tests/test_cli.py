"""Stories about the command line: options, errors and exit codes (set-up and a failed apply on every
database are in ``tests/stories/test_command_line.py``)."""

from __future__ import annotations

import json


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
