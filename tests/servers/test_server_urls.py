"""A server URL's parameters reach the driver and the dump tools: TLS settings, a socket, a schema."""

from __future__ import annotations

from conftest import write_migration
from servers.conftest import make_project, query

V1 = 20260101090000


def test_a_search_path_in_the_url_keeps_the_project_in_its_own_schema(pg_url, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    query(pg_url, "CREATE SCHEMA billing")
    url = pg_url + "?options=-csearch_path%3Dbilling"
    project = make_project(tmp_path, url)
    write_migration(
        project,
        V1,
        "invoices",
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, cents INTEGER);\nINSERT INTO invoices VALUES (1, 250);",
        "DROP TABLE invoices;",
        header="-- risky\n",
    )
    project.hash()
    project.apply()

    where = query(
        pg_url,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 2",
    )
    assert ("billing", "invoices") in where and ("billing", "dbshift_history") in where
    assert all(schema == "billing" for schema, _ in where)
    assert project.history()[0][-1].backup  # pg_dump reached the server with the URL's settings
    assert project.verify().ok

    # schema.sql runs in a scratch database where billing is created first, and lands there.
    (project.config.root / "schema.sql").write_text(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, cents INTEGER, paid BOOLEAN NOT NULL DEFAULT false);"
    )
    draft = project.diff(source="db")
    assert draft.plan.up_statements() == ['ALTER TABLE "invoices" ADD COLUMN "paid" BOOLEAN NOT NULL DEFAULT false']


def test_a_search_path_naming_no_schema_is_a_clear_error_and_creates_nothing(pg_url, tmp_path, run_cli):
    url = pg_url + "?options=-csearch_path%3Dnowhere"
    project = make_project(tmp_path, url)
    write_migration(project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;")
    project.hash()
    cli = run_cli("apply", cwd=tmp_path)
    assert cli.returncode == 2, cli.output
    assert "no schema to create tables in" in cli.stderr and "nowhere" in cli.stderr and "hint:" in cli.stderr
    assert "Traceback" not in cli.stderr
    assert query(
        pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    ) == [(0,)]


def test_libpq_parameters_in_the_url_reach_the_server_and_a_password_parameter_stays_hidden(pg_url, tmp_path, run_cli):
    refused = run_cli("--db", pg_url + "?sslmode=require", "status", cwd=tmp_path)
    assert refused.returncode == 2 and "cannot connect to" in refused.stderr and "SSL" in refused.stderr
    assert "Traceback" not in refused.stderr

    secret = "s3cret-in-the-query"
    accepted = run_cli(
        "--db", pg_url + f"?sslmode=disable&connect_timeout=3&password={secret}", "status", "--json", cwd=tmp_path
    )
    assert accepted.returncode == 0, accepted.output
    assert secret not in accepted.output and "password=***" in accepted.stdout

    unknown = run_cli("--db", pg_url + "?sslmod=require", "status", cwd=tmp_path)
    assert unknown.returncode == 2 and "sslmod" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_mysql_url_may_name_the_socket_and_refuses_parameters_it_does_not_know(
    my_url, tmp_path, run_cli, monkeypatch
):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    socket = query(my_url, "SELECT @@socket")[0][0]
    project = make_project(tmp_path, my_url + f"?unix_socket={socket}")
    write_migration(project, V1, "t", "CREATE TABLE t (x INTEGER);", "DROP TABLE t;", header="-- risky\n")
    project.hash()
    project.apply()
    assert query(my_url, "SELECT count(*) FROM t") == [(0,)]
    assert project.history()[0][-1].backup  # mariadb-dump went through the socket too

    unknown = run_cli("--db", my_url + "?sslmode=require", "status", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown parameter 'sslmode'" in unknown.stderr
    assert "unix_socket" in unknown.stderr and "Traceback" not in unknown.stderr
    bad = run_cli("--db", my_url + "?ssl_verify_cert=maybe", "status", cwd=tmp_path)
    assert bad.returncode == 2 and "ssl_verify_cert" in bad.stderr
