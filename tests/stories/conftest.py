"""The shared story suite: every story runs on SQLite, PostgreSQL and MariaDB, each on an empty database.

``project`` is a fresh project on an empty database of the test's ``dialect`` (``database_url``:
a new SQLite file, a new MariaDB database, or the suite's PostgreSQL database emptied). A story
that only makes sense on some databases says so with ``@pytest.mark.dialects("postgresql", ...)``
(it is then not generated for the others, rather than skipped). Read the database with the
helpers of ``stories/db.py`` (through dbshift's own ``open_database``). Servers that are down
skip with the reason, and fail under ``CI=true`` (the ``postgres_url``/``mysql_url`` fixtures).
"""

from __future__ import annotations

import pytest

from dbshift import Project
from servers.conftest import create_database, drop_database, reset_postgresql_database

DIALECTS = ("sqlite", "postgresql", "mysql")


def pytest_configure(config):
    config.addinivalue_line("markers", "dialects(*names): run this story only on these databases")


def pytest_generate_tests(metafunc):
    if "dialect" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("dialects")
        metafunc.parametrize("dialect", marker.args if marker else DIALECTS)


@pytest.fixture(scope="session")
def postgresql_story_database(postgres_url) -> str:
    """One PostgreSQL database for the stories, emptied before each (see ``database_url``)."""
    url = create_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


@pytest.fixture
def database_url(request, dialect) -> str:
    """The URL of a fresh, empty database of ``dialect``: SQLite's ``app.db`` in the project folder, a new
    database on MariaDB (dropped after the test), and on PostgreSQL one database emptied before each
    story (CREATE DATABASE costs half a second; emptying it, a twentieth)."""
    if dialect == "sqlite":
        yield "sqlite:///app.db"
    elif dialect == "postgresql":
        url = request.getfixturevalue("postgresql_story_database")
        reset_postgresql_database(url)
        yield url
    else:
        base = request.getfixturevalue("mysql_url")
        url = create_database(base)
        try:
            yield url
        finally:
            drop_database(base, url)


@pytest.fixture
def project(database_url, tmp_path, monkeypatch) -> Project:
    """A fresh dbshift project in ``tmp_path`` on a fresh database of ``dialect``."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return Project.init(tmp_path, database_url)
