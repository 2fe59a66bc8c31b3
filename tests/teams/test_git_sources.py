"""Schemas at a git revision: `diff --from git:REV`, `inspect --source git:REV:schema.sql`."""

import json

from cli_inprocess import is_one_error_with_hint, run_dbshift


def _two_commits(repo):
    repo.migration(
        20260101000000,
        "add_customers",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);",
        "DROP TABLE customers;",
    )
    (repo.root / "schema.sql").write_text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);\n")
    first = repo.commit("customers")
    repo.migration(
        20260102000000,
        "add_phone",
        "ALTER TABLE customers ADD COLUMN phone TEXT;",
        "ALTER TABLE customers DROP COLUMN phone;",
    )
    (repo.root / "schema.sql").write_text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, phone TEXT);\n")
    repo.commit("phone")
    return first


def test_diff_from_the_previous_commit_drafts_what_the_last_migration_did(repo):
    _two_commits(repo)
    result = run_dbshift("-C", str(repo.root), "--json", "diff", "--from", "git:HEAD~1", "--to", "migrations")
    assert result.returncode == 0, result.output
    drafted = json.loads(result.stdout)
    assert drafted["differs"] and "phone" in drafted["up"]
    same = run_dbshift("-C", str(repo.root), "--json", "diff", "--from", "git:HEAD", "--to", "migrations")
    assert json.loads(same.stdout)["differs"] is False


def test_a_schema_file_at_a_revision_is_read_without_touching_the_work_tree(repo):
    first = _two_commits(repo)
    (repo.root / "schema.sql").write_text("-- being edited, not committed\n")
    before = repo.git("status", "--porcelain")
    result = run_dbshift(
        "-C", str(repo.root), "--json", "inspect", "--source", f"git:{first[:10]}:schema.sql", "--format", "json"
    )
    assert result.returncode == 0, result.output
    columns = [c["name"] for t in json.loads(result.stdout)["tables"] for c in t["columns"]]
    assert columns == ["id", "name"]
    assert repo.git("status", "--porcelain") == before
    assert (repo.root / "schema.sql").read_text() == "-- being edited, not committed\n"


def test_an_unknown_revision_is_one_clear_line(repo):
    _two_commits(repo)
    result = run_dbshift("-C", str(repo.root), "diff", "--from", "git:no-such-branch", "--to", "migrations")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "unknown git revision 'no-such-branch'" in result.stderr


def test_outside_a_git_repository_is_one_clear_line(project):
    result = run_dbshift("-C", str(project.config.root), "diff", "--from", "git:HEAD", "--to", "migrations")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "is not in a git repository" in result.stderr


def test_a_file_missing_at_the_revision_is_one_clear_line(repo):
    _two_commits(repo)
    result = run_dbshift("-C", str(repo.root), "inspect", "--source", "git:HEAD:nope.sql")
    assert result.returncode == 2 and is_one_error_with_hint(result), result.output
    assert "git:HEAD:nope.sql: no such file" in result.stderr


def test_a_python_migration_at_a_revision_runs_from_its_committed_text(repo):
    path = repo.project.config.migrations_dir / "20260101000000_py_table.py"
    path.write_text(
        'def up(ctx):\n    ctx.execute("CREATE TABLE made_by_python (id INTEGER)")\n\n'
        'def down(ctx):\n    ctx.execute("DROP TABLE made_by_python")\n'
    )
    repo.project.hash()
    repo.commit("python")
    path.unlink()
    repo.project.hash()
    result = run_dbshift("-C", str(repo.root), "--json", "inspect", "--source", "git:HEAD", "--format", "json")
    assert result.returncode == 0, result.output
    assert [t["name"] for t in json.loads(result.stdout)["tables"]] == ["made_by_python"]


def test_a_project_in_a_subfolder_of_the_repository_reads_its_own_folder(tmp_path, monkeypatch):
    import subprocess

    from conftest import write_migration
    from dbshift import Project

    monkeypatch.delenv("DATABASE_URL", raising=False)
    project = Project.init(tmp_path / "app", "sqlite:///app.db")
    write_migration(
        project,
        20260101000000,
        "add_items",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT);",
        "DROP TABLE items;",
    )
    project.hash()
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "x"],
    ):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    result = run_dbshift("-C", str(tmp_path / "app"), "--json", "inspect", "--source", "git:HEAD", "--format", "json")
    assert result.returncode == 0, result.output
    assert [c["name"] for c in json.loads(result.stdout)["tables"][0]["columns"]] == ["id", "sku"]
