"""Lint at apply skips work no rule reads, and none of it may change a finding:

* SQLite compiles a schema change a second time (for ``not-rerunnable``) only for a file that
  does not run in one transaction;
* a created table's columns are read when a later statement needs them (an ALTER or DROP of the
  table is stopped until they are), not after every CREATE TABLE;
* a script split once is not split again (the gate, the history record and the runner read the
  same ups).

Each story below makes a rule depend on the skipped work, and one lints sqldef's SQLite corpus
and odd hand-written files with every shortcut and again with none: the same findings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dbshift import Project
from dbshift.analysis.base import Analyser
from dbshift.analysis.sqlite import SQLiteAnalyser
from dbshift.dialects import description
from dbshift.dialects.sqlite_script import split_sqlite_script
from dbshift.lint import lint_migrations
from dbshift.lint.gate import apply_findings
from dbshift.migrations import discover

ODD = '"ODD täble ""q"""'


def _project(tmp_path: Path, files: dict[str, str]) -> Project:
    folder = tmp_path / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    (tmp_path / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n', encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Project(tmp_path)


def _gate(project: Project) -> list[tuple[str, str, int, str]]:
    """What `dbshift apply` prints before it runs anything: the error-level findings of the ups."""
    with project.connect() as db:
        blocking, other = apply_findings(project.config, db, project.migrations())
    return [(Path(f.file).name, f.code, f.line, f.problem) for f in blocking + other]


def test_a_no_transaction_file_still_hears_which_statement_fails_a_second_run(tmp_path):
    files = {
        "20260101000000_users.sql": "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n",
        "20260102000000_twice.sql": (
            "-- no-transaction\n-- migrate:up\n"
            f"CREATE TABLE {ODD} (a int);\n"
            "CREATE INDEX users_name ON users (name);\n"
            "CREATE INDEX IF NOT EXISTS users_id ON users (id);\n"
            "ALTER TABLE users ADD COLUMN city text;\n"
            "-- migrate:down\nSELECT 1;\n"
        ),
    }
    project = _project(tmp_path, files)
    found = [
        (Path(f.file).name, f.line, f.problem.split(":")[0])
        for f in lint_migrations(project)
        if f.code == "not-rerunnable"
    ]
    assert found == [
        ("20260102000000_twice.sql", 3, "running it again fails"),
        ("20260102000000_twice.sql", 4, "running it again fails"),
    ]
    # the same statements in one transaction: a failure takes them all back, so nothing to say
    text = files["20260102000000_twice.sql"].replace("-- no-transaction\n", "")
    (tmp_path / "migrations" / "20260102000000_twice.sql").write_text(text, encoding="utf-8")
    assert [f for f in lint_migrations(Project(tmp_path)) if f.code == "not-rerunnable"] == []


def test_a_rebuild_of_a_table_an_earlier_pending_migration_made_still_names_the_lost_column(tmp_path):
    project = _project(
        tmp_path,
        {
            "20260101000000_make.sql": f'-- migrate:up\nCREATE TABLE {ODD} (id INTEGER PRIMARY KEY, a TEXT, "b c" TEXT);\n',
            "20260102000000_rebuild.sql": (
                "-- migrate:up\n"
                'CREATE TABLE "new" (id INTEGER PRIMARY KEY, a TEXT);\n'
                f'INSERT INTO "new" (id, a) SELECT id, a FROM {ODD.lower()};\n'
                f"DROP TABLE {ODD};\n"
                f'ALTER TABLE "new" RENAME TO {ODD};\n'
                f'ALTER TABLE {ODD} RENAME COLUMN a TO "x y";\n'
                "-- migrate:down\nSELECT 1;\n"
            ),
        },
    )
    lost = 'the rebuild\'s copy leaves out b c of ODD täble "q": their values are lost when the old table is dropped'
    # apply reads both ups against the empty database: the first one's table is new to the copy
    assert _gate(project) == [("20260102000000_rebuild.sql", "rebuild-loses-columns", 4, lost)]
    assert [
        (f.code, f.line, f.problem.split(" breaks")[0])
        for f in lint_migrations(project)
        if Path(f.file).name.endswith("_rebuild.sql")
    ] == [
        ("rebuild-loses-columns", 4, lost),
        ("table-rebuild", 4, 'ODD täble "q" is rebuilt: every row is copied while writes wait'),
        ("rename-column", 6, 'renaming ODD täble "q".a -> x y'),
    ]


def test_columns_dropped_renamed_and_a_table_dropped_after_another_file_made_them_are_each_named(tmp_path):
    project = _project(
        tmp_path,
        {
            "20260101000000_make.sql": f"-- migrate:up\nCREATE TABLE {ODD} (id INTEGER PRIMARY KEY, keep TEXT, lose TEXT);\n",
            "20260102000000_change.sql": (
                f"-- migrate:up\nALTER TABLE {ODD} DROP COLUMN lose;\nALTER TABLE {ODD} RENAME COLUMN keep TO kept;\n"
                f"DROP TABLE {ODD};\n-- migrate:down\nSELECT 1;\n"
            ),
        },
    )
    found = [(f.code, f.line, f.problem.split(" deletes")[0].split(" breaks")[0]) for f in lint_migrations(project)]
    assert [f for f in found if f[0] != "missing-down"] == [
        ("drop-column", 2, 'dropping ODD täble "q".lose'),
        ("rename-column", 3, 'renaming ODD täble "q".keep -> kept'),
        ("drop-table", 4, 'DROP TABLE ODD täble "q"'),
    ]
    assert [(code, line) for _, code, line, _ in _gate(project)] == [("drop-column", 2), ("drop-table", 4)]


@pytest.mark.parametrize(
    "statement, read",
    [
        ("DROP TABLE {t}", lambda e: [d.columns for d in e.drops] == [("a", "b")]),
        ("ALTER TABLE {t} DROP COLUMN b", lambda e: [c.column for c in e.drops_columns] == ["b"]),
        ("ALTER TABLE {t} RENAME COLUMN a TO z", lambda e: [(r.column, r.new_name) for r in e.renames] == [("a", "z")]),
        ("ALTER TABLE {t} RENAME TO u", lambda e: [(r.column, r.new_name) for r in e.renames] == [(None, "u")]),
        ("ALTER TABLE {t} ADD COLUMN c", lambda e: [(c.kind, c.name) for c in e.changes] == [("add_column", "c")]),
    ],
)
def test_the_copy_reads_a_new_tables_columns_before_a_statement_changes_them(statement, read):
    second = '"sécond ""t"""'
    with SQLiteAnalyser() as analyser:
        analyser.statement(f"CREATE TABLE {ODD} (a, b)")
        effects = analyser.statement(statement.format(t=ODD))
        assert effects.unreadable is None and read(effects), effects
        # the same inside a down, read tentatively: afterwards the copy is as it was before it
        analyser.statement(f"CREATE TABLE {second} (a, b)")
        with analyser.tentatively() as down:
            tentative = down.statement(statement.format(t=second).replace("TO u", "TO u2"))
        assert tentative.unreadable is None
        assert [d.columns for d in analyser.statement(f"DROP TABLE {second}").drops] == [("a", "b")]


def test_every_caller_of_a_split_gets_its_own_list_and_a_changed_text_is_split_anew():
    from dbshift.dialects import open_database
    from dbshift.urls import parse_url

    sqlite = description.describe("sqlite")
    text = "CREATE TABLE a (x);\n-- a comment; with a semicolon\nINSERT INTO a VALUES (';');\n"
    first = sqlite.split_script(text, 10)
    first.append("careless caller")
    again = sqlite.split_script(text, 10)
    assert [(s.line, s.sql) for s in again] == [
        (10, "CREATE TABLE a (x);"),
        (12, "-- a comment; with a semicolon\nINSERT INTO a VALUES (';');"),
    ]
    assert again == split_sqlite_script(text, 10)
    assert [s.line for s in sqlite.split_script(text, 1)] == [1, 3]
    edited = text.replace("';'", "'x'")
    assert sqlite.split_script(edited, 10)[1].sql.endswith("INSERT INTO a VALUES ('x');")
    db = open_database(parse_url("sqlite:///:memory:"))  # the runner splits through the same memo
    try:
        assert db.split_script(text, 10) == again
    finally:
        db.close()


def _corpus_projects(corpus: Path, root: Path) -> list[Path]:
    """A project per sqldef SQLite case (its current schema, then its up and down), in a
    transaction and with ``-- no-transaction``, and a few odd hand-written ones."""
    cases = []
    for path in sorted((corpus / "sqldef" / "sqlite3").glob("*.yml")):
        for name, case in (yaml.safe_load(path.read_text()) or {}).items():
            if not isinstance(case, dict):
                continue
            files = []
            if (case.get("current") or "").strip():
                files.append((case["current"], None))
            if (case.get("up") or "").strip():
                files.append((case["up"], case.get("down") or ""))
            elif (case.get("desired") or "").strip():
                files.append((case["desired"], case.get("down")))
            if files:
                cases.append((f"{path.stem}_{name}", files))
    cases += [
        (
            "odd",
            [
                (f'CREATE TABLE {ODD} (a TEXT, "x;y" INT);\nCREATE TABLE log (x);\nINSERT INTO log VALUES (1);', None),
                (
                    f'ALTER TABLE {ODD.lower()} RENAME TO "other;";\nCREATE TABLE IF NOT EXISTS "other;" (z);\n'
                    'CREATE TABLE t_new (a TEXT);\nINSERT INTO t_new SELECT a FROM "other;";\nDROP TABLE "other;";\n'
                    "ALTER TABLE t_new RENAME TO t;\nDELETE FROM log WHERE x < 10;\nUPDATE log SET x = 2;\n"
                    "ALTER TABLE log ADD COLUMN y INT;\nALTER TABLE log DROP COLUMN y;\nCREATE UNIQUE INDEX l ON log (x);\n"
                    "BEGIN;\nCREATE TABLE b (id INT);\nCOMMIT;\nCREATE TEMP TABLE tt (x);\nDROP TABLE tt;\n"
                    "PRAGMA writable_schema = 1;\nSELECT nonsense FROM nowhere;",
                    'CREATE TABLE "ODD täble ""q""" (a TEXT);\nDROP TABLE t;',
                ),
            ],
        )
    ]
    projects = []
    for number, (name, files) in enumerate(cases):
        for header in ("", "-- no-transaction\n"):
            folder = root / f"{number:03d}{'_notx' if header else ''}"
            (folder / "migrations").mkdir(parents=True)
            (folder / "dbshift.toml").write_text('[database]\nurl = "sqlite:///app.db"\n', encoding="utf-8")
            for i, (up, down) in enumerate(files):
                text = f"{header}-- migrate:up\n{up.strip()}\n"
                if down is not None:
                    text += f"-- migrate:down\n{down.strip()}\n"
                (folder / "migrations" / f"2026010100000{i}_{name[:40]}.sql").write_text(text, encoding="utf-8")
            projects.append(folder)
    return projects


def _all_findings(projects: list[Path]) -> list:
    found = []
    for folder in projects:
        migrations = discover(folder / "migrations")
        found.append([f.as_json() for f in lint_migrations(migrations, "sqlite")])
        found.append(_gate(Project(folder)))
    return found


def test_every_shortcut_leaves_the_findings_of_sqldefs_corpus_as_they_were(corpus, tmp_path, monkeypatch):
    projects = _corpus_projects(corpus, tmp_path)
    assert len(projects) > 100
    quick = _all_findings(projects)
    assert any("not-rerunnable" in str(f) for f in quick) and any("rebuild" in str(f) for f in quick)
    with monkeypatch.context() as none:
        # no shortcut: every schema change compiled again, every created table read at once, no memo
        none.setattr(SQLiteAnalyser, "script", lambda self, statements, rerun=True: Analyser.script(self, statements))
        none.setattr(SQLiteAnalyser, "_read_existing", lambda self, names: None)
        none.setattr(description, "_SPLITS", description._SplitMemo(budget=0))
        slow = _all_findings(projects)
    assert quick == slow


def test_a_temporary_table_of_the_same_name_does_not_stand_in_for_the_real_one():
    with SQLiteAnalyser() as analyser:
        analyser.statement(f"CREATE TEMP TABLE {ODD} (z)")
        analyser.statement(f"CREATE TABLE main.{ODD} (a, b)")  # read later, from main, not from temp
        dropped = analyser.statement(f"ALTER TABLE main.{ODD} DROP COLUMN b")
        renamed = analyser.statement(f"ALTER TABLE main.{ODD} RENAME COLUMN a TO q")
        gone = analyser.statement(f"DROP TABLE main.{ODD}")
    assert [c.column for c in dropped.drops_columns] == ["b"]
    assert [(r.column, r.new_name) for r in renamed.renames] == [("a", "q")]
    assert [d.columns for d in gone.drops] == [("q",)]


def test_the_split_memo_keeps_within_its_budget_and_still_splits_what_it_lets_go():
    memo = description._SplitMemo(budget=400)
    splitter = description.describe("sqlite").splitter
    texts = [f"CREATE TABLE t{i:02d} (x);\nINSERT INTO t{i:02d} VALUES ({i:02d});" for i in range(20)]
    huge = "INSERT INTO t VALUES (1);\n" * 10  # over a budget's eighth: split each time, never kept
    for _ in range(2):
        for text in [*texts, huge]:
            assert memo.split(splitter, text, 3) == split_sqlite_script(text, 3)
            assert memo.held <= memo.budget
    assert huge not in {text for _, _, text in memo.splits}
    assert len(memo.splits) == memo.held // (2 * len(texts[0]))  # the newest ones, each counted twice
