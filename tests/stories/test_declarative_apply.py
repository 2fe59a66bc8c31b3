"""`dbshift apply --schema schema.sql`: a developer edits the schema file and applies it in one step,
on SQLite, PostgreSQL and MariaDB. Values are compared one by one (tests/value_oracle.py); a refused
change leaves the schema and every value exactly as they were."""

from __future__ import annotations

import json

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from conftest import write_migration
from dbshift.dialects import open_database
from dbshift.dialects.description import describe
from stories.db import dialect_of, schema
from value_oracle import assert_same_values, count_changed_values, fill_with_edge_values, snapshot

TABLE = "Käse shop"  # a space and a non-ASCII letter: quoted everywhere or it breaks
COLUMNS = [("it's", "VARCHAR(100)", True), ("amount", "BIGINT", True)]  # and the key, id


def q(project, name: str) -> str:
    return describe(dialect_of(project)).quote(name)


def write_schema(project, *extra_columns: str, name_column: str = "it's", amount: str = "BIGINT") -> None:
    """schema.sql as the developer keeps it: the shop table with ``extra_columns`` after the first three."""
    columns = [
        f"{q(project, 'id')} INTEGER NOT NULL PRIMARY KEY",
        f"{q(project, name_column)} VARCHAR(100)",
        f"{q(project, 'amount')} {amount}",
        *extra_columns,
    ]
    (project.config.root / "schema.sql").write_text(f"CREATE TABLE {q(project, TABLE)} ({', '.join(columns)});\n")


def dbshift(project, *args: str):
    return run_dbshift("-C", str(project.config.root), *args)


def values(project):
    db = open_database(project.config.url)
    try:
        return snapshot(db)
    finally:
        db.close()


def history_rows(project) -> list[tuple[int, str]]:
    return [(a.version, a.name) for a in project.status().applied]


def start_with_rows(project):
    """The first schema applied declaratively, then filled with edge values; the snapshot."""
    write_schema(project)
    first = dbshift(project, "apply", "--schema", "schema.sql")
    assert first.returncode == 0, first.output
    db = open_database(project.config.url)
    try:
        assert fill_with_edge_values(db, TABLE, COLUMNS, key="id") > 20
        db.commit()
    finally:
        db.close()
    snap = values(project)
    assert sum(snap[TABLE].values()) > 20
    return snap


def renamed(snap, old: str, new: str, dropped: str):
    """``snap`` with column ``old`` called ``new`` and column ``dropped`` left out: what the rename keeps."""
    from collections import Counter

    result = {}
    for table, rows in snap.items():
        result[table] = Counter(
            {tuple((new if c == old else c, cell) for c, cell in row if c != dropped): n for row, n in rows.items()}
        )
    return result


def test_a_dev_loop_renames_adds_and_rolls_back_with_every_value(project):
    before = start_with_rows(project)
    write_schema(project, f"{q(project, 'note')} VARCHAR(20)", name_column="label")
    applied = dbshift(project, "apply", "--schema", "schema.sql", "--rename", f"{TABLE}.it's=label")
    assert applied.returncode == 0, applied.output
    assert "recorded in the history" in applied.stdout
    after = values(project)
    assert_same_values(renamed(before, "it's", "label", "note"), renamed(after, "label", "label", "note"))
    assert all(dict(row)["note"].endswith("None") for row in after[TABLE])  # the new column is empty
    status = project.status()
    assert status.ok and not status.missing_files and not status.pending, status  # not "from another branch"
    plan = dbshift(project, "rollback-plan")  # the plan and the report read the down the history keeps
    assert plan.returncode == 0 and "missing" not in plan.stdout and "cannot be reverted" not in plan.stdout
    assert "its migration file is missing" not in dbshift(project, "report", str(status.current_version)).stdout
    refused = dbshift(project, "rollback")  # the down drops the new column: -y does not accept it
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    reverted = dbshift(project, "rollback", "--force")
    assert reverted.returncode == 0, reverted.output
    assert_same_values(before, values(project))
    assert len(history_rows(project)) == 1  # the first apply stays; the second is gone


def test_a_destructive_change_is_refused_and_leaves_schema_and_values_as_they_were(project):
    before = start_with_rows(project)
    schema_before, rows_before = schema(project), history_rows(project)
    write_schema(project, name_column="label")  # it's -> label without --rename: a drop and an add
    for args in (["apply", "--schema", "schema.sql"], ["-y", "apply", "--schema", "schema.sql"]):
        refused = dbshift(project, *args)
        assert refused.returncode == 3, refused.output
        assert is_one_error_with_hint(refused), refused.output
        assert "destructive" in refused.stderr and f"--rename {TABLE}.it's=label" in refused.stderr
        assert schema(project) == schema_before
        assert_same_values(before, values(project))
        assert history_rows(project) == rows_before
    forced = dbshift(project, "apply", "--schema", "schema.sql", "--force")
    assert forced.returncode == 0, forced.output
    assert "backup:" in forced.stdout  # a destructive migration is backed up first, as with `apply`
    assert all(dict(row)["label"].endswith("None") for row in values(project)[TABLE])


def test_nothing_to_change_says_so_and_records_nothing(project):
    start_with_rows(project)
    rows_before = history_rows(project)
    again = dbshift(project, "apply", "--schema", "schema.sql", "--save", "same")
    assert again.returncode == 0, again.output
    assert "nothing to change" in again.stdout
    assert history_rows(project) == rows_before
    assert not list(project.config.migrations_dir.glob("*.sql"))


def test_save_writes_the_applied_migration_so_plain_apply_can_replay_it(project):
    before = start_with_rows(project)
    write_schema(project, f"{q(project, 'phone')} VARCHAR(40)")
    saved = dbshift(project, "apply", "--schema", "schema.sql", "--save", "add phone")
    assert saved.returncode == 0, saved.output
    [path] = project.config.migrations_dir.glob("*_add_phone.sql")
    status = project.status()
    assert status.ok and status.sum_check.ok and not status.pending, status
    row = next(a for a in status.applied if a.name == "add_phone")
    migration = next(m for m in project.migrations() if m.path == path)
    assert row.checksum == migration.checksum and row.version == migration.version
    assert dbshift(project, "rollback", "--force").returncode == 0
    assert_same_values(before, values(project))
    replayed = dbshift(project, "apply")  # the saved file is an ordinary migration now
    assert replayed.returncode == 0, replayed.output
    assert "phone" in [c for c, _ in next(iter(values(project)[TABLE]))]


def test_pending_files_come_first(project):
    start_with_rows(project)
    write_migration(
        project, 20200101000000, "teammates_change", "CREATE TABLE other (id INTEGER);", "DROP TABLE other;"
    )
    project.hash()
    schema_before = schema(project)
    write_schema(project, f"{q(project, 'phone')} VARCHAR(40)")
    refused = dbshift(project, "apply", "--schema", "schema.sql")
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert "20200101000000_teammates_change.sql" in refused.stderr
    assert schema(project) == schema_before


@pytest.mark.dialects("sqlite")
def test_a_conversion_whose_down_loses_values_is_refused_until_forced(project):
    before = start_with_rows(project)  # amount holds 2^53 + 1 and 2^63 - 1: a REAL cannot keep them
    schema_before = schema(project)
    write_schema(project, amount="REAL")
    refused = dbshift(project, "apply", "--schema", "schema.sql")
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert "value(s) of" in refused.stderr and "amount" in refused.stderr
    assert schema(project) == schema_before
    assert_same_values(before, values(project))
    assert dbshift(project, "apply", "--schema", "schema.sql", "--force").returncode == 0
    [row] = [a for a in project.status().applied if a.lost_values]
    assert dbshift(project, "rollback", "--force").returncode == 0
    assert row.lost_values == count_changed_values(before, values(project), key="id") > 0


@pytest.mark.dialects("sqlite")
def test_the_schema_may_come_from_a_git_revision(project):
    from teams.conftest import Repo

    repo = Repo(project)
    write_schema(project, f"{q(project, 'phone')} VARCHAR(40)")
    repo.commit("schema with phone")
    write_schema(project, f"{q(project, 'fax')} VARCHAR(40)")  # the work tree has moved on
    applied = dbshift(project, "--json", "apply", "--schema", "git:HEAD:schema.sql")
    assert applied.returncode == 0, applied.output
    assert json.loads(applied.stdout)["schema"] == "git:HEAD:schema.sql"
    names = [c.name for c in project.inspect().tables[0].columns]
    assert names == ["id", "it's", "amount", "phone"]


@pytest.mark.dialects("sqlite")
def test_careless_input_gets_one_line_and_changes_nothing(project):
    start_with_rows(project)
    schema_before = schema(project)
    (project.config.root / "broken.sql").write_text("CREATE TABLE ok (id INTEGER);\nCREATE TABLE (oops;\n")
    cases = {
        ("apply", "--schema", "missing.sql"): "schema file not found",
        ("apply", "--schema", "broken.sql"): "broken.sql:2",
        ("apply", "--save", "x"): "--save goes with --schema",
        ("apply", "--rename", "t.a=b"): "--rename goes with --schema",
        ("apply", "--schema", "schema.sql", "--to", "20260101000000"): "--to does not go with --schema",
        ("apply", "--schema", "schema.sql", "--save", "!!!"): "not a usable migration name",
        ("apply", "--schema", "git:no-such-rev:schema.sql"): "",
    }
    for args, message in cases.items():
        result = dbshift(project, *args)
        assert result.returncode == 2, (args, result.output)
        assert is_one_error_with_hint(result), (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert schema(project) == schema_before
