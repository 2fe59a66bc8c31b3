"""A PostgreSQL table that becomes partitioned, or stops being partitioned, on the real server.

PostgreSQL cannot ALTER one into the other, so dbshift rebuilds the table in the migration's
transaction and copies its rows. Each story starts from a first migration with rows, drafts the
second one from ``schema.sql``, applies it, checks the live database against ``schema.sql`` and
the rows, rolls it back and checks the database against the first migration.
"""

from __future__ import annotations

import pytest

from dbshift.errors import MigrationFailed
from servers.conftest import make_project, query
from servers.test_postgresql_planner import draft_and_apply, fails, matches, roll_back, start, url


@pytest.fixture
def project(tmp_path, pg_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, pg_url)


def kind(project, table: str) -> str:
    """'r' for a regular table, 'p' for a partitioned one."""
    return query(url(project), "SELECT relkind::text FROM pg_class WHERE oid = %s::regclass", (table,))[0][0]


def tables(project) -> list[str]:
    """The user's tables, partitions included, sorted."""
    return [
        r[0]
        for r in query(
            url(project),
            "SELECT relname::text FROM pg_class WHERE relnamespace = "
            "current_schema()::regnamespace AND relkind IN ('r', 'p') "
            "AND relname NOT LIKE 'dbshift%%' ORDER BY 1",
        )
    ]


READINGS = """
CREATE TABLE readings (
  id serial,
  taken date NOT NULL,
  value integer,
  PRIMARY KEY (id, taken)
);
CREATE INDEX readings_value ON readings (value);
COMMENT ON TABLE readings IS 'sensor readings';
"""
READINGS_PARTITIONED = (
    READINGS.replace("\n);", "\n) PARTITION BY RANGE (taken);")
    + """
CREATE TABLE readings_2026_01 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE readings_2026_02 PARTITION OF readings FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
"""
)
READING_ROWS = "INSERT INTO readings (taken, value) VALUES ('2026-01-05', 10), ('2026-02-07', 20), ('2026-02-20', 30);"


def test_a_table_that_becomes_partitioned_keeps_its_rows_and_the_down_makes_it_plain_again(project):
    start(project, READINGS, READING_ROWS)
    draft = draft_and_apply(project, READINGS_PARTITIONED)
    operation = next(op for op in draft.plan.operations if op.description.startswith("rebuild table readings"))
    assert operation.rewrites_table and not operation.destructive and not operation.lossy_reverse
    assert sum("PARTITION OF" in s for s in draft.plan.up_statements()) == 2, "each partition is created once"
    assert any("fits none of its partitions" in note for note in draft.plan.notes)
    assert kind(project, "readings") == "p"
    assert query(url(project), "SELECT id, value FROM readings_2026_01") == [(1, 10)]
    assert query(url(project), "SELECT id, value FROM readings_2026_02 ORDER BY id") == [(2, 20), (3, 30)]
    query(url(project), "INSERT INTO readings (taken, value) VALUES ('2026-01-09', 40)")
    assert query(url(project), "SELECT max(id) FROM readings") == [(4,)], "the serial goes on where it was"
    assert query(url(project), "SELECT obj_description('readings'::regclass, 'pg_class')") == [("sensor readings",)]
    roll_back(project)
    assert kind(project, "readings") == "r"
    assert tables(project) == ["readings"], "the partitions go with the partitioned table"
    assert query(url(project), "SELECT id, value FROM readings ORDER BY id") == [(1, 10), (2, 20), (3, 30), (4, 40)]


def test_a_partitioned_table_that_becomes_plain_keeps_the_rows_of_every_partition(project):
    start(project, READINGS_PARTITIONED, READING_ROWS)
    draft = draft_and_apply(project, READINGS)
    assert not draft.plan.destructive and draft.plan.rewrites_tables
    assert kind(project, "readings") == "r"
    assert tables(project) == ["readings"]
    assert query(url(project), "SELECT id, taken::text, value FROM readings ORDER BY id") == [
        (1, "2026-01-05", 10),
        (2, "2026-02-07", 20),
        (3, "2026-02-20", 30),
    ]
    roll_back(project)
    assert kind(project, "readings") == "p"
    assert query(url(project), "SELECT id FROM readings_2026_01") == [(1,)]
    assert query(url(project), "SELECT id FROM readings_2026_02 ORDER BY id") == [(2,), (3,)]


def test_a_row_that_fits_no_new_partition_fails_the_migration_and_changes_nothing(project):
    start(project, READINGS, READING_ROWS + "INSERT INTO readings (taken, value) VALUES ('2027-05-01', 99);")
    (project.config.root / "schema.sql").write_text(READINGS_PARTITIONED)
    project.diff(name="change")
    with pytest.raises(MigrationFailed):
        project.apply()
    assert kind(project, "readings") == "r"
    assert tables(project) == ["readings"]
    assert query(url(project), "SELECT count(*) FROM readings") == [(4,)]
    assert matches(project, "start.sql")


ACCOUNTS = """
CREATE FUNCTION upper_region() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.region := upper(NEW.region); RETURN NEW; END $$;
CREATE TABLE accounts (id integer PRIMARY KEY, region text NOT NULL);
CREATE TABLE payments (id integer PRIMARY KEY, account_id integer NOT NULL REFERENCES accounts (id), amount integer);
CREATE VIEW account_regions AS SELECT id, region FROM accounts;
CREATE TRIGGER accounts_upper_region BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION upper_region();
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY eu_only ON accounts FOR SELECT TO PUBLIC USING (region = 'EU');
"""
ACCOUNTS_PARTITIONED = ACCOUNTS.replace(
    "region text NOT NULL);",
    "region text NOT NULL) PARTITION BY HASH (id);\n"
    "CREATE TABLE accounts_0 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 0);\n"
    "CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 1);",
)


def test_a_view_a_foreign_key_a_trigger_and_a_policy_on_a_table_that_becomes_partitioned_stay(project):
    start(
        project,
        ACCOUNTS,
        "INSERT INTO accounts VALUES (1, 'eu'), (2, 'us'), (3, 'eu');\n"
        "INSERT INTO payments VALUES (10, 1, 5), (11, 2, 7);",
    )
    draft = draft_and_apply(project, ACCOUNTS_PARTITIONED)
    assert kind(project, "accounts") == "p"
    assert query(url(project), "SELECT (SELECT count(*) FROM accounts_0) + (SELECT count(*) FROM accounts_1)") == [(3,)]
    assert query(url(project), "SELECT id, region FROM account_regions ORDER BY id") == [
        (1, "EU"),
        (2, "US"),
        (3, "EU"),
    ]
    assert fails(project, "INSERT INTO payments VALUES (12, 99, 1)"), "the foreign key points at the new table"
    query(url(project), "INSERT INTO accounts VALUES (4, 'asia')")
    assert query(url(project), "SELECT region FROM accounts WHERE id = 4") == [("ASIA",)], "the trigger is back"
    assert query(url(project), "SELECT count(*) FROM pg_policies WHERE tablename = 'accounts'") == [(1,)]
    assert any(op.description.startswith("drop foreign keys") for op in draft.plan.operations)
    query(url(project), "DELETE FROM accounts WHERE id = 4")
    roll_back(project)
    assert kind(project, "accounts") == "r"
    assert query(url(project), "SELECT id, region FROM account_regions ORDER BY id") == [
        (1, "EU"),
        (2, "US"),
        (3, "EU"),
    ]
    assert fails(project, "INSERT INTO payments VALUES (12, 99, 1)"), "the foreign key points at the plain table again"
    assert fails(project, "DELETE FROM accounts WHERE id = 1"), "payment 10 still needs account 1"


EVENTS = """
CREATE TABLE events (id integer GENERATED ALWAYS AS IDENTITY, day date NOT NULL, PRIMARY KEY (id, day));
"""
EVENTS_PARTITIONED = EVENTS.replace(
    "));",
    ")) PARTITION BY RANGE (day);\n"
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
)


def test_an_identity_column_keeps_its_values_and_goes_on_from_them_both_ways(project):
    start(project, EVENTS, "INSERT INTO events (day) VALUES ('2026-03-01'), ('2026-04-01');")
    draft_and_apply(project, EVENTS_PARTITIONED)
    query(url(project), "INSERT INTO events (day) VALUES ('2026-05-01')")
    assert query(url(project), "SELECT id FROM events_2026 ORDER BY id") == [(1,), (2,), (3,)]
    roll_back(project)
    query(url(project), "INSERT INTO events (day) VALUES ('2026-06-01')")
    assert query(url(project), "SELECT id FROM events ORDER BY id") == [(1,), (2,), (3,), (4,)]
