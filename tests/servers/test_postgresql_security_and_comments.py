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
    return query(url(project), "SELECT tablename::text, policyname::text, permissive, cmd, roles::text[], qual, with_check "
                               "FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1, 2")


def row_security(project, table: str) -> tuple[bool, bool]:
    """(ENABLE, FORCE) ROW LEVEL SECURITY of ``table``."""
    return query(url(project), "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                 (table,))[0]


# -- row-level security ---------------------------------------------------------------------
ACCOUNTS = "CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance integer NOT NULL);\n"
ACCOUNT_ROWS = "INSERT INTO accounts VALUES (1, 'ann', 10), (2, 'bob', 20);"
OWN_ROWS = ("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\n"
            "CREATE POLICY own_rows ON accounts FOR SELECT TO PUBLIC USING (owner = current_user);\n")


def test_a_policy_added_to_schema_sql_is_created_and_its_down_drops_it(project):
    start(project, ACCOUNTS, ACCOUNT_ROWS)
    draft = draft_and_apply(project, ACCOUNTS + OWN_ROWS)
    assert 'ALTER TABLE "accounts" ENABLE ROW LEVEL SECURITY' in draft.plan.up_statements()
    assert policies(project) == [("accounts", "own_rows", "PERMISSIVE", "SELECT", ["public"],
                                  "(owner = CURRENT_USER)", None)]
    assert row_security(project, "accounts") == (True, False)
    roll_back(project)
    assert policies(project) == [] and row_security(project, "accounts") == (False, False)
    assert query(url(project), "SELECT count(*) FROM accounts") == [(2,)]


def test_a_policy_whose_using_changes_is_altered_in_place_and_its_down_puts_the_old_one_back(project):
    start(project, ACCOUNTS + OWN_ROWS, ACCOUNT_ROWS)
    desired = ACCOUNTS + OWN_ROWS.replace("USING (owner = current_user)", "USING (owner = current_user OR balance < 15)")
    draft = draft_and_apply(project, desired)
    assert [s.split(" USING")[0] for s in draft.plan.up_statements()] == ['ALTER POLICY "own_rows" ON "accounts"']
    assert policies(project)[0][5] == "((owner = CURRENT_USER) OR (balance < 15))"
    roll_back(project)
    assert policies(project)[0][5] == "(owner = CURRENT_USER)"


def test_a_policy_made_restrictive_and_given_a_with_check_is_dropped_and_created_again(project):
    start(project, ACCOUNTS + OWN_ROWS)
    desired = ACCOUNTS + ("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\n"
                          "CREATE POLICY own_rows ON accounts AS RESTRICTIVE FOR ALL TO postgres "
                          "USING (owner = current_user) WITH CHECK (balance >= 0);\n")
    draft = draft_and_apply(project, desired)
    assert [s.split(" ON ")[0] for s in draft.plan.up_statements()] == ['DROP POLICY "own_rows"',
                                                                         'CREATE POLICY "own_rows"']
    assert policies(project) == [("accounts", "own_rows", "RESTRICTIVE", "ALL", ["postgres"],
                                  "(owner = CURRENT_USER)", "(balance >= 0)")]
    roll_back(project)
    assert policies(project)[0][2:5] == ("PERMISSIVE", "SELECT", ["public"])


def test_force_row_level_security_comes_and_goes_with_the_plan(project):
    start(project, ACCOUNTS + "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;")
    draft = draft_and_apply(project, ACCOUNTS + "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;\n"
                                                "ALTER TABLE accounts FORCE ROW LEVEL SECURITY;")
    assert draft.plan.up_statements() == ['ALTER TABLE "accounts" FORCE ROW LEVEL SECURITY']
    assert row_security(project, "accounts") == (True, True)
    roll_back(project)
    assert row_security(project, "accounts") == (True, False)


def test_a_column_type_change_under_a_policy_keeps_the_policy_and_the_rows(project):
    start(project, ACCOUNTS + OWN_ROWS.replace("owner = current_user", "balance > 0"), ACCOUNT_ROWS)
    desired = ACCOUNTS.replace("balance integer", "balance bigint") + OWN_ROWS.replace("owner = current_user",
                                                                                         "balance > 0")
    draft_and_apply(project, desired)
    assert policies(project)[0][5] == "(balance > 0)"
    assert query(url(project), "SELECT format_type(atttypid, NULL) FROM pg_attribute "
                               "WHERE attrelid = 'accounts'::regclass AND attname = 'balance'") == [("bigint",)]
    roll_back(project)
    assert query(url(project), "SELECT sum(balance) FROM accounts") == [(30,)]


def test_a_dropped_table_takes_its_policies_and_the_down_brings_them_back(project):
    start(project, ACCOUNTS + OWN_ROWS + "ALTER TABLE accounts FORCE ROW LEVEL SECURITY;\n"
                                         "CREATE TABLE notes (id integer);")
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
    assert ('CREATE POLICY "own_rows" ON "accounts" AS PERMISSIVE FOR SELECT TO PUBLIC '
            'USING ((owner = CURRENT_USER));') in result.stdout
