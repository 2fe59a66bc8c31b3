"""`dbshift import alembic` on PostgreSQL: a Chinook project Alembic applied continues under dbshift."""

import re

import pytest
from tests.teams.imports_helpers import alembic, alembic_project, chinook_statements, index_name, table_name

from cli_inprocess import run_dbshift
from dbshift import Project
from servers.conftest import create_database, drop_database
from value_oracle import assert_same_values, fill_with_edge_values, snapshot


@pytest.fixture
def pg_project(tmp_path, postgres_url, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = create_database(postgres_url)
    try:
        yield Project.init(tmp_path, url), url
    finally:
        drop_database(postgres_url, url)


def test_alembic_chinook_on_postgresql(pg_project, corpus):
    project, url = pg_project
    creates, alters, indexes = chinook_statements(corpus, "Chinook_PostgreSql.schema.sql")
    constraints = [re.match(r"ALTER TABLE (\S+) ADD CONSTRAINT (\S+)", a).groups() for a in alters]
    revisions = [
        (
            "p1",
            "catalogue",
            [f"op.execute({c!r})" for c in creates],
            [f"op.execute('DROP TABLE {table_name(c)}')" for c in reversed(creates)],
        ),
        (
            "p2",
            "keys and indexes",
            [f"op.execute({s!r})" for s in alters + indexes],
            [f"op.execute('DROP INDEX {index_name(i)}')" for i in indexes]
            + [f"op.execute('ALTER TABLE {t} DROP CONSTRAINT {n}')" for t, n in constraints],
        ),
        (
            "p3",
            "artist country",
            ["op.add_column('artist', sa.Column('country', sa.String(40)))"],
            ["op.drop_column('artist', 'country')"],
        ),
        (
            "p4",
            "country index",
            ["op.create_index('ix_artist_country', 'artist', ['country'])"],
            ["op.drop_index('ix_artist_country', table_name='artist')"],
        ),
    ]
    folder = alembic_project(
        project.config.root / "legacy", url.replace("postgresql://", "postgresql+psycopg://"), revisions
    )
    alembic(folder, "upgrade", "head")
    with project.connect() as db:
        with db.transaction():
            fill_with_edge_values(
                db, "artist", [("artist_id", "INT", False), ("name", "VARCHAR(120)"), ("country", "VARCHAR(40)")]
            )
            fill_with_edge_values(db, "genre", [("genre_id", "INT", False), ("name", "VARCHAR(120)")])
        before = snapshot(db)
    done = run_dbshift("-C", str(project.config.root), "import", "alembic", str(folder))
    assert done.returncode == 0, done.output
    migrations = project.migrations()
    assert [m.name for m in migrations] == ["catalogue", "keys_and_indexes", "artist_country", "country_index"]
    joined = "".join(m.text for m in migrations)
    assert "alembic_version" not in joined and "BEGIN;" not in joined and "COMMIT;" not in joined
    status = project.status()
    assert status.pending == [] and status.ok and len(status.applied) == 4
    assert project.rollback(steps=1).steps[0].migration.name == "country_index"
    assert project.status().pending[0].name == "country_index"
    project.apply()
    with project.connect(readonly=True) as db:
        assert_same_values(before, snapshot(db))
        assert db.execute("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_artist_country'")
        assert db.execute("SELECT version_num FROM alembic_version") == [("p4",)]  # Alembic's table is left as it was
