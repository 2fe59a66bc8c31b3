"""`dbshift check` in CI: a pull request's migrations against its base, its schema.sql and its sum file."""

import json

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift

CUSTOMERS = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"


@pytest.fixture
def feature_branch(repo):
    """main has customers; a feature branch is checked out from it."""
    repo.migration(20260101000000, "add_customers", CUSTOMERS, "DROP TABLE customers;")
    (repo.root / "schema.sql").write_text(CUSTOMERS + "\n")
    repo.commit("customers")
    repo.git("checkout", "-q", "-b", "feature")
    return repo


def _add_phone(repo, down="ALTER TABLE customers DROP COLUMN phone;", version=20260102000000, schema=True):
    repo.migration(version, "add_phone", "ALTER TABLE customers ADD COLUMN phone TEXT;", down)
    if schema:
        (repo.root / "schema.sql").write_text(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, phone TEXT);\n"
        )
    repo.commit("phone")


def _check(repo, *args):
    result = run_dbshift("-C", str(repo.root), "check", "--format", "json", *args)
    return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else None


def _failed(report):
    return {f["check"] for f in report["findings"] if not f["ok"]}


def test_a_pull_request_whose_migration_matches_its_schema_passes(feature_branch):
    _add_phone(feature_branch)
    result, report = _check(feature_branch)
    assert result.returncode == 0, result.output
    assert report["added"] == ["20260102000000_add_phone.sql"] and _failed(report) == set()
    markdown = run_dbshift("-C", str(feature_branch.root), "check")
    assert markdown.stdout.startswith("## dbshift check: all checks passed")
    assert "| downs restore the base | ok |" in markdown.stdout


def test_a_migration_that_does_not_give_schema_sql_fails(feature_branch):
    _add_phone(feature_branch, schema=False)
    (feature_branch.root / "schema.sql").write_text(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);\n"
    )
    feature_branch.commit("schema says email")
    result, report = _check(feature_branch)
    assert result.returncode == 1
    assert _failed(report) == {"matches schema.sql"}
    detail = next(f["detail"] for f in report["findings"] if f["check"] == "matches schema.sql")
    assert "do not give schema.sql" in detail


def test_a_down_that_does_not_restore_the_base_fails(feature_branch):
    _add_phone(feature_branch, down="SELECT 1;")
    result, report = _check(feature_branch)
    assert result.returncode == 1
    assert _failed(report) == {"downs restore the base"}


def test_a_migration_older_than_the_base_newest_fails(feature_branch):
    feature_branch.git("checkout", "-q", "main")
    feature_branch.migration(
        20260105000000, "add_orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY);", "DROP TABLE orders;"
    )
    feature_branch.commit("orders on main")
    feature_branch.git("checkout", "-q", "feature")
    feature_branch.git("merge", "-q", "--no-edit", "-X", "theirs", "main")
    _add_phone(feature_branch, version=20260103000000)
    result, report = _check(feature_branch, "--base", "main")
    assert result.returncode == 1
    assert "in order" in _failed(report)
    assert "20260103000000_add_phone.sql" in next(f["detail"] for f in report["findings"] if f["check"] == "in order")


def test_a_stale_sum_file_fails(feature_branch):
    _add_phone(feature_branch)
    path = feature_branch.project.config.migrations_dir / "20260102000000_add_phone.sql"
    path.write_text(path.read_text() + "-- edited after hashing\n")
    result, report = _check(feature_branch)
    assert result.returncode == 1 and _failed(report) == {"dbshift.sum current"}


def test_an_unknown_base_is_one_clear_line(feature_branch):
    result = run_dbshift("-C", str(feature_branch.root), "check", "--base", "nope")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output


def test_without_a_default_branch_it_says_how_to_pass_base(repo):
    repo.migration(20260101000000, "add_customers", CUSTOMERS, "DROP TABLE customers;")
    repo.commit("customers")
    repo.git("branch", "-m", "trunk")
    result = run_dbshift("-C", str(repo.root), "check")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "--base" in result.stderr


def test_a_base_whose_migrations_fail_is_reported_not_crashed(repo):
    repo.migration(20260101000000, "broken", "CREATE TABLE broken (;", "DROP TABLE broken;")
    repo.commit("broken on main")
    repo.git("checkout", "-q", "-b", "feature")
    result, report = _check(repo)
    assert result.returncode == 1
    assert _failed(report) == {"base migrations apply"}


def test_an_unknown_format_is_a_usage_error(feature_branch):
    result = run_dbshift("-C", str(feature_branch.root), "check", "--format", "html")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
