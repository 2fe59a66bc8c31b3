"""A small shop project for the safety-net stories: users and orders with real rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import write_migration

V_SHOP = 20260101090000

SHOP_UP = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    amount_cents INTEGER NOT NULL,
    note BLOB
);
CREATE INDEX orders_user ON orders(user_id);
"""


def make_shop(project, users: int = 50, orders: int = 400) -> Path:
    """Apply the shop schema and fill it; returns the database file."""
    write_migration(project, V_SHOP, "shop", SHOP_UP, "DROP TABLE orders; DROP TABLE users;")
    project.hash()
    project.apply()
    database = project.config.url.path
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?)",
            [(i, f"user{i}@example.com", f"User {i}") for i in range(1, users + 1)],
        )
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [(i, 1 + i % users, 100 * i + 7, bytes([i % 256]) * 3 if i % 5 else None) for i in range(1, orders + 1)],
        )
    conn.close()
    return database


def fingerprints(project) -> dict:
    """Rows and content hash per table, as verify computes them."""
    return {name: (fp.rows, fp.content, fp.schema) for name, fp in project.verify().fingerprints.items()}


def add(project, version: int, name: str, up: str, down: str | None = None, header: str = "") -> Path:
    """Write a migration and refresh dbshift.sum."""
    path = write_migration(project, version, name, up, down, header)
    project.hash()
    return path
