"""On a table bigger than lint's sample, the duplicate search reads a sample and the finding says
so (a GROUP BY over 5M rows took 12 s; bench/lint.py data); below it, the whole table is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbshift.dialects import open_database
from dbshift.lint import data, lint_migrations
from dbshift.migrations import parse_migration
from dbshift.urls import parse_url


@pytest.fixture
def db(tmp_path):
    database = open_database(parse_url(f"sqlite:///{tmp_path / 'app.db'}"))
    database.execute('CREATE TABLE "ü t" (id INTEGER PRIMARY KEY, code TEXT)')
    for i in range(10):
        database.execute('INSERT INTO "ü t" VALUES (?, ?)', (i, "dup 'q'" if i < 2 else f"c{i}"))
    yield database
    database.close()


def _duplicates(db, tmp_path) -> list[str]:
    path = tmp_path / "20260101000000_unique.sql"
    path.write_text('-- migrate:up\nCREATE UNIQUE INDEX one_code ON "ü t" (code);\n')
    migration = parse_migration(path.name, path.read_bytes(), Path(path))
    return [
        f.problem for f in lint_migrations([migration], "sqlite", database=db) if f.code == "duplicates-block-unique"
    ]


def test_a_table_bigger_than_the_sample_is_sampled_and_the_finding_says_so(db, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SAMPLE_ROWS", 4)
    (problem,) = _duplicates(db, tmp_path)
    assert "held by more than one row in a sample of 4 rows (the table has more; the rest not checked): 1" in problem
    assert "dup 'q'" in problem


def test_a_table_within_the_sample_is_read_whole(db, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "SAMPLE_ROWS", 10)
    (problem,) = _duplicates(db, tmp_path)
    assert "sample" not in problem and "held by more than one row: 1" in problem
