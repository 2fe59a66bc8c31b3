"""``dbshift demo``: the whole story on an embedded SQLite file, step by step.

A shop database (users, orders with integer cents) gets four migrations: users.phone,
orders.amount_cents -> orders.amount in dollars (a table rebuild), an index on
orders(user_id, status) and an order_history table. They are applied, inspected and rolled
back, and the demo proves that every row and every cent came back.
"""

from __future__ import annotations

import hashlib
import random
import shlex
import sqlite3
import tempfile
from pathlib import Path
from typing import Callable

from rich.markup import escape

from dbshift.migrations import write_sql_migration
from dbshift.project import Project

Say = Callable[[str], None]

V_INITIAL = 20260101090000
V_PHONE = 20260102090000
V_AMOUNT = 20260103090000
V_INDEX = 20260104090000
V_HISTORY = 20260105090000

INITIAL_SCHEMA = """\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TEXT NOT NULL
);
CREATE INDEX orders_user_id ON orders(user_id);
"""

#: schema.sql for `dbshift diff`: orders.amount_cents (integer cents) becomes orders.amount (REAL dollars).
DESIRED_SCHEMA = """\
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phone TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    created_at TEXT NOT NULL
);
CREATE INDEX orders_user_id ON orders(user_id);
"""


def run_demo(folder: Path | None = None, orders: int = 5000, say: Say = print) -> Path:
    """Run the demo story in ``folder`` (a new temporary folder by default); returns the folder."""
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="dbshift-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    project, before = _start_the_shop(folder, orders, say)
    _write_four_migrations(project, say)
    _apply_them(project, before, say)
    _show_history(project, say)
    _roll_back_and_compare(project, before, say)
    command = dbshift_command()
    say(
        f"[bold]Done.[/bold] Look around: cd {escape(shlex.quote(str(folder)))} && {escape(command)} status && "
        f"{escape(command)} history"
    )
    return folder


def _start_the_shop(folder: Path, orders: int, say: Say) -> tuple[Project, dict]:
    """Step 1: a new project, its first migration applied and the shop filled; its fingerprint."""
    say(f"[bold]1. A new project[/bold] in {escape(str(folder))}: dbshift init --db sqlite:///shop.db")
    project = Project.init(folder, "sqlite:///shop.db")
    write_sql_migration(
        project.config.migrations_dir,
        "create_shop",
        INITIAL_SCHEMA,
        "DROP TABLE orders;\nDROP TABLE users;",
        description="users and orders",
        version=V_INITIAL,
    )
    project.apply()
    _fill_shop(project.config.url.path, orders)
    before = _fingerprint(project.config.url.path)
    say(
        f"   applied the first migration and wrote {before['users_rows']} users and {before['orders_rows']} orders "
        f"(total {before['cents'] / 100:,.2f} dollars, kept as integer cents)"
    )
    return project, before


def _write_four_migrations(project: Project, say: Say) -> None:
    """Step 2: three migrations written by hand and one drafted by ``dbshift diff``, listed."""
    say("[bold]2. Four new migrations[/bold] (dbshift new ... / dbshift diff --name ...):")
    migrations = project.config.migrations_dir
    write_sql_migration(
        migrations,
        "add_users_phone",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
        "ALTER TABLE users DROP COLUMN phone;",
        description="users get a phone number",
        version=V_PHONE,
    )
    amount_file = draft_amount_migration(project)
    write_sql_migration(
        migrations,
        "index_orders_user_status",
        "CREATE INDEX orders_user_status ON orders(user_id, status);",
        "DROP INDEX orders_user_status;",
        description="index for the order list page",
        version=V_INDEX,
    )
    write_sql_migration(
        migrations,
        "create_order_history",
        "CREATE TABLE order_history (\n    id INTEGER PRIMARY KEY,\n"
        "    order_id INTEGER NOT NULL REFERENCES orders(id),\n    status TEXT NOT NULL,\n"
        "    changed_at TEXT NOT NULL\n);",
        "DROP TABLE order_history;",
        description="audit trail of status changes",
        version=V_HISTORY,
    )
    project.hash()
    for migration in project.migrations()[1:]:
        flags = " [yellow](risky: a backup is taken first)[/yellow]" if migration.destructive or migration.risky else ""
        say(f"   {migration.file}: {migration.description}{flags}")
    say(
        f"   {amount_file.name} was drafted by `dbshift diff` from schema.sql with --rename "
        "orders.amount_cents=amount and a conversion each way; it is one table rebuild, up and down"
    )


def _apply_them(project: Project, before: dict, say: Say) -> None:
    """Steps 3 and 4: status, then apply, and the check that the dollars add up to the cents."""
    status = project.status()
    say(f"[bold]3. dbshift status[/bold]: current version {status.current_version}, {len(status.pending)} pending")

    say("[bold]4. dbshift apply[/bold]: one transaction per migration, history row in the same transaction")
    result = Project(project.config.root, on_event=_event_printer(say)).apply()
    for info in result.backups:
        say(f"   backup before the risky step: {info.path.name} (integrity checked, sha256 in its manifest)")
    after = _fingerprint(project.config.url.path)
    _check(
        say,
        after["amount_cents_equivalent"] == before["cents"],
        f"orders.amount now holds dollars; total {after['amount_cents_equivalent'] / 100:,.2f} matches to the cent",
    )


def _show_history(project: Project, say: Say) -> None:
    """Step 5: the history's newest rows."""
    applied, log = project.history()
    say(f"[bold]5. dbshift history[/bold]: {len(applied)} applied, {len(log)} log entries; the newest:")
    for row in applied[-2:]:
        say(f"   {row.version}_{row.name} by {escape(f'{row.applied_by}@{row.host}')} in {row.duration_ms} ms")


def _roll_back_and_compare(project: Project, before: dict, say: Say) -> None:
    """Step 6: roll everything back to the first migration and prove every row and cent came back."""
    say(
        f"[bold]6. dbshift rollback --to {V_INITIAL} --force[/bold]: the downs drop phone and order_history "
        "(lossy, so dbshift asks for --force and takes a backup first)"
    )
    result = Project(project.config.root, on_event=_event_printer(say)).rollback(to=V_INITIAL, force=True)
    say(f"   backup before rollback: {result.backups[0].path.name}")
    final = _fingerprint(project.config.url.path)
    _check(
        say,
        final == before,
        "every row and every cent came back: users and orders are identical to step 1 "
        f"({final['users_rows']} users, {final['orders_rows']} orders, content hash {final['orders_hash'][:12]})",
    )


def dbshift_command() -> str:
    """How this user runs dbshift from any folder: ``dbshift`` when that is on PATH and is this
    program, else the full path of the script (``./dev demo`` runs ``.venv/bin/dbshift``, which is
    not on PATH), else ``python -m dbshift`` with this interpreter."""
    import shutil
    import sys

    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "dbshift" and script.exists():
        on_path = shutil.which("dbshift")
        if on_path and Path(on_path).resolve() == script.resolve():
            return "dbshift"
        return shlex.quote(str(script.resolve()))
    return f"{shlex.quote(sys.executable)} -m dbshift"


def draft_amount_migration(project: Project) -> Path:
    """Draft the cents -> dollars migration with ``dbshift diff`` from a desired schema.

    The desired schema is written to ``schema.sql``; the rename and the conversion in both
    directions are given the way a user gives them on the command line:
    ``dbshift diff --name orders_amount_in_dollars --rename orders.amount_cents=amount
    --convert "orders.amount=amount_cents / 100.0" --reverse "orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)"``.
    """
    desired = project.config.root / "schema.sql"
    desired.write_text(DESIRED_SCHEMA, encoding="utf-8")
    result = project.diff(
        target=str(desired),
        name="orders_amount_in_dollars",
        version=V_AMOUNT,
        renames=["orders.amount_cents=amount"],
        convert=["orders.amount=amount_cents / 100.0"],
        reverse=["orders.amount_cents=CAST(ROUND(amount * 100) AS INTEGER)"],
    )
    return result.path


def _fill_shop(database: Path, orders: int) -> None:
    rng = random.Random(20261121)
    users = max(orders // 5, 1)
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO users (id, email, name) VALUES (?, ?, ?)",
            ((i, f"user{i}@example.com", f"User {i}") for i in range(1, users + 1)),
        )
        conn.executemany(
            "INSERT INTO orders (id, user_id, amount_cents, status, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                (
                    i,
                    rng.randint(1, users),
                    rng.randint(1, 500_000),
                    rng.choice(["new", "paid", "shipped"]),
                    f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                )
                for i in range(1, orders + 1)
            ),
        )
    conn.close()


def _fingerprint(database: Path) -> dict:
    conn = sqlite3.connect(database)
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(orders)")]
        amount = "amount_cents" if "amount_cents" in columns else "CAST(ROUND(amount * 100) AS INTEGER)"
        users = conn.execute("SELECT id, email, name FROM users ORDER BY id").fetchall()
        orders = conn.execute(f"SELECT id, user_id, {amount}, status, created_at FROM orders ORDER BY id").fetchall()
        return {
            "users_rows": len(users),
            "orders_rows": len(orders),
            "users_hash": hashlib.sha256(repr(users).encode()).hexdigest(),
            "orders_hash": hashlib.sha256(repr(orders).encode()).hexdigest(),
            "cents": sum(row[2] for row in orders) if "amount_cents" in columns else None,
            "amount_cents_equivalent": sum(row[2] for row in orders),
            "columns": {"users": [r[1] for r in conn.execute("PRAGMA table_info(users)")], "orders": columns},
        }
    finally:
        conn.close()


def _check(say: Say, ok: bool, message: str) -> None:
    if not ok:
        from dbshift.errors import CheckFailed

        raise CheckFailed(f"demo check failed: {message}")
    say(f"   [green]✓[/green] {message}")


def _event_printer(say: Say):
    def on_event(event: str, **data) -> None:
        if event == "done":
            arrow = "↑" if data["direction"] == "up" else "↓"
            say(f"   {arrow} {data['migration'].label} ({data['duration_ms']} ms)")

    return on_event
