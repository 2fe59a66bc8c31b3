"""Stories only the servers have: their dump tools, passwords, routines, CONCURRENTLY, template copies.

The stories every database shares (apply, rollback, lock, crash, safety net) are in ``tests/stories``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import write_migration
from dbshift.errors import MigrationFailed
from servers.conftest import query, user_tables

V1, V2, V3 = 20260101090000, 20260102090000, 20260103090000


def url_of(project) -> str:
    return project.config.url.raw


def write_shop(project) -> None:
    write_migration(
        project,
        V1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n"
        "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob;semicolon');",
        "DROP TABLE users;",
    )
    write_migration(
        project,
        V2,
        "orders",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), cents INTEGER);",
        "DROP TABLE orders;",
    )
    write_migration(
        project,
        V3,
        "orders_index",
        "CREATE INDEX orders_cents ON orders(cents);",
        "DROP INDEX orders_cents ON orders;" if project.config.url.dialect == "mysql" else "DROP INDEX orders_cents;",
    )
    project.hash()


def test_create_index_concurrently_in_a_no_transaction_migration(pg_url, tmp_path):
    from servers.conftest import make_project

    project = make_project(tmp_path, pg_url)
    write_migration(
        project,
        V1,
        "users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
        "INSERT INTO users SELECT n, 'u' || n FROM generate_series(1, 1000) n;",
        "DROP TABLE users;",
    )
    write_migration(
        project,
        V2,
        "inline",
        "CREATE INDEX CONCURRENTLY users_email ON users (email);",
        "DROP INDEX CONCURRENTLY users_email;",
    )
    with pytest.raises(MigrationFailed, match="cannot run inside a transaction block.*no-transaction"):
        project.apply()
    assert project.status().current_version == V1
    write_migration(
        project,
        V2,
        "inline",
        "CREATE INDEX CONCURRENTLY users_email ON users (email);",
        "DROP INDEX CONCURRENTLY users_email;",
        header="-- no-transaction\n",
    )
    project.hash()
    project.apply()
    assert query(pg_url, "SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1") == [
        ("users_email",),
        ("users_pkey",),
    ]
    assert query(pg_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass") == [(True,)]
    project.rollback(force=True)
    assert query(pg_url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email'") == [(0,)]
    assert project.status().current_version == V1 and not project.status().dirty


def test_statements_with_semicolons_in_strings_bodies_and_comments_run_as_written(server_project):
    if server_project.config.url.dialect == "postgresql":
        body = (
            "CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE plpgsql AS $fn$\n"
            "BEGIN\n  RETURN x + 1; -- one;\nEND;\n$fn$;\n"
            "CREATE FUNCTION twice(x integer) RETURNS integer LANGUAGE sql\nBEGIN ATOMIC\n  SELECT x * 2;\nEND;\n"
        )
        call = "SELECT add_one(1), twice(2)"
    else:
        body = (
            "CREATE FUNCTION add_one(x INTEGER) RETURNS INTEGER DETERMINISTIC\nBEGIN\n"
            "  IF x IS NULL THEN RETURN 0; END IF;\n  RETURN x + 1; -- one;\nEND;\n"
            "DELIMITER //\nCREATE FUNCTION twice(x INTEGER) RETURNS INTEGER DETERMINISTIC BEGIN RETURN x * 2; END //\n"
            "DELIMITER ;\n"
        )
        call = "SELECT add_one(1), twice(2)"
    write_migration(
        server_project,
        V1,
        "routines",
        "CREATE TABLE notes (body VARCHAR(50)); /* a; comment */\n"
        "INSERT INTO notes (body) VALUES ('a;b'), ('it''s; fine');\n" + body,
        "DROP FUNCTION twice;\nDROP FUNCTION add_one;\nDROP TABLE notes;",
    )
    server_project.apply()
    url = url_of(server_project)
    assert query(url, "SELECT body FROM notes ORDER BY body") == [("a;b",), ("it's; fine",)]
    assert query(url, call) == [(2, 4)]
    server_project.rollback(force=True)
    assert user_tables(url) == []


def test_backups_use_the_servers_tools_and_never_hold_the_password(server_project, tmp_path):
    write_shop(server_project)
    server_project.apply()
    write_migration(server_project, 20260104090000, "drop_orders", "DROP TABLE orders;", header="-- destructive\n")
    result = server_project.apply()
    backup = result.backups[0]
    manifest = json.loads(backup.manifest_path.read_text())
    assert manifest["schema_version"] == V3 and manifest["tables"] >= 2
    text = backup.path.read_bytes()
    if server_project.config.url.dialect == "postgresql":
        assert text.startswith(b"PGDMP")
        listing = subprocess.run(["pg_restore", "--list", str(backup.path)], capture_output=True, text=True).stdout
        assert "TABLE public orders" in listing and "TABLE DATA public users" in listing
    else:
        assert b"CREATE TABLE `orders`" in text and b"bob;semicolon" in text
    assert server_project.history()[0][-1].backup == str(backup.path)


def test_a_password_never_reaches_output_manifests_or_tool_arguments(server_url, tmp_path, run_cli, monkeypatch):
    from dbshift.urls import parse_url
    from servers.conftest import make_project

    secret = "s3cret-Pa55"
    dialect = parse_url(server_url).dialect
    user = f"dbshift_pw_{parse_url(server_url).database[-6:]}"
    database = parse_url(server_url).database
    if dialect == "postgresql":
        query(server_url, f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{secret}'")
        query(server_url, f'GRANT ALL ON DATABASE "{database}" TO "{user}"')
        query(server_url, f'GRANT ALL ON SCHEMA public TO "{user}"')
    else:
        query(server_url, f"CREATE USER '{user}'@'%' IDENTIFIED BY '{secret}'")
        query(server_url, f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{secret}'")
        query(server_url, f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
        query(server_url, f"GRANT ALL ON `{database}`.* TO '{user}'@'localhost'")
    try:
        parsed = parse_url(server_url)
        url = f"{parsed.scheme}://{user}:{secret}@{parsed.host}:{parsed.port}/{database}"
        project = make_project(tmp_path, url)
        write_migration(project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;", header="-- risky\n")
        project.hash()
        runs = [
            run_cli("apply", "-v", cwd=project.config.root),
            run_cli("status", "--json", cwd=project.config.root),
            run_cli("history", cwd=project.config.root),
            run_cli("--db", url.replace(secret, "wrong"), "status", cwd=project.config.root),
        ]
        assert runs[0].returncode == 0, runs[0].output
        assert all(secret not in r.output for r in runs)
        assert f"{user}:***@" in runs[1].stdout
        manifests = list((tmp_path / "backups").glob("*.json"))
        assert manifests and all(secret not in m.read_text() for m in manifests)
        if dialect == "mysql":
            assert "Access denied" in runs[3].stderr and runs[3].returncode == 2
    finally:
        if dialect == "postgresql":
            query(server_url, f'DROP OWNED BY "{user}"')
            query(server_url, f'DROP ROLE "{user}"')
        else:
            query(server_url, f"DROP USER '{user}'@'%'")
            query(server_url, f"DROP USER '{user}'@'localhost'")


def test_a_missing_dump_tool_is_a_clear_error_and_changes_nothing(server_project, run_cli):
    write_migration(server_project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;", header="-- risky\n")
    server_project.hash()
    cli = run_cli("apply", cwd=server_project.config.root, env={"PATH": os.path.dirname(sys.executable)})
    assert cli.returncode == 2, cli.output
    assert (
        "dump" in cli.stderr
        and "found on PATH" in cli.stderr
        and "hint:" in cli.stderr
        and "Traceback" not in cli.stderr
    )
    assert user_tables(url_of(server_project)) == [] and server_project.status().current_version == 0


def test_an_unreachable_server_is_a_one_line_error(run_cli, tmp_path, server_url):
    from dbshift.urls import parse_url

    parsed = parse_url(server_url)
    url = f"{parsed.scheme}://{parsed.user}@127.0.0.1:1/{parsed.database}"
    cli = run_cli("--db", url, "status", cwd=tmp_path)
    assert cli.returncode == 2 and "cannot connect to" in cli.stderr and "Traceback" not in cli.stderr


def wait_until_alone(db, seconds: float = 10.0) -> None:
    """Wait until no other session is connected to ``db``'s database."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        others = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )[0][0]
        if not others:
            return
        time.sleep(0.05)
    raise AssertionError("other sessions stayed connected to the test database")


def test_postgresql_copies_by_template_when_alone_and_by_pg_dump_when_not(pg_url, tmp_path):
    from dbshift.dialects import open_database
    from dbshift.safety.fingerprint import compare, fingerprint_tables
    from dbshift.urls import parse_url

    query(pg_url, "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)")
    query(pg_url, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    db = open_database(parse_url(pg_url))
    try:
        original = fingerprint_tables(db)
        wait_until_alone(db)  # a closed session leaves pg_stat_activity a moment after close()
        for expected in ("template", "pg_dump"):
            other = open_database(parse_url(pg_url)) if expected == "pg_dump" else None
            copy = db.scratch_copy(tmp_path)
            try:
                assert copy.copy_method == expected and compare(original, fingerprint_tables(copy)) == {"t": "same"}
            finally:
                copy.close()
                if other is not None:
                    other.close()
        assert db.execute("SELECT count(*) FROM t") == [(2,)]  # the connection came back
    finally:
        db.close()
