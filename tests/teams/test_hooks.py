"""A developer installs dbshift's git hooks: they run on real `git checkout`, `git merge` and
`git commit`, respect core.hooksPath and never replace a hook the developer wrote."""

import json
import subprocess

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift

HOOKS = ["post-checkout", "post-merge", "pre-commit"]


def git(repo, *args: str) -> subprocess.CompletedProcess:
    """Run git as the developer would (hooks included); the finished process, whatever its exit code."""
    return subprocess.run(["git", *args], cwd=repo.root, capture_output=True, text=True, check=False)


@pytest.fixture
def two_branches(repo):
    """main with customers (applied), feature adding notes (committed, not applied)."""
    repo.migration(
        20260101000000, "customers", "CREATE TABLE customers (id INTEGER PRIMARY KEY);", "DROP TABLE customers;"
    )
    repo.commit("customers")
    repo.project.apply()
    repo.git("checkout", "-q", "-b", "feature")
    repo.migration(20260102000000, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY);", "DROP TABLE notes;")
    repo.commit("notes")
    return repo


def test_after_a_branch_switch_the_hook_says_where_the_database_stands(two_branches):
    repo = two_branches
    done = run_dbshift("-C", str(repo.root), "hooks", "install")
    assert done.returncode == 0, done.output
    assert all((repo.root / ".git" / "hooks" / name).stat().st_mode & 0o111 for name in HOOKS)
    switched = git(repo, "checkout", "main")
    assert switched.returncode == 0
    assert "dbshift: version 20260101000000; up to date" in switched.stderr
    back = git(repo, "checkout", "feature")
    assert "dbshift: version 20260101000000; 1 pending (dbshift apply)" in back.stderr
    repo.project.apply()
    away = git(repo, "checkout", "main")
    assert away.returncode == 0  # a hook never fails the checkout
    assert "1 applied from another branch (dbshift sync)" in away.stderr
    files = git(repo, "checkout", "feature", "--", "migrations/dbshift.sum")  # a file checkout: the hook is quiet
    assert files.returncode == 0 and "dbshift:" not in files.stderr


def test_with_sync_the_database_travels_with_the_checkout(repo):
    repo.migration(
        20260101000000,
        "customers",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);",
        "DROP TABLE customers;",
    )
    repo.commit("customers")
    repo.project.apply()
    repo.git("checkout", "-q", "-b", "feature")
    index = ("CREATE INDEX customers_name ON customers (name);", "DROP INDEX customers_name;")
    repo.migration(20260102000000, "index_name", *index)
    repo.migration(20260103000000, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY);", "DROP TABLE notes;")
    repo.commit("index and notes")
    repo.git("checkout", "-q", "main")
    assert run_dbshift("-C", str(repo.root), "hooks", "install", "--sync").returncode == 0
    git(repo, "checkout", "feature")  # the hook applies feature's two migrations
    assert [a.version for a in repo.project.status().applied] == [20260101000000, 20260102000000, 20260103000000]
    away = git(repo, "checkout", "main")  # dropping notes needs --force: the hook says so, the checkout goes on
    assert away.returncode == 0 and "refusing a lossy rollback" in away.stderr
    assert len(repo.project.status().applied) == 3
    run_dbshift("-C", str(repo.root), "sync", "--force")
    assert [a.version for a in repo.project.status().applied] == [20260101000000]
    repo.git("checkout", "-q", "-b", "hotfix")
    repo.migration(20260104000000, "index_again", "CREATE INDEX c_id ON customers (id, name);", "DROP INDEX c_id;")
    repo.commit("hotfix")
    repo.project.apply()
    back = git(repo, "checkout", "main")  # lossless downs: the hook rolls back on its own
    assert back.returncode == 0 and "reverted 20260104000000_index_again" in back.stdout + back.stderr
    merged = git(repo, "merge", "-q", "--no-ff", "-m", "merge hotfix", "hotfix")  # post-merge applies it again
    assert merged.returncode == 0, merged.stderr
    assert [a.version for a in repo.project.status().applied] == [20260101000000, 20260104000000]


def test_pre_commit_stops_a_stale_sum_and_a_migration_that_fails_lint(repo):
    assert run_dbshift("-C", str(repo.root), "hooks", "install").returncode == 0
    repo.migration(
        20260101000000, "customers", "CREATE TABLE customers (id INTEGER PRIMARY KEY);", "DROP TABLE customers;"
    )
    repo.commit("customers")  # the hook passes: the sum is current, lint is clean
    path = repo.root / "migrations" / "20260101000000_customers.sql"
    path.write_text(path.read_text() + "-- edited after hashing\n")
    git(repo, "add", "-A")
    stale = git(repo, "commit", "-q", "-m", "edit")
    assert stale.returncode != 0 and "dbshift.sum is out of date" in stale.stderr
    assert repo.git("log", "--oneline").count("\n") == 0  # still one commit
    (repo.root / "notes.txt").write_text("not a migration\n")
    repo.git("checkout", "--", "migrations")
    git(repo, "reset", "-q")
    git(repo, "add", "notes.txt")
    assert git(repo, "commit", "-q", "-m", "notes").returncode == 0  # nothing of dbshift's staged: no check
    bad = repo.root / "migrations" / "20260102000000_purge.sql"
    bad.write_text("-- migrate:up\nDELETE FROM customers;\n")
    repo.project.hash()
    git(repo, "add", "-A")
    refused = git(repo, "commit", "-q", "-m", "broken")
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "delete-all-rows" in refused.stderr and "20260102000000_purge.sql" in refused.stderr
    assert repo.git("log", "--oneline").count("\n") == 1  # customers and notes only


def test_core_hooks_path_is_where_the_hooks_go(repo):
    repo.git("config", "core.hooksPath", "team hooks")
    done = run_dbshift("-C", str(repo.root), "--json", "hooks", "install")
    assert done.returncode == 0, done.output
    assert json.loads(done.stdout)["folder"] == str(repo.root / "team hooks")
    assert sorted(p.name for p in (repo.root / "team hooks").iterdir()) == sorted(HOOKS)
    assert not (repo.root / ".git" / "hooks" / "pre-commit").exists()
    repo.migration(
        20260101000000, "customers", "CREATE TABLE customers (id INTEGER PRIMARY KEY);", "DROP TABLE customers;"
    )
    repo.commit("customers")
    switched = git(repo, "checkout", "-b", "other")
    assert "dbshift: no migration applied; 1 pending" in switched.stderr


def test_a_hook_the_developer_wrote_is_refused_or_chained_never_lost(repo):
    hooks = repo.root / ".git" / "hooks"
    mine = hooks / "post-checkout"
    mine.write_text('#!/bin/sh\necho "my own hook ran" >> "$(git rev-parse --show-toplevel)/ran.txt"\n')
    mine.chmod(0o755)
    refused = run_dbshift("-C", str(repo.root), "hooks", "install")
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert "did not write" in refused.stderr
    assert not (hooks / "pre-commit").exists() and "my own hook" in mine.read_text()
    chained = run_dbshift("-C", str(repo.root), "hooks", "install", "--chain")
    assert chained.returncode == 0, chained.output
    assert "my own hook" in (hooks / "post-checkout.local").read_text()
    again = run_dbshift("-C", str(repo.root), "hooks", "install", "--chain")  # a second install rewrites its own
    assert again.returncode == 0, again.output
    repo.migration(
        20260101000000, "customers", "CREATE TABLE customers (id INTEGER PRIMARY KEY);", "DROP TABLE customers;"
    )
    repo.commit("customers")
    switched = git(repo, "checkout", "-b", "other")
    assert (repo.root / "ran.txt").read_text() == "my own hook ran\n"
    assert "dbshift: no migration applied" in switched.stderr


def test_outside_a_git_repository_hooks_install_is_one_clear_line(project):
    done = run_dbshift("-C", str(project.config.root), "hooks", "install")
    assert done.returncode == 2 and is_one_error_with_hint(done), done.output
    assert "not in a git repository" in done.stderr


def test_hash_check_names_the_file_and_never_rewrites_the_sum(project):
    root = str(project.config.root)
    path = project.config.migrations_dir / "20260101000000_a.sql"
    path.write_text("-- migrate:up\nCREATE TABLE a (id INTEGER);\n")
    sum_before = (project.config.migrations_dir / "dbshift.sum").read_text()
    stale = run_dbshift("-C", root, "hash", "--check")
    assert stale.returncode == 1 and is_one_error_with_hint(stale)
    assert "20260101000000_a.sql not in the sum" in stale.stderr
    assert (project.config.migrations_dir / "dbshift.sum").read_text() == sum_before
    project.hash()
    assert run_dbshift("-C", root, "hash", "--check").stdout == "dbshift.sum is current\n"
