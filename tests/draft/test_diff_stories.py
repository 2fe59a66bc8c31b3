"""Stories of drafting migrations with `dbshift diff`: what a user sees and what the data does."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import write_migration
from dbshift.drafting.draft import draft_schemas
from dbshift.drafting.sources import schema_from_sql
from dbshift.errors import ConfigError
from dbshift.inspectors.sqlite import inspect_sqlite
from dbshift.schema.renames import RenamePolicy

SHOP = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TEXT NOT NULL
);
CREATE INDEX orders_user_id ON orders(user_id);
"""

DESIRED = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX orders_user_id ON orders(user_id);
CREATE INDEX orders_user_status ON orders(user_id, status);
"""

CONVERT = [
    "--rename",
    "orders.amount_cents=amount",
    "--convert",
    "orders.amount=amount_cents / 100.0",
    "--reverse",
    "orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)",
]


@pytest.fixture
def shop(project):
    """The shop project: SHOP applied, a few rows, DESIRED in schema.sql."""
    write_migration(project, 20260101000000, "shop", SHOP, "DROP TABLE orders; DROP TABLE users;")
    project.hash()
    project.apply()
    with sqlite3.connect(project.config.root / "app.db") as conn:
        conn.executemany("INSERT INTO users VALUES (?, ?)", [(1, "a@x"), (2, "b@x")])
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            [(1, 1, 1999, "new", "2026-01-01"), (2, 2, 5, "paid", "2026-01-02"), (3, 1, 0, "new", "x")],
        )
    (project.config.root / "schema.sql").write_text(DESIRED)
    return project


def _rows(project, sql: str) -> list:
    with sqlite3.connect(project.config.root / "app.db") as conn:
        return conn.execute(sql).fetchall()


def test_a_rename_with_conversion_keeps_every_cent_both_ways(shop, run_cli):
    """diff --name writes the migration; apply converts cents to dollars; rollback brings the cents back."""
    before = _rows(shop, "SELECT * FROM orders ORDER BY id")
    result = run_cli("diff", "--name", "amount_in_dollars", *CONVERT)
    assert result.returncode == 0, result.output
    written = sorted(shop.config.migrations_dir.glob("*_amount_in_dollars.sql"))
    assert len(written) == 1
    text = written[0].read_text()
    assert "-- risky" in text and "-- destructive" not in text
    assert "secure_delete" not in text
    assert run_cli("status").returncode == 0
    assert "out of date" not in run_cli("status").output
    assert run_cli("apply").returncode == 0
    assert _rows(shop, "SELECT id, amount, note FROM orders ORDER BY id") == [
        (1, 19.99, ""),
        (2, 0.05, ""),
        (3, 0.0, ""),
    ]
    assert run_cli("rollback", "--force").returncode == 0
    assert _rows(shop, "SELECT * FROM orders ORDER BY id") == before


def test_an_unconfirmed_rename_is_not_guessed_but_printed_with_its_hint(shop, run_cli):
    """Without a hint or a terminal, amount_cents -> amount is drop + add: the NOT NULL amount has no value, so the
    user is told which --rename to give instead of getting a migration that loses the amounts."""
    result = run_cli("diff")
    assert result.returncode == 2
    assert "orders.amount becomes NOT NULL" in result.output
    assert "--rename orders.amount_cents=amount" in result.output
    result = run_cli("diff", "--check")
    assert result.returncode == 1
    assert "Was orders.amount_cents renamed to orders.amount (INTEGER -> REAL)?" in result.output
    assert "--rename orders.amount_cents=amount" in result.output and "destructive" in result.output


def test_without_a_questioner_a_rename_candidate_is_drop_plus_add_flagged_destructive():
    """The non-interactive policy never guesses."""
    current = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, old_name TEXT);")
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, new_name TEXT);")
    draft = draft_schemas(current, desired)
    assert [c.hint for c in draft.diff.unconfirmed] == ["--rename t.old_name=new_name"]
    assert draft.plan.destructive
    assert 'DROP COLUMN "old_name"' in draft.plan.up_sql()


def test_a_questioner_answering_yes_makes_it_a_rename():
    """On a terminal the question is asked; a yes keeps the column's data."""
    current = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, old_name TEXT);")
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, new_name TEXT);")
    asked = []
    draft = draft_schemas(current, desired, ask=lambda q: asked.append(q) or True)
    assert asked == ["Was t.old_name renamed to t.new_name? [y/N]"]
    assert draft.plan.up_statements() == ['ALTER TABLE "t" RENAME COLUMN "old_name" TO "new_name"']
    assert not draft.plan.destructive


def test_a_not_null_column_without_default_on_a_table_with_rows_is_an_error_with_a_hint(shop, run_cli):
    """Adding a NOT NULL column with no default asks for --default instead of writing a broken migration."""
    (shop.config.root / "schema.sql").write_text(
        SHOP.replace("created_at TEXT NOT NULL", "created_at TEXT NOT NULL, paid_at TEXT NOT NULL")
    )
    result = run_cli("diff", "--name", "paid_at")
    assert result.returncode == 2
    assert "orders.paid_at" in result.output and "--default" in result.output
    assert not list(shop.config.migrations_dir.glob("*_paid_at.sql"))
    result = run_cli("diff", "--name", "paid_at", "--default", "orders.paid_at=created_at")
    assert result.returncode == 0, result.output
    assert run_cli("apply").returncode == 0
    assert _rows(shop, "SELECT paid_at FROM orders ORDER BY id") == [("2026-01-01",), ("2026-01-02",), ("x",)]


def test_diff_check_fails_when_the_database_differs_and_passes_when_it_matches(shop, run_cli):
    """--check is for CI: exit 1 on a difference, 0 once the migration exists."""
    assert run_cli("diff", "--check").returncode == 1
    assert run_cli("diff", "--name", "catch_up", *CONVERT).returncode == 0
    assert run_cli("diff", "--check", *CONVERT).returncode == 0
    assert run_cli("apply").returncode == 0
    assert run_cli("diff", "--check", "--from", "db").returncode == 0


def test_rebuilding_a_parent_table_never_cascades_to_its_children(shop, run_cli):
    """users is rebuilt (a new CHECK); orders has ON DELETE CASCADE to it and keeps every row."""
    desired = SHOP.replace("email TEXT NOT NULL UNIQUE", "email TEXT NOT NULL UNIQUE CHECK (email LIKE '%@%')")
    (shop.config.root / "schema.sql").write_text(desired)
    assert run_cli("diff", "--name", "email_check").returncode == 0
    assert "rebuild" in next(shop.config.migrations_dir.glob("*_email_check.sql")).read_text()
    assert run_cli("apply").returncode == 0
    assert _rows(shop, "SELECT count(*) FROM orders") == [(3,)]
    assert run_cli("rollback", "--force").returncode == 0
    assert _rows(shop, "SELECT count(*) FROM orders") == [(3,)]


def test_a_new_foreign_key_that_existing_rows_violate_fails_the_migration(shop, run_cli):
    """The rebuild's PRAGMA foreign_key_check stops the migration; nothing is half-done."""
    with sqlite3.connect(shop.config.root / "app.db") as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, order_id INTEGER)")
        conn.execute("INSERT INTO notes VALUES (1, 99)")
    (shop.config.root / "schema.sql").write_text(
        SHOP + "CREATE TABLE notes (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id));"
    )
    result = run_cli("diff", "--from", "db", "--name", "notes_fk")
    assert result.returncode == 0, result.output
    result = run_cli("apply")
    assert result.returncode == 1
    assert "foreign key check failed" in result.output
    assert _rows(shop, "SELECT * FROM notes") == [(1, 99)]
    assert "REFERENCES" not in _rows(shop, "SELECT sql FROM sqlite_schema WHERE name = 'notes'")[0][0]


def test_simple_changes_use_native_alter_table_without_a_rebuild():
    """Adding a nullable column and renaming a column are single ALTER statements."""
    current = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);")
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, c INTEGER, d TEXT DEFAULT 'x');")
    draft = draft_schemas(current, desired, renames=["t.b=c"])
    assert draft.plan.up_statements() == [
        'ALTER TABLE "t" RENAME COLUMN "b" TO "c"',
        'ALTER TABLE "t" ADD COLUMN "d" TEXT DEFAULT \'x\'',
    ]
    assert not draft.plan.rewrites_tables


def test_a_value_map_converts_a_type_change_both_ways(project):
    """--map turns 1/2 into labels on the way up and labels back into numbers on the way down."""
    current = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, kind INTEGER);")
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT);")
    draft = draft_schemas(current, desired, maps=["t.kind=1:'First option',2:'Second option'"])
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, kind INTEGER); INSERT INTO t VALUES (1, 1), (2, 2);")
    conn.executescript(draft.plan.up_sql())
    assert conn.execute("SELECT kind FROM t ORDER BY id").fetchall() == [("First option",), ("Second option",)]
    conn.executescript(draft.plan.down_sql())
    assert conn.execute("SELECT kind FROM t ORDER BY id").fetchall() == [(1,), (2,)]


def test_a_conversion_without_reverse_marks_the_down_lossy_and_the_migration_destructive():
    """Cents -> dollars without a way back: the down says it is lossy."""
    current = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, amount INTEGER);")
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, amount REAL);")
    draft = draft_schemas(current, desired, convert=["t.amount=amount / 100.0"])
    assert draft.plan.destructive
    assert "-- lossy: no reverse conversion for t.amount" in draft.plan.down_sql()


def test_inspect_prints_sql_json_and_mermaid_and_the_sql_rebuilds_the_same_schema(shop, run_cli):
    """The SQL rendering, run on an empty database, gives back exactly the inspected schema."""
    sql = run_cli("inspect")
    assert sql.returncode == 0, sql.output
    assert schema_from_sql(sql.stdout) == shop.inspect()
    data = json.loads(run_cli("inspect", "--format", "json").stdout)
    assert [t["name"] for t in data["tables"]] == ["orders", "users"]
    mermaid = run_cli("inspect", "--format", "mermaid").stdout
    assert mermaid.startswith("erDiagram") and 'users ||--o{ orders : "user_id"' in mermaid
    assert run_cli("inspect", "--format", "yaml").returncode == 2


def test_bad_rename_and_convert_options_are_usage_errors():
    """A hint without '=' is refused with the syntax to use."""
    with pytest.raises(ConfigError, match="bad --rename"):
        RenamePolicy.from_hints(["orders.amount"])
    current = schema_from_sql("CREATE TABLE t (a INTEGER);")
    with pytest.raises(ConfigError, match="bad --convert"):
        draft_schemas(current, current, convert=["amount=1"])


def test_a_desired_schema_that_does_not_run_is_an_error_naming_the_line(shop, run_cli):
    """The desired schema is executed, so a typo is reported by the database with its line."""
    (shop.config.root / "schema.sql").write_text("CREATE TABLE ok (a INTEGER);\n\nCREATE TABLE broken (a INTEGER,);\n")
    result = run_cli("diff")
    assert result.returncode == 2
    assert "schema.sql:3" in result.output and "Traceback" not in result.output


def _diff_in_terminal(project, args: list[str], answer: str) -> tuple[int, str]:
    """Run `dbshift diff ARGS` on a pseudo-terminal and answer the first [y/N] question."""
    import os
    import pty
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dbshift", "diff", *args],
        cwd=project.config.root,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    output, answered, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"[y/N]" in output:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    proc.wait(timeout=60)
    os.close(leader)
    return proc.returncode, output.decode(errors="replace")


def test_on_a_terminal_dbshift_asks_about_the_rename_and_a_yes_keeps_the_data(shop, run_cli):
    """The question names both columns and the type change; answering y makes it a rename."""
    code, output = _diff_in_terminal(
        shop,
        [
            "--name",
            "asked",
            "--convert",
            "orders.amount=amount_cents / 100.0",
            "--reverse",
            "orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)",
        ],
        "y",
    )
    assert code == 0, output
    assert "Was orders.amount_cents renamed to orders.amount (INTEGER -> REAL)? [y/N]" in output
    assert run_cli("apply").returncode == 0
    assert _rows(shop, "SELECT amount FROM orders ORDER BY id") == [(19.99,), (0.05,), (0.0,)]


def test_all_changes_to_one_table_are_one_rebuild_with_its_foreign_key_check():
    """Rename + conversion, a new column, a dropped column and a new index: one copy of orders."""
    current, desired = schema_from_sql(SHOP), schema_from_sql(DESIRED.replace("    created_at TEXT NOT NULL,\n", ""))
    draft = draft_schemas(
        current,
        desired,
        renames=["orders.amount_cents=amount"],
        convert=["orders.amount=amount_cents / 100.0"],
        reverse=["orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)"],
    )
    up = draft.plan.up_statements()
    assert sum(s.startswith("CREATE TABLE") for s in up) == 1
    assert sum(s.startswith("INSERT INTO") for s in up) == 1
    assert up[-1] == 'CREATE INDEX "orders_user_status" ON "orders" ("user_id", "status")'
    assert 'PRAGMA foreign_key_check("orders")' in up
    assert sum(s.startswith("CREATE TABLE") for s in draft.plan.down_statements()) == 1


def test_a_rebuild_keeps_the_autoincrement_high_water_mark():
    """Ids handed out before the rebuild are never handed out again, even after the newest row was deleted."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);"
        "INSERT INTO t (a) VALUES ('x'), ('y'), ('z'); DELETE FROM t WHERE id = 3;"
    )
    current = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);")
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL DEFAULT '');")
    draft = draft_schemas(current, desired)
    assert draft.plan.rewrites_tables
    conn.executescript(draft.plan.up_sql())
    conn.execute("INSERT INTO t (a) VALUES ('new')")
    assert conn.execute("SELECT max(id) FROM t").fetchone() == (4,)


def test_a_renamed_table_with_a_changed_column_is_a_candidate_and_a_hint_keeps_its_rows():
    """customers -> clients with one more column: asked about, never assumed; with the hint the rows stay."""
    current = schema_from_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);")
    desired = schema_from_sql("CREATE TABLE clients (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);")
    guessed = draft_schemas(current, desired)
    assert [c.hint for c in guessed.diff.unconfirmed] == ["--rename customers=clients"]
    assert guessed.plan.destructive
    hinted = draft_schemas(current, desired, renames=["customers=clients"])
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
        "INSERT INTO customers VALUES (1, 'Ada', 'ada@x');"
    )
    conn.executescript(hinted.plan.up_sql())
    assert conn.execute("SELECT * FROM clients").fetchall() == [(1, "Ada", "ada@x", None)]
    assert not hinted.plan.destructive


def test_views_and_triggers_survive_a_down_that_rebuilds_when_the_up_did_not():
    """Dropping a middle column is native; putting it back in the middle is a rebuild, around which the
    table's trigger and the view over it are recreated."""
    base = (
        "CREATE TABLE log (id INTEGER PRIMARY KEY, n INTEGER);"
        "CREATE VIEW named AS SELECT id, b FROM t;"
        "CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO log (n) VALUES (NEW.id); END;"
    )
    current_sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);" + base
    current = schema_from_sql(current_sql)
    desired = schema_from_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);" + base)
    draft = draft_schemas(current, desired)
    assert not draft.plan.rewrites_tables  # the up is a native DROP COLUMN
    conn = sqlite3.connect(":memory:")
    conn.executescript(current_sql + "INSERT INTO t VALUES (1, 'a', 'b');")
    conn.executescript(draft.plan.up_sql())
    conn.executescript(draft.plan.down_sql())
    assert inspect_sqlite(conn) == current
    conn.execute("INSERT INTO t VALUES (2, 'x', 'y')")
    assert conn.execute("SELECT n FROM log").fetchall() == [(1,), (2,)]
    assert conn.execute("SELECT * FROM named ORDER BY id").fetchall() == [(1, "b"), (2, "y")]
