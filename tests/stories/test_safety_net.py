"""Stories about the safety net (backup, restore, verify, rehearse, rollback plan, records) on every database."""

from __future__ import annotations

import json

import pytest

from dbshift.errors import MigrationFailed
from stories.db import V_SHOP, add, dialect_of, fingerprints, make_shop, rows, schema, tables, witness

V2, V3 = 20260102090000, 20260103090000

LOSSY_REBUILD = """
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, amount_cents INTEGER NOT NULL,
                         note VARCHAR(20), paid INTEGER NOT NULL DEFAULT 0, FOREIGN KEY (user_id) REFERENCES users (id));
INSERT INTO orders_new (id, user_id, amount_cents, note) SELECT id, user_id, amount_cents, note FROM orders WHERE note IS NOT NULL;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX orders_user ON orders (user_id);
"""

REBUILD_BACK = """
CREATE TABLE orders_old (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, amount_cents INTEGER NOT NULL,
                         note VARCHAR(20), FOREIGN KEY (user_id) REFERENCES users (id));
INSERT INTO orders_old SELECT id, user_id, amount_cents, note FROM orders;
DROP TABLE orders;
ALTER TABLE orders_old RENAME TO orders;
CREATE INDEX orders_user ON orders (user_id);
"""

#: What each database says when a unique index meets duplicate emails.
DUPLICATE_EMAIL = {
    "sqlite": "UNIQUE constraint failed: users.email",
    "postgresql": 'could not create unique index "users_email"',
    "mysql": "Duplicate entry 'same@example.com' for key 'users_email'",
}


def test_restore_after_a_failed_migration_gives_back_identical_fingerprints(project):
    make_shop(project)
    before = fingerprints(project)
    # Outside a transaction the first statement stays when the second fails: a dirty database.
    add(
        project,
        V2,
        "reprice",
        "UPDATE orders SET amount_cents = 0;\nINSERT INTO nowhere VALUES (1);",
        "SELECT 1;",
        header="-- risky\n-- no-transaction\n",
    )
    with pytest.raises(MigrationFailed):
        project.apply()
    assert fingerprints(project) != before and project.status().dirty
    backup = project.backups()[-1]
    assert backup.manifest["reason"] == f"before-{V2}"
    result = project.restore(backup.path)
    assert fingerprints(project) == before
    assert project.status().dirty == [] and project.status().current_version == V_SHOP
    assert result.safety_backup.path.exists()
    log = project.history()[1]
    assert log[-1].action == "restore" and str(backup.path) in log[-1].detail


def test_restore_refuses_a_backup_of_another_schema_version_unless_told(project, run_cli):
    make_shop(project)
    info = project.backup()
    add(project, V2, "coupons", "CREATE TABLE coupons (code VARCHAR(20) PRIMARY KEY);", "DROP TABLE coupons;")
    project.apply()
    refused = run_cli("restore", str(info.path), cwd=project.config.root)
    assert refused.returncode == 3, refused.output
    assert f"schema version {V_SHOP}, not the expected {V2}" in refused.stderr
    assert project.status().current_version == V2 and "coupons" in tables(project)
    done = run_cli("restore", str(info.path), "--expect-version", str(V_SHOP), cwd=project.config.root)
    assert done.returncode == 0, done.output
    assert project.status().current_version == V_SHOP and tables(project) == ["orders", "users"]


def test_verify_against_a_backup_names_tables_with_different_rows_or_schema(project, run_cli):
    make_shop(project)
    info = project.backup()
    assert set(project.verify(against=info.path).comparison.values()) == {"same"}
    rows(project, "DELETE FROM orders WHERE id = 3")
    rows(project, "ALTER TABLE users ADD COLUMN phone VARCHAR(20)")
    rows(project, "CREATE TABLE extra (x INTEGER)")
    result = run_cli("verify", "--against", str(info.path), "--json", cwd=project.config.root)
    assert result.returncode == 1, result.output
    report = json.loads(result.stdout)
    assert report["comparison"] == {
        "extra": "only in the database",
        "orders": "different rows",
        "users": "different schema",
    }
    assert report["integrity"] == "ok" and report["foreign_keys"] == "ok"


def test_rehearse_passes_a_good_plan_on_a_copy_and_leaves_the_real_database_alone(project, run_cli):
    make_shop(project)
    add(
        project,
        V2,
        "phone",
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);\nUPDATE users SET phone = '555';",
        "ALTER TABLE users DROP COLUMN phone;",
    )
    before = witness(project)
    result = run_cli("rehearse", "--json", cwd=project.config.root)
    assert result.returncode == 0, result.output
    steps = json.loads(result.stdout)["steps"]
    names = [s["step"] for s in steps]
    assert names[:2] == ["copy the database", "fingerprint the original"]
    assert "schema equals the original" in names and "data equals the original" in names
    assert all(s["outcome"] == "pass" for s in steps), steps
    assert witness(project) == before
    assert project.status().current_version == V_SHOP and "phone" not in dict(schema(project))["users"]


def test_rehearse_catches_a_migration_that_loses_rows_without_touching_the_real_database(project, run_cli):
    make_shop(project, orders=400)
    add(project, V2, "orders_paid", LOSSY_REBUILD, REBUILD_BACK)
    before = witness(project)
    result = run_cli("rehearse", "--json", cwd=project.config.root)
    assert result.returncode == 1, result.output
    failed = {s["step"]: s["detail"] for s in json.loads(result.stdout)["steps"] if s["outcome"] == "fail"}
    assert failed["row counts of tables the migrations do not change"] == "orders: 400 -> 320 rows"
    assert failed["data equals the original"].startswith("orders: different")
    assert witness(project) == before


def test_a_migration_that_deletes_on_purpose_is_not_a_row_count_failure(project):
    make_shop(project)
    add(project, V2, "purge", "DELETE FROM orders WHERE note IS NULL;", "SELECT 1;")
    outcome = {s.name: s.outcome for s in project.rehearse().steps}
    assert outcome["row counts of tables the migrations do not change"] == "pass"
    assert outcome["data equals the original"] == "fail"  # its down does not bring the rows back, and rehearse says so


def test_rehearse_catches_a_unique_index_that_fails_only_on_real_data(project, run_cli):
    make_shop(project)
    rows(project, "UPDATE users SET email = 'same@example.com' WHERE id IN (3, 4)")
    add(
        project,
        V2,
        "unique_email",
        "CREATE UNIQUE INDEX users_email ON users (email);",
        "DROP INDEX users_email ON users;" if dialect_of(project) == "mysql" else "DROP INDEX users_email;",
    )
    add(project, V3, "phone", "ALTER TABLE users ADD COLUMN phone VARCHAR(20);", "ALTER TABLE users DROP COLUMN phone;")
    before = witness(project)
    result = run_cli("rehearse", "--json", cwd=project.config.root)
    assert result.returncode == 1, result.output
    steps = {s["step"]: (s["outcome"], s["detail"]) for s in json.loads(result.stdout)["steps"]}
    outcome, detail = steps[f"apply {V2}_unique_email"]
    assert outcome == "fail" and DUPLICATE_EMAIL[dialect_of(project)] in detail
    assert steps[f"apply {V3}_phone"][0] == "skipped"
    assert witness(project) == before and project.status().current_version == V_SHOP


def test_user_checks_run_on_the_migrated_copy(project):
    make_shop(project, users=50)
    checks = project.config.root / "checks"
    checks.mkdir()
    (checks / "user_count.sql").write_text("-- expect: 50\nSELECT count(*) FROM users;\n")
    (checks / "no_free_orders.sql").write_text("SELECT id FROM orders WHERE amount_cents <= 0;\n")
    add(project, V2, "zero_first", "UPDATE orders SET amount_cents = 0 WHERE id = 1;", "SELECT 1;")
    outcome = {s.name: (s.outcome, s.detail) for s in project.rehearse().steps}
    assert outcome["check user_count"] == ("pass", "")
    assert outcome["check no_free_orders"] == ("fail", "1 row(s) found, first: (1,)")
    assert rows(project, "SELECT amount_cents FROM orders WHERE id = 1") == [(107,)]


def test_the_rollback_plan_names_the_lossy_step_and_counts_what_it_would_lose(project, run_cli):
    make_shop(project)
    add(
        project,
        V2,
        "users_phone",
        "ALTER TABLE users ADD COLUMN phone VARCHAR(20);",
        "ALTER TABLE users DROP COLUMN phone;",
    )
    add(
        project,
        V3,
        "orders_amount",
        "CREATE INDEX orders_amount ON orders (amount_cents);",
        "DROP INDEX orders_amount ON orders;" if dialect_of(project) == "mysql" else "DROP INDEX orders_amount;",
    )
    project.apply()
    rows(project, "UPDATE users SET phone = '+1 555 0100' WHERE id <= 7")
    plan = project.rollback_plan(to=V_SHOP)
    assert [(s.version, s.verdict) for s in plan.steps] == [(V3, "lossless"), (V2, "lossy")]
    assert [(loss.what, loss.rows) for loss in plan.steps[1].losses] == [("column users.phone", 7)]
    result = run_cli("rollback-plan", "--to", str(V_SHOP), cwd=project.config.root)
    assert result.returncode == 0, result.output
    assert f"| 2 | {V2}_users_phone | LOSSY | column users.phone (7 row(s) with data) |" in result.stdout
    assert "ALTER TABLE users DROP COLUMN phone;" in result.stdout
    assert f"`dbshift rollback --to {V_SHOP} --force`" in result.stdout


def test_a_lossy_step_names_the_backup_taken_before_it(project):
    make_shop(project)
    add(
        project,
        V2,
        "drop_notes",
        "ALTER TABLE orders DROP COLUMN note;",
        "ALTER TABLE orders ADD COLUMN note VARCHAR(20);",
        header="-- destructive\n",
    )
    add(project, V3, "coupons", "CREATE TABLE coupons (code VARCHAR(20) PRIMARY KEY);", "DROP TABLE coupons;")
    project.apply()
    before_drop = project.backups()[0]
    coupons, drop_notes, shop = project.rollback_plan().steps
    assert coupons.verdict == "lossy"
    assert drop_notes.verdict == "lossless"  # adding a column back loses nothing (the notes went on the way up)
    assert shop.verdict == "lossy" and shop.restore_instead is None
    assert str(before_drop.path) in coupons.restore_instead


def test_each_apply_records_the_tables_it_touched_with_fingerprints_before_and_after(project, run_cli):
    make_shop(project, orders=200)
    add(project, V2, "purge_free", "DELETE FROM orders WHERE note IS NULL;", "SELECT 1;")
    project.apply()
    record = project.history()[0][-1].record
    assert record["tables"] == ["orders"]
    assert record["before"]["orders"]["rows"] == 200 and record["after"]["orders"]["rows"] == 160
    assert record["before"]["orders"]["content"] != record["after"]["orders"]["content"]
    result = run_cli("report", str(V2), cwd=project.config.root)
    assert result.returncode == 0, result.output
    assert "| orders | 200 | 160 | changed |  |" in result.stdout
    assert "- Checksum (sha256 of the file):" in result.stdout and "## Rollback" in result.stdout


AUDIT_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN INSERT INTO audit (user_id) VALUES (new.id); END"
    ],
    "postgresql": [
        "CREATE FUNCTION audit_user() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO audit (user_id) VALUES (NEW.id); RETURN NEW; END $$",
        "CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION audit_user()",
    ],
    "mysql": [
        "CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW INSERT INTO audit (user_id) VALUES (NEW.id)"
    ],
}


def _row_count_step_with_an_audit_trigger(project, header: str = ""):
    make_shop(project)
    rows(project, "CREATE TABLE audit (user_id INTEGER)")
    for statement in AUDIT_TRIGGER[dialect_of(project)]:
        rows(project, statement)
    add(
        project,
        V2,
        "rename_ada",
        "UPDATE users SET name = 'Ada' WHERE id = 1;",
        "UPDATE users SET name = 'User 1' WHERE id = 1;",
        header=header,
    )
    return next(s for s in project.rehearse().steps if s.name == "row counts of tables the migrations do not change")


def test_rows_an_audit_trigger_adds_to_another_table_are_not_a_row_count_failure(project):
    step = _row_count_step_with_an_audit_trigger(project)
    assert (step.outcome, step.detail) == ("pass", "2 table(s) keep their row count")  # users, orders; not audit


@pytest.mark.dialects("postgresql")  # outside a transaction PostgreSQL's row counters cannot help: the trigger is read
def test_rows_an_audit_trigger_adds_outside_a_transaction_are_not_a_row_count_failure_either(project):
    step = _row_count_step_with_an_audit_trigger(project, header="-- no-transaction\n")
    assert (step.outcome, step.detail) == ("pass", "2 table(s) keep their row count")


@pytest.mark.dialects("postgresql", "mysql")
def test_rows_an_on_delete_cascade_removes_are_not_a_row_count_failure(project):
    rows(project, "CREATE TABLE teams (id INTEGER PRIMARY KEY)")
    rows(
        project,
        "CREATE TABLE members (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL, "
        "FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE)",
    )
    rows(project, "CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    rows(project, "INSERT INTO teams VALUES (1), (2)")
    rows(project, "INSERT INTO members VALUES (1, 1), (2, 1), (3, 2)")
    add(project, V2, "drop_team", "DELETE FROM teams WHERE id = 1;", "INSERT INTO teams VALUES (1);")
    step = next(s for s in project.rehearse().steps if s.name == "row counts of tables the migrations do not change")
    assert (step.outcome, step.detail) == ("pass", "1 table(s) keep their row count")  # notes
