"""SQLite stories: verify sees what changed; preflight refuses before anything is touched.

The verify and rehearse stories every database shares are in ``tests/stories``.
"""

from __future__ import annotations

import sqlite3

import pytest
from shop import add, fingerprints, make_shop

from dbshift.errors import SafetyRefusal
from dbshift.safety import preflight


def test_fingerprints_ignore_row_order_but_see_any_changed_value(project):
    database = make_shop(project)
    before = fingerprints(project)
    with sqlite3.connect(database) as conn:  # rebuild orders with its rows in reverse order
        conn.executescript(
            "CREATE TABLE o2 AS SELECT * FROM orders ORDER BY id DESC; DELETE FROM orders;"
            "INSERT INTO orders SELECT * FROM o2 ORDER BY id DESC; DROP TABLE o2; VACUUM;"
        )
    conn.close()
    assert fingerprints(project) == before
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE orders SET amount_cents = amount_cents + 1 WHERE id = 77")
    conn.close()
    after = fingerprints(project)
    assert after["orders"][0] == before["orders"][0] and after["orders"][1] != before["orders"][1]
    assert after["users"] == before["users"]


def test_verify_reports_foreign_key_violations(project, run_cli):
    database = make_shop(project)
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO orders (user_id, amount_cents) VALUES (999, 1)")
    conn.close()
    result = run_cli("verify")
    assert result.returncode == 1 and "foreign keys: 1 violation(s), first: orders rowid 401 -> users" in result.stdout


def test_verify_of_a_missing_database_is_a_clear_error(run_cli, project):
    result = run_cli("verify")
    assert result.returncode == 2 and "no database file at" in result.stderr and "Traceback" not in result.output


def test_preflight_refuses_an_apply_when_the_disk_is_too_full(project, monkeypatch):
    database = make_shop(project)
    add(
        project,
        20260102090000,
        "phone",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
        "ALTER TABLE users DROP COLUMN phone;",
        header="-- risky\n",
    )
    before = database.read_bytes()
    size = database.stat().st_size
    monkeypatch.setattr(preflight, "free_bytes", lambda path: size)  # less than backup + rebuild
    with pytest.raises(SafetyRefusal, match="free disk space"):
        project.apply()
    assert database.read_bytes() == before and project.backups() == []
    monkeypatch.setattr(preflight, "free_bytes", lambda path: 10 * size)
    project.apply()
    assert project.status().current_version == 20260102090000


def test_preflight_estimates_the_backup_plus_a_rebuild_of_the_largest_table(project):
    make_shop(project, orders=5000)
    checks = {c.name: c for c in project.preflight()}
    assert checks["database opens"].ok and checks["free disk space"].ok
    assert "rebuild of orders" in checks["free disk space"].detail


def test_preflight_refuses_a_rollback_when_the_backups_folder_is_not_writable(project, tmp_path):
    make_shop(project)
    add(
        project,
        20260102090000,
        "phone",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
        "ALTER TABLE users DROP COLUMN phone;",
    )
    project.apply()
    project.config.backups_dir = tmp_path / "a-file"
    project.config.backups_dir.write_text("not a folder")
    with pytest.raises(SafetyRefusal, match="backups folder writable"):
        project.rollback(force=True)
    assert project.status().current_version == 20260102090000


def test_a_missing_backup_path_is_a_clear_error_for_verify_and_restore(project, run_cli):
    database = make_shop(project)
    before = database.read_bytes()
    for args in (("verify", "--against", "backups/nope.sqlite3"), ("restore", "backups/nope.sqlite3")):
        result = run_cli(*args)
        assert result.returncode == 2, result.output
        assert "no backup file at" in result.stderr and "Traceback" not in result.output
    assert database.read_bytes() == before
