"""The observed-finding rules and how observations (:mod:`dbshift.lint.observe`) become findings."""

from __future__ import annotations

from dbshift.lint.findings import Finding, Rule

ALL = frozenset({"sqlite", "postgresql", "mysql"})
#: A blocking lock held at least this long is a warning (``observed-long-lock``), shorter ones are info.
LONG_LOCK_SECONDS = 1.0

_LOCK_FIX = (
    "use the form that does not block (PostgreSQL: CREATE INDEX CONCURRENTLY in a no-transaction migration, "
    "constraints NOT VALID then VALIDATE, a type change that keeps the storage; MySQL: ALGORITHM=INPLACE/INSTANT, "
    "LOCK=NONE or an online schema-change tool; SQLite: a short migration at a quiet time), and set a lock timeout"
)

OBSERVED_RULES = [
    Rule(
        "observed-long-lock",
        "warning",
        ALL,
        "Blocking lock held for long (observed)",
        "on the rehearsal copy, this {detail}",
        _LOCK_FIX,
    ),
    Rule(
        "observed-lock",
        "info",
        ALL,
        "Blocking lock (observed)",
        "on the rehearsal copy, this {detail}",
        _LOCK_FIX,
    ),
    Rule(
        "observed-rewrite",
        "warning",
        ALL,
        "Table rewritten or copied (observed)",
        "on the rehearsal copy, this {detail}: it needs the table's size again in free disk space and its "
        "time grows with the rows",
        "change the column in a way that keeps the storage (PostgreSQL: varchar(n) to a longer varchar or text, "
        "a NOT VALID check instead of a type; MySQL: an INSTANT/INPLACE change) or copy in batches with an "
        "online schema-change tool",
    ),
    Rule(
        "observed-failure",
        "error",
        ALL,
        "Fails on a copy of the live data (observed)",
        "on the rehearsal copy of the live database, this migration fails: {detail}",
        "fix the migration (or the rows it trips over) before applying it; `dbshift rehearse` shows the steps",
    ),
    Rule(
        "observed-not-observable",
        "info",
        ALL,
        "Not observable on this server",
        "not observable: {detail}",
        "turn the missing instrument on where that is possible, or read the statement's static findings",
    ),
]


def _many(number: int | None, word: str = "row") -> str:
    if number is None:
        return ""
    return f" ({number:,} {word}{'' if number == 1 else 's'})"


def _lock_detail(table, seconds: float, until_commit: bool) -> str:
    modes = " + ".join(table.locks) or "a lock"
    held = f"for {seconds:.2f} s" + (" (until the migration commits)" if until_commit else "")
    if not table.table:
        who = (
            "every read and write of the database waits" if table.blocks_reads else "every write to the database waits"
        )
        return f"holds the database {modes} {held}: {who}"
    who = f"every query on {table.table} waits" if table.blocks_reads else f"writes to {table.table} wait"
    how = f" (seen: {table.lock_evidence})" if table.lock_evidence else ""
    return f"holds {modes} on {table.table}{_many(table.rows)} {held}: {who}{how}"


def _statement_findings(seen) -> list[tuple[str, str]]:
    """(code, detail) for one statement observation."""
    found = []
    rewrote = any(t.rewritten for t in seen.tables)
    for table in seen.tables:
        if table.rewritten:
            how = f", {table.evidence}" if table.evidence else ""
            seconds = seen.seconds if table.seconds is None else table.seconds
            found.append(
                ("observed-rewrite", f"rewrote table {table.table}{_many(table.rows)} in {seconds:.2f} s{how}")
            )
        if not (table.blocks_writes or table.blocks_reads):
            continue
        long = seen.held_seconds >= LONG_LOCK_SECONDS
        worth = long or rewrote or (table.table and table.rows)
        if worth:
            code = "observed-long-lock" if long else "observed-lock"
            found.append((code, _lock_detail(table, seen.held_seconds, table.held_until_commit)))
    return found


def observed_findings(observed, settings=None, failures=()) -> list[Finding]:
    """The findings of ``observed`` (a :class:`dbshift.lint.observe.Observed`), with ``failures``
    ((migration, message, line or None) of migrations that failed on the copy); ``settings`` turn rules off or
    change severities."""
    rules = {rule.code: rule for rule in OBSERVED_RULES}
    disabled = settings.disabled if settings is not None else frozenset()
    severities = settings.severities if settings is not None else {}
    findings: list[Finding] = []

    def add(code, file, line, statement, detail, section="up"):
        if code in disabled:
            return
        rule = rules[code]
        findings.append(
            Finding(
                code,
                severities.get(code, rule.severity),
                file,
                line,
                statement,
                rule.problem.format(detail=detail),
                rule.fix,
                section,
            )
        )

    for note in observed.notes:
        file, line = observed.placed.get(note, (observed.first_file, 1))
        add("observed-not-observable", file, line, "", note, "file")
    for seen in observed.observations:
        for code, detail in _statement_findings(seen):
            add(code, seen.file, seen.line, seen.statement, detail)
    for migration, message, at in failures:
        failed = [o for o in observed.observations if o.file == str(migration.path) and o.error]
        line = failed[-1].line if failed else (at or 1)  # (refused before a statement ran: its line)
        add("observed-failure", str(migration.path), line, failed[-1].statement if failed else "", message)
    return findings
