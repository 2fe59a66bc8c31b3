"""Long steps say how far they are: a long statement shows its line and elapsed time, `verify` names
each table as it reads it (issue 11, item 11: the demo sat silent for 80 s)."""

from __future__ import annotations

import pytest

from conftest import write_migration
from dbshift import Project
from dbshift import runner as runner_module

V1 = 20260101090000


@pytest.fixture
def events(project, monkeypatch):
    """Every event the project reports, with its data, in order."""
    heard: list[tuple[str, dict]] = []
    monkeypatch.setattr(runner_module, "REPORT_AFTER_SECONDS", 0.2)
    monkeypatch.setattr(runner_module, "REPORT_EVERY_SECONDS", 0.1)
    project.on_event = lambda event, **data: heard.append((event, data))
    return heard


def test_a_long_statement_reports_its_line_and_elapsed_time_while_it_runs(project, events):
    write_migration(
        project,
        V1,
        "big",
        "CREATE TABLE numbers (n INTEGER);\n\n"
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000)\n"
        "INSERT INTO numbers SELECT n FROM c;",
        "DROP TABLE numbers;",
    )
    project.hash()
    project.apply()
    running = [data for event, data in events if event == "running"]
    assert running, "no progress while a long statement ran"
    assert {data["line"] for data in running} == {4}  # the INSERT, where it starts in the file
    assert all(data["migration"].version == V1 and data["direction"] == "up" for data in running)
    assert running[-1]["seconds"] > running[0]["seconds"] >= 0.2
    done = [index for index, (event, _) in enumerate(events) if event == "done"]
    assert done and all(index < done[0] for index, (event, _) in enumerate(events) if event == "running")


def test_quick_statements_report_nothing(project, events):
    write_migration(project, V1, "small", "CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1);", "DROP TABLE t;")
    project.hash()
    project.apply()
    assert [event for event, _ in events] == ["start", "done"]


def test_verify_names_each_table_and_check_as_it_starts(project, events):
    write_migration(
        project,
        V1,
        "two",
        "CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y INTEGER);\nINSERT INTO a VALUES (1);",
        "DROP TABLE b;\nDROP TABLE a;",
    )
    project.hash()
    project.apply()
    events.clear()
    Project(project.config.root, on_event=project.on_event).verify()
    messages = [data["message"] for event, data in events if event == "progress"]
    assert "verify: fingerprinting table a (1 of 2)" in messages
    assert "verify: fingerprinting table b (2 of 2)" in messages
    assert {"verify: integrity check started", "verify: foreign keys check started"} <= set(messages)
    assert events[-1][0] == "progress-done"
