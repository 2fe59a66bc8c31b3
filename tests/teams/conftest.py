"""A dbshift project in a real git repository, made in a temporary folder."""

import subprocess
from pathlib import Path

import pytest

from conftest import write_migration


class Repo:
    """A git repository holding a dbshift project at its top folder."""

    def __init__(self, project):
        self.project = project
        self.root = project.config.root
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev")
        from dbshift.gitignore import ignore_generated_files

        ignore_generated_files(project.config)  # as `dbshift init` does: the database, its lock, backups

    def git(self, *args: str) -> str:
        """Run git in the repository; its stdout."""
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def migration(self, version: int, name: str, up: str, down: str | None = None) -> Path:
        """Write a migration and refresh dbshift.sum, as `dbshift new` + editing would."""
        path = write_migration(self.project, version, name, up, down)
        self.project.hash()
        return path

    def commit(self, message: str) -> str:
        """Commit everything; the commit id."""
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(project):
    """A fresh project in a fresh git repository (branch main, nothing committed yet)."""
    return Repo(project)
