"""The findings cache: a second `dbshift lint --all` reads no unchanged migration again, and
says exactly what a full read would; anything that could change a finding reads it again."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.conftest import write_migration

from dbshift.lint import LintSettings, lint_migrations
from dbshift.lint.cache import FOLDER, FindingsCache, _tree_stamp

USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, phone TEXT);"


def _cache(project, dialect: str = "sqlite", settings: LintSettings | None = None) -> FindingsCache:
    return FindingsCache.for_project(project.config.root, dialect, settings or LintSettings())


def _lint(project, dialect: str = "sqlite", settings: LintSettings | None = None, cache: bool = True):
    settings = settings or LintSettings()
    found = lint_migrations(
        project.migrations(), dialect, settings=settings, cache=_cache(project, dialect, settings) if cache else None
    )
    return sorted(f.as_json().items() for f in found)


def _no_parsing(monkeypatch):
    """Make any analyser creation fail: the findings must come from the cache."""
    import dbshift.analysis

    def refuse(*args, **kwargs):
        raise AssertionError("a migration was read again")

    monkeypatch.setattr(dbshift.analysis, "analyser_for", refuse)


def _odd_project(project):
    write_migration(project, 20260101000000, "users", USERS, "DROP TABLE users;")
    write_migration(
        project,
        20260102000000,
        "drop_phone",
        "-- lint:ignore drop-column the app stopped reading phone in v2.3\nALTER TABLE users DROP COLUMN phone;\n"
        "DELETE FROM users;",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
    )
    write_migration(project, 20260103000000, "no_down", 'CREATE TABLE "odd ""name""" (x INTEGER);')


def test_a_second_lint_reads_no_migration_again_and_finds_exactly_the_same(project, monkeypatch):
    _odd_project(project)
    first = _lint(project)
    assert first == _lint(project, cache=False)
    assert {dict(f)["code"] for f in first} == {"delete-all-rows", "data-change-without-reverse", "missing-down"}
    _no_parsing(monkeypatch)
    assert _lint(project) == first


def test_an_edited_migration_is_read_again(project):
    _odd_project(project)
    before = _lint(project)
    write_migration(project, 20260103000000, "no_down", 'CREATE TABLE "odd ""name""" (x INTEGER);\nDROP TABLE users;')
    after = _lint(project)
    assert after == _lint(project, cache=False)
    assert after != before
    assert any(dict(f)["code"] == "drop-table" for f in after)


def test_changing_an_earlier_sqlite_migration_reads_the_later_ones_against_the_new_schema(project):
    """The SQLite analyser reads statements against the schema the earlier migrations built: a
    later file that did not change must not keep findings that depended on an earlier one."""
    write_migration(project, 20260101000000, "t", "CREATE TABLE t (a INTEGER);", "DROP TABLE t;")
    write_migration(project, 20260102000000, "index", "CREATE INDEX t_a ON t (a);", "DROP INDEX t_a;")
    before = _lint(project)
    write_migration(project, 20260101000000, "t", "CREATE TABLE t (b INTEGER);", "DROP TABLE t;")
    after = _lint(project)
    assert after == _lint(project, cache=False)
    assert after != before  # CREATE INDEX on a column that is no longer there


def test_other_settings_or_another_dialect_miss(project):
    _odd_project(project)
    for changed in (
        LintSettings(disabled=frozenset({"delete-all-rows"})),
        LintSettings(severities={"delete-all-rows": "info"}),
    ):
        everything = _lint(project)  # stored under the default settings: the changed ones must miss
        assert _lint(project, settings=changed) == _lint(project, settings=changed, cache=False) != everything
    assert _lint(project, "postgresql") == _lint(project, "postgresql", cache=False)
    assert _lint(project, "mysql") == _lint(project, "mysql", cache=False)


@pytest.mark.parametrize(
    "stored",
    [
        b"",
        b"{",
        b"[]",
        b'{"scope": 1, "entries": []}',
        b"\xff\xfe garbage",
    ],
)
def test_a_corrupt_cache_file_is_ignored_and_replaced(project, stored):
    _odd_project(project)
    truth = _lint(project, cache=False)
    folder = project.config.root / FOLDER
    folder.mkdir()
    (folder / "lint.json").write_bytes(stored)
    assert _lint(project) == truth
    assert json.loads((folder / "lint.json").read_text())["entries"]  # rewritten whole


def test_a_stored_finding_of_the_wrong_shape_is_not_trusted(project):
    _odd_project(project)
    truth = _lint(project)
    path = project.config.root / FOLDER / "lint.json"
    stored = json.loads(path.read_text())
    for rows in stored["entries"].values():
        for row in rows:
            row[2] = "not a line"
    path.write_text(json.dumps(stored))
    assert _lint(project) == truth


def test_a_cache_that_cannot_be_written_is_not_an_error(project):
    _odd_project(project)
    (project.config.root / FOLDER).write_text("a file where the folder would go")
    assert _lint(project) == _lint(project, cache=False)
    assert (project.config.root / FOLDER).read_text() == "a file where the folder would go"


def test_a_bad_suppression_is_reported_on_every_run_never_remembered(project, run_cli):
    write_migration(project, 20260101000000, "users", "-- lint:ignore drop-colum typo\n" + USERS, "DROP TABLE users;")
    for _ in range(2):
        result = run_cli("lint", "--all")
        assert result.returncode == 2
        assert "unknown lint rule 'drop-colum'" in result.stderr


def test_the_cache_stays_out_of_git_and_no_cache_writes_none(project, run_cli):
    _odd_project(project)
    assert run_cli("lint", "--all", "--no-cache").returncode == 1
    assert not (project.config.root / FOLDER).exists()
    first = run_cli("lint", "--all")
    second = run_cli("lint", "--all")
    assert (first.returncode, first.stdout) == (second.returncode, second.stdout)
    assert (project.config.root / FOLDER / ".gitignore").read_text().splitlines()[-1] == "*"


def test_one_file_linted_after_all_of_them_gives_the_same_findings(project, run_cli):
    _odd_project(project)
    whole = run_cli("lint", "--all").stdout
    one = run_cli("lint", "migrations/20260102000000_drop_phone.sql")
    assert one.returncode == 1
    assert set(one.stdout.splitlines()[:-1]) <= set(whole.splitlines())


def test_a_live_database_s_counts_are_never_cached(project):
    write_migration(project, 20260101000000, "users", USERS, "DROP TABLE users;")
    project.apply()
    write_migration(project, 20260102000000, "wipe", "DELETE FROM users;", "SELECT 1;")
    with project.connect() as db:
        lint_migrations(project.status().pending, "sqlite", database=db, cache=_cache(project))
    assert not (project.config.root / FOLDER).exists()


def test_the_code_stamp_changes_when_a_source_file_does(tmp_path):
    (tmp_path / "pkg").mkdir()
    source = tmp_path / "pkg" / "rules.py"
    source.write_text("A = 1\n")
    before = _tree_stamp(tmp_path)
    source.write_text("A = 22\n")  # another size
    assert _tree_stamp(tmp_path) != before


def test_two_lints_at_once_both_succeed_and_leave_a_whole_cache(project):
    _odd_project(project)
    code = (
        "from dbshift import Project; from dbshift.lint import lint_migrations, LintSettings\n"
        "from dbshift.lint.cache import FindingsCache\n"
        f"p = Project({str(project.config.root)!r})\n"
        "for _ in range(5):\n"
        "    c = FindingsCache.for_project(p.config.root, 'sqlite', LintSettings())\n"
        "    c._entries.clear()\n"
        "    lint_migrations(p.migrations(), 'sqlite', cache=c)\n"
    )
    runs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    assert len(json.loads((project.config.root / FOLDER / "lint.json").read_text())["entries"]) == 3
