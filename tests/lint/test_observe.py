"""Observed findings: the pending statements run on a rehearsal copy while dbshift watches what they
really do. A user about to index, retype or rebuild a 100,000-row table sees, before running it
for real, which lock it held (and that a concurrent writer really had to wait), whether it
rewrote the table, and for how long; and the live database stays exactly as it was."""

from __future__ import annotations

import json

from tests.conftest import write_migration
from tests.value_oracle import assert_same_values, snapshot

from dbshift import Project
from dbshift.dialects import open_database
from dbshift.urls import parse_url

ROWS = 100_000


def _live_state(project):
    """Every value and the inspected schema of the live database."""
    from dbshift.inspectors import inspect

    with project.connect(readonly=True) as db:
        return snapshot(db), inspect(db)


def _observe(project):
    before = _live_state(project)
    observed, findings = project.observe()
    values, schema = _live_state(project)
    assert_same_values(before[0], values)
    assert schema == before[1]
    return observed, findings


def _at(observed, line: int):
    [seen] = [o for o in observed.observations if o.line == line]
    return seen


def _codes(findings, line: int) -> set[str]:
    return {f.code for f in findings if f.line == line}


def _run(url: str, *statements: str) -> None:
    db = open_database(parse_url(url))
    try:
        for sql in statements:
            db.execute(sql)
    finally:
        db.close()


def _pg_project(tmp_path, url, up: str, header: str = ""):
    _run(
        url,
        'CREATE TABLE "Order ""lines"" é" (id bigint PRIMARY KEY, code varchar(10), amount int, note text)',
        f'INSERT INTO "Order ""lines"" é" SELECT i, \'c\' || (i % 997), i, \'n\' || i FROM generate_series(1, {ROWS}) i',
        "CREATE TABLE bystander (id int PRIMARY KEY, v text)",
        "INSERT INTO bystander VALUES (1, 'keep me'), (2, NULL)",
    )
    project = Project.init(tmp_path, url)
    write_migration(project, 20260101000000, "change", up, "SELECT 1;", header=header)
    project.hash()
    return project


def test_postgresql_index_build_without_concurrently_is_seen_blocking_a_writer(tmp_path, pg_db):
    project = _pg_project(tmp_path, pg_db, 'CREATE INDEX by_code ON "Order ""lines"" é" (code);')
    observed, findings = _observe(project)
    seen = _at(observed, 2)
    [table] = seen.tables
    assert table.table == 'Order "lines" é'
    assert table.locks == ("SHARE",)
    assert table.blocks_writes is True  # a ROW EXCLUSIVE asked with NOWAIT from another session was refused
    assert table.blocks_reads is False
    assert table.held_until_commit and not table.rewritten
    assert table.rows == ROWS
    assert _codes(findings, 2) & {"observed-lock", "observed-long-lock"}
    [lock] = [f for f in findings if f.code in ("observed-lock", "observed-long-lock")]
    assert f'holds SHARE on Order "lines" é ({ROWS:,} rows) for ' in lock.problem
    assert lock.problem.endswith('(until the migration commits): writes to Order "lines" é wait')


def test_postgresql_lock_kept_until_a_slow_commit_is_a_long_lock_timed_to_the_commit(tmp_path, pg_db):
    up = 'CREATE INDEX by_code ON "Order ""lines"" é" (code);\nSELECT pg_sleep(1.2);\n'
    project = _pg_project(tmp_path, pg_db, up)
    observed, findings = _observe(project)
    seen = _at(observed, 2)
    assert seen.seconds < 1.2 <= seen.held_seconds  # the index build is quick, the lock lasts until the commit
    [lock] = [f for f in findings if f.code == "observed-long-lock"]
    assert lock.line == 2 and lock.severity == "warning"
    assert "observed-lock" not in _codes(findings, 2) and not _at(observed, 3).tables


def test_postgresql_index_built_concurrently_is_seen_not_blocking_writers(tmp_path, pg_db):
    project = _pg_project(
        tmp_path, pg_db, 'CREATE INDEX CONCURRENTLY by_code ON "Order ""lines"" é" (code);', "-- no-transaction\n"
    )
    observed, findings = _observe(project)
    seen = _at(observed, 3)
    assert seen.error is None
    assert [t.locks for t in seen.tables] == [("SHARE UPDATE EXCLUSIVE",)]  # the watcher did see it work
    assert seen.tables[0].blocks_writes is False and seen.tables[0].blocks_reads is False
    assert not seen.tables[0].held_until_commit
    assert not [f for f in findings if f.code.startswith("observed-")]


def test_postgresql_type_change_that_rewrites_is_seen_and_one_that_does_not_is_not(tmp_path, pg_db):
    up = (
        'ALTER TABLE "Order ""lines"" é" ALTER COLUMN code TYPE varchar(20);\n'
        'ALTER TABLE "Order ""lines"" é" ALTER COLUMN amount TYPE bigint;\n'
    )
    project = _pg_project(tmp_path, pg_db, up)
    observed, findings = _observe(project)
    widened, retyped = _at(observed, 2), _at(observed, 3)
    assert not any(t.rewritten for t in widened.tables)
    assert widened.tables[0].locks == ("ACCESS EXCLUSIVE",) and widened.tables[0].blocks_reads is True
    [table] = retyped.tables
    assert table.rewritten and table.evidence == "new relfilenode" and table.rows == ROWS
    assert "observed-rewrite" not in _codes(findings, 2)
    [rewrite] = [f for f in findings if f.code == "observed-rewrite"]
    assert rewrite.line == 3 and f'rewrote table Order "lines" é ({ROWS:,} rows) in ' in rewrite.problem


def test_postgresql_failing_migration_is_an_error_finding_and_stops_there(tmp_path, pg_db):
    up = 'ALTER TABLE "Order ""lines"" é" ALTER COLUMN amount TYPE smallint;'  # amounts up to 200,000
    project = _pg_project(tmp_path, pg_db, up)
    write_migration(project, 20260102000000, "after", "CREATE TABLE never (id int);", "DROP TABLE never;")
    project.hash()
    observed, findings = _observe(project)
    [failure] = [f for f in findings if f.code == "observed-failure"]
    assert failure.severity == "error" and failure.line == 2 and "smallint out of range" in failure.problem
    assert [o.migration for o in observed.observations] == ["20260101000000_change"]


def _sqlite_project(tmp_path, up: str):
    project = Project.init(tmp_path, "sqlite:///app.db")
    with project.connect() as db:
        db.execute('CREATE TABLE "it\'s ✓ orders" (id INTEGER PRIMARY KEY, amount TEXT, note TEXT)')
        db.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
            "INSERT INTO \"it's ✓ orders\" SELECT i, i * 3, 'n' || i FROM s",
            (ROWS,),
        )
    write_migration(project, 20260101000000, "change", up, "SELECT 1;")
    project.hash()
    return project


def test_sqlite_rebuild_is_seen_copying_the_table_under_the_database_write_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    up = """
ALTER TABLE "it's ✓ orders" ADD COLUMN flag INTEGER;
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL, note TEXT, flag INTEGER);
INSERT INTO orders_new SELECT id, CAST(amount AS INTEGER), note, flag FROM "it's ✓ orders";
DROP TABLE "it's ✓ orders";
ALTER TABLE orders_new RENAME TO "it's ✓ orders";
"""
    project = _sqlite_project(tmp_path, up)
    observed, findings = _observe(project)
    added = _at(observed, 2)
    assert not any(t.rewritten for t in added.tables)  # ADD COLUMN keeps the table where it is
    [lock] = added.tables
    assert lock.table == "" and lock.blocks_writes is True and lock.held_until_commit  # BEGIN IMMEDIATE refused
    renamed = _at(observed, 6)
    [copied] = [t for t in renamed.tables if t.rewritten]
    assert copied.table == "it's ✓ orders" and copied.rows == ROWS
    assert copied.seconds >= renamed.seconds  # the copy spans the create, insert, drop and rename
    [rewrite] = [f for f in findings if f.code == "observed-rewrite"]
    assert rewrite.line == 6 and f"rewrote table it's ✓ orders ({ROWS:,} rows)" in rewrite.problem
    assert "observed-rewrite" not in _codes(findings, 2)


def _mysql_project(tmp_path, url, up: str):
    _run(
        url,
        "CREATE TABLE `ördérs 'x'` (id BIGINT PRIMARY KEY, code VARCHAR(10), amount INT, note VARCHAR(40))",
        "INSERT INTO `ördérs 'x'` VALUES (1, 'c1', 1, 'n1')",
        *[
            f"INSERT INTO `ördérs 'x'` SELECT id + {2**k}, CONCAT('c', (id + {2**k}) MOD 997), id, note "
            f"FROM `ördérs 'x'`"
            for k in range(17)
        ],
    )
    project = Project.init(tmp_path, url)
    write_migration(project, 20260101000000, "change", up, "SELECT 1;")
    project.hash()
    return project


def test_mariadb_alter_that_copies_is_seen_as_a_copy_and_an_instant_one_is_not(tmp_path, my_db):
    up = "ALTER TABLE `ördérs 'x'` ADD COLUMN flag INT;\nALTER TABLE `ördérs 'x'` MODIFY code VARCHAR(5);\n"
    project = _mysql_project(tmp_path, my_db, up)
    observed, findings = _observe(project)
    rows = 2**17
    assert not any(t.rewritten for t in _at(observed, 2).tables)
    [copied] = _at(observed, 3).tables
    assert copied.table == "ördérs 'x'" and copied.rewritten and copied.rows == rows
    assert copied.blocks_writes is True
    assert copied.evidence.startswith(f"copied through a temporary table ({rows:,} rows written")
    [rewrite] = [f for f in findings if f.code == "observed-rewrite"]
    assert rewrite.line == 3
    ps_on = int(_query_one(my_db, "SELECT @@performance_schema"))
    notes = [f.problem for f in findings if f.code == "observed-not-observable"]
    assert bool(notes) == (not ps_on)
    if not ps_on:
        assert "performance_schema is off" in notes[0]


def _query_one(url: str, sql: str):
    db = open_database(parse_url(url))
    try:
        return db.execute(sql)[0][0]
    finally:
        db.close()


def test_rehearse_prints_the_observed_table_and_puts_it_in_json(tmp_path, run_cli):
    up = """
CREATE TABLE orders_new (id INTEGER PRIMARY KEY, amount INTEGER, note TEXT);
INSERT INTO orders_new SELECT id, CAST(amount AS INTEGER), note FROM "it's ✓ orders";
DROP TABLE "it's ✓ orders";
ALTER TABLE orders_new RENAME TO "it's ✓ orders";
"""
    _sqlite_project(tmp_path, up)
    text = run_cli("rehearse")
    assert "observed on the copy" in text.stdout and "Traceback" not in text.output
    assert f"it's ✓ orders ({ROWS:,} rows)" in text.stdout
    result = run_cli("--json", "rehearse")
    data = json.loads(result.stdout)
    [renamed] = [s for s in data["observed"]["statements"] if s["line"] == 5]
    assert [t["table"] for t in renamed["tables"] if t["rewritten"]] == ["it's ✓ orders"]
    assert {f["code"] for f in data["observed_findings"]} >= {"observed-rewrite"}
    lint = run_cli("lint", "--observe", "--format", "json")
    assert lint.returncode == 0, lint.output
    codes = {f["code"] for f in json.loads(lint.stdout)["findings"]}
    assert {"table-rebuild", "observed-rewrite"} <= codes


def test_observe_with_nothing_pending_or_with_files_says_so_in_one_line(tmp_path, run_cli):
    project = _sqlite_project(tmp_path, "CREATE TABLE t (id INTEGER);")
    assert run_cli("apply").returncode == 0
    for args in (["lint", "--observe"], ["lint", "--observe", "--all"]):
        result = run_cli(*args)
        assert result.returncode == 2, result.output
        assert "Traceback" not in result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert "--observe" in result.stderr or "nothing to observe" in result.stderr
        assert len(lines) <= 2  # the message and its hint
    assert project.status().pending == []


def test_observe_on_a_database_the_user_cannot_copy_is_one_clear_line(tmp_path, pg_db, run_cli):
    import uuid

    role = f"observe_{uuid.uuid4().hex[:8]}"
    _run(pg_db, f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        _pg_project(tmp_path, pg_db, "CREATE TABLE added (id int);")
        _run(pg_db, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        url = parse_url(pg_db)
        as_role = pg_db.replace(f"://{url.user}@", f"://{role}@", 1)
        result = run_cli("--db", as_role, "lint", "--observe")
        assert result.returncode == 2, result.output
        assert "Traceback" not in result.output
        assert "cannot observe: the database cannot be copied" in result.stderr
        owned = f"SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = '{role}'"
        assert _query_one(pg_db, owned) == 0  # no half-made copy left behind
    finally:
        _run(pg_db, f"DROP OWNED BY {role}", f"DROP ROLE {role}")
