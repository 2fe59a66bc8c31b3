"""Shared fixtures: projects in temporary folders, the CLI as a real subprocess, servers, corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
IN_CI = os.environ.get("CI", "").lower() == "true"

POSTGRES_URL = os.environ.get("DBSHIFT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("DBSHIFT_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")


def skip_or_fail(reason: str):
    """Skip with a reason; under CI=true a missing prerequisite is a failure instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: prerequisites must be present)")
    pytest.skip(reason)


@pytest.fixture
def corpus() -> Path:
    """``../shared/corpus`` (public test data read in place, never copied)."""
    if not CORPUS.is_dir():
        skip_or_fail(f"shared corpus not found at {CORPUS}")
    return CORPUS


@dataclass
class CLIResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(tmp_path):
    """Run ``dbshift ARGS`` as a real process in the project folder (default ``tmp_path``)."""

    def run(
        *args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None, timeout: float = 120
    ) -> CLIResult:
        full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        full_env.update({"COLUMNS": "200", "NO_COLOR": "1", **(env or {})})
        proc = subprocess.run(
            [sys.executable, "-m", "dbshift", *args],
            cwd=cwd or tmp_path,
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return CLIResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A fresh dbshift project on a SQLite file in a temporary folder."""
    from dbshift import Project

    monkeypatch.delenv("DATABASE_URL", raising=False)
    return Project.init(tmp_path, "sqlite:///app.db")


def write_migration(project, version: int, name: str, up: str, down: str | None = None, header: str = "") -> Path:
    """Write a SQL migration file by hand, as a user would."""
    text = header + "-- migrate:up\n" + up.strip() + "\n"
    if down is not None:
        text += "-- migrate:down\n" + down.strip() + "\n"
    path = project.config.migrations_dir / f"{version}_{name}.sql"
    path.write_text(text)
    return path


def _server_reachable(url: str) -> str | None:
    try:
        if url.startswith("postgresql"):
            import psycopg

            psycopg.connect(url.replace("postgresql://", "postgresql://", 1), connect_timeout=3).close()
        else:
            import pymysql

            pymysql.connect(
                host="127.0.0.1", port=3306, user="root", password="", database="test", connect_timeout=3
            ).close()
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server's URL; skips (fails under CI=true) when it is down."""
    problem = _server_reachable(POSTGRES_URL)
    if problem:
        skip_or_fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """The test MariaDB/MySQL server's URL; skips (fails under CI=true) when it is down."""
    problem = _server_reachable(MYSQL_URL)
    if problem:
        skip_or_fail(f"MariaDB/MySQL not reachable at {MYSQL_URL}: {problem}")
    return MYSQL_URL
