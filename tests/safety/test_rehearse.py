"""Stories: rehearse finds what would go wrong, on a copy, and never writes to the real database."""

from __future__ import annotations

import hashlib
import sqlite3

from shop import add, fingerprints, make_shop

LOSSY_REBUILD = """
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                         amount_cents INTEGER NOT NULL, note BLOB, paid INTEGER NOT NULL DEFAULT 0);
INSERT INTO orders_new (id, user_id, amount_cents, note) SELECT id, user_id, amount_cents, note FROM orders WHERE note IS NOT NULL;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_user ON orders(user_id);
"""

REBUILD_BACK = """
CREATE TABLE orders_old (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
                         amount_cents INTEGER NOT NULL, note BLOB);
INSERT INTO orders_old SELECT id, user_id, amount_cents, note FROM orders;
DROP TABLE orders;
ALTER TABLE orders_old RENAME TO orders;
CREATE INDEX orders_user ON orders(user_id);
"""


def _untouched(database):
    """The real database's bytes, its -wal/-journal presence and mtime: a before/after witness."""
    return hashlib.sha256(database.read_bytes()).hexdigest(), database.stat().st_mtime_ns, sorted(
        p.name for p in database.parent.iterdir() if p.name.startswith(database.name))


def test_rehearse_passes_a_good_plan_and_proves_the_copy_comes_back(project, run_cli):
    database = make_shop(project)
    add(project, 20260102090000, "phone", "ALTER TABLE users ADD COLUMN phone TEXT;", "ALTER TABLE users DROP COLUMN phone;")
    add(project, 20260103090000, "paid", LOSSY_REBUILD.replace(" WHERE note IS NOT NULL", ""), REBUILD_BACK)
    witness, before = _untouched(database), fingerprints(project)
    result = run_cli("rehearse")
    assert result.returncode == 0, result.output
    assert "rehearsal passed" in result.stdout
    report = project.rehearse()
    names = [s.name for s in report.steps]
    assert names[:2] == ["copy the database", "fingerprint the original"]
    assert "schema equals the original" in names and "data equals the original" in names
    assert all(s.outcome == "pass" for s in report.steps)
    assert _untouched(database) == witness and fingerprints(project) == before
    assert project.status().current_version == 20260101090000


def test_rehearse_catches_a_migration_that_loses_rows_without_touching_the_real_database(project, run_cli):
    database = make_shop(project, orders=400)
    add(project, 20260102090000, "orders_paid", LOSSY_REBUILD, REBUILD_BACK)
    witness, before = _untouched(database), fingerprints(project)
    result = run_cli("rehearse", "--json")
    assert result.returncode == 1
    report = project.rehearse()
    failed = {s.name: s.detail for s in report.steps if s.outcome == "fail"}
    assert failed["row counts of tables the migrations do not change"] == "orders: 400 -> 320 rows"
    assert "orders: different rows" in failed["data equals the original"]
    assert _untouched(database) == witness and fingerprints(project) == before


def test_a_migration_that_deletes_on_purpose_is_not_a_row_count_failure(project):
    make_shop(project)
    add(project, 20260102090000, "purge", "DELETE FROM orders WHERE note IS NULL;", "SELECT 1;")
    report = project.rehearse()
    row_step = next(s for s in report.steps if s.name.startswith("row counts"))
    assert row_step.outcome == "pass"
    data_step = next(s for s in report.steps if s.name == "data equals the original")
    assert data_step.outcome == "fail"  # its down does not bring the rows back, and rehearse says so


def test_rehearse_catches_a_unique_index_that_fails_only_on_real_data(project, run_cli):
    database = make_shop(project)
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE users SET email = 'same@example.com' WHERE id IN (3, 4)")
    conn.close()
    add(project, 20260102090000, "unique_email", "CREATE UNIQUE INDEX users_email ON users(email);",
        "DROP INDEX users_email;")
    add(project, 20260103090000, "phone", "ALTER TABLE users ADD COLUMN phone TEXT;", "ALTER TABLE users DROP COLUMN phone;")
    witness = _untouched(database)
    result = run_cli("rehearse")
    assert result.returncode == 1
    assert "UNIQUE constraint failed: users.email" in result.stdout
    report = project.rehearse()
    outcomes = {s.name: s.outcome for s in report.steps}
    assert outcomes["apply 20260102090000_unique_email"] == "fail"
    assert outcomes["apply 20260103090000_phone"] == "skipped"
    assert _untouched(database) == witness and project.status().current_version == 20260101090000


def test_user_checks_run_on_the_migrated_copy(project):
    make_shop(project, users=50)
    checks = project.config.root / "checks"
    checks.mkdir()
    (checks / "user_count.sql").write_text("-- expect: 50\nSELECT count(*) FROM users;\n")
    (checks / "no_free_orders.sql").write_text("SELECT id FROM orders WHERE amount_cents <= 0;\n")
    add(project, 20260102090000, "zero_first", "UPDATE orders SET amount_cents = 0 WHERE id = 1;", "SELECT 1;")
    report = project.rehearse()
    outcome = {s.name: (s.outcome, s.detail) for s in report.steps}
    assert outcome["check user_count"] == ("pass", "")
    assert outcome["check no_free_orders"] == ("fail", "1 row(s) found, first: (1,)")
    (checks / "user_count.sql").write_text("-- expect: 51\nSELECT count(*) FROM users;\n")
    outcome = {s.name: (s.outcome, s.detail) for s in project.rehearse().steps}
    assert outcome["check user_count"] == ("fail", "expected 51, got 50")
