"""A drafted migration's lint reads the tables it changes on small separate copies (one per group
of tables that share nothing), because SQLite's ALTER TABLE re-reads the whole copy it runs in.
The findings must be exactly those of one copy of the whole starting schema: these tests draft
many migrations and compare the two, finding by finding, including the cases built to tell them
apart (a foreign key the check reads on a table no change names, renames SQLite carries into the
tables that reference them, views and triggers, odd names)."""

from __future__ import annotations

import pytest
import yaml
from tests.conftest import CORPUS
from tests.draft.key_check_stories import STORIES

from dbshift.dialects.description import describe
from dbshift.drafting.draft import draft_schemas
from dbshift.drafting.sources import schema_from_sql
from dbshift.errors import ConfigError
from dbshift.lint import drafts


def _draft(current_sql: str, desired_sql: str, renames=()):
    return draft_schemas(schema_from_sql(current_sql), schema_from_sql(desired_sql), "sqlite", renames=renames)


def _both(draft) -> tuple[list[dict], list[dict]]:
    """(findings read in parts, findings read on one copy of the whole schema)."""
    parts = [f.as_json() for f in drafts.plan_findings(draft.diff, draft.plan, "sqlite")]
    whole = [f.as_json() for f in drafts.plan_findings(draft.diff, draft.plan, "sqlite", in_parts=False)]
    return parts, whole


def _split(draft):
    return drafts._parts(draft.diff, draft.plan, "sqlite", describe("sqlite").planner_module())


def _same_in_parts(current_sql: str, desired_sql: str, renames=(), parts: int | None = None) -> list[dict]:
    draft = _draft(current_sql, desired_sql, renames)
    assert not draft.empty
    split = _split(draft)
    assert split is not None, "the draft was not read in parts: the comparison would prove nothing"
    if parts is not None:
        assert len(split[0]) == parts, [list(p) for p in split[0]]
    found, reference = _both(draft)
    assert found == reference
    return found


def _codes(findings: list[dict]) -> list[tuple[str, str]]:
    return [(f["section"], f["code"]) for f in findings]


def test_a_wide_schema_with_a_few_changed_tables_splits_by_table_and_finds_the_same():
    """The bench's shape, small: a chain of tables each referencing the one before; every fifth gains
    a column and loses an index. Each changed table is read with its parent and its child only."""

    def schema(changed: bool) -> str:
        sql = ""
        for i in range(20):
            extra = ", extra TEXT" if changed and i % 5 == 0 else ""
            sql += f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, c1 TEXT, c2 INTEGER, parent_id INTEGER REFERENCES t{max(i - 1, 0)}(id){extra});\n"
            sql += f"CREATE INDEX t{i}_c1 ON t{i}(c1);\n"
            if not (changed and i % 5 == 0):
                sql += f"CREATE INDEX t{i}_c2 ON t{i}(c2);\n"
        return sql

    found = _same_in_parts(schema(False), schema(True), parts=4)
    assert _codes(found) == [("down", "drop-column")] * 4


def test_a_key_check_on_an_untouched_parent_reads_that_parent():
    """The child is rebuilt (its column changes type); the rebuild checks the child's foreign keys,
    and SQLite refuses the check ("foreign key mismatch") because the parent's column is not unique.
    The parent is named by no change: the part must hold it all the same."""
    current = (
        'CREATE TABLE "Pärent" (id INTEGER PRIMARY KEY, code TEXT);\n'
        'CREATE TABLE child (id INTEGER PRIMARY KEY, code TEXT REFERENCES "pärent"(code), n INTEGER);\n'
        "CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT);\n"
    )
    desired = current.replace("n INTEGER", "n TEXT").replace("v TEXT", "v TEXT, w TEXT")
    found = _same_in_parts(current, desired, parts=2)
    assert ("up", "not-analysed") in _codes(found)


def test_a_rebuilt_parent_checks_its_children_and_their_other_parents():
    """Rebuilding a parent checks the keys of the tables that reference it; one of those children
    also references a table whose column is not unique, which the check refuses."""
    current = (
        "CREATE TABLE p (id INTEGER PRIMARY KEY, v INTEGER);\n"
        "CREATE TABLE q (id INTEGER PRIMARY KEY, code TEXT);\n"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id), q_code TEXT REFERENCES q(code));\n"
    )
    desired = current.replace("v INTEGER", "v TEXT")
    found = _same_in_parts(current, desired, parts=1)
    assert ("up", "table-rebuild") in _codes(found)


def test_a_rebuilt_parent_reads_the_key_check_of_an_untouched_child():
    """Bug fixed on the way: the copy held the changed tables and their parents only, so the
    rebuild's `PRAGMA foreign_key_check("order line")` on the untouched child failed there (no such
    table) and was reported 'not-analysed' in the up and in the down."""
    current = (
        'CREATE TABLE "Örders" (id INTEGER PRIMARY KEY, total INTEGER);\n'
        'CREATE TABLE "order line" (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES "Örders"(id));\n'
    )
    desired = current.replace("total INTEGER", "total TEXT")
    found = _same_in_parts(current, desired, parts=1)
    assert _codes(found) == [("up", "table-rebuild"), ("down", "table-rebuild")]


def test_a_renamed_table_and_column_carry_into_the_keys_of_the_tables_referencing_them():
    """SQLite rewrites the children's REFERENCES when a parent or its column is renamed; a later
    rebuild of the child checks its keys against the new names."""
    current = (
        'CREATE TABLE "old ""name""" (id INTEGER PRIMARY KEY, "key col" INTEGER UNIQUE, v TEXT);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "old ""name"""("key col"), n INTEGER);\n'
        "CREATE TABLE loner (id INTEGER PRIMARY KEY, gone TEXT);\n"
    )
    desired = (
        'CREATE TABLE "new ""name""" (id INTEGER PRIMARY KEY, "kéy" INTEGER UNIQUE, v TEXT);\n'
        'CREATE TABLE kid (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES "new ""name"""("kéy"), n TEXT);\n'
        "CREATE TABLE loner (id INTEGER PRIMARY KEY);\n"
    )
    renames = ['old "name"=new "name"', 'new "name".key col=kéy']
    found = _same_in_parts(current, desired, renames, parts=2)
    assert ("up", "rename-table") in _codes(found)
    assert ("up", "drop-column") in _codes(found)


def test_new_tables_referencing_each_other_and_an_old_table_gaining_a_key_to_them():
    current = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (id INTEGER PRIMARY KEY, x TEXT);\n"
    desired = (
        "CREATE TABLE a (id INTEGER PRIMARY KEY, n_id INTEGER REFERENCES n(id));\n"
        "CREATE TABLE n (id INTEGER PRIMARY KEY, m_id INTEGER REFERENCES m(id));\n"
        "CREATE TABLE m (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"
        'CREATE INDEX "idx on b\'s id" ON b(id);\n'
    )
    found = _same_in_parts(current, desired, parts=2)
    assert ("up", "drop-column") in _codes(found)


def test_a_dropped_parent_of_a_rebuilt_child():
    current = (
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), n INTEGER);\n"
    )
    desired = "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, n TEXT);\n"
    found = _same_in_parts(current, desired, parts=1)
    assert ("up", "drop-table") in _codes(found)


@pytest.mark.parametrize(
    "extra",
    [
        "CREATE VIEW v AS SELECT id, gone FROM t;",
        "CREATE TRIGGER tr AFTER INSERT ON other BEGIN DELETE FROM t; END;",
    ],
)
def test_views_and_triggers_read_the_whole_schema_in_one_copy(extra):
    """A view or a trigger may read any table: such a draft is not split (and its findings are the
    reference's by construction)."""
    current = "CREATE TABLE t (id INTEGER PRIMARY KEY, gone TEXT);\nCREATE TABLE other (id INTEGER PRIMARY KEY);\n"
    desired = current.replace(", gone TEXT", "") + "CREATE TABLE more (id INTEGER);\n"
    draft = _draft(current + extra, desired + extra.replace(", gone", ""))
    assert _split(draft) is None
    found, reference = _both(draft)
    assert found == reference


def _sqldef_pairs():
    pairs = []
    for path in sorted((CORPUS / "sqldef" / "sqlite3").glob("*.yml")):
        for name, case in yaml.safe_load(path.read_text()).items():
            if "error" in case:
                continue
            current, desired = case.get("current") or "", case.get("desired") or ""
            pairs += [(name, current, desired), (name + " (backwards)", desired, current)]
    return pairs


def test_every_sqldef_draft_finds_the_same_in_parts(corpus):
    """The sqldef SQLite corpus, each case drafted both ways: the same findings, case by case."""
    compared = split = 0
    differences = []
    for name, current, desired in _sqldef_pairs():
        try:
            draft = _draft(current, desired)
        except ConfigError:
            continue  # the draft asks for a value first
        if draft.empty:
            continue
        found, reference = _both(draft)
        compared += 1
        split += _split(draft) is not None
        if found != reference:
            differences.append(f"{name}: {found} != {reference}")
    assert not differences, "\n".join(differences)
    assert compared >= 100 and split >= compared // 2, (compared, split)


def _mutated(schema, rng):
    """``schema`` with 1 to 6 random changes (columns added, dropped, retyped or renamed; tables
    renamed or dropped; indexes added or dropped), and the rename hints that say so."""
    from dataclasses import replace

    from dbshift.schema.model import Column, Index, IndexKey

    tables, renames = list(schema.tables), []
    for _ in range(rng.randint(1, 6)):
        i = rng.randrange(len(tables))
        t = tables[i]
        keys = {c.lower() for c in (t.primary_key.columns if t.primary_key else ())}
        keys |= {c.lower() for k in t.foreign_keys for c in k.columns} | {
            c.lower() for u in t.uniques for c in u.columns
        }
        keys |= {k.column.lower() for ix in t.indexes for k in ix.keys if k.column}
        free = [c for c in t.columns if c.name.lower() not in keys]
        kind = rng.choice(["add", "drop", "type", "rename", "drop table", "index", "drop index", "rename column"])
        if kind == "add":
            t = replace(t, columns=t.columns + (Column(f"new col {rng.randrange(99)}", rng.choice(["TEXT", "REAL"])),))
        elif kind == "drop" and free:
            gone = rng.choice(free)
            t = replace(t, columns=tuple(c for c in t.columns if c is not gone))
        elif kind == "type" and free:
            changed = rng.choice(free)
            t = replace(t, columns=tuple(replace(c, type="BLOB") if c is changed else c for c in t.columns))
        elif kind == "rename column" and free:
            renamed = rng.choice(free)
            renames.append(f"{t.name}.{renamed.name}={renamed.name} rénamed")
            t = replace(
                t, columns=tuple(replace(c, name=c.name + " rénamed") if c is renamed else c for c in t.columns)
            )
        elif kind == "rename" and not any(r.startswith(t.name) for r in renames):
            renames.append(f"{t.name}={t.name}_v2")
            t = replace(t, name=t.name + "_v2", indexes=tuple(replace(x, table=t.name + "_v2") for x in t.indexes))
        elif kind == "drop table":
            tables.pop(i)
            continue
        elif kind == "index":
            column = rng.choice(t.columns).name
            t = replace(
                t, indexes=t.indexes + (Index(f"ix {t.name} {rng.randrange(99)}", t.name, (IndexKey(column),)),)
            )
        elif kind == "drop index" and t.indexes:
            t = replace(t, indexes=t.indexes[1:])
        tables[i] = t
    return replace(schema, tables=tuple(tables)), renames


@pytest.mark.parametrize(
    "path",
    ["chinook/Chinook_Sqlite.sql", "sakila/sqlite-sakila-schema.sql", "sakila-bradleygrant/sqlite-sakila-schema.sql"],
)
def test_random_changes_to_real_schemas_find_the_same_in_parts(corpus, path):
    """Real schemas (with their views and triggers, and without them so they split), each changed at
    random 25 times with a fixed seed: the same findings read in parts as on one whole copy."""
    import random
    from dataclasses import replace

    from dbshift.drafting.render import render

    full = schema_from_sql((corpus / "schemas" / path).read_text(encoding="utf-8-sig"))
    rng = random.Random(path)
    compared = split = findings = 0
    for start in (full, replace(full, views=(), triggers=())):
        for _ in range(25):
            desired, renames = _mutated(start, rng)
            try:
                draft = draft_schemas(start, schema_from_sql(render(desired, "sql")), "sqlite", renames=renames)
            except ConfigError:
                continue
            if draft.empty:
                continue
            found, reference = _both(draft)
            assert found == reference, renames
            compared += 1
            split += _split(draft) is not None
            findings += len(found)
    assert compared >= 30 and split >= 15 and findings >= 50, (compared, split, findings)


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("name", list(STORIES))
def test_a_key_check_moved_after_a_later_step_is_read_in_that_step_s_part(name, backwards):
    """The SQLite plan moves a rebuild's key check after the last step changing a table it reads (a
    parent's column rename, a rename, a unique index): the part reading that step holds the checked
    table and its parents, so the check is analysed there (no 'not-analysed') as on the whole copy.
    A table nothing else touches is added so the draft splits in two."""
    first, _, second, _, renames, renames_back = STORIES[name]
    if backwards:
        first, second, renames = second, first, renames_back
    loner = 'CREATE TABLE "lonér" (id INTEGER PRIMARY KEY, gone TEXT);\n'
    found = _same_in_parts(first + loner, second + loner.replace(", gone TEXT", ""), renames, parts=2)
    assert "not-analysed" not in [code for _, code in _codes(found)], found


def test_random_key_renames_and_rebuilds_find_the_same_in_parts():
    """tests/draft/test_key_check_random.py's chains of tables (key columns and tables renamed, tables
    rebuilt, unique indexes replaced), drafted both ways: the key checks the plan moves are read in
    parts exactly as on one whole copy, and none is 'not-analysed'."""
    import random

    from tests.draft.test_key_check_random import _back, case, create_sql

    rng = random.Random("parts")
    for _ in range(25):
        tables, changed, renames, _rows = case(rng)
        for start, end, hints in ((tables, changed, renames), (changed, tables, _back(tables, changed))):
            found = _same_in_parts(create_sql(start), create_sql(end), hints)
            assert "not-analysed" not in [code for _, code in _codes(found)], (create_sql(start), hints)
