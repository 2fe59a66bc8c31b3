"""SQLite stories: backups are consistent and private; restore checks before it replaces anything.

The backup, restore and verify stories every database shares are in ``tests/stories``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from shop import fingerprints, make_shop

from dbshift import Project
from dbshift.errors import CheckFailed, SafetyRefusal


def test_a_backup_has_a_private_manifest_with_a_masked_url_and_a_matching_sha256(project):
    make_shop(project)
    info = project.backup()
    manifest = json.loads(info.manifest_path.read_text())
    from dbshift.backup import sha256_file

    assert manifest["sha256"] == sha256_file(info.path)
    assert manifest["schema_version"] == 20260101090000
    assert manifest["size"] == info.path.stat().st_size and manifest["page_count"] > 0
    assert manifest["check"] == "full"  # PRAGMA integrity_check
    assert oct(info.path.stat().st_mode & 0o777) == "0o600"
    assert oct(info.manifest_path.stat().st_mode & 0o777) == "0o600"
    assert [b.path for b in project.backups()] == [info.path]


def test_csv_export_of_a_critical_table_has_every_row(project):
    make_shop(project, orders=123)
    info = project.backup(csv_tables=["orders"])
    csv_file = info.path.with_name(info.path.name + ".orders.csv")
    lines = csv_file.read_text().splitlines()
    assert lines[0] == "id,user_id,amount_cents,note" and len(lines) == 124
    assert info.manifest["csv"]["orders"]["rows"] == 123


def test_an_unknown_csv_table_is_refused_before_any_backup(project, run_cli):
    make_shop(project)
    result = run_cli("backup", "--csv", "nope")
    assert result.returncode == 2 and "no table named 'nope'" in result.stderr and "Traceback" not in result.output
    assert project.backups() == []


def test_retention_keeps_the_newest_backups(project):
    make_shop(project)
    project.config.keep_backups = 2
    made = [project.backup(csv_tables=["users"]).path for _ in range(4)]
    assert [b.path for b in project.backups()] == made[-2:]
    assert not made[0].exists() and not made[0].with_name(made[0].name + ".users.csv").exists()


def test_a_corrupted_backup_is_refused_and_the_database_is_untouched(project, run_cli):
    database = make_shop(project)
    info = project.backup()
    data = bytearray(info.path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of a data page
    info.path.write_bytes(bytes(data))
    before = database.read_bytes()
    result = run_cli("restore", str(info.path))
    assert result.returncode == 1 and "does not match the sha256" in result.stderr
    assert "Traceback" not in result.output
    assert database.read_bytes() == before
    assert [p.name for p in database.parent.iterdir() if "dbshift-restore" in p.name] == []
    with pytest.raises(CheckFailed):
        project.restore(info.path, force=True)


def test_a_damaged_backup_without_a_manifest_fails_the_integrity_check(project):
    make_shop(project, orders=3000)
    info = project.backup()
    info.manifest_path.unlink()
    with pytest.raises(SafetyRefusal, match="no readable manifest"):
        project.restore(info.path)
    with open(info.path, "r+b") as handle:  # wreck a page in the middle of the orders table
        handle.seek(4096 * 5)
        handle.write(b"\xff" * 4096)
    with pytest.raises(CheckFailed, match="integrity"):
        project.restore(info.path, force=True)


def test_restore_removes_a_stale_wal_and_keeps_the_replaced_database(project):
    database = make_shop(project)
    info = project.backup()
    before = fingerprints(project)
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("DELETE FROM orders WHERE id > 10")
    conn.commit()
    conn.close()
    wal_writer = sqlite3.connect(database)  # leaves a -wal file with committed frames
    wal_writer.execute("PRAGMA wal_autocheckpoint=0")
    wal_writer.execute("UPDATE users SET name = 'changed'")
    wal_writer.commit()
    result = project.restore(info.path)
    wal_writer.close()
    assert fingerprints(project) == before
    kept = Project(project.config.root, db=f"sqlite:///{result.safety_backup.path}")
    assert fingerprints(kept)["orders"][0] == 10 and oct(result.safety_backup.path.stat().st_mode & 0o777) == "0o600"


WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    n = 0
    deadline = time.time() + float(sys.argv[2])
    while time.time() < deadline:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO orders (user_id, amount_cents) VALUES (1, 100)")
        conn.execute("UPDATE users SET name = name || '' WHERE id = 1")
        conn.execute("COMMIT")
        n += 1
    print(n)
""")


def test_a_backup_taken_while_another_process_writes_is_consistent(project, tmp_path):
    database = make_shop(project, orders=20000)
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TRIGGER count_orders AFTER INSERT ON orders BEGIN "
            "UPDATE users SET email = 'n' || (SELECT count(*) FROM orders) WHERE id = 2; END"
        )
    conn.close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), "4"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    infos = [project.backup() for _ in range(3)]
    written = int(writer.communicate(timeout=60)[0])
    assert writer.returncode == 0 and written > 0
    for info in infos:
        copy = sqlite3.connect(info.path)
        orders = copy.execute("SELECT count(*) FROM orders").fetchone()[0]
        email = copy.execute("SELECT email FROM users WHERE id = 2").fetchone()[0]
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copy.close()
        assert email == f"n{orders}"  # the trigger's write and the insert are in the same snapshot
    assert os.path.getsize(database) > 0
