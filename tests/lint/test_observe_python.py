"""A Python migration is observed as one unit: its ``up(ctx)`` runs on the rehearsal copy while
dbshift watches the locks taken and compares each table's storage before and after (PostgreSQL
relfilenode, MySQL table id, SQLite root page). A user whose Python migration retypes or rebuilds
a big table sees it before running it for real, reported at the migration's ``def up`` line;
what cannot be seen that way is said (SQLite's database lock); the live database keeps every value."""

from __future__ import annotations

import json

import pytest
from tests.conftest import write_migration
from tests.lint.test_observe import ROWS, _codes, _observe, _run

from dbshift import Project

PG_TABLE = 'Order "lines" é'
MY_TABLE = "ördérs 'x'"
SQLITE_TABLE = "it's ✓ orders"
VERSION = 20260101000000


def _python_migration(project, body: str) -> int:
    """Write ``{VERSION}_change.py`` (a docstring, then ``body``); the line of its ``def up``."""
    text = '"""A change written in Python."""\n\nimport os\n\n\n' + body.strip() + "\n\n\ndef down(ctx):\n    pass\n"
    (project.config.migrations_dir / f"{VERSION}_change.py").write_text(text)
    project.hash()
    return text.splitlines().index("def up(ctx):") + 1


def _unit(observed, line: int):
    [seen] = [o for o in observed.observations if o.file.endswith(".py")]
    assert seen.line == line and seen.statement.startswith("up(ctx) of a Python migration"), seen
    assert seen.file.endswith(f"{VERSION}_change.py") and seen.error is None
    return seen


@pytest.fixture
def pg_url(postgres_url):
    from tests.servers.conftest import create_database, drop_database

    url = create_database(postgres_url)
    yield url
    drop_database(postgres_url, url)


def test_postgresql_python_migration_that_retypes_a_column_is_seen_rewriting_under_access_exclusive(tmp_path, pg_url):
    _run(
        pg_url,
        'CREATE TABLE "Order ""lines"" é" (id bigint PRIMARY KEY, amount int, note text)',
        f'INSERT INTO "Order ""lines"" é" SELECT i, i, \'n\' || i FROM generate_series(1, {ROWS}) i',
    )
    project = Project.init(tmp_path, pg_url)
    line = _python_migration(
        project,
        "def up(ctx):\n"
        '    ctx.execute(\'ALTER TABLE "Order ""lines"" é" ALTER COLUMN amount TYPE bigint\')\n'
        '    ctx.execute(\'UPDATE "Order ""lines"" é" SET note = %s WHERE id = %s\', ("it\'s ✓", 1))\n',
    )
    observed, findings = _observe(project)
    [table] = _unit(observed, line).tables
    assert table.table == PG_TABLE and table.rewritten and table.evidence == "new relfilenode"
    assert table.rows == ROWS and table.locks == ("ACCESS EXCLUSIVE",)
    assert table.blocks_writes is True and table.blocks_reads is True  # NOWAIT probes refused mid-migration
    assert {"observed-rewrite"} <= _codes(findings, line)
    assert _codes(findings, line) & {"observed-lock", "observed-long-lock"}
    [rewrite] = [f for f in findings if f.code == "observed-rewrite"]
    assert f"rewrote table {PG_TABLE} ({ROWS:,} rows)" in rewrite.problem
    assert rewrite.file.endswith(f"{VERSION}_change.py")
    assert not [f for f in findings if f.code == "observed-not-observable"]


@pytest.fixture(params=["shared", "performance_schema"])
def any_mysql_url(request):
    """A fresh database on the shared MariaDB (performance_schema off) and on the private one (on)."""
    from tests.servers.conftest import create_database, drop_database

    base = request.getfixturevalue("mysql_url" if request.param == "shared" else "performance_schema_url")
    url = create_database(base)
    yield url
    drop_database(base, url)


def test_mysql_python_migration_that_copies_a_table_is_seen_blocking_writers(tmp_path, any_mysql_url):
    _run(
        any_mysql_url,
        "CREATE TABLE `ördérs 'x'` (id BIGINT PRIMARY KEY, code VARCHAR(10), note VARCHAR(40))",
        "INSERT INTO `ördérs 'x'` VALUES (1, 'c1', 'n1')",
        *[
            f"INSERT INTO `ördérs 'x'` SELECT id + {2**k}, CONCAT('c', (id + {2**k}) MOD 997), note FROM `ördérs 'x'`"
            for k in range(17)
        ],
    )
    project = Project.init(tmp_path, any_mysql_url)
    line = _python_migration(
        project,
        "def up(ctx):\n"
        "    ctx.execute(\"ALTER TABLE `ördérs 'x'` MODIFY code VARCHAR(5)\")\n"
        '    ctx.execute("UPDATE `ördérs \'x\'` SET note = %s WHERE id = %s", ("it\'s ✓", 1))\n',
    )
    observed, findings = _observe(project)
    [table] = _unit(observed, line).tables
    rows = 2**17
    assert table.table == MY_TABLE and table.rewritten and table.rows == rows
    assert table.evidence.startswith("copied through a temporary table")
    assert table.locks == ("SHARED_NO_WRITE",) and table.blocks_writes is True
    notes = [f.problem for f in findings if f.code == "observed-not-observable"]
    if any("performance_schema is off" in n for n in notes):
        assert table.lock_evidence == "the processlist showed state 'copy to tmp table'"
    else:
        assert not notes and table.blocks_reads is False
        assert table.lock_evidence.startswith("performance_schema.metadata_locks listed SHARED_UPGRADABLE; ")
    assert "observed-rewrite" in _codes(findings, line)


def _sqlite_project(tmp_path, body: str):
    project = Project.init(tmp_path, "sqlite:///app.db")
    with project.connect() as db:
        db.execute('CREATE TABLE "it\'s ✓ orders" (id INTEGER PRIMARY KEY, amount TEXT, note TEXT)')
        db.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
            "INSERT INTO \"it's ✓ orders\" SELECT i, i * 3, 'n' || i FROM s",
            (ROWS,),
        )
    return project, _python_migration(project, body)


REBUILD = """
def up(ctx):
    ctx.execute('CREATE TABLE orders_new (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL, note TEXT)')
    ctx.execute('INSERT INTO orders_new SELECT id, CAST(amount AS INTEGER), note FROM "it\\'s ✓ orders"')
    ctx.execute('DROP TABLE "it\\'s ✓ orders"')
    ctx.execute('ALTER TABLE orders_new RENAME TO "it\\'s ✓ orders"')
"""


def test_sqlite_python_rebuild_is_seen_and_the_unseen_database_lock_is_said(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    project, line = _sqlite_project(tmp_path, REBUILD)
    write_migration(project, 20251231000000, "first", "CREATE TABLE first_one (id INTEGER);", "DROP TABLE first_one;")
    project.hash()
    observed, findings = _observe(project)
    [table] = _unit(observed, line).tables
    assert table.table == SQLITE_TABLE and table.rewritten and table.rows == ROWS
    [rewrite] = [f for f in findings if f.code == "observed-rewrite"]
    assert rewrite.line == line and f"rewrote table {SQLITE_TABLE} ({ROWS:,} rows)" in rewrite.problem
    [note] = [f for f in findings if f.code == "observed-not-observable"]
    assert note.problem.startswith(f"not observable: {VERSION}_change: the database lock is not observed")
    assert note.file == rewrite.file and note.line == line  # on the Python migration, not the first one
    result = run_cli("lint", "--observe", "--format", "json")
    assert "Traceback" not in result.output
    codes = {(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert {("observed-rewrite", line), ("observed-not-observable", line)} <= codes, result.output
    text = run_cli("rehearse").output  # rehearse observes the same way (its down then fails: it does not undo)
    assert "Traceback" not in text and "observed on the copy" in text
    assert f"{VERSION}_change:{line} up(ctx) of a Python migration" in text
    assert f"{SQLITE_TABLE} ({ROWS:,} rows)" in text


def test_python_migration_that_fails_on_the_copy_is_an_error_at_its_line(tmp_path):
    body = "def up(ctx):\n    ctx.execute('DELETE FROM \"it\\'s ✓ orders\"')\n    raise ValueError('bad data')\n"
    project, line = _sqlite_project(tmp_path, body)
    observed, findings = _observe(project)  # the copy's DELETE is rolled back; the live rows stay
    [seen] = [o for o in observed.observations if o.file.endswith(".py")]
    assert seen.line == line and seen.error is not None and "ValueError: bad data" in seen.error
    [failure] = [f for f in findings if f.code == "observed-failure"]
    assert failure.severity == "error" and "ValueError: bad data" in failure.problem
