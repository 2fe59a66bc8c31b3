"""Lint fixtures: squawk's cases from ../shared, fresh server databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import CORPUS, skip_or_fail


@pytest.fixture
def squawk_cases() -> Path:
    """``../shared/corpus/squawk/cases.json``; skips (fails under CI=true) when it is absent."""
    path = CORPUS / "squawk" / "cases.json"
    if not path.is_file():
        skip_or_fail(f"squawk cases not found at {path}")
    return path


@pytest.fixture
def fresh_server_url(request, tmp_path):
    """A new empty database on the PostgreSQL or MariaDB test server (``request.param``), dropped afterwards."""
    from tests.servers.conftest import create_database, drop_database

    base = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "mysql_url")
    url = create_database(base)
    yield url
    drop_database(base, url)


@pytest.fixture(scope="session")
def performance_schema_url():
    """A private MariaDB with performance_schema and its metadata-lock instrument on (the shared
    server runs without them): its ``test`` database's URL. Skips (fails under CI=true) when
    mariadbd is not installed or will not start."""
    from tests.servers.private_mariadb import ServerUnavailable, private_mariadb

    options = ("--performance-schema=ON", "--performance-schema-instrument=wait/lock/metadata/sql/mdl=ON")
    try:
        with private_mariadb(*options) as url:
            yield url
    except ServerUnavailable as exc:
        skip_or_fail(f"private MariaDB with performance_schema: {exc}")


@pytest.fixture(scope="session")
def performance_schema_without_mdl_url():
    """A private MariaDB with performance_schema on but its metadata-lock instrument at MariaDB's
    default (off), as a user who only set ``performance_schema = ON`` has it."""
    from tests.servers.private_mariadb import ServerUnavailable, private_mariadb

    try:
        with private_mariadb("--performance-schema=ON") as url:
            yield url
    except ServerUnavailable as exc:
        skip_or_fail(f"private MariaDB with performance_schema: {exc}")


@pytest.fixture
def pg_db(postgres_url):
    """A new empty database on the PostgreSQL test server, dropped afterwards."""
    from tests.servers.conftest import create_database, drop_database

    url = create_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


@pytest.fixture
def my_db(mysql_url):
    """A new empty database on the MariaDB test server, dropped afterwards."""
    from tests.servers.conftest import create_database, drop_database

    url = create_database(mysql_url)
    yield url
    drop_database(mysql_url, url)
