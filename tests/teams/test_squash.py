"""A team squashes 200 migrations into one: databases that ran them keep working, new ones start
from the squashed file, and a careless squash is refused with one clear line."""

import json

import pytest

from cli_inprocess import is_one_error_with_hint, run_dbshift
from conftest import write_migration
from dbshift.drafting import sources
from teams.squash_project import table_name, version, write_history
from value_oracle import assert_same_values, fill_with_edge_values, snapshot

COUNT = 200
TOP = version(COUNT)
FILLED = table_name(19)  # 'odd "q" 19' ... rotates: the 20th table, created by migration 191
EDGE_COLUMNS = [("name", "VARCHAR(50)", True)]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _files(project) -> list[str]:
    folder = project.config.migrations_dir
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _schema(url: str, root):
    return sources.schema_from_url(url, root)


@pytest.fixture
def big(repo):
    """200 migrations, committed, applied to app.db, one table filled with edge values."""
    write_history(repo.project, COUNT, quote)
    repo.commit("200 migrations")
    repo.project.apply()
    with repo.project.connect() as db:
        fill_with_edge_values(db, FILLED, EDGE_COLUMNS, key="id")
        db.commit()
    return repo


def test_squashing_200_migrations_keeps_the_old_database_working_and_new_ones_start_from_one_file(big):
    repo, root = big, str(big.root)
    with repo.project.connect() as db:
        before = snapshot(db)
    before_schema = _schema("sqlite:///app.db", repo.root)

    done = run_dbshift("-C", root, "--json", "squash", "--to", str(TOP))
    assert done.returncode == 0, done.output
    result = json.loads(done.stdout)
    assert len(result["replaced"]) == COUNT and result["warnings"] == []
    folder = repo.project.config.migrations_dir
    assert sorted(p.name for p in folder.glob("*.sql")) == [f"{TOP}_squashed.sql"]
    assert len(list((folder / "squashed" / str(TOP)).glob("*.sql"))) == COUNT
    repo.commit("squash")

    # The database that ran the 200 one by one: clean, every value still there.
    status = run_dbshift("-C", root, "--json", "status")
    assert status.returncode == 0, status.output
    report = json.loads(status.stdout)
    assert report["missing_files"] == [] and report["changed"] == [] and report["pending"] == []
    assert len(report["squashed"]) == COUNT - 1 and report["sum_file"]["up_to_date"]
    assert "applied but no file" not in run_dbshift("-C", root, "status").stdout
    brief = run_dbshift("-C", root, "status", "--brief")
    assert brief.returncode == 0 and brief.stdout.strip() == f"dbshift: version {TOP}; up to date"

    # A new migration applies on top and rolls back; the old rows come through untouched.
    write_migration(
        repo.project,
        version(COUNT + 1),
        "add_notes",
        f"ALTER TABLE {quote(FILLED)} ADD COLUMN notes TEXT;",
        f"ALTER TABLE {quote(FILLED)} DROP COLUMN notes;",
    )
    repo.project.hash()
    assert run_dbshift("-C", root, "apply").returncode == 0
    assert run_dbshift("-C", root, "rollback", "--force").returncode == 0  # drops the new, empty column
    with repo.project.connect() as db:
        assert_same_values(before, snapshot(db))
    assert _schema("sqlite:///app.db", repo.root) == before_schema

    # A new database builds from the squashed file alone and ends with the same inspected schema.
    fresh = run_dbshift("-C", root, "--db", "sqlite:///fresh.db", "--json", "apply", "--to", str(TOP))
    assert fresh.returncode == 0, fresh.output
    assert [s["version"] for s in json.loads(fresh.stdout)["steps"]] == [TOP]
    assert _schema("sqlite:///fresh.db", repo.root) == before_schema
    assert run_dbshift("-C", root, "--db", "sqlite:///fresh.db", "status", "--brief").stdout.startswith(
        f"dbshift: version {TOP}; 1 pending"
    )
    # Its down drops the whole schema again (nothing lost: the new database is empty).
    assert run_dbshift("-C", root, "--db", "sqlite:///fresh.db", "rollback", "--force").returncode == 0
    assert _schema("sqlite:///fresh.db", repo.root).tables == ()


def test_rolling_back_below_the_squash_is_refused_on_a_database_that_ran_the_originals(big):
    repo, root = big, str(big.root)
    assert run_dbshift("-C", root, "squash", "--to", str(TOP)).returncode == 0
    with repo.project.connect() as db:
        before = snapshot(db)
    for args in (["rollback", "--force"], ["rollback", "--to", str(version(COUNT - 5)), "--force"]):
        refused = run_dbshift("-C", root, *args)
        assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
        assert "ran the 200 migrations it squashes one by one" in refused.stderr
    with repo.project.connect() as db:
        assert_same_values(before, snapshot(db))
    assert len(repo.project.status().applied) == COUNT


def test_a_database_stopped_inside_the_squash_is_told_and_apply_refuses(repo):
    write_history(repo.project, 12, quote)
    repo.commit("12")
    repo.project.apply(to=version(4))
    # The teammate's database stays at 4 while the squash happens elsewhere.
    teammate = repo.root / "app.db"
    moved = teammate.rename(repo.root / "teammate.db")
    repo.project.apply()  # a database that ran all 12 (the squasher's)
    assert run_dbshift("-C", root(repo), "squash", "--to", str(version(10))).returncode == 0
    url = f"sqlite:///{moved.name}"
    status = run_dbshift("-C", root(repo), "--db", url, "status")
    assert status.returncode == 1 and "inside the squash up to" in status.stdout
    assert "inside a squash" in run_dbshift("-C", root(repo), "--db", url, "status", "--brief").stdout
    refused = run_dbshift("-C", root(repo), "--db", url, "apply")
    assert refused.returncode == 3 and is_one_error_with_hint(refused), refused.output
    assert "stopped at " + str(version(4)) in refused.stderr
    assert len(sources.schema_from_url(url, repo.root).tables) == 1  # nothing ran


def root(repo) -> str:
    return str(repo.root)


def test_a_second_squash_folds_the_first_and_every_database_stays_valid(repo):
    write_history(repo.project, 30, quote)
    repo.commit("30")
    repo.project.apply(to=version(20))  # ran the originals up to 20
    assert run_dbshift("-C", root(repo), "squash", "--to", str(version(10))).returncode == 0
    repo.commit("first squash")
    mid = run_dbshift("-C", root(repo), "--db", "sqlite:///mid.db", "apply", "--to", str(version(20)))
    assert mid.returncode == 0, mid.output  # a database built from the first squash
    again = run_dbshift("-C", root(repo), "squash", "--to", str(version(10)))
    assert again.returncode == 3 and is_one_error_with_hint(again) and "already squashed" in again.stderr
    inside = run_dbshift("-C", root(repo), "squash", "--to", str(version(5)))
    assert inside.returncode == 3 and "inside the squash" in inside.stderr
    assert run_dbshift("-C", root(repo), "squash", "--to", str(version(20))).returncode == 0, "second squash"
    repo.commit("second squash")
    for url in ("sqlite:///app.db", "sqlite:///mid.db"):
        status = run_dbshift("-C", root(repo), "--db", url, "--json", "status")
        assert status.returncode == 0, status.output
        report = json.loads(status.stdout)
        assert report["missing_files"] == [] and report["changed"] == []
        assert [p["version"] for p in report["pending"]] == [version(i) for i in range(21, 31)]
        assert run_dbshift("-C", root(repo), "--db", url, "apply").returncode == 0
    built = run_dbshift("-C", root(repo), "--db", "sqlite:///new.db", "apply")
    assert built.returncode == 0, built.output
    assert _schema("sqlite:///new.db", repo.root) == _schema("sqlite:///app.db", repo.root)
    assert _schema("sqlite:///mid.db", repo.root) == _schema("sqlite:///app.db", repo.root)


def test_seed_data_is_named_in_a_warning_because_the_squash_is_schema_only(repo):
    write_migration(repo.project, version(1), "countries", "CREATE TABLE countries (code TEXT PRIMARY KEY);", "")
    write_migration(
        repo.project,
        version(2),
        "seed",
        "INSERT INTO countries VALUES ('FR'), ('DE'), ('ÆØ ''x''');",
        "DELETE FROM countries;",
    )
    (repo.project.config.migrations_dir / f"{version(3)}_cities.py").write_text(
        'def up(ctx):\n    ctx.execute("CREATE TABLE cities (name TEXT)")\n'
        "    ctx.execute(\"INSERT INTO cities VALUES ('Zürich')\")\n"
    )
    repo.project.hash()
    repo.commit("seed")
    done = run_dbshift("-C", root(repo), "squash", "--to", str(version(3)))
    assert done.returncode == 0, done.output
    assert "warning: table countries holds 3 row(s)" in done.stdout and "schema only" in done.stdout
    assert "warning: table cities holds 1 row(s)" in done.stdout
    assert f"{version(3)}_cities.py is a Python migration" in done.stdout
    text = (repo.project.config.migrations_dir / f"{version(3)}_squashed.sql").read_text()
    assert "INSERT" not in text and "(schema only)" in text and 'CREATE TABLE "cities"' in text


@pytest.mark.parametrize(
    "spoil, args, words",
    [
        (None, ["squash", "--to", "20990101000000"], "unknown version 20990101000000"),
        (None, ["squash", "--to", "yesterday"], "not a migration version"),
        (None, ["squash", "--to", "0"], "names no migration"),
        (None, ["squash", "--to", str(version(1))], "nothing to squash"),
        ("uncommitted", ["squash", "--to", str(version(6))], "uncommitted changes"),
        ("stale sum", ["squash", "--to", str(version(6))], "dbshift.sum is out of date"),
        ("behind", ["squash", "--to", str(version(6))], "has run 3 of the 6 migrations"),
        ("edited", ["squash", "--to", str(version(6))], "applied migration changed"),
        ("dirty", ["squash", "--to", str(version(6))], "left half-applied (dirty)"),
    ],
)
def test_a_careless_squash_is_one_clear_line_and_changes_nothing(repo, spoil, args, words):
    write_history(repo.project, 8, quote)
    repo.commit("8")
    repo.project.apply(to=version(3) if spoil == "behind" else None)
    folder = repo.project.config.migrations_dir
    if spoil == "uncommitted":
        (folder / f"{version(9)}_new.sql").write_text("-- migrate:up\nCREATE TABLE x (id INTEGER);\n")
        repo.project.hash()
    elif spoil == "stale sum":
        (folder / f"{version(9)}_new.sql").write_text("-- migrate:up\nCREATE TABLE x (id INTEGER);\n")
        repo.commit("no hash")
    elif spoil == "edited":
        path = next(folder.glob(f"{version(2)}_*.sql"))
        path.write_text(path.read_text() + "\n-- edited\n")
        repo.project.hash()
        repo.commit("edit")
    elif spoil == "dirty":  # a run killed in the middle of migration 8
        from dbshift.history import RUNNING, History

        with repo.project.connect() as db, db.transaction():
            row = History(db).applied()[version(8)]
            History(db).record(row.version, row.name, row.checksum, RUNNING, 0)
    files = _files(repo.project)
    refused = run_dbshift("-C", root(repo), *args)
    assert refused.returncode in (2, 3) and is_one_error_with_hint(refused), refused.output
    assert words in refused.stderr
    assert _files(repo.project) == files


def test_squash_outside_git_works_and_without_a_database_too(project):
    write_history(project, 5, quote)
    done = run_dbshift("-C", str(project.config.root), "squash", "--to", str(version(5)))
    assert done.returncode == 0, done.output
    assert not (project.config.root / "app.db").exists()  # squash made no database of its own
    built = run_dbshift("-C", str(project.config.root), "apply")
    assert built.returncode == 0 and "1 migration(s) applied" in built.stdout


def test_a_squash_pull_request_passes_check_and_a_hand_edited_squash_fails_it(repo):
    write_history(repo.project, 12, quote)
    (repo.root / "schema.sql").write_text(_schema_sql(repo.project))
    repo.commit("12")
    repo.git("checkout", "-q", "-b", "squash")
    assert run_dbshift("-C", root(repo), "squash", "--to", str(version(12))).returncode == 0
    repo.commit("squash")
    checked = run_dbshift("-C", root(repo), "check", "--base", "main", "--format", "json")
    report = json.loads(checked.stdout)
    assert checked.returncode == 0, [f for f in report["findings"] if not f["ok"]]
    assert "squash builds the base" in {f["check"] for f in report["findings"]}
    path = repo.project.config.migrations_dir / f"{version(12)}_squashed.sql"
    path.write_text(path.read_text().replace('"name" VARCHAR(50)', '"name" VARCHAR(51)', 1))
    repo.project.hash()
    repo.commit("edited by hand")
    spoiled = run_dbshift("-C", root(repo), "check", "--base", "main", "--format", "json")
    failed = {f["check"] for f in json.loads(spoiled.stdout)["findings"] if not f["ok"]}
    # The header still names the base's files with their checksums: only building the squash catches the edit.
    assert spoiled.returncode == 1 and failed == {"squash builds the base"}, failed


def _schema_sql(project) -> str:
    from dbshift.drafting.render import render

    return render(sources.schema_from_migrations(project.migrations()), "sql", "sqlite")
