"""A developer switches branches: the database travels from one branch's migrations to the other's."""

import json

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from value_oracle import assert_same_values, fill_with_edge_values, snapshot

CUSTOMERS = [("id", "INTEGER", False), ("name", "TEXT", True), ("balance", "BIGINT", True), ("photo", "BLOB", True)]


@pytest.fixture
def two_branches(repo):
    """main: customers, filled with edge values. feature: adds notes and customers.phone, applied."""
    repo.migration(
        20260101000000,
        "add_customers",
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, balance BIGINT, photo BLOB);",
        "DROP TABLE customers;",
    )
    repo.commit("customers")
    repo.project.apply()
    with repo.project.connect() as db:
        fill_with_edge_values(db, "customers", CUSTOMERS, key="id")
        db.commit()
    repo.git("checkout", "-q", "-b", "feature")
    repo.migration(
        20260102000000, "add_notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);", "DROP TABLE notes;"
    )
    repo.migration(
        20260103000000,
        "add_phone",
        "ALTER TABLE customers ADD COLUMN phone TEXT;",
        "ALTER TABLE customers DROP COLUMN phone;",
    )
    repo.commit("notes and phone")
    return repo


def _customers(project):
    with project.connect(readonly=True) as db:
        return snapshot(db, ["customers"])


def _versions(project):
    return [a.version for a in project.status().applied]


def test_sync_rolls_back_the_other_branch_and_every_customer_value_survives(two_branches):
    repo, root = two_branches, str(two_branches.root)
    before_feature = _customers(repo.project)
    repo.project.apply()
    repo.git("checkout", "-q", "main")
    status = run_dbshift("-C", root, "status")
    assert "2 applied migration(s) are not in this checkout (from another branch)" in status.stdout
    refused = run_dbshift("-C", root, "sync")  # dropping phone and notes loses data: --force is needed
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert _versions(repo.project) == [20260101000000, 20260102000000, 20260103000000]
    done = run_dbshift("-C", root, "--json", "sync", "--force")
    assert done.returncode == 0, done.output
    assert [s["version"] for s in json.loads(done.stdout)["reverted"]] == [20260103000000, 20260102000000]
    assert _versions(repo.project) == [20260101000000]
    assert_same_values(before_feature, _customers(repo.project))


def test_sync_travels_back_to_the_feature_branch_and_applies_this_checkouts_migrations(two_branches):
    repo, root = two_branches, str(two_branches.root)
    repo.project.apply()
    repo.git("checkout", "-q", "main")
    repo.migration(20260104000000, "add_orders", "CREATE TABLE orders (id INTEGER PRIMARY KEY);", "DROP TABLE orders;")
    repo.commit("orders on main")
    assert run_dbshift("-C", root, "sync", "--force").returncode == 0
    assert _versions(repo.project) == [20260101000000, 20260104000000]
    before = _customers(repo.project)
    repo.git("checkout", "-q", "feature")
    back = run_dbshift("-C", root, "sync", "--force")
    assert back.returncode == 0, back.output
    assert "reverted 20260104000000_add_orders" in back.stdout and "applied 20260103000000_add_phone" in back.stdout
    assert _versions(repo.project) == [20260101000000, 20260102000000, 20260103000000]
    with repo.project.connect(readonly=True) as db:
        values = snapshot(db, ["customers"])
    assert_same_values(before, {"customers": _without_column(values["customers"], "phone")})


def _without_column(rows, column):
    from collections import Counter

    return Counter({tuple(cell for cell in row if cell[0] != column): n for row, n in rows.items()})


def test_a_row_applied_before_downs_were_stored_points_to_restore(two_branches):
    repo, root = two_branches, str(two_branches.root)
    repo.project.apply()
    with repo.project.connect() as db:
        db.execute("UPDATE dbshift_history SET stored_down = NULL WHERE version = 20260103000000")
        db.commit()
    repo.git("checkout", "-q", "main")
    result = run_dbshift("-C", root, "sync", "--force")
    assert result.returncode == 3 and is_one_error_with_hint(result), result.output
    assert "its down was not stored" in result.stderr and "dbshift restore" in result.stderr
    assert _versions(repo.project) == [20260101000000, 20260102000000, 20260103000000]


def test_a_history_table_from_before_this_feature_gets_the_column(project):
    with project.connect() as db:
        db.execute(
            "CREATE TABLE dbshift_history (version BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, "
            "checksum VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, applied_at VARCHAR(40) NOT NULL, "
            "duration_ms INTEGER, applied_by VARCHAR(255), host VARCHAR(255), backup TEXT, record TEXT)"
        )
        db.commit()
    from conftest import write_migration

    path = write_migration(project, 20260101000000, "t", "CREATE TABLE t (id INTEGER);", "DROP TABLE t;")
    project.hash()
    project.apply()
    row = project.status().applied[0]
    assert row.stored_down == {"file": path.name, "text": path.read_text()}


def test_a_python_migration_from_another_branch_rolls_back_from_its_stored_source(repo):
    repo.migration(20260101000000, "base", "CREATE TABLE base (id INTEGER);", "DROP TABLE base;")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "py")
    (repo.project.config.migrations_dir / "20260102000000_py.py").write_text(
        'def up(ctx):\n    ctx.execute("CREATE TABLE from_python (id INTEGER)")\n\n'
        'def down(ctx):\n    ctx.execute("DROP TABLE from_python")\n'
    )
    repo.project.hash()
    repo.commit("python")
    repo.project.apply()
    repo.git("checkout", "-q", "main")
    done = run_dbshift("-C", str(repo.root), "sync", "--force")
    assert done.returncode == 0, done.output
    with repo.project.connect(readonly=True) as db:
        assert sorted(t for t in db.user_tables() if not t.startswith("dbshift")) == ["base"]


def test_sync_refuses_before_rolling_back_when_this_checkout_would_apply_out_of_order(two_branches):
    repo, root = two_branches, str(two_branches.root)
    repo.project.apply()
    repo.git("checkout", "-q", "main")
    repo.migration(20260101120000, "add_tags", "CREATE TABLE tags (id INTEGER);", "DROP TABLE tags;")
    repo.migration(20260104000000, "add_orders", "CREATE TABLE orders (id INTEGER);", "DROP TABLE orders;")
    repo.commit("tags and orders on main")
    with repo.project.connect() as db:  # orders was applied by a teammate's build of main, tags not yet
        db.execute("CREATE TABLE orders (id INTEGER)")
        db.execute(
            "INSERT INTO dbshift_history (version, name, checksum, status, applied_at) "
            "VALUES (20260104000000, 'add_orders', ?, 'applied', 'now')",
            (repo.project.migrations()[-1].checksum,),
        )
        db.commit()
    before = repo.project.status().applied
    result = run_dbshift("-C", root, "sync", "--force")
    assert result.returncode == 3 and is_one_error_with_hint(result), result.output
    assert "20260101120000_add_tags.sql is older than the newest applied migration" in result.stderr
    assert [a.version for a in repo.project.status().applied] == [a.version for a in before]


def test_repair_keeps_the_stored_file_in_step_with_the_accepted_edit(project):
    from conftest import write_migration

    path = write_migration(project, 20260101000000, "t", "CREATE TABLE t (id INTEGER);", "DROP TABLE t;")
    project.hash()
    project.apply()
    path.write_text(path.read_text().replace("DROP TABLE t;", "DROP TABLE IF EXISTS t;"))
    project.repair()
    assert project.status().applied[0].stored_down["text"] == path.read_text()
