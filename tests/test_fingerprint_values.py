"""A table's fingerprint on SQLite: equal rows, in any order, give equal fingerprints; any change shows."""

from __future__ import annotations

import sqlite3

import pytest
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


#: How the test table is declared: rows summed in any order, or read in key order (the rowid is the key).
LAYOUTS = {
    "no key": "CREATE TABLE t (a, b)",
    "rowid key, untyped": "CREATE TABLE t (id INTEGER PRIMARY KEY, a, b)",
    "rowid key, typed": "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)",
}


def table_with(path, data, layout="no key") -> SQLiteDatabase:
    """A file database holding ``data`` in table ``t``, the rows numbered 1.. in the given order
    when the layout has a key (untyped columns keep every value's type)."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(LAYOUTS[layout])
    if layout == "no key":
        conn.executemany("INSERT INTO t VALUES (?, ?)", data)
    else:
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", data)
    conn.commit()
    conn.close()
    return SQLiteDatabase(parse_url(f"sqlite:///{path}"), readonly=True)


def content(path, data, layout="no key") -> tuple[int, str]:
    db = table_with(path, data, layout)
    try:
        fingerprint = fingerprint_table(db, "t")
    finally:
        db.close()
    return fingerprint.rows, fingerprint.content


def digest_of(path) -> tuple[int, bytes]:
    """The dialect's row count and digest of table ``t`` in the file at ``path``."""
    db = SQLiteDatabase(parse_url(f"sqlite:///{path}"), readonly=True)
    try:
        return db.content_digest("t")
    finally:
        db.close()


def numbered(data):
    return [(number, a, b) for number, (a, b) in enumerate(data, start=1)]


@settings(max_examples=60, deadline=None)
@given(data=rows, seed=st.randoms(use_true_random=False))
def test_the_same_rows_in_another_order_have_the_same_fingerprint(tmp_path_factory, data, seed):
    folder = tmp_path_factory.mktemp("fp")
    shuffled = list(data)
    seed.shuffle(shuffled)
    assert content(folder / "a.db", data) == content(folder / "b.db", shuffled)
    keyed, keyed_shuffled = numbered(data), numbered(data)
    seed.shuffle(keyed_shuffled)
    for layout in ("rowid key, untyped", "rowid key, typed"):
        assert content(folder / "a.db", keyed, layout) == content(folder / "b.db", keyed_shuffled, layout)


@settings(max_examples=60, deadline=None)
@given(data=rows, index=st.integers(min_value=0), column=st.sampled_from([0, 1]), replacement=values)
def test_changing_any_one_value_changes_the_fingerprint(tmp_path_factory, data, index, column, replacement):
    folder = tmp_path_factory.mktemp("fp")
    position = index % len(data)
    old = data[position][column]
    if type(old) is type(replacement) and old == replacement:
        return
    changed = list(data)
    changed[position] = tuple(replacement if i == column else value for i, value in enumerate(data[position]))
    assert content(folder / "a.db", data) != content(folder / "b.db", changed)
    assert content(folder / "a.db", numbered(data), "rowid key, untyped") != content(
        folder / "b.db", numbered(changed), "rowid key, untyped"
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_number_and_the_same_digits_as_text_or_blob_are_different_rows(tmp_path, layout):
    row = (lambda value: (value, None)) if layout == "no key" else (lambda value: (1, value, None))
    fingerprints = {content(tmp_path / "v.db", [row(value)], layout) for value in (1, 1.0, "1", b"1")}
    assert len(fingerprints) == (4 if layout != "rowid key, typed" else 3)  # a TEXT column stores 1 as '1'


def test_tables_keyed_by_rowid_are_read_in_key_order_unless_a_value_is_real_or_a_blob(tmp_path):
    def digest_kind(data) -> bytes:
        db = table_with(tmp_path / "k.db", data, "rowid key, untyped")
        try:
            return db.content_digest("t")[1].split(b":")[0]
        finally:
            db.close()

    texts_and_numbers = [(n, f"line {n}\nwith 'quotes', \"commas\" and \x00", n * 7) for n in range(1, 3000)]
    assert digest_kind(texts_and_numbers) == b"key-order"
    assert digest_kind(texts_and_numbers + [(5000, 2.5, None)]) != b"key-order"
    assert digest_kind(texts_and_numbers + [(5000, b"\x00", None)]) != b"key-order"


def test_a_key_order_fingerprint_does_not_depend_on_chunk_sizes_or_vacuum(tmp_path, monkeypatch):
    import dbshift.dialects.sqlite as sqlite_dialect

    data = [(n, "x" * (n % 300), n) for n in range(1, 5000)]
    before = content(tmp_path / "a.db", data, "rowid key, typed")
    monkeypatch.setattr(sqlite_dialect, "KEY_ORDER_FIRST_CHUNK", 7)
    monkeypatch.setattr(sqlite_dialect, "KEY_ORDER_CHUNK_BYTES", 5000)
    db = table_with(tmp_path / "b.db", data, "rowid key, typed")
    db.close()
    conn = sqlite3.connect(tmp_path / "b.db")
    conn.execute("DELETE FROM t WHERE id % 3 = 0")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [row for row in reversed(data) if row[0] % 3 == 0])
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    db = SQLiteDatabase(parse_url(f"sqlite:///{tmp_path / 'b.db'}"), readonly=True)
    try:
        assert (fingerprint_table(db, "t").rows, fingerprint_table(db, "t").content) == before
    finally:
        db.close()


def test_rows_too_long_to_join_in_one_string_are_summed_instead(tmp_path):
    db = table_with(tmp_path / "long.db", [(n, "x" * 400, n) for n in range(1, 50)], "rowid key, typed")
    try:
        db.connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
        rows, digest = db.content_digest("t")
    finally:
        db.close()
    assert rows == 49
    assert not digest.startswith(b"key-order:")


def test_a_table_with_more_columns_than_json_array_takes_is_summed_instead(tmp_path):
    columns = ", ".join(f"c{i} TEXT" for i in range(1500))  # more than any SQLite lets a function take
    conn = sqlite3.connect(tmp_path / "wide.db")
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
    conn.executemany("INSERT INTO t (id, c0, c1499) VALUES (?, ?, ?)", [(n, "a", "z") for n in range(1, 40)])
    conn.commit()
    conn.close()
    rows, digest = digest_of(tmp_path / "wide.db")
    assert rows == 39 and not digest.startswith(b"key-order:")


@pytest.mark.parametrize(
    "declaration, key_order",
    [
        ("CREATE TABLE t (id INTEGER PRIMARY KEY, rowid TEXT)", True),
        ("CREATE TABLE t (id INTEGER, rowid TEXT, PRIMARY KEY (id))", True),
        ("CREATE TABLE t (id INTEGER PRIMARY KEY DESC, rowid TEXT)", False),
        ("CREATE TABLE t (id INTEGER PRIMARY KEY, rowid TEXT) WITHOUT ROWID", False),
        ("CREATE TABLE t (id INT PRIMARY KEY, rowid TEXT)", False),
    ],
)
def test_only_a_key_that_is_the_rowid_gives_the_order(tmp_path, declaration, key_order):
    conn = sqlite3.connect(tmp_path / "k.db")
    conn.execute(declaration)
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(3, "c"), (1, "a"), (2, "b")])
    conn.commit()
    conn.close()
    rows, digest = digest_of(tmp_path / "k.db")
    assert rows == 3
    assert digest.startswith(b"key-order:") == key_order


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
