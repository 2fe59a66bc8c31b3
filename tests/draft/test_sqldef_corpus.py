"""The sqldef SQLite corpus as an oracle: every case's generated up reaches `desired` and its down gets back to `current`.

Schemas are compared after inspection (never SQL text). Every table holds rows of edge values for
its column types (the value oracle) while the up and the down run: after both, every value is back
with its type, unless the draft says its down is lossy. Cases whose meaning does not apply to
dbshift are listed in EXCLUDED with the reason, and in docs/corpus.md.
"""

from __future__ import annotations

import contextlib
import re

import pytest

from dbshift.dialects.sqlite import SQLiteDatabase
from dbshift.drafting.draft import draft_schemas
from dbshift.drafting.sources import inspect_database, schema_from_sql
from dbshift.errors import ConfigError
from dbshift.urls import parse_url
from value_oracle import differences, fill_schema, snapshot

yaml = pytest.importorskip("yaml")

NAME = r'(?:"([^"]+)"|(\w+))'
RENAMED_TABLE = re.compile(
    r"^\s*CREATE\s+TABLE\s+" + NAME + r"[^\n]*@renamed\s+from=" + NAME, re.IGNORECASE | re.MULTILINE
)

#: case name -> why it does not apply to dbshift.
EXCLUDED: dict[str, str] = {}
#: Cases whose draft dbshift refused because their rows need a value (a NOT NULL over NULLs).
REFUSED: list[str] = []  # (a NOT NULL over NULLs, or a dropped NOT NULL column the down must refill)
#: Cases whose draft marks its down lossy, or whose loss checks counted values that will not come back
#: (their values are not compared after the down).
LOSSY: list[str] = []


class _Live:
    """The case's database as the live one a draft checks for rows (``draft_schemas(live=...)``)."""

    def __init__(self, db: SQLiteDatabase):
        self.db = db

    @contextlib.contextmanager
    def connect(self, readonly: bool = False):
        yield self.db


def _cases(corpus):
    cases = []
    for path in sorted((corpus / "sqldef" / "sqlite3").glob("*.yml")):
        for name, case in yaml.safe_load(path.read_text()).items():
            cases.append((name, case))
    return cases


def _open() -> SQLiteDatabase:
    return SQLiteDatabase(parse_url("sqlite:///:memory:"))


def _run(db: SQLiteDatabase, script: str) -> None:
    db.begin()
    try:
        for statement in db.split_script(script):
            db.run_statement(statement.sql)
    except BaseException:
        db.rollback()
        raise
    db.commit()


def run_case(case: dict) -> None:
    """Build current, diff to desired, apply up then down, comparing inspected schemas."""
    current_sql, desired_sql = case.get("current") or "", case.get("desired") or ""
    desired = schema_from_sql(desired_sql)
    db = _open()
    try:
        _run(db, current_sql)
        current = inspect_database(db)
        fill_schema(db, current)
        before = snapshot(db)
        hints = _table_hints(desired_sql) + _column_hints(desired_sql)
        try:
            draft = draft_schemas(current, desired, renames=hints, live=_Live(db))
        except ConfigError as refusal:  # e.g. NOT NULL over rows holding NULL: dbshift asks for a value
            assert "--default" in (refusal.hint or "") or "--reverse" in (refusal.hint or ""), refusal
            REFUSED.append(str(refusal))
            return
        realized = len(draft.diff.table_renames) + len(draft.diff.column_renames)
        assert realized == len(hints), f"rename hints {hints} were not all used"
        # What the runner records before the up: the values the down will not give back.
        counted = sum(int(db.execute(check)[0][0] or 0) for check in draft.plan.loss_checks())
        _run(db, draft.plan.up_sql())
        assert inspect_database(db) == desired, "up did not reach the desired schema"
        _run(db, draft.plan.down_sql())
        assert inspect_database(db) == current, "down did not get back to the current schema"
        if draft.plan.destructive or counted:
            LOSSY.append(draft.plan.down_sql())
        else:
            lost = differences(before, snapshot(db))
            assert not lost, "the down is not marked lossy, yet values did not come back:\n" + "\n".join(lost)
    finally:
        db.close()


def _table_hints(sql: str) -> list[str]:
    return [f"{old_q or old}={new_q or new}" for new_q, new, old_q, old in RENAMED_TABLE.findall(sql)]


def _column_hints(sql: str) -> list[str]:
    hints, table = [], None
    for line in sql.splitlines():
        create = re.match(r"\s*CREATE\s+TABLE\s+\"?(\w+)\"?", line, re.IGNORECASE)
        if create:
            table = create.group(1)
            continue
        match = re.match(r"\s*\"?(\w+)\"?\s+.*--\s*@renamed\s+from=\"?(\w+)\"?", line)
        if match and table:
            hints.append(f"{table}.{match.group(2)}={match.group(1)}")
    return hints


def test_every_applicable_sqldef_case_round_trips(corpus):
    """Up reaches desired and down returns to current for every applicable case."""
    failures, passed = [], 0
    cases = _cases(corpus)
    assert len(cases) == 65
    for name, case in cases:
        if name in EXCLUDED or "error" in case:
            continue
        try:
            run_case(case)
            passed += 1
        except Exception as exc:  # noqa: BLE001 - collect every failure for one report
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    print(
        f"sqldef sqlite3: {passed} passed ({len(REFUSED)} of them refused to draft until a value is given "
        f"for rows holding NULL; {len(LOSSY)} with a down marked lossy or counted, the rest with every value compared), "
        f"{len(EXCLUDED)} excluded"
    )
    assert not failures, "\n".join(failures)
