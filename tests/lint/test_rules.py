"""Each rule on each dialect it applies to: the risky statement is named, the safe form is not.

Static rules need only the parser (pglast, sqlglot, SQLite's own engine on a schema copy).
"""

from __future__ import annotations

import pytest

from dbshift.lint import LintSettings, all_rules, lint_sql

USERS = {
    "sqlite": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, email TEXT)",
    "postgresql": "CREATE TABLE users (id bigint PRIMARY KEY, name text, phone text, email text)",
    "mysql": "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT, phone TEXT, email TEXT)",
}

#: (dialect, code, bad script, good script, options)
CASES = [
    # destructive and backward-incompatible changes, on every dialect
    *[(d, "drop-table", "DROP TABLE users;", "CREATE TABLE t (a int); DROP TABLE t;", {}) for d in USERS],
    *[
        (d, "drop-column", "ALTER TABLE users DROP COLUMN phone;", "ALTER TABLE users ADD COLUMN city text;", {})
        for d in USERS
    ],
    *[(d, "truncate", "TRUNCATE TABLE users;", "DELETE FROM users WHERE id = 1;", {}) for d in ("postgresql", "mysql")],
    *[(d, "delete-all-rows", "DELETE FROM users;", "DELETE FROM users WHERE name IS NULL;", {}) for d in USERS],
    *[
        (
            d,
            "rename-table",
            "ALTER TABLE users RENAME TO people;",
            "CREATE TABLE t (a int); ALTER TABLE t RENAME TO t2;",
            {},
        )
        for d in USERS
    ],
    *[
        (
            d,
            "rename-column",
            "ALTER TABLE users RENAME COLUMN phone TO mobile;",
            "ALTER TABLE users ADD COLUMN mobile text;",
            {},
        )
        for d in USERS
    ],
    ("postgresql", "drop-schema", "DROP SCHEMA app CASCADE;", "DROP SCHEMA app;", {}),
    ("mysql", "drop-schema", "DROP DATABASE app;", "CREATE DATABASE app2;", {}),
    (
        "postgresql",
        "drop-default",
        "ALTER TABLE users ALTER COLUMN name DROP DEFAULT;",
        "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';",
        {},
    ),
    (
        "mysql",
        "drop-default",
        "ALTER TABLE users ALTER COLUMN name DROP DEFAULT;",
        "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';",
        {},
    ),
    *[
        (
            d,
            "add-not-null-without-default",
            "ALTER TABLE users ADD COLUMN age int NOT NULL;",
            "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;",
            {},
        )
        for d in ("postgresql", "mysql")
    ],
    (
        "sqlite",
        "table-rebuild",
        (
            "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, email TEXT);\n"
            "INSERT INTO users_new SELECT id, name, phone, email FROM users;\nDROP TABLE users;\n"
            "ALTER TABLE users_new RENAME TO users;"
        ),
        "ALTER TABLE users ADD COLUMN city TEXT;",
        {},
    ),
    (
        "sqlite",
        "rebuild-loses-columns",
        (
            "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT, email TEXT);\n"
            "INSERT INTO users_new SELECT id, name, email FROM users;\nDROP TABLE users;\n"
            "ALTER TABLE users_new RENAME TO users;"
        ),
        (
            "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT, phone TEXT, email TEXT);\n"
            "INSERT INTO users_new SELECT id, name, phone, email FROM users;\nDROP TABLE users;\n"
            "ALTER TABLE users_new RENAME TO users;"
        ),
        {},
    ),
    # transactions
    *[
        (
            d,
            "transaction-control",
            "BEGIN;\nALTER TABLE users ADD COLUMN city text;\nCOMMIT;",
            "ALTER TABLE users ADD COLUMN city text;",
            {"transactional": True},
        )
        for d in ("sqlite", "postgresql")
    ],
    *[
        (
            d,
            "uncommitted-transaction",
            "BEGIN;\nUPDATE users SET name = 'x' WHERE id = 1;",
            "BEGIN;\nUPDATE users SET name = 'x' WHERE id = 1;\nCOMMIT;",
            {"transactional": False},
        )
        for d in USERS
    ],
    *[
        (d, "transaction-nesting", "BEGIN;\nBEGIN;\nCOMMIT;", "BEGIN;\nSELECT 1;\nCOMMIT;", {"transactional": False})
        for d in USERS
    ],
    # type choices
    (
        "postgresql",
        "int-key",
        "CREATE TABLE orders (id serial PRIMARY KEY);",
        "CREATE TABLE orders (id bigserial PRIMARY KEY);",
        {},
    ),
    (
        "mysql",
        "int-key",
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY);",
        "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY);",
        {},
    ),
    (
        "postgresql",
        "smallint-key",
        "CREATE TABLE kinds (id smallint PRIMARY KEY);",
        "CREATE TABLE kinds (id bigint PRIMARY KEY);",
        {},
    ),
    (
        "mysql",
        "smallint-key",
        "CREATE TABLE kinds (id TINYINT PRIMARY KEY);",
        "CREATE TABLE kinds (id BIGINT PRIMARY KEY);",
        {},
    ),
    (
        "postgresql",
        "timestamp-without-time-zone",
        "ALTER TABLE users ADD COLUMN seen timestamp;",
        "ALTER TABLE users ADD COLUMN seen timestamptz;",
        {},
    ),
    (
        "postgresql",
        "char-type",
        "ALTER TABLE users ADD COLUMN country char(2);",
        "ALTER TABLE users ADD COLUMN country text;",
        {},
    ),
    (
        "mysql",
        "char-type",
        "ALTER TABLE users ADD COLUMN country CHAR(2);",
        "ALTER TABLE users ADD COLUMN country VARCHAR(2);",
        {},
    ),
    # PostgreSQL locks and rewrites
    (
        "postgresql",
        "index-not-concurrent",
        "CREATE INDEX users_name ON users (name);",
        "CREATE INDEX CONCURRENTLY users_name ON users (name);",
        {"transactional": False},
    ),
    (
        "postgresql",
        "drop-index-not-concurrent",
        "DROP INDEX users_name;",
        "DROP INDEX CONCURRENTLY users_name;",
        {"transactional": False},
    ),
    (
        "postgresql",
        "concurrently-in-transaction",
        "CREATE INDEX CONCURRENTLY users_name ON users (name);",
        "CREATE INDEX CONCURRENTLY users_name ON users (name);",
        {"transactional": True, "good": {"transactional": False}},
    ),
    (
        "postgresql",
        "constraint-not-valid",
        "ALTER TABLE users ADD CONSTRAINT named CHECK (name <> '');",
        "ALTER TABLE users ADD CONSTRAINT named CHECK (name <> '') NOT VALID;",
        {},
    ),
    (
        "postgresql",
        "constraint-not-valid",
        "ALTER TABLE orders ADD CONSTRAINT buyer FOREIGN KEY (user_id) REFERENCES users (id);",
        "ALTER TABLE orders ADD CONSTRAINT buyer FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;",
        {},
    ),
    (
        "postgresql",
        "validate-in-same-transaction",
        "ALTER TABLE users ADD CONSTRAINT named CHECK (name <> '') NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT named;",
        (
            "ALTER TABLE users ADD CONSTRAINT named CHECK (name <> '') NOT VALID;\nCOMMIT;\nBEGIN;\n"
            "ALTER TABLE users VALIDATE CONSTRAINT named;"
        ),
        {"transactional": True},
    ),
    (
        "postgresql",
        "unique-without-index",
        "ALTER TABLE users ADD CONSTRAINT one_email UNIQUE (email);",
        "ALTER TABLE users ADD CONSTRAINT one_email UNIQUE USING INDEX users_email;",
        {},
    ),
    (
        "postgresql",
        "primary-key-without-index",
        "ALTER TABLE items ADD PRIMARY KEY (id);",
        "ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY USING INDEX items_id;",
        {},
    ),
    (
        "postgresql",
        "set-not-null",
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
        "ALTER TABLE users VALIDATE CONSTRAINT name_not_null;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;",
        {},
    ),
    (
        "postgresql",
        "volatile-default",
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();",
        {},
    ),
    (
        "postgresql",
        "stored-generated-column",
        "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS (length(name)) STORED;",
        "CREATE TABLE t (a int, n int GENERATED ALWAYS AS (a + 1) STORED);",
        {},
    ),
    (
        "postgresql",
        "type-change-rewrite",
        "ALTER TABLE users ALTER COLUMN phone TYPE bigint USING phone::bigint;",
        "ALTER TABLE users ALTER COLUMN phone SET DEFAULT '';",
        {},
    ),
    (
        "postgresql",
        "missing-lock-timeout",
        "ALTER TABLE users ADD COLUMN city text;",
        "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN city text;",
        {},
    ),
    # MySQL/MariaDB copies
    (
        "mysql",
        "mysql-table-copy",
        "ALTER TABLE users MODIFY phone BIGINT;",
        "ALTER TABLE users ADD COLUMN city TEXT;",
        {},
    ),
    (
        "mysql",
        "mysql-table-copy",
        "ALTER TABLE users ADD PRIMARY KEY (email);",
        "ALTER TABLE users ADD INDEX by_email (email);",
        {},
    ),
    (
        "mysql",
        "mysql-table-copy",
        "ALTER TABLE users ADD COLUMN city TEXT, ALGORITHM=COPY;",
        "ALTER TABLE users ADD COLUMN city TEXT, ALGORITHM=INSTANT;",
        {},
    ),
    # statements the parser cannot read
    *[
        (d, "not-analysed", "ALTER TABLE users FROBNICATE phone;", "ALTER TABLE users ADD COLUMN city text;", {})
        for d in USERS
    ],
]


def _codes(dialect: str, sql: str, options: dict) -> set[str]:
    transactional = options.get("transactional")
    findings = lint_sql(
        sql,
        dialect,
        transactional=transactional,
        prelude=[USERS[dialect]],
        settings=LintSettings(server_version=options.get("server_version", 16)),
    )
    return {f.code for f in findings}


@pytest.mark.parametrize("dialect, code, bad, good, options", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_the_risky_statement_is_named_and_the_safe_form_is_not(dialect, code, bad, good, options):
    assert code in _codes(dialect, bad, options)
    assert code not in _codes(dialect, good, {**options, **options.get("good", {})})


def test_every_rule_has_a_bad_and_a_good_example_here():
    tested = {case[1] for case in CASES} | {"missing-down", "pending-before-applied"}  # test_lint_cli.py
    tested |= {
        "data-dropped",
        "nulls-block-not-null",
        "duplicates-block-unique",
        "rows-violate-constraint",
    }  # test_data_aware
    tested |= {"not-rerunnable", "data-change-without-reverse", "values-changed-by-type"}  # test_rerun_reverse_types
    tested |= {
        "observed-lock",
        "observed-long-lock",
        "observed-rewrite",
        "observed-failure",
        "observed-not-observable",
    }  # test_observe
    assert set(all_rules()) - tested == set()


def test_a_finding_names_file_line_statement_problem_and_fix():
    sql = "SET lock_timeout = '2s';\n\n-- the old app reads phone\nALTER TABLE users DROP COLUMN phone;\n"
    [finding] = [f for f in lint_sql(sql, "postgresql", file="m.sql", first_line=10) if f.code == "drop-column"]
    assert (finding.file, finding.line, finding.severity) == ("m.sql", 13, "error")
    assert finding.statement == "ALTER TABLE users DROP COLUMN phone;"
    assert "users.phone" in finding.problem and finding.fix


def test_setting_not_null_after_a_validated_check_still_scans_before_postgresql_12():
    sql = "ALTER TABLE users VALIDATE CONSTRAINT n;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;"
    assert "set-not-null" in _codes("postgresql", sql, {"server_version": 11})
    assert "set-not-null" not in _codes("postgresql", sql, {"server_version": 12})


def test_a_constant_default_rewrites_the_table_only_before_postgresql_11():
    sql = "ALTER TABLE users ADD COLUMN active boolean DEFAULT true;"
    assert "volatile-default" in _codes("postgresql", sql, {"server_version": 10})
    assert "volatile-default" not in _codes("postgresql", sql, {"server_version": 11})


def test_changes_to_a_table_created_in_the_same_script_cost_nothing():
    sql = (
        "CREATE TABLE orders (id bigint, user_id bigint, note text);\nCREATE INDEX orders_user ON orders (user_id);\n"
        "ALTER TABLE orders ADD CONSTRAINT buyer FOREIGN KEY (user_id) REFERENCES users (id);\n"
        "ALTER TABLE orders ADD CONSTRAINT one UNIQUE (note);\nALTER TABLE orders DROP COLUMN note;"
    )
    codes = _codes("postgresql", sql, {})
    assert not codes & {"index-not-concurrent", "constraint-not-valid", "unique-without-index", "drop-column"}


def test_unreadable_sql_is_a_finding_and_never_a_crash_on_every_dialect():
    for dialect, users in USERS.items():
        findings = lint_sql("ALTER TABLE ((( users;\nSELECT 1;", dialect, prelude=[users])
        assert [f.line for f in findings if f.code == "not-analysed"] == [1], dialect


def test_a_down_read_after_its_up_does_not_change_what_the_next_migration_starts_from(tmp_path):
    from dbshift.lint import lint_migrations
    from dbshift.migrations import discover

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20260101000000_users.sql").write_text(
        "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, phone TEXT);\n-- migrate:down\nDROP TABLE users;\n"
    )
    (folder / "20260102000000_phone.sql").write_text(
        "-- migrate:up\nALTER TABLE users DROP COLUMN phone;\n-- migrate:down\nALTER TABLE users ADD COLUMN phone TEXT;\n"
    )
    codes = [(f.code, f.file.rsplit("/", 1)[-1]) for f in lint_migrations(discover(folder), "sqlite")]
    assert codes == [("drop-column", "20260102000000_phone.sql")]


def test_linting_two_hundred_sqlite_migrations_reads_each_schema_once_not_over_and_over(tmp_path):
    import time

    from dbshift.lint import lint_migrations
    from dbshift.migrations import discover

    folder = tmp_path / "migrations"
    folder.mkdir()
    for i in range(200):
        (folder / f"20260101{i // 60:02d}{i % 60:02d}00_t{i}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE t{i} (id INTEGER PRIMARY KEY, a TEXT);\nCREATE INDEX t{i}_a ON t{i} (a);\n"
            f"-- migrate:down\nDROP TABLE t{i};\n"
        )
    started = time.perf_counter()
    assert lint_migrations(discover(folder), "sqlite") == []
    assert time.perf_counter() - started < 20  # replaying every earlier migration per file took minutes


def test_an_index_on_a_table_created_in_the_same_migration_needs_no_lock_timeout():
    sql = "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\nCREATE INDEX orders_note ON orders (note);"
    assert "missing-lock-timeout" not in _codes("postgresql", sql, {})
    assert "missing-lock-timeout" in _codes("postgresql", sql + "\nCREATE INDEX users_name ON users (name);", {})
