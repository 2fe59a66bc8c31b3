"""Where a database stands against a migrations folder: applied, pending, changed, dirty, squashed."""

from __future__ import annotations

from dataclasses import dataclass, field

from dbshift import sumfile
from dbshift.history import RUNNING, AppliedMigration, current_version
from dbshift.migrations import Migration, out_of_order
from dbshift.teams.squash_records import reconcile


@dataclass
class Status:
    """Where the database stands against the migrations folder."""

    url: str
    current_version: int
    applied: list[AppliedMigration]
    pending: list[Migration]
    changed: list[Migration]
    missing_files: list[AppliedMigration]
    dirty: list[AppliedMigration]
    sum_check: sumfile.SumCheck
    #: A killed run's half-done migration that opening the database rolled back (None: nothing was).
    recovered: str | None = None
    #: False when the database is a SQLite file that does not exist yet (``apply`` creates it).
    database_exists: bool = True
    #: Pending migrations older than the newest applied one (a branch merged after a newer one ran).
    out_of_order: list[Migration] = field(default_factory=list)
    #: History rows of migrations a squashed file replaced (accepted: see dbshift.teams.squash_records).
    squashed: list[AppliedMigration] = field(default_factory=list)
    #: Why this database cannot go on: it stopped inside a squash (None: it did not).
    inside_squash: str | None = None

    @property
    def ok(self) -> bool:
        """No changed files, no dirty state, not stopped inside a squash."""
        return not (self.changed or self.dirty or self.inside_squash)

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {
            "database": self.url,
            "current_version": self.current_version,
            "applied": [a.as_json() for a in self.applied],
            "pending": [{"version": m.version, "name": m.name, "file": m.file} for m in self.pending],
            "changed": [{"version": m.version, "file": m.file} for m in self.changed],
            "missing_files": [{"version": a.version, "name": a.name} for a in self.missing_files],
            "dirty": [{"version": a.version, "name": a.name} for a in self.dirty],
            "recovered": self.recovered,
            "database_exists": self.database_exists,
            "out_of_order": [{"version": m.version, "file": m.file} for m in self.out_of_order],
            "squashed": [{"version": a.version, "name": a.name} for a in self.squashed],
            "inside_squash": self.inside_squash,
            "sum_file": {
                "exists": self.sum_check.exists,
                "up_to_date": self.sum_check.ok,
                "changed": self.sum_check.changed,
                "not_in_sum": self.sum_check.missing_from_sum,
            },
        }


def status_of(url: str, migrations_dir, migrations: list[Migration], applied: dict[int, AppliedMigration]) -> Status:
    """The status of ``migrations`` (in ``migrations_dir``) against ``applied`` (history rows) of the
    database at ``url`` (masked), without connecting."""
    by_version = {m.version: m for m in migrations}
    newest = current_version(applied)  # no migration can be out of order before any is applied
    status = Status(
        url=url,
        current_version=newest,
        applied=sorted(applied.values(), key=lambda a: a.version),
        pending=[m for m in migrations if m.version not in applied],
        changed=[by_version[v] for v, a in applied.items() if v in by_version and by_version[v].checksum != a.checksum],
        missing_files=[a for v, a in applied.items() if v not in by_version and not a.declared],
        dirty=[a for a in applied.values() if a.status == RUNNING],
        sum_check=sumfile.check(migrations_dir, migrations),
        out_of_order=out_of_order(migrations, applied) if newest else [],
    )
    reconcile(status, migrations)
    return status
