"""A child rebuilt in the same migration as its parent's key column is renamed.

Found 2026-12-06: the SQLite planner checked the child's keys right after its rebuild, before the
parent's RENAME COLUMN that comes later in the same up, so the up failed with "foreign key
mismatch" (and was rolled back: nothing lost, but the draft could not be applied). Each check now
runs after the last step of its direction that changes a table it reads, named as the direction
ends (dbshift.planners.sqlite_key_checks); the stories below try to break that, both ways."""

from __future__ import annotations

import sqlite3

import pytest
from key_check_stories import ORPHANS, STORIES

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


# -- the stories of key_check_stories: each drafted both ways, applied, rehearsed, rolled back ---------
def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _values(project) -> dict[str, list[tuple]]:
    """Every table of the story with its rows in id order."""
    with sqlite3.connect(project.config.root / "app.db") as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                "AND name NOT LIKE 'dbshift%' ORDER BY name"
            )
        ]
        return {n: conn.execute(f"SELECT * FROM {_quoted(n)} ORDER BY id").fetchall() for n in names}


def _start(project, schema: str, rows: dict[str, list[tuple]], extra: tuple[str, tuple] | None = None) -> None:
    """The story's first state applied as a hand-written migration, its rows inserted with keys off."""
    tables = [line.split("(")[0].removeprefix("CREATE TABLE ") for line in schema.splitlines() if "TABLE" in line]
    write_migration(project, 20260101000000, "start", schema, "\n".join(f"DROP TABLE {t};" for t in reversed(tables)))
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        for table, values in list(rows.items()) + ([(extra[0], [extra[1]])] if extra else []):
            marks = ", ".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {_quoted(table)} VALUES ({marks})", values)


def _story(name: str, backwards: bool):
    first, first_rows, second, second_rows, renames, renames_back = STORIES[name]
    if backwards:
        return second, second_rows, first, first_rows, renames_back
    return first, first_rows, second, second_rows, renames


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("name", list(STORIES))
def test_each_key_check_waits_for_the_last_change_to_what_it_reads(project, name, backwards):
    start, start_rows, end, end_rows, renames = _story(name, backwards)
    _start(project, start, start_rows)
    assert _values(project) == start_rows
    (project.config.root / "schema.sql").write_text(end)
    drafted = project.diff(name="story", renames=renames)
    for statements in (drafted.plan.up_statements(), drafted.plan.down_statements()):
        checks = [s for s in statements if s.startswith("PRAGMA foreign_key_check")]
        assert checks and len(checks) == len(set(checks)), checks  # every checked table once per direction
    rehearsal = project.rehearse()
    assert rehearsal.ok, [s.as_json() for s in rehearsal.steps if s.outcome != "pass"]
    project.apply()
    assert _values(project) == end_rows
    project.rollback()
    assert _values(project) == start_rows


@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("name", list(STORIES))
def test_an_orphan_key_still_fails_the_up_and_the_down_with_nothing_changed(project, name, backwards, direction):
    """The moved checks still run: a key with no parent (written with keys off) fails the up, or,
    written after the up, the down; the migration is rolled back and every value is as it was."""
    start, start_rows, end, _, renames = _story(name, backwards)
    first, second, orphan = ORPHANS[name]
    start_table, end_table = (second, first) if backwards else (first, second)
    _start(project, start, start_rows, (start_table, orphan) if direction == "up" else None)
    (project.config.root / "schema.sql").write_text(end)
    project.diff(name="story", renames=renames)
    if direction == "down":
        project.apply()
        with sqlite3.connect(project.config.root / "app.db") as conn:
            conn.execute(f"INSERT INTO {_quoted(end_table)} VALUES ({', '.join('?' * len(orphan))})", orphan)
    before = _values(project)
    assert orphan[0] in [row[0] for row in before[start_table if direction == "up" else end_table]]
    with pytest.raises(DbshiftError, match="foreign key"):
        project.apply() if direction == "up" else project.rollback()
    assert _values(project) == before
