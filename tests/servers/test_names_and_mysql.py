"""Names follow each server's rule, and MySQL/MariaDB changes a user hits, on the real servers.

PostgreSQL keeps every name as stored ("Users" and users are two tables); MySQL/MariaDB ignores
case in column and index names and, with lower_case_table_names=0 (Linux), not in table names.
Each story drafts a migration with ``project.diff`` from the migrations to schema.sql, applies it
and rolls it back, and checks the live database (rows included) at each step.
"""

from __future__ import annotations

import pytest

from servers.conftest import project_with, query, user_tables


def draft_and_apply(project, desired_sql: str, **options):
    """Write schema.sql, draft the migration into migrations/, apply it; the draft."""
    (project.config.root / "schema.sql").write_text(desired_sql)
    draft = project.diff(name="change", **options)
    assert not draft.empty
    project.apply()
    return draft


def columns_of(url: str, table: str) -> list[str]:
    """Column names of ``table`` in table order, as the server stores them."""
    if url.startswith("postgresql"):
        sql = (
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum"
        )
        return [r[0] for r in query(url, sql, ('"' + table.replace('"', '""') + '"',))]
    sql = (
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
        "ORDER BY ORDINAL_POSITION"
    )
    return [r[0] for r in query(url, sql, (table,))]


# -- PostgreSQL: every name as stored ---------------------------------------------------------------
def test_a_table_named_Users_and_one_named_users_are_two_tables_on_postgresql(tmp_path, pg_url):
    project = project_with(
        tmp_path, pg_url, "CREATE TABLE users (id int PRIMARY KEY, name text);\nINSERT INTO users VALUES (1, 'ada');"
    )
    draft = draft_and_apply(
        project,
        'CREATE TABLE users (id int PRIMARY KEY, name text);\nCREATE TABLE "Users" (id int PRIMARY KEY, login text);',
    )
    assert [op.description for op in draft.plan.operations] == ["create table Users"]
    assert user_tables(pg_url) == ["Users", "users"]
    assert query(pg_url, "SELECT id, name FROM users") == [(1, "ada")]
    project.rollback(steps=1, force=True)
    assert user_tables(pg_url) == ["users"]
    assert query(pg_url, "SELECT id, name FROM users") == [(1, "ada")]


def test_dropping_the_quoted_table_keeps_the_unquoted_one_and_its_rows_on_postgresql(tmp_path, pg_url):
    project = project_with(
        tmp_path, pg_url, 'CREATE TABLE users (id int);\nCREATE TABLE "Users" (id int);\nINSERT INTO users VALUES (7);'
    )
    draft = draft_and_apply(project, "CREATE TABLE users (id int);")
    assert [op.description for op in draft.plan.operations] == ["drop table Users"]
    assert draft.plan.destructive
    assert user_tables(pg_url) == ["users"]
    assert query(pg_url, "SELECT id FROM users") == [(7,)]


def test_a_column_named_Name_next_to_name_is_a_new_column_on_postgresql(tmp_path, pg_url):
    project = project_with(
        tmp_path, pg_url, "CREATE TABLE users (id int, name text);\nINSERT INTO users VALUES (1, 'ada');"
    )
    draft = draft_and_apply(project, "CREATE TABLE users (id int, name text, \"Name\" text NOT NULL DEFAULT '?');")
    assert not draft.plan.destructive
    assert columns_of(pg_url, "users") == ["id", "name", "Name"]
    assert query(pg_url, 'SELECT name, "Name" FROM users') == [("ada", "?")]
    project.rollback(steps=1, force=True)
    assert columns_of(pg_url, "users") == ["id", "name"]
    assert query(pg_url, "SELECT name FROM users") == [("ada",)]


def test_a_rename_hint_spelled_exactly_picks_the_quoted_column_on_postgresql(tmp_path, pg_url):
    project = project_with(
        tmp_path, pg_url, "CREATE TABLE users (id int, \"UserName\" text);\nINSERT INTO users VALUES (1, 'ada');"
    )
    draft = draft_and_apply(project, "CREATE TABLE users (id int, username text);", renames=["users.UserName=username"])
    assert draft.diff.column_renames == {("users", "UserName"): "username"}
    assert query(pg_url, "SELECT username FROM users") == [("ada",)]
    project.rollback(steps=1, force=True)
    assert query(pg_url, 'SELECT "UserName" FROM users') == [("ada",)]


# -- MySQL/MariaDB: columns and indexes ignore case, tables do not ---------------------------------------
def test_renaming_a_mysql_column_only_by_case_is_a_rename_not_a_drop(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE users (id int PRIMARY KEY, Name varchar(100));\nINSERT INTO users VALUES (1, 'ada');",
    )
    draft = draft_and_apply(project, "CREATE TABLE users (id int PRIMARY KEY, name varchar(100));")
    assert "RENAME COLUMN `Name` TO `name`" in draft.plan.up_sql()
    assert not draft.plan.destructive
    assert columns_of(my_url, "users") == ["id", "name"]
    assert query(my_url, "SELECT id, name FROM users") == [(1, "ada")]
    project.rollback(steps=1, force=True)
    assert columns_of(my_url, "users") == ["id", "Name"]
    assert query(my_url, "SELECT id, Name FROM users") == [(1, "ada")]


def test_two_mysql_tables_may_each_have_an_index_of_one_name(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE a (id int, created int, KEY idx_created (created));\n"
        "CREATE TABLE b (id int, created int, KEY idx_created (created));",
    )
    draft_and_apply(
        project,
        "CREATE TABLE a (id int, created int, KEY idx_created (created, id));\n"
        "CREATE TABLE b (id int, created int, KEY idx_created (created));",
    )
    index_columns = (
        "SELECT TABLE_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'idx_created' GROUP BY TABLE_NAME ORDER BY 1"
    )
    assert query(my_url, index_columns) == [("a", "created,id"), ("b", "created")]
    project.rollback(steps=1, force=True)
    assert query(my_url, index_columns) == [("a", "created"), ("b", "created")]


def test_tables_Users_and_users_are_two_tables_on_mysql_with_case_sensitive_table_names(tmp_path, my_url):
    if query(my_url, "SELECT @@lower_case_table_names")[0][0] != 0:
        pytest.skip("this server folds table names (lower_case_table_names != 0)")
    project = project_with(tmp_path, my_url, "CREATE TABLE users (id int);\nINSERT INTO users VALUES (7);")
    draft = draft_and_apply(project, "CREATE TABLE users (id int);\nCREATE TABLE Users (id int, login text);")
    assert [op.description for op in draft.plan.operations] == ["create table Users"]
    assert user_tables(my_url) == ["Users", "users"]
    assert query(my_url, "SELECT id FROM users") == [(7,)]
    project.rollback(steps=1, force=True)
    assert user_tables(my_url) == ["users"]


def rejects(url: str, sql: str) -> bool:
    """Whether the server refuses ``sql`` (a CHECK violation, say)."""
    from dbshift.dialects import open_database
    from dbshift.urls import parse_url

    db = open_database(parse_url(url))
    try:
        db.execute(sql)
        return False
    except Exception as exc:  # noqa: BLE001 - any driver error is a refusal
        if not db.is_driver_error(exc):
            raise
        return True
    finally:
        db.close()


# -- MySQL/MariaDB: what a user hits ---------------------------------------------------------------
def test_changing_a_json_columns_default_on_mariadb_keeps_its_json_validation(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE docs (id int PRIMARY KEY, body JSON);\nINSERT INTO docs VALUES (1, '{\"a\": 1}');",
    )
    draft_and_apply(project, "CREATE TABLE docs (id int PRIMARY KEY, body JSON DEFAULT '[]');")
    assert rejects(my_url, "INSERT INTO docs VALUES (2, 'not json')")
    assert query(my_url, "INSERT INTO docs (id) VALUES (3)") == [] and query(
        my_url, "SELECT body FROM docs WHERE id = 3"
    ) == [("[]",)]
    project.rollback(steps=1, force=True)
    assert rejects(my_url, "INSERT INTO docs VALUES (4, 'not json')")
    assert query(my_url, "SELECT id FROM docs ORDER BY id") == [(1,), (3,)]


def test_a_tables_row_format_and_key_block_size_are_created_and_reset_on_mysql(tmp_path, my_url):
    options = (
        "SELECT TABLE_NAME, CREATE_OPTIONS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'log%%' ORDER BY 1"
    )
    project = project_with(tmp_path, my_url, "CREATE TABLE log (id int) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8;")
    draft_and_apply(
        project, "CREATE TABLE log (id int);\nCREATE TABLE log_archive (id int) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4;"
    )
    assert query(my_url, options) == [("log", ""), ("log_archive", "row_format=COMPRESSED key_block_size=4")]
    project.rollback(steps=1, force=True)
    assert query(my_url, options) == [("log", "row_format=COMPRESSED key_block_size=8")]


def indexes_of(url: str, table: str) -> list[tuple[str, str]]:
    """(index name, its columns) of ``table``, sorted."""
    return query(
        url,
        "SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s GROUP BY INDEX_NAME ORDER BY 1",
        (table,),
    )


def foreign_keys_of(url: str, table: str) -> list[tuple[str, str, str]]:
    """(constraint name, column, referenced table) of ``table``'s foreign keys, sorted."""
    return query(
        url,
        "SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY 1, ORDINAL_POSITION",
        (table,),
    )


AUTHORS_AND_BOOKS = (
    "CREATE TABLE authors (id int PRIMARY KEY);\n"
    "CREATE TABLE books (id int PRIMARY KEY, author_id int, title varchar(50), "
    "FOREIGN KEY (author_id) REFERENCES authors (id));\n"
    "INSERT INTO authors VALUES (1);\nINSERT INTO books VALUES (10, 1, 'Emma');"
)


def test_replacing_the_index_a_mysql_foreign_key_uses_is_one_step(tmp_path, my_url):
    project = project_with(tmp_path, my_url, AUTHORS_AND_BOOKS)
    assert indexes_of(my_url, "books") == [("author_id", "author_id"), ("PRIMARY", "id")]
    draft = draft_and_apply(
        project,
        "CREATE TABLE authors (id int PRIMARY KEY);\n"
        "CREATE TABLE books (id int PRIMARY KEY, author_id int, title varchar(50), "
        "FOREIGN KEY (author_id) REFERENCES authors (id), KEY by_author (author_id, title));",
    )
    assert [op.description for op in draft.plan.operations] == ["drop index author_id, create index by_author on books"]
    assert indexes_of(my_url, "books") == [("by_author", "author_id,title"), ("PRIMARY", "id")]
    project.rollback(steps=1, force=True)
    assert indexes_of(my_url, "books") == [("author_id", "author_id"), ("PRIMARY", "id")]
    assert query(my_url, "SELECT id, author_id, title FROM books") == [(10, 1, "Emma")]


def test_pointing_an_unnamed_mysql_foreign_key_elsewhere_keeps_its_index(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        AUTHORS_AND_BOOKS + "\nCREATE TABLE editors (id int PRIMARY KEY);\nINSERT INTO editors VALUES (1);",
    )
    draft_and_apply(
        project,
        "CREATE TABLE authors (id int PRIMARY KEY);\nCREATE TABLE editors (id int PRIMARY KEY);\n"
        "CREATE TABLE books (id int PRIMARY KEY, author_id int, title varchar(50), "
        "FOREIGN KEY (author_id) REFERENCES editors (id));",
    )
    assert foreign_keys_of(my_url, "books") == [("books_ibfk_1", "author_id", "editors")]
    assert indexes_of(my_url, "books") == [("author_id", "author_id"), ("PRIMARY", "id")]
    assert project.diff().empty  # nothing left to do: the next diff does not churn the index
    project.rollback(steps=1, force=True)
    assert foreign_keys_of(my_url, "books") == [("books_ibfk_1", "author_id", "authors")]
    assert indexes_of(my_url, "books") == [("author_id", "author_id"), ("PRIMARY", "id")]


def test_a_mysql_primary_key_referenced_by_another_table_can_change(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE items (item_id int PRIMARY KEY, supplier_id int);\n"
        "CREATE TABLE prices (id int PRIMARY KEY, item_id int, "
        "CONSTRAINT prices_item FOREIGN KEY (item_id) REFERENCES items (item_id));\n"
        "INSERT INTO items VALUES (1, 7);\nINSERT INTO prices VALUES (100, 1);",
    )
    draft_and_apply(
        project,
        "CREATE TABLE items (item_id int NOT NULL, supplier_id int NOT NULL, "
        "PRIMARY KEY (supplier_id, item_id));\n"
        "CREATE TABLE prices (id int PRIMARY KEY, item_id int, supplier_id int, "
        "CONSTRAINT prices_item FOREIGN KEY (supplier_id, item_id) REFERENCES items (supplier_id, item_id));",
        defaults=["prices.supplier_id=7"],
    )
    assert foreign_keys_of(my_url, "prices") == [
        ("prices_item", "supplier_id", "items"),
        ("prices_item", "item_id", "items"),
    ]
    assert query(my_url, "SELECT id, item_id, supplier_id FROM prices") == [(100, 1, 7)]
    project.rollback(steps=1, force=True)
    assert foreign_keys_of(my_url, "prices") == [("prices_item", "item_id", "items")]
    assert query(my_url, "SELECT item_id, supplier_id FROM items") == [(1, 7)]


def test_dropping_a_table_whose_foreign_key_holds_a_column_the_diff_drops_on_mysql(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE users (id int PRIMARY KEY);\n"
        "CREATE TABLE taggings (user_id int NOT NULL, tag text, "
        "FOREIGN KEY (user_id) REFERENCES users (id));",
    )
    draft = draft_and_apply(project, "CREATE TABLE users (user_id int PRIMARY KEY, name text);")
    assert draft.plan.destructive
    assert user_tables(my_url) == ["users"] and columns_of(my_url, "users") == ["user_id", "name"]
    project.rollback(steps=1, force=True)
    assert user_tables(my_url) == ["taggings", "users"]
    assert foreign_keys_of(my_url, "taggings") == [("taggings_ibfk_1", "user_id", "users")]


def test_reordering_columns_in_schema_sql_reorders_them_on_mysql_keeping_the_rows(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE users (id int PRIMARY KEY, name varchar(40), "
        "nickname varchar(20), created_at datetime);\n"
        "INSERT INTO users VALUES (1, 'Ada Lovelace', 'ada', '2026-01-01');",
    )
    draft = draft_and_apply(
        project, "CREATE TABLE users (id int PRIMARY KEY, nickname varchar(20), name varchar(40), created_at datetime);"
    )
    assert not draft.plan.destructive and "MODIFY COLUMN" in draft.plan.up_sql()
    assert columns_of(my_url, "users") == ["id", "nickname", "name", "created_at"]
    assert query(my_url, "SELECT nickname, name FROM users") == [("ada", "Ada Lovelace")]
    project.rollback(steps=1, force=True)
    assert columns_of(my_url, "users") == ["id", "name", "nickname", "created_at"]


# -- views with INSTEAD OF triggers ------------------------------------------------------------------
VIEW_WITH_TRIGGER = {
    "postgresql": (
        "CREATE TABLE notes (body text, created date);\n"
        "CREATE FUNCTION add_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO notes (body) VALUES (NEW.body); RETURN NEW; END $$;\n"
        "CREATE VIEW recent AS SELECT {columns} FROM notes;\n"
        "CREATE TRIGGER add_recent INSTEAD OF INSERT ON recent FOR EACH ROW EXECUTE FUNCTION add_note();"
    ),
    "sqlite": (
        "CREATE TABLE notes (body text, created date);\n"
        "CREATE VIEW recent AS SELECT {columns} FROM notes;\n"
        "CREATE TRIGGER add_recent INSTEAD OF INSERT ON recent BEGIN "
        "INSERT INTO notes (body) VALUES (NEW.body); END;"
    ),
}


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_redefining_a_view_keeps_its_instead_of_trigger(tmp_path, dialect, request):
    url = request.getfixturevalue("pg_url") if dialect == "postgresql" else f"sqlite:///{tmp_path / 'app.db'}"
    sql = VIEW_WITH_TRIGGER[dialect]
    project = project_with(tmp_path, url, sql.format(columns="body"))
    draft = draft_and_apply(project, sql.format(columns="body, created"))
    assert [op.description for op in draft.plan.operations][-1] == "create trigger add_recent"
    query(url, "INSERT INTO recent (body) VALUES ('kept')")
    assert query(url, "SELECT body FROM notes") == [("kept",)]
    project.rollback(steps=1, force=True)
    query(url, "INSERT INTO recent (body) VALUES ('again')")
    assert query(url, "SELECT body FROM notes ORDER BY body") == [("again",), ("kept",)]


def test_renaming_a_mysql_table_and_dropping_one_of_its_indexes_does_both(tmp_path, my_url):
    project = project_with(
        tmp_path,
        my_url,
        "CREATE TABLE people (id int PRIMARY KEY, email varchar(80), "
        "KEY by_email (email));\nINSERT INTO people VALUES (1, 'a@b.c');",
    )
    draft_and_apply(
        project, "CREATE TABLE persons (id int PRIMARY KEY, email varchar(80));", renames=["people=persons"]
    )
    assert user_tables(my_url) == ["persons"]
    assert indexes_of(my_url, "persons") == [("PRIMARY", "id")]
    project.rollback(steps=1, force=True)
    assert indexes_of(my_url, "people") == [("by_email", "email"), ("PRIMARY", "id")]
    assert query(my_url, "SELECT id, email FROM people") == [(1, "a@b.c")]


def test_renaming_a_sqlite_column_only_by_case_is_a_rename_in_place(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    project = project_with(
        tmp_path, url, "CREATE TABLE users (id integer PRIMARY KEY, Name text);\nINSERT INTO users VALUES (1, 'ada');"
    )
    draft = draft_and_apply(project, "CREATE TABLE users (id integer PRIMARY KEY, name text);")
    assert draft.plan.up_statements() == ['ALTER TABLE "users" RENAME COLUMN "Name" TO "name"']
    assert query(url, "SELECT name FROM pragma_table_info('users') ORDER BY cid") == [("id",), ("name",)]
    project.rollback(steps=1, force=True)
    assert query(url, "SELECT name FROM pragma_table_info('users') ORDER BY cid") == [("id",), ("Name",)]
    assert query(url, "SELECT id, Name FROM users") == [(1, "ada")]


def test_a_mysql_server_comparing_table_names_ignoring_case_matches_Users_with_users():
    """``lower_case_table_names=2`` (macOS) cannot be set on this server: the inspector's flag, diffed and planned."""
    from dbshift.drafting.draft import draft_schemas
    from dbshift.schema.model import Column, Schema, Table

    def schema(name: str, column: str) -> Schema:
        return Schema.build(
            [Table(name, (Column("id", "INT(11)"), Column(column, "TEXT")))],
            dialect="mysql",
            options={"flavour": "mariadb", "table_names": "case-insensitive"},
        )

    draft = draft_schemas(schema("Users", "Name"), schema("users", "name"), "mysql")
    assert draft.plan.up_statements() == ["ALTER TABLE `Users` RENAME COLUMN `Name` TO `name`"]
    assert draft_schemas(schema("Users", "name"), schema("users", "name"), "mysql").empty


def test_a_mysql_schema_file_may_create_a_table_before_the_table_it_references(tmp_path, my_url):
    project = project_with(tmp_path, my_url, "CREATE TABLE users (id INT PRIMARY KEY);\nINSERT INTO users VALUES (1);")
    draft_and_apply(
        project,
        "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, "
        "FOREIGN KEY (user_id) REFERENCES users (id));\n"
        "CREATE TABLE users (id INT PRIMARY KEY);",
    )
    assert user_tables(my_url) == ["orders", "users"]
    assert query(
        my_url,
        "SELECT REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders' AND REFERENCED_TABLE_NAME IS NOT NULL",
    ) == [("users",)]
