"""The user's own checks: ``checks/*.sql``, run by rehearse.

A check is one query. With no header it must return no rows (each row is a problem found);
with ``-- expect: VALUE`` in its header its first row's first column must equal VALUE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dbshift.dialects.base import Database
from dbshift.errors import ConfigError

EXPECT = re.compile(r"^\s*--\s*expect\s*:\s*(?P<value>.*?)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class UserCheck:
    """One check file."""

    name: str
    path: Path
    sql: str
    expect: str | None

    def run(self, db: Database) -> str | None:
        """Run the query; a description of the problem, or None when the check passes."""
        try:
            rows = db.execute(self.sql)
        except Exception as exc:
            if not db.is_driver_error(exc):
                raise
            return f"{self.path.name}: {db.describe_error(exc)}"
        if self.expect is None:
            return None if not rows else f"{len(rows)} row(s) found, first: {rows[0]!r}"
        got = None if not rows else rows[0][0]
        return None if _same(got, self.expect) else f"expected {self.expect}, got {got!r}"


def _same(value, expected: str) -> bool:
    if value is None:
        return expected.upper() == "NULL"
    if isinstance(value, (int, float)):
        try:
            return float(expected) == float(value)
        except ValueError:
            return False
    return str(value) == expected


def load_checks(folder: Path | None) -> list[UserCheck]:
    """Every ``*.sql`` file in ``folder`` (none when it does not exist), by name."""
    if folder is None or not folder.is_dir():
        return []
    checks = []
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        match = EXPECT.search(text)
        sql = EXPECT.sub("", text).strip().rstrip(";").strip()
        if not sql:
            raise ConfigError(f"{path}: the check has no query", hint="write one SELECT; it must return no rows")
        checks.append(UserCheck(path.stem, path, sql, match["value"] if match else None))
    return checks
