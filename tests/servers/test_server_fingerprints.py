"""Fingerprints on the servers are computed in the server: only a count and two sums travel back."""

from __future__ import annotations

from dbshift.dialects import open_database
from dbshift.safety.fingerprint import fingerprint_table
from dbshift.urls import parse_url

ROWS = [(1, "ada", 10), (2, "bob", None), (3, "", 0)]


def content(url: str, rows: list[tuple]) -> tuple[int, str]:
    """The fingerprint of a table ``t`` holding ``rows`` (recreated on each call)."""
    db = open_database(parse_url(url))
    try:
        db.execute("DROP TABLE IF EXISTS t")
        # A column named like the table's alias in the hashing query must not confuse it.
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, t VARCHAR(20), n INTEGER)")
        for row in rows:
            db.execute(f"INSERT INTO t VALUES ({db.placeholder}, {db.placeholder}, {db.placeholder})", row)
        db.commit()
        fingerprint = fingerprint_table(db, "t")
        return fingerprint.rows, fingerprint.content
    finally:
        db.close()


def test_the_same_rows_inserted_in_another_order_have_the_same_fingerprint(server_url):
    assert content(server_url, ROWS) == content(server_url, list(reversed(ROWS)))
    assert content(server_url, ROWS)[0] == 3


def test_any_changed_value_or_null_changes_the_fingerprint(server_url):
    original = content(server_url, ROWS)
    for changed in (
        [(1, "ada", 11), *ROWS[1:]],
        [(1, "ada", 10), (2, "bob", 0), ROWS[2]],
        [(1, "ada", 10), (2, "bob", None), (3, None, 0)],
        ROWS[:2],
    ):
        assert content(server_url, changed) != original


def test_an_empty_table_has_a_fingerprint_too(server_url):
    assert content(server_url, [])[0] == 0
