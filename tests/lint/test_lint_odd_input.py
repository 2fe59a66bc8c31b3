"""What the lint fuzzers (tests/lint/test_lint_fuzz.py, tests/test_fuzz_cli.py) found, as the
stories of the careless input that found it: each is a not-analysed finding on its line, a
suppression where the docs put it, or a one-line error, never a crash or a finding on the wrong
statement."""

from __future__ import annotations

import json
import sqlite3

import pytest
from tests.conftest import write_migration

from cli_inprocess import is_one_error_with_hint, run_dbshift
from dbshift.lint import lint_sql


def _not_analysed_lines(findings) -> list[int]:
    return [f.line for f in findings if f.code == "not-analysed"]


def test_a_nul_inside_a_sqlite_statement_is_a_not_analysed_finding_on_its_line_and_the_rest_is_read():
    sql = "CREATE TABLE users (id int);\nCREATE TABLE odd (name\x00 text);\nDROP TABLE users;\n"
    findings = lint_sql(sql, "sqlite", first_line=10)
    assert _not_analysed_lines(findings) == [11]
    assert [(f.code, f.line) for f in findings if f.code == "drop-table"] == []  # created in the same script
    assert [f.line for f in lint_sql("SELECT '\x00';\nDROP TABLE t;", "sqlite") if f.code == "not-analysed"] == [1, 2]


@pytest.mark.parametrize(
    "statement",
    [
        # sqlglot raises ValueError ("Cannot convert empty name into var.") on an empty option name
        "CREATE TABLE t (id bigint AUTO_INCREMENT, PRIMARY KEY (id)) ``=100;",
        # ... and TypeError on `DEFAULT SET=`
        "CREATE TABLE users (id bigint NOT NULL) ENGINE=InnoDB DEFAULT  SET=utf8mb4;",
        # trees MySQL rejects, whose parts the readers took for granted
        "CREATE INDEX ON users (name);",
        "ALTER TABLE `users` (`credential`) using HASH;",
    ],
)
def test_a_mysql_statement_sqlglot_stumbles_on_is_not_analysed_and_the_next_one_is_still_read(statement):
    findings = lint_sql(statement + "\nDROP TABLE orders;\n", "mysql", transactional=False)
    assert _not_analysed_lines(findings) == [1]
    assert [f.line for f in findings if f.code == "drop-table"] == [2]


def test_a_well_formed_mysql_index_and_alter_are_still_read_as_before():
    findings = lint_sql("CREATE INDEX i ON users (name);\nALTER TABLE users DROP COLUMN phone;\n", "mysql")
    assert _not_analysed_lines(findings) == []
    assert [f.code for f in findings if f.line == 2] == ["drop-column"]


@pytest.mark.parametrize("statement", ["BEGIN TABLE users DROP COLUMN old;", "BEGIN nonsense;", "COMMIT garbage;"])
def test_a_sqlite_syntax_error_that_starts_like_begin_or_commit_is_not_analysed_not_a_transaction_command(statement):
    sqlite3.connect(":memory:").execute("BEGIN").execute("COMMIT")  # the real ones run
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        sqlite3.connect(":memory:").execute(statement)
    codes = {f.code for f in lint_sql(statement, "sqlite", transactional=True)}
    assert codes == {"not-analysed"}
    assert {f.code for f in lint_sql("BEGIN;", "sqlite", transactional=True)} == {"transaction-control"}


def test_a_suppression_glued_to_its_code_silences_nothing():
    sql = "CREATE TABLE t (id int);\n-- lint:ignoredrop-column glued\nALTER TABLE users DROP COLUMN phone;\n"
    assert [f.line for f in lint_sql(sql, "sqlite") if f.code == "not-analysed"] == [3]
    pg = "-- lint:ignoredrop-column glued\nALTER TABLE users DROP COLUMN phone;\n"
    assert "drop-column" in {f.code for f in lint_sql(pg, "postgresql")}
    spaced = "-- lint:ignore\tdrop-column a tab is a space\nALTER TABLE users DROP COLUMN phone;\n"
    assert "drop-column" not in {f.code for f in lint_sql(spaced, "postgresql")}


def test_findings_and_suppressions_after_a_form_feed_or_line_separator_stay_on_their_lines(project):
    write_migration(project, 20260101000000, "t", "CREATE TABLE t (id INTEGER, v TEXT);", "DROP TABLE t;")
    text = (
        "-- migrate:up\n"
        "-- a page break \x0c and a \u2028 line separator pasted into a comment\n"
        "INSERT INTO t VALUES (1, 'a\u2028b');\n"
        "\n"
        "-- lint:ignore drop-column the column was never read\n"
        "ALTER TABLE t DROP COLUMN v;\n"
        "DELETE FROM t;\n"
        "-- migrate:down\n"
        "ALTER TABLE t ADD COLUMN v TEXT;\n"
    )
    path = project.config.migrations_dir / "20260102000000_odd.sql"
    path.write_text(text, encoding="utf-8")
    result = run_dbshift("-C", str(project.config.root), "lint", "--all", "--format", "json")
    assert result.returncode in (0, 1), result.output
    findings = json.loads(result.stdout)["findings"]
    lines = text.split("\n")
    assert all(1 <= f["line"] <= len(lines) for f in findings)
    assert not [f for f in findings if f["code"] == "drop-column"]  # the suppression sits right above it
    for finding in findings:  # a statement's line is its first line of code (its comments come first)
        if finding["statement"]:
            assert lines[finding["line"] - 1].split()[0] in finding["statement"].split(), finding
    assert {f["code"]: f["line"] for f in findings}.get("delete-all-rows") == 7


def test_a_lint_ignore_in_the_header_silences_a_file_finding_and_every_command_still_reads_the_file(project):
    write_migration(project, 20260101000000, "scratch", "CREATE TABLE scratch (v TEXT);", header="")
    path = project.config.migrations_dir / "20260101000000_scratch.sql"
    root = str(project.config.root)
    assert "missing-down" in run_dbshift("-C", root, "lint", "--all").stdout
    path.write_text("-- lint:ignore missing-down scratch space, dropped by hand\n" + path.read_text())
    result = run_dbshift("-C", root, "lint", "--all")
    assert result.returncode == 0 and "missing-down" not in result.stdout, result.output
    assert run_dbshift("-C", root, "status").returncode == 0
    path.write_text("-- lint:ignore missing-dow typo\n" + path.read_text().split("\n", 1)[1])
    result = run_dbshift("-C", root, "lint", "--all")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "20260101000000_scratch.sql:1: unknown lint rule 'missing-dow'" in result.stderr


def test_a_dialect_other_than_the_databases_is_refused_and_fix_rewrites_nothing(project):
    sql = "CREATE TABLE orders (id INTEGER PRIMARY KEY, cents INTEGER);\nCREATE INDEX orders_cents ON orders (cents);"
    path = write_migration(project, 20260101000000, "orders", sql, "DROP TABLE orders;")
    before = path.read_bytes()
    root = str(project.config.root)
    for argv in (["lint", "--dialect", "postgresql"], ["lint", "--fix", "--dialect", "postgresql"]):
        result = run_dbshift("-C", root, *argv)
        assert result.returncode == 2 and is_one_error_with_hint(result), result.output
        assert "--dialect postgresql, but the database sqlite:///app.db is sqlite" in result.stderr
    assert path.read_bytes() == before  # not rewritten into CREATE INDEX CONCURRENTLY, which SQLite cannot run
    assert run_dbshift("-C", root, "lint", "--dialect", "sqlite", "--all").returncode == 0


def test_a_toml_syntax_error_names_the_file_and_line(project):
    config = project.config.config_file
    config.write_text(config.read_text() + "\n[lint]\ndisable = []\n[lint]\n")
    result = run_dbshift("-C", str(project.config.root), "lint")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    line = len(config.read_text().split("\n")) - 1
    assert f"dbshift.toml:{line}: Cannot declare ('lint',) twice" in result.stderr


@pytest.mark.parametrize(
    "head, newline",
    [
        ("\ufeff", "\n"),  # a BOM, as editors on Windows write it: the no-transaction header went before it
        ("\ufeff", "\r\n"),
        ("-- description: orders by cents\r(a lone carriage return)\n", "\n"),
        ("-- description: a page \x0c break\n", "\n"),
    ],
)
def test_fix_of_a_file_with_a_bom_or_odd_line_ends_writes_a_migration_that_still_loads(tmp_path, head, newline):
    import pglast

    from dbshift.migrations import load_migration

    (tmp_path / "dbshift.toml").write_text('[migrations]\ndir = "migrations"\n')
    (tmp_path / "migrations").mkdir()
    path = tmp_path / "migrations" / "20260102000000_orders.sql"
    body = "-- migrate:up\nCREATE INDEX orders_cents\n  ON orders (cents);\n-- migrate:down\nDROP INDEX orders_cents;\n"
    path.write_bytes((head + body.replace("\n", newline)).encode("utf-8"))
    result = run_dbshift("-C", str(tmp_path), "lint", "--fix", "--dialect", "postgresql")
    assert result.returncode == 0, result.output
    migration = load_migration(path)
    assert not migration.transaction
    assert [s.strip() for s in migration.up_sql.split(";") if s.strip()] == [
        "SET lock_timeout TO '2s'",
        "CREATE INDEX CONCURRENTLY orders_cents ON orders (cents)",
    ]
    pglast.parse_sql(migration.up_sql)
    written = path.read_bytes().decode("utf-8")
    assert head.strip("\ufeff\n") in written  # the comment as it was
    assert written.startswith("\ufeff") == head.startswith("\ufeff")  # the BOM kept (or not added)
    if newline == "\r\n":  # a Windows file stays one: no line of it turned into a bare \n
        assert written.count("\n") == written.count("\r\n") > 5
    else:
        assert "\r\n" not in written


def test_a_cache_edited_by_hand_with_an_unknown_severity_is_not_trusted(project):
    write_migration(project, 20260101000000, "t", "CREATE TABLE t (v TEXT, w TEXT);", "DROP TABLE t;")
    write_migration(project, 20260102000000, "w", "ALTER TABLE t DROP COLUMN w;", "ALTER TABLE t ADD COLUMN w TEXT;")
    root = str(project.config.root)
    first = run_dbshift("-C", root, "lint", "--all", "--format", "json")
    cache = project.config.root / ".dbshift_cache" / "lint.json"
    stored = json.loads(cache.read_text())
    for rows in stored["entries"].values():
        for row in rows:
            row[1] = "fatal"
    cache.write_text(json.dumps(stored))
    for output_format in ("sarif", "github", "json"):
        result = run_dbshift("-C", root, "lint", "--all", "--format", output_format)
        assert result.returncode == 1 and "internal error" not in result.output, result.output
    assert json.loads(result.stdout) == json.loads(first.stdout)  # read again, not taken from the cache


DEEP = {
    "600 nested CASEs": "SELECT " + "CASE WHEN x THEN " * 600 + "1" + " END" * 600 + ";",
    "300 nested subqueries": "DELETE FROM t WHERE id IN "
    + "(SELECT id FROM t WHERE id IN " * 300
    + "(1)"
    + ")" * 300
    + ";",
    "5,000 NOTs": "DELETE FROM t WHERE " + "NOT " * 5000 + "a;",
}


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("what", list(DEEP))
def test_a_statement_nested_deeper_than_python_reads_is_not_analysed_and_the_next_is_read(dialect, what):
    findings = lint_sql(DEEP[what] + "\nDROP TABLE orders;\n", dialect, transactional=False)
    if dialect == "sqlite":  # (its copy of the schema has no table orders: line 2 is not analysed either)
        assert _not_analysed_lines(findings) == [1, 2]
    else:
        assert _not_analysed_lines(findings) == [1]
        assert [f.line for f in findings if f.code == "drop-table"] == [2]
