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
