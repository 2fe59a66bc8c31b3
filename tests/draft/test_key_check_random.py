"""Random chains of SQLite tables referencing each other by a unique key column, with rows, changed
at random the ways that move a key check (tables renamed, key columns renamed, tables rebuilt by a
retyped column or a new CHECK, unique indexes replaced): every draft, either way, must apply with
its key checks passing, hold exactly the desired values, and roll back to the original values and
schema. The cases are drawn from a fixed seed; ``DBSHIFT_KEY_CHECK_CASES=N`` draws N of them
instead of 60 (``DBSHIFT_KEY_CHECK_SEED`` another seed)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace

import pytest

from dbshift.dialects.sqlite import SQLiteDatabase
from dbshift.drafting.draft import draft_schemas
from dbshift.drafting.sources import inspect_database, schema_from_sql
from dbshift.urls import parse_url

CASES = int(os.environ.get("DBSHIFT_KEY_CHECK_CASES", "60"))
SEED = int(os.environ.get("DBSHIFT_KEY_CHECK_SEED", "20261206"))
NAMES = ["parent", 'Kid "one"', "grand kid", "nöde ✓", "Order Line"]


@dataclass(frozen=True)
class Table:
    name: str
    key: str
    parent: int | None  # the index of the table its `ref` references (itself allowed), or None
    n_type: str = "INTEGER"
    check: bool = False
    key_index: str | None = None  # the unique index on the key column (None: a UNIQUE constraint)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_sql(tables: list[Table]) -> str:
    sql = ""
    for table in tables:
        ref = ""
        if table.parent is not None:
            parent = tables[table.parent]
            ref = f" REFERENCES {_q(parent.name)}({_q(parent.key)})"
        unique = "" if table.key_index else " UNIQUE"
        check = f", CHECK ({_q('id')} <> 0)" if table.check else ""
        sql += (
            f"CREATE TABLE {_q(table.name)} (id INTEGER PRIMARY KEY, {_q(table.key)} INTEGER{unique}, "
            f"ref INTEGER{ref}, n {table.n_type}{check});\n"
        )
        if table.key_index:
            sql += f"CREATE UNIQUE INDEX {_q(table.key_index)} ON {_q(table.name)}({_q(table.key)});\n"
    return sql


def case(rng: random.Random) -> tuple[list[Table], list[Table], list[str], dict[str, list[tuple]]]:
    """(tables, the tables changed, the rename hints, the rows of each original table)."""
    count = rng.randint(2, 4)
    names = rng.sample(NAMES, count)
    tables = [
        Table(
            names[i],
            f"key {i}",
            rng.choice([None, *range(i + 1)]) if i else rng.choice([None, 0]),
            key_index=rng.choice([None, f"{names[i]} key"]),
        )
        for i in range(count)
    ]
    changed, renames = [], []
    for table in tables:
        new = table
        if rng.random() < 0.4:
            new = replace(new, name=new.name + " v2")
            renames.append(f"{table.name}={new.name}")
        if rng.random() < 0.6:
            new = replace(new, key=new.key.replace("key", "kéy"))
            renames.append(f"{new.name}.{table.key}={new.key}")
        if rng.random() < 0.4:
            new = replace(new, n_type="TEXT")
        if rng.random() < 0.3:
            new = replace(new, check=not new.check)
        if new.key_index and rng.random() < 0.4:
            new = replace(new, key_index=new.key_index + " ü")
        changed.append(new)
    keys = {i: [10 * (i + 1) + r for r in range(4)] + [-(i + 1)] for i in range(count)}
    rows = {}
    for i, table in enumerate(tables):
        choices = [None] + (keys[table.parent] if table.parent is not None else [])
        rows[table.name] = [
            (row + 1, key, rng.choice(choices), rng.choice([None, 0, -7, 123456789012]))
            for row, key in enumerate(keys[i])
        ]
    return tables, changed, renames, rows


def _run(db: SQLiteDatabase, script: str) -> None:
    db.begin()
    try:
        for statement in db.split_script(script):
            db.run_statement(statement.sql)  # a key check that finds a row, or cannot run, raises
    except BaseException:
        db.rollback()
        raise
    db.commit()


def _values(db: SQLiteDatabase, tables: list[Table]) -> dict[int, list[tuple]]:
    return {i: db.execute(f"SELECT * FROM {_q(t.name)} ORDER BY id") for i, t in enumerate(tables)}


def _as(values: dict[int, list[tuple]], tables: list[Table]) -> dict[int, list[tuple]]:
    """The rows as ``tables`` hold them (an INTEGER column made TEXT keeps the digits as text)."""
    return {
        i: [r[:3] + ((str(r[3]) if r[3] is not None else None),) if t.n_type == "TEXT" else r for r in values[i]]
        for i, t in enumerate(tables)
    }


def _cases() -> list:
    rng = random.Random(SEED)
    return [case(rng) for _ in range(CASES)]


def _back(tables: list[Table], changed: list[Table]) -> list[str]:
    """The rename hints of the way back."""
    back = [f"{new.name}={old.name}" for old, new in zip(tables, changed) if old.name != new.name]
    return back + [f"{old.name}.{new.key}={old.key}" for old, new in zip(tables, changed) if old.key != new.key]


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
def test_random_key_renames_and_rebuilds_apply_and_roll_back_with_every_value(backwards):
    hard = 0
    for number, (tables, changed, renames, rows) in enumerate(_cases()):
        start, end = (changed, tables) if backwards else (tables, changed)
        hints = _back(tables, changed) if backwards else renames
        raw = {i: rows[t.name] for i, t in enumerate(tables)}
        db = SQLiteDatabase(parse_url("sqlite:///:memory:"))
        try:
            _run(db, create_sql(start))
            for i, table in enumerate(start):
                for row in _as(raw, start)[i]:
                    db.execute(f"INSERT INTO {_q(table.name)} VALUES (?, ?, ?, ?)", row)
            current = inspect_database(db)
            draft = draft_schemas(current, schema_from_sql(create_sql(end)), "sqlite", renames=hints)
            story = f"case {number}: {create_sql(start)} -> {create_sql(end)} {hints}"
            hard += draft.plan.rewrites_tables and "RENAME COLUMN" in draft.plan.up_sql()
            _run(db, draft.plan.up_sql())
            assert inspect_database(db) == schema_from_sql(create_sql(end)), story
            assert _values(db, end) == _as(raw, end), story
            _run(db, draft.plan.down_sql())
            assert inspect_database(db) == current, story
            assert _values(db, start) == _as(raw, start), story
        finally:
            db.close()
    assert hard >= CASES // 4, hard  # a rebuild and a key column renamed natively in one up
