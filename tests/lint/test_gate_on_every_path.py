"""Lint's refusal of a long lock on a big table is not plain `apply`'s alone: `apply --schema`
(a drafted migration), `rollback` (a down that builds an index) and `sync` (a down kept in the
history, its file on another branch) are refused the same way, with the findings listed and the
database left as it was (schema, values and history compared), and run with --force.

PostgreSQL on the real server: its lock rules are the blocking ones. `[lint] big_table_rows` is
lowered so a handful of edge-value rows make the table big."""

from __future__ import annotations

import pytest
from tests.conftest import write_migration

from dbshift import Project

TABLE = "Üsers 'q'"
CREATE = (
    "CREATE TABLE \"Üsers 'q'\" (id bigint PRIMARY KEY, email text, note varchar(40));\n"
    'CREATE INDEX "ix e-mail" ON "Üsers \'q\'" (email);'
)
INDEX = 'CREATE INDEX "ix e-mail" ON "Üsers \'q\'" (email);'
COLUMNS = [("id", "BIGINT", False), ("email", "TEXT", True), ("note", "VARCHAR(40)", True)]


@pytest.fixture
def big(tmp_path, postgres_url, monkeypatch):
    """A project on a fresh PostgreSQL database: the table with its index (applied while empty,
    so not big then), then filled with edge values; ``[lint] big_table_rows = 3`` makes it big."""
    from tests.servers.conftest import create_database, drop_database
    from tests.value_oracle import fill_with_edge_values

    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = create_database(postgres_url)
    project = Project.init(tmp_path, url)
    config = project.config.config_file
    config.write_text(config.read_text() + "\n[lint]\nbig_table_rows = 3\n")
    write_migration(project, 20260101000000, "users", CREATE, f'DROP TABLE "{TABLE}";')
    project.hash()
    project.apply()
    with project.connect() as db:
        rows = fill_with_edge_values(db, TABLE, COLUMNS, key="id")
        db.commit()
    assert rows >= 3  # big, by the threshold
    yield project
    drop_database(postgres_url, url)


def _state(project) -> tuple:
    """Everything a refused run must leave as it was: the inspected schema, every value (typed),
    the history rows and the backups folder."""
    from tests.value_oracle import snapshot

    with project.connect(readonly=True) as db:
        values = snapshot(db, [TABLE])
        history = sorted(
            (r[0], r[1], r[2]) for r in db.execute("SELECT version, checksum, status FROM dbshift_history")
        )
    backups = (
        sorted(p.name for p in project.config.backups_dir.glob("*")) if project.config.backups_dir.exists() else []
    )
    return Project(project.config.root).inspect(), values, history, backups


def _files(folder) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _indexes(project) -> list[str]:
    with project.connect(readonly=True) as db:
        return [r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE indexname = 'ix e-mail'")]


def _refused(result, what: str) -> None:
    assert result.returncode == 3, result.output
    assert f"{what} refused: 1 error-level lint finding(s)" in result.stderr
    assert "error index-not-concurrent" in result.stderr and "ix e-mail" in result.stderr
    assert "--force" in result.stderr
    assert "Traceback" not in result.output


def _drop_the_index(project) -> None:
    """A migration that drops the index; its down builds it again, without CONCURRENTLY."""
    write_migration(project, 20260102000000, "drop_index", 'DROP INDEX "ix e-mail";', INDEX)
    project.hash()
    project.apply()
    assert _indexes(project) == []


def _schema_with_a_second_index(project) -> None:
    """schema.sql: the table as it is, and an index on ``note`` the database does not have."""
    (project.config.root / "schema.sql").write_text(CREATE + '\nCREATE INDEX "ix nöte" ON "Üsers \'q\'" (note);\n')


def _note_index(project) -> list[str]:
    with project.connect(readonly=True) as db:
        return [r[0] for r in db.execute("SELECT indexname FROM pg_indexes WHERE indexname = 'ix nöte'")]


def test_apply_schema_refuses_an_index_build_on_a_big_table_and_changes_nothing(big, run_cli):
    from tests.value_oracle import assert_same_values

    _schema_with_a_second_index(big)
    before, files = _state(big), _files(big.config.migrations_dir)

    result = run_cli("apply", "--schema", "schema.sql", "--save", "note index")
    assert result.returncode == 3, result.output
    assert "apply refused: 1 error-level lint finding(s)" in result.stderr
    assert "_note_index.sql:" in result.stderr and "error index-not-concurrent" in result.stderr
    assert "ix nöte" in result.stderr and "Traceback" not in result.output
    assert "dbshift diff --name" in result.stderr and "--force" in result.stderr  # no file to suppress it in yet
    assert _state(big) == before
    assert _files(big.config.migrations_dir) == files  # --save wrote nothing

    result = run_cli("apply", "--schema", "schema.sql", "--force")
    assert result.returncode == 0, result.output
    assert "lint: " in result.stdout and "index-not-concurrent" in result.stdout  # still listed
    assert _note_index(big) == ["ix nöte"]
    assert_same_values(before[1], _state(big)[1])


def test_apply_schema_on_a_table_below_big_table_rows_is_not_refused(big, run_cli):
    config = big.config.config_file
    config.write_text(config.read_text().replace("big_table_rows = 3", "big_table_rows = 100000"))
    _schema_with_a_second_index(big)
    result = run_cli("apply", "--schema", "schema.sql")
    assert result.returncode == 0, result.output
    assert _note_index(big) == ["ix nöte"]


def test_rollback_refuses_a_down_that_builds_an_index_on_a_big_table(big, run_cli):
    from tests.value_oracle import assert_same_values

    _drop_the_index(big)
    before = _state(big)

    result = run_cli("rollback")
    _refused(result, "rollback")
    assert "20260102000000_drop_index.sql:4: error index-not-concurrent" in result.stderr  # the down's line
    assert "-- lint:ignore index-not-concurrent reason" in result.stderr  # a file to put it in
    assert "dbshift repair" in result.stderr  # the file is applied: an edit changes its checksum
    assert _state(big) == before  # no index, no history change, no backup taken

    result = run_cli("rollback", "--force")
    assert result.returncode == 0, result.output
    assert _indexes(big) == ["ix e-mail"]
    after = _state(big)
    assert_same_values(before[1], after[1])
    assert [row[0] for row in after[2]] == [20260101000000]


def test_a_suppression_above_the_down_statement_lets_rollback_run(big, run_cli):
    write_migration(
        big,
        20260102000000,
        "drop_index",
        'DROP INDEX "ix e-mail";',
        "-- lint:ignore index-not-concurrent a short maintenance window\n" + INDEX,
    )
    big.hash()
    big.apply()
    result = run_cli("rollback")
    assert result.returncode == 0, result.output
    assert _indexes(big) == ["ix e-mail"]


def test_sync_refuses_the_other_branchs_down_on_a_big_table_and_runs_it_with_force(big, run_cli):
    from tests.value_oracle import assert_same_values

    from teams.conftest import Repo

    repo = Repo(big)
    repo.commit("users")
    repo.git("checkout", "-q", "-b", "feature")
    _drop_the_index(big)
    repo.commit("drop the index")
    repo.git("checkout", "-q", "main")  # the drop's file is gone; its down is in the history
    before, files = _state(big), _files(big.config.root)

    result = run_cli("sync")
    _refused(result, "rollback")
    assert "history:20260102000000_drop_index.sql" in result.stderr
    assert "branch that has its file" in result.stderr
    assert _state(big) == before
    assert _files(big.config.root) == files

    result = run_cli("sync", "--force")
    assert result.returncode == 0, result.output
    assert _indexes(big) == ["ix e-mail"]
    after = _state(big)
    assert_same_values(before[1], after[1])
    assert [row[0] for row in after[2]] == [20260101000000]


def test_the_hints_way_out_for_an_applied_down_works_suppress_then_repair(big, run_cli):
    _drop_the_index(big)
    assert run_cli("rollback").returncode == 3
    path = big.config.migrations_dir / "20260102000000_drop_index.sql"
    path.write_text(path.read_text().replace(INDEX, "-- lint:ignore index-not-concurrent quiet hours\n" + INDEX))
    big.hash()
    assert run_cli("rollback").returncode == 3  # an edited applied file: refused until repair accepts it
    assert run_cli("repair").returncode == 0
    result = run_cli("rollback")
    assert result.returncode == 0, result.output
    assert _indexes(big) == ["ix e-mail"]
