"""Table fingerprints: a row count and an order-independent content hash, computed streaming.

The dialect digests the rows (:meth:`Database.content_digest`) in one of two ways that do not
depend on how the database stores them, so a rebuilt or vacuumed table with the same rows has
the same fingerprint, and any changed, added or removed row changes it:

- in key order: SQLite tables whose primary key is the rowid are read in key order, and their
  rows' exact text forms hashed as one stream;
- summed: otherwise each row is serialized (SQLite: ``marshal`` of its values; the servers: an
  MD5 of its text, computed in the server) and hashed, and the per-row hashes are summed, which
  does not depend on the order rows come back in.

The dialect's digest is then hashed into one hex string.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dbshift.dialects.base import BOOKKEEPING_TABLES, Database


@dataclass(frozen=True)
class Fingerprint:
    """One table's row count, content hash and schema definition."""

    table: str
    rows: int
    content: str
    schema: str

    def as_json(self) -> dict:
        """A JSON-friendly dict."""
        return {"table": self.table, "rows": self.rows, "content": self.content, "schema": self.schema}

    @staticmethod
    def from_json(data: dict) -> "Fingerprint":
        """The inverse of :meth:`as_json`."""
        return Fingerprint(data["table"], int(data["rows"]), data["content"], data.get("schema", ""))


def data_tables(db: Database) -> list[str]:
    """The user's tables: everything except dbshift's own bookkeeping tables."""
    return [t for t in db.user_tables() if t not in BOOKKEEPING_TABLES]


def fingerprint_table(db: Database, table: str) -> Fingerprint:
    """Fingerprint one table in a single streaming pass."""
    rows, digest = db.content_digest(table)
    content = hashlib.blake2b(digest, digest_size=16).hexdigest()
    return Fingerprint(table, rows, content, db.table_definition(table))


def fingerprint_tables(db: Database, tables: list[str] | None = None) -> dict[str, Fingerprint]:
    """Fingerprints of ``tables`` (default: every data table), by table name."""
    names = data_tables(db) if tables is None else [t for t in tables if t in set(db.user_tables())]
    return {name: fingerprint_table(db, name) for name in names}


SAME = "same"
DIFFERENT_ROWS = "different rows"
DIFFERENT_SCHEMA = "different schema"
ONLY_LEFT = "only in the database"
ONLY_RIGHT = "only in the backup"


def compare(left: dict[str, Fingerprint], right: dict[str, Fingerprint]) -> dict[str, str]:
    """Per table: same / different rows / different schema / only on one side."""
    verdicts = {}
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table), right.get(table)
        if a is None or b is None:
            verdicts[table] = ONLY_RIGHT if a is None else ONLY_LEFT
        elif a.schema != b.schema:
            verdicts[table] = DIFFERENT_SCHEMA
        elif (a.rows, a.content) != (b.rows, b.content):
            verdicts[table] = DIFFERENT_ROWS
        else:
            verdicts[table] = SAME
    return verdicts
