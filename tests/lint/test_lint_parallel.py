"""`dbshift lint` of many PostgreSQL files uses both cores: the findings are the ones one process
gives, in the same order, and a worker's error or crash is never lost or left running."""

from __future__ import annotations

import json
import os
import time

import pytest
from tests.conftest import CORPUS, skip_or_fail

from dbshift.lint.parallel import map_chunks


def _version(i: int) -> int:
    return 20260101000000 + (i // 60) * 100 + i % 60  # valid timestamps: 60 a minute


def _squawk_folder(folder, count: int = 130):
    """``count`` migration files of squawk's rule cases (odd names and all), an empty config."""
    path = CORPUS / "squawk" / "cases.json"
    if not path.is_file():
        skip_or_fail(f"squawk cases not found at {path}")
    cases = json.loads(path.read_text())
    (folder / "migrations").mkdir()
    (folder / "dbshift.toml").write_text("")
    for i in range(count):
        up = cases[i % len(cases)]["sql"].strip()
        down = 'DROP TABLE "tëst ""quoted"" table";' if i % 3 == 0 else ""
        text = f"-- migrate:up\n{up}\n" + (f"-- migrate:down\n{down}\n" if down else "")
        (folder / "migrations" / f"{_version(i)}_case_{i}.sql").write_text(text)
    return folder


def test_lint_of_many_files_on_two_cores_gives_the_findings_of_one_process_in_the_same_order(tmp_path, run_cli):
    _squawk_folder(tmp_path)
    alone = run_cli("lint", "--all", "--dialect", "postgresql", "--format", "json", env={"DBSHIFT_LINT_WORKERS": "1"})
    shared = run_cli("lint", "--all", "--dialect", "postgresql", "--format", "json", env={"DBSHIFT_LINT_WORKERS": "2"})
    assert alone.returncode == shared.returncode == 1, alone.output + shared.output
    one, two = json.loads(alone.stdout), json.loads(shared.stdout)
    assert two == one
    files = [f["file"] for f in (one["findings"] if isinstance(one, dict) else one)]
    assert files == sorted(files, key=lambda f: int(os.path.basename(f).split("_")[0]))  # file order kept
    assert len(set(files)) > 100  # findings from both halves: the second worker's came back
    text = run_cli("lint", "--all", "--dialect", "postgresql", env={"DBSHIFT_LINT_WORKERS": "2"}).stdout
    assert f"migrations/{_version(129)}_case_129.sql" in text


def test_a_bad_suppression_in_the_second_half_is_the_one_line_error_one_process_gives(tmp_path, run_cli):
    _squawk_folder(tmp_path)
    bad = tmp_path / "migrations" / f"{_version(120)}_case_120.sql"
    bad.write_text("-- migrate:up\n-- lint:ignore drop-colum typo\nALTER TABLE t DROP COLUMN c;\n")
    for workers in ("1", "2"):
        result = run_cli("lint", "--all", "--dialect", "postgresql", env={"DBSHIFT_LINT_WORKERS": workers})
        assert result.returncode == 2, result.output
        assert f"{_version(120)}_case_120.sql:2: unknown lint rule 'drop-colum' in lint:ignore" in result.stderr
        assert "Traceback" not in result.output


def test_chunks_run_in_separate_processes_and_come_back_in_order():
    parent = os.getpid()
    items = list(range(10))
    results = map_chunks(items, lambda chunk: [(item, os.getpid()) for item in chunk], 3)
    assert [item for item, _ in results] == items
    pids = [pid for _, pid in results]
    assert pids[:4] == [parent] * 4 and len(set(pids)) == 3


def test_a_worker_that_crashes_has_its_chunk_done_again_here():
    parent = os.getpid()

    def work(chunk):
        if os.getpid() != parent:
            os._exit(3)
        return [item * 2 for item in chunk]

    assert map_chunks(list(range(7)), work, 2) == [0, 2, 4, 6, 8, 10, 12]


def test_an_error_in_a_worker_is_raised_here_as_one_process_would_raise_it():
    def work(chunk):
        if 5 in chunk:
            raise ValueError(f"item 5 is bad (chunk {list(chunk)})")
        return list(chunk)

    with pytest.raises(ValueError, match=r"item 5 is bad \(chunk \[4, 5, 6, 7\]\)"):
        map_chunks(list(range(8)), work, 2)


def test_an_error_here_stops_the_workers_still_running(tmp_path):
    parent = os.getpid()
    pid_file = tmp_path / "worker.pid"

    def work(chunk):
        if os.getpid() != parent:
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)
            return list(chunk)
        while not pid_file.exists():
            time.sleep(0.01)
        raise RuntimeError("the first chunk failed")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="the first chunk failed"):
        map_chunks([1, 2], work, 2)
    assert time.monotonic() - started < 10
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # gone and reaped, not a zombie


def test_one_worker_per_idle_core_and_none_for_a_short_list_or_while_another_thread_runs(monkeypatch):
    import threading

    from dbshift.lint.parallel import workers

    monkeypatch.delenv("DBSHIFT_LINT_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert workers(5) == 1
    assert workers(500) == 2  # one per idle core
    monkeypatch.setattr(os, "getloadavg", lambda: (1.3, 1.0, 1.0))
    assert workers(500) == 1  # the other core is busy: two processes on one core are slower
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert workers(500) == 7
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert workers(500) == 1
        monkeypatch.setenv("DBSHIFT_LINT_WORKERS", "2")
        assert workers(500) == 1
    finally:
        stop.set()
        thread.join()
    assert workers(500) == 2  # the count asked for, now that no other thread runs
    monkeypatch.delenv("DBSHIFT_LINT_WORKERS")
    assert workers(500) == 8
