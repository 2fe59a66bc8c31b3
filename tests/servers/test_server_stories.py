"""The foundation's stories on the real PostgreSQL and MariaDB servers (one fresh database each)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import write_migration
from dbshift.dialects import open_database
from dbshift.errors import ConfigError, DirtyState, MigrationFailed
from dbshift.history import lock_holder
from servers.conftest import query, user_tables

V1, V2, V3 = 20260101090000, 20260102090000, 20260103090000


def spawn_cli(project, *args) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen([sys.executable, "-m", "dbshift", *args], cwd=project.config.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def url_of(project) -> str:
    return project.config.url.raw


def write_shop(project) -> None:
    write_migration(project, V1, "users",
                    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\n"
                    "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob;semicolon');", "DROP TABLE users;")
    write_migration(project, V2, "orders",
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), cents INTEGER);",
                    "DROP TABLE orders;")
    write_migration(project, V3, "orders_index", "CREATE INDEX orders_cents ON orders(cents);",
                    "DROP INDEX orders_cents ON orders;" if project.config.url.dialect == "mysql" else "DROP INDEX orders_cents;")
    project.hash()


def test_apply_status_history_and_rollback(server_project, run_cli):
    write_shop(server_project)
    result = server_project.apply()
    assert [s.migration.version for s in result.steps] == [V1, V2, V3]
    assert user_tables(url_of(server_project)) == ["orders", "users"]
    assert query(url_of(server_project), "SELECT name FROM users ORDER BY id") == [("ada",), ("bob;semicolon",)]
    status = server_project.status()
    assert status.current_version == V3 and not status.pending and not status.dirty
    applied, log = server_project.history()
    assert [a.status for a in applied] == ["applied"] * 3 and [e.action for e in log] == ["apply"] * 3
    assert all(a.applied_by and a.host and a.duration_ms is not None for a in applied)
    cli = run_cli("status", "--json", cwd=server_project.config.root)
    assert cli.returncode == 0 and json.loads(cli.stdout)["current_version"] == V3

    rolled = server_project.rollback(steps=2, force=True)
    assert [s.migration.version for s in rolled.steps] == [V3, V2]
    assert user_tables(url_of(server_project)) == ["users"]
    assert server_project.status().current_version == V1
    assert [e.action for e in server_project.history()[1]][-2:] == ["rollback", "rollback"]
    assert server_project.apply().steps and server_project.status().current_version == V3


def test_a_failing_migration_on_postgresql_leaves_no_trace(pg_url, tmp_path):
    from servers.conftest import make_project

    project = make_project(tmp_path, pg_url)
    write_shop(project)
    project.apply(to=V1)
    write_migration(project, V2, "orders",
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY);\nINSERT INTO users (id, name) VALUES (3, 'eve');\n"
                    "UPDATE users SET name = 'x';\n\nINSERT INTO no_such_table VALUES (1);", "DROP TABLE orders;")
    with pytest.raises(MigrationFailed) as caught:
        project.apply()
    assert "20260102090000_orders.sql:6:" in str(caught.value)
    assert 'relation "no_such_table" does not exist' in str(caught.value) and "rolled back" in caught.value.hint
    assert user_tables(pg_url) == ["users"]
    assert query(pg_url, "SELECT id, name FROM users ORDER BY id") == [(1, "ada"), (2, "bob;semicolon")]
    assert project.status().current_version == V1 and not project.status().dirty
    assert project.history()[1][-1].action == "apply-failed"


def test_a_failing_migration_on_mysql_leaves_a_dirty_state_that_repair_resolves(my_url, tmp_path, run_cli):
    from servers.conftest import make_project

    project = make_project(tmp_path, my_url)
    write_shop(project)
    project.apply(to=V1)
    write_migration(project, V2, "orders",
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);",
                    "DROP TABLE orders;")
    with pytest.raises(MigrationFailed) as caught:
        project.apply()
    assert "20260102090000_orders.sql:3:" in str(caught.value) and "doesn't exist (error 1146)" in str(caught.value)
    assert "outside a transaction" in caught.value.hint and "repair" in caught.value.hint
    assert user_tables(my_url) == ["orders", "users"]  # the CREATE TABLE committed on its own
    assert [a.version for a in project.status().dirty] == [V2]
    cli = run_cli("status", cwd=project.config.root)
    assert cli.returncode != 0 and "dirty" in cli.stdout and "20260102090000_orders" in cli.stdout
    with pytest.raises(DirtyState):
        project.apply()
    assert run_cli("apply", cwd=project.config.root).returncode == 3
    assert project.repair(dirty="applied") == ["marked 20260102090000_orders as applied"]
    assert project.status().current_version == V2 and not project.status().dirty


def test_atomic_apply_is_refused_on_mysql(my_url, tmp_path):
    from servers.conftest import make_project

    project = make_project(tmp_path, my_url)
    write_shop(project)
    with pytest.raises(ConfigError, match="--atomic needs transactional DDL"):
        project.apply(atomic=True)
    assert user_tables(my_url) == [] and project.status().current_version == 0


def test_atomic_apply_on_postgresql_is_all_or_nothing(pg_url, tmp_path):
    from servers.conftest import make_project

    project = make_project(tmp_path, pg_url)
    write_shop(project)
    write_migration(project, 20260104090000, "broken", "CREATE TABLE fine (x int);\nSELECT * FROM missing;")
    with pytest.raises(MigrationFailed, match="20260104090000_broken.sql:3"):
        project.apply(atomic=True)
    assert user_tables(pg_url) == [] and project.status().current_version == 0


def _sleep_sql(project, seconds: float) -> str:
    function = "SLEEP" if project.config.url.dialect == "mysql" else "pg_sleep"
    return f"SELECT {function}({seconds});"


def test_two_concurrent_applies_apply_each_migration_exactly_once(server_project):
    versions = [V1 + index for index in range(1, 6)]
    for index, version in enumerate(versions, 1):
        write_migration(server_project, version, f"step{index}",
                        f"CREATE TABLE t{index} (n INTEGER);\n{_sleep_sql(server_project, 0.2)}\n"
                        f"INSERT INTO t{index} (n) VALUES ({index});", f"DROP TABLE t{index};")
    first, second = spawn_cli(server_project, "apply"), spawn_cli(server_project, "apply")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    applied, log = server_project.history()
    assert [a.version for a in applied] == versions
    assert sorted(e.version for e in log if e.action == "apply") == versions
    assert user_tables(url_of(server_project)) == [f"t{i}" for i in range(1, 6)]


def test_a_held_lock_exits_4_naming_the_holder(server_project):
    write_migration(server_project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;")
    holder = open_database(server_project.config.url)
    try:
        with holder.lock(5, lock_holder()):
            result = spawn_cli(server_project, "apply", "--lock-timeout", "0.3")
            _, stderr = result.communicate(timeout=60)
            if holder.dialect == "postgresql":
                expected = f"pid {os.getpid()} on "
            else:
                expected = f"connection {holder.execute('SELECT CONNECTION_ID()')[0][0]} "
    finally:
        holder.close()
    assert result.returncode == 4, stderr
    assert "lock is held by" in stderr and expected in stderr and "Traceback" not in stderr
    assert server_project.status().current_version == 0 and user_tables(url_of(server_project)) == []


def test_the_lock_is_released_when_the_holder_finishes(server_project):
    write_migration(server_project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;")
    holder = open_database(server_project.config.url)
    try:
        with holder.lock(5, lock_holder()):
            pass
        server_project.config.lock_timeout = 0.5
        assert [s.migration.version for s in server_project.apply().steps] == [V1]
    finally:
        holder.close()


def _wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _kill_halfway(project, table_visible: bool):
    """Start an apply whose migration sleeps halfway, and SIGKILL it there."""
    write_migration(project, V2, "long",
                    f"CREATE TABLE half (x INTEGER);\nINSERT INTO half (x) VALUES (1);\n{_sleep_sql(project, 2)}\n"
                    "CREATE TABLE never (x INTEGER);", "DROP TABLE half;")
    victim = spawn_cli(project, "apply")
    url = url_of(project)
    if table_visible:
        _wait_for(lambda: "half" in user_tables(url))
    else:  # inside the transaction: wait until the server runs the sleep
        _wait_for(lambda: query(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'")[0][0] > 0)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL


def test_a_migration_killed_halfway_on_mysql_leaves_a_dirty_state(my_url, tmp_path, run_cli):
    from servers.conftest import make_project

    project = make_project(tmp_path, my_url)
    write_migration(project, V1, "users", "CREATE TABLE users (id INTEGER PRIMARY KEY);", "DROP TABLE users;")
    project.apply()
    _kill_halfway(project, table_visible=True)
    cli = run_cli("status", cwd=project.config.root)
    assert cli.returncode != 0 and "dirty" in cli.stdout and "20260102090000_long" in cli.stdout
    assert user_tables(my_url) == ["half", "users"]
    repaired = run_cli("repair", "--dirty", "pending", cwd=project.config.root)
    assert repaired.returncode == 0, repaired.output
    assert not project.status().dirty and [m.version for m in project.status().pending] == [V2]
    query(my_url, "DROP TABLE half")
    assert [s.migration.version for s in project.apply().steps] == [V2]
    assert user_tables(my_url) == ["half", "never", "users"]


def test_a_migration_killed_halfway_on_postgresql_leaves_no_trace(pg_url, tmp_path, run_cli):
    from servers.conftest import make_project

    project = make_project(tmp_path, pg_url)
    write_migration(project, V1, "users", "CREATE TABLE users (id INTEGER PRIMARY KEY);", "DROP TABLE users;")
    project.apply()
    _kill_halfway(project, table_visible=False)
    cli = run_cli("status", cwd=project.config.root)
    assert "dirty" not in cli.stdout and user_tables(pg_url) == ["users"]
    status = project.status()
    assert status.current_version == V1 and not status.dirty and [m.version for m in status.pending] == [V2]
    assert [s.migration.version for s in project.apply().steps] == [V2]


def test_create_index_concurrently_in_a_no_transaction_migration(pg_url, tmp_path):
    from servers.conftest import make_project

    project = make_project(tmp_path, pg_url)
    write_migration(project, V1, "users", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
                    "INSERT INTO users SELECT n, 'u' || n FROM generate_series(1, 1000) n;", "DROP TABLE users;")
    write_migration(project, V2, "inline", "CREATE INDEX CONCURRENTLY users_email ON users (email);",
                    "DROP INDEX CONCURRENTLY users_email;")
    with pytest.raises(MigrationFailed, match="cannot run inside a transaction block.*no-transaction"):
        project.apply()
    assert project.status().current_version == V1
    write_migration(project, V2, "inline", "CREATE INDEX CONCURRENTLY users_email ON users (email);",
                    "DROP INDEX CONCURRENTLY users_email;", header="-- no-transaction\n")
    project.hash()
    project.apply()
    assert query(pg_url, "SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1") == [
        ("users_email",), ("users_pkey",)]
    assert query(pg_url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass") == [(True,)]
    project.rollback(force=True)
    assert query(pg_url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_email'") == [(0,)]
    assert project.status().current_version == V1 and not project.status().dirty


def test_statements_with_semicolons_in_strings_bodies_and_comments_run_as_written(server_project):
    if server_project.config.url.dialect == "postgresql":
        body = ("CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE plpgsql AS $fn$\n"
                "BEGIN\n  RETURN x + 1; -- one;\nEND;\n$fn$;\n"
                "CREATE FUNCTION twice(x integer) RETURNS integer LANGUAGE sql\nBEGIN ATOMIC\n  SELECT x * 2;\nEND;\n")
        call = "SELECT add_one(1), twice(2)"
    else:
        body = ("CREATE FUNCTION add_one(x INTEGER) RETURNS INTEGER DETERMINISTIC\nBEGIN\n"
                "  IF x IS NULL THEN RETURN 0; END IF;\n  RETURN x + 1; -- one;\nEND;\n"
                "DELIMITER //\nCREATE FUNCTION twice(x INTEGER) RETURNS INTEGER DETERMINISTIC BEGIN RETURN x * 2; END //\n"
                "DELIMITER ;\n")
        call = "SELECT add_one(1), twice(2)"
    write_migration(server_project, V1, "routines",
                    "CREATE TABLE notes (body VARCHAR(50)); /* a; comment */\n"
                    "INSERT INTO notes (body) VALUES ('a;b'), ('it''s; fine');\n" + body,
                    "DROP FUNCTION twice;\nDROP FUNCTION add_one;\nDROP TABLE notes;")
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
        query(server_url, f'CREATE ROLE "{user}" LOGIN PASSWORD \'{secret}\'')
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
        runs = [run_cli("apply", "-v", cwd=project.config.root), run_cli("status", "--json", cwd=project.config.root),
                run_cli("history", cwd=project.config.root),
                run_cli("--db", url.replace(secret, "wrong"), "status", cwd=project.config.root)]
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
    assert "dump" in cli.stderr and "found on PATH" in cli.stderr and "hint:" in cli.stderr and "Traceback" not in cli.stderr
    assert user_tables(url_of(server_project)) == [] and server_project.status().current_version == 0


def test_an_unreachable_server_is_a_one_line_error(run_cli, tmp_path, server_url):
    from dbshift.urls import parse_url

    parsed = parse_url(server_url)
    url = f"{parsed.scheme}://{parsed.user}@127.0.0.1:1/{parsed.database}"
    cli = run_cli("--db", url, "status", cwd=tmp_path)
    assert cli.returncode == 2 and "cannot connect to" in cli.stderr and "Traceback" not in cli.stderr
