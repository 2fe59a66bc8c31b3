"""MySQL/MariaDB drafts keep every value (issue 10, items 1, 3, 8, 12), on the real server.

Each story writes schema.sql, drafts the migration with ``project.diff``, applies it and rolls it
back, and compares every value with the value oracle. Where the draft's loss checks count values
that will not come back, the count is run on the live rows before the up and compared with what
actually changed.

A drafted conversion rolls back without ``--force``: its down drops the old column once the
converted values are in the column that takes its place, which the statement analysis reads as a
column rebuild that the draft vouches for (``-- lossless-down``). A down whose loss check counted
values is refused without ``--force``, naming the count.
"""

from __future__ import annotations

import pytest

from dbshift.dialects import open_database
from dbshift.errors import SafetyRefusal
from dbshift.urls import parse_url
from servers.conftest import project_with, query
from value_oracle import assert_same_values, count_changed_values, snapshot


def draft_and_apply(project, desired_sql: str, **options):
    """Write schema.sql, draft the migration into migrations/, apply it; the draft."""
    (project.config.root / "schema.sql").write_text(desired_sql)
    draft = project.diff(name="change", **options)
    assert not draft.empty
    return draft


def values_of(url: str):
    """A snapshot of every value of every user table."""
    db = open_database(parse_url(url))
    try:
        return snapshot(db)
    finally:
        db.close()


def counted_losses(url: str, draft) -> int:
    """What the draft's loss checks count on the live rows (run before the up, as the runner does)."""
    return sum(query(url, check)[0][0] for check in draft.plan.loss_checks())


def header(draft) -> str:
    return draft.path.read_text().split("-- migrate:up")[0]


# -- item 1: a conversion in dollars comes back in cents ----------------------------------------------
def test_cents_converted_to_dollars_and_back_come_back_to_the_cent(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE orders (id INT PRIMARY KEY, amount_cents INT);\n"
        "INSERT INTO orders VALUES (1, 1999), (2, 250), (3, 100001), (4, NULL);",
    )
    before = values_of(my_url)
    draft = draft_and_apply(
        project,
        "CREATE TABLE orders (id INT PRIMARY KEY, amount DECIMAL(12,2));",
        renames=["orders.amount_cents=amount"],
        convert=["orders.amount=amount_cents / 100.0"],
        reverse=["orders.amount_cents=ROUND(amount * 100)"],
    )
    assert "-- lossless-down" in header(draft)
    assert counted_losses(my_url, draft) == 0
    project.apply()
    assert [tuple(map(str, r)) for r in query(my_url, "SELECT id, amount FROM orders ORDER BY id")] == [
        ("1", "19.99"),
        ("2", "2.50"),
        ("3", "1000.01"),
        ("4", "None"),
    ]
    project.rollback(steps=1)
    assert query(my_url, "SELECT id, amount_cents FROM orders ORDER BY id") == [
        (1, 1999),
        (2, 250),
        (3, 100001),
        (4, None),
    ]
    assert_same_values(before, values_of(my_url))


def test_prices_written_as_text_become_cents_without_passing_through_an_integer_first(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE items (id INT PRIMARY KEY, price VARCHAR(20));\n"
        "INSERT INTO items VALUES (1, '19.99'), (2, '0.5'), (3, '1234.56');",
    )
    draft = draft_and_apply(
        project, "CREATE TABLE items (id INT PRIMARY KEY, price INT);", convert=["items.price=ROUND(price * 100)"]
    )
    assert draft.plan.destructive  # no reverse was given: the down is marked lossy
    project.apply()
    assert query(my_url, "SELECT id, price FROM items ORDER BY id") == [(1, 1999), (2, 50), (3, 123456)]


def test_a_column_converted_in_place_keeps_its_index_and_its_key(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (code VARCHAR(10) PRIMARY KEY, qty VARCHAR(10), KEY by_qty (qty));\n"
        "INSERT INTO t VALUES ('a', '7'), ('b', '12');",
    )
    before = values_of(my_url)
    draft = draft_and_apply(
        project,
        "CREATE TABLE t (code VARCHAR(10) PRIMARY KEY, qty INT, KEY by_qty (qty));",
        convert=["t.qty=CAST(qty AS SIGNED)"],
        reverse=["t.qty=CAST(qty AS CHAR)"],
    )
    assert counted_losses(my_url, draft) == 0
    project.apply()
    assert query(my_url, "SELECT code, qty FROM t ORDER BY code") == [("a", 7), ("b", 12)]
    assert query(
        my_url,
        "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND INDEX_NAME = 'by_qty'",
    ) == [("by_qty", "qty")]
    project.rollback(steps=1)
    assert_same_values(before, values_of(my_url))


def test_a_reverse_that_loses_leading_zeros_is_counted_exactly(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT PRIMARY KEY, code VARCHAR(10));\n"
        "INSERT INTO t VALUES (1, '007'), (2, '42'), (3, '0'), (4, NULL);",
    )
    before = values_of(my_url)
    draft = draft_and_apply(
        project,
        "CREATE TABLE t (id INT PRIMARY KEY, code INT);",
        convert=["t.code=CAST(code AS SIGNED)"],
        reverse=["t.code=CAST(code AS CHAR)"],
    )
    assert counted_losses(my_url, draft) == 1
    project.apply()
    with pytest.raises(SafetyRefusal, match="will not come back"):  # counted lossy: only --force runs it
        project.rollback(steps=1)
    project.rollback(steps=1, force=True)
    assert count_changed_values(before, values_of(my_url), key="id") == 1
    assert query(my_url, "SELECT code FROM t WHERE id = 1") == [("7",)]


# -- item 3: a column that becomes generated ----------------------------------------------------------
def test_a_column_made_generated_is_destructive_and_its_down_keeps_the_computed_values(tmp_path, my_url):
    """The up replaces the stored values by the expression's; the check counts the rows where they
    differed, and the down gives back a plain column holding the computed values (not zeros)."""
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT);\nINSERT INTO t VALUES (1, 5, 6), (2, 7, 14), (3, 1, 9);",
    )
    before = values_of(my_url)
    draft = draft_and_apply(
        project, "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT GENERATED ALWAYS AS (a * 2) STORED);"
    )
    assert draft.plan.destructive
    assert counted_losses(my_url, draft) == 2
    project.apply()
    with pytest.raises(SafetyRefusal, match="will not come back"):  # counted lossy: only --force runs it
        project.rollback(steps=1)
    project.rollback(steps=1, force=True)
    assert query(my_url, "SELECT id, a, b FROM t ORDER BY id") == [(1, 5, 10), (2, 7, 14), (3, 1, 2)]
    assert query(
        my_url,
        "SELECT GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 't' AND COLUMN_NAME = 'b'",
    ) in ([("",)], [(None,)])
    assert count_changed_values(before, values_of(my_url), key="id") == 2


# -- item 8: a rename and an added column in one ALTER TABLE ------------------------------------------
def test_renaming_a_column_and_adding_one_after_it_runs_on_mariadb(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT PRIMARY KEY, c INT, d VARCHAR(5));\nINSERT INTO t VALUES (1, 5, 'x'), (2, NULL, 'y');",
    )
    before = values_of(my_url)
    draft_and_apply(
        project,
        "CREATE TABLE t (id INT PRIMARY KEY, c_renamed INT, extra_c INT, d VARCHAR(5));",
        renames=["t.c=c_renamed"],
    )
    project.apply()
    assert query(my_url, "SELECT * FROM t ORDER BY id") == [(1, 5, None, "x"), (2, None, None, "y")]
    project.rollback(steps=1, force=True)  # the down drops extra_c
    assert_same_values(before, values_of(my_url))


# -- item 12: a nullable column made NOT NULL with a backfill ----------------------------------------
def test_a_backfill_runs_before_not_null_and_reads_the_column_not_a_string(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT PRIMARY KEY, n INT);\nINSERT INTO t VALUES (1, 5), (2, NULL), (3, -3);",
    )
    draft = draft_and_apply(project, "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL);", defaults=["t.n=0"])
    assert any("no reverse conversion for t.n" in op.lossy_reverse for op in draft.plan.operations)
    project.apply()
    assert query(my_url, "SELECT id, n FROM t ORDER BY id") == [(1, 5), (2, 0), (3, -3)]


def test_a_backfill_keeps_the_values_with_a_lax_sql_mode_too(tmp_path, my_url):
    """With sql_mode='' MySQL reads "n" as the string 'n' and silently stores 0 for it."""
    project = project_with(
        tmp_path, my_url, "CREATE TABLE t (id INT PRIMARY KEY, n INT);\nINSERT INTO t VALUES (1, 5), (2, NULL);"
    )
    draft = draft_and_apply(project, "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL);", defaults=["t.n=0"])
    db = open_database(parse_url(my_url))
    try:
        db.execute("SET SESSION sql_mode = ''")
        for statement in draft.plan.up_statements():
            db.execute(statement)
        assert db.execute("SELECT id, n FROM t ORDER BY id") == [(1, 5), (2, 0)]
    finally:
        db.close()


# -- item 11: a table's AUTO_INCREMENT=N -----------------------------------------------------------
def test_a_schema_files_auto_increment_start_is_migrated_and_given_to_new_tables(tmp_path, my_url):
    project = project_with(tmp_path, my_url, "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10));")
    draft = draft_and_apply(
        project,
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10)) "
        "AUTO_INCREMENT=1000;\n"
        "CREATE TABLE u (id INT AUTO_INCREMENT PRIMARY KEY) AUTO_INCREMENT=500;",
    )
    assert "ALTER TABLE `t` AUTO_INCREMENT=1000" in draft.plan.up_statements()
    project.apply()
    query(my_url, "INSERT INTO t (name) VALUES ('ada')")
    query(my_url, "INSERT INTO u () VALUES ()")
    assert query(my_url, "SELECT id, name FROM t") == [(1000, "ada")]
    assert query(my_url, "SELECT id FROM u") == [(500,)]
    assert project.diff().empty  # the migrations now end where schema.sql is


def test_the_next_auto_increment_of_a_table_with_rows_is_data_and_not_compared(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10));\n"
        "INSERT INTO t (name) VALUES ('ada'), ('bob');",
    )
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10));"
    )
    assert project.diff(source="db").empty


# -- column order and values together -------------------------------------------------------------
def columns_of(url: str, table: str) -> list[str]:
    return [
        r[0]
        for r in query(
            url,
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (table,),
        )
    ]


def test_a_backfilled_column_is_added_in_its_place_without_moving_it_afterwards(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10), created DATE);\n"
        "INSERT INTO t VALUES (1, 'ada', '2024-01-01');",
    )
    draft = draft_and_apply(
        project,
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10), score INT NOT NULL, created DATE);",
        defaults=["t.score=id * 10"],
    )
    assert not any("AFTER" in s and "MODIFY" in s for s in draft.plan.up_statements())  # no second copy
    project.apply()
    assert columns_of(my_url, "t") == ["id", "name", "score", "created"]
    assert query(my_url, "SELECT score FROM t") == [(10,)]


def test_converted_renamed_added_and_ungenerated_columns_end_in_schema_order_with_their_values(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(10), c INT, "
        "g INT GENERATED ALWAYS AS (a + 1) VIRTUAL, KEY kb (b));\n"
        "INSERT INTO t (id, a, b, c) VALUES (1, 2, '30', 4), (2, 5, '060', 7);",
    )
    before = values_of(my_url)
    draft = draft_and_apply(
        project,
        "CREATE TABLE t (id INT PRIMARY KEY, c_new INT, b INT, x INT NOT NULL, g INT, a INT, KEY kb (b));",
        renames=["t.c=c_new"],
        convert=["t.b=CAST(b AS SIGNED)"],
        reverse=["t.b=CAST(b AS CHAR)"],
        defaults=["t.x=a + c"],
    )
    assert counted_losses(my_url, draft) == 1  # '060' comes back as '60'
    project.apply()
    assert columns_of(my_url, "t") == ["id", "c_new", "b", "x", "g", "a"]
    assert query(my_url, "SELECT id, c_new, b, x, g, a FROM t ORDER BY id") == [
        (1, 4, 30, 6, 3, 2),
        (2, 7, 60, 12, 6, 5),
    ]
    with pytest.raises(SafetyRefusal, match="will not come back"):  # counted lossy: only --force runs it
        project.rollback(steps=1)
    project.rollback(steps=1, force=True)
    assert columns_of(my_url, "t") == ["id", "a", "b", "c", "g"]
    assert count_changed_values(before, values_of(my_url), key="id") == 1


def test_a_converted_foreign_key_column_keeps_its_key_and_its_values_both_ways(tmp_path, my_url):
    """Two conversions keeping their types: one runs in place, the other (pid) moves through a new
    column, so its foreign key goes first and comes back last."""
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE p (id INT PRIMARY KEY);\n"
        "CREATE TABLE c (id INT PRIMARY KEY, q INT, pid INT, "
        "CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id));\n"
        "INSERT INTO p VALUES (1), (2);\nINSERT INTO c VALUES (1, 5, 1), (2, 6, 2);",
    )
    before = values_of(my_url)
    draft = draft_and_apply(
        project,
        "CREATE TABLE p (id INT PRIMARY KEY);\n"
        "CREATE TABLE c (id INT PRIMARY KEY, q INT COMMENT 'y', pid INT COMMENT 'x', "
        "CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id));",
        convert=["c.pid=3 - pid", "c.q=q + 1"],
        reverse=["c.pid=3 - pid", "c.q=q - 1"],
    )
    assert counted_losses(my_url, draft) == 0
    project.apply()
    assert query(my_url, "SELECT id, q, pid FROM c ORDER BY id") == [(1, 6, 2), (2, 7, 1)]
    assert query(
        my_url,
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    ) == [("fk_p",)]
    project.rollback(steps=1)
    assert_same_values(before, values_of(my_url))


def test_a_backfilled_nullable_column_keeps_its_declared_default_for_rows_written_later(tmp_path, my_url):
    """Rows inserted after the migration get the column's DEFAULT (the backfill's holder column had none)."""
    project = project_with(
        tmp_path, my_url, "CREATE TABLE t (id INT PRIMARY KEY, a INT);\nINSERT INTO t VALUES (1, 2), (2, NULL);"
    )
    draft_and_apply(
        project,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT DEFAULT 7, c VARCHAR(5) NOT NULL DEFAULT 'x');",
        defaults=["t.b=a * 10", "t.c=CONCAT('r', id)"],
    )
    project.apply()
    query(my_url, "INSERT INTO t (id, a) VALUES (3, 1)")
    assert query(my_url, "SELECT id, a, b, c FROM t ORDER BY id") == [
        (1, 2, 20, "r1"),
        (2, None, None, "r2"),
        (3, 1, 7, "x"),
    ]
