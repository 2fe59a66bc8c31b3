"""A text column that becomes an enum the same migration creates: the draft's loss checks run before
the up, when the enum does not exist yet, so they must not name it; the migration applies and rolls
back with every label as it was."""

from __future__ import annotations

from dbshift.dialects import open_database
from dbshift.urls import parse_url
from servers.conftest import project_with
from value_oracle import assert_same_values, snapshot


def values_of(url: str):
    db = open_database(parse_url(url))
    try:
        return snapshot(db)
    finally:
        db.close()


def test_text_becomes_a_new_enum_and_comes_back(tmp_path, pg_url):
    project = project_with(
        tmp_path,
        pg_url,
        "CREATE TABLE items (id integer PRIMARY KEY, status text, note text);\n"
        "INSERT INTO items VALUES (1, 'new', 'a'), (2, 'done', NULL), (3, NULL, 'c');",
    )
    before = values_of(pg_url)
    (project.config.root / "schema.sql").write_text(
        "CREATE TYPE item_status AS ENUM ('new', 'done');\n"
        "CREATE TABLE items (id integer PRIMARY KEY, status item_status, note varchar(10));"
    )
    draft = project.diff(name="status_enum")
    assert "item_status" not in "".join(draft.plan.loss_checks())
    project.apply()
    assert values_of(pg_url)["items"] != before["items"]  # the column is an enum now (pg_typeof says so)
    project.rollback(steps=1)  # lossless: no --force
    assert_same_values(before, values_of(pg_url))
