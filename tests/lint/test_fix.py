"""`dbshift lint --fix` on PostgreSQL, as a user runs it: the diff first (--diff writes nothing),
then the rewrite; the fixed migration lints clean for the fixed rules, passes apply's lint,
applies and rolls back on the real server with every value intact; an applied migration is never
rewritten; a migration that also moves data keeps its transaction and says what it left."""

from __future__ import annotations

import json

import pytest
from tests.conftest import write_migration
from tests.value_oracle import snapshot

from dbshift import Project

TABLES = """
CREATE TABLE "Kunden ü" (id bigint PRIMARY KEY, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, "kunde id" bigint, qty int, note text);
INSERT INTO "Kunden ü" VALUES (1, 'Zoë ''quoted'''), (2, '');
INSERT INTO orders VALUES (10, 1, 3, 'first'), (11, 2, 2147483647, 'ünï'), (12, NULL, 1, '  ');
"""
UNSAFE = """-- the careless version
CREATE INDEX "orders by qty" ON orders (qty);
ALTER TABLE orders ADD FOREIGN KEY ("kunde id") REFERENCES "Kunden ü" (id);
ALTER TABLE orders ADD CONSTRAINT "qty > 0" CHECK (qty > 0);
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
"""
UNSAFE_DOWN = """ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;
ALTER TABLE orders DROP CONSTRAINT "qty > 0";
ALTER TABLE orders DROP CONSTRAINT "orders_kunde id_fkey";
DROP INDEX "orders by qty";
"""
FIXED_RULES = ("index-not-concurrent", "constraint-not-valid", "set-not-null", "missing-lock-timeout")


@pytest.fixture
def pg_project(tmp_path, postgres_url, monkeypatch):
    """A project on a fresh PostgreSQL database with two tables of odd names and rows (applied)."""
    from tests.servers.conftest import create_database, drop_database

    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = create_database(postgres_url)
    project = Project.init(tmp_path, url)
    write_migration(project, 20260101000000, "tables", TABLES, 'DROP TABLE orders;\nDROP TABLE "Kunden ü";')
    project.hash()
    project.apply()
    config = project.config.config_file
    config.write_text(config.read_text() + "\n[lint]\nbig_table_rows = 3\n")  # orders' 3 rows make it big
    yield project
    drop_database(postgres_url, url)


def _values(project):
    with project.connect(readonly=True) as db:
        return snapshot(db)


def _constraints(project) -> dict[str, bool]:
    with project.connect(readonly=True) as db:
        rows = db.execute("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'orders'::regclass")
    return {name: valid for name, valid in rows if name != "orders_pkey"}


def test_the_diff_comes_first_and_writes_nothing(pg_project, run_cli):
    path = write_migration(pg_project, 20260102000000, "safety", UNSAFE, UNSAFE_DOWN)
    pg_project.hash()
    before = path.read_text()
    result = run_cli("lint", "--diff")
    assert result.returncode == 0, result.output
    assert '+CREATE INDEX CONCURRENTLY "orders by qty" ON orders (qty);' in result.stdout
    assert '-CREATE INDEX "orders by qty" ON orders (qty);' in result.stdout
    assert "+-- no-transaction" in result.stdout
    assert "nothing written" in result.stdout
    assert path.read_text() == before


def test_the_fixed_migration_lints_clean_applies_and_rolls_back_with_values_intact(pg_project, run_cli):
    path = write_migration(pg_project, 20260102000000, "safety", UNSAFE, UNSAFE_DOWN)
    pg_project.hash()
    assert run_cli("apply").returncode == 3  # the careless version is refused by apply's lint
    before = _values(pg_project)

    result = run_cli("lint", "--fix")
    assert result.returncode == 0, result.output
    assert "1 migration(s) rewritten (dbshift.sum updated): 5 finding(s) fixed" in result.stdout
    text = path.read_text()
    assert text.startswith("-- no-transaction\n-- migrate:up\nSET lock_timeout TO '2s';\n-- the careless version\n")
    assert 'REFERENCES "Kunden ü" (id) NOT VALID;' in text
    assert 'VALIDATE CONSTRAINT "orders_kunde id_fkey"' in text

    linted = json.loads(run_cli("lint", "--format", "json", str(path)).stdout)
    left = [f["code"] for f in linted["findings"] if f["section"] == "up"]
    assert not set(left) & set(FIXED_RULES), left

    applied = run_cli("apply")  # no --force: the fixed form passes apply's lint, and dbshift.sum matches
    assert applied.returncode == 0, applied.output
    assert _constraints(pg_project) == {"orders_kunde id_fkey": True, "qty > 0": True}  # validated, check dropped
    with pg_project.connect(readonly=True) as db:
        assert db.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'"
        ) == [("NO",)]
        assert db.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = '\"orders by qty\"'::regclass") == [
            (True,)
        ]
    assert _values(pg_project) == before

    rolled = run_cli("rollback")
    assert rolled.returncode == 0, rolled.output
    assert _constraints(pg_project) == {}
    assert _values(pg_project) == before


def test_an_applied_migration_is_never_rewritten(pg_project, run_cli):
    path = write_migration(
        pg_project, 20260102000000, "idx", 'CREATE INDEX "ix q" ON orders (qty);', 'DROP INDEX "ix q";'
    )
    pg_project.hash()
    assert run_cli("apply", "--force").returncode == 0
    before = path.read_text()
    result = run_cli("lint", "--fix", str(path))
    assert result.returncode == 3, result.output
    assert "20260102000000_idx.sql: already applied, so lint --fix will not rewrite it" in result.stderr
    assert "Traceback" not in result.output
    assert path.read_text() == before


def test_a_migration_that_also_moves_data_keeps_its_transaction_and_says_what_it_left(pg_project, run_cli):
    path = write_migration(
        pg_project,
        20260102000000,
        "backfill",
        "UPDATE orders SET note = '' WHERE note IS NULL;\nALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;",
    )
    pg_project.hash()
    result = run_cli("lint", "--fix")
    assert result.returncode == 0, result.output
    assert "20260102000000_backfill.sql:3: not fixed set-not-null: the migration also changes data" in result.stdout
    text = path.read_text()
    assert "no-transaction" not in text
    assert "SET LOCAL lock_timeout TO '2s';" in text  # lock_timeout for this transaction only
    assert run_cli("apply", "--force").returncode == 0
    assert run_cli("status").returncode == 0  # dbshift.sum was updated with the rewrite
