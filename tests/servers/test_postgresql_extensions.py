"""PostgreSQL extensions through the user's day, on the real server.

``CREATE EXTENSION`` in ``schema.sql`` is planned before the types, tables and functions that
use what it provides and dropped after them; what an extension creates is its own and never
drafted as the user's; and an extension something still uses is never dropped with CASCADE.
Each story starts from a first migration written by hand (see ``test_postgresql_planner``).
"""

from __future__ import annotations

import pytest

from dbshift.errors import MigrationFailed
from servers.conftest import make_project, query
from servers.test_postgresql_planner import draft_and_apply, roll_back, start, url


@pytest.fixture
def project(tmp_path, pg_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, pg_url)


def extensions(project) -> list[tuple[str, str]]:
    """(name, schema) of the extensions installed in the live database, plpgsql left out."""
    return query(
        url(project),
        "SELECT e.extname::text, n.nspname::text FROM pg_extension e JOIN pg_namespace n "
        "ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1",
    )


ACCOUNTS = "CREATE TABLE accounts (id integer PRIMARY KEY, name text NOT NULL);\n"
ACCOUNT_ROWS = "INSERT INTO accounts VALUES (1, 'Ann'), (2, 'Bob');"
WITH_EXTENSIONS = """
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE accounts (id integer PRIMARY KEY, name text NOT NULL, email citext,
                       token uuid NOT NULL DEFAULT uuid_generate_v4());
"""


def test_an_extension_in_schema_sql_is_created_before_the_table_that_uses_its_type_and_dropped_by_the_down(project):
    start(project, ACCOUNTS, ACCOUNT_ROWS)
    draft = draft_and_apply(project, WITH_EXTENSIONS)
    up = draft.plan.up_statements()
    # In the order schema.sql installs them (an extension after the ones it requires).
    assert up[:2] == [
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA "public"',
        'CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "public"',
    ]
    assert any(s.startswith('ALTER TABLE "accounts" ADD COLUMN "email" citext') for s in up[2:])
    assert extensions(project) == [("citext", "public"), ("uuid-ossp", "public")]
    assert query(url(project), "SELECT count(DISTINCT token) FROM accounts") == [(2,)]
    assert query(url(project), "SELECT 'A@X.org'::citext = 'a@x.org'") == [(True,)]

    roll_back(project, force=True)
    down = draft.plan.down_statements()
    assert down[-2:] == ['DROP EXTENSION "citext"', 'DROP EXTENSION "uuid-ossp"']
    assert extensions(project) == []
    assert query(url(project), "SELECT name FROM accounts ORDER BY id") == [("Ann",), ("Bob",)]


def test_an_extensions_own_functions_and_types_are_not_drafted_as_the_users(project):
    schema = (
        "CREATE EXTENSION citext;\nCREATE EXTENSION hstore;\nCREATE EXTENSION pg_stat_statements;\n"
        "CREATE EXTENSION pg_trgm;\nCREATE FUNCTION shout(t citext) RETURNS text LANGUAGE sql "
        "AS $$ SELECT upper(t::text) $$;\n" + ACCOUNTS
    )
    start(project, schema)
    live = project.inspect()
    # citext brings the aggregates min(citext) and max(citext), pg_stat_statements two views, all in public.
    assert live.options["extensions"] == {
        name: {"schema": "public"} for name in ("citext", "hstore", "pg_stat_statements", "pg_trgm")
    }
    assert list(live.options["functions"]) == ["shout(citext)"]
    assert "aggregates" not in live.options and live.views == ()
    assert [t.name for t in live.tables] == ["accounts"]
    (project.config.root / "schema.sql").write_text(schema)
    assert project.diff().empty
    (project.config.root / "schema.sql").write_text(ACCOUNTS)
    up = project.diff().plan.up_statements()
    assert up == [
        "DROP ROUTINE shout(citext)",
        'DROP EXTENSION "pg_trgm"',
        'DROP EXTENSION "pg_stat_statements"',
        'DROP EXTENSION "hstore"',
        'DROP EXTENSION "citext"',
    ]


def test_dropping_an_extension_still_in_use_is_never_cascaded(project):
    # Another schema (not managed by dbshift) keeps using citext: the DROP EXTENSION must fail, not cascade.
    start(
        project,
        ACCOUNTS + "CREATE EXTENSION citext;\nCREATE SCHEMA archive;\n"
        "CREATE TABLE archive.emails (email citext NOT NULL);\n",
        "INSERT INTO archive.emails VALUES ('Ann@example.org');",
    )
    (project.config.root / "schema.sql").write_text(ACCOUNTS)
    draft = project.diff(name="drop_citext")
    assert draft.plan.up_statements() == ['DROP EXTENSION "citext"']
    assert not any("CASCADE" in s for s in draft.plan.up_statements() + draft.plan.down_statements())
    assert any("citext is dropped without CASCADE" in note for note in draft.plan.notes)
    with pytest.raises(MigrationFailed, match="depend"):
        project.apply()
    assert extensions(project) == [("citext", "public")]
    assert query(url(project), "SELECT email::text FROM archive.emails") == [("Ann@example.org",)]


def test_an_index_with_an_extensions_operator_class_keeps_it_both_ways(project):
    start(project, ACCOUNTS, ACCOUNT_ROWS)
    desired = (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        + ACCOUNTS
        + "CREATE INDEX accounts_name_trgm ON accounts USING gin (name gin_trgm_ops);\n"
        "CREATE INDEX accounts_lower_name ON accounts (lower(name) text_pattern_ops);\n"
    )
    draft_and_apply(project, desired)
    assert query(
        url(project),
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'accounts' AND indexname <> 'accounts_pkey' ORDER BY 1",
    ) == [
        ("CREATE INDEX accounts_lower_name ON public.accounts USING btree (lower(name) text_pattern_ops)",),
        ("CREATE INDEX accounts_name_trgm ON public.accounts USING gin (name gin_trgm_ops)",),
    ]
    roll_back(project)
    assert extensions(project) == []


def test_dbshift_inspect_format_sql_prints_the_extensions_before_the_tables(project, run_cli):
    start(project, "CREATE EXTENSION citext;\nCREATE TABLE people (email citext);\n")
    result = run_cli("inspect", "--format", "sql", cwd=project.config.root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        'CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "public";\n\nCREATE TABLE "people"'
    )
    assert "FUNCTION" not in result.stdout and "AGGREGATE" not in result.stdout
