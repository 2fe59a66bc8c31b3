"""`dbshift diff` on a server project: both sides are built in scratch databases on the server."""

from __future__ import annotations

from conftest import write_migration
from dbshift import Project


def test_a_postgresql_project_diffs_its_migrations_against_schema_sql(tmp_path, postgres_url, run_cli):
    """The migrations' end state and schema.sql each run in a scratch database; the live one is untouched."""
    project = Project.init(tmp_path, postgres_url)
    write_migration(
        project,
        20260101000000,
        "users",
        "CREATE TABLE dbshift_draft_users (id integer PRIMARY KEY, email text NOT NULL);",
        "DROP TABLE dbshift_draft_users;",
    )
    project.hash()
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE dbshift_draft_users (id integer PRIMARY KEY, email text NOT NULL, phone text);"
    )
    result = run_cli("diff")
    assert result.returncode == 0, result.output
    assert 'ALTER TABLE "dbshift_draft_users" ADD COLUMN "phone" TEXT' in result.output
    assert 'DROP COLUMN "phone"' in result.output
    with project.connect() as db:
        assert not db.table_exists("dbshift_draft_users")
