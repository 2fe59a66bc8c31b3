"""SQLite stories: the rollback plan of the demo, and records of big tables (the shared ones are in ``tests/stories``)."""

from __future__ import annotations

import sqlite3

from shop import add, make_shop

from dbshift import Project
from dbshift.demo import V_AMOUNT, V_HISTORY, V_INITIAL, V_PHONE, run_demo


def _demo_applied(tmp_path) -> Project:
    folder = run_demo(tmp_path / "demo", orders=300, say=lambda text: None)
    project = Project(folder)
    project.apply()
    with sqlite3.connect(project.config.url.path) as conn:
        conn.execute("UPDATE users SET phone = '+1 555 0100' WHERE id <= 7")
    conn.close()
    return project


def test_the_rollback_plan_of_the_demo_migrations_names_the_lossy_steps(tmp_path, run_cli):
    project = _demo_applied(tmp_path)
    plan = project.rollback_plan(to=V_INITIAL)
    verdicts = {step.version: step.verdict for step in plan.steps}
    assert verdicts == {V_HISTORY: "lossy", 20260104090000: "lossless", V_AMOUNT: "rebuild", V_PHONE: "lossy"}
    phone = next(s for s in plan.steps if s.version == V_PHONE)
    assert [(loss.what, loss.rows) for loss in phone.losses] == [("column users.phone", 7)]
    assert [s.version for s in plan.steps] == sorted(verdicts, reverse=True)
    result = run_cli("rollback-plan", "--to", str(V_INITIAL), cwd=project.config.root)
    assert result.returncode == 0, result.output
    text = result.stdout
    assert "| 4 | 20260102090000_add_users_phone | LOSSY | column users.phone (7 row(s) with data) |" in text
    assert "ALTER TABLE users DROP COLUMN phone;" in text
    assert f"`dbshift rollback --to {V_INITIAL} --force`" in text
    assert "lossless table rebuild" in text


def test_report_of_a_version_that_is_not_applied_is_a_clear_error(project, run_cli):
    make_shop(project)
    result = run_cli("report", "20991231000000")
    assert result.returncode == 2 and "is not applied" in result.stderr and "Traceback" not in result.output


def test_a_record_of_a_big_table_keeps_its_row_counts_without_hashing_it(project, monkeypatch):
    from dbshift.safety import records

    monkeypatch.setattr(records, "RECORD_CONTENT_ROW_LIMIT", 180)
    make_shop(project, orders=200)
    add(project, 20260102090000, "purge_free", "DELETE FROM orders WHERE note IS NULL;", "SELECT 1;")
    project.apply()
    record = project.history()[0][-1].record
    assert record["before"]["orders"] == {"rows": 200, "content": None}
    assert record["after"]["orders"]["rows"] == 160 and record["after"]["orders"]["content"] is not None
    report = project.report(20260102090000)
    assert "| orders | 200 | 160 | not hashed (over 180 rows) |" in report
