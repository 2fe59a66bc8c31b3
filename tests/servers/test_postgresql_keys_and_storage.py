"""PostgreSQL key and index features through the user's day: INCLUDE, NULLS NOT DISTINCT, storage
parameters (tables, keys, indexes) and operator class parameters are compared and migrated both
ways, and every value survives.
"""

from __future__ import annotations

import pytest

from servers.conftest import make_project, query
from servers.test_postgresql_planner import (
    draft_and_apply,
    fails,
    roll_back,
    start,
    url,
)
from servers.test_postgresql_sequences import values
from value_oracle import assert_same_values


@pytest.fixture
def project(tmp_path, pg_url, monkeypatch):
    """A fresh project on a fresh PostgreSQL database."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, pg_url)


FEATURES = """
CREATE TABLE docs (id integer, code text, owner integer, body tsvector,
  CONSTRAINT docs_pkey PRIMARY KEY (id){pk},
  CONSTRAINT docs_code UNIQUE{nulls} (code){unique}
){table};
CREATE INDEX docs_owner ON docs USING brin (owner){brin};
CREATE INDEX docs_body ON docs USING gist (body tsvector_ops{siglen});
CREATE UNIQUE INDEX docs_owner_code ON docs (owner, code){owner_nulls};
"""
PLAIN = {"pk": "", "nulls": "", "unique": "", "table": "", "brin": "", "siglen": "", "owner_nulls": ""}
EVERY_FEATURE = {
    "pk": " INCLUDE (owner)",
    "nulls": " NULLS NOT DISTINCT",
    "unique": " INCLUDE (id) WITH (fillfactor=70)",
    "table": " WITH (fillfactor=70, autovacuum_enabled=false)",
    "brin": " WITH (pages_per_range=2)",
    "siglen": " (siglen='8')",
    "owner_nulls": " NULLS NOT DISTINCT",
}
DOC_ROWS = "INSERT INTO docs VALUES (1, 'a', 1, 'x y'), (2, NULL, 1, 'z'), (3, 'c', NULL, '');"


def definitions(project) -> list:
    """How the server itself prints the table's storage parameters, keys and indexes."""
    return query(
        url(project),
        "SELECT ARRAY(SELECT unnest(reloptions) ORDER BY 1)::text FROM pg_class WHERE oid = 'docs'::regclass "
        "UNION ALL (SELECT pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = 'docs'::regclass ORDER BY 1)",
    )


@pytest.mark.parametrize(
    "first, second", [(PLAIN, EVERY_FEATURE), (EVERY_FEATURE, PLAIN)], ids=["features added", "features removed"]
)
def test_include_nulls_not_distinct_storage_and_opclass_parameters_are_migrated_both_ways(project, first, second):
    start(project, FEATURES.format(**first), DOC_ROWS)
    before, first_definitions = values(project), definitions(project)
    draft = draft_and_apply(project, FEATURES.format(**second))  # the live schema equals schema.sql
    assert definitions(project) != first_definitions
    assert draft.plan.up_sql().count("fillfactor") == (2 if second is EVERY_FEATURE else 1)  # table SET/RESET, key
    nulls_are_distinct = second is PLAIN
    assert fails(project, "INSERT INTO docs VALUES (4, NULL, 2, '')") != nulls_are_distinct
    query(url(project), "DELETE FROM docs WHERE id = 4")

    roll_back(project)  # the live schema equals the first migration's again
    assert definitions(project) == first_definitions
    assert_same_values(before, values(project))
    assert fails(project, "INSERT INTO docs VALUES (4, NULL, 2, '')") == nulls_are_distinct
