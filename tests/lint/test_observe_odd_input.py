"""`--observe` (and rehearse) on what a careless migration holds: a statement the server cannot
read in the middle of the file, a DO block, a transaction command, a Python migration that
raises. Observation stops at the failure with an error finding naming its line, every statement
before it is still observed, and the live database keeps every value and its schema."""

from __future__ import annotations

import pytest
from tests.conftest import write_migration
from tests.lint.test_observe import _observe, _run

from dbshift import Project

SETUP = {
    "postgresql": [
        'CREATE TABLE "it\'s ""t"" ✓" (id bigint PRIMARY KEY, v text)',
        'INSERT INTO "it\'s ""t"" ✓" SELECT i, \'v\' || i FROM generate_series(1, 500) i',
    ],
    "mysql": [
        'CREATE TABLE `it\'s "t" ✓` (id BIGINT PRIMARY KEY, v VARCHAR(20))',
        "INSERT INTO `it's \"t\" ✓` SELECT seq, CONCAT('v', seq) FROM seq_1_to_500",
    ],
}
TABLE = {"postgresql": '"it\'s ""t"" ✓"', "mysql": '`it\'s "t" ✓`'}
#: (up, the line observation stops at, a word of the failure), per dialect.
BROKEN = {
    "postgresql": (
        'CREATE INDEX "by v" ON {t} (v);\nDO $$ BEGIN PERFORM 1; END $$;\nALTER TABLE {t} FROBNICATE v;\n'
        "CREATE TABLE never_made (id int);",
        4,
        "syntax error",
    ),
    "mysql": (
        "CREATE INDEX `by v` ON {t} (v);\nALTER TABLE {t} ADD COLUMN flag INT;\nALTER TABLE {t} FROBNICATE v;\n"
        "CREATE TABLE never_made (id INT);",
        4,
        "syntax",
    ),
}


def _project(tmp_path, url: str, dialect: str, up: str, python: str | None = None) -> Project:
    _run(url, *SETUP[dialect])
    project = Project.init(tmp_path, url)
    write_migration(project, 20260101000000, "odd", up.format(t=TABLE[dialect]), "SELECT 1;")
    if python is not None:
        (project.config.migrations_dir / "20260102000000_raises.py").write_text(python, encoding="utf-8")
    project.hash()
    return project


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_an_unreadable_statement_stops_the_observation_at_its_line_and_nothing_live_changes(tmp_path, dialect, request):
    url = request.getfixturevalue("pg_db" if dialect == "postgresql" else "my_db")
    up, line, word = BROKEN[dialect]
    observed, findings = _observe(_project(tmp_path, url, dialect, up))
    [failure] = [f for f in findings if f.code == "observed-failure"]
    assert failure.severity == "error" and failure.line == line and word in failure.problem.lower(), failure
    assert {o.line for o in observed.observations} >= {2}  # the index build before it was observed
    assert not [o for o in observed.observations if o.line > line]


def test_a_python_migration_that_raises_is_an_observed_failure_naming_its_error(tmp_path, pg_db):
    python = '"""Fails."""\n\n\ndef up(ctx):\n    ctx.execute("UPDATE \\"it\'s \\"\\"t\\"\\" ✓\\" SET v = \'x\'")\n'
    python += '    raise RuntimeError("the API said no ✓")\n\n\ndef down(ctx):\n    pass\n'
    project = _project(tmp_path, pg_db, "postgresql", "CREATE INDEX by_v ON {t} (v);", python)
    observed, findings = _observe(project)
    [failure] = [f for f in findings if f.code == "observed-failure"]
    assert "the API said no ✓" in failure.problem and failure.file.endswith("_raises.py"), failure


def test_a_transaction_command_in_a_migration_is_an_observed_failure_naming_its_line(tmp_path, pg_db):
    """The runner refuses a BEGIN before it runs anything (it would end dbshift's transaction): on
    the copy that refusal is the observed failure, naming the file and the line of the BEGIN."""
    project = _project(tmp_path, pg_db, "postgresql", "UPDATE {t} SET v = 'x';\nBEGIN;\nCOMMIT;")
    observed, findings = _observe(project)
    [failure] = [f for f in findings if f.code == "observed-failure"]
    assert "20260101000000_odd.sql:3: `BEGIN;` would end the transaction" in failure.problem, failure
    assert failure.line == 3  # the finding sits on the BEGIN's line too
    assert not observed.observations  # refused before its first statement ran
