"""Timing helpers shared by the benchmarks: interleaved rounds, medians, ratios."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Callable

BENCH_DIR = Path(__file__).resolve().parent
WORK = BENCH_DIR / ".work"
VENV_BIN = BENCH_DIR.parent / ".venv" / "bin"
SRC = BENCH_DIR.parent / "src"


def checkout_env() -> dict[str, str]:
    """The environment that runs this checkout's dbshift (``python -m dbshift``), its bytecode
    compiled first so the first timed round does not pay for it; DATABASE_URL left out."""
    import os
    import sys

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(SRC)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(SRC)
    return env


def run_quiet(argv: list[str], cwd: Path, env: dict | None = None) -> None:
    """Run a command, failing loudly if it fails (a benchmark of a failing command is worthless)."""
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")


def interleaved(
    jobs: dict[str, Callable[[], None]], rounds: int, setup: Callable[[str], None] | None = None
) -> dict[str, list[float]]:
    """Run every job once per round, in turn, so machine noise hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            if setup:
                setup(name)
            started = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - started)
    return times


def report(times: dict[str, list[float]], reference: str) -> str:
    """A Markdown table of medians (and min/max) with ratios to ``reference``."""
    ref = statistics.median(times[reference])
    lines = ["| what | median | min | max | ratio to " + reference + " |", "|---|---|---|---|---|"]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(
            f"| {name} | {median * 1000:.1f} ms | {min(values) * 1000:.1f} ms | "
            f"{max(values) * 1000:.1f} ms | {median / ref:.2f}x |"
        )
    return "\n".join(lines)
