"""`dbshift import django`: a Django project (its migrations made by Django's makemigrations, applied by
`manage.py migrate`) continues under dbshift with nothing re-applied; bad input changes nothing."""

import sys

import pytest
from tests.teams.django_helpers import copy_project, django_project, manage
from tests.teams.imports_helpers import sqlite_dump, tree

from cli_inprocess import is_one_error_with_hint, run_dbshift
from dbshift import Project
from servers.conftest import create_database, drop_database
from value_oracle import assert_same_values, fill_with_edge_values, snapshot

pytest.importorskip("django")

CUSTOMER = [("name", "VARCHAR(80)", False), ("e mail", "TEXT"), ("balance", "DECIMAL(9,2)", False)]
POSTS = [(1, 'it\'s "quoted"; -- not a comment', "ünïcødé ✓"), (2, "", "line\nbreak"), (1, " spaces ", "")]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The Django project, its migrations made once by makemigrations (each test copies it)."""
    folder = tmp_path_factory.mktemp("django") / "template"
    return django_project(folder, f"sqlite:///{folder / 'unused.db'}")


def _migrate_and_fill(project, folder) -> dict:
    """`manage.py migrate` (Django applies everything), then edge values in the tables; their snapshot."""
    manage(folder, "migrate")
    with project.connect() as db:
        with db.transaction():
            fill_with_edge_values(db, "shop_customer", [*CUSTOMER, ("country", "VARCHAR(40)")], key="id")
            for author, title, body in POSTS:
                db.execute(
                    "INSERT INTO blog_post (author_id, title, body) VALUES (%s, %s, %s)".replace(
                        "%s", "?" if db.dialect == "sqlite" else "%s"
                    ),
                    (author, title, body),
                )
        return snapshot(db)


def _import_and_travel(project, folder, before, index_query: str) -> None:
    """Import; status clean; the newest migration rolls back and applies again with every value kept."""
    done = run_dbshift("-C", str(project.config.root), "import", "django", str(folder))
    assert done.returncode == 0, done.output
    assert "shop.0003_fill_country: Raw Python operation cannot be written as SQL" in done.stdout
    assert "recorded 5 as applied" in done.stdout
    migrations = project.migrations()
    assert [m.name for m in migrations] == [
        "shop_0001_initial",
        "blog_0001_initial",  # after shop's first: its Post points at shop's Customer
        "shop_0002_customer_country",
        "shop_0003_fill_country",
        "shop_0004_country_index",
    ]
    assert all(m.has_down for m in migrations)
    joined = "".join(m.text for m in migrations)
    assert "django_migrations" not in joined and "BEGIN;" not in joined
    status = project.status()
    assert status.pending == [] and status.ok and len(status.applied) == 5
    history, log = project.history()
    assert [a.record["imported"]["origin"] for a in history][-1] == "shop.0004_country_index"
    assert all(a.record["imported"]["tool"] == "django" and a.record["imported"]["installed_on"] for a in history)
    assert [e.action for e in log] == ["import"] * 5
    assert project.rollback(steps=1).steps[0].migration.name == "shop_0004_country_index"
    with project.connect(readonly=True) as db:
        assert db.execute(index_query) == []
    assert project.status().pending[0].name == "shop_0004_country_index"
    project.apply()
    with project.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db))
        assert db.execute(index_query) == [(1,)]
        assert db.execute("SELECT count(*) FROM django_migrations") == [(5,)]  # Django's table is left as it was
    assert "No migrations to apply" in manage(folder, "migrate")  # and Django still sees its database as current


def test_django_project_on_sqlite_moves_to_dbshift(project, template):
    folder = copy_project(template, project.config.root / "legacy", f"sqlite:///{project.config.root / 'app.db'}")
    before = _migrate_and_fill(project, folder)
    _import_and_travel(project, folder, before, "SELECT 1 FROM sqlite_master WHERE name = 'shop_customer_country'")


def test_django_project_on_postgresql_moves_to_dbshift(tmp_path, template, postgres_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = create_database(postgres_url)
    try:
        project = Project.init(tmp_path, url)
        folder = copy_project(template, tmp_path / "legacy", url)
        before = _migrate_and_fill(project, folder)
        _import_and_travel(
            project, folder, before, "SELECT 1 FROM pg_indexes WHERE indexname = 'shop_customer_country'"
        )
    finally:
        drop_database(postgres_url, url)


# -- bad input: one clear line each, files and database exactly as before -----------------------


def _unchanged(project, action):
    root = project.config.root
    files, dump = tree(root / "migrations"), sqlite_dump(root / "app.db")
    result = action()
    assert tree(root / "migrations") == files
    assert sqlite_dump(root / "app.db") == dump
    return result


def test_bad_django_input_is_one_line_and_changes_nothing(project, template, monkeypatch):
    root = str(project.config.root)
    folder = copy_project(template, project.config.root / "legacy", f"sqlite:///{project.config.root / 'app.db'}")
    manage(folder, "migrate")
    # Not a Django project: an empty folder, and a Django project given to another importer.
    empty = project.config.root / "empty"
    empty.mkdir()
    nothing = _unchanged(project, lambda: run_dbshift("-C", root, "import", "django", str(empty)))
    assert nothing.returncode == 2 and is_one_error_with_hint(nothing) and "manage.py" in nothing.stderr
    wrong = _unchanged(project, lambda: run_dbshift("-C", root, "import", "alembic", str(folder)))
    assert wrong.returncode == 2 and is_one_error_with_hint(wrong) and "looks like a django project" in wrong.stderr
    # Django missing: no such Python, and a Python without Django (-S: no site-packages).
    monkeypatch.setenv("DBSHIFT_DJANGO_PYTHON", "/nonexistent/python")
    missing = _unchanged(project, lambda: run_dbshift("-C", root, "import", "django", str(folder)))
    assert missing.returncode == 2 and is_one_error_with_hint(missing) and "pip install django" in missing.stderr
    monkeypatch.setenv("DBSHIFT_DJANGO_PYTHON", f"{sys.executable} -S")
    bare = _unchanged(project, lambda: run_dbshift("-C", root, "import", "django", str(folder)))
    assert bare.returncode == 2 and is_one_error_with_hint(bare), bare.output
    assert "import Django" in bare.stderr and "DBSHIFT_DJANGO_PYTHON" in bare.stderr
    monkeypatch.delenv("DBSHIFT_DJANGO_PYTHON")
    # A migration file that does not load: Django's own error, in one line.
    broken = folder / "shop" / "migrations" / "0005_broken.py"
    broken.write_text("from django.db import migrations\nclass Migration(migrations.Migration:\n")
    failed = _unchanged(project, lambda: run_dbshift("-C", root, "import", "django", str(folder)))
    assert failed.returncode == 1 and is_one_error_with_hint(failed) and "SyntaxError" in failed.stderr, failed.output
    broken.unlink()
    # A migration django_migrations records that the files lack (a branch switched under Django).
    newest = folder / "shop" / "migrations" / "0004_country_index.py"
    kept = newest.read_text()
    newest.unlink()
    lacking = _unchanged(project, lambda: run_dbshift("-C", root, "import", "django", str(folder)))
    assert lacking.returncode == 3 and is_one_error_with_hint(lacking), lacking.output
    assert "django migration shop.0004_country_index as applied" in lacking.stderr
    newest.write_text(kept)
    # A database dbshift already manages.
    other = project.config.migrations_dir / "20230101000000_other.sql"
    other.write_text("-- migrate:up\nSELECT 1;\n")
    project.hash()
    project.apply()
    other.unlink()
    project.hash()
    again = _unchanged(project, lambda: run_dbshift("-C", root, "import", "django", str(folder)))
    assert again.returncode == 3 and is_one_error_with_hint(again) and "dbshift history" in again.stderr


def test_a_squashed_migration_counts_as_applied_and_the_files_rebuild_djangos_schema(project, template):
    """`squashmigrations` after the database ran the migrations it replaces, and before `migrate` recorded
    the squash itself: the squash is imported as applied and its replaced rows map onto it."""
    folder = copy_project(template, project.config.root / "legacy", f"sqlite:///{project.config.root / 'app.db'}")
    before = _migrate_and_fill(project, folder)
    manage(folder, "squashmigrations", "shop", "0002", "--noinput")
    done = run_dbshift("-C", str(project.config.root), "import", "django", str(folder))
    assert done.returncode == 0, done.output
    assert [m.name for m in project.migrations()][:2] == [
        "shop_0001_squashed_0002_customer_country",
        "blog_0001_initial",
    ]
    history, _ = project.history()
    assert history[0].record["imported"]["origin"] == "shop.0001_squashed_0002_customer_country"
    status = project.status()
    assert status.pending == [] and status.ok and len(status.applied) == 4
    # A fresh database built from the imported files has Django's schema, but for Django's own table.
    from dbshift.drafting.draft import draft_schemas
    from dbshift.drafting.sources import inspect_database, schema_from_migrations

    with project.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db))
        draft = draft_schemas(schema_from_migrations(project.migrations()), inspect_database(db))
    assert [op["description"] for op in draft.as_json()["plan"]["operations"]] == ["create table django_migrations"]
