"""The SQLite inspector captures the whole schema, and the SQL it renders rebuilds the same schema."""

from __future__ import annotations

import json

from dbshift.drafting.render import render
from dbshift.drafting.sources import schema_from_sql
from dbshift.schema.model import Check, ForeignKey, IndexKey, PrimaryKey, Schema, Unique

EVERYTHING = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email text NOT NULL COLLATE nocase CONSTRAINT users_email UNIQUE,
    age int DEFAULT (1+2) CHECK (age>0)
);
CREATE TABLE orders (
    id INTEGER,
    user_id INT CONSTRAINT fk_user REFERENCES users(id) ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
    amount_cents INTEGER NOT NULL DEFAULT 0,
    doubled INT GENERATED ALWAYS AS (amount_cents*2) STORED,
    CONSTRAINT orders_pk PRIMARY KEY (id, user_id),
    UNIQUE (amount_cents, user_id),
    CONSTRAINT positive CHECK (amount_cents >= 0)
) STRICT;
CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
CREATE UNIQUE INDEX orders_big ON orders(user_id DESC, lower(amount_cents)) WHERE amount_cents > 100;
CREATE VIEW adults AS SELECT * FROM users WHERE age >= 18;
CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN UPDATE users SET age = age WHERE id = NEW.id; END;
CREATE TABLE dbshift_history (version INTEGER);
"""


def test_the_inspector_sees_every_part_of_a_table():
    """Types, NOT NULL, defaults, collations, generated columns, keys, names, deferrability, options."""
    schema = schema_from_sql(EVERYTHING)
    users, orders, kv = schema.table("users"), schema.table("orders"), schema.table("kv")
    assert schema.table("dbshift_history") is None
    assert users.primary_key == PrimaryKey(("id",), autoincrement=True)
    assert users.column("email").collation == "NOCASE" and not users.column("email").nullable
    assert users.column("age").type == "INT" and users.column("age").default == "1 + 2"
    assert users.uniques == (Unique(("email",), name="users_email"),)
    assert users.checks == (Check("age > 0"),)
    assert orders.primary_key == PrimaryKey(("id", "user_id"), name="orders_pk")
    assert orders.column("doubled").generated == "amount_cents * 2" and orders.column("doubled").generated_stored
    assert orders.foreign_keys == (
        ForeignKey(
            ("user_id",),
            "users",
            ("id",),
            on_delete="CASCADE",
            on_update="SET NULL",
            deferrable="DEFERRABLE INITIALLY DEFERRED",
            name="fk_user",
        ),
    )
    assert orders.checks == (Check("amount_cents >= 0", name="positive"),)
    assert orders.options == {"strict": True} and kv.options == {"without_rowid": True}
    (index,) = orders.indexes
    assert index.unique and index.where == "amount_cents > 100"
    assert index.keys == (IndexKey(column="user_id", descending=True), IndexKey(expression="lower(amount_cents)"))
    assert [v.name for v in schema.views] == ["adults"] and [t.table for t in schema.triggers] == ["users"]


def test_the_rendered_sql_rebuilds_the_same_schema_and_json_round_trips():
    """render -> execute -> inspect gives the same model; JSON -> model gives it too."""
    schema = schema_from_sql(EVERYTHING)
    assert schema_from_sql(render(schema, "sql")) == schema
    assert Schema.from_json(json.loads(render(schema, "json"))) == schema
    assert hash(Schema.from_json(schema.to_json())) == hash(schema)


def test_spelling_does_not_make_a_difference():
    """Case, quoting and spacing of the same definition inspect to equal schemas."""
    a = schema_from_sql('CREATE TABLE "T" ("a" integer CHECK(a>0) DEFAULT(0)); CREATE INDEX i ON "T"(a);')
    b = schema_from_sql("CREATE TABLE T (a INTEGER DEFAULT ( 0 ) CHECK ( a > 0 )); CREATE INDEX i ON T (a);")
    assert a == b
