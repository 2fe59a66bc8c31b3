"""Stories that try to break the SQLite loss check's cheap path.

The check decides most rows with one comparison: the value the down would give back ``IS`` the old
one (an INTEGER and a REAL compare equal when they are the same number). These stories fill
columns with the values where that shortcut could lie (-2^63 given back as a REAL, 2^53 + 1, a
reverse that returns 1999.0 for 1999, text equal under NOCASE but not byte for byte, a converted
expression the planner wraps in CAST and ``+``), apply the drafted migration, roll it back with
--force, and compare every value by id: exactly the values the check counted changed, and which.
"""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift.errors import SafetyRefusal
from dbshift.history import History
from value_oracle import BLOBS, INTEGERS, REALS, TEXTS


def _start(project, create: str, rows: list[tuple], desired: str) -> None:
    """``create`` applied (its table holds ``rows``), ``desired`` written to schema.sql."""
    write_migration(project, 20260101000000, "start", create, "SELECT 1;")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        table = create.split("(", 1)[0].removeprefix("CREATE TABLE ").strip()
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    (project.config.root / "schema.sql").write_text(desired)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cells(project, table: str) -> dict[int, tuple]:
    """id -> every other column of ``table`` (SQL) as (storage class, exact value), text as its bytes."""
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.text_factory = bytes
        names = [_quote(row[1].decode()) for row in conn.execute(f"PRAGMA table_info({table})")][1:]
        parts = ", ".join(f"typeof({n}), {n}" for n in names)
        rows = conn.execute(f"SELECT id, {parts} FROM {table}")
        return {row[0]: tuple(zip(row[1::2], map(repr, row[2::2]))) for row in rows}


def _apply_and_roll_back(project, drafted, table: str = "t") -> tuple[int, set[int], dict, dict]:
    """Apply the draft, then roll it back (with --force when values were counted): (count recorded,
    ids whose values changed, cells before, cells after)."""
    before = _cells(project, table)
    project.apply()
    with project.connect(readonly=True) as db:
        lost = History(db).applied()[int(drafted.path.name.split("_")[0])].lost_values
    if lost:
        with pytest.raises(SafetyRefusal):
            project.rollback()
    project.rollback(force=bool(lost))
    after = _cells(project, table)
    return lost, {i for i in before if before[i] != after.get(i)}, before, after


def test_minus_two_to_the_63_is_the_one_integer_a_real_column_gives_back_as_a_real(project):
    """INTEGER -> REAL and back: -2^63 becomes -9.223372036854775808e18, which SQLite keeps as a REAL
    in an INTEGER column, while the same REAL already stored there comes back as it was. 2^53 + 1 and
    2^63 - 1 do not fit a REAL. Text, blobs, reals with a fraction and NULL come back untouched."""
    values = [0, 1, -1, 2**53, 2**53 + 1, -(2**53 + 1), 2**63 - 1, -(2**63), -9223372036854775808.0, 1.5, 1e308]
    values += [-1e308, "abc", "", b"\x00\x01", None, 2**62]
    _start(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)",
        list(enumerate(values, 1)),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL);",
    )
    drafted = project.diff(name="v_real")
    lost, changed, before, after = _apply_and_roll_back(project, drafted)
    assert changed == {5, 6, 7, 8}, {i: (before[i], after[i]) for i in changed}
    assert lost == 4
    assert after[8] == ((b"real", repr(-9.223372036854776e18)),)  # -2^63 came back as a REAL: lost
    assert after[9] == before[9] == ((b"real", repr(-9.223372036854776e18)),)


def test_a_reverse_that_gives_back_a_whole_real_for_an_integer_loses_nothing(project):
    """cents -> dollars with a reverse that forgets the CAST: ROUND(dollars * 100) is the REAL 1999.0,
    which the INTEGER column stores as 1999 again. Only the cents a double cannot hold are counted."""
    rows = [(1, 1999), (2, 250), (3, -5), (4, 0), (5, None), (6, 2**53 + 1), (7, 1), (8, 100001), (9, -(2**62) - 1)]
    _start(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, cents INTEGER)",
        rows,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, dollars REAL);",
    )
    drafted = project.diff(
        name="dollars",
        renames=["t.cents=dollars"],
        convert=["t.dollars=cents / 100.0"],
        reverse=["t.cents=ROUND(dollars * 100)"],
    )
    lost, changed, before, after = _apply_and_roll_back(project, drafted)
    assert changed == {6, 9} and lost == 2
    assert [after[i] for i in (1, 2, 3, 4, 5, 7, 8)] == [before[i] for i in (1, 2, 3, 4, 5, 7, 8)]
    assert after[1] == ((b"integer", "1999"),)


def test_a_reverse_without_round_is_counted_value_by_value(project):
    """dollars * 100 without ROUND: 19.99 * 100 is 1998.9999999999998, 0.07 * 100 is 7.000000000000001,
    so those cents do not come back, while 2.50 * 100 is exactly 250."""
    rows = [(1, 1999), (2, 250), (3, 7), (4, None), (5, 0), (6, -1999), (7, 100)]
    _start(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, cents INTEGER)",
        rows,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, dollars REAL);",
    )
    drafted = project.diff(
        name="dollars",
        renames=["t.cents=dollars"],
        convert=["t.dollars=cents / 100.0"],
        reverse=["t.cents=dollars * 100"],
    )
    lost, changed, before, after = _apply_and_roll_back(project, drafted)
    assert lost == len(changed) > 0
    assert {1, 3} <= changed and not changed & {2, 4, 5, 7}
    assert after[1] == ((b"real", repr(19.99 * 100)),)  # 1998.9999999999998


def test_text_equal_under_nocase_but_not_byte_for_byte_is_counted(project):
    """A NOCASE column converted with upper() and back with lower(): 'ABC' and 'aBc' come back as
    'abc', equal for the column's collation but not the same text. Counted; 'abc' and NULL are not."""
    rows = [(1, "abc"), (2, "ABC"), (3, "aBc"), (4, None), (5, ""), (6, "it's ✓"), (7, "Ünïcode")]
    _start(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE)",
        rows,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, label TEXT COLLATE NOCASE);",
    )
    drafted = project.diff(
        name="label",
        renames=["t.name=label"],
        convert=["t.label=upper(name)"],
        reverse=["t.name=lower(label)"],
    )
    lost, changed, before, after = _apply_and_roll_back(project, drafted)
    # SQLite's upper() and lower() change ASCII letters only: 'Ünïcode' comes back as it was.
    assert changed == {2, 3} and lost == 2
    assert after[2] == ((b"text", repr(b"abc")),)


def test_a_conversion_written_with_or_is_stored_as_its_whole_value(project):
    """A careless --convert `v = 1 OR v = 2` (no parentheses) into an INTEGER column, back as it is:
    1 and 0 come back, 2 and 3 and 5 become 1 or 0 and are counted; NULL OR NULL is NULL again."""
    rows = [(1, 1), (2, 2), (3, 0), (4, 3), (5, None), (6, 5)]
    _start(
        project,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)",
        rows,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, ok INTEGER);",
    )
    drafted = project.diff(name="ok", renames=["t.v=ok"], convert=["t.ok=v = 1 OR v = 2"], reverse=["t.v=ok"])
    lost, changed, before, after = _apply_and_roll_back(project, drafted)
    assert changed == {2, 4, 6} and lost == 3
    assert [after[i] for i in (1, 2, 3, 4, 5, 6)] == [
        ((b"integer", "1"),),
        ((b"integer", "1"),),
        ((b"integer", "0"),),
        ((b"integer", "0"),),
        ((b"null", "None"),),
        ((b"integer", "0"),),
    ]


def test_odd_table_and_column_names_are_checked_like_any_other(project):
    """A table named with a quote and a space, a column with a euro sign: the check still reads them
    and counts the one cent value a double cannot hold."""
    create = 'CREATE TABLE "o""dd t" (id INTEGER PRIMARY KEY, "prix € ""ht""" INTEGER)'
    _start(
        project,
        create,
        [(1, 1999), (2, 2**53 + 1), (3, None), (4, -250)],
        'CREATE TABLE "o""dd t" (id INTEGER PRIMARY KEY, "prix € ""ht""" REAL);',
    )
    drafted = project.diff(name="prix_real")
    lost, changed, before, after = _apply_and_roll_back(project, drafted, table='"o""dd t"')
    assert changed == {2} and lost == 1
    assert after[1] == before[1] == ((b"integer", "1999"),)


@pytest.mark.parametrize("declared", ["INTEGER", "NUMERIC", "REAL", "TEXT", "BLOB"])
def test_the_check_agrees_with_sqlite_itself_for_every_pair_of_edge_values(declared):
    """For a column of each affinity holding each edge value (so holding it as SQLite stores it), and
    each value the down could give back, the check's verdict is what SQLite does when that value is
    stored again: ``comes_back`` (shortcut and exact rules) against a real INSERT, pair by pair."""
    from dbshift.dialects.sqlite_description import type_affinity
    from dbshift.planners.sqlite_values import comes_back, same_value

    values = INTEGERS + REALS + TEXTS + BLOBS + [None, 5.0, "5", "5.0", " 5", "1e400", "-0", -9223372036854775808.0]
    values += [2**62, 2.0**62, 9223372036854774784.0, 9.3e18, -9.3e18, 4.5, "0x10", "١٢", "abc ", "NaN"]
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE olds (o {declared})")
    conn.execute("CREATE TABLE backs (b)")  # no type: every value kept as given, like a computed one
    conn.execute(f"CREATE TABLE stored (i INTEGER, j INTEGER, s {declared})")
    conn.executemany("INSERT INTO olds VALUES (?)", [(v,) for v in values])
    conn.executemany("INSERT INTO backs VALUES (?)", [(v,) for v in values])
    conn.execute("INSERT INTO stored SELECT olds.rowid, backs.rowid, b FROM olds, backs")
    verdict = comes_back(type_affinity(declared), "b", "o")
    wrong = conn.execute(
        f"SELECT typeof(o), quote(o), typeof(b), quote(b), typeof(s), quote(s) "
        f"FROM olds JOIN stored ON stored.i = olds.rowid JOIN backs ON backs.rowid = stored.j "
        f"WHERE ({verdict}) IS NOT {same_value('s', 'o')}"
    ).fetchall()
    assert conn.execute("SELECT count(*) FROM stored").fetchone()[0] == len(values) ** 2
    assert wrong == [], wrong[:10]
