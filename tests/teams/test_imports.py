"""Moving a project from Flyway, dbmate or Alembic to dbshift: the files come over with their downs,
the old tool's history becomes dbshift's (nothing runs again), and bad input changes nothing."""

import json
import sqlite3
import zlib

import pytest
from tests.teams.imports_helpers import (
    alembic,
    alembic_project,
    chinook_statements,
    flyway_migrate,
    index_name,
    sqlite_dump,
    table_name,
    tree,
)

from cli_inprocess import is_one_error_with_hint, run_dbshift
from value_oracle import assert_same_values, fill_with_edge_values, snapshot

SHOP = 'CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "e mail" TEXT);\n'


@pytest.fixture
def flyway(project):
    """A Flyway folder (nested, as Flyway scans locations), V1 to V3 applied by "Flyway" to the database."""
    folder = project.config.root / "flyway" / "sql"
    (folder / "shop").mkdir(parents=True)
    (folder / "V1__create_customer.sql").write_text("-- the first table\r\n" + SHOP.replace("\n", "\r\n"))
    (folder / "V1.1__add_phone.sql").write_text("ALTER TABLE customer ADD COLUMN phone TEXT;\n")
    (folder / "U1.1__add_phone.sql").write_text("ALTER TABLE customer DROP COLUMN phone;\n")
    (folder / "shop" / "V2__orders.sql").write_text(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, note TEXT DEFAULT 'it''s; -- fine');\n"
    )
    (folder / "shop" / "V3__order_index.sql").write_text("CREATE INDEX orders_customer ON orders (customer_id);\n")
    (folder / "shop" / "U3__order_index.sql").write_text("DROP INDEX orders_customer;\n")
    (folder / "R__customer_view.sql").write_text("CREATE VIEW IF NOT EXISTS names AS SELECT name FROM customer;\n")
    scripts = ["V1__create_customer.sql", "V1.1__add_phone.sql", "shop/V2__orders.sql", "shop/V3__order_index.sql"]
    flyway_migrate(project.config.root / "app.db", folder, scripts)
    return folder


def _fill(project):
    with project.connect() as db:
        fill_with_edge_values(db, "customer", [("id", "INTEGER", False), ("name", "TEXT", False), ("phone", "TEXT")])
        fill_with_edge_values(db, "orders", [("customer_id", "INTEGER"), ("note", "TEXT")], key="id")
        db.commit()
        return snapshot(db)


def test_flyway_project_continues_under_dbshift_with_nothing_rerun(project, flyway):
    before = _fill(project)
    root = str(project.config.root)
    done = run_dbshift("-C", root, "import", "flyway", str(flyway.parent))
    assert done.returncode == 0, done.output
    assert "R__customer_view.sql not imported" in done.stdout and "without an undo file" in done.stdout
    files = sorted(p.name for p in project.config.migrations_dir.glob("*.sql"))
    assert files == [
        "20000101000001_v1_create_customer.sql",
        "20000101000002_v1_1_add_phone.sql",
        "20000101000003_v2_orders.sql",
        "20000101000004_v3_order_index.sql",
    ]
    status = project.status()
    assert status.pending == [] and status.ok and status.sum_check.ok
    history, log = project.history()
    assert [a.version for a in history] == [20000101000001, 20000101000002, 20000101000003, 20000101000004]
    assert all(a.record["imported"]["tool"] == "flyway" and a.stored_down for a in history)
    assert history[1].record["imported"]["origin"] == "1.1" and history[1].record["imported"]["installed_by"] == "alice"
    assert [e.action for e in log] == ["import"] * 4
    assert "Imported from flyway (its 1.1)" in project.report(20000101000002)
    migrations = {m.version: m for m in project.migrations()}
    assert migrations[20000101000003].has_down is False  # V2 has no U2: no down, rollback refused by name
    assert migrations[20000101000002].down_sql.strip() == "ALTER TABLE customer DROP COLUMN phone;"
    # The newest one rolls back with Flyway's undo file and applies again; every value is as it was.
    assert [s.migration.name for s in project.rollback(steps=1).steps] == ["v3_order_index"]
    assert [s.migration.name for s in project.apply().steps] == ["v3_order_index"]
    with project.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db))
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'orders_customer'") == [("orders_customer",)]


def test_flyway_migration_not_yet_applied_stays_pending(project):
    folder = project.config.root / "fw"
    folder.mkdir()
    (folder / "V1__t.sql").write_text("CREATE TABLE t (v TEXT);\n")
    (folder / "V2__u.sql").write_text("ALTER TABLE t ADD COLUMN w TEXT;\n")
    (folder / "U2__u.sql").write_text("ALTER TABLE t DROP COLUMN w;\n")
    flyway_migrate(project.config.root / "app.db", folder, ["V1__t.sql"])
    done = run_dbshift("-C", str(project.config.root), "--json", "import", "flyway", str(folder))
    assert done.returncode == 0, done.output
    assert [m["applied"] for m in json.loads(done.stdout)["migrations"]] == [True, False]
    assert [m.name for m in project.status().pending] == ["v2_u"]
    project.apply()
    with project.connect(readonly=True) as db:
        assert [c[1] for c in db.execute("PRAGMA table_info(t)")] == ["v", "w"]


def test_flyway_checksum_is_flyways_crc32_of_the_lines():
    from dbshift.teams.imports.flyway import flyway_checksum

    # Java's CRC32 over each line's UTF-8 bytes without its line break; stored signed.
    expected = zlib.crc32("ab\u00e9c".encode())
    expected = expected - 2**32 if expected >= 2**31 else expected
    assert flyway_checksum("\ufeffa\r\nb\u00e9\rc\n".encode()) == expected
    assert flyway_checksum(b"a\nb") == flyway_checksum(b"a\r\nb\r\n")


DBMATE_FILES = {
    "20240101100000_create_items.sql": "-- migrate:up\nCREATE TABLE items (id INTEGER PRIMARY KEY, "
    'label TEXT, "größe" REAL);\n\n-- migrate:down\nDROP TABLE items;\n',
    "20240102100000_index_label.sql": "-- migrate:up transaction:false\nCREATE INDEX items_label ON items (label);\n"
    "-- migrate:down transaction:false\nDROP INDEX items_label;\n",
    "20240103100000_add_note.sql": "-- migrate:up\nALTER TABLE items ADD COLUMN note TEXT DEFAULT '-- not a marker';\n"
    "-- migrate:down\nALTER TABLE items DROP COLUMN note;\n",
}


def _dbmate_project(project, applied: list[str]):
    folder = project.config.root / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in DBMATE_FILES.items():
        (folder / name).write_text(text)
    connection = sqlite3.connect(project.config.root / "app.db")
    connection.execute('CREATE TABLE IF NOT EXISTS "schema_migrations" (version varchar(128) primary key)')
    for name in applied:
        text = DBMATE_FILES[name]
        connection.executescript(text.split("-- migrate:down")[0].split("\n", 1)[1])
        connection.execute("INSERT INTO schema_migrations (version) VALUES (?)", (name.split("_")[0],))
    connection.commit()
    connection.close()
    return folder


def test_dbmate_project_keeps_its_versions_and_options(project):
    _dbmate_project(project, list(DBMATE_FILES))
    with project.connect() as db:
        fill_with_edge_values(db, "items", [("label", "TEXT"), ("größe", "REAL"), ("note", "TEXT")], key="id")
        db.commit()
        before = snapshot(db)
    done = run_dbshift("-C", str(project.config.root), "import", "dbmate", str(project.config.root))
    assert done.returncode == 0, done.output
    migrations = project.migrations()
    assert [m.file for m in migrations] == list(DBMATE_FILES)  # dbmate's timestamps are dbshift versions
    assert [m.transaction for m in migrations] == [True, False, True]
    assert project.status().pending == [] and project.status().ok
    assert [s.migration.name for s in project.rollback(steps=1, force=True).steps] == ["add_note"]
    project.apply()
    with project.connect(readonly=True) as db:
        after = snapshot(db)
    # the note column came back with its default, every other value is untouched
    for table in (before, after):
        table["items"] = type(table["items"])(
            {tuple(c for c in row if c[0] != "note"): n for row, n in table["items"].items()}
        )
    assert_same_values(before, after)


def _chinook_alembic(folder, url, corpus):
    creates, _, indexes = chinook_statements(corpus, "Chinook_Sqlite.schema.sql")
    artist = next(table_name(c) for c in creates if "Artist" in table_name(c))
    revisions = [
        (
            "c0a1",
            "catalogue",
            [f"op.execute({c!r})" for c in creates[:5]],
            [f"op.execute('DROP TABLE {table_name(c)}')" for c in reversed(creates[:5])],
        ),
        (
            "c0b2",
            "sales",
            [f"op.execute({c!r})" for c in creates[5:]] + [f"op.execute({i!r})" for i in indexes],
            [f"op.execute('DROP INDEX {index_name(i)}')" for i in indexes]
            + [f"op.execute('DROP TABLE {table_name(c)}')" for c in reversed(creates[5:])],
        ),
        (
            "c0c3",
            "artist country",
            [f"op.add_column({artist.strip('[]')!r}, sa.Column('Country', sa.String(40)))"],
            [f"op.drop_column({artist.strip('[]')!r}, 'Country')"],
        ),
        (
            "c0d4",
            "country index",
            [f"op.create_index('ix_artist_country', {artist.strip('[]')!r}, ['Country'])"],
            ["op.drop_index('ix_artist_country')"],
        ),
    ]
    return alembic_project(folder, url, revisions)


def test_alembic_chinook_project_moves_to_dbshift(project, corpus):
    db_path = project.config.root / "app.db"
    folder = _chinook_alembic(project.config.root / "legacy", f"sqlite:///{db_path}", corpus)
    alembic(folder, "upgrade", "head")
    with project.connect() as db:
        fill_with_edge_values(
            db, "Artist", [("ArtistId", "INTEGER", False), ("Name", "NVARCHAR(120)"), ("Country", "NVARCHAR(40)")]
        )
        fill_with_edge_values(db, "Genre", [("GenreId", "INTEGER", False), ("Name", "NVARCHAR(120)")])
        db.commit()
        before = snapshot(db)
    done = run_dbshift("-C", str(project.config.root), "import", "alembic", str(folder))
    assert done.returncode == 0, done.output
    migrations = project.migrations()
    assert [m.name for m in migrations] == ["catalogue", "sales", "artist_country", "country_index"]
    assert "alembic_version" not in "".join(m.text for m in migrations)
    assert all(m.has_down for m in migrations)
    status = project.status()
    assert status.pending == [] and status.ok
    assert project.rollback(steps=1).steps[0].migration.name == "country_index"
    with project.connect(readonly=True) as db:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'ix_artist_country'")
    project.apply()
    with project.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db))
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'ix_artist_country'") == [(1,)]
    # A fresh database built from the imported files has the schema Alembic built, but for Alembic's own table.
    from dbshift.drafting.draft import draft_schemas
    from dbshift.drafting.sources import inspect_database, schema_from_migrations

    with project.connect(readonly=True) as db:
        draft = draft_schemas(schema_from_migrations(project.migrations()), inspect_database(db))
    assert [op["description"] for op in draft.as_json()["plan"]["operations"]] == ["create table alembic_version"]


# -- bad input: one clear line each, files and database exactly as before -----------------------


def _unchanged(project, action):
    root = project.config.root
    files, dump = tree(root / "migrations"), sqlite_dump(root / "app.db")
    result = action()
    assert tree(root / "migrations") == files
    assert sqlite_dump(root / "app.db") == dump
    return result


def test_a_folder_of_another_format_is_named(project, flyway):
    root = str(project.config.root)
    wrong = _unchanged(project, lambda: run_dbshift("-C", root, "import", "dbmate", str(flyway)))
    assert wrong.returncode == 2 and is_one_error_with_hint(wrong), wrong.output
    assert "looks like a flyway project" in wrong.stderr and "dbshift import flyway" in wrong.stderr
    empty = project.config.root / "empty"
    empty.mkdir()
    nothing = _unchanged(project, lambda: run_dbshift("-C", root, "import", "alembic", str(empty)))
    assert nothing.returncode == 2 and is_one_error_with_hint(nothing) and "alembic.ini" in nothing.stderr
    unknown = run_dbshift("-C", root, "import", "liquibase", str(flyway))
    assert unknown.returncode == 2 and is_one_error_with_hint(unknown), unknown.output


def test_a_version_in_the_history_that_the_files_lack_is_refused(project, flyway):
    (flyway / "shop" / "V3__order_index.sql").unlink()
    (flyway / "shop" / "U3__order_index.sql").unlink()
    done = _unchanged(project, lambda: run_dbshift("-C", str(project.config.root), "import", "flyway", str(flyway)))
    assert done.returncode == 3 and is_one_error_with_hint(done), done.output
    assert "migration 3 as applied" in done.stderr and "no such migration" in done.stderr


def test_an_edited_file_and_a_failed_run_are_refused(project, flyway):
    root = str(project.config.root)
    original = (flyway / "V1.1__add_phone.sql").read_text()
    (flyway / "V1.1__add_phone.sql").write_text(original.replace("TEXT", "VARCHAR(20)"))
    edited = _unchanged(project, lambda: run_dbshift("-C", root, "import", "flyway", str(flyway)))
    assert edited.returncode == 3 and is_one_error_with_hint(edited) and "V1.1__add_phone.sql" in edited.stderr
    (flyway / "V1.1__add_phone.sql").write_text(original)
    connection = sqlite3.connect(project.config.root / "app.db")
    connection.execute("UPDATE flyway_schema_history SET success = 0 WHERE version = '3'")
    connection.commit()
    connection.close()
    failed = _unchanged(project, lambda: run_dbshift("-C", root, "import", "flyway", str(flyway)))
    assert failed.returncode == 3 and is_one_error_with_hint(failed) and "as failed" in failed.stderr


def test_a_missing_history_table_and_an_existing_dbshift_history_are_refused(project):
    folder = _dbmate_project(project, [])
    root = str(project.config.root)
    sqlite3.connect(project.config.root / "app.db").execute("DROP TABLE schema_migrations").connection.commit()
    missing = _unchanged(project, lambda: run_dbshift("-C", root, "import", "dbmate", str(folder)))
    assert missing.returncode == 3 and is_one_error_with_hint(missing) and "schema_migrations" in missing.stderr
    preview = run_dbshift("-C", root, "--json", "import", "dbmate", str(folder), "--files-only", "--dry-run")
    assert preview.returncode == 0 and len(json.loads(preview.stdout)["migrations"]) == 3
    assert project.migrations() == []
    _dbmate_project_history = sqlite3.connect(project.config.root / "app.db")
    _dbmate_project_history.execute("CREATE TABLE schema_migrations (version varchar(128) primary key)")
    _dbmate_project_history.commit()
    _dbmate_project_history.close()
    project.config.migrations_dir.joinpath("20230101000000_other.sql").write_text("-- migrate:up\nSELECT 1;\n")
    project.hash()
    project.apply()
    project.config.migrations_dir.joinpath("20230101000000_other.sql").unlink()
    project.hash()
    again = _unchanged(project, lambda: run_dbshift("-C", root, "import", "dbmate", str(folder)))
    assert again.returncode == 3 and is_one_error_with_hint(again) and "dbshift history" in again.stderr


def test_dry_run_changes_nothing(project, flyway):
    done = _unchanged(
        project, lambda: run_dbshift("-C", str(project.config.root), "import", "flyway", str(flyway), "--dry-run")
    )
    assert done.returncode == 0 and "would record 4 as applied" in done.stdout, done.output


def test_alembic_missing_or_failing_is_one_line(project, monkeypatch):
    folder = alembic_project(
        project.config.root / "legacy",
        f"sqlite:///{project.config.root / 'app.db'}",
        [
            ("a1", "create t", ["op.execute('CREATE TABLE t (a INTEGER, b TEXT)')"], ["op.drop_table('t')"]),
            (
                "b2",
                "add c",
                ["op.add_column('t', sa.Column('c', sa.Text()))"],
                ["with op.batch_alter_table('t') as batch:", "    batch.drop_column('c')"],
            ),
        ],
    )
    alembic(folder, "upgrade", "head")
    root = str(project.config.root)
    monkeypatch.setenv("DBSHIFT_ALEMBIC", "/nonexistent/alembic")
    missing = _unchanged(project, lambda: run_dbshift("-C", root, "import", "alembic", str(folder)))
    assert missing.returncode == 2 and is_one_error_with_hint(missing) and "pip install alembic" in missing.stderr
    monkeypatch.delenv("DBSHIFT_ALEMBIC")
    failing = _unchanged(project, lambda: run_dbshift("-C", root, "import", "alembic", str(folder)))
    assert failing.returncode == 1 and is_one_error_with_hint(failing), failing.output
    assert "at revision b2" in failing.stderr and "batch mode" in failing.stderr
