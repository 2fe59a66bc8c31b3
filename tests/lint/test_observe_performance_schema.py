"""Observed metadata locks on MariaDB with performance_schema on. The shared test server runs with
it off (it cannot be switched on while a server runs), so these tests start a private MariaDB with
``--performance-schema=ON`` and the metadata-lock instrument (see tests/servers/private_mariadb.py).

A user rehearsing three ALTERs of a 131,072-row table sees that the one that copies the table
holds SHARED_NO_WRITE (writers wait: a writer's lock asked without waiting was refused) and says
how that was seen, while the INPLACE/LOCK=NONE one is not reported as blocking and the INSTANT one
at most as a lock of a few milliseconds; the live database keeps every value."""

from __future__ import annotations

import pytest
from tests.lint.test_observe import _at, _codes, _mysql_project, _observe
from tests.servers.conftest import create_database, drop_database

ROWS = 2**17
TABLE = "ördérs 'x'"


@pytest.fixture
def ps_db(performance_schema_url):
    url = create_database(performance_schema_url)
    yield url
    drop_database(performance_schema_url, url)


def test_copying_alter_is_seen_in_metadata_locks_blocking_writers_and_instant_ones_are_not(tmp_path, ps_db):
    up = (
        "ALTER TABLE `ördérs 'x'` ADD COLUMN flag INT;\n"
        "ALTER TABLE `ördérs 'x'` MODIFY code VARCHAR(5);\n"
        "ALTER TABLE `ördérs 'x'` ADD INDEX by_code (code), ALGORITHM=INPLACE, LOCK=NONE;\n"
    )
    project = _mysql_project(tmp_path, ps_db, up)
    observed, findings = _observe(project)
    assert not [f for f in findings if f.code == "observed-not-observable"], findings  # the P_S path ran

    [copied] = _at(observed, 3).tables
    assert copied.table == TABLE and copied.rewritten and copied.rows == ROWS
    assert copied.locks == ("SHARED_NO_WRITE",)
    assert copied.blocks_writes is True and copied.blocks_reads is False
    assert copied.lock_evidence.startswith("performance_schema.metadata_locks listed SHARED_UPGRADABLE; ")
    assert "a writer's SHARED_WRITE was refused in" in copied.lock_evidence
    [lock] = [f for f in findings if f.line == 3 and f.code in ("observed-lock", "observed-long-lock")]
    assert f"holds SHARED_NO_WRITE on {TABLE} ({ROWS:,} rows) for " in lock.problem
    assert f"writes to {TABLE} wait (seen: performance_schema.metadata_locks listed" in lock.problem
    assert "observed-rewrite" in _codes(findings, 3)

    instant, online = _at(observed, 2), _at(observed, 4)
    # INSTANT: MariaDB holds EXCLUSIVE for the few milliseconds it lasts (the watcher may not even catch
    # it); at most an info-level lock timed in milliseconds, never a rewrite or a long lock
    assert all(t.locks in {("SHARED_UPGRADABLE",), ("EXCLUSIVE",)} for t in instant.tables), instant
    assert not any(t.rewritten for t in instant.tables) and instant.held_seconds < 1
    assert _codes(findings, 2) <= {"observed-lock"}
    [index] = online.tables  # INPLACE with LOCK=NONE: the index is built while writers go on
    assert index.locks == ("SHARED_UPGRADABLE",), index
    assert index.blocks_writes is False and index.blocks_reads is False and not index.rewritten
    assert "zero-wait probes" in index.lock_evidence  # refused at most in its brief start and end
    assert not _codes(findings, 4)


def test_performance_schema_on_without_its_metadata_lock_instrument_is_said_and_the_copy_still_seen(
    tmp_path, performance_schema_without_mdl_url
):
    base = performance_schema_without_mdl_url
    url = create_database(base)
    try:
        project = _mysql_project(tmp_path, url, "ALTER TABLE `ördérs 'x'` MODIFY code VARCHAR(5);")
        observed, findings = _observe(project)
    finally:
        drop_database(base, url)
    [note] = [f.problem for f in findings if f.code == "observed-not-observable"]
    assert "performance_schema is on but its instrument wait/lock/metadata/sql/mdl is not" in note
    assert "--performance-schema-instrument='wait/lock/metadata/sql/mdl=ON'" in note  # what to do about it
    [copied] = _at(observed, 2).tables  # the processlist state still tells the copy
    assert copied.rewritten and copied.blocks_writes is True and copied.locks == ("SHARED_NO_WRITE",)
    assert copied.lock_evidence == "the processlist showed state 'copy to tmp table'"
