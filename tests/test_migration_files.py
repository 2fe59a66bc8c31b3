"""Stories about migration files: names, sections, flags, dependencies, checksums."""

from __future__ import annotations

import subprocess

import pytest

from conftest import write_migration
from dbshift.errors import MigrationFileError
from dbshift.migrations import discover


def test_both_file_name_forms_are_found_and_sorted_by_version(project):
    folder = project.config.migrations_dir
    (folder / "20260102_090000_second.sql").write_text("-- migrate:up\nSELECT 1;\n")
    (folder / "20260101090000_first.sql").write_text("-- migrate:up\nSELECT 1;\n")
    (folder / "20260103090000_third.py").write_text("def up(ctx):\n    ctx.execute('SELECT 1')\n")
    found = discover(folder)
    assert [(m.version, m.name, m.kind) for m in found] == [
        (20260101090000, "first", "sql"),
        (20260102090000, "second", "sql"),
        (20260103090000, "third", "py"),
    ]


def test_unrelated_files_are_ignored(project):
    folder = project.config.migrations_dir
    (folder / "README.md").write_text("# notes")
    (folder / "notes.sql").write_text("not a migration")
    (folder / "2026-plan.txt").write_text("plans")
    write_migration(project, 20260101090000, "first", "SELECT 1;")
    assert [m.name for m in discover(folder)] == ["first"]


@pytest.mark.parametrize(
    "file_name, text, expected",
    [
        ("2026010109_short.sql", "-- migrate:up\nSELECT 1;\n", "2026010109_short.sql: file name does not fit"),
        ("20261301090000_bad_month.sql", "-- migrate:up\nSELECT 1;\n", "is not a valid timestamp"),
        ("20260101090000_noup.sql", "CREATE TABLE t (x);\n", "20260101090000_noup.sql:1: SQL before `-- migrate:up`"),
        ("20260101090000_nomarker.sql", "-- just a comment here\n", "no `-- migrate:up` section"),
        (
            "20260101090000_flag.sql",
            "-- destroy\n-- migrate:up\nSELECT 1;\n",
            "20260101090000_flag.sql:1: unknown header flag 'destroy'",
        ),
        (
            "20260101090000_twice.sql",
            "-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n",
            "_twice.sql:3: second `-- migrate:up`",
        ),
        (
            "20260101090000_order.sql",
            "-- migrate:down\nSELECT 1;\n-- migrate:up\n",
            "_order.sql:1: `-- migrate:down` comes before",
        ),
        ("20260101090000_syntax.py", "def up(ctx)\n    pass\n", "_syntax.py:1: Python syntax error"),
        ("20260101090000_noup.py", "def down(ctx):\n    pass\n", "no `def up(ctx)` function"),
        ("20260101090000_dep.sql", "-- depends: soon\n-- migrate:up\nSELECT 1;\n", "_dep.sql:1: depends names 'soon'"),
    ],
)
def test_a_malformed_migration_is_an_error_naming_the_file_and_line(project, file_name, text, expected):
    (project.config.migrations_dir / file_name).write_text(text)
    with pytest.raises(MigrationFileError) as caught:
        discover(project.config.migrations_dir)
    assert expected in str(caught.value)
    assert caught.value.hint or "fit" not in expected


def test_a_duplicate_version_names_both_files(project):
    write_migration(project, 20260101090000, "one", "SELECT 1;")
    (project.config.migrations_dir / "20260101_090000_two.sql").write_text("-- migrate:up\nSELECT 2;\n")
    with pytest.raises(MigrationFileError, match="duplicate version 20260101090000"):
        discover(project.config.migrations_dir)


def test_header_flags_and_python_constants_are_read(project):
    write_migration(project, 20260101090000, "base", "SELECT 1;")
    write_migration(
        project,
        20260102090000,
        "flags",
        "SELECT 1;",
        "SELECT 2;",
        header="-- description: Many flags\n-- depends: 20260101090000\n-- destructive\n-- risky\n-- no-transaction\n"
        "-- A free comment of several words is fine\n",
    )
    (project.config.migrations_dir / "20260103090000_py.py").write_text(
        'DESCRIPTION = "py"\nDEPENDS = ["20260102090000"]\nRISKY = True\nTRANSACTION = False\ndef up(ctx):\n    pass\n'
    )
    base, flags, py = discover(project.config.migrations_dir)
    assert (flags.description, flags.depends, flags.destructive, flags.risky, flags.transaction) == (
        "Many flags",
        (20260101090000,),
        True,
        True,
        False,
    )
    assert flags.has_down and not base.has_down
    assert (py.description, py.depends, py.risky, py.transaction, py.has_down) == (
        "py",
        (20260102090000,),
        True,
        False,
        False,
    )


def test_unknown_and_cyclic_dependencies_are_errors(project):
    write_migration(project, 20260101090000, "a", "SELECT 1;", header="-- depends: 20990101000000\n")
    with pytest.raises(MigrationFileError, match="depends on 20990101000000, which no migration has"):
        discover(project.config.migrations_dir)
    write_migration(project, 20260101090000, "a", "SELECT 1;", header="-- depends: 20260102090000\n")
    write_migration(project, 20260102090000, "b", "SELECT 1;", header="-- depends: 20260101090000\n")
    with pytest.raises(MigrationFileError, match="dependency cycle"):
        discover(project.config.migrations_dir)


def test_new_writes_templates_that_parse_and_updates_the_sum_file(project):
    sql = project.new("add phone")
    py = project.new("backfill", python=True)
    found = {m.path: m for m in project.migrations()}
    assert found[sql].has_down and found[py].has_down and found[py].kind == "py"
    assert sql.name.endswith("_add_phone.sql")
    assert project.status().sum_check.ok


def test_two_branches_that_each_add_a_migration_conflict_in_the_sum_file(project, tmp_path):
    def git(*args):
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, capture_output=True, text=True
        )

    write_migration(project, 20260101090000, "base", "SELECT 1;")
    project.hash()
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "feature")
    write_migration(project, 20260102090000, "feature", "SELECT 2;")
    project.hash()
    git("commit", "-qam", "feature")
    git("add", "-A")
    git("commit", "-qm", "feature")
    git("checkout", "-q", "main")
    write_migration(project, 20260103090000, "hotfix", "SELECT 3;")
    project.hash()
    git("add", "-A")
    git("commit", "-qm", "hotfix")
    merge = git("merge", "feature")
    assert merge.returncode != 0
    assert "CONFLICT (content): Merge conflict in migrations/dbshift.sum" in merge.stdout
    with pytest.raises(MigrationFileError, match="dbshift.sum"):
        project.status()
