"""A table's fingerprint on SQLite: equal rows, in any order, give equal fingerprints; any change shows."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from dbshift.dialects.sqlite import SQLiteDatabase
from dbshift.safety.fingerprint import fingerprint_table
from dbshift.urls import parse_url

values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
)
rows = st.lists(st.tuples(values, values), min_size=1, max_size=30)


def table_with(path, data) -> SQLiteDatabase:
    """A file database holding ``data`` in table ``t`` (untyped columns keep every value's type)."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a, b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", data)
    conn.commit()
    conn.close()
    return SQLiteDatabase(parse_url(f"sqlite:///{path}"), readonly=True)


def content(path, data) -> tuple[int, str]:
    db = table_with(path, data)
    try:
        fingerprint = fingerprint_table(db, "t")
    finally:
        db.close()
    return fingerprint.rows, fingerprint.content


@settings(max_examples=60, deadline=None)
@given(data=rows, seed=st.randoms(use_true_random=False))
def test_the_same_rows_in_another_order_have_the_same_fingerprint(tmp_path_factory, data, seed):
    folder = tmp_path_factory.mktemp("fp")
    shuffled = list(data)
    seed.shuffle(shuffled)
    assert content(folder / "a.db", data) == content(folder / "b.db", shuffled)


@settings(max_examples=60, deadline=None)
@given(data=rows, index=st.integers(min_value=0), replacement=values)
def test_changing_any_one_value_changes_the_fingerprint(tmp_path_factory, data, index, replacement):
    folder = tmp_path_factory.mktemp("fp")
    position = index % len(data)
    old = data[position][0]
    if type(old) is type(replacement) and old == replacement:
        return
    changed = list(data)
    changed[position] = (replacement, data[position][1])
    assert content(folder / "a.db", data) != content(folder / "b.db", changed)


def test_a_number_and_the_same_digits_as_text_or_blob_are_different_rows(tmp_path):
    fingerprints = {content(tmp_path / "v.db", [(value, None)]) for value in (1, 1.0, "1", b"1")}
    assert len(fingerprints) == 4


def test_text_that_is_not_utf8_is_fingerprinted_and_a_change_to_it_shows(tmp_path):
    def with_raw_text(name: str, raw: bytes) -> tuple[int, str]:
        path = tmp_path / name
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (a, b)")
        conn.execute("INSERT INTO t VALUES (CAST(? AS TEXT), 'ok')", (raw,))
        conn.commit()
        conn.close()
        db = SQLiteDatabase(parse_url(f"sqlite:///{path}"), readonly=True)
        try:
            fingerprint = fingerprint_table(db, "t")
        finally:
            db.close()
        return fingerprint.rows, fingerprint.content

    first = with_raw_text("a.db", b"caf\xe9")
    assert first[0] == 1
    assert with_raw_text("b.db", b"caf\xe9") == first
    assert with_raw_text("c.db", b"caf\xe8") != first
