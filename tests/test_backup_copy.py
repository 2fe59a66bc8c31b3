"""The SQLite backup copy itself: complete and durable, or not there at all."""

from __future__ import annotations

import sqlite3

import pytest

from dbshift.dialects.sqlite import BACKUP_STEP_PAGES, SQLiteDatabase
from dbshift.urls import parse_url


def database_bigger_than_one_step(path) -> SQLiteDatabase:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    conn.executemany("INSERT INTO t (body) VALUES (randomblob(3000))", [()] * (BACKUP_STEP_PAGES + 100))
    conn.commit()
    conn.close()
    return SQLiteDatabase(parse_url(f"sqlite:///{path}"))


def test_an_interrupted_backup_leaves_no_half_written_file(tmp_path):
    db = database_bigger_than_one_step(tmp_path / "app.db")
    destination = tmp_path / "backups" / "copy.sqlite3"

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        db.backup(destination, progress=interrupt)
    assert not destination.exists()
    assert not db.connection.in_transaction
    db.close()


def test_a_finished_backup_holds_every_row(tmp_path):
    db = database_bigger_than_one_step(tmp_path / "app.db")
    destination = tmp_path / "copy.sqlite3"
    seen = []
    db.backup(destination, progress=lambda done, total: seen.append((done, total)))
    db.close()
    copy = sqlite3.connect(destination)
    assert copy.execute("SELECT count(*) FROM t").fetchone() == (BACKUP_STEP_PAGES + 100,)
    assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    copy.close()
    assert len(seen) >= 2 and seen[-1][0] == seen[-1][1]
