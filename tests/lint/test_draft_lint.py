"""`dbshift diff` and `plan` show the lint findings of the migration they draft: a short block
after the draft (and a `lint` list in --json), so the risk is seen before the file is written."""

from __future__ import annotations

import json

from tests.conftest import write_migration

START = 'CREATE TABLE "tâble one" (id INTEGER PRIMARY KEY, name TEXT, "old col" TEXT);'


def _project_dropping_a_column(project):
    write_migration(project, 20260101000000, "start", START, 'DROP TABLE "tâble one";')
    project.hash()
    (project.config.root / "schema.sql").write_text('CREATE TABLE "tâble one" (id INTEGER PRIMARY KEY, name TEXT);\n')


def test_diff_prints_the_drafts_findings_after_it(project, run_cli):
    _project_dropping_a_column(project)
    result = run_cli("diff")
    assert result.returncode == 0, result.output
    draft_end = result.stdout.index("-- down")
    block = result.stdout.index("lint: 1 error in the drafted migration")
    assert block > draft_end
    assert "up:1: error drop-column: dropping tâble one.old col" in result.stdout
    assert not list(project.config.migrations_dir.glob("*_x.sql"))  # nothing written without --name


def test_plan_and_json_carry_the_same_findings(project, run_cli):
    _project_dropping_a_column(project)
    plan = run_cli("plan")
    assert plan.returncode == 0, plan.output
    assert "error drop-column" in plan.stdout
    data = json.loads(run_cli("diff", "--json").stdout)
    assert [(f["code"], f["section"]) for f in data["lint"]] == [("drop-column", "up")]


def test_an_added_column_has_no_up_finding_and_its_down_drop_is_only_a_warning(project, run_cli):
    write_migration(project, 20260101000000, "start", START, 'DROP TABLE "tâble one";')
    project.hash()
    (project.config.root / "schema.sql").write_text(START.replace('"old col" TEXT', '"old col" TEXT, note TEXT') + "\n")
    result = run_cli("diff")
    assert result.returncode == 0, result.output
    assert "lint: 1 warning in the drafted migration" in result.stdout
    assert "down:1: warning drop-column: dropping tâble one.note" in result.stdout
    assert "up:" not in result.stdout


def test_a_draft_from_the_live_database_is_read_against_that_database_not_the_migrations(project, run_cli):
    """`diff --from db` on a database built without migrations: every statement is read (none
    "not-analysed" because the index or table it names exists only in the database)."""
    import sqlite3

    db = sqlite3.connect(project.config.require_url().path)
    db.executescript(START + 'CREATE INDEX "ix one" ON "tâble one" (name);')
    db.close()
    (project.config.root / "schema.sql").write_text('CREATE TABLE "tâble one" (id INTEGER PRIMARY KEY, name TEXT);\n')
    data = json.loads(run_cli("diff", "--from", "db", "--json").stdout)
    assert [(f["code"], f["section"]) for f in data["lint"]] == [("drop-column", "up")]


def test_a_draft_that_only_drops_an_index_reads_it_on_the_indexed_table(project, run_cli):
    import sqlite3

    db = sqlite3.connect(project.config.require_url().path)
    db.executescript(START + 'CREATE INDEX "ix one" ON "tâble one" (name); CREATE TABLE other (id INTEGER);')
    db.close()
    (project.config.root / "schema.sql").write_text(START + "\nCREATE TABLE other (id INTEGER);\n")
    data = json.loads(run_cli("diff", "--from", "db", "--json").stdout)
    assert "not-analysed" not in [f["code"] for f in data["lint"]]
