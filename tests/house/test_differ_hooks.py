"""Every change is typed before planning: the objects only PostgreSQL (extensions, rules, policies) or
MySQL (events) have come from each dialect's differ hook, registered in its description, so lint and the
review screen read them from the Diff; the planners render them. And the one neutral "add nullable ->
backfill -> NOT NULL" sequence every planner renders."""

from __future__ import annotations

import pytest

from dbshift.dialects.description import describe, known_dialects
from dbshift.drafting.draft import draft_schemas
from dbshift.planners import planner_for
from dbshift.schema.diff import AlterTable, Diff, ObjectChange, diff_schemas
from dbshift.schema.model import Column, Schema, Table
from dbshift.schema.steps import AddColumnNullable, Backfill, SetNotNull, backfill_steps

#: dialect -> the schema-level option sections its inspector writes that only it has.
DIALECT_ONLY_OBJECTS = {"postgresql": {"extensions", "rules", "policies"}, "mysql": {"events"}, "sqlite": set()}

POLICY = {"as": "PERMISSIVE", "for": "SELECT", "to": ["public"], "using": "(owner = CURRENT_USER)", "with_check": None}
EVENT = {"schedule": "EVERY 1 DAY", "on_completion": "NOT PRESERVE", "status": "ENABLE", "body": "DELETE FROM t"}


def test_every_dialect_is_listed_and_the_ones_with_their_own_objects_register_a_differ_hook():
    assert set(known_dialects()) == set(DIALECT_ONLY_OBJECTS)
    for name, sections in DIALECT_ONLY_OBJECTS.items():
        description = describe(name)
        assert bool(description.object_differ) == bool(sections), name
        empty = Schema(dialect=name)
        # One new object per section gives one typed change per section, each of its own kind.
        options = {section: _one_object(section) for section in sections}
        changes = description.diff_objects(empty, Schema(dialect=name, options=options))
        assert len(changes) == len(sections)
        assert all(isinstance(c, ObjectChange) and c.before is None for c in changes)
        assert len({type(c) for c in changes}) == len(sections)


def _one_object(section: str) -> dict:
    return {
        "extensions": {"pg_trgm": {"schema": "public"}},
        "rules": {"orders": {"no delete": 'CREATE RULE "no delete" AS ON DELETE TO orders DO INSTEAD NOTHING'}},
        "policies": {"orders": {"own rows": POLICY}},
        "events": {"nightly": EVENT},
    }[section]


def _pg(**options) -> Schema:
    return Schema(dialect="postgresql", options=options)


def test_a_careless_reviewer_reads_every_postgresql_change_from_the_diff_without_planning():
    rule_sql = 'CREATE RULE "règle ""x""" AS ON DELETE TO "Order Lines" DO INSTEAD NOTHING'
    current = _pg(
        extensions={"citext": {"schema": "public"}, "pg_trgm": {"schema": "public"}},
        rules={"Order Lines": {'règle "x"': rule_sql}},
        policies={"orders": {"own rows": POLICY, "gone": POLICY}},
    )
    desired = _pg(
        extensions={"pg_trgm": {"schema": "extensions"}, "hstore": {"schema": "public"}},
        rules={"Order Lines": {'règle "x"': rule_sql.replace("NOTHING", "SELECT 1")}},
        policies={"orders": {"own rows": {**POLICY, "using": "(owner = SESSION_USER)"}}},
    )
    diff = diff_schemas(current, desired)
    assert [c.describe() for c in diff.objects()] == [
        "drop extension citext",
        "change extension pg_trgm",
        "create extension hstore",
        'change rule règle "x" on Order Lines',
        "change policy own rows on orders",
        "drop policy gone on orders",
    ]
    assert not diff.empty
    moved = next(c for c in diff.objects() if c.key == "pg_trgm")
    assert (moved.before, moved.after) == ({"schema": "public"}, {"schema": "extensions"})
    # The planner renders exactly these changes, and the same diff on unchanged objects plans nothing.
    up = draft_schemas(current, desired, "postgresql").plan.up_sql()
    assert 'DROP EXTENSION "citext"' in up and 'ALTER EXTENSION "pg_trgm" SET SCHEMA "extensions"' in up
    assert 'CREATE EXTENSION IF NOT EXISTS "hstore"' in up and 'DROP POLICY "gone" ON "orders"' in up
    assert 'ALTER POLICY "own rows" ON "orders" USING ((owner = SESSION_USER))' in up
    assert 'DROP RULE "règle ""x""" ON "Order Lines"' in up and "DO INSTEAD SELECT 1" in up
    assert diff_schemas(desired, desired).empty and draft_schemas(desired, desired, "postgresql").empty


def test_mysql_events_are_typed_changes_and_the_planner_only_renders_them():
    odd = "night`ly ünï"
    current = Schema(dialect="mysql", options={"events": {odd: EVENT, "old": EVENT}})
    desired = Schema(dialect="mysql", options={"events": {odd: {**EVENT, "status": "DISABLE"}, "new": EVENT}})
    diff = diff_schemas(current, desired)
    assert [c.describe() for c in diff.changes] == [f"change event {odd}", "drop event old", "create event new"]
    plan = draft_schemas(current, desired, "mysql").plan
    assert [op.description for op in plan.operations] == [f"alter event {odd}", "drop event old", "create event new"]
    assert plan.operations[0].sql == ["ALTER EVENT `night``ly ünï` DISABLE"]
    assert plan.operations[0].reverse == ["ALTER EVENT `night``ly ünï` ENABLE"]


def test_sqlite_schemas_get_no_object_changes_even_with_odd_options():
    # A SQLite schema carrying option sections another dialect would read is not compared by any hook.
    diff = diff_schemas(Schema(dialect="sqlite"), Schema(dialect="sqlite", options={"events": {"x": EVENT}}))
    assert diff.objects() == [] and diff.empty


@pytest.mark.parametrize("nullable", [False, True])
def test_a_column_filled_from_the_old_rows_takes_the_neutral_steps(nullable):
    column = Column('"Ünit" price', "INTEGER", nullable=nullable)
    old, new = Table("Line Items", (Column("id", "INTEGER"),)), Table("Line Items", (Column("id", "INTEGER"), column))
    change = AlterTable(old, new, {"id": "id"}, added=(column,), up_values={column.name: "id * 100"})
    steps = backfill_steps(change, column)
    expected = [AddColumnNullable("Line Items", column), Backfill("Line Items", column.name, "id * 100")]
    assert steps == expected + ([] if nullable else [SetNotNull("Line Items", column)])
    # A column without a computed value is simply added: no steps.
    assert backfill_steps(AlterTable(old, new, {"id": "id"}, added=(column,)), column) == []
    # Each planner renders them in order: PostgreSQL one statement a step.
    current, desired = Schema(dialect="postgresql", tables=(old,)), Schema(dialect="postgresql", tables=(new,))
    pg = planner_for("postgresql").plan_diff(Diff(current, desired, [change])).up_sql()
    assert 'ADD COLUMN """Ünit"" price" INTEGER' in pg and 'UPDATE "Line Items" SET """Ünit"" price" = ' in pg
    assert ('ALTER COLUMN """Ünit"" price" SET NOT NULL' in pg) is not nullable
    lines = pg.splitlines()
    assert lines[0].endswith('ADD COLUMN """Ünit"" price" INTEGER;') and lines[1].startswith('UPDATE "Line Items"')
