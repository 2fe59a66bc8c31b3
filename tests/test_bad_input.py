"""Stories about bad input (issue 11): a NUL byte, a broken dbshift.toml, a malformed URL, a
mistyped option. Each is one line naming the file, line or value, a hint, exit 2, and the data
exactly as it was; never a traceback."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from conftest import write_migration

PRICES = [(1, "tea", 250), (2, "cake", 1999), (3, "café crème", 475)]


@pytest.fixture
def shop(project):
    """A project whose database has a table of prices, applied by its first migration."""
    rows = ", ".join(f"({i}, '{name}', {cents})" for i, name, cents in PRICES)
    write_migration(
        project,
        20260101000001,
        "prices",
        f"CREATE TABLE prices (id INTEGER PRIMARY KEY, name TEXT, cents INTEGER);\nINSERT INTO prices VALUES {rows};",
        "DROP TABLE prices;",
    )
    project.hash()
    project.apply()
    return project


def prices_in(project) -> list[tuple]:
    with sqlite3.connect(project.config.url.path) as conn:
        return conn.execute("SELECT id, name, cents FROM prices ORDER BY id").fetchall()


def dbshift(project, *args: str):
    return run_dbshift("-C", str(project.config.root), *args)


# -- item 1: tracebacks instead of one line + hint ----------------------------------------------


@pytest.mark.parametrize("command", [["apply"], ["apply", "--dry-run"], ["diff", "--from", "db", "--to", "migrations"]])
def test_a_nul_byte_inside_a_statement_names_the_file_and_line_and_changes_nothing(shop, command):
    (shop.config.migrations_dir / "20260102000000_nul.sql").write_bytes(
        b"-- migrate:up\nUPDATE prices SET cents = 0;\nC\x00REATE TABLE t(a INTEGER);\n-- migrate:down\nSELECT 1;\n"
    )
    result = dbshift(shop, *command)
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "20260102000000_nul.sql:3: a NUL byte" in result.stderr
    assert prices_in(shop) == PRICES


@pytest.mark.parametrize(
    "setting, line, shown",
    [
        ('lock_timeout = "abc"', "dbshift.toml:5", "'abc'"),
        ("lock_timeout = inf", "dbshift.toml:5", "inf"),
        ("lock_timeout = 1e300", "dbshift.toml:5", "1e+300"),
        ("keep = inf", "dbshift.toml:12", "inf"),
        ("keep = 100000000000", "dbshift.toml:12", "100000000000"),
        ("dir = 5", "dbshift.toml:8", "dir = 5"),
    ],
)
def test_a_bad_value_in_dbshift_toml_names_the_file_line_and_value(shop, setting, line, shown):
    config = shop.config.config_file
    key = setting.split(" =")[0]
    lines = config.read_text().splitlines()
    index = next(i for i, text in enumerate(lines) if text.startswith(key + " ="))
    lines[index] = setting
    config.write_text("\n".join(lines) + "\n")
    for command in (["status"], ["apply"], ["backup"]):
        result = dbshift(shop, *command)
        assert result.returncode == 2 and is_one_error_with_hint(result), result.output
        assert line in result.stderr and shown in result.stderr
    assert prices_in(shop) == PRICES
    assert not list(shop.config.backups_dir.glob("*"))  # no backup was written either


def test_dbshift_toml_that_is_not_utf8_names_the_line(shop):
    config = shop.config.config_file
    config.write_bytes(config.read_bytes() + b"# caf\xe9\n")
    result = dbshift(shop, "status")
    line = config.read_bytes().count(b"\n")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert f"dbshift.toml:{line}: not UTF-8" in result.stderr


def test_a_lock_timeout_on_the_command_line_must_be_a_sane_number(shop):
    for value in ("nan", "inf", "-1", "1e12"):
        result = dbshift(shop, "--lock-timeout", value, "apply")
        assert result.returncode == 2 and is_one_error_with_hint(result), result.output
        assert f"--lock-timeout {float(value)!r}" in result.stderr


@pytest.mark.parametrize(
    "url, says",
    [
        ("postgresql://u:p@[127.0.0.1]/x", "An IPv4 address cannot be in brackets"),
        ("postgresql://u@[::1", "Invalid IPv6 URL"),
        ("sqlite:///%00", "NUL byte"),
    ],
)
def test_a_malformed_url_is_one_line_naming_where_it_came_from(shop, url, says):
    result = dbshift(shop, "--db", url, "status")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert result.stderr.startswith("error: --db: ") and says in result.stderr
    assert ":p@" not in result.output  # the password stays hidden


def test_a_malformed_database_url_variable_is_named(shop, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://app:secret@[::1/app")
    result = dbshift(shop, "status")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert result.stderr.startswith("error: DATABASE_URL: ") and "secret" not in result.output


# -- item 3: status --json exits like status ------------------------------------------------------


def test_status_json_exits_1_like_status_when_an_applied_file_changed(shop):
    path = shop.config.migrations_dir / "20260101000001_prices.sql"
    path.write_text(path.read_text() + "-- edited\n")
    plain, as_json = dbshift(shop, "status"), dbshift(shop, "--json", "status")
    assert plain.returncode == 1 and as_json.returncode == 1
    assert json.loads(as_json.stdout)["changed"] == [{"version": 20260101000001, "file": path.name}]


def test_status_json_exits_1_on_a_dirty_migration(shop):
    with sqlite3.connect(shop.config.url.path) as conn:
        conn.execute("UPDATE dbshift_history SET status = 'running'")
    result = dbshift(shop, "status", "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["dirty"][0]["version"] == 20260101000001


# -- item 7: piped output is never cut ------------------------------------------------------------


def test_piped_history_and_status_show_whole_versions_names_and_paths(run_cli, project):
    name = "add_a_rather_long_descriptive_name_for_the_customers_loyalty_points"
    write_migration(
        project, 20261201223344, name, "CREATE TABLE points (id INTEGER PRIMARY KEY);", "DROP TABLE points;"
    )
    project.hash()
    project.apply()
    path = project.config.migrations_dir / f"20261201223344_{name}.sql"
    path.write_text(path.read_text() + "-- edited\n")
    no_width = {"COLUMNS": ""}  # a pipe with no terminal width, as in a CI log
    history = run_cli("history", cwd=project.config.root, env=no_width)
    status = run_cli("status", cwd=project.config.root, env=no_width)
    assert "20261201223344" in history.stdout and name in history.stdout and "…" not in history.stdout
    assert f"changed since applied: {path}" in status.stdout and "…" not in status.stdout


# -- item 10: the smaller ones --------------------------------------------------------------------


def test_a_utf8_bom_before_migrate_up_is_not_sql_before_the_section(shop):
    (shop.config.migrations_dir / "20260102000000_bom.sql").write_bytes(
        b"\xef\xbb\xbf-- migrate:up\nUPDATE prices SET cents = cents + 1 WHERE id = 1;\n-- migrate:down\n"
        b"UPDATE prices SET cents = cents - 1 WHERE id = 1;\n"
    )
    result = dbshift(shop, "apply")
    assert result.returncode == 0, result.output
    assert prices_in(shop)[0] == (1, "tea", 251)


def test_a_latin1_migration_names_the_line_and_says_how_to_convert_it(shop):
    (shop.config.migrations_dir / "20260102000000_latin.sql").write_bytes(
        b"-- migrate:up\nUPDATE prices SET name = 'caf\xe9' WHERE id = 3;\n"
    )
    result = dbshift(shop, "apply")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "20260102000000_latin.sql:2: not UTF-8 text (byte 0xe9" in result.stderr and "iconv" in result.stderr
    assert prices_in(shop) == PRICES


def test_a_mistyped_command_suggests_the_right_one_once(shop):
    result = dbshift(shop, "aply")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert result.stderr.count("Did you mean 'apply'?") == 1


def test_inspect_of_a_missing_file_does_not_suggest_an_option_inspect_has_not(shop):
    result = dbshift(shop, "inspect", "--source", "nothere.sql")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "nothere.sql" in result.stderr and "--to" not in result.stderr


def test_repair_with_a_wrong_dirty_value_names_it_and_changes_nothing(shop):
    path = shop.config.migrations_dir / "20260101000001_prices.sql"
    path.write_text(path.read_text() + "-- edited\n")
    result = dbshift(shop, "repair", "--dirty", "sideways")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "'sideways'" in result.stderr
    assert dbshift(shop, "status").returncode == 1  # the edited file was not accepted behind the user's back


def test_rollback_with_negative_steps_has_a_hint(shop):
    result = dbshift(shop, "rollback", "--steps", "-1")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert prices_in(shop) == PRICES


def test_inspect_json_ends_with_a_newline(shop):
    result = dbshift(shop, "inspect", "-f", "json")
    assert result.returncode == 0 and result.stdout.endswith("}\n")
    assert [table["name"] for table in json.loads(result.stdout)["tables"]] == ["prices"]


def test_status_without_a_migrations_folder_does_not_ask_for_dbshift_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    sqlite3.connect(tmp_path / "app.db").close()
    result = run_dbshift("-C", str(tmp_path), "status")
    assert result.returncode == 0, result.output
    assert "dbshift hash" not in result.stdout and "no migrations folder" in result.stdout


def test_the_demo_ends_with_a_command_that_runs_where_the_user_is(tmp_path):
    from dbshift.demo import dbshift_command

    command = dbshift_command()
    ran = subprocess.run(f"{command} --version", shell=True, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ran.returncode == 0 and ran.stdout.startswith("dbshift "), ran.stderr


# -- item 11: what users expect on day one --------------------------------------------------------


def test_version(shop):
    from dbshift import __version__

    result = dbshift(shop, "--version")
    assert result.returncode == 0 and result.stdout == f"dbshift {__version__}\n"


def test_with_json_an_error_is_json_on_stdout_with_the_exit_code(shop):
    result = dbshift(shop, "--json", "apply", "--to", "20991231235959")
    error = json.loads(result.stdout)["error"]
    assert result.returncode == 2 and error["exit_code"] == 2 and error["code"] == "unknown_version_error"
    assert "20991231235959" in error["message"] and error["hint"]
    usage = dbshift(shop, "status", "--no-such-flag", "--json")
    assert usage.returncode == 2 and json.loads(usage.stdout)["error"]["code"] == "usage_error"


def test_report_json(shop):
    result = dbshift(shop, "report", "20260101000001", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["applied"]["name"] == "prices"
    assert report["file"] == "20260101000001_prices.sql" and report["markdown"].startswith("# Migration report")


def test_init_in_a_git_repository_keeps_the_database_and_backups_out_of_git(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("__pycache__/")  # the user's own lines stay, no final newline
    result = run_dbshift("-C", str(tmp_path), "init")
    assert result.returncode == 0 and ".gitignore" in result.stdout, result.output
    for path in ("app.db", "app.db.dbshift-lock", "backups/x.db", "__pycache__/x.pyc"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=tmp_path, check=False)
        assert ignored.returncode == 0, path
    assert subprocess.run(["git", "check-ignore", "-q", "migrations/1.sql"], cwd=tmp_path, check=False).returncode == 1


# -- found by tests/test_fuzz_cli.py ----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["restore", "x" * 300],
        ["verify", "--against", "x" * 300],
        ["new", "x" * 300],
        ["--db", "sqlite:///" + "x" * 300 + ".db", "inspect"],
        ["restore", "", "--force"],
    ],
)
def test_a_name_too_long_or_empty_is_one_line(shop, command):
    result = dbshift(shop, *command)
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert prices_in(shop) == PRICES


def test_a_commit_inside_a_migration_cannot_leave_half_of_it_applied(shop):
    (shop.config.migrations_dir / "20260102000000_commit.sql").write_text(
        "-- migrate:up\nUPDATE prices SET cents = 0;\nCOMMIT;\nINSERT INTO nowhere VALUES (1);\n"
    )
    result = dbshift(shop, "apply")
    assert result.returncode == 1
    assert prices_in(shop) == PRICES


@pytest.mark.parametrize("depends", ["None", "1.5", "True"])
def test_a_python_migration_with_odd_depends_names_the_line(shop, depends):
    (shop.config.migrations_dir / "20260102000000_odd.py").write_text(
        f"DEPENDS = {depends}\n\n\ndef up(ctx):\n    ctx.execute('UPDATE prices SET cents = 0')\n"
    )
    result = dbshift(shop, "apply")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "20260102000000_odd.py:1: DEPENDS must be a list of versions" in result.stderr
    assert prices_in(shop) == PRICES


def test_a_damaged_sum_file_names_the_line_and_how_to_rewrite_it(shop):
    sum_file = shop.config.migrations_dir / "dbshift.sum"
    sum_file.write_bytes(sum_file.read_bytes() + b"caf\xe9 sha256:00\n")
    result = dbshift(shop, "status")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert (
        "dbshift.sum:3: not UTF-8" in result.stderr
    )  # after the total line and the one file and "dbshift hash" in result.stderr


def test_dbshift_alone_shows_the_help_not_an_error():
    result = run_dbshift()
    assert result.returncode == 2 and result.output.startswith("Usage: dbshift") and "error:" not in result.output


def test_a_project_folder_with_brackets_is_printed_as_it_is(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    root = tmp_path / "shop [" / "x] [bold] [v2]"  # `[/x]` reads as a Rich closing tag
    root.mkdir(parents=True)
    runs = [run_dbshift("-C", str(root), *command) for command in (["init"], ["new", "first"], ["status"])]
    sqlite3.connect(root / "app.db").close()
    runs.append(run_dbshift("-C", str(root), "backup"))
    assert [r.returncode for r in runs] == [0, 0, 0, 0], [r.output for r in runs]
    assert f"wrote {root / 'dbshift.toml'}" in runs[0].stdout
    assert f"wrote {root / 'migrations'}" in runs[1].stdout and f"backup written: {root / 'backups'}" in runs[3].stdout


def test_the_demo_in_a_folder_with_brackets_names_it_as_it_is(tmp_path):
    folder = tmp_path / "demo [" / "x] [b"
    result = run_dbshift("demo", "--dir", str(folder), "--orders", "50")
    assert result.returncode == 0, result.output
    assert f"in {folder}:" in result.stdout and "every row and every cent came back" in result.stdout
