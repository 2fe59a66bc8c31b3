"""Three risks a migration's author rarely sees coming:

* a file that does not run in one transaction fails halfway, and running it again fails on what
  the first run already did (``not-rerunnable``);
* an up rewrites rows of an existing table and its down has nothing that writes them back: a
  rollback restores the schema, never the values (``data-change-without-reverse``);
* a column type change meets the live data: 19.99 becomes 20, 'abcdefghijk' is too long,
  2^31 is out of range, '12abc' is no integer (``values-changed-by-type``, counted on the server).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import write_migration

from dbshift.lint import LintSettings, lint_migrations, lint_sql
from dbshift.migrations import discover

USERS = {
    "sqlite": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, email TEXT)",
    "postgresql": "CREATE TABLE users (id bigint PRIMARY KEY, name text, phone text, email text)",
    "mysql": "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT, phone TEXT, email TEXT)",
}


def _found(dialect: str, sql: str, code: str, transactional: bool | None = False) -> list[tuple[int, str]]:
    findings = lint_sql(sql, dialect, transactional=transactional, prelude=[USERS[dialect]], settings=LintSettings())
    return [(f.line, f.problem.split(":")[0]) for f in findings if f.code == code]


# -- not-rerunnable ---------------------------------------------------------------------------


def test_postgresql_no_transaction_file_names_each_statement_a_second_run_trips_over():
    bad = (
        'CREATE TABLE "we ""ird täble" (a int);\n'
        "CREATE INDEX CONCURRENTLY users_name ON users (name);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\n"
        "DROP TABLE users;\n"
        "ALTER TABLE users ADD COLUMN city text;"
    )
    assert _found("postgresql", bad, "not-rerunnable") == [
        (1, 'CREATE TABLE we "ird täble without IF NOT EXISTS'),
        (2, "CREATE INDEX CONCURRENTLY users_name without DROP INDEX CONCURRENTLY IF EXISTS before it"),
        # IF NOT EXISTS alone would keep the INVALID index a failed build leaves
        (3, "CREATE INDEX CONCURRENTLY users_email without DROP INDEX CONCURRENTLY IF EXISTS before it"),
        (4, "DROP TABLE users without IF EXISTS"),
        # the last statement: nothing after it can fail, so it never runs again after succeeding
    ]
    good = (
        'CREATE TABLE IF NOT EXISTS "we ""ird täble" (a int);\n'
        "DROP INDEX CONCURRENTLY IF EXISTS users_name;\n"
        "CREATE INDEX CONCURRENTLY users_name ON users (name);\n"
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS city text;\n"
        "DROP TABLE IF EXISTS users;\n"
        "ALTER TABLE users ADD COLUMN zip text;"
    )
    assert _found("postgresql", good, "not-rerunnable") == []
    # a failed CONCURRENTLY build leaves its INVALID index even as the last statement
    last = (
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS city text;\nCREATE INDEX CONCURRENTLY users_city ON users (city);"
    )
    assert [line for line, _ in _found("postgresql", last, "not-rerunnable")] == [2]
    fix = next(f.fix for f in lint_sql(bad, "postgresql", transactional=False) if f.code == "not-rerunnable")
    assert "DROP INDEX CONCURRENTLY IF EXISTS first" in fix and "INVALID" in fix


def test_postgresql_file_in_one_transaction_or_of_one_statement_can_always_run_again():
    bad = "CREATE TABLE t (a int);\nDROP TABLE users;\nALTER TABLE users ADD COLUMN city text;"
    assert _found("postgresql", bad, "not-rerunnable", transactional=True) == []
    assert _found("postgresql", "CREATE TABLE t (a int);", "not-rerunnable") == []
    in_block = "BEGIN;\nCREATE TABLE t (a int);\nDROP TABLE users;\nCOMMIT;\nSELECT 1;"
    assert _found("postgresql", in_block, "not-rerunnable") == []


def test_mysql_ddl_commits_on_its_own_so_every_file_must_survive_a_second_run():
    bad = "CREATE TABLE `odd ``name` (a INT);\nALTER TABLE users ADD COLUMN city TEXT;\nDROP TABLE users;"
    assert _found("mysql", bad, "not-rerunnable", transactional=None) == [
        (1, "CREATE TABLE `odd ``name` without IF NOT EXISTS"),
        (2, "ADD COLUMN city without IF NOT EXISTS"),
    ]
    # BEGIN does not help: MySQL commits before and after each DDL statement
    assert [line for line, _ in _found("mysql", "BEGIN;\n" + bad + "\nCOMMIT;", "not-rerunnable", None)] == [2, 3]
    good = (
        "CREATE TABLE IF NOT EXISTS `odd ``name` (a INT);\n"
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS city TEXT;\n"
        "DROP TABLE IF EXISTS users;"
    )
    assert _found("mysql", good, "not-rerunnable", transactional=None) == []


#: MariaDB's guarded forms, as the MySQL planner writes them for a MariaDB draft (odd names included).
MARIADB_GUARDED = [
    "ALTER TABLE `odd ``t`` ü` ADD COLUMN IF NOT EXISTS `x ✓` INT NULL AFTER `name`, DROP COLUMN IF EXISTS phone",
    "ALTER TABLE users ADD KEY IF NOT EXISTS `by name` (name(10)), ADD UNIQUE KEY IF NOT EXISTS u (email(20))",
    "ALTER TABLE users ADD FULLTEXT KEY IF NOT EXISTS ft (name)",
    "ALTER TABLE users DROP INDEX IF EXISTS `by name`, DROP FOREIGN KEY IF EXISTS fk, DROP CONSTRAINT IF EXISTS c",
    "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY IF NOT EXISTS (id) REFERENCES `odd ``t`` ü` (id)",
    "ALTER TABLE users ADD CONSTRAINT IF NOT EXISTS c CHECK (id > 0), ADD PRIMARY KEY IF NOT EXISTS (id)",
    "ALTER TABLE users CHANGE COLUMN IF EXISTS phone `phone ☎` VARCHAR(20) NULL",
    "ALTER TABLE users RENAME COLUMN IF EXISTS email TO `e-mail`",
    "ALTER TABLE users DROP INDEX IF EXISTS `PRIMARY`",
    "RENAME TABLE IF EXISTS `odd ``t`` ü` TO `odd ü`",
    "ALTER TABLE users DROP COLUMN IF EXISTS g, ADD COLUMN g INT AS (id + 1) STORED",
    "ALTER TABLE users DROP INDEX IF EXISTS k, ADD KEY k (name(5))",
    "DROP VIEW IF EXISTS v",
    "DROP TRIGGER IF EXISTS tr",
    "CREATE OR REPLACE VIEW v AS SELECT id FROM users",
]


def test_mariadb_guarded_forms_are_read_and_survive_a_second_run():
    sql = "CREATE TABLE IF NOT EXISTS `odd ``t`` ü` (id BIGINT);\n" + ";\n".join(MARIADB_GUARDED) + ";\nSELECT 1;"
    findings = lint_sql(sql, "mysql", transactional=None, prelude=[USERS["mysql"]], settings=LintSettings())
    assert [(f.line, f.code) for f in findings if f.code in ("not-rerunnable", "not-analysed")] == []
    # each guard is read where it stands: the same statements without them are named
    bare = ";\n".join(s.replace(" IF NOT EXISTS", "").replace(" IF EXISTS", "") for s in MARIADB_GUARDED[:2])
    assert _found("mysql", bare + ";\nSELECT 1;", "not-rerunnable", transactional=None) == [
        (1, "ADD COLUMN x ✓ without IF NOT EXISTS"),
        (1, "DROP COLUMN phone without IF EXISTS"),
    ]
    assert [
        p
        for _, p in _found(
            "mysql", MARIADB_GUARDED[6].replace(" IF EXISTS", "") + ";\nSELECT 1;", "not-rerunnable", None
        )
    ] == ["a rename (the old name is gone when it runs again)"]


def test_an_add_after_a_guarded_drop_of_the_same_name_in_one_statement_runs_again_but_not_another_name():
    again = "ALTER TABLE users DROP COLUMN IF EXISTS phone, ADD COLUMN phone TEXT;\nSELECT 1;"
    assert _found("mysql", again, "not-rerunnable", transactional=None) == []
    other = "ALTER TABLE users DROP COLUMN IF EXISTS phone, ADD COLUMN `Phone 2` TEXT;\nSELECT 1;"
    assert _found("mysql", other, "not-rerunnable", transactional=None) == [
        (1, "ADD COLUMN Phone 2 without IF NOT EXISTS")
    ]
    # the add comes first: a second run adds nothing and then drops the column
    before = "ALTER TABLE users ADD COLUMN phone2 TEXT, DROP COLUMN IF EXISTS phone2;\nSELECT 1;"
    assert _found("mysql", before, "not-rerunnable", transactional=None) == [
        (1, "ADD COLUMN phone2 without IF NOT EXISTS")
    ]


def test_dropping_the_primary_index_is_read_as_the_primary_key_change_it_is():
    findings = lint_sql(
        "ALTER TABLE users DROP INDEX IF EXISTS `PRIMARY`;", "mysql", prelude=[USERS["mysql"]], settings=LintSettings()
    )
    assert [f.problem.split(" cannot")[0] for f in findings if f.code == "mysql-table-copy"] == [
        "a primary key change on users"
    ]


def test_sqlite_asks_sqlite_itself_whether_the_statement_compiles_a_second_time():
    bad = 'CREATE TABLE "odd täble" (a int);\nALTER TABLE users ADD COLUMN city text;\nCREATE INDEX i ON users (name);'
    assert _found("sqlite", bad, "not-rerunnable") == [
        (1, "running it again fails"),
        (2, "running it again fails"),
    ]
    problems = [f.problem for f in lint_sql(bad, "sqlite", transactional=False, prelude=[USERS["sqlite"]])]
    assert any('table "odd täble" already exists' in p or "table odd täble already exists" in p for p in problems)
    good = (
        'CREATE TABLE IF NOT EXISTS "odd täble" (a int);\n'
        "CREATE INDEX IF NOT EXISTS i ON users (name);\n"
        "ALTER TABLE users ADD COLUMN city text;"
    )
    assert _found("sqlite", good, "not-rerunnable") == []
    assert _found("sqlite", bad, "not-rerunnable", transactional=None) == []  # dbshift's default: one transaction


# -- data-change-without-reverse ----------------------------------------------------------------


def _reverse_findings(tmp_path: Path, dialect: str, up: str, down: str | None) -> list[tuple[str, int, str]]:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "20260101000000_users.sql").write_text(
        f'-- migrate:up\n{USERS[dialect]};\nCREATE TABLE "odd täble" (a int);\n'
        "INSERT INTO users (id, name) VALUES (1, 'ann');\n-- migrate:down\nDROP TABLE users;\n",
        encoding="utf-8",
    )
    text = f"-- migrate:up\n{up}\n" + (f"-- migrate:down\n{down}\n" if down is not None else "")
    (folder / "20260102000000_change.sql").write_text(text, encoding="utf-8")
    findings = lint_migrations(discover(folder), dialect)
    return [
        (f.section, f.line, f.problem.split(",")[0])
        for f in findings
        if f.code == "data-change-without-reverse" and f.file.endswith("_change.sql")
    ]


@pytest.mark.parametrize("dialect", list(USERS))
def test_an_update_the_down_does_not_write_back_is_named_in_the_down(tmp_path, dialect):
    up = "ALTER TABLE users ADD COLUMN nick text;\nUPDATE users SET name = upper(name) WHERE id > 0;"
    assert _reverse_findings(tmp_path, dialect, up, "ALTER TABLE users DROP COLUMN nick;") == [
        ("down", 5, "the up's UPDATE on users (line 3)")
    ]
    undone = "UPDATE users SET name = lower(name) WHERE id > 0;\nALTER TABLE users DROP COLUMN nick;"
    assert _reverse_findings(tmp_path, dialect, up, undone) == []


@pytest.mark.parametrize("dialect", list(USERS))
def test_a_backfill_of_a_column_the_up_adds_needs_no_reverse(tmp_path, dialect):
    up = "ALTER TABLE users ADD COLUMN nick text;\nUPDATE users SET nick = name;"
    assert _reverse_findings(tmp_path, dialect, up, "ALTER TABLE users DROP COLUMN nick;") == []


@pytest.mark.parametrize("dialect", list(USERS))
def test_rows_inserted_or_deleted_with_no_down_or_an_empty_one_are_named_in_the_up(tmp_path, dialect):
    quoted = '"odd täble"' if dialect != "mysql" else "`odd täble`"
    up = f"INSERT INTO {quoted} VALUES (7);\nDELETE FROM users WHERE id = 1;"
    expected = [("up", 2, "INSERT on odd täble"), ("up", 3, "DELETE on users")]
    assert _reverse_findings(tmp_path, dialect, up, None) == expected
    assert _reverse_findings(tmp_path, dialect, up, "-- the rows may stay") == expected
    back = f"INSERT INTO users (id, name) VALUES (1, 'ann');\nDELETE FROM {quoted} WHERE a = 7;"
    assert _reverse_findings(tmp_path, dialect, up, back) == []


def test_rows_written_to_a_table_the_up_creates_go_with_it(tmp_path):
    up = "CREATE TABLE tags (a int);\nINSERT INTO tags VALUES (1);"
    assert _reverse_findings(tmp_path, "postgresql", up, "DROP TABLE tags;") == []
    assert _reverse_findings(tmp_path, "postgresql", up, None) == []


# -- values-changed-by-type (live data) ---------------------------------------------------------

TABLE = 'pri"ce täble'
TYPES = {
    "postgresql": ("numeric(10,2)", "varchar(50)", "bigint", "text", "timestamp"),
    "mysql": ("DECIMAL(10,2)", "VARCHAR(50)", "BIGINT", "VARCHAR(20)", "DATETIME"),
}


@pytest.fixture
def live(request):
    """A fresh server database with ``pri"ce täble``: row 1 holds the values no type change keeps,
    row 2 the ones that survive, row 3 only NULLs."""
    from tests.servers.conftest import create_database, drop_database

    from dbshift.dialects import open_database
    from dbshift.urls import parse_url

    base = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    url = create_database(base)
    db = open_database(parse_url(url))
    q = db.quote
    price, name, big, text, at = TYPES[request.param]
    db.execute(
        f"CREATE TABLE {q(TABLE)} (id bigint PRIMARY KEY, {q('the price')} {price}, name {name}, "
        f"big {big}, {q('tëxt')} {text}, at {at} NULL)"
    )
    db.execute(
        f"INSERT INTO {q(TABLE)} VALUES "
        "(1, 19.99, 'abcdefghijk', 2147483648, '12abc', '2024-01-01 10:00:00'), "
        "(2, 20.00, 'abcdefghij', 5, '12', '2024-01-02 00:00:00'), (3, NULL, NULL, NULL, NULL, NULL)"
    )
    if db.dialect == "mysql":
        db.commit()
    yield db
    db.close()
    drop_database(base, url)


def _alter(db, column: str, new_type: str) -> str:
    q = db.quote
    if db.dialect == "postgresql":
        return f"ALTER TABLE {q(TABLE)} ALTER COLUMN {q(column)} TYPE {new_type};"
    return f"ALTER TABLE {q(TABLE)} MODIFY {q(column)} {new_type};"


def _type_findings(db, sql: str) -> list[str]:
    return [f.problem for f in lint_sql(sql, db.dialect, database=db) if f.code == "values-changed-by-type"]


def _rows(db) -> list[tuple]:
    return [tuple(map(str, row)) for row in db.execute(f"SELECT * FROM {db.quote(TABLE)} ORDER BY id")]


@pytest.mark.parametrize("live", ["postgresql"], indirect=True)
def test_postgresql_counts_rounded_cut_and_unconvertible_values_with_their_keys(live):
    before = _rows(live)
    label = 'pri"ce täble'
    assert _type_findings(live, _alter(live, "the price", "integer")) == [
        f"values of {label}.the price numeric(10,2) -> integer that the new type would not keep as they are "
        "(rounded, cut, or too long for it): 1 (id = 1)"
    ]
    [cut] = _type_findings(live, _alter(live, "name", "varchar(10)"))
    assert cut.endswith(": 1 (id = 1)") and "character varying(50) -> varchar(10)" in cut
    [dated] = _type_findings(live, _alter(live, "at", "date"))
    assert dated.endswith(": 1 (id = 1)")
    assert _type_findings(live, _alter(live, "big", "integer")) == [
        f"{label}.big bigint -> integer: the ALTER fails on the live database: integer out of range; "
        "values integer cannot hold: 1 (id = 1)"
    ]
    [fails] = _type_findings(live, _alter(live, "tëxt", "integer"))
    assert fails.startswith(f"{label}.tëxt text -> integer: the ALTER fails on the live database: ")
    assert '"12abc"' in fails
    # a USING that computes the values is the user's conversion: not judged
    custom = f"ALTER TABLE {live.quote(TABLE)} ALTER COLUMN name TYPE varchar(10) USING left(name, 10);"
    assert _type_findings(live, custom) == []
    assert _rows(live) == before  # lint only read


@pytest.mark.parametrize("live", ["mysql"], indirect=True)
def test_mysql_counts_what_strict_mode_refuses_and_loose_mode_silently_changes(live):
    before = _rows(live)
    label = 'pri"ce täble'
    for column, new_type, old in (
        ("the price", "INT", "decimal(10,2)"),
        ("name", "VARCHAR(10)", "varchar(50)"),
        ("big", "INT", "bigint(20)"),
        ("tëxt", "INT", "varchar(20)"),
        ("at", "DATE", "datetime"),
    ):
        [found] = _type_findings(live, _alter(live, column, new_type))
        assert found.startswith(f"values of {label}.{column} {old} -> {new_type} that the new type "), found
        assert ": 1 (id = 1) (strict mode: the ALTER fails on them" in found, found
    # CHANGE renames as it converts: the live values are the old column's
    [renamed] = _type_findings(live, f"ALTER TABLE {live.quote(TABLE)} CHANGE name short_name VARCHAR(10);")
    assert renamed.startswith(f"values of {label}.name varchar(50) -> VARCHAR(10) ") and ": 1 (id = 1)" in renamed
    assert _rows(live) == before


@pytest.mark.parametrize("live", ["postgresql", "mysql"], indirect=True)
def test_a_pair_that_keeps_every_value_reads_no_row(live, monkeypatch):
    live.execute(f"ALTER TABLE {live.quote(TABLE)} ADD COLUMN n {'integer' if live.dialect == 'postgresql' else 'INT'}")
    live.execute(f"UPDATE {live.quote(TABLE)} SET n = 2147483647 WHERE id = 1")
    if live.dialect == "mysql":
        live.commit()
    ran: list[str] = []
    execute = live.execute
    monkeypatch.setattr(live, "execute", lambda sql, params=(): ran.append(sql) or execute(sql, params))
    wider = "bigint" if live.dialect == "postgresql" else "BIGINT"
    assert _type_findings(live, _alter(live, "id", "numeric(30,0)" if live.dialect == "postgresql" else wider)) == []
    assert _type_findings(live, _alter(live, "name", "text" if live.dialect == "postgresql" else "TEXT")) == []
    assert _type_findings(live, _alter(live, "n", wider)) == []  # integer -> bigint
    assert not [sql for sql in ran if live.quote(TABLE) in sql], ran


@pytest.mark.parametrize("live", ["postgresql", "mysql"], indirect=True)
def test_a_big_table_is_counted_on_a_sample_and_the_finding_says_so(live, monkeypatch):
    from dbshift.lint import data

    monkeypatch.setattr(data, "SAMPLE_ROWS", 1)
    [found] = _type_findings(
        live, _alter(live, "name", "varchar(10)" if live.dialect == "postgresql" else "VARCHAR(10)")
    )
    assert "in a sample of 1 rows (the table has more; the rest not checked): 1 (id = 1)" in found


@pytest.mark.parametrize("fresh_server_url", ["postgresql"], indirect=True)
def test_lint_of_a_pending_type_change_names_the_rounded_prices_before_anything_runs(
    fresh_server_url, run_cli, tmp_path
):
    from dbshift import Project

    project = Project.init(tmp_path, fresh_server_url)
    write_migration(
        project,
        20260101000000,
        "items",
        "CREATE TABLE items (id bigint PRIMARY KEY, price numeric(10,2));\n"
        "INSERT INTO items VALUES (1, 19.99), (2, 20.00), (3, NULL);",
        "DROP TABLE items;",
    )
    write_migration(project, 20260102000000, "whole", "ALTER TABLE items ALTER COLUMN price TYPE integer;", "SELECT 1;")
    project.hash()
    assert run_cli("apply", "--to", "20260101000000").returncode == 0
    result = run_cli("lint", "--format", "json")
    assert "Traceback" not in result.output
    found = [f["problem"] for f in json.loads(result.stdout)["findings"] if f["code"] == "values-changed-by-type"]
    assert found == [
        "values of items.price numeric(10,2) -> integer that the new type would not keep as they are "
        "(rounded, cut, or too long for it): 1 (id = 1)"
    ]
    assert result.returncode == 1
    assert json.loads(run_cli("status", "--json").stdout)["current_version"] == 20260101000000
