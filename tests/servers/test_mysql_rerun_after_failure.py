"""A MariaDB draft that fails halfway runs again once the data is fixed (MySQL/MariaDB commit each
DDL statement, so the statements before the failing one stay done and run a second time).

The drafts use MariaDB's ``IF [NOT] EXISTS`` forms where a second run leaves what the first left
(see :mod:`dbshift.planners.mysql_rerun`); for MySQL 8 only the table forms it documents.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from dbshift.dialects import open_database
from dbshift.errors import MigrationFailed
from dbshift.lint.drafts import draft_findings, plan_findings
from dbshift.planners import mysql as planner
from dbshift.planners.mysql_rerun import Rerun
from dbshift.schema import diff as d
from dbshift.schema.model import Column, Table
from dbshift.urls import parse_url
from servers.conftest import project_with, query
from value_oracle import assert_same_values, snapshot

#: Odd names: a backtick inside a name, spaces, non-ASCII.
ORDERS, AMOUNT, NOTE, REMARK = "shop `orders`", "amount ü", "note", "remark ✓"
START = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40));
CREATE TABLE `shop ``orders``` (
  id INT PRIMARY KEY, `amount ü` INT, note VARCHAR(20), customer_id INT, city VARCHAR(20));
INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bo');
INSERT INTO `shop ``orders``` VALUES
  (1, 1999, 'first', 1, 'Oslo'), (2, -2147483648, NULL, 2, NULL), (3, NULL, 'ø ``x``', 99, 'Zürich'),
  (4, 2147483647, '', NULL, 'Oslo');
"""
DESIRED = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40));
CREATE TABLE `tags ✓` (id BIGINT PRIMARY KEY, label VARCHAR(30) NOT NULL, UNIQUE KEY `by label` (label));
CREATE TABLE `shop ``orders``` (
  id INT PRIMARY KEY, `amount ü` BIGINT, `remark ✓` VARCHAR(20), customer_id INT, city VARCHAR(20),
  email VARCHAR(50),
  KEY `by city` (city),
  CONSTRAINT `to customer` FOREIGN KEY (customer_id) REFERENCES customers (id));
"""


def values(url: str):
    db = open_database(parse_url(url))
    try:
        return snapshot(db)
    finally:
        db.close()


def draft(project):
    (project.config.root / "schema.sql").write_text(DESIRED)
    return project.diff(name="reshape", renames=[f"{ORDERS}.{NOTE}={REMARK}"])


def test_a_draft_that_fails_at_its_foreign_key_runs_again_after_the_data_is_fixed_and_rolls_back(tmp_path, my_url):
    project = project_with(tmp_path, my_url, START)
    original = values(my_url)
    result = draft(project)
    up = result.plan.up_sql()
    assert "CREATE TABLE IF NOT EXISTS `tags ✓`" in up
    assert f"RENAME COLUMN IF EXISTS `{NOTE}` TO `{REMARK}`" in up
    assert "ADD COLUMN IF NOT EXISTS `email`" in up and "ADD KEY IF NOT EXISTS `by city`" in up
    assert "FOREIGN KEY IF NOT EXISTS (`customer_id`)" in up

    # Order 3 names customer 99, who is not there: the key fails, the statements before it stay done.
    with pytest.raises(MigrationFailed, match="foreign key"):
        project.apply()
    assert [m.version for m in project.status().dirty] == [int(result.path.name[:14])]
    assert query(my_url, "SHOW TABLES LIKE 'tags ✓'") == [("tags ✓",)]  # statement 1 stayed done
    columns = [r[0] for r in query(my_url, "SHOW COLUMNS FROM `shop ``orders```")]
    assert REMARK in columns and NOTE not in columns and "email" in columns  # statement 2 too

    query(my_url, "INSERT INTO customers VALUES (99, 'Late Lou')")  # the data is fixed
    half = values(my_url)
    original["customers"] = half["customers"]
    assert project.repair(dirty="pending") == [f"marked {result.path.stem} as pending"]
    project.apply()  # runs every statement again: the done ones change nothing

    assert not project.status().dirty and not project.status().pending
    assert_same_values(half, values(my_url))  # the statements run again changed no value
    assert query(my_url, f"SELECT id, `{AMOUNT}`, `{REMARK}`, customer_id FROM `shop ``orders``` ORDER BY id") == [
        (1, 1999, "first", 1),
        (2, -2147483648, None, 2),
        (3, None, "ø ``x``", 99),
        (4, 2147483647, "", None),
    ]
    keys = query(
        my_url,
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
    assert keys == [("to customer",)]

    # The rollback fails halfway too (a table the user made since references the new one) ...
    query(my_url, "CREATE TABLE tag_links (tag BIGINT, FOREIGN KEY (tag) REFERENCES `tags ✓` (id))")
    with pytest.raises(MigrationFailed):
        project.rollback(steps=1, force=True)
    query(my_url, "DROP TABLE tag_links")
    project.repair(dirty="applied")
    project.rollback(steps=1, force=True)  # ... and its down runs again from its first statement

    assert_same_values(original, values(my_url))  # every value, its type, and no table more
    rows = query(my_url, f"SELECT id, `{AMOUNT}`, note FROM `shop ``orders``` ORDER BY id")
    assert rows == [(1, 1999, "first"), (2, -2147483648, None), (3, None, "ø ``x``"), (4, 2147483647, "")]
    assert query(my_url, "SHOW TABLES LIKE 'tags ✓'") == []


def test_mariadb_diff_prints_no_not_rerunnable_for_its_own_draft(tmp_path, my_url):
    project = project_with(tmp_path, my_url, START)
    (project.config.root / "schema.sql").write_text(DESIRED)
    result = project.diff(renames=[f"{ORDERS}.{NOTE}={REMARK}"])
    findings = draft_findings(project, result)
    assert findings, "the draft has other findings (a dropped-table down, a table copy)"
    assert [f for f in findings if f.code in ("not-rerunnable", "not-analysed")] == []


def test_the_same_draft_for_mysql_8_uses_only_the_table_forms_mysql_documents(tmp_path, my_url):
    project = project_with(tmp_path, my_url, START)
    (project.config.root / "schema.sql").write_text(DESIRED)
    result = project.diff(renames=[f"{ORDERS}.{NOTE}={REMARK}"])
    as_mysql = replace(
        result.diff,
        current=replace(result.diff.current, options={**result.diff.current.options, "flavour": "mysql"}),
        desired=replace(result.diff.desired, options={**result.diff.desired.options, "flavour": "mysql"}),
    )
    plan = planner.plan_diff(as_mysql)
    text = plan.up_sql() + "\n" + plan.down_sql()
    assert "CREATE TABLE IF NOT EXISTS `tags ✓`" in plan.up_sql()
    assert "DROP TABLE IF EXISTS `tags ✓`" in plan.down_sql()
    guards = re.findall(r"\b(?:CREATE TABLE|DROP TABLE|[A-Z ]+?) IF (?:NOT )?EXISTS", text)
    assert sorted(set(guards)) == ["CREATE TABLE IF NOT EXISTS", "DROP TABLE IF EXISTS"], guards
    assert f"RENAME COLUMN `{NOTE}` TO `{REMARK}`" in plan.up_sql()
    assert "ADD KEY `by city`" in plan.up_sql()
    # Lint is right to warn about the ALTER TABLE clauses MySQL 8 cannot guard, and reads every statement.
    codes = [f.code for f in plan_findings(as_mysql, plan, "mysql")]
    assert "not-rerunnable" in codes and "not-analysed" not in codes


# -- every prefix of the draft run again ----------------------------------------------------------
ODD_START = """
CREATE TABLE parents (id INT PRIMARY KEY, code VARCHAR(10));
CREATE TABLE `odd ``t`` ü` (
  id INT NOT NULL, a INT, b INT, g INT AS (a + 1) STORED, pid INT, `old name` VARCHAR(10), gone VARCHAR(5),
  KEY `k a` (a), UNIQUE KEY `u b` (b), CONSTRAINT `c a` CHECK (a > 0),
  CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parents (id));
CREATE TABLE doomed (id INT PRIMARY KEY);
CREATE VIEW old_v AS SELECT id FROM parents;
CREATE TRIGGER old_tr BEFORE INSERT ON parents FOR EACH ROW SET NEW.code = UPPER(NEW.code);
INSERT INTO parents VALUES (1, 'A'), (2, 'B');
INSERT INTO `odd ``t`` ü` (id, a, b, pid, `old name`) VALUES
  (1, 5, 10, 1, 'x ``y``'), (2, 1000, -1, NULL, NULL), (3, NULL, NULL, 2, 'ü');
"""
ODD_DESIRED = """
CREATE TABLE parents (id INT PRIMARY KEY, code VARCHAR(10), UNIQUE KEY by_code (code));
CREATE TABLE `odd ``t`` ü` (
  id INT NOT NULL PRIMARY KEY, a BIGINT, b INT, g INT AS (a + 2) STORED, pid INT, `new name ✓` VARCHAR(10),
  added INT DEFAULT 7,
  KEY `k a` (a, b), UNIQUE KEY `u b2` (b), CONSTRAINT `c a` CHECK (a >= 0),
  CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parents (id) ON DELETE CASCADE);
CREATE TABLE fresh (id INT PRIMARY KEY, pid INT, CONSTRAINT fresh_fk FOREIGN KEY (pid) REFERENCES parents (id));
CREATE VIEW new_v AS SELECT id, code FROM parents;
CREATE TRIGGER new_tr BEFORE INSERT ON parents FOR EACH ROW SET NEW.code = LOWER(NEW.code);
"""


def run_every_prefix_again(url: str, statements: list[str]) -> None:
    """As if the file failed after each statement and ran again from its start: statements 1..k
    for every k (each statement runs once more for every statement after it)."""
    db = open_database(parse_url(url))
    try:
        for end in range(1, len(statements) + 1):
            for statement in statements[:end]:
                db.run_statement(statement)
    finally:
        db.close()


def test_every_statement_of_a_mariadb_draft_and_its_down_runs_again_and_leaves_what_one_run_leaves(tmp_path, my_url):
    project = project_with(tmp_path, my_url, ODD_START)
    original = values(my_url)
    (project.config.root / "schema.sql").write_text(ODD_DESIRED)
    result = project.diff(renames=["odd `t` ü.old name=new name ✓"], convert=[], check_rows=False)
    up, down = result.plan.up_statements(), result.plan.down_statements()
    assert len(up) >= 8 and any("IF NOT EXISTS" in s for s in up) and any("IF EXISTS" in s for s in down)

    run_every_prefix_again(my_url, up)
    assert project.diff(source="db", renames=[]).empty, "the schema is the desired one"
    rows = query(my_url, "SELECT id, a, b, g, pid, `new name ✓`, added FROM `odd ``t`` ü` ORDER BY id")
    assert rows == [
        (1, 5, 10, 7, 1, "x ``y``", 7),
        (2, 1000, -1, 1002, None, None, 7),
        (3, None, None, None, 2, "ü", 7),
    ]

    run_every_prefix_again(my_url, down)
    (project.config.root / "start.sql").write_text(ODD_START.split("INSERT INTO parents")[0])
    assert project.diff(source="db", target="start.sql").empty, "the down gives the first schema back"
    assert_same_values(original, values(my_url))


def test_a_conversion_keeps_the_plain_forms_and_lint_its_warning(tmp_path, my_url):
    """A conversion's UPDATE run again would convert converted values: its steps stay plain (and
    lint keeps its warning), and the draft still does what it says on one run."""
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE `t ü` (id INT PRIMARY KEY, cents INT);\nINSERT INTO `t ü` VALUES (1, 1999), (2, -5), (3, NULL);",
    )
    (project.config.root / "schema.sql").write_text("CREATE TABLE `t ü` (id INT PRIMARY KEY, dollars DECIMAL(10,2));")
    converted = project.diff(
        name="dollars",
        renames=["t ü.cents=dollars"],
        convert=["t ü.dollars=cents / 100"],
        reverse=["t ü.cents=ROUND(dollars * 100)"],
    )
    text = converted.plan.up_sql() + converted.plan.down_sql()
    assert "UPDATE `t ü`" in text and "EXISTS" not in text, text
    assert "not-rerunnable" in [f.code for f in draft_findings(project, converted)]
    project.apply()
    assert query(my_url, "SELECT id, dollars FROM `t ü` ORDER BY id") == [
        (1, Decimal("19.99")),
        (2, Decimal("-0.05")),
        (3, None),
    ]


def _alter(old_columns, new_columns, renamed, added=()):
    old = Table("t", tuple(Column(n, "INT") for n in old_columns))
    new = Table("t", tuple(Column(n, "INT") for n in new_columns))
    sources = {n: {v: k for k, v in renamed.items()}.get(n, n) for n in new_columns if n not in added}
    return d.AlterTable(old, new, sources, renamed, added=tuple(Column(n, "INT") for n in added))


def test_a_rename_whose_old_name_is_taken_again_stays_plain_and_fails_on_a_second_run():
    """Skipping a rename because its old name is gone is wrong when another column takes that name
    (the differ does not draft these today; a hand-built change shows the planner keeps them plain)."""
    mariadb = Rerun(mariadb=True)
    swap = planner.alter_table_sql(_alter(["a", "b"], ["b", "a"], {"a": "b", "b": "a"}), mariadb)
    assert "IF EXISTS" not in "".join(swap) and "RENAME COLUMN `a` TO `b`" in swap[0], swap
    reused = planner.alter_table_sql(_alter(["a"], ["b", "a"], {"a": "b"}, added=("a",)), mariadb)
    assert "IF " not in "".join(reused) and "ADD COLUMN `a`" in reused[0] and "RENAME COLUMN `a` TO `b`" in reused[0]
    # the same rename alone, and a new column under a fresh name, take the forms
    alone = planner.alter_table_sql(_alter(["a"], ["b", "c"], {"a": "b"}, added=("c",)), mariadb)
    assert "RENAME COLUMN IF EXISTS `a` TO `b`" in alone[0] and "ADD COLUMN IF NOT EXISTS `c`" in alone[0], alone
