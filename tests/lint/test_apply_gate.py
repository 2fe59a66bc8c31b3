"""`dbshift apply` lints what it is about to run: an index build that would block writes on a big
table (`[lint] big_table_rows`) is refused (listed with code, file:line and the lint:ignore hint), nothing runs; --force,
a suppression with a reason or `[lint] apply = "warn"` let it through; drops stay the safety
rules' business and are not refused by lint."""

from __future__ import annotations

import pytest
from tests.conftest import write_migration

from dbshift import Project

USERS = "CREATE TABLE \"Üsers 'q'\" (id bigint PRIMARY KEY, email text);\nINSERT INTO \"Üsers 'q'\" VALUES (1, 'a@x'), (2, NULL);"


@pytest.fixture
def pg_project(tmp_path, postgres_url, monkeypatch):
    """A project on a fresh PostgreSQL database whose first migration (applied) made a table with rows."""
    from tests.servers.conftest import create_database, drop_database

    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = create_database(postgres_url)
    project = Project.init(tmp_path, url)
    write_migration(project, 20260101000000, "users", USERS, "DROP TABLE \"Üsers 'q'\";")
    project.hash()
    project.apply()
    config = project.config.config_file
    config.write_text(config.read_text() + "\n[lint]\nbig_table_rows = 2\n")  # the two rows make it big
    yield project
    drop_database(postgres_url, url)


def _index(project, above: str = "") -> None:
    write_migration(
        project,
        20260102000000,
        "email_index",
        above + 'CREATE INDEX "ix email" ON "Üsers \'q\'" (email);',
        'DROP INDEX "ix email";',
    )
    project.hash()


def _indexes(project) -> list[str]:
    with project.connect(readonly=True) as db:
        return [r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE indexname = 'ix email'")]


def test_apply_refuses_an_index_build_that_blocks_writes_and_nothing_runs(pg_project, run_cli):
    _index(pg_project)
    result = run_cli("apply")
    assert result.returncode == 3, result.output
    assert "20260102000000_email_index.sql:2: error index-not-concurrent" in result.stderr
    assert "-- lint:ignore index-not-concurrent reason" in result.stderr
    assert "--force" in result.stderr and "Traceback" not in result.output
    assert _indexes(pg_project) == []
    assert pg_project.status().current_version == 20260101000000


def test_force_applies_it_and_still_lists_the_finding(pg_project, run_cli):
    _index(pg_project)
    result = run_cli("apply", "--force")
    assert result.returncode == 0, result.output
    assert "lint: " in result.stdout and "index-not-concurrent" in result.stdout
    assert _indexes(pg_project) == ["ix email"]


def test_a_suppression_with_a_reason_lets_apply_run(pg_project, run_cli):
    _index(pg_project, above="-- lint:ignore index-not-concurrent the table has two rows\n")
    result = run_cli("apply")
    assert result.returncode == 0, result.output
    assert _indexes(pg_project) == ["ix email"]


def test_lint_apply_warn_prints_without_refusing_and_off_is_silent(pg_project, run_cli):
    _index(pg_project)
    config = pg_project.config.config_file
    config.write_text(config.read_text() + 'apply = "warn"\n')
    result = run_cli("apply")
    assert result.returncode == 0, result.output
    assert "index-not-concurrent" in result.stdout
    run_cli("rollback")
    config.write_text(config.read_text().replace('apply = "warn"', 'apply = "off"'))
    result = run_cli("apply")
    assert result.returncode == 0, result.output
    assert "index-not-concurrent" not in result.output


def test_a_wrong_apply_mode_is_a_config_error_naming_the_line(pg_project, run_cli):
    _index(pg_project)
    config = pg_project.config.config_file
    config.write_text(config.read_text() + 'apply = "block"\n')
    result = run_cli("apply")
    assert result.returncode == 2, result.output
    assert "dbshift.toml:" in result.stderr and "[lint] apply must be one of" in result.stderr
    assert _indexes(pg_project) == []


def test_a_table_below_big_table_rows_is_not_refused_the_finding_is_printed(pg_project, run_cli):
    _index(pg_project)
    config = pg_project.config.config_file
    config.write_text(config.read_text().replace("big_table_rows = 2", "big_table_rows = 3"))
    result = run_cli("apply")
    assert result.returncode == 0, result.output
    assert "lint: " in result.stdout and "index-not-concurrent" in result.stdout
    assert _indexes(pg_project) == ["ix email"]


def test_an_index_on_a_table_a_pending_migration_creates_is_not_refused(pg_project, run_cli):
    write_migration(pg_project, 20260102000000, "new_table", "CREATE TABLE fresh (id bigint PRIMARY KEY, v text);")
    write_migration(pg_project, 20260103000000, "new_index", "CREATE INDEX fresh_v ON fresh (v);")
    pg_project.hash()
    result = run_cli("apply")
    assert result.returncode == 0, result.output


def test_a_drop_is_left_to_the_safety_rules_and_not_refused_by_lint(pg_project, run_cli):
    write_migration(pg_project, 20260102000000, "drop", "ALTER TABLE \"Üsers 'q'\" DROP COLUMN email;")
    pg_project.hash()
    result = run_cli("apply")
    assert result.returncode == 0, result.output
    assert "lint: " in result.stdout and "error drop-column" in result.stdout  # printed, not refused
    assert "warning" not in result.stdout  # warnings are for `dbshift lint`, not every apply
