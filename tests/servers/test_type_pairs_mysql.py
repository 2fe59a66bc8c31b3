"""Property test over column type pairs on MariaDB/MySQL: a drafted type change either marks its
down lossy, or every edge value comes back, or its loss checks count exactly the values that do not.

For each pair of types (and a few conversions given with ``--convert``/``--reverse``), a table
``t(id, v)`` is filled with the value oracle's edge values for the old type, the change to the new
type is drafted by the MySQL planner from the two inspected schemas, the loss checks are run on
the live rows, and the up and the down run statement by statement. The up may refuse values the
new type cannot hold (strict mode): then the old values must still be there. One database serves
every case (a second one holds the desired table), so the whole test takes seconds.
"""

from __future__ import annotations

import itertools

import pytest

from dbshift.dialects import open_database
from dbshift.drafting.draft import draft_schemas
from dbshift.inspectors.mysql import inspect_database
from dbshift.planners import mysql_losses
from dbshift.urls import parse_url
from servers.conftest import create_database, drop_database
from value_oracle import fill_with_edge_values

TYPES = [
    "INT",
    "BIGINT",
    "TINYINT(1)",
    "DOUBLE",
    "FLOAT",
    "DECIMAL(12,2)",
    "VARCHAR(20)",
    "TEXT",
    "CHAR(5)",
    "DATE",
    "DATETIME",
]

#: (old type, new type, --convert, --reverse): conversions users write.
CONVERSIONS = [
    ("INT", "DECIMAL(12,2)", "v / 100.0", "ROUND(v * 100)"),
    ("DECIMAL(12,2)", "INT", "ROUND(v * 100)", "v / 100"),
    ("BIGINT", "DOUBLE", "CAST(v AS DOUBLE)", "CAST(v AS SIGNED)"),
    ("VARCHAR(20)", "INT", "CAST(v AS SIGNED)", "CAST(v AS CHAR)"),
    ("INT", "VARCHAR(20)", "CAST(v AS CHAR)", "CAST(v AS SIGNED)"),
    ("VARCHAR(20)", "CHAR(5)", "LEFT(v, 5)", "v"),
    ("DATETIME", "DATE", "DATE(v)", "CAST(v AS DATETIME)"),
    ("TEXT", "VARCHAR(20)", "UPPER(v)", "LOWER(v)"),
]


@pytest.fixture(scope="module")
def databases(mysql_url):
    """(work database, desired database) connections, shared by every case and dropped at the end."""
    work_url, desired_url = create_database(mysql_url), create_database(mysql_url)
    work, desired = open_database(parse_url(work_url)), open_database(parse_url(desired_url))
    yield work, desired
    work.close()
    desired.close()
    drop_database(mysql_url, work_url)
    drop_database(mysql_url, desired_url)


def values(db) -> dict[int, str]:
    """id -> the value of v with its Python type (1, 1.0 and '1' differ). A FLOAT is read as a DOUBLE
    too: the server prints it with 6 digits, so 0.33333334 and 0.333333 would look the same."""
    kind = db.execute(
        "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 't' AND COLUMN_NAME = 'v'"
    )[0][0]
    exact = ", CAST(v AS DOUBLE)" if kind.lower() == "float" else ", NULL"
    return {
        row[0]: f"{type(row[1]).__name__}:{row[1]!r}:{row[2]!r}" for row in db.execute(f"SELECT id, v{exact} FROM t")
    }


def run_all(db, statements: list[str]) -> str | None:
    """Run ``statements`` in order; the error that stopped them, or None."""
    for statement in statements:
        try:
            db.execute(statement)
        except Exception as exc:
            if not db.is_driver_error(exc):
                raise
            return f"{db.describe_error(exc)} in {statement}"
    return None


def keep_values_the_new_type_takes(db, old_type: str, new_type: str) -> int:
    """Delete the rows whose value ALTER TABLE refuses to turn into ``new_type`` (strict mode); the
    number deleted. The server decides, row by row, by altering a one-row copy."""
    refused = []
    for (key,) in db.execute("SELECT id FROM t"):
        db.execute("DROP TABLE IF EXISTS probe")
        db.execute(f"CREATE TABLE probe (v {old_type})")
        db.execute(f"INSERT INTO probe (v) SELECT v FROM t WHERE id = {key}")
        if run_all(db, [f"ALTER TABLE probe MODIFY v {new_type}"]):
            refused.append(key)
    db.execute("DROP TABLE IF EXISTS probe")
    for key in refused:
        db.execute(f"DELETE FROM t WHERE id = {key}")
    return len(refused)


def check_pair(databases, old_type: str, new_type: str, convert: str | None = None, reverse: str | None = None):
    """Draft ``old_type`` -> ``new_type`` over edge values, apply and revert it; the outcome: "kept"
    (every value came back), "counted" (the loss checks counted exactly the values that did not),
    "lossy" (the down is marked lossy) or "down refused" (the server refused to take a counted
    value back). When the server refuses the up, the old values must be intact; then the rows it
    refuses go and the rest is tried again ("refused, " + the outcome; "refused" for conversions)."""
    work, desired = databases
    for db, declared in ((work, old_type), (desired, new_type)):
        db.execute("DROP TABLE IF EXISTS t")
        db.execute(f"CREATE TABLE t (id INT PRIMARY KEY, v {declared})")
    fill_with_edge_values(work, "t", [("v", old_type, True)], key="id")
    options = {"convert": [f"t.v={convert}"], "reverse": [f"t.v={reverse}"]} if convert else {}
    plan = draft_schemas(inspect_database(work), inspect_database(desired), "mysql", **options).plan
    assert not plan.empty
    pair = f"{old_type} -> {new_type}"
    outcome = up_and_down(work, plan, pair)
    if outcome is not None:
        return outcome
    if (
        convert
        or not keep_values_the_new_type_takes(work, old_type, new_type)
        or not work.execute("SELECT 1 FROM t LIMIT 1")
    ):
        return "refused"
    outcome = up_and_down(work, plan, pair)
    assert outcome is not None, f"{pair}: the up fails on values ALTER TABLE takes one by one"
    return "refused, " + outcome


def up_and_down(work, plan, pair: str) -> str | None:
    """Count with the loss checks, run the up and the down, and compare the values with what was
    counted; None when the server refused the up (every old value checked to be intact)."""
    before = values(work)
    counted = sum(work.execute(check)[0][0] for check in plan.loss_checks())
    failed = run_all(work, plan.up_statements())
    if failed:
        assert values(work) == before, f"{pair}: the failed up changed values ({failed})"
        return None
    after_up = values(work)
    failed = run_all(work, plan.down_statements())
    if failed:  # a value that cannot go back: counted, and the failed down leaves the table as the up left it
        assert counted > 0, f"{pair}: the down fails, yet no loss was counted: {failed}"
        assert values(work) == after_up, f"{pair}: the failed down changed values ({failed})"
        return "down refused"
    after = values(work)
    changed = sorted(k for k in before if before[k] != after.get(k))
    if any(op.lossy_reverse for op in plan.operations):
        return "lossy"
    assert len(changed) == counted, (
        f"{pair}: loss checks counted {counted}, but these values did not come back: "
        + "; ".join(f"{before[k]} -> {after.get(k)}" for k in changed)
    )
    return "counted" if counted else "kept"


def no_check_for_widening(round_trip_loss):
    """``round_trip_loss`` that fails the test when it writes a check for a change it should know widens."""

    def checked(table, old, new, up=None, down=None):
        check = round_trip_loss(table, old, new, up, down)
        assert check is None, f"{old.type} -> {new.type} is a widening, yet a check was written"
        return check

    return checked


@pytest.mark.parametrize("old_type", TYPES)
def test_every_type_change_gives_each_value_back_or_counts_it(databases, old_type):
    outcomes = {new: check_pair(databases, old_type, new) for new in TYPES if new != old_type}
    assert {o.removeprefix("refused, ") for o in outcomes.values()} <= {
        "refused",
        "lossy",
        "counted",
        "kept",
        "down refused",
    }


@pytest.mark.parametrize("old_type,new_type,convert,reverse", CONVERSIONS)
def test_every_conversion_gives_each_value_back_or_counts_it(databases, old_type, new_type, convert, reverse):
    check_pair(databases, old_type, new_type, convert, reverse)


def test_widening_changes_need_no_check_and_keep_every_value(databases, monkeypatch):
    monkeypatch.setattr(mysql_losses, "round_trip_loss", no_check_for_widening(mysql_losses.round_trip_loss))
    for old_type, new_type in itertools.pairwise(["TINYINT(1)", "INT", "BIGINT", "DECIMAL(30,2)"]):
        assert check_pair(databases, old_type, new_type) == "kept"
    assert check_pair(databases, "VARCHAR(20)", "TEXT") == "kept"
    assert check_pair(databases, "FLOAT", "DOUBLE") == "kept"
    assert check_pair(databases, "INT", "DOUBLE") == "kept"


def test_the_data_decides_for_narrowing_changes_and_the_checks_say_how_many(databases):
    assert check_pair(databases, "BIGINT", "DOUBLE") == "counted"  # 2^53 + 1 and the int64 limits
    assert check_pair(databases, "VARCHAR(20)", "INT") == "refused, counted"  # '007', ' 1', '-0'
    assert check_pair(databases, "DATETIME", "DATE") == "counted"  # the times of day
    assert check_pair(databases, "DATE", "DOUBLE") == "lossy"  # ALTER TABLE does what CAST cannot replay


def test_types_whose_conversions_dbshift_cannot_replay_mark_the_down_lossy_unless_they_widen(databases):
    assert check_pair(databases, "ENUM('a','b')", "ENUM('a','b','c')") == "kept"
    assert check_pair(databases, "VARBINARY(10)", "BLOB") == "kept"
    assert check_pair(databases, "VARCHAR(20)", "ENUM('abc','007')").endswith("lossy")
    assert check_pair(databases, "BLOB", "TEXT").endswith("lossy")
