"""Linting many migrations on every core: the list is cut in contiguous chunks, one forked worker
lints each chunk but the first (which this process lints meanwhile), and the findings come back in
the order one process would give them.

Only for work that needs nothing from the others: migrations read by an analyser that keeps no
schema (PostgreSQL's, MySQL's) and no live database (a connection must not cross a fork). Where
``os.fork`` is missing, no other core is idle, other threads run or the list is short, it is a
plain loop. A
worker that fails (an exception, a crash) makes the whole chunk be linted again here, so an error
is raised exactly as one process would raise it.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence

#: Fewer items than this are linted in one process (a fork costs ~5 ms; 100 migrations ~60 ms).
MIN_ITEMS = 100


def workers(count: int) -> int:
    """How many processes to lint ``count`` items with: one per core that is idle (the 1-minute
    load average says how many are busy), one when forking is not possible, not safe (other
    threads run) or not worth it (a short list, no idle core: two processes on one free core are
    slower than one). ``DBSHIFT_LINT_WORKERS`` sets the count (1 turns forking off)."""
    chosen = os.environ.get("DBSHIFT_LINT_WORKERS", "")
    if chosen.strip().isdigit():
        wanted = max(1, int(chosen))
    elif count < MIN_ITEMS:
        wanted = 1
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        wanted = max(1, min(cores, int(cores - busy + 0.5)))  # the idle cores, rounded
    threading = sys.modules.get("threading")
    if not hasattr(os, "fork") or (threading is not None and threading.active_count() > 1):
        return 1  # a fork while another thread holds a lock (imports, logging) can hang the worker
    return max(1, min(wanted, count))


def map_chunks(items: Sequence, work: Callable[[Sequence], list], processes: int) -> list:
    """``work(items)`` computed as ``work`` of contiguous chunks in ``processes`` processes,
    concatenated in order (``work`` must return picklable values and change nothing shared)."""
    if processes <= 1 or len(items) < 2:
        return work(items)
    size = -(-len(items) // processes)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    children = [_start(chunk, work) for chunk in chunks[1:]]
    try:
        results = work(chunks[0])
        for index, chunk in enumerate(chunks[1:]):
            child, children[index] = children[index], None
            results += _collect(child, chunk, work)
        return results
    finally:  # an error raised here: stop the workers still running (none is left behind)
        for child in children:
            if child is not None:
                _stop(child)


def _start(chunk: Sequence, work: Callable[[Sequence], list]) -> tuple[int, int] | None:
    """Fork a worker for ``chunk``: (pid, read end of its pipe), or None when forking failed."""
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the worker: compute, send, leave without running the parent's exit handlers
        import pickle

        code = 0
        gc.disable()  # nothing of the parent's (a connection) may be finalised here
        try:
            os.close(read)
            data = pickle.dumps(work(chunk), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as out:
                out.write(data)
        except BaseException:  # noqa: BLE001 - the parent redoes the chunk and raises it there
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(child: tuple[int, int] | None, chunk: Sequence, work: Callable[[Sequence], list]) -> list:
    """The worker's results, or the chunk linted here when the worker could not give them."""
    if child is None:
        return work(chunk)
    pid, read = child
    with os.fdopen(read, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return work(chunk)
    import pickle

    return pickle.loads(data)


def _stop(child: tuple[int, int]) -> None:
    pid, read = child
    os.close(read)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
