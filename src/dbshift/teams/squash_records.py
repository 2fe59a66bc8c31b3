"""Reading squashes: how ``status``, ``apply``, ``rollback`` and ``sync`` understand a squashed file.

``dbshift squash --to V`` writes one migration with version V whose header lists every file it
replaces, one line each: ``-- squashes VERSION FILE sha256:HEX``. The header is part of the file,
so ``dbshift.sum`` covers the record. From it:

- a database that ran the original migrations keeps its history: their rows are accepted
  ("squashed", not "applied but no file"), and the row of V keeps the original file's checksum;
- a database stopped inside the squash (some of the originals applied, not V) is refused, since
  the squashed file would create tables it already has;
- rolling such a database back below V is refused: the squashed down would drop the schema and
  leave the originals' history rows behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbshift.errors import SafetyRefusal

#: One replaced file in a squashed migration's header.
RECORD = re.compile(r"^-- squashes (?P<version>\d{14}) (?P<file>\S+) sha256:(?P<sum>[0-9a-f]{64})\s*$")
#: Quick test before any parsing: only files holding this text can be squashes.
MARK = "\n-- squashes "
#: Where the replaced files go, inside the migrations folder: ``squashed/V/``.
ARCHIVE = "squashed"


@dataclass
class Squash:
    """A squashed migration and the files it replaced (version -> accepted checksums)."""

    migration: object
    covered: dict[int, set[str]] = field(default_factory=dict)
    files: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def version(self) -> int:
        """The squashed file's version (the newest version it replaced)."""
        return self.migration.version

    @property
    def archive(self) -> str:
        """The archive folder, relative to the migrations folder."""
        return f"{ARCHIVE}/{self.version}"


def read_squash(migration) -> Squash | None:
    """The squash record in ``migration``'s header, or None when it is an ordinary migration."""
    text = getattr(migration, "text", "")
    if MARK not in text and not text.startswith("-- squashes "):
        return None
    squash = Squash(migration)
    for line in text.splitlines():
        if line.strip().lower().startswith("-- migrate:"):
            break
        record = RECORD.match(line)
        if record:
            version = int(record["version"])
            squash.files.append((version, record["file"], record["sum"]))
            squash.covered.setdefault(version, set()).add(record["sum"])
    return squash if squash.files else None


def squashes(migrations: list) -> list[Squash]:
    """Every squash among ``migrations``, oldest first."""
    return [s for s in (read_squash(m) for m in migrations) if s is not None]


def reconcile(status, migrations: list) -> None:
    """Adjust a fresh ``status`` for the squashes among ``migrations`` (in place).

    Rows of replaced migrations move from ``missing_files`` to ``squashed``; the squashed file's
    row counts as unchanged when it holds a replaced file's checksum; a database stopped inside a
    squash gets ``inside_squash`` (a refusal message).
    """
    found = squashes(migrations)
    if not found:
        return
    applied = {a.version: a for a in status.applied}
    accepted: set[int] = set()
    for squash in found:
        top = applied.get(squash.version)
        below = sorted(v for v in squash.covered if v != squash.version and v in applied)
        accepted.update(below)
        if top is not None and top.checksum in squash.covered.get(squash.version, set()):
            status.changed = [m for m in status.changed if m.version != squash.version]
        if below and top is None and status.inside_squash is None:
            status.inside_squash = (
                f"this database stopped at {max(below)}, inside the squash up to {squash.version} "
                f"({squash.migration.file}): it has {len(below)} of the {len(squash.covered)} squashed "
                "migrations, and the squashed file would create what it already has"
            )
    status.squashed = sorted((applied[v] for v in accepted), key=lambda a: a.version)
    status.missing_files = [a for a in status.missing_files if a.version not in accepted]


INSIDE_HINT = (
    "check out the commit before the squash (its files are in migrations/squashed/), "
    "`dbshift apply` there, then come back; or rebuild this database from the squashed file"
)


def refuse_rollback_across(migrations: list, status, plan: list) -> None:
    """Refuse a rollback plan that would run a squashed down on a database that ran the originals."""
    chosen = {m.version for m in plan}
    ran_originals = {a.version for a in getattr(status, "squashed", [])}
    for squash in squashes(migrations):
        if squash.version in chosen and ran_originals & set(squash.covered):
            raise SafetyRefusal(
                f"cannot roll back {squash.migration.label}: this database ran the "
                f"{len(squash.covered)} migrations it squashes one by one, and its down would drop the "
                "schema but leave their history",
                hint=f"roll back only migrations newer than {squash.version}; to go further, `dbshift restore` a "
                f"backup, or check out the commit before the squash (files in migrations/{squash.archive}/)",
            )
