"""A COMMIT inside a migration would end the transaction dbshift runs it in: a later failure could
then not take the earlier statements back. dbshift refuses such a migration before running any of
it, on every database, and every value stays as it was."""

from __future__ import annotations

import pytest

from dbshift.errors import MigrationFailed
from stories.db import add, make_shop, rows

V_BAD = 20260201000000


def amounts(project) -> list[tuple]:
    return rows(project, "SELECT id, amount_cents FROM orders ORDER BY id")


@pytest.mark.parametrize(
    "control", ["COMMIT", "-- the first half is done\nCOMMIT", "BEGIN", "ROLLBACK", "/* restart */ START TRANSACTION"]
)
def test_a_transaction_statement_inside_a_migration_is_refused_before_anything_runs(project, control):
    if "START TRANSACTION" in control and project.config.url.dialect == "sqlite":
        pytest.skip("SQLite has no START TRANSACTION: the statement fails on its own")
    make_shop(project, users=5, orders=20)
    before = amounts(project)
    add(
        project,
        V_BAD,
        "halfway",
        f"UPDATE orders SET amount_cents = 0;\n{control};\nINSERT INTO nowhere VALUES (1);",
        "SELECT 1;",
    )
    with pytest.raises(MigrationFailed, match=r"20260201000000_halfway\.sql:\d+: .* would end the transaction"):
        project.apply()
    assert amounts(project) == before
    status = project.status()
    assert [m.version for m in status.pending] == [V_BAD] and not status.dirty


def test_a_savepoint_inside_a_migration_is_its_own_business(project):
    if project.config.url.dialect == "mysql":
        pytest.skip("MySQL/MariaDB migrations run outside a transaction (DDL commits): no savepoint to roll back to")
    make_shop(project, users=5, orders=20)
    add(
        project,
        V_BAD,
        "savepoint",
        "SAVEPOINT before_update;\nUPDATE orders SET amount_cents = 0 WHERE id = 1;\n"
        "ROLLBACK TO SAVEPOINT before_update;\nRELEASE SAVEPOINT before_update;",
        "SELECT 1;",
    )
    project.apply()
    assert rows(project, "SELECT amount_cents FROM orders WHERE id = 1") == [(107,)]


@pytest.mark.parametrize(
    "language, sql, ends",
    [
        ("postgresql", "/* a /* nested */ comment */ COMMIT", True),
        ("postgresql", "-- note\nEND", True),
        ("postgresql", "ROLLBACK TO SAVEPOINT s", False),
        ("postgresql", "PREPARE q AS SELECT 1", False),
        ("mysql", "# note\nCOMMIT", True),
        ("mysql", "BEGIN NOT ATOMIC SELECT 1; END", False),
        ("mysql", "SET autocommit = 1", True),
        ("mysql", "SET @begin = 1", False),
    ],
)
def test_what_ends_a_transaction_is_read_past_comments_as_each_database_reads_them(language, sql, ends):
    from dbshift.dialects.mysql_script import ends_transaction as mysql
    from dbshift.dialects.postgresql_script import ends_transaction as postgresql

    assert {"postgresql": postgresql, "mysql": mysql}[language](sql) is ends
