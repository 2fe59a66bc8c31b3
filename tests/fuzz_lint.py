"""The lint part of the CLI fuzz (tests/test_fuzz_cli.py): the migration lines, ``[lint]`` tables
and PostgreSQL migration lint reads and ``--fix`` rewrites, and the judge of lint's promises."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from cli_inprocess import is_one_error_with_hint

#: What `dbshift lint` exits with: clean, an error-level finding, a usage or configuration error.
LINT_EXIT_CODES = {0, 1, 2}
#: --fix and --diff of an applied migration: refused for safety (its checksum is in the history).
REFUSED = 3


#: A pending PostgreSQL migration every --fix rewrite applies to (CONCURRENTLY, NOT VALID, a
#: validated check before SET NOT NULL, lock_timeout).
PENDING_PG_SQL = b"""\
-- description: index and checks
-- migrate:up
CREATE INDEX orders_cents ON orders (cents);
-- lint:ignore int-key the key stays small
ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE customers ALTER COLUMN name SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT "cents > 0" CHECK (cents > 0);
-- migrate:down
DROP INDEX orders_cents;
"""
#: Lines lint reads: suppressions (good, unknown codes, without a reason, glued), statements its
#: rules and --fix look at.
LINT_LINES = [
    "-- lint:ignore drop-table the table is empty",
    "-- lint:ignore no-such-rule because",
    "-- lint:ignore drop-column",
    "-- lint:ignore",
    "-- lint:ignoredrop-table glued",
    "-- LINT:IGNORE drop-table shouting",
    "-- lint:ignore not-analysed reviewed by hand",
    "-- lint:ignore index-not-concurrent " + "r" * 3000,
    "CREATE INDEX i ON orders (cents);",
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS j ON orders (cents);",
    "ALTER TABLE orders ADD CONSTRAINT c CHECK (cents > 0);",
    "ALTER TABLE orders ALTER COLUMN cents SET NOT NULL;",
    "ALTER TABLE orders ADD COLUMN n int NOT NULL;",
    "SET lock_timeout = '1s';",
    "DO $$ BEGIN PERFORM 1; END $$;",
    "SELECT $x$ unclosed dollar",
    'CREATE INDEX "\u00e9 ""q""" ON orders (cents);',
    "TRUNCATE orders CASCADE;",
    "DROP TABLE customers CASCADE;",
]
#: A dbshift.toml with no database: lint then needs --dialect, and --fix --dialect postgresql rewrites.
NO_DATABASE_TOML = b'[migrations]\ndir = "migrations"\n'


def mutate_lines(rng: random.Random, data: bytes, extra_lines: list[str]) -> bytes:
    """One to four line edits that keep the text UTF-8 (lint then gets to read it): insert an odd
    line, double, drop or swap lines, cut the text anywhere."""
    lines = data.decode("utf-8").split("\n")
    for _ in range(rng.randint(1, 4)):
        at, other = rng.randrange(len(lines)), rng.randrange(len(lines))
        operator = rng.randrange(6)
        if operator <= 1:  # mostly below the header (SQL there is an error before lint reads anything)
            at = rng.randint(min(2, len(lines)), len(lines)) if rng.random() < 0.8 else at
            lines.insert(at, rng.choice(extra_lines))
        elif operator == 2:
            lines.insert(at, lines[other])
        elif operator == 3 and len(lines) > 1:
            del lines[at]
        elif operator == 4:
            lines[at], lines[other] = lines[other], lines[at]
        else:
            lines[at] = lines[at][: rng.randint(0, len(lines[at]))]
    return "\n".join(lines).encode("utf-8")


LINT_TABLE_LINES = [
    'disable = ["drop-table"]',
    'disable = ["no-such-rule"]',
    'disable = "drop-table"',
    "disable = [1]",
    "disable = []",
    "server_version = 9",
    'server_version = "16"',
    "server_version = 99999999999999999999",
    "server_version = -1",
    "server_version = 1e300",
    'apply = "warn"',
    'apply = "off"',
    'apply = "maybe"',
    "apply = 1",
    "big_table_rows = 0",
    "big_table_rows = -5",
    "big_table_rows = 9223372036854775807",
    "big_table_rows = 1e9",
    "big_table_rows = true",
    "unknown_key = 1",
    'severity = "error"',
]
LINT_SEVERITY_LINES = [
    'drop-table = "info"',
    'drop-table = "fatal"',
    "drop-table = 1",
    'no-such-rule = "error"',
    'not-analysed = "error"',
    'missing-down = ["error"]',
    'drop-column = "ERROR"',
    "int-key = {}",
]


def lint_table(rng: random.Random) -> str:
    """An odd ``[lint]`` table (and maybe ``[lint.severity]``), or a malformed header."""
    lines = ["", "[lint]"] + rng.sample(LINT_TABLE_LINES, rng.randint(1, 3))
    if rng.random() < 0.5:
        lines += ["[lint.severity]"] + rng.sample(LINT_SEVERITY_LINES, rng.randint(1, 2))
    if rng.random() < 0.1:
        lines.insert(1, rng.choice(["[[lint]]", "[lint.severity.x]", "lint = 5"]))
    return "\n".join(lines) + "\n"


def judge_lint(argv: list[str], result, before: dict[str, bytes], after: dict[str, bytes]) -> str | None:
    """lint's promises: exit 0, 1 or 2 (a usage or configuration error, in one line with a hint; 3
    when --fix or --diff is refused an applied migration); JSON and SARIF parse and exit 1 exactly when they hold an error-level finding; --diff writes no
    file; --fix leaves every migration PostgreSQL's parser could read readable."""
    code, out = result.returncode, result.stdout
    fixing = "--fix" in argv or "--diff" in argv
    if code not in LINT_EXIT_CODES | ({REFUSED} if fixing else set()):
        return f"lint exit code {code}: {result.output[-400:]}"
    if code in (2, REFUSED) and not is_one_error_with_hint(result):
        return f"lint exit {code} without one error line and a hint: {result.stderr[-400:]!r}"
    if (
        "dbshift.toml" in result.stderr
        and "lint" in result.stderr
        and not re.search(r"dbshift\.toml:\d+", result.stderr)
    ):
        return f"a [lint] error not naming its line: {result.stderr[-300:]!r}"
    if "--diff" in argv and after != before:
        return f"lint --diff changed files: {sorted(n for n in after if after[n] != before.get(n))}"
    if "--fix" in argv:
        broken = [n for n in before if postgres_readable(before[n]) and not postgres_readable(after.get(n, b""))]
        if broken:
            return f"lint --fix made {broken} unreadable: {after.get(broken[0], b'')[:600]!r}"
    if code in (2, REFUSED) or fixing:
        return None
    given = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "--format"]  # the last one counts
    output_format = given[-1] if given else ("json" if "--json" in argv else "text")
    if output_format in ("json", "sarif"):
        try:
            data = json.loads(out)
        except ValueError as exc:
            return f"lint --format {output_format} printed what is not JSON ({exc}): {out[:300]!r}"
        if output_format == "json":
            errors = data["summary"]["error"]
        else:
            errors = sum(r["level"] == "error" for run in data["runs"] for r in run["results"])
        if (errors > 0) != (code == 1):
            return f"lint exit {code} with {errors} error-level findings in its {output_format}"
    elif output_format == "github":
        odd = [line for line in out.splitlines() if not re.match(r"::(error|warning|notice) file=", line)]
        if odd:
            return f"lint --format github printed a line that is no workflow command: {odd[0][:200]!r}"
    return None


def postgres_readable(data: bytes) -> bool:
    """Whether a migration file loads and PostgreSQL's parser reads every statement of it."""
    import tempfile

    import pglast

    from dbshift.dialects.description import describe
    from dbshift.errors import DbshiftError
    from dbshift.migrations import load_migration

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "20260102000000_change.sql"
        path.write_bytes(data)
        try:
            migration = load_migration(path)
        except DbshiftError:
            return False
    split = describe("postgresql").split_script
    statements = split(migration.up_sql, 1) + split(migration.down_sql or "", 1)
    try:
        for statement in statements:
            pglast.parse_sql(statement.sql)
    except Exception:  # noqa: BLE001 - pglast's ParseError
        return False
    return True
