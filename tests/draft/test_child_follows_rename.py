"""A parent's key column renamed on SQLite: its children are not copied for nothing.

Found 2026-12-06: when the desired schema renamed a parent's key column and the children's
foreign keys followed it, the draft renamed the column natively (ALTER TABLE ... RENAME COLUMN,
which also rewrites every child's REFERENCES clause) AND rebuilt every child because its
foreign key text changed: every child row copied for nothing. A child whose only difference is
what the parent's native renames write into it now gets no statement at all; a child whose
parent is rebuilt (SQLite then rewrites nothing) is still rebuilt. Each story is applied, checked
against the desired schema (`dbshift diff --check --from db`), rolled back and compared by values."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import write_migration
from dbshift.drafting.sources import schema_from_sql
from dbshift.inspectors.sqlite import inspect_sqlite

PLAIN = (
    'CREATE TABLE p (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
    'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES p("key col"), n INTEGER);\n',
    {"p": [(1, 10, "a"), (2, -7, None), (3, None, "c ✓")], "kid": [(1, 10, 5), (2, -7, None), (3, None, 0)]},
    'CREATE TABLE p (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE, v TEXT);\n'
    'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES p("kéy"), n INTEGER);\n',
    ["p.key col=kéy"],
    ["p.kéy=key col"],
)
# tests/draft/test_key_check_order.py's story (parent table and key column renamed), the child otherwise the same.
RENAMED_PARENT = (
    'CREATE TABLE "old ""name""" (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
    'CREATE TABLE "kid ✓" (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "old ""name"""("key col"), n INTEGER);\n',
    {'old "name"': [(1, 10, "a"), (2, -7, "b ✓"), (3, None, None)], "kid ✓": [(1, 10, 5), (2, -7, -2), (4, 10, 0)]},
    'CREATE TABLE "new ""name""" (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE, v TEXT);\n'
    'CREATE TABLE "kid ✓" (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "new ""name"""("kéy"), n INTEGER);\n',
    ['old "name"=new "name"', 'new "name".key col=kéy'],
    ['new "name"=old "name"', 'old "name".kéy=key col'],
)
# a <- b <- c, a's and b's keys renamed (b follows a, c follows b), and a table referencing itself.
CHAIN = (
    'CREATE TABLE a (id INTEGER PRIMARY KEY, "key" INTEGER UNIQUE);\n'
    'CREATE TABLE b (id INTEGER PRIMARY KEY, a_key INTEGER REFERENCES a("key"), code TEXT UNIQUE);\n'
    "CREATE TABLE c (id INTEGER PRIMARY KEY, b_code TEXT REFERENCES b(code));\n"
    'CREATE TABLE "nöde" (id INTEGER PRIMARY KEY, k INTEGER UNIQUE, up INTEGER REFERENCES "nöde"(k));\n',
    {
        "a": [(1, 100), (2, 200)],
        "b": [(1, 100, "x"), (2, 200, "y ✓"), (3, None, None)],
        "c": [(1, "x"), (2, "y ✓"), (3, None)],
        "nöde": [(1, 1, None), (2, 2, 1), (3, 3, 2)],
    },
    'CREATE TABLE a (id INTEGER PRIMARY KEY, "a key" INTEGER UNIQUE);\n'
    'CREATE TABLE b (id INTEGER PRIMARY KEY, a_key INTEGER REFERENCES a("a key"), "cöde" TEXT UNIQUE);\n'
    'CREATE TABLE c (id INTEGER PRIMARY KEY, b_code TEXT REFERENCES b("cöde"));\n'
    'CREATE TABLE "nöde" (id INTEGER PRIMARY KEY, "k 2" INTEGER UNIQUE, up INTEGER REFERENCES "nöde"("k 2"));\n',
    ["a.key=a key", "b.code=cöde", "nöde.k=k 2"],
    ["a.a key=key", "b.cöde=code", "nöde.k 2=k"],
)
STORIES = {"plain": PLAIN, "parent table renamed too": RENAMED_PARENT, "chain and self-reference": CHAIN}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn) -> list[str]:
    sql = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'dbshift%'"
    return sorted(r[0] for r in conn.execute(sql))


def _values(project) -> dict[str, list[tuple]]:
    with sqlite3.connect(project.config.root / "app.db") as conn:
        return {n: conn.execute(f"SELECT * FROM {_quoted(n)} ORDER BY id").fetchall() for n in _tables(conn)}


def _schema(project):
    """The database's schema as dbshift reads it, without dbshift's own tables."""
    from dataclasses import replace

    with sqlite3.connect(project.config.root / "app.db") as conn:
        schema = inspect_sqlite(conn)
    return replace(schema, tables=tuple(t for t in schema.tables if not t.name.startswith("dbshift")))


def _start(project, schema: str, rows: dict[str, list[tuple]]) -> None:
    tables = [line.split(" (")[0].removeprefix("CREATE TABLE ") for line in schema.splitlines()]
    write_migration(project, 20260101000000, "start", schema, "\n".join(f"DROP TABLE {t};" for t in reversed(tables)))
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        for table, values in rows.items():
            conn.executemany(f"INSERT INTO {_quoted(table)} VALUES ({', '.join('?' * len(values[0]))})", values)


def _renamed(rows: dict[str, list[tuple]], start: str, end: str) -> dict[str, list[tuple]]:
    """``rows`` under the table names of ``end`` (the stories rename tables in place, by position)."""
    names = [schema_from_sql(s).tables for s in (start, end)]
    by_key = {a.name: b.name for a, b in zip(*names)}
    return {by_key[t]: r for t, r in sorted(rows.items())}


def _rebuilt(statements: list[str]) -> set[str]:
    return {
        s.split('"')[1].removeprefix("_dbshift_new_") for s in statements if s.startswith('CREATE TABLE "_dbshift_new_')
    }


def _apply_and_roll_back(
    project, run_cli, start: str, end: str, start_rows: dict, end_rows: dict | None = None
) -> None:
    """Rehearse, apply (the desired schema exactly, every value), roll back (the first schema and values)."""
    before, schema_before = _values(project), _schema(project)
    assert before == dict(sorted(start_rows.items()))
    rehearsal = project.rehearse()
    assert rehearsal.ok, [s.as_json() for s in rehearsal.steps if s.outcome != "pass"]
    project.apply()
    assert _values(project) == (end_rows or _renamed(start_rows, start, end))
    assert _schema(project).tables == schema_from_sql(end).tables
    check = run_cli("diff", "--check", "--from", "db")
    assert check.returncode == 0, check.output  # nothing left to do
    project.rollback(force=end_rows is not None)  # the added column (all NULL here) is dropped
    assert _values(project) == before
    assert _schema(project) == schema_before


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("name", list(STORIES))
def test_children_that_only_follow_a_renamed_key_are_not_copied(project, run_cli, name, backwards):
    first, rows, second, renames, renames_back = STORIES[name]
    start, end, hints = (second, first, renames_back) if backwards else (first, second, renames)
    start_rows = _renamed(rows, first, start)
    _start(project, start, start_rows)
    (project.config.root / "schema.sql").write_text(end)
    shown = run_cli("plan", *(a for h in hints for a in ("--rename", h)))
    assert shown.returncode == 0, shown.output
    assert "nothing to run" in shown.output and "table rebuild" not in shown.output, shown.output
    drafted = project.diff(name="follow", renames=hints)
    written = next(project.config.migrations_dir.glob("*_follow.sql")).read_text()
    assert written.startswith("-- description: ") and "nothing to run" not in written.splitlines()[0]
    assert not drafted.plan.rewrites_tables
    assert _rebuilt(drafted.plan.up_statements()) == _rebuilt(drafted.plan.down_statements()) == set()
    followers = [op for op in drafted.plan.operations if not op.sql]
    assert followers and all(op.reverse == [] for op in followers)
    assert drafted.plan.up_statements() and all("RENAME" in s for s in drafted.plan.up_statements())
    _apply_and_roll_back(project, run_cli, start, end, start_rows)


def test_a_child_of_a_rebuilt_parent_is_still_rebuilt_since_sqlite_rewrites_nothing(project, run_cli):
    """The parent's rebuild (a new CHECK) renames its key by copying: the child's REFERENCES still says
    "key col" unless the child is rebuilt too."""
    start = PLAIN[0]
    end = PLAIN[2].replace("v TEXT", "v TEXT CHECK (v <> '')")
    _start(project, start, PLAIN[1])
    (project.config.root / "schema.sql").write_text(end)
    drafted = project.diff(name="rebuild", renames=PLAIN[3])
    assert _rebuilt(drafted.plan.up_statements()) == {"p", "kid"}
    assert _rebuilt(drafted.plan.down_statements()) == {"p", "kid"}
    _apply_and_roll_back(project, run_cli, start, end, PLAIN[1])


def test_a_parent_renamed_natively_up_but_rebuilt_down_rebuilds_the_child_only_down(project, run_cli):
    """The up adds a column with a foreign key (native ADD COLUMN) and renames the key; the down
    cannot DROP a key column natively, so it rebuilds the parent, and the child with it."""
    start = PLAIN[0]
    end = PLAIN[2].replace("v TEXT)", "v TEXT, q INTEGER REFERENCES p(id))")
    _start(project, start, PLAIN[1])
    (project.config.root / "schema.sql").write_text(end)
    drafted = project.diff(name="one_way", renames=PLAIN[3])
    assert _rebuilt(drafted.plan.up_statements()) == set()
    assert _rebuilt(drafted.plan.down_statements()) == {"p", "kid"}
    end_rows = {"kid": PLAIN[1]["kid"], "p": [row + (None,) for row in PLAIN[1]["p"]]}
    _apply_and_roll_back(project, run_cli, start, end, PLAIN[1], end_rows)


@pytest.mark.parametrize(
    ("start", "end", "rename", "up", "down"),
    [
        (PLAIN[0], PLAIN[2].replace('"kéy" INTEGER UNIQUE', '"Kéy" INTEGER UNIQUE'), "p.key col=Kéy", {"kid"}, set()),
        (PLAIN[0].replace('p("key col")', 'p("KEY COL")'), PLAIN[2], "p.key col=kéy", set(), {"kid"}),
    ],
    ids=["the desired child", "the first child"],
)
def test_a_child_spelling_the_key_in_another_case_still_ends_as_written(project, run_cli, start, end, rename, up, down):
    """SQLite finds the old name in any case but writes the new one as the RENAME COLUMN spells it:
    a child that spells it otherwise must be rebuilt in that direction to end exactly as written."""
    _start(project, start, PLAIN[1])
    (project.config.root / "schema.sql").write_text(end)
    drafted = project.diff(name="spelling", renames=[rename])
    assert _rebuilt(drafted.plan.up_statements()) == up
    assert _rebuilt(drafted.plan.down_statements()) == down
    _apply_and_roll_back(project, run_cli, start, end, PLAIN[1])


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
def test_a_parent_table_renamed_alone_leaves_its_child_alone(project, run_cli, backwards):
    """SQLite's RENAME TO rewrites the child's REFERENCES too: the plan is the rename, nothing else."""
    first = (
        'CREATE TABLE "Pa rent" (id INTEGER PRIMARY KEY, k INTEGER UNIQUE);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "Pa rent"(k), n INTEGER);\n'
    )
    second = first.replace('"Pa rent"', '"pärent ✓"')
    start, end = (second, first) if backwards else (first, second)
    rows = {"Pa rent": [(1, 1), (2, -1)], "kid": [(1, 1, 9), (2, -1, None), (3, None, 0)]}
    start_rows = _renamed(rows, first, start)
    _start(project, start, start_rows)
    (project.config.root / "schema.sql").write_text(end)
    drafted = project.diff(name="table", renames=["pärent ✓=Pa rent" if backwards else "Pa rent=pärent ✓"])
    assert [op.description for op in drafted.plan.operations] == [
        "rename table pärent ✓ to Pa rent" if backwards else "rename table Pa rent to pärent ✓"
    ]
    _apply_and_roll_back(project, run_cli, start, end, start_rows)
