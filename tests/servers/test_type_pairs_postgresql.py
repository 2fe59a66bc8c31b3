"""Property: for every pair of column types PostgreSQL can change between, with and without
conversions, a drafted migration either says its down loses values (``lossy_reverse``), or its
loss checks count exactly the values that do not come back after the up and the down, or every
value comes back identical, and only then it needs no ``--force``.

Each pair has a table of its own (``id``, ``v``), filled with the value oracle's edge values for
the old type that the up can convert (a value the conversion refuses makes the up fail and roll
back: nothing is lost). All the pairs of one kind are drafted, applied and rolled back as one
migration, in one database, to keep the test quick.
"""

from __future__ import annotations

import pytest

from dbshift.dialects import open_database
from dbshift.urls import parse_url
from servers.conftest import make_project
from value_oracle import assert_same_values, count_changed_values, fill_with_edge_values, snapshot

TYPES = [
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "numeric(12,2)",
    "text",
    "varchar(10)",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "uuid",
    "jsonb",
]
#: Conversions given with --convert/--reverse: (old type, new type, up over the old row, down over the new row,
#: the round trip: a value it refuses makes the up's loss check, and so the up, fail; such values are left out).
CONVERSIONS = [
    ("integer", "numeric(12,2)", "v / 100.0", "ROUND(v * 100)", "v / 100.0"),
    ("numeric(12,2)", "bigint", "v * 100", "v / 100.0", "v * 100"),
    ("text", "integer", "CAST(v AS integer)", "CAST(v AS text)", "CAST(v AS integer)"),
    (
        "bigint",
        "double precision",
        "CAST(v AS double precision)",
        "CAST(v AS bigint)",
        "CAST(CAST(v AS double precision) AS bigint)",
    ),
    ("timestamptz", "timestamp", "v AT TIME ZONE 'UTC'", "v AT TIME ZONE 'UTC'", "v AT TIME ZONE 'UTC'"),
    ("text", "varchar(10)", "left(v, 3)", "v", "left(v, 3)"),
]


@pytest.fixture
def db(pg_url):
    database = open_database(parse_url(pg_url))
    yield database
    database.close()


@pytest.fixture
def project(tmp_path, pg_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, pg_url)


def works(db, sql: str, params=()) -> bool:
    try:
        db.execute(sql, params)
        return True
    except Exception as exc:  # the server refuses it
        if not db.is_driver_error(exc):
            raise
        return False


def castable(db, a: str, b: str) -> bool:
    return works(db, f"SELECT CAST(NULL::{a} AS {b})")


def castable_pairs(db) -> list[tuple[str, str]]:
    """The pairs PostgreSQL casts both ways (a type change without a cast cannot run; one without a
    cast back: see the last test)."""
    return [(a, b) for a in TYPES for b in TYPES if a != b and castable(db, a, b) and castable(db, b, a)]


def schema(pairs: list[tuple[str, str]], new: bool) -> str:
    return "\n".join(
        f"CREATE TABLE p{n} (id integer PRIMARY KEY, v {b if new else a});" for n, (a, b) in enumerate(pairs)
    )


def fill(db, pairs: list[tuple[str, str]], up_of) -> None:
    """Edge values of each table's old type, less those the up, or the down, cannot convert (they make the
    migration fail and roll back, or its down fail: nothing is lost silently)."""
    for n, (a, b) in enumerate(pairs):
        fill_with_edge_values(db, f"p{n}", [("v", a, True)], key="id")
        for (row,) in db.execute(f"SELECT id FROM p{n}"):
            if not works(db, f"SELECT {up_of(n, a, b)} FROM p{n} WHERE id = %s", (row,)):
                db.execute(f"DELETE FROM p{n} WHERE id = %s", (row,))


def by_table(draft) -> dict[str, object]:
    """Each table's operation in the draft (one per table: ``alter table pN: ...``)."""
    return {op.description.split(":")[0].removeprefix("alter table "): op for op in draft.plan.operations}


def round_trip(project, db, pairs, **conversions) -> tuple[dict, dict, dict, dict]:
    """Draft, count the loss checks, apply, roll back (``--force`` only when something is lossy): per table
    its operation, its checks' count, and the snapshots before and after."""
    start = project.config.migrations_dir / "20260101090000_start.sql"
    start.write_text(
        "-- migrate:up\n"
        + schema(pairs, new=False)
        + "\n-- migrate:down\n"
        + "\n".join(f"DROP TABLE p{n};" for n in range(len(pairs)))
        + "\n"
    )
    project.hash()
    project.apply()
    fill(db, pairs, conversions.pop("up_of", None) or (lambda n, a, b: f"CAST(CAST(v AS {b}) AS {a})"))
    (project.config.root / "schema.sql").write_text(schema(pairs, new=True))
    draft = project.diff(name="pairs", **conversions)
    operations = by_table(draft)
    assert set(operations) == {f"p{n}" for n in range(len(pairs))}, draft.plan.up_sql()
    counted = {t: sum(db.execute(check)[0][0] for check in op.loss_checks) for t, op in operations.items()}
    before = {t: snapshot(db, [t]) for t in operations}
    project.apply()
    project.rollback(steps=1, force=any(op.lossy_reverse for op in operations.values()) or any(counted.values()))
    return operations, counted, before, {t: snapshot(db, [t]) for t in operations}


def test_every_type_pair_either_says_it_is_lossy_or_counts_its_losses_or_gives_every_value_back(project, db):
    pairs = castable_pairs(db)
    assert len(pairs) > 80
    operations, counted, before, after = round_trip(project, db, pairs)
    problems = []
    for n, (a, b) in enumerate(pairs):
        table, op = f"p{n}", operations[f"p{n}"]
        changed = count_changed_values(before[table], after[table], key="id")
        if op.lossy_reverse:
            continue
        if changed != counted[table]:
            problems.append(
                f"{a} -> {b}: {changed} value(s) did not come back, the loss checks counted "
                f"{counted[table]} ({'no check' if not op.loss_checks else 'checked'})"
            )
    assert not problems, "\n".join(problems)
    lossless = [
        pair
        for n, pair in enumerate(pairs)
        if not operations[f"p{n}"].loss_checks and not operations[f"p{n}"].lossy_reverse
    ]
    assert ("integer", "bigint") in lossless and ("bigint", "double precision") not in lossless


def test_the_pairs_said_to_be_lossless_roll_back_without_force_and_every_value_comes_back(project, db):
    from dbshift.planners.postgresql_losses import ALWAYS, cast_verdict

    names = normalized(db)
    pairs = [(a, b) for a, b in castable_pairs(db) if cast_verdict(names[a], names[b])[0] == ALWAYS]
    assert ("smallint", "text") in pairs and ("bigint", "real") not in pairs
    operations, _, before, after = round_trip(project, db, pairs)  # rolled back without --force
    assert not any(op.loss_checks or op.lossy_reverse for op in operations.values())
    for table in operations:
        assert count_changed_values(before[table], after[table], key="id") == 0, table


def normalized(db) -> dict[str, str]:
    """Each type as the inspector writes it (``format_type``, upper case)."""
    db.execute("CREATE TEMP TABLE type_names (" + ", ".join(f"c{i} {t}" for i, t in enumerate(TYPES)) + ")")
    rows = db.execute(
        "SELECT attnum, upper(format_type(atttypid, atttypmod)) FROM pg_attribute "
        "WHERE attrelid = 'type_names'::regclass AND attnum > 0"
    )
    db.execute("DROP TABLE type_names")
    return {TYPES[number - 1]: name for number, name in rows}


def test_a_pair_with_no_cast_back_is_marked_lossy(project, db):
    pairs = [(a, b) for a in TYPES for b in TYPES if a != b and castable(db, a, b) and not castable(db, b, a)]
    assert ("jsonb", "boolean") in pairs
    (project.config.root / "schema.sql").write_text(schema(pairs, new=False))
    project.diff(name="start")
    project.apply()
    (project.config.root / "schema.sql").write_text(schema(pairs, new=True))
    draft = project.diff()
    operations = by_table(draft)
    assert all("no cast from" in op.lossy_reverse for op in operations.values()), draft.plan.down_sql()
    assert draft.plan.destructive


def test_conversions_given_both_ways_are_checked_against_the_values(project, db):
    pairs = [(a, b) for a, b, *_ in CONVERSIONS]
    operations, counted, before, after = round_trip(
        project,
        db,
        pairs,
        up_of=lambda n, a, b: CONVERSIONS[n][4],
        convert=[f"p{n}.v={up}" for n, (_, _, up, _, _) in enumerate(CONVERSIONS)],
        reverse=[f"p{n}.v={down}" for n, (_, _, _, down, _) in enumerate(CONVERSIONS)],
    )
    for n, (a, b, up, down, _) in enumerate(CONVERSIONS):
        table = f"p{n}"
        assert operations[table].loss_checks and not operations[table].lossy_reverse, (a, b)
        assert count_changed_values(before[table], after[table], key="id") == counted[table], (a, b, up, down)
    assert counted["p0"] == counted["p1"] == counted["p4"] == 0
    assert counted["p2"] > 0 and counted["p3"] > 0 and counted["p5"] > 0


GENERATED = "CREATE TABLE g (id integer PRIMARY KEY, a integer, b integer{});"


def test_a_column_that_becomes_generated_counts_the_values_the_expression_replaces(project, db):
    (project.config.root / "schema.sql").write_text(GENERATED.format(""))
    project.diff(name="start")
    project.apply()
    db.execute("INSERT INTO g VALUES (1, 2, 4), (2, 3, 99), (3, NULL, NULL)")
    before = snapshot(db, ["g"])
    (project.config.root / "schema.sql").write_text(GENERATED.format(" GENERATED ALWAYS AS (a * 2) STORED"))
    op = by_table(project.diff(name="generated"))["g"]
    assert op.destructive and [db.execute(check)[0][0] for check in op.loss_checks] == [1]
    project.apply()
    project.rollback(steps=1, force=True)
    assert count_changed_values(before, snapshot(db, ["g"]), key="id") == 1
    assert db.execute("SELECT b FROM g ORDER BY id") == [(4,), (6,), (None,)]


def test_a_generated_column_that_becomes_plain_keeps_its_values_both_ways(project, db):
    (project.config.root / "schema.sql").write_text(GENERATED.format(" GENERATED ALWAYS AS (a * 2) STORED"))
    project.diff(name="start")
    project.apply()
    db.execute("INSERT INTO g (id, a) VALUES (1, 2), (2, 3), (3, NULL)")
    before = snapshot(db, ["g"])
    (project.config.root / "schema.sql").write_text(GENERATED.format(""))
    draft = project.diff(name="plain")
    assert "DROP EXPRESSION" in draft.plan.up_sql() and not draft.plan.destructive
    project.apply()
    assert_same_values(before, snapshot(db, ["g"]))
    # The down drops and adds the column again (PostgreSQL 15 cannot give a column an expression),
    # which the rollback's safety check calls lossy; the values computed again are the same.
    project.rollback(steps=1, force=True)
    assert_same_values(before, snapshot(db, ["g"]))


REBUILT = "CREATE TABLE r (id integer, day date NOT NULL, v {}, PRIMARY KEY (id, day)){};"
PARTITIONED = (
    " PARTITION BY RANGE (day);\nCREATE TABLE r_2026 PARTITION OF r FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
)


def test_a_table_rebuilt_as_partitioned_counts_what_its_type_change_loses(project, db):
    (project.config.root / "schema.sql").write_text(REBUILT.format("bigint", ""))
    project.diff(name="start")
    project.apply()
    db.execute("INSERT INTO r VALUES (1, '2026-03-01', 9007199254740993), (2, '2026-04-01', 5)")
    before = snapshot(db, ["r"])
    (project.config.root / "schema.sql").write_text(REBUILT.format("double precision", PARTITIONED))
    draft = project.diff(name="partitioned")
    (op,) = [op for op in draft.plan.operations if op.description.startswith("rebuild table r ")]
    assert [db.execute(check)[0][0] for check in op.loss_checks] == [1] and not op.lossy_reverse
    project.apply()
    project.rollback(steps=1, force=True)
    assert count_changed_values(before, snapshot(db, ["r"]), key="id") == 1
