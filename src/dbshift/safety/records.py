"""Migration records: what each apply touched, with fingerprints before and after, and ``dbshift report``.

The runner calls :meth:`Recorder.recording` around a migration's up; the record is stored in
the ``record`` column of its ``dbshift_history`` row (duration, who, host, checksum and backup
are columns of that row already).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from dbshift import __version__
from dbshift.dialects.base import Database
from dbshift.history import BOOKKEEPING_TABLES, AppliedMigration, LogEntry, now_iso
from dbshift.migrations import Migration
from dbshift.safety.fingerprint import fingerprint_table

#: Above this many rows a record keeps the table's row count but not its content hash: hashing
#: a big table before and after would cost more than the migration itself (a 2-million-row
#: rebuild went from 3 s to 11 s). `dbshift verify` still fingerprints every table in full.
RECORD_CONTENT_ROW_LIMIT = 200_000


def _summaries(db: Database, tables) -> dict:
    present = set(db.user_tables())
    summaries = {}
    for name in sorted(t for t in tables if t in present):
        rows = db.execute(f"SELECT count(*) FROM {db.quote(name)}")[0][0]
        content = fingerprint_table(db, name).content if rows <= RECORD_CONTENT_ROW_LIMIT else None
        summaries[name] = {"rows": rows, "content": content}
    return summaries


class Recorder:
    """Builds a migration record around one migration's up."""

    @contextlib.contextmanager
    def recording(self, db: Database, migration: Migration) -> Iterator[dict]:
        """Yield the record; after a successful block it holds tables touched and their fingerprints."""
        from dbshift.runner import statements_of

        predicted = (
            db.tables_written_by([s.sql for s in statements_of(db, migration, "up")])
            if migration.kind == "sql"
            else None
        )
        record: dict = {"started_at": now_iso(), "dbshift_version": __version__, "dialect": db.dialect}
        record["before"] = _summaries(db, predicted - set(BOOKKEEPING_TABLES)) if predicted else {}
        with db.watch_tables() as watch:
            yield record
        touched = watch.written - set(BOOKKEEPING_TABLES)
        record.update(
            finished_at=now_iso(),
            tables=sorted(touched) if watch.known else None,
            created=sorted(watch.created - set(BOOKKEEPING_TABLES)),
            dropped=sorted(watch.dropped - set(BOOKKEEPING_TABLES)),
            after=_summaries(db, touched),
        )


def render_report(row: AppliedMigration, migration: Migration | None, log: list[LogEntry], rollback_step) -> str:
    """The record of one applied migration as Markdown: what ran, when, how long, checks, way back."""
    record = row.record or {}
    lines = [
        f"# Migration report: {row.version}_{row.name}",
        "",
        f"- Status: **{row.status}**",
        f"- Applied: {row.applied_at} by {row.applied_by} on {row.host}",
        f"- Duration: {row.duration_ms} ms",
        f"- Checksum (sha256 of the file): `{row.checksum}`",
        f"- Backup taken before it: {row.backup or 'none (the migration is not flagged risky or destructive)'}",
    ]
    if migration is not None:
        lines.append(f"- File: {migration.file}" + (f": {migration.description}" if migration.description else ""))
        if migration.checksum != row.checksum:
            lines.append("- **The file changed since it was applied.**")
    lines += ["", "## Tables touched", ""]
    lines += _render_tables(record)
    lines += ["", "## Log", ""] + (
        [f"- {e.at} {e.action} by {e.actor}@{e.host}" + (f": {e.detail}" if e.detail else "") for e in log]
        or ["- (no log entries)"]
    )
    lines += ["", "## Rollback", ""] + _render_rollback(rollback_step) + [""]
    return "\n".join(lines)


def _render_tables(record: dict) -> list[str]:
    if record.get("imported"):
        was = record["imported"]
        return [
            f"Imported from {was['tool']} (its {was['origin']}): it ran under that tool, which kept no such record."
        ]
    if not record:
        return ["No record was stored for this migration (applied before records existed, or by another tool)."]
    if record.get("tables") is None:
        return ["The database cannot report which tables a migration writes."]
    before, after = record.get("before", {}), record.get("after", {})
    lines = ["| table | rows before | rows after | content | note |", "|---|---|---|---|---|"]
    for table in sorted(set(record["tables"]) | set(before)):
        b, a = before.get(table), after.get(table)
        note = _table_note(table, b, a, record)
        content = _content_change(b, a)
        lines.append(f"| {table} | {b['rows'] if b else '-'} | {a['rows'] if a else '-'} | {content} | {note} |")
    lines += [
        "",
        f"Started {record.get('started_at')}, finished {record.get('finished_at')} "
        f"(dbshift {record.get('dbshift_version')}, {record.get('dialect')}).",
    ]
    return lines


def _content_change(before: dict | None, after: dict | None) -> str:
    if not (before and after):
        return ""
    if before["content"] is None or after["content"] is None:
        return f"not hashed (over {RECORD_CONTENT_ROW_LIMIT:,} rows)"
    return "unchanged" if before["content"] == after["content"] else "changed"


def _table_note(table: str, before: dict | None, after: dict | None, record: dict) -> str:
    if before and after:
        return "rebuilt" if table in record.get("dropped", []) else ""
    if after:
        return "created"
    if before:
        return "dropped"
    return "temporary (renamed or dropped in the same migration)"


def _render_rollback(step) -> list[str]:
    from dbshift.safety.plan import VERDICT_TITLES

    lines = [f"- Down: {VERDICT_TITLES[step.verdict]}: {step.reason}."]
    if step.restore_instead:
        lines.append(f"- Restore instead: {step.restore_instead}.")
    if step.down_sql:
        lines += ["", "```sql", *step.down_sql, "```"]
    return lines
