"""Data-aware findings on tables and columns a careless schema gives them: quotes inside names,
spaces, reserved words, non-ASCII and mixed case. The counting queries are built from those
names; each must count the right rows and name the right keys on all three databases, and leave
the database as it was."""

from __future__ import annotations

import pytest
from tests.conftest import write_migration

from dbshift.lint import lint_migrations

#: (table, names) per dialect: the orders table, its columns, and the parent table of its key.
QUOTE = {"sqlite": '"', "postgresql": '"', "mysql": "`"}
TABLE = 'Order "Lines" ✓'
PARENT = "select"
COLUMNS = {"id": "id", "who": "Who's there", "mail": "e-mail ✓", "gone": "from", "qty": "Qty", "buyer": "buyer id"}
TYPES = {
    "sqlite": {"id": "INTEGER PRIMARY KEY", "text": "TEXT", "int": "INTEGER"},
    "postgresql": {"id": "bigint PRIMARY KEY", "text": "text", "int": "integer"},
    "mysql": {"id": "BIGINT PRIMARY KEY", "text": "VARCHAR(60)", "int": "INT"},
}


def q(dialect: str, name: str) -> str:
    """``name`` quoted the way ``dialect`` quotes an identifier, its quote doubled inside."""
    mark = QUOTE[dialect]
    return mark + name.replace(mark, mark * 2) + mark


def _setup(dialect: str) -> str:
    t, c, ty = (lambda n: q(dialect, n)), {k: q(dialect, v) for k, v in COLUMNS.items()}, TYPES[dialect]
    parent = f"CREATE TABLE {t(PARENT)} ({c['id']} {ty['id']});\nINSERT INTO {t(PARENT)} VALUES (1), (2);\n"
    orders = (
        f"CREATE TABLE {t(TABLE)} ({c['id']} {ty['id']}, {c['who']} {ty['text']}, {c['mail']} {ty['text']}, "
        f"{c['gone']} {ty['text']}, {c['qty']} {ty['int']}, {c['buyer']} {ty['int']});\n"
        f"INSERT INTO {t(TABLE)} VALUES (1, 'ann', 'a@x', 'x', 5, 1), (2, NULL, 'a@x', NULL, 70000, 2), "
        f"(3, 'o''brien', 'b@x', 'y', -1, 9), (4, NULL, NULL, 'z', 3, NULL);\n"
    )
    return parent + orders


def _tighten(dialect: str) -> str:
    t, c = (lambda n: q(dialect, n)), {k: q(dialect, v) for k, v in COLUMNS.items()}
    sql = f"CREATE UNIQUE INDEX {q(dialect, 'one mail')} ON {t(TABLE)} ({c['mail']});\n"
    sql += f"ALTER TABLE {t(TABLE)} DROP COLUMN {c['gone']};\n"
    sql += f"DELETE FROM {t(TABLE)} WHERE {c['who']} IS NULL;\n"
    if dialect == "postgresql":
        sql += f"ALTER TABLE {t(TABLE)} ALTER COLUMN {c['who']} SET NOT NULL;\n"
        sql += f"ALTER TABLE {t(TABLE)} ALTER COLUMN {c['qty']} TYPE smallint;\n"
    if dialect == "mysql":
        sql += f"ALTER TABLE {t(TABLE)} MODIFY {c['who']} VARCHAR(60) NOT NULL;\n"
        sql += f"ALTER TABLE {t(TABLE)} MODIFY {c['qty']} SMALLINT;\n"
    if dialect != "sqlite":  # (SQLite cannot add a key to a table: its rebuild is checked instead)
        sql += (
            f"ALTER TABLE {t(TABLE)} ADD CONSTRAINT {q(dialect, 'to parent')} FOREIGN KEY ({c['buyer']}) "
            f"REFERENCES {t(PARENT)} ({c['id']});\n"
            f"ALTER TABLE {t(TABLE)} ADD CONSTRAINT {q(dialect, 'positive')} CHECK ({c['qty']} >= 0);\n"
        )
    return sql


def _rows(project) -> list:
    with project.connect(readonly=True) as db:
        return db.execute(f"SELECT * FROM {q(project.config.url.dialect, TABLE)} ORDER BY 1")


def _story(project) -> dict[str, list[str]]:
    dialect = project.config.url.dialect
    write_migration(project, 20260101000000, "orders", _setup(dialect), "SELECT 1;")
    write_migration(project, 20260102000000, "tighten", _tighten(dialect), "SELECT 1;")
    project.hash()
    project.apply(to=20260101000000)
    before = _rows(project)
    status = project.status()
    with project.connect(readonly=True) as db:
        findings = lint_migrations(status.pending, dialect, applied={a.version for a in status.applied}, database=db)
    assert _rows(project) == before  # counting changed nothing
    found: dict[str, list[str]] = {}
    for finding in findings:
        found.setdefault(finding.code, []).append(finding.problem)
    assert "not-analysed" not in found, found
    return found


def _check_common(found: dict[str, list[str]]) -> None:
    [duplicates] = found["duplicates-block-unique"]
    assert ": 1 (e.g. 'a@x')" in duplicates, duplicates
    dropped = sorted(found["data-dropped"])
    assert [d.split(": ")[0].split(" this ")[-1] for d in dropped] == [
        "removes 2 rows of " + TABLE + " (DELETE)",
        "removes 3 values of " + TABLE + ".from",
    ], dropped


def test_sqlite_counts_on_odd_names(project):
    _check_common(_story(project))


@pytest.mark.parametrize("fresh_server_url", ["postgresql", "mysql"], indirect=True)
def test_servers_count_on_odd_names(fresh_server_url, tmp_path):
    from dbshift import Project

    found = _story(Project.init(tmp_path, fresh_server_url))
    _check_common(found)
    [nulls] = found["nulls-block-not-null"]
    assert ": 2 (id = 2, 4)" in nulls, nulls
    assert ("strict mode" in nulls) == fresh_server_url.startswith("mysql"), nulls  # MySQL's own behaviour
    violations = sorted(found["rows-violate-constraint"])
    assert any(": 1 (id = 3)" in v and "CHECK" in v for v in violations), violations  # qty -1
    assert any(": 1 (id = 3)" in v and "no match" in v for v in violations), violations  # buyer 9
    [changed] = found["values-changed-by-type"]
    assert "1" in changed and "id = 2" in changed, changed  # 70000 does not fit a smallint
