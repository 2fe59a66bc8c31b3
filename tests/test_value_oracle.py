"""The value oracle catches what row counts miss: a rounded integer, 1 turned into 1.0, '007' into 7."""

from __future__ import annotations

import pytest

from dbshift.dialects import open_database
from dbshift.urls import parse_url
from servers.conftest import create_database, drop_database
from value_oracle import (
    BIG,
    assert_same_values,
    count_changed_values,
    edge_values,
    family_of,
    fill_with_edge_values,
    snapshot,
)

TYPES = {
    "sqlite": [("n", "BIGINT"), ("r", "REAL"), ("t", "TEXT"), ("d", "DECIMAL(12,2)"), ("u", "")],
    "postgresql": [("n", "bigint"), ("r", "double precision"), ("t", "text"), ("d", "numeric(12,2)")],
    "mysql": [("n", "BIGINT"), ("r", "DOUBLE"), ("t", "VARCHAR(20)"), ("d", "DECIMAL(12,2)")],
}


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        database = open_database(parse_url(f"sqlite:///{tmp_path / 'oracle.db'}"))
        yield database
        database.close()
        return
    base = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    url = create_database(base)
    database = open_database(parse_url(url))
    yield database
    database.close()
    drop_database(base, url)


def _create(db, columns):
    body = ", ".join([f"{db.quote('id')} INTEGER PRIMARY KEY"] + [f"{db.quote(n)} {t}".rstrip() for n, t in columns])
    db.execute(f"CREATE TABLE {db.quote('t')} ({body})")


def test_every_column_type_gets_its_edge_values(db):
    columns = TYPES[db.dialect]
    _create(db, columns)
    inserted = fill_with_edge_values(db, "t", columns, key="id")
    assert inserted >= sum(len(edge_values(t)) for _, t in columns) - 12  # a few refused on servers
    values = {row[0] for row in db.execute(f"SELECT {db.quote('n')} FROM {db.quote('t')}")}
    assert BIG in values and 2**63 - 1 in values and -(2**63) in values


def test_a_value_rounded_through_a_double_is_caught(db):
    columns = TYPES[db.dialect]
    _create(db, columns)
    fill_with_edge_values(db, "t", columns, key="id")
    before = snapshot(db)
    assert_same_values(before, snapshot(db))
    n, t, key = db.quote("n"), db.quote("t"), db.quote("id")
    first = min(row[0] for row in db.execute(f"SELECT {key} FROM {t} WHERE {n} = {db.placeholder}", [BIG]))
    db.execute(f"UPDATE {t} SET {n} = {n} - 1 WHERE {key} = {db.placeholder}", [first])
    after = snapshot(db)
    with pytest.raises(AssertionError, match="row gone"):
        assert_same_values(before, after)
    assert count_changed_values(before, after, key="id") == 1


def test_sqlite_sees_the_type_of_each_value(tmp_path):
    db = open_database(parse_url(f"sqlite:///{tmp_path / 'typed.db'}"))
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, u)")
    db.execute("INSERT INTO t VALUES (1, 1)")
    before = snapshot(db)
    db.execute("UPDATE t SET u = 1.0")
    assert count_changed_values(before, snapshot(db), key="id") == 1
    db.execute("UPDATE t SET u = '1'")
    assert count_changed_values(before, snapshot(db), key="id") == 1
    db.close()


@pytest.mark.parametrize(
    "declared, family",
    [
        ("INTEGER", "integer"),
        ("bigint", "integer"),
        ("TINYINT(1)", "boolean"),
        ("DOUBLE PRECISION", "real"),
        ("numeric(12,2)", "decimal"),
        ("NUMERIC", "numeric"),
        ("varchar(20)", "text"),
        ("timestamptz", "timestamptz"),
        ("timestamp with time zone", "timestamptz"),
        ("DATETIME", "datetime"),
        ("date", "date"),
        ("bytea", "blob"),
        ("jsonb", "json"),
        ("uuid", "uuid"),
        ("", "untyped"),
        ("boolean", "boolean"),
    ],
)
def test_families_of_declared_types(declared, family):
    assert family_of(declared) == family
