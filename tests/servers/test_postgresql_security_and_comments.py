"""Row-level security and comments on PostgreSQL, through the user's day, on the real server.

Each story starts from a first migration written by hand (with rows), drafts the second one
from ``schema.sql``, applies it, checks the live database against ``schema.sql``, rolls it back
and checks the database against the first migration (see ``test_postgresql_planner``).
"""

from __future__ import annotations

import pytest

from servers.conftest import make_project, query
from servers.test_postgresql_planner import draft_and_apply, roll_back, start, url


@pytest.fixture
def project(tmp_path, pg_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, pg_url)


def policies(project) -> list[tuple]:
    """(table, name, AS, FOR, roles, USING, WITH CHECK) of every policy in the live database."""
    return query(
        url(project),
        "SELECT tablename::text, policyname::text, permissive, cmd, roles::text[], qual, with_check "
        "FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1, 2",
    )


def row_security(project, table: str) -> tuple[bool, bool]:
    """(ENABLE, FORCE) ROW LEVEL SECURITY of ``table``."""
    return query(
        url(project), "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", (table,)
    )[0]


# -- row-level security ---------------------------------------------------------------------
ACCOUNTS = "CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL);\n"
ACCOUNT_ROWS = "INSERT INTO accounts VALUES (1, 'ann', 10), (2, 'bob', 20);"
OWN_ROWS = (
    "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\n"
    "CREATE POLICY own_rows ON accounts FOR SELECT TO PUBLIC USING (owner = current_user);\n"
)


def test_a_policy_added_to_schema_sql_is_created_and_its_down_drops_it(project):
    start(project, ACCOUNTS, ACCOUNT_ROWS)
    draft = draft_and_apply(project, ACCOUNTS + OWN_ROWS)
    assert 'ALTER TABLE "accounts" ENABLE ROW LEVEL SECURITY' in draft.plan.up_statements()
    assert policies(project) == [
        ("accounts", "own_rows", "PERMISSIVE", "SELECT", ["public"], "(owner = CURRENT_USER)", None)
    ]
    assert row_security(project, "accounts") == (True, False)
    roll_back(project)
    assert policies(project) == [] and row_security(project, "accounts") == (False, False)
    assert query(url(project), "SELECT count(*) FROM accounts") == [(2,)]


def test_a_policy_whose_using_changes_is_altered_in_place_and_its_down_puts_the_old_one_back(project):
    start(project, ACCOUNTS + OWN_ROWS, ACCOUNT_ROWS)
    desired = ACCOUNTS + OWN_ROWS.replace(
        "USING (owner = current_user)", "USING (owner = current_user OR balance < 15)"
    )
    draft = draft_and_apply(project, desired)
    assert [s.split(" USING")[0] for s in draft.plan.up_statements()] == ['ALTER POLICY "own_rows" ON "accounts"']
    assert policies(project)[0][5] == "((owner = CURRENT_USER) OR (balance < 15))"
    roll_back(project)
    assert policies(project)[0][5] == "(owner = CURRENT_USER)"


def test_a_policy_made_restrictive_and_given_a_with_check_is_dropped_and_created_again(project):
    start(project, ACCOUNTS + OWN_ROWS)
    desired = ACCOUNTS + (
        "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\n"
        "CREATE POLICY own_rows ON accounts AS RESTRICTIVE FOR ALL TO postgres "
        "USING (owner = current_user) WITH CHECK (balance >= 0);\n"
    )
    draft = draft_and_apply(project, desired)
    assert [s.split(" ON ")[0] for s in draft.plan.up_statements()] == [
        'DROP POLICY "own_rows"',
        'CREATE POLICY "own_rows"',
    ]
    assert policies(project) == [
        ("accounts", "own_rows", "RESTRICTIVE", "ALL", ["postgres"], "(owner = CURRENT_USER)", "(balance >= 0)")
    ]
    roll_back(project)
    assert policies(project)[0][2:5] == ("PERMISSIVE", "SELECT", ["public"])


def test_force_row_level_security_comes_and_goes_with_the_plan(project):
    start(project, ACCOUNTS + "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;")
    draft = draft_and_apply(
        project,
        ACCOUNTS + "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\nALTER TABLE accounts FORCE ROW LEVEL SECURITY;",
    )
    assert draft.plan.up_statements() == ['ALTER TABLE "accounts" FORCE ROW LEVEL SECURITY']
    assert row_security(project, "accounts") == (True, True)
    roll_back(project)
    assert row_security(project, "accounts") == (True, False)


def test_a_column_type_change_under_a_policy_keeps_the_policy_and_the_rows(project):
    start(project, ACCOUNTS + OWN_ROWS.replace("owner = current_user", "balance > 0"), ACCOUNT_ROWS)
    desired = ACCOUNTS.replace("balance integer", "balance bigint") + OWN_ROWS.replace(
        "owner = current_user", "balance > 0"
    )
    draft_and_apply(project, desired)
    assert policies(project)[0][5] == "(balance > 0)"
    assert query(
        url(project),
        "SELECT format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = 'accounts'::regclass AND attname = 'balance'",
    ) == [("bigint",)]
    roll_back(project)
    assert query(url(project), "SELECT sum(balance) FROM accounts") == [(30,)]


def test_a_dropped_table_takes_its_policies_and_the_down_brings_them_back(project):
    start(
        project,
        ACCOUNTS + OWN_ROWS + "ALTER TABLE accounts FORCE ROW LEVEL SECURITY;\nCREATE TABLE notes (id integer);",
    )
    draft_and_apply(project, "CREATE TABLE notes (id integer);")
    assert policies(project) == []
    roll_back(project, force=True)
    assert [p[1] for p in policies(project)] == ["own_rows"]
    assert row_security(project, "accounts") == (True, True)


def test_dbshift_inspect_format_sql_prints_row_level_security_and_policies(project, run_cli):
    start(project, ACCOUNTS + OWN_ROWS)
    result = run_cli("inspect", "--format", "sql", cwd=project.config.root)
    assert result.returncode == 0, result.stderr
    assert 'ALTER TABLE "accounts" ENABLE ROW LEVEL SECURITY;' in result.stdout
    assert (
        'CREATE POLICY "own_rows" ON "accounts" AS PERMISSIVE FOR SELECT TO PUBLIC USING ((owner = CURRENT_USER));'
    ) in result.stdout


# -- comments on views, indexes, constraints, triggers and schema-level objects -------------------
def comment(project, oid_sql: str, catalog: str) -> str | None:
    """The comment on the object ``oid_sql`` (an expression giving its oid) of ``catalog``."""
    return query(url(project), f"SELECT obj_description(({oid_sql}), '{catalog}')")[0][0]


def constraint_comment(project, name: str) -> str | None:
    return comment(project, f"SELECT oid FROM pg_constraint WHERE conname = '{name}'", "pg_constraint")


ORDERS = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id),
                     total numeric(10, 2) NOT NULL CONSTRAINT total_positive CHECK (total > 0));
CREATE INDEX orders_customer ON orders (customer_id);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
"""
ORDER_ROWS = "INSERT INTO customers VALUES (1, 'ann'); INSERT INTO orders VALUES (1, 1, 150), (2, 1, 50);"
ORDER_COMMENTS = """
COMMENT ON VIEW big_orders IS 'orders over 100';
COMMENT ON INDEX orders_customer IS 'orders by customer';
COMMENT ON CONSTRAINT total_positive ON orders IS 'no free orders';
COMMENT ON CONSTRAINT orders_customer_id_fkey ON orders IS 'who ordered';
COMMENT ON CONSTRAINT orders_pkey ON orders IS 'the order number';
COMMENT ON TRIGGER orders_touch ON orders IS 'keeps rows fresh';
"""


def test_comments_on_a_view_an_index_constraints_and_a_trigger_are_set_alone_and_removed_by_the_down(project):
    start(project, ORDERS, ORDER_ROWS)
    index_oid = query(url(project), "SELECT 'orders_customer'::regclass::oid")
    draft = draft_and_apply(project, ORDERS + ORDER_COMMENTS)
    assert all(s.startswith("COMMENT ON ") for s in draft.plan.up_statements()), draft.plan.up_statements()
    assert query(url(project), "SELECT 'orders_customer'::regclass::oid") == index_oid
    assert comment(project, "'big_orders'::regclass", "pg_class") == "orders over 100"
    assert comment(project, "'orders_customer'::regclass", "pg_class") == "orders by customer"
    assert [constraint_comment(project, n) for n in ("total_positive", "orders_customer_id_fkey", "orders_pkey")] == [
        "no free orders",
        "who ordered",
        "the order number",
    ]
    assert (
        comment(project, "SELECT oid FROM pg_trigger WHERE tgname = 'orders_touch'", "pg_trigger") == "keeps rows fresh"
    )
    roll_back(project)
    assert comment(project, "'big_orders'::regclass", "pg_class") is None
    assert constraint_comment(project, "orders_customer_id_fkey") is None


def test_a_view_recreated_by_a_plan_keeps_its_comment(project):
    start(project, ORDERS + ORDER_COMMENTS, ORDER_ROWS)
    draft_and_apply(project, ORDERS.replace("WHERE total > 100", "WHERE total > 120") + ORDER_COMMENTS)
    assert comment(project, "'big_orders'::regclass", "pg_class") == "orders over 100"
    roll_back(project)
    assert comment(project, "'big_orders'::regclass", "pg_class") == "orders over 100"


def test_a_column_type_change_under_a_view_and_an_index_keeps_their_comments_and_a_new_one_is_set(project):
    start(project, ORDERS + ORDER_COMMENTS, ORDER_ROWS)
    desired = ORDERS.replace("customer_id integer NOT NULL", "customer_id bigint NOT NULL").replace(
        "total numeric(10, 2)", "total numeric(12, 2)"
    ) + ORDER_COMMENTS.replace("'orders over 100'", "'orders over one hundred'")
    draft_and_apply(project, desired)
    assert comment(project, "'big_orders'::regclass", "pg_class") == "orders over one hundred"
    assert comment(project, "'orders_customer'::regclass", "pg_class") == "orders by customer"
    assert constraint_comment(project, "total_positive") == "no free orders"
    roll_back(project)
    assert comment(project, "'big_orders'::regclass", "pg_class") == "orders over 100"
    assert query(url(project), "SELECT sum(total)::text FROM orders") == [("200.00",)]


def test_a_dropped_table_comes_back_on_the_way_down_with_its_index_constraint_and_trigger_comments(project):
    start(project, ORDERS + ORDER_COMMENTS)
    draft_and_apply(
        project,
        "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL);\n"
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
    )
    roll_back(project, force=True)
    assert comment(project, "'orders_customer'::regclass", "pg_class") == "orders by customer"
    assert [constraint_comment(project, n) for n in ("total_positive", "orders_customer_id_fkey", "orders_pkey")] == [
        "no free orders",
        "who ordered",
        "the order number",
    ]
    assert (
        comment(project, "SELECT oid FROM pg_trigger WHERE tgname = 'orders_touch'", "pg_trigger") == "keeps rows fresh"
    )


TYPES = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE tickets START 100;
CREATE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 2';
CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1';
"""
TYPE_COMMENTS = """
COMMENT ON TYPE mood IS 'how it went';
COMMENT ON DOMAIN email IS 'an address';
COMMENT ON SEQUENCE tickets IS 'ticket numbers';
COMMENT ON FUNCTION double_it(integer) IS 'twice x';
COMMENT ON PROCEDURE noop() IS 'does nothing';
"""


def type_comments(project) -> list:
    return [
        comment(project, "'mood'::regtype", "pg_type"),
        comment(project, "'email'::regtype", "pg_type"),
        comment(project, "'tickets'::regclass", "pg_class"),
        comment(project, "'double_it(integer)'::regprocedure", "pg_proc"),
        comment(project, "'noop()'::regprocedure", "pg_proc"),
    ]


def test_comments_on_an_enum_a_domain_a_sequence_a_function_and_a_procedure_come_and_go(project):
    start(project, TYPES)
    draft = draft_and_apply(project, TYPES + TYPE_COMMENTS)
    assert len(draft.plan.up_statements()) == 5
    assert type_comments(project) == ["how it went", "an address", "ticket numbers", "twice x", "does nothing"]
    roll_back(project)
    assert type_comments(project) == [None] * 5


def test_schema_objects_changed_or_recreated_by_a_plan_keep_their_comments(project):
    start(project, TYPES + TYPE_COMMENTS)
    desired = TYPES.replace("('sad', 'happy')", "('sad', 'happy', 'calm')").replace("START 100", "START 200").replace(
        "RETURNS integer LANGUAGE sql AS 'SELECT x * 2'", "RETURNS bigint LANGUAGE sql AS 'SELECT x * 2'"
    ) + TYPE_COMMENTS.replace("'an address'", "'an e-mail address'")
    draft_and_apply(project, desired)
    assert type_comments(project) == ["how it went", "an e-mail address", "ticket numbers", "twice x", "does nothing"]
    roll_back(project, force=True)
    assert type_comments(project) == ["how it went", "an address", "ticket numbers", "twice x", "does nothing"]


def test_dbshift_inspect_format_sql_prints_the_comments(project, run_cli):
    start(project, ORDERS + ORDER_COMMENTS + TYPES + TYPE_COMMENTS)
    result = run_cli("inspect", "--format", "sql", cwd=project.config.root)
    assert result.returncode == 0, result.stderr
    for line in (
        "COMMENT ON INDEX \"orders_customer\" IS 'orders by customer';",
        'COMMENT ON CONSTRAINT "orders_customer_id_fkey" ON "orders" IS \'who ordered\';',
        'COMMENT ON TRIGGER "orders_touch" ON "orders" IS \'keeps rows fresh\';',
        "COMMENT ON ROUTINE double_it(integer) IS 'twice x';",
        "COMMENT ON TYPE \"mood\" IS 'how it went';",
    ):
        assert line in result.stdout
