"""The safety net on the real servers: rehearse on a scratch copy, verify against a backup, restore."""

from __future__ import annotations

from conftest import write_migration
from servers.conftest import query, user_tables

V1, V2 = 20260101090000, 20260102090000


def _scratch_databases(url: str) -> int:
    if url.startswith("postgresql"):
        return query(url, "SELECT count(*) FROM pg_database WHERE datname LIKE 'dbshift_scratch%%'")[0][0]
    return query(url, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'dbshift_scratch%%'")[0][0]


def _shop(project):
    write_migration(project, V1, "users", "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n"
                    "INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob');", "DROP TABLE users;")
    project.hash()
    project.apply()


def test_rehearse_runs_on_a_scratch_copy_and_leaves_the_database_alone(server_project):
    _shop(server_project)
    url = server_project.config.url.raw
    before = _scratch_databases(url)
    write_migration(server_project, V2, "phone", "ALTER TABLE users ADD COLUMN phone VARCHAR(20);\n"
                    "UPDATE users SET phone = '555';", "ALTER TABLE users DROP COLUMN phone;")
    server_project.hash()
    rehearsal = server_project.rehearse()
    steps = {s.name: s.outcome for s in rehearsal.steps}
    assert steps["schema equals the original"] == "pass" and steps["data equals the original"] == "pass", rehearsal.as_json()
    assert rehearsal.ok
    assert server_project.status().current_version == V1 and [m.version for m in server_project.status().pending] == [V2]
    assert query(url, "SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_NAME = 'users' AND COLUMN_NAME = 'phone'") == [(0,)]
    assert _scratch_databases(url) == before


def test_rehearse_catches_a_down_that_loses_data(server_project):
    _shop(server_project)
    write_migration(server_project, V2, "wipe", "DELETE FROM users WHERE id = 2;", "SELECT 1;")
    server_project.hash()
    rehearsal = server_project.rehearse()
    steps = {s.name: s for s in rehearsal.steps}
    assert not rehearsal.ok and steps["data equals the original"].outcome == "fail"
    assert "users" in steps["data equals the original"].detail
    assert query(server_project.config.url.raw, "SELECT count(*) FROM users") == [(2,)]


def test_verify_against_a_backup_compares_fingerprints_made_in_the_server(server_project):
    _shop(server_project)
    url = server_project.config.url.raw
    scratch_before = _scratch_databases(url)
    backup = server_project.backup()
    report = server_project.verify(against=backup.path)
    assert report.ok and report.comparison == {"users": "same"} and report.fingerprints["users"].rows == 2
    query(url, "UPDATE users SET name = 'eve' WHERE id = 2")
    report = server_project.verify(against=backup.path)
    assert not report.ok and report.comparison == {"users": "different rows"}
    assert _scratch_databases(url) == scratch_before  # the backup's scratch database was dropped
    assert query(url, "SELECT name FROM users ORDER BY id") == [("ada",), ("eve",)]


def test_restore_brings_back_the_backup_and_keeps_the_current_database(server_project):
    _shop(server_project)
    url = server_project.config.url.raw
    backup = server_project.backup()
    write_migration(server_project, V2, "orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY);\n"
                    "DELETE FROM users WHERE id = 2;", "DROP TABLE orders;")
    server_project.hash()
    server_project.apply()
    assert user_tables(url) == ["orders", "users"]
    result = server_project.restore(backup.path, expect_version=V1)
    assert user_tables(url) == ["users"]
    assert query(url, "SELECT id, name FROM users ORDER BY id") == [(1, "ada"), (2, "bob")]
    assert server_project.status().current_version == V1
    assert result.safety_backup is not None and result.safety_backup.path.exists()
    assert server_project.history()[1][-1].action == "restore"


def wait_until_alone(db, seconds: float = 10.0) -> None:
    """Wait until no other session is connected to ``db``'s database."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        others = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()")[0][0]
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
