"""``migrations/dbshift.sum``: the checksum of every migration file and of the whole set.

The first line is the total; each further line is ``file sha256``. Two branches that each
add a migration both change the total line, so git reports a conflict at merge time
instead of letting two unordered migrations slip in unnoticed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from dbshift.errors import MigrationFileError
from dbshift.migrations import DiskSource, Migration, MigrationSource

SUM_NAME = "dbshift.sum"


@dataclass
class SumCheck:
    """How the files compare with ``dbshift.sum``."""

    exists: bool
    changed: list[str]
    missing_from_sum: list[str]
    missing_files: list[str]

    @property
    def ok(self) -> bool:
        """Every file is in the sum with its checksum; no sum file is fine while there are no files."""
        return not (self.changed or self.missing_from_sum or self.missing_files)


def render(migrations: list[Migration]) -> str:
    """The text of a sum file for these migrations."""
    lines = [f"{m.file} sha256:{m.checksum}" for m in migrations]
    total = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return "\n".join([f"total sha256:{total}", *lines]) + "\n"


def write(directory: Path, migrations: list[Migration]) -> Path:
    """(Re)write ``dbshift.sum`` from the files as they are now."""
    path = directory / SUM_NAME
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(render(migrations), encoding="utf-8")
    return path


def _as_source(where: Path | MigrationSource) -> MigrationSource:
    return where if isinstance(where, MigrationSource) else DiskSource(Path(where))


def read(where: Path | MigrationSource) -> dict[str, str] | None:
    """``{file: sha256}`` from ``dbshift.sum`` of a folder or a source, or None when there is none.

    A sum file whose total does not match its lines (a hand-resolved merge) is an error.
    """
    source = _as_source(where)
    data = source.read(SUM_NAME)
    if data is None:
        return None
    path = source.origin(SUM_NAME)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MigrationFileError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            hint="the sum file is written by dbshift: review the migrations, then `dbshift hash` rewrites it",
        ) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("total sha256:"):
        raise MigrationFileError(f"{path}:1: not a dbshift.sum file", hint="run `dbshift hash` to rewrite it")
    entries: dict[str, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if "<<<<<<<" in line or ">>>>>>>" in line or line.startswith("======="):
            raise MigrationFileError(
                f"{path}:{number}: unresolved merge conflict",
                hint="check the order of the merged migrations, then run `dbshift hash`",
            )
        try:
            file, digest = line.rsplit(" sha256:", 1)
        except ValueError:
            raise MigrationFileError(f"{path}:{number}: malformed line", hint="run `dbshift hash`") from None
        entries[file] = digest
    expected_total = hashlib.sha256("\n".join(lines[1:]).encode()).hexdigest()
    if lines[0] != f"total sha256:{expected_total}":
        raise MigrationFileError(
            f"{path}:1: the total does not match the lines (edited by hand or merged)",
            hint="review the migrations, then run `dbshift hash` to accept them",
        )
    return entries


def check(where: Path | MigrationSource, migrations: list[Migration]) -> SumCheck:
    """Compare the files with ``dbshift.sum`` of a folder or a source."""
    entries = read(where)
    if entries is None:
        return SumCheck(False, [], [m.file for m in migrations], [])
    files = {m.file: m.checksum for m in migrations}
    return SumCheck(
        exists=True,
        changed=[f for f, digest in files.items() if f in entries and entries[f] != digest],
        missing_from_sum=[f for f in files if f not in entries],
        missing_files=[f for f in entries if f not in files],
    )
