"""A child rebuilt in the same migration as its parent's key column is renamed.

Known bug (found 2026-12-06, not fixed yet): the SQLite planner checks the child's keys right after
its rebuild, before the parent's RENAME COLUMN that comes later in the same up, so the up fails
with "foreign key mismatch" (and is rolled back: nothing is lost, but the draft cannot be applied).
Checking the keys after every change of a direction fixes it, but needs the checks to follow later
table renames and the draft lint's parts to route the moved checks; until then the story is a
strict xfail."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift.errors import DbshiftError

PARENT = '"old ""name"""'
CREATE = (
    f'CREATE TABLE {PARENT} (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
    f'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES {PARENT}("key col"), n INTEGER);'
)
DESIRED = (
    'CREATE TABLE "new ""name""" (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE, v TEXT);\n'
    'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "new ""name"""("kéy"), n TEXT);\n'
)


def _rows(project) -> dict[str, list[tuple]]:
    with sqlite3.connect(project.config.root / "app.db") as conn:
        parent = next(r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE name LIKE '%name%'"))
        quoted = '"' + parent.replace('"', '""') + '"'
        return {
            "parent": conn.execute(f"SELECT * FROM {quoted} ORDER BY id").fetchall(),
            "kid": conn.execute("SELECT id, ref, n, typeof(n) FROM kid ORDER BY id").fetchall(),
        }


def test_a_child_rebuilt_before_its_parent_s_key_column_is_renamed_applies_and_rolls_back(project):
    write_migration(project, 20260101000000, "start", CREATE, "DROP TABLE kid;\nDROP TABLE " + PARENT + ";")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.executemany(f"INSERT INTO {PARENT} VALUES (?, ?, ?)", [(1, 10, "a"), (2, -7, "b ✓"), (3, None, None)])
        conn.executemany("INSERT INTO kid VALUES (?, ?, ?)", [(1, 10, 5), (2, -7, -2), (3, None, None), (4, 10, 0)])
    (project.config.root / "schema.sql").write_text(DESIRED)
    before = _rows(project)
    drafted = project.diff(name="rename_key", renames=['old "name"=new "name"', 'new "name".key col=kéy'])
    up = drafted.plan.up_sql()
    assert up.index("RENAME COLUMN") < up.index('PRAGMA foreign_key_check("kid")')
    project.apply()
    applied = _rows(project)
    assert applied["parent"] == before["parent"]
    assert [r[:3] for r in applied["kid"]] == [(1, 10, "5"), (2, -7, "-2"), (3, None, None), (4, 10, "0")]
    project.rollback()
    assert _rows(project) == before  # the integers came back as integers


def test_a_child_whose_key_really_breaks_is_still_refused_at_the_end(project):
    """Deferring the check must not skip it: an orphan key fails the migration, which is rolled back."""
    write_migration(project, 20260101000000, "start", CREATE, "DROP TABLE kid;\nDROP TABLE " + PARENT + ";")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.execute(f"INSERT INTO {PARENT} VALUES (1, 10, 'a')")
        conn.execute("INSERT INTO kid VALUES (1, 99, 5)")  # an orphan (foreign keys are off here)
    (project.config.root / "schema.sql").write_text(DESIRED)
    before = _rows(project)
    project.diff(name="rename_key", renames=['old "name"=new "name"', 'new "name".key col=kéy'])
    with pytest.raises(DbshiftError, match="foreign key"):
        project.apply()
    assert _rows(project) == before
