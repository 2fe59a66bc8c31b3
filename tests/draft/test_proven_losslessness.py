"""Stories of losslessness that is proven, not assumed (issue 10, items 2 and 9): a type change whose
down cannot give back every value says so, counts on the live data how many would not come back,
records it, and `rollback` asks for --force naming that count."""

from __future__ import annotations

import pytest

from conftest import write_migration
from dbshift.errors import SafetyRefusal
from dbshift.history import History
from value_oracle import count_changed_values, fill_with_edge_values, snapshot


def _project_with(project, create: str, columns: list[tuple], desired: str):
    """``create`` applied, its table ``t`` filled with edge values for ``columns``, ``desired`` in schema.sql."""
    write_migration(project, 20260101000000, "start", create, "DROP TABLE t;")
    project.hash()
    project.apply()
    with project.connect() as db:
        db.begin()
        fill_with_edge_values(db, "t", columns, key="id")
        db.commit()
    (project.config.root / "schema.sql").write_text(desired)
    return project


def _lost_values(project, version: int):
    with project.connect(readonly=True) as db:
        return History(db).applied()[version].lost_values


def _values(project):
    with project.connect(readonly=True) as db:
        return snapshot(db)


def test_a_bigint_made_real_is_recorded_with_the_values_that_will_not_come_back(project):
    """9007199254740993 and the largest integers do not survive a REAL: the draft checks the live values,
    the history records how many, rollback refuses without --force naming them, and with --force exactly
    that many values differ afterwards (the others come back identical, type and all)."""
    _project_with(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT);",
        [("v", "BIGINT")],
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);",
    )
    drafted = project.diff(name="v_real")
    text = drafted.path.read_text()
    assert "-- loss-check: SELECT count(*), 't.v'" in text and "-- lossless-down" in text
    before = _values(project)
    project.apply()
    version = drafted.path.name.split("_")[0]
    lost = _lost_values(project, int(version))
    assert lost >= 3  # 2^53 + 1, -(2^53 + 1), 2^63 - 1 at least
    with pytest.raises(SafetyRefusal) as refused:
        project.rollback()
    assert f"{lost} values of t.v will not come back" in refused.value.message
    assert _values(project) != before  # refused: nothing ran
    project.rollback(force=True)
    assert count_changed_values(before, _values(project), key="id") == lost


def test_a_bigint_whose_values_all_fit_comes_back_without_force(project):
    """The same change on values that all fit in 53 bits: the check counts 0, rollback needs no --force,
    and every value comes back with its type."""
    write_migration(
        project, 20260101000000, "start", "CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT);", "DROP TABLE t;"
    )
    project.hash()
    project.apply()
    with project.connect() as db:
        db.begin()
        for number, value in enumerate([0, 1, -1, 2**53, -(2**53), 123456789, None], 1):
            db.execute("INSERT INTO t VALUES (?, ?)", (number, value))
        db.commit()
    (project.config.root / "schema.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);")
    drafted = project.diff(name="v_real")
    before = _values(project)
    project.apply()
    assert _lost_values(project, int(drafted.path.name.split("_")[0])) == 0
    project.rollback()
    assert _values(project) == before


@pytest.mark.parametrize("old, new", [("TEXT", "INTEGER"), ("TEXT", "NUMERIC"), ("BLOB", "REAL"), ("", "NUMERIC")])
def test_text_that_is_not_a_canonical_number_is_counted_when_it_becomes_a_number(project, old, new):
    """'007', '1.0', ' 1' and '1e2' turn into numbers and do not come back as the same text (or, from a
    BLOB or untyped column, as text at all): counted, recorded, and exactly those differ after --force."""
    _project_with(
        project,
        f"CREATE TABLE t (id INTEGER PRIMARY KEY, v {old});",
        [("v", "TEXT")],
        f"CREATE TABLE t (id INTEGER PRIMARY KEY, v {new});",
    )
    drafted = project.diff(name="v_number", convert=[], reverse=[])
    before = _values(project)
    project.apply()
    lost = _lost_values(project, int(drafted.path.name.split("_")[0]))
    assert lost >= 4  # '007', '1.0', ' 1', '1e2'
    with pytest.raises(SafetyRefusal):
        project.rollback()
    project.rollback(force=True)
    assert count_changed_values(before, _values(project), key="id") == lost


def test_a_conversion_and_its_reverse_are_checked_on_the_live_values(project):
    """cents -> dollars and back with ROUND: exact for these cents, so nothing is recorded lost; the
    rollback needs no --force and every cent comes back."""
    write_migration(
        project, 20260101000000, "start", "CREATE TABLE t (id INTEGER PRIMARY KEY, cents INTEGER);", "DROP TABLE t;"
    )
    project.hash()
    project.apply()
    with project.connect() as db:
        db.begin()
        db.execute("INSERT INTO t VALUES (1, 1999), (2, 250), (3, 100001), (4, NULL), (5, -5)")
        db.commit()
    (project.config.root / "schema.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, dollars REAL);")
    drafted = project.diff(
        name="dollars",
        renames=["t.cents=dollars"],
        convert=["t.dollars=cents / 100.0"],
        reverse=["t.cents=CAST(ROUND(dollars * 100) AS INTEGER)"],
    )
    before = _values(project)
    project.apply()
    assert _lost_values(project, int(drafted.path.name.split("_")[0])) == 0
    project.rollback()
    assert _values(project) == before


def test_a_reverse_that_does_not_restore_the_values_is_counted(project):
    """A reverse that rounds to whole dollars loses the cents of 1999 and 250 (100001 -> 1000.01 -> 100000
    too): the check counts exactly the values that differ after the rollback."""
    write_migration(
        project, 20260101000000, "start", "CREATE TABLE t (id INTEGER PRIMARY KEY, cents INTEGER);", "DROP TABLE t;"
    )
    project.hash()
    project.apply()
    with project.connect() as db:
        db.begin()
        db.execute("INSERT INTO t VALUES (1, 1999), (2, 250), (3, 100001), (4, NULL), (5, 300)")
        db.commit()
    (project.config.root / "schema.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, dollars REAL);")
    drafted = project.diff(
        name="dollars",
        renames=["t.cents=dollars"],
        convert=["t.dollars=cents / 100.0"],
        reverse=["t.cents=CAST(ROUND(dollars) AS INTEGER) * 100"],
    )
    before = _values(project)
    project.apply()
    assert _lost_values(project, int(drafted.path.name.split("_")[0])) == 3
    project.rollback(force=True)
    assert count_changed_values(before, _values(project), key="id") == 3


def test_a_column_rename_hint_in_a_renamed_table_is_honoured_with_either_table_name(project):
    """--rename users=people --rename users.name=full_name renames the column (item 9): the name values
    stay, nothing is dropped, and the draft is not destructive."""
    from dbshift.drafting.draft import draft_schemas
    from dbshift.drafting.sources import schema_from_sql

    current = schema_from_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
    desired = schema_from_sql("CREATE TABLE people (id INTEGER PRIMARY KEY, full_name TEXT);")
    for hint in ("users.name=full_name", "people.name=full_name"):
        plan = draft_schemas(current, desired, renames=["users=people", hint]).plan
        assert plan.up_statements() == [
            'ALTER TABLE "users" RENAME TO "people"',
            'ALTER TABLE "people" RENAME COLUMN "name" TO "full_name"',
        ], hint
        assert not plan.destructive


def test_apply_warns_and_rollback_plan_and_report_name_the_count(project, run_cli):
    """On the command line: apply prints a warning with the count; rollback exits 3 naming it; the
    rollback plan and the report call the step lossy and say values written later are not covered."""
    _project_with(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT);",
        [("v", "BIGINT")],
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);",
    )
    assert run_cli("diff", "--name", "v_real").returncode == 0
    applied = run_cli("apply")
    assert applied.returncode == 0, applied.output
    assert "warning:" in applied.output and "of t.v" in applied.output
    refused = run_cli("rollback")
    assert refused.returncode == 3 and "values of t.v will not come back" in refused.output
    plan = run_cli("rollback-plan")
    assert "LOSSY" in plan.output and "values written after it are not covered" in plan.output
    assert "values of t.v" in plan.output


def test_a_history_table_from_an_older_dbshift_gets_the_lost_values_column(project):
    """A database whose dbshift_history has no lost_values column still shows its status, and the next
    apply adds the column and records the count."""
    import sqlite3

    write_migration(
        project, 20260101000000, "start", "CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT);", "DROP TABLE t;"
    )
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute("ALTER TABLE dbshift_history DROP COLUMN lost_values")
        conn.execute("INSERT INTO t VALUES (1, 9007199254740993)")
    assert project.status().current_version == 20260101000000
    (project.config.root / "schema.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);")
    drafted = project.diff(name="v_real")
    project.apply()
    assert _lost_values(project, int(drafted.path.name.split("_")[0])) == 1
    assert _lost_values(project, 20260101000000) is None


def test_a_rename_hint_that_renames_nothing_is_reported_not_silently_dropped():
    """A typo in a --rename hint leaves drop + add (destructive): the plan says the hint was not used."""
    from dbshift.drafting.draft import draft_schemas
    from dbshift.drafting.sources import schema_from_sql

    current = schema_from_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);")
    desired = schema_from_sql("CREATE TABLE people (id INTEGER PRIMARY KEY, full_name TEXT);")
    plan = draft_schemas(current, desired, renames=["users=people", "users.nmae=full_name"]).plan
    assert plan.destructive
    assert plan.notes == ["--rename users.nmae=full_name matched no table or column that changes, so it was not used"]
    plan = draft_schemas(current, desired, renames=["users=people", "users.name=full_name"]).plan
    assert plan.notes == [] and not plan.destructive


def test_a_strict_tables_any_column_keeps_text_as_it_is_so_nothing_is_counted_for_it(project):
    """STRICT: ANY keeps '007' as text, so ANY -> TEXT gives it back, while ANY -> INTEGER counts it."""
    write_migration(
        project,
        20260101000000,
        "start",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a ANY, b ANY) STRICT;",
        "DROP TABLE t;",
    )
    project.hash()
    project.apply()
    with project.connect() as db:
        db.begin()
        db.execute("INSERT INTO t VALUES (1, '007', '007'), (2, 'x', '12'), (3, 1.5, 3)")
        db.commit()
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER) STRICT;"
    )
    drafted = project.diff(name="typed")
    before = _values(project)
    project.apply()
    # a: only 1.5 (-> '1.5') does not come back; b: '007' and '12' come back as integers, 3 as it was
    assert _lost_values(project, int(drafted.path.name.split("_")[0])) == 3
    project.rollback(force=True)
    assert count_changed_values(before, _values(project), key="id") == 3


def test_a_hand_written_loss_check_counts_and_a_broken_one_stops_the_apply_naming_the_file(project, run_cli):
    """`-- loss-check:` works in a migration written by hand; one that cannot run fails the apply with a
    one-line error naming the file, and nothing is applied."""
    write_migration(
        project,
        20260101000000,
        "start",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, NULL);",
        "DROP TABLE t;",
    )
    write_migration(
        project,
        20260102000000,
        "fill",
        "UPDATE t SET v = '' WHERE v IS NULL;",
        "SELECT 1;",
        header="-- loss-check: SELECT count(*), 't.v' FROM t WHERE v IS NULL\n",
    )
    write_migration(
        project,
        20260103000000,
        "broken",
        "ALTER TABLE t ADD COLUMN w TEXT;",
        "ALTER TABLE t DROP COLUMN w;",
        header="-- loss-check: SELECT count(*) FROM no_such_table\n",
    )
    project.hash()
    result = run_cli("apply")
    assert result.returncode == 1
    assert "20260103000000_broken.sql: loss check 1 failed: no such table: no_such_table" in result.output
    assert "Traceback" not in result.output
    assert _lost_values(project, 20260102000000) == 2
    with project.connect(readonly=True) as db:
        assert 20260103000000 not in History(db).applied()
        assert [row[1] for row in db.execute("PRAGMA table_info(t)")] == ["id", "v"]


def test_rehearse_shows_the_count_next_to_the_apply_and_the_values_that_did_not_come_back(project):
    _project_with(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT);",
        [("v", "BIGINT")],
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);",
    )
    drafted = project.diff(name="v_real")
    steps = {s.name: (s.outcome, s.detail) for s in project.rehearse().steps}
    apply_step = steps[f"apply {drafted.path.stem}"]
    assert apply_step[0] == "pass" and "its loss checks count" in apply_step[1]
    assert steps["schema equals the original"] == ("pass", "")
    assert steps["data equals the original"][0] == "fail"
