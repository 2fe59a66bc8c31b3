"""The quick PostgreSQL parse (libpg_query's JSON built into pglast's nodes) gives the very tree
pglast.parse_sql gives, on every statement of squawk's cases and sqldef's PostgreSQL corpus, and
on odd input: quoted names with spaces and unicode, dollar quotes, comments, bad SQL."""

from __future__ import annotations

import json

import pglast
import pytest
from pglast.parser import ParseError
from tests.conftest import CORPUS, skip_or_fail

from dbshift.analysis.postgresql_parse import parse_sql
from dbshift.dialects.description import describe

ODD = [
    'CREATE TABLE "tâble ""q"" 1" ("cöl umn" text DEFAULT \'it\'\'s\', n numeric(10,2) CHECK (n > -0.5))',
    "CREATE FUNCTION f(a int, OUT b text) RETURNS text AS $x$ SELECT 'a;b' $x$ LANGUAGE sql",
    "CREATE FOREIGN TABLE ft (a int) SERVER s",
    "CREATE INDEX CONCURRENTLY i ON t ((CASE WHEN a IS TRUE THEN 1 END)) WHERE b IS NOT NULL",
    "ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (a) REFERENCES u (id) ON DELETE CASCADE NOT VALID",
    "INSERT INTO t VALUES (1, NULL, true, B'101', 1.5e10, -9223372036854775808), (2, '', false, X'ff', 0, 0)",
    "SELECT 1; /* nested /* comment */ */ SELECT $$x$$",
    "",
]


def _corpus_statements() -> list[str]:
    import yaml

    squawk = CORPUS / "squawk" / "cases.json"
    if not squawk.is_file():
        skip_or_fail(f"squawk cases not found at {squawk}")
    texts = [case["sql"] for case in json.loads(squawk.read_text())]
    for path in sorted((CORPUS / "sqldef" / "postgres").glob("*.yml")):
        for case in (yaml.safe_load(path.read_text()) or {}).values():
            if isinstance(case, dict):
                texts += [case.get(k) or "" for k in ("current", "desired", "up", "down")]
    split = describe("postgresql").split_script
    return [s.sql for text in texts for s in split(text, 1)]


def test_every_corpus_statement_gives_pglasts_own_tree():
    statements = _corpus_statements()
    assert len(statements) > 1500
    compared = 0
    for sql in statements:
        try:
            expected = pglast.parse_sql(sql)
        except ParseError:
            with pytest.raises(ParseError):
                parse_sql(sql)
            continue
        assert parse_sql(sql) == expected, sql
        compared += 1
    assert compared > 1500


@pytest.mark.parametrize("sql", ODD)
def test_odd_statements_give_pglasts_own_tree(sql):
    assert parse_sql(sql) == pglast.parse_sql(sql)


def test_the_tree_deparses_like_pglasts():
    from pglast.stream import RawStream

    for sql in ODD[:6]:
        assert RawStream()(parse_sql(sql)) == RawStream()(pglast.parse_sql(sql))


def test_sql_postgresql_cannot_read_is_its_parse_error():
    with pytest.raises(ParseError):
        parse_sql("ALTER TABLE t ADD COLUMN")


NESTED = [
    "WITH d AS (DELETE FROM a WHERE x RETURNING *) INSERT INTO b SELECT * FROM d",
    "CREATE RULE r AS ON INSERT TO t DO ALSO (DELETE FROM u; UPDATE v SET a = 1)",
    'ALTER TABLE "DropStmt" DROP COLUMN "DeleteStmt"',  # node names as quoted names: the walk runs
    "DROP TABLE a; DROP TABLE b CASCADE; TRUNCATE c",
    "CREATE TABLE x AS SELECT 1; DO $$ BEGIN DELETE FROM y; END $$",
]


@pytest.mark.parametrize("corpus", ["corpus", "nested"])
def test_the_nodes_the_analyser_reads_without_a_walk_are_the_ones_the_walk_finds(corpus):
    from dbshift.analysis.postgresql import _WALKED, _read_nodes
    from dbshift.analysis.postgresql_nodes import nodes
    from dbshift.analysis.postgresql_parse import parse_sql_and_json

    statements = _corpus_statements() if corpus == "corpus" else NESTED
    skipped = 0
    for sql in statements:
        try:
            tree, text = parse_sql_and_json(sql)
        except ParseError:
            continue
        walked = [node for node in nodes(tree) if type(node).__name__ in _WALKED]
        read = list(_read_nodes(tree, text))
        assert [n for n in read if type(n).__name__ in _WALKED] == walked, sql
        skipped += isinstance(read, list) and len(read) == len([r for r in tree if type(r.stmt).__name__ in _WALKED])
    assert skipped > 0
