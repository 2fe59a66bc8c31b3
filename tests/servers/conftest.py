"""Server fixtures: every test gets a fresh database on the real server, dropped afterwards."""

from __future__ import annotations

import uuid

import pytest

from dbshift import Project
from dbshift.dialects import open_database
from dbshift.urls import parse_url

SERVERS = ["postgresql", "mysql"]


def _admin(url: str):
    return open_database(parse_url(url))


def create_database(base_url: str) -> str:
    """Create a uniquely named database on the server of ``base_url``; its URL."""
    name = f"dbshift_t_{uuid.uuid4().hex[:10]}"
    admin = _admin(base_url)
    try:
        admin.execute(f"CREATE DATABASE {admin.quote(name)}")
    finally:
        admin.close()
    return parse_url(base_url).with_database(name).raw


def drop_database(base_url: str, url: str) -> None:
    """Drop the database of ``url`` (PostgreSQL: even with sessions still connected)."""
    admin = _admin(base_url)
    name = parse_url(url).database
    force = " WITH (FORCE)" if admin.dialect == "postgresql" else ""
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {admin.quote(name)}{force}")
    finally:
        admin.close()


def reset_postgresql_database(url: str) -> None:
    """Empty a PostgreSQL database in place, as fresh as a new one for dbshift and ten times quicker
    to get: its other sessions end (a killed run's may still hold the migration lock), its schemas
    are dropped and ``public`` is made again as PostgreSQL 15 makes it."""
    db = open_database(parse_url(url))
    try:
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        schemas = [
            r[0]
            for r in db.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
            )
        ]
        with db.transaction():
            for name in schemas:
                db.execute(f"DROP SCHEMA {db.quote(name)} CASCADE")
            db.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
            db.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
    finally:
        db.close()


@pytest.fixture(params=SERVERS)
def server_url(request) -> str:
    """The URL of a fresh, empty database on each server (dropped after the test)."""
    base = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    url = create_database(base)
    yield url
    drop_database(base, url)


@pytest.fixture
def pg_url(postgres_url) -> str:
    """A fresh PostgreSQL database (dropped after the test)."""
    url = create_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


@pytest.fixture
def my_url(mysql_url) -> str:
    """A fresh MariaDB/MySQL database (dropped after the test)."""
    url = create_database(mysql_url)
    yield url
    drop_database(mysql_url, url)


def make_project(tmp_path, url: str) -> Project:
    """A dbshift project in ``tmp_path`` whose database is ``url``."""
    return Project.init(tmp_path, url)


def project_with(tmp_path, url: str, first_migration: str) -> Project:
    """A project whose first migration (version 20260101090000, already applied) is ``first_migration``."""
    from conftest import write_migration

    project = make_project(tmp_path, url)
    write_migration(project, 20260101090000, "start", first_migration)
    project.hash()
    project.apply()
    return project


@pytest.fixture
def server_project(tmp_path, server_url, monkeypatch) -> Project:
    """A fresh project on a fresh database, once per server."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return make_project(tmp_path, server_url)


def query(url: str, sql: str, params=()) -> list[tuple]:
    """Rows of ``sql`` run on ``url`` in a connection of its own."""
    db = open_database(parse_url(url))
    try:
        return db.execute(sql, params)
    finally:
        db.close()


def user_tables(url: str) -> list[str]:
    """The user's tables (without dbshift's own), sorted."""
    db = open_database(parse_url(url))
    try:
        if db.dialect == "postgresql":
            rows = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        else:
            rows = db.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
    finally:
        db.close()
    return sorted(r[0] for r in rows if not r[0].startswith("dbshift_"))
