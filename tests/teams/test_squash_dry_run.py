"""Before squashing, a developer asks what the squash would do: `squash --dry-run` prints the file
it would write and the files it would move, and touches nothing: every file of the project (the
SQLite database among them) is byte for byte what it was, and the real squash then writes exactly
the text the dry run printed."""

import json

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from teams.squash_project import table_name, version, write_history
from value_oracle import fill_with_edge_values


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tree(root) -> dict:
    """Every file under ``root`` but git's own, with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture
def twelve(repo):
    """Twelve migrations (odd table names), committed, applied, a table filled with edge values."""
    write_history(repo.project, 12, quote)
    repo.commit("12 migrations")
    repo.project.apply()
    with repo.project.connect() as db:
        fill_with_edge_values(db, table_name(0), [("name", "VARCHAR(50)", True)], key="id")
        db.commit()
    return repo


def test_dry_run_prints_the_file_and_the_moves_and_touches_nothing(twelve):
    repo, root = twelve, str(twelve.root)
    before = _tree(repo.root)
    assert "app.db" in before

    done = run_dbshift("-C", root, "squash", "--to", str(version(12)), "--dry-run")
    assert done.returncode == 0, done.output
    assert f"would write {repo.project.config.migrations_dir / f'{version(12)}_squashed.sql'}" in done.stdout
    assert "would move 12 migrations into" in done.stdout and f"{version(1)}_create_t0.sql" in done.stdout
    assert 'CREATE TABLE "odd ""q"" 0"' in done.stdout  # the SQL itself, names as they are
    assert "dry run: nothing written, moved or hashed" in done.stdout
    assert _tree(repo.root) == before  # every file, the database and dbshift.sum included

    planned = json.loads(run_dbshift("-C", root, "--json", "squash", "--to", str(version(12)), "--dry-run").stdout)
    assert planned["dry_run"] is True and len(planned["replaced"]) == 12
    assert _tree(repo.root) == before

    done = run_dbshift("-C", root, "squash", "--to", str(version(12)))
    assert done.returncode == 0, done.output
    written = repo.project.config.migrations_dir / f"{version(12)}_squashed.sql"
    assert written.read_text(encoding="utf-8") == planned["text"]  # what the dry run showed is what it wrote


def test_a_careless_dry_run_is_refused_like_the_squash(twelve):
    folder = twelve.project.config.migrations_dir
    (folder / f"{version(13)}_new.sql").write_text("-- migrate:up\nCREATE TABLE x (id INTEGER);\n")
    twelve.project.hash()
    before = _tree(twelve.root)
    refused = run_dbshift("-C", str(twelve.root), "squash", "--to", str(version(6)), "--dry-run")
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert "uncommitted changes" in refused.stderr
    assert _tree(twelve.root) == before
