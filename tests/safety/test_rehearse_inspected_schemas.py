"""`dbshift rehearse` compares the schema after the rollback with the original as the database
means it (inspected), not as the CREATE text was stored, and names each difference (issue 10, item 7)."""

from __future__ import annotations

from conftest import write_migration
from value_oracle import fill_with_edge_values


def _steps(project):
    return {s.name: (s.outcome, s.detail) for s in project.rehearse().steps}


def _start(project, create: str, columns: list[tuple]):
    write_migration(project, 20260101000000, "start", create, "DROP TABLE t;")
    project.hash()
    project.apply()
    with project.connect() as db:
        db.begin()
        fill_with_edge_values(db, "t", columns, key="id")
        db.commit()


def test_the_readme_flow_diff_then_rehearse_passes_for_a_sqlite_table_rebuild(project, run_cli):
    """A CHECK added and INT made BIGINT, which SQLite can only do by rebuilding the table: the rollback
    gives the same schema back (stored as `"id"` instead of `id`) with every value, and the rehearsal passes."""
    _start(
        project, "CREATE TABLE t (id integer primary key, name text, price int)", [("name", "TEXT"), ("price", "INT")]
    )
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE t (id integer primary key, name text, price bigint CHECK (price IS NOT 424242));"
    )
    drafted = run_cli("diff", "--name", "tighten")
    assert drafted.returncode == 0, drafted.output
    steps = _steps(project)
    assert steps["schema equals the original"] == ("pass", ""), steps
    assert steps["data equals the original"] == ("pass", "1 table(s) identical"), steps
    assert steps[f"roll back {project.migrations()[-1].label}"][0] == "pass", steps
    result = run_cli("rehearse")
    assert result.returncode == 0, result.output


def test_a_down_that_does_not_restore_the_schema_is_caught_and_each_difference_named(project):
    """A hand-written down that forgets the column type and an index: rehearse fails naming both."""
    write_migration(
        project,
        20260101000000,
        "start",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT NOT NULL DEFAULT 0);CREATE INDEX t_v ON t(v);",
        "DROP TABLE t;",
    )
    project.hash()
    project.apply()
    write_migration(
        project,
        20260102000000,
        "to_text",
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT 0); INSERT INTO t2 SELECT * FROM t;"
        "DROP TABLE t; ALTER TABLE t2 RENAME TO t;",
        "CREATE TABLE t2 (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t2 SELECT * FROM t;"
        "DROP TABLE t; ALTER TABLE t2 RENAME TO t;",
    )
    project.hash()
    outcome, detail = _steps(project)["schema equals the original"]
    assert outcome == "fail"
    assert "t.v: type 'BIGINT' -> 'INTEGER'" in detail
    assert "t.v: nullable False -> True" in detail
    assert "index t_v on t is gone" in detail


def test_each_kind_of_difference_is_named_and_spelling_alone_is_none():
    """Tables, columns, views and triggers that differ are each named; `id` and `"id"` are the same."""
    from dbshift.drafting.sources import schema_from_sql
    from dbshift.schema.compare import schema_differences

    before = schema_from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE gone (x);"
        "CREATE VIEW w AS SELECT id FROM t;"
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;"
    )
    same = schema_from_sql(
        'CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" TEXT); CREATE TABLE gone ("x");'
        "CREATE VIEW w AS SELECT id FROM t;"
        "CREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;"
    )
    assert schema_differences(before, same) == []
    after = schema_from_sql(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT COLLATE NOCASE, n INT);CREATE VIEW w AS SELECT id, v FROM t;"
    )
    assert schema_differences(before, after) == [
        "table gone is gone",
        "t.n appeared",
        "t.v: collation None -> 'NOCASE'",
        "view w changed: 'CREATE VIEW w AS SELECT id FROM t' -> 'CREATE VIEW w AS SELECT id, v FROM t'",
        "trigger g is gone",
    ]
