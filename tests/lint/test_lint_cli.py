"""`dbshift lint` as a user runs it: findings before anything runs, exit codes, suppressions
with reasons, the [lint] table, and the output formats code hosts read."""

from __future__ import annotations

import json

import pytest
from tests.conftest import write_migration

ADD_USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, phone TEXT);"


def _drop_phone(project, header: str = "", above: str = "") -> None:
    write_migration(project, 20260101000000, "users", ADD_USERS, "DROP TABLE users;")
    write_migration(
        project,
        20260102000000,
        "drop_phone",
        above + "ALTER TABLE users DROP COLUMN phone;",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
        header=header,
    )
    project.hash()


def test_a_dropped_column_is_named_with_its_file_and_line_before_it_runs_and_the_exit_is_1(project, run_cli):
    _drop_phone(project)
    result = run_cli("lint")
    assert result.returncode == 1, result.output
    assert "migrations/20260102000000_drop_phone.sql:2: error drop-column: dropping users.phone" in result.stdout
    assert "1 error" in result.stdout
    assert run_cli("status", "--json").returncode == 0
    assert json.loads(run_cli("status", "--json").stdout)["current_version"] == 0  # nothing ran


def test_a_suppression_with_a_reason_silences_that_rule_for_that_statement_only(project, run_cli):
    _drop_phone(project, above="-- lint:ignore drop-column the app stopped reading phone in v2.3\n")
    result = run_cli("lint", "--all")
    assert result.returncode == 0, result.output
    assert "drop-column" not in result.stdout


@pytest.mark.parametrize(
    "comment, message",
    [
        ("-- lint:ignore drop-colum typo\n", "unknown lint rule 'drop-colum' in lint:ignore"),
        ("-- lint:ignore drop-column\n", "lint:ignore drop-column gives no reason"),
    ],
)
def test_a_bad_suppression_is_a_one_line_error_naming_file_and_line_exit_2(project, run_cli, comment, message):
    _drop_phone(project, above=comment)
    result = run_cli("lint", "--all")
    assert result.returncode == 2
    assert f"migrations/20260102000000_drop_phone.sql:2: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_the_lint_table_turns_rules_off_and_changes_severities(project, run_cli):
    _drop_phone(project)
    config = project.config.config_file
    config.write_text(
        config.read_text() + '\n[lint]\ndisable = ["missing-down"]\n\n[lint.severity]\ndrop-column = "warning"\n'
    )
    result = run_cli("lint", "--all", "--format", "json")
    assert result.returncode == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["severity"]) for f in findings] == [("drop-column", "warning")]


def test_an_unknown_rule_in_the_lint_table_is_an_error_naming_the_config_line(project, run_cli):
    _drop_phone(project)
    config = project.config.config_file
    text = config.read_text() + '\n[lint]\ndisable = ["drop-everything"]\n'
    config.write_text(text)
    line = text.splitlines().index('disable = ["drop-everything"]') + 1
    result = run_cli("lint", "--all")
    assert result.returncode == 2
    assert f"dbshift.toml:{line}: unknown lint rule 'drop-everything'" in result.stderr


def test_github_annotations_and_sarif_carry_the_same_finding(project, run_cli):
    _drop_phone(project)
    github = run_cli("lint", "--all", "--format", "github").stdout
    assert (
        "::error file=migrations/20260102000000_drop_phone.sql,line=2,title=drop-column::dropping users.phone" in github
    )
    sarif = json.loads(run_cli("lint", "--all", "--format", "sarif").stdout)
    [result] = sarif["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("drop-column", "error")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "drop-column"


def test_a_project_path_with_commas_colons_and_percents_stays_one_location(tmp_path, run_cli, monkeypatch):
    """GitHub reads `,` and `:` in a file= property as separators, and SARIF wants a URI: the
    path comes back whole from both."""
    from urllib.parse import unquote

    from dbshift import Project

    monkeypatch.delenv("DATABASE_URL", raising=False)
    folder = "shop, [x]: 100% ✓ #1"
    project = Project.init(tmp_path / folder, "sqlite:///app.db")
    _drop_phone(project)
    wanted = f"{folder}/migrations/20260102000000_drop_phone.sql"
    github = run_cli("-C", folder, "lint", "--all", "--format", "github", cwd=tmp_path).stdout
    [line] = [g for g in github.splitlines() if "title=drop-column" in g]
    file = line.split("file=", 1)[1].split(",line=", 1)[0]
    assert "," not in file and ":" not in file
    assert file.replace("%3A", ":").replace("%2C", ",").replace("%25", "%") == wanted
    sarif = json.loads(run_cli("-C", folder, "lint", "--all", "--format", "sarif", cwd=tmp_path).stdout)
    [result] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "drop-column"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert " " not in uri and "#" not in uri and unquote(uri) == wanted


def test_only_pending_migrations_are_linted_and_an_older_pending_one_is_named(project, run_cli):
    _drop_phone(project)
    write_migration(
        project, 20260103000000, "cities", "CREATE TABLE cities (id INTEGER PRIMARY KEY);", "DROP TABLE cities;"
    )
    project.hash()
    assert run_cli("apply", "--to", "20260101000000").returncode == 0
    assert run_cli("lint").returncode == 1
    (project.config.migrations_dir / "20260102000000_drop_phone.sql").unlink()
    project.hash()
    assert run_cli("apply").returncode == 0
    write_migration(project, 20260102000000, "late", "DELETE FROM users;", "SELECT 1;")
    project.hash()
    result = run_cli("lint", "--format", "json")
    codes = {(f["code"], f["file"]) for f in json.loads(result.stdout)["findings"]}
    assert codes == {
        ("pending-before-applied", "migrations/20260102000000_late.sql"),
        ("delete-all-rows", "migrations/20260102000000_late.sql"),
        ("data-change-without-reverse", "migrations/20260102000000_late.sql"),  # its down is SELECT 1
    }


def test_linting_two_files_reads_the_second_after_the_migrations_between_them(project, run_cli):
    """`dbshift lint 1.sql 3.sql`: 3 drops a column that 2 (not named) added, so 3 is read on the
    schema 1 and 2 built; reading it after 1 alone would call it unreadable."""
    write_migration(project, 20260101000000, "users", ADD_USERS, "DROP TABLE users;")
    write_migration(project, 20260102000000, "email", "ALTER TABLE users ADD COLUMN email TEXT;", "SELECT 1;")
    write_migration(project, 20260103000000, "no_email", "ALTER TABLE users DROP COLUMN email;", "SELECT 1;")
    project.hash()
    folder = project.config.migrations_dir
    third = str(folder / "20260103000000_no_email.sql")
    result = run_cli("lint", "--format", "json", third, str(folder / "20260101000000_users.sql"), third)
    listed = [(f["code"], f["file"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert len(listed) == len(set(listed)), listed  # a file named twice is read once
    found = set(listed)
    assert ("drop-column", "migrations/20260103000000_no_email.sql", 2) in found, result.output
    assert not [f for f in found if f[0] == "not-analysed"], found
    assert not [f for f in found if "20260102000000" in f[1]], found  # the file not named is not reported


def test_a_mistyped_file_name_says_there_is_no_such_file(project, run_cli):
    for typo in ("nothere.sql", "migrations/20260101000000_nothere.sql"):
        result = run_cli("lint", typo)
        assert result.returncode == 2, result.output
        assert f"{typo}: no such file" in result.stderr.replace("No such file or directory", "no such file")
        assert "hint:" in result.stderr and "Traceback" not in result.output


def test_a_migration_that_is_not_utf8_is_a_one_line_error_exit_2(project, run_cli):
    path = project.config.migrations_dir / "20260101000000_latin.sql"
    path.write_bytes("-- migrate:up\nINSERT INTO t VALUES ('caf\xe9');\n".encode("latin-1"))
    result = run_cli("lint", str(path))
    assert result.returncode == 2
    assert "not UTF-8" in result.stderr and "Traceback" not in result.output


def test_unreadable_sql_is_reported_not_analysed_and_lint_goes_on(project, run_cli):
    write_migration(
        project,
        20260101000000,
        "odd",
        "CREATE TABLE t (a int);\nALTER TABLE t FROBNICATE a;\nDELETE FROM t;",
        "DROP TABLE t;",
    )
    result = run_cli("lint", "--all", "--format", "json")
    codes = [(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert ("not-analysed", 3) in codes
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fresh_server_url", ["postgresql", "mysql"], indirect=True)
def test_pending_migrations_on_a_real_server_are_linted_with_its_dialect(fresh_server_url, tmp_path, run_cli):
    from dbshift import Project

    project = Project.init(tmp_path, fresh_server_url)
    write_migration(
        project, 20260101000000, "users", "CREATE TABLE users (id bigint PRIMARY KEY, name text);", "DROP TABLE users;"
    )
    write_migration(
        project,
        20260102000000,
        "index",
        "CREATE INDEX users_name ON users (name);",
        "DROP INDEX users_name ON users;" if fresh_server_url.startswith("mysql") else "DROP INDEX users_name;",
    )
    project.hash()
    assert run_cli("apply", "--to", "20260101000000").returncode == 0
    result = run_cli("lint", "--format", "json")
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    if fresh_server_url.startswith("postgresql"):
        assert "index-not-concurrent" in codes and result.returncode == 1
    else:
        assert "index-not-concurrent" not in codes and result.returncode == 0  # MySQL builds indexes online
