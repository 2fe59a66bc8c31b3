"""PostgreSQL objects through the user's day: schema.sql -> dbshift diff -> apply -> rollback, on the real server.

Each story starts from a first migration written by hand (with rows), drafts the second one
from ``schema.sql`` with ``project.diff``, applies it, checks the live database against
``schema.sql`` and the rows, rolls it back and checks the database against the first migration.
"""

from __future__ import annotations

import pytest

from conftest import write_migration
from dbshift.dialects import open_database
from dbshift.urls import parse_url
from servers.conftest import make_project, query

V1 = 20260101090000


@pytest.fixture
def project(tmp_path, pg_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, pg_url)


def start(project, schema: str, rows: str = "") -> None:
    """The first migration (schema and rows), applied; its schema is kept in start.sql to compare with."""
    write_migration(project, V1, "start", schema + "\n" + rows)
    (project.config.root / "start.sql").write_text(schema)
    project.hash()
    project.apply()


def draft_and_apply(project, desired: str, **options):
    """Write schema.sql, draft the migration from it, apply it; the draft."""
    (project.config.root / "schema.sql").write_text(desired)
    draft = project.diff(name="change", **options)
    assert not draft.empty
    project.apply()
    assert matches(project, "schema.sql"), "the live database differs from schema.sql after the up"
    return draft


def roll_back(project, force: bool = False) -> None:
    """Roll the drafted migration back; the database is the first migration's schema again."""
    project.rollback(steps=1, force=force)
    assert matches(project, "start.sql"), "the live database differs from the first migration after the down"


def matches(project, path: str) -> bool:
    """The live database's schema equals the one ``path`` creates (both read by the inspector)."""
    return project.diff(source="db", target=path, check_rows=False).empty


def url(project) -> str:
    return project.config.url.raw


def fails(project, sql: str) -> bool:
    """Whether ``sql`` is refused by the server (a constraint at work)."""
    db = open_database(parse_url(url(project)))
    try:
        db.execute(sql)
        return False
    except Exception as exc:  # noqa: BLE001 - any driver error
        if not db.is_driver_error(exc):
            raise
        return True
    finally:
        db.close()


# -- enums --------------------------------------------------------------------------------
TICKETS = """
CREATE TYPE status AS ENUM ('active', 'pending', 'inactive');
CREATE TABLE tickets (id integer PRIMARY KEY, state status NOT NULL DEFAULT 'pending');
"""


def test_an_enum_value_rename_keeps_the_rows_that_use_it(project):
    start(project, TICKETS, "INSERT INTO tickets VALUES (1, 'active'), (2, 'pending'), (3, 'inactive');")
    draft = draft_and_apply(project, TICKETS.replace("'pending'", "'waiting'"))
    assert "RENAME VALUE 'pending' TO 'waiting'" in draft.plan.up_sql()
    assert not draft.plan.destructive and any("'pending' taken as renamed to 'waiting'" in n for n in draft.plan.notes)
    assert query(url(project), "SELECT id, state::text FROM tickets ORDER BY id") == [
        (1, "active"),
        (2, "waiting"),
        (3, "inactive"),
    ]
    assert query(url(project), "INSERT INTO tickets (id) VALUES (4) RETURNING state::text") == [("waiting",)]

    roll_back(project)
    assert query(url(project), "SELECT id, state::text FROM tickets ORDER BY id") == [
        (1, "active"),
        (2, "pending"),
        (3, "inactive"),
        (4, "pending"),
    ]


def test_an_enum_value_rename_under_a_domain_check_keeps_the_domain(project):
    schema = (
        TICKETS + "CREATE DOMAIN open_status AS status CHECK (VALUE <> 'inactive');\n"
        "CREATE TABLE queue (id integer PRIMARY KEY, state open_status);\n"
    )
    start(project, schema, "INSERT INTO queue VALUES (1, 'pending');")
    draft_and_apply(project, schema.replace("'inactive'", "'closed'"))
    assert fails(project, "INSERT INTO queue VALUES (2, 'closed')")
    roll_back(project)
    assert fails(project, "INSERT INTO queue VALUES (2, 'inactive')")
    assert query(url(project), "SELECT state::text FROM queue") == [("pending",)]


def test_an_enum_value_renamed_and_one_added_applies_and_says_its_down_cannot_remove_the_new_value(project):
    start(project, TICKETS, "INSERT INTO tickets VALUES (1, 'pending');")
    desired = TICKETS.replace("'pending', 'inactive')", "'waiting', 'inactive', 'archived')")
    draft = draft_and_apply(project, desired.replace("DEFAULT 'pending'", "DEFAULT 'waiting'"))
    assert "archived" in draft.plan.down_sql().split("\n")[0] and draft.plan.destructive
    assert query(url(project), "SELECT state::text FROM tickets") == [("waiting",)]
    project.rollback(steps=1, force=True)
    assert query(url(project), "SELECT state::text FROM tickets") == [("pending",)]
    assert query(url(project), "SELECT enum_range(NULL::status)::text") == [("{active,pending,inactive,archived}",)]


def test_enum_values_that_swap_places_are_not_taken_for_renames(project):
    start(project, TICKETS)
    (project.config.root / "schema.sql").write_text(TICKETS.replace("'active', 'pending'", "'pending', 'active'"))
    draft = project.diff()
    assert "RENAME VALUE" not in draft.plan.up_sql()
    assert any("enum status changed other than by renaming or appending" in n for n in draft.plan.notes)


# -- primary keys and the foreign keys that point at them ----------------------------------
SHOP = """
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (id integer PRIMARY KEY, user_id integer REFERENCES users (id) ON DELETE CASCADE);
"""
SHOP_ROWS = "INSERT INTO users VALUES (1, 'ada@x'), (2, 'bob@x'); INSERT INTO orders VALUES (10, 1), (11, 2);"


def test_a_primary_key_change_keeps_the_foreign_keys_that_point_at_it(project):
    start(project, SHOP, SHOP_ROWS)
    desired = SHOP.replace(
        "id integer PRIMARY KEY, email text NOT NULL", "id integer NOT NULL UNIQUE, email text NOT NULL PRIMARY KEY"
    )
    draft = draft_and_apply(project, desired)
    up = draft.plan.up_statements()
    drop_fk = next(i for i, s in enumerate(up) if 'DROP CONSTRAINT "orders_user_id_fkey"' in s)
    drop_pk = next(i for i, s in enumerate(up) if 'DROP CONSTRAINT "users_pkey"' in s)
    add_fk = next(i for i, s in enumerate(up) if 'ADD CONSTRAINT "orders_user_id_fkey"' in s)
    assert drop_fk < drop_pk < add_fk
    assert query(url(project), "SELECT id, user_id FROM orders ORDER BY id") == [(10, 1), (11, 2)]
    assert fails(project, "INSERT INTO orders VALUES (12, 99)"), "the foreign key is enforced after the up"
    assert fails(project, "INSERT INTO users VALUES (3, 'ada@x')"), "email is the primary key after the up"

    roll_back(project)
    assert fails(project, "INSERT INTO orders VALUES (12, 99)"), "the foreign key is enforced after the down"
    query(url(project), "DELETE FROM users WHERE id = 1")
    assert query(url(project), "SELECT id FROM orders") == [(11,)], "ON DELETE CASCADE came back with the key"


def test_a_composite_primary_key_and_the_foreign_key_that_follows_it(project):
    start(
        project,
        """
        CREATE TABLE items (item_id integer PRIMARY KEY, supplier_id integer NOT NULL);
        CREATE TABLE prices (price_id integer PRIMARY KEY, item_id integer, supplier_id integer,
                             CONSTRAINT prices_item_fk FOREIGN KEY (item_id) REFERENCES items (item_id));
    """,
        "INSERT INTO items VALUES (1, 7); INSERT INTO prices VALUES (100, 1, 7);",
    )
    draft_and_apply(
        project,
        """
        CREATE TABLE items (item_id integer NOT NULL, supplier_id integer NOT NULL, PRIMARY KEY (supplier_id, item_id));
        CREATE TABLE prices (price_id integer PRIMARY KEY, item_id integer, supplier_id integer,
                             CONSTRAINT prices_item_fk FOREIGN KEY (supplier_id, item_id) REFERENCES items (supplier_id, item_id));
    """,
    )
    assert fails(project, "INSERT INTO prices VALUES (101, 1, 8)")
    roll_back(project)
    assert fails(project, "INSERT INTO prices VALUES (101, 2, 7)")
    assert query(url(project), "SELECT * FROM prices") == [(100, 1, 7)]


def test_a_dropped_table_whose_key_pointed_at_a_changed_primary_key_comes_back_on_the_way_down(project):
    start(
        project,
        """
        CREATE TABLE users (id integer PRIMARY KEY, user_id integer NOT NULL);
        CREATE TABLE taggings (user_id integer NOT NULL REFERENCES users (id), tag text NOT NULL);
    """,
        "INSERT INTO users VALUES (1, 1); INSERT INTO taggings VALUES (1, 'x');",
    )
    draft_and_apply(project, "CREATE TABLE users (id integer NOT NULL, user_id integer PRIMARY KEY);")
    roll_back(project, force=True)
    assert fails(project, "INSERT INTO taggings VALUES (99, 'y')"), "the dropped table's foreign key is back"


# -- inheritance, rules, functions, domains, aggregates -----------------------------------
READINGS = """
CREATE TABLE readings (id serial PRIMARY KEY, taken date NOT NULL, value numeric NOT NULL{extra});
CREATE TABLE readings_2026 (CONSTRAINT in_2026 CHECK (taken >= '2026-01-01')) INHERITS (readings);
CREATE RULE readings_2026_insert AS ON INSERT TO readings WHERE new.taken >= '2026-01-01'
    DO INSTEAD INSERT INTO readings_2026 VALUES (new.*);
"""


def test_a_column_added_to_a_parent_table_reaches_its_children_and_their_rows_stay(project):
    start(
        project,
        READINGS.format(extra=""),
        "INSERT INTO readings (taken, value) VALUES ('2025-06-01', 1.5), ('2026-02-01', 2.5);",
    )
    draft = draft_and_apply(project, READINGS.format(extra=", unit text NOT NULL DEFAULT 'kg'"))
    assert sum('ADD COLUMN "unit"' in s for s in draft.plan.up_statements()) == 1, "added once, on the parent"
    assert query(url(project), "SELECT taken::text, value::text, unit FROM readings ORDER BY taken") == [
        ("2025-06-01", "1.5", "kg"),
        ("2026-02-01", "2.5", "kg"),
    ]
    query(url(project), "INSERT INTO readings (taken, value, unit) VALUES ('2026-03-01', 3.5, 'g')")
    assert query(url(project), "SELECT value::text, unit FROM readings_2026 ORDER BY taken") == [
        ("2.5", "kg"),
        ("3.5", "g"),
    ], "the rule was rebuilt for the new column and routes rows to the child"

    roll_back(project, force=True)
    assert query(url(project), "SELECT count(*) FROM ONLY readings") == [(1,)]
    assert query(url(project), "SELECT value::text FROM readings_2026 ORDER BY taken") == [("2.5",), ("3.5",)]


def test_a_type_change_under_a_rule_keeps_the_rule_and_the_rows(project):
    start(project, READINGS.format(extra=""), "INSERT INTO readings (taken, value) VALUES ('2026-02-01', 2.5);")
    draft = draft_and_apply(project, READINGS.format(extra="").replace("value numeric", "value double precision"))
    assert draft.plan.up_statements()[0] == 'DROP RULE "readings_2026_insert" ON "readings"'
    query(url(project), "INSERT INTO readings (taken, value) VALUES ('2026-03-01', 3.25)")
    assert query(url(project), "SELECT value FROM ONLY readings_2026 ORDER BY taken") == [(2.5,), (3.25,)]
    roll_back(project)
    assert query(url(project), "SELECT value::text FROM readings ORDER BY taken") == [("2.5",), ("3.25",)]


def test_a_column_dropped_from_a_parent_but_kept_by_its_child_keeps_the_childs_values(project):
    start(
        project,
        "CREATE TABLE base (created_at date, e integer);\nCREATE TABLE a (a1 integer) INHERITS (base);",
        "INSERT INTO a VALUES ('2026-01-01', 5, 1);",
    )
    draft = draft_and_apply(
        project, "CREATE TABLE base (created_at date);\nCREATE TABLE a (e integer, a1 integer) INHERITS (base);"
    )
    assert 'ALTER TABLE ONLY "base" DROP COLUMN "e"' in draft.plan.up_statements()
    assert query(url(project), "SELECT e, a1 FROM a") == [(5, 1)]
    roll_back(project, force=True)
    assert query(url(project), "SELECT e, a1 FROM a") == [(5, 1)]


PARTITIONED = """
CREATE TABLE logs (id bigint NOT NULL, created_at date NOT NULL, message text) PARTITION BY RANGE (created_at);
CREATE TABLE logs_2026_01 PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE INDEX logs_created_at ON logs (created_at);
"""


def test_a_new_partition_and_a_column_on_a_partitioned_table_keep_the_rows(project):
    start(project, PARTITIONED, "INSERT INTO logs VALUES (1, '2026-01-05', 'hello');")
    desired = PARTITIONED.replace("message text)", "message text, level text NOT NULL DEFAULT 'info')")
    desired += "CREATE TABLE logs_2026_02 PARTITION OF logs FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');\n"
    draft = draft_and_apply(project, desired)
    assert sum('ADD COLUMN "level"' in s for s in draft.plan.up_statements()) == 1
    assert any('PARTITION OF "logs"' in s for s in draft.plan.up_statements())
    query(url(project), "INSERT INTO logs (id, created_at) VALUES (2, '2026-02-10')")
    assert query(url(project), "SELECT id, level FROM logs_2026_01 UNION ALL SELECT id, level FROM logs_2026_02") == [
        (1, "info"),
        (2, "info"),
    ]
    assert query(url(project), "SELECT count(*) FROM pg_indexes WHERE tablename = 'logs_2026_02'") == [(1,)], (
        "the new partition got the partitioned index from its parent"
    )
    query(url(project), "DELETE FROM logs WHERE id = 2")
    roll_back(project, force=True)
    assert query(url(project), "SELECT id, message FROM logs") == [(1, "hello")]


def test_functions_domains_and_aggregates_are_created_in_the_order_they_need(project):
    start(project, "CREATE TABLE placeholder (id integer);")
    draft_and_apply(
        project,
        """
        CREATE TABLE placeholder (id integer);
        CREATE FUNCTION is_email(s text) RETURNS boolean AS $$ BEGIN RETURN s LIKE '%@%'; END; $$ LANGUAGE plpgsql IMMUTABLE;
        CREATE DOMAIN email AS text CHECK (is_email(VALUE));
        CREATE TABLE contacts (id integer PRIMARY KEY, address email NOT NULL);
        CREATE FUNCTION contact_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM contacts $$;
        CREATE FUNCTION joined(a text, b text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT a || ', ' || b $$;
        CREATE AGGREGATE join_all(text) (SFUNC = joined, STYPE = text);
        CREATE VIEW contact_list AS SELECT join_all(address) AS addresses, contact_count() AS n FROM contacts;
    """,
    )
    assert fails(project, "INSERT INTO contacts VALUES (1, 'not an email')")
    query(url(project), "INSERT INTO contacts VALUES (1, 'a@x'), (2, 'b@x')")
    assert query(url(project), "SELECT addresses, n FROM contact_list") == [("a@x, b@x", 2)]
    roll_back(project, force=True)


def test_a_new_column_default_may_call_a_function_that_reads_an_existing_table(project):
    counters = "CREATE TABLE counters (name text PRIMARY KEY, value integer NOT NULL);\n"
    start(project, counters, "INSERT INTO counters VALUES ('orders', 41);")
    draft_and_apply(
        project,
        counters
        + """
        CREATE FUNCTION next_order_no() RETURNS integer LANGUAGE sql AS $$ SELECT value + 1 FROM counters WHERE name = 'orders' $$;
        CREATE TABLE orders (id integer PRIMARY KEY, number integer NOT NULL DEFAULT next_order_no());
    """,
    )
    assert query(url(project), "INSERT INTO orders (id) VALUES (1) RETURNING number") == [(42,)]
    roll_back(project, force=True)


def test_sakila_with_a_new_monthly_payment_table_diffs_applies_and_rolls_back(project, corpus):
    sakila = (corpus / "schemas" / "sakila" / "postgres-sakila-schema.sql").read_text()
    start(project, sakila)
    july = """
        ALTER TABLE payment ADD COLUMN note text;
        CREATE TABLE payment_p2007_07 (CONSTRAINT payment_p2007_07_payment_date_check CHECK (
            payment_date >= '2007-07-01' AND payment_date < '2007-08-01')) INHERITS (payment);
        CREATE RULE payment_insert_p2007_07 AS ON INSERT TO payment WHERE new.payment_date >= '2007-07-01'
            AND new.payment_date < '2007-08-01' DO INSTEAD INSERT INTO payment_p2007_07 VALUES (new.*);
        CREATE OR REPLACE FUNCTION _group_concat(text, text) RETURNS text AS $_$
        SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || '; ' || $2 END $_$ LANGUAGE sql IMMUTABLE;
    """
    draft = draft_and_apply(project, sakila + july)
    assert sum('ADD COLUMN "note"' in s for s in draft.plan.up_statements()) == 1
    columns = query(url(project), "SELECT table_name FROM information_schema.columns WHERE column_name = 'note'")
    assert len(columns) == 8, "payment and its seven monthly tables have the new column"
    roll_back(project, force=True)


def test_a_column_added_in_the_middle_goes_at_the_end_and_the_plan_says_so(project):
    start(
        project,
        "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);",
        "INSERT INTO users VALUES (1, 'a@x');",
    )
    desired = "CREATE TABLE users (id integer PRIMARY KEY, name text, email text NOT NULL);"
    draft = draft_and_apply(project, desired)
    assert any("new ones go at the end" in note for note in draft.plan.notes)
    assert query(url(project), "SELECT * FROM users") == [(1, "a@x", None)]

    again = project.diff(source="db", target="schema.sql", check_rows=False)
    assert again.empty and any("PostgreSQL cannot move a column" in note for note in again.plan.notes)
    roll_back(project, force=True)


def test_dbshift_plan_and_diff_print_the_plans_notes(project, run_cli):
    start(project, "CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);")
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE users (id integer PRIMARY KEY, name text, email text NOT NULL);"
    )
    for command in ("plan", "diff"):
        result = run_cli(command, "--from", "db", cwd=project.config.root)
        assert result.returncode == 0, result.stderr
        assert "new ones go at the end" in " ".join(result.stdout.split())
