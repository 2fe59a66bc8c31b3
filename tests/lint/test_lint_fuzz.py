"""Fuzzing lint through the library: statements from the shared corpus (squawk's cases, sqldef's
PostgreSQL, MySQL and SQLite files, read in place) mutated the way careless hands and a fuzzer
would (cut anywhere, tokens swapped, doubled or dropped, odd identifiers, unbalanced quotes,
comments and dollar quotes, NUL, huge numbers, ``-- lint:ignore`` comments) are linted on each
dialect. The promise of issue 14: never an exception (a bad ``lint:ignore`` is a ConfigError
naming its file and line), every statement the dialect's own parser rejects is a ``not-analysed``
finding on its line, every finding's line is inside the file, and the JSON and SARIF renderings
parse. The draft path (SQLite: a mutated desired schema drafted and linted) keeps the same
promise. The seed is fixed; ``DBSHIFT_LINT_FUZZ_INPUTS=N`` runs N inputs per dialect instead of
the default (``DBSHIFT_LINT_FUZZ_SEED`` another seed).
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3

import pytest
from tests.conftest import CORPUS, skip_or_fail

from dbshift.errors import ConfigError, DbshiftError
from dbshift.lint import lint_sql
from dbshift.lint.formats import render

INPUTS = int(os.environ.get("DBSHIFT_LINT_FUZZ_INPUTS", "4000"))
DRAFT_INPUTS = max(1, INPUTS // 4)
SEED = int(os.environ.get("DBSHIFT_LINT_FUZZ_SEED", "20261206"))
DIALECTS = ("postgresql", "mysql", "sqlite")
SQLDEF_FOLDERS = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite3"}

#: Tokens dropped into a statement: quotes, comment and string terminators, dollar quotes, NUL,
#: huge numbers, transaction words and keywords lint rules look for.
ODD_TOKENS = [
    "\x00",
    '"',
    "`",
    "'",
    "/*",
    "*/",
    "--",
    "$$",
    "$a$",
    "E'\\'",
    "N'",
    "[",
    "]",
    "(",
    ")",
    ";",
    "\\",
    "99999999999999999999999999999999",
    "1e999",
    "-0x7fffffffffffffffff",
    "\r",
    "\t",
    "\x0c",
    "\u2028",
    "\ufeff",
    "BEGIN",
    "COMMIT",
    "END",
    "ROLLBACK",
    "CONCURRENTLY",
    "NOT VALID",
    "IF NOT EXISTS",
    "CASCADE",
    "NOT " * 3000,  # deeper than Python's JSON decoding and tree walks go
]
#: Identifiers put in the place of a word.
ODD_IDENTIFIERS = [
    '"a""b"',
    "`x``y`",
    '"' + "n" * 1000 + '"',
    "n" * 1000,
    "[bracketed]",
    '"é名🎉"',
    "é名",
    '"\x00"',
    '""',
    "``",
    '"-- not a comment"',
    '"/*"',
    "'string'",
    "$q$dollar$q$",
    'U&"\\0041"',
    '"a.b"',
    "a.b.c.d",
    '"""""',
    "x$1",
    "_",
    "9x",
]
#: ``lint:ignore`` comments put above a statement: good ones, unknown codes, no reason, odd spacing.
IGNORE_COMMENTS = [
    "-- lint:ignore drop-table the table is empty",
    "-- lint:ignore not-analysed reviewed by hand",
    "-- lint:ignore no-such-rule because",
    "-- lint:ignore drop-column",
    "-- lint:ignore",
    "--lint:ignore drop-table x",
    "-- LINT:IGNORE drop-table x",
    "-- lint:ignore drop-table " + "y" * 2000,
    "-- lint:ignore drop-table\treason",
    "-- lint:ignore \u2028 drop-table x",
    "/* lint:ignore drop-table x */",
]
TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
#: MySQL statements dbshift reads from sqlglot's tokens because sqlglot cannot parse them.
READ_FROM_TOKENS = re.compile(r"\b(TRIGGER|EVENT|PARTITION|RENAME)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def corpus_statements() -> dict[str, list[str]]:
    """Scripts per dialect: squawk's cases (PostgreSQL) and every SQL text of sqldef's test files."""
    yaml = pytest.importorskip("yaml")
    if not (CORPUS / "squawk" / "cases.json").is_file() or not (CORPUS / "sqldef").is_dir():
        skip_or_fail(f"squawk and sqldef corpora not found under {CORPUS}")
    scripts: dict[str, list[str]] = {d: [] for d in DIALECTS}
    scripts["postgresql"] += [c["sql"] for c in json.loads((CORPUS / "squawk" / "cases.json").read_text())]
    for dialect, folder in SQLDEF_FOLDERS.items():
        for path in sorted((CORPUS / "sqldef" / folder).glob("*.yml")):
            for case in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values():
                if isinstance(case, dict):
                    texts = (case.get(key) for key in ("current", "desired", "up", "down"))
                    scripts[dialect] += [t for t in texts if isinstance(t, str) and t.strip()]
    return scripts


def mutate(rng: random.Random, sql: str, ignores: bool = True) -> str:
    """One to four of: cut at a random point, swap, double or drop a token, drop in an odd token,
    replace a word by an odd identifier, put a ``lint:ignore`` comment above a line."""
    for _ in range(rng.randint(1, 4)):
        operator = rng.randrange(7 if ignores else 6)
        if operator == 0:
            sql = sql[: rng.randint(0, len(sql))]
            continue
        if operator == 6:
            lines = sql.split("\n")
            lines.insert(rng.randint(0, len(lines)), rng.choice(IGNORE_COMMENTS))
            sql = "\n".join(lines)
            continue
        tokens = TOKEN.findall(sql) or [""]
        at = rng.randrange(len(tokens))
        if operator == 1:
            other = rng.randrange(len(tokens))
            tokens[at], tokens[other] = tokens[other], tokens[at]
        elif operator == 2:
            tokens.insert(at, tokens[at])
        elif operator == 3:
            del tokens[at]
        elif operator == 4:
            tokens.insert(at, rng.choice(ODD_TOKENS))
        else:
            words = [i for i, t in enumerate(tokens) if t[:1].isalpha()]
            tokens[rng.choice(words) if words else at] = rng.choice(ODD_IDENTIFIERS)
        sql = "".join(tokens)
    return sql


def parser_rejects(dialect: str, sql: str) -> bool:
    """Whether the dialect's own parser refuses ``sql`` as a syntax error: pglast (PostgreSQL's
    parser), sqlglot (MySQL; but the statements dbshift reads from its tokens), SQLite compiling
    it on an empty database."""
    if dialect == "postgresql":
        import pglast

        try:
            pglast.parse_sql(sql)
        except Exception:  # noqa: BLE001 - pglast.parser.ParseError, or a NUL's ValueError
            return True
        return False
    if dialect == "mysql":
        import sqlglot

        if READ_FROM_TOKENS.search(sql):
            return False
        try:
            sqlglot.parse(sql, read="mysql")
        except Exception:  # noqa: BLE001 - ParseError, TokenError, and sqlglot's own ValueError/TypeError
            return True
        return False
    from dbshift.dialects.description import describe

    if not describe("sqlite").split_script(sql.replace("\ufeff", "")):  # SQLite skips byte order marks
        return False  # (and what is left is only comments: nothing to run)
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("EXPLAIN " + sql)
    except sqlite3.ProgrammingError as exc:  # a NUL (sqlite3 refuses it before SQLite sees it)
        return "null character" in str(exc)
    except sqlite3.Error as exc:
        return any(words in str(exc) for words in ("syntax error", "incomplete input", "unrecognized token"))
    finally:
        connection.close()
    return False


def check_lint(dialect: str, sql: str, rng: random.Random) -> str | None:
    """Lint ``sql`` as a section of a file; what broke the promise, or None."""
    from dbshift.dialects.description import describe

    first_line = rng.choice([1, 1, 2, 40])
    lines = [""] * (first_line - 1) + sql.split("\n")
    try:
        findings = lint_sql(
            sql,
            dialect,
            file="fuzz.sql",
            first_line=first_line,
            section=rng.choice(["up", "down"]),
            transactional=rng.choice([None, True, False]),
            file_lines=lines,
        )
    except ConfigError as exc:  # a bad lint:ignore: named by file and line, and that line holds one
        where = re.match(r"fuzz\.sql:(\d+): ", str(exc))
        if where is None or "lint:ignore" not in lines[int(where.group(1)) - 1]:
            return f"ConfigError not naming the lint:ignore line: {exc}"
        return None
    except Exception as exc:  # noqa: BLE001 - the promise broken: report it with the input
        return f"{type(exc).__name__}: {exc}"
    last = first_line + sql.count("\n")
    outside = [f for f in findings if not first_line <= f.line <= last]
    if outside:
        return f"finding {outside[0].code} on line {outside[0].line}, outside lines {first_line}-{last}"
    not_analysed = {f.line for f in findings if f.code == "not-analysed"}
    suppressed = re.search(r"lint:ignore\s+not-analysed", sql)  # (reviewed by hand: the finding is silenced)
    for statement in describe(dialect).split_script(sql, first_line):
        if not suppressed and statement.line not in not_analysed and parser_rejects(dialect, statement.sql):
            return f"the parser rejects line {statement.line}, yet no not-analysed finding: {statement.sql[:200]!r}"
    json.loads(render(findings, "json", {}))
    json.loads(render(findings, "sarif", {}))
    return None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_mutated_statement_crashes_lint_and_every_unreadable_one_is_named_on_its_line(dialect, corpus_statements):
    rng = random.Random(f"{SEED}-{dialect}")
    failures = []
    for number in range(INPUTS):
        sql = mutate(rng, rng.choice(corpus_statements[dialect]))
        problem = check_lint(dialect, sql, rng)
        if problem:
            failures.append(f"input {number}: {sql[:300]!r}\n    -> {problem}")
    assert not failures, f"{len(failures)} of {INPUTS} {dialect} inputs broke the promise (seed {SEED}):\n" + "\n".join(
        failures[:10]
    )


def test_no_mutated_schema_crashes_the_draft_or_its_lint(corpus_statements):
    """A SQLite desired (or current) schema mutated, drafted and linted: a DbshiftError (the schema
    does not run, a value is needed) is the answer to bad input; findings lie inside the draft."""
    from dbshift.drafting.draft import draft_schemas
    from dbshift.drafting.sources import schema_from_sql
    from dbshift.lint.drafts import plan_findings

    yaml = pytest.importorskip("yaml")
    cases = [
        case
        for path in sorted((CORPUS / "sqldef" / "sqlite3").glob("*.yml"))
        for case in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values()
        if isinstance(case, dict)
    ]
    rng = random.Random(SEED)
    failures, drafted = [], 0
    for number in range(DRAFT_INPUTS):
        case = rng.choice(cases)
        current, desired = case.get("current") or "", case.get("desired") or ""
        if rng.random() < 0.6:
            desired = mutate(rng, desired, ignores=False)
        else:
            current = mutate(rng, current, ignores=False)
        try:
            draft = draft_schemas(schema_from_sql(current), schema_from_sql(desired))
            findings = plan_findings(draft.diff, draft.plan, "sqlite", in_parts=rng.random() < 0.5)
        except DbshiftError:
            continue
        except Exception as exc:  # noqa: BLE001 - the promise broken: report it with the input
            failures.append(f"input {number}: current={current[:200]!r} desired={desired[:200]!r}\n    -> {exc!r}")
            continue
        drafted += 1
        for finding in findings:
            text = draft.plan.up_sql() if finding.section == "up" else draft.plan.down_sql()
            if not 1 <= finding.line <= text.count("\n") + 1:
                failures.append(
                    f"input {number}: {finding.code} on line {finding.line} of the drafted {finding.section}"
                )
    assert drafted > DRAFT_INPUTS // 10, (
        f"only {drafted} of {DRAFT_INPUTS} mutated schemas drafted: the fuzz tests little"
    )
    assert not failures, f"{len(failures)} draft inputs broke the promise (seed {SEED}):\n" + "\n".join(failures[:10])


def test_fix_never_makes_a_migration_postgresql_could_read_unreadable(corpus_statements, tmp_path):
    """squawk's and sqldef's PostgreSQL statements, mutated, as the up of a migration file (with
    odd headers and line ends), rewritten by ``--fix``: a file whose every statement PostgreSQL's
    parser read before still loads, and PostgreSQL's parser reads every statement after."""
    from dbshift.lint.fix import fix_migrations
    from dbshift.migrations import load_migration

    rng = random.Random(f"{SEED}-fix")
    path = tmp_path / "20260102000000_fix.sql"
    failures, rewritten = [], 0
    for number in range(max(1, INPUTS // 3)):
        up = rng.choice(corpus_statements["postgresql"])
        up = mutate(rng, up, ignores=False).replace("\x00", "") if rng.random() < 0.7 else up
        header = rng.choice(["", "-- no-transaction\n", "-- description: a\rb \x0c c\n", "\ufeff"])
        text = header + "-- migrate:up\n" + up + "\n-- migrate:down\nDROP INDEX IF EXISTS x;\n"
        text = text.replace("\n", "\r\n") if rng.random() < 0.2 else text
        path.write_bytes(text.encode("utf-8"))
        if not postgres_reads(path):
            continue
        try:
            fixes = fix_migrations([load_migration(path)], "postgresql")
        except DbshiftError:
            continue
        except Exception as exc:  # noqa: BLE001 - the promise broken: report it with the input
            failures.append(f"input {number}: {text[:300]!r}\n    -> {exc!r}")
            continue
        for fix in (f for f in fixes if f.changed):
            rewritten += 1
            path.write_text(fix.new, encoding="utf-8")
            if not postgres_reads(path):
                failures.append(f"input {number}: {text[:300]!r}\n    -> unreadable after --fix: {fix.new[:400]!r}")
    assert rewritten > INPUTS // 30, f"only {rewritten} files rewritten: the fuzz tests little"
    assert not failures, f"{len(failures)} --fix inputs broke the promise (seed {SEED}):\n" + "\n".join(failures[:10])


def postgres_reads(path) -> bool:
    """Whether the migration file loads and PostgreSQL's parser reads each of its statements."""
    import pglast

    from dbshift.dialects.description import describe
    from dbshift.migrations import load_migration

    try:
        migration = load_migration(path)
    except DbshiftError:
        return False
    split = describe("postgresql").split_script
    try:
        for statement in split(migration.up_sql, 1) + split(migration.down_sql or "", 1):
            pglast.parse_sql(statement.sql)
    except Exception:  # noqa: BLE001 - pglast's ParseError
        return False
    return True
