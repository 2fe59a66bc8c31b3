"""A table that the up drops while other tables keep rows pointing at it: the down brings the table
back without its rows, so it cannot validate the children's foreign keys. It adds them NOT VALID
(enforced for new rows) and says so: the rollback runs (it drops nothing; the up was the lossy
step) and keeps every child row."""

from __future__ import annotations

from dbshift.dialects import open_database
from dbshift.urls import parse_url
from servers.conftest import project_with, query
from value_oracle import assert_same_values, snapshot


def employees(url: str):
    db = open_database(parse_url(url))
    try:
        return snapshot(db, ["employees"])
    finally:
        db.close()


def test_the_rollback_of_a_dropped_parent_runs_and_keeps_the_children(tmp_path, pg_url):
    project = project_with(
        tmp_path,
        pg_url,
        "CREATE TABLE departments (dept_id int PRIMARY KEY, name text);\n"
        "CREATE TABLE employees (emp_id int PRIMARY KEY, dept_id int,\n"
        "  CONSTRAINT emp_dept_fk FOREIGN KEY (dept_id) REFERENCES departments (dept_id));\n"
        "INSERT INTO departments VALUES (1, 'ops'), (2, 'dev');\n"
        "INSERT INTO employees VALUES (10, 1), (11, 2), (12, NULL);",
    )
    before = employees(pg_url)
    (project.config.root / "schema.sql").write_text("CREATE TABLE employees (emp_id int PRIMARY KEY, dept_id int);")
    draft = project.diff(name="no_departments")
    assert draft.plan.destructive
    assert any("emp_dept_fk NOT VALID" in note for op in draft.plan.operations for note in op.notes)
    project.apply()
    project.rollback(steps=1)
    assert_same_values(before, employees(pg_url))
    assert query(pg_url, "SELECT convalidated FROM pg_constraint WHERE conname = 'emp_dept_fk'") == [(False,)]
    assert query(pg_url, "SELECT count(*) FROM departments") == [(0,)]
