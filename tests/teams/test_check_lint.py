"""`dbshift check` lints the migrations a pull request adds: an error-level finding left in them is
a problem of the report (Markdown and JSON), a suppressed one with its reason is not, and the base's
own migrations are not linted again."""

import json

from cli_inprocess import run_dbshift

CUSTOMERS = 'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, "old nämé" TEXT);'
WITHOUT = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);\n"


def _branch_dropping_a_column(repo, above=""):
    repo.migration(20260101000000, "customers", CUSTOMERS, "DELETE FROM customers; DROP TABLE customers;")
    (repo.root / "schema.sql").write_text(CUSTOMERS + "\n")
    repo.commit("customers")
    repo.git("checkout", "-q", "-b", "feature")
    repo.migration(
        20260102000000,
        "drop_old",
        above + 'ALTER TABLE customers DROP COLUMN "old nämé";',
        'ALTER TABLE customers ADD COLUMN "old nämé" TEXT;',
    )
    (repo.root / "schema.sql").write_text(WITHOUT)
    repo.commit("drop old")


def _report(repo, *args):
    result = run_dbshift("-C", str(repo.root), "check", "--format", "json", *args)
    return result, json.loads(result.stdout)


def test_an_error_level_finding_in_an_added_migration_is_a_problem_of_the_report(repo):
    _branch_dropping_a_column(repo)
    result, report = _report(repo)
    assert result.returncode == 1, result.output
    assert {f["check"] for f in report["findings"] if not f["ok"]} == {"lint"}
    detail = next(f["detail"] for f in report["findings"] if f["check"] == "lint")
    assert "1 error-level finding(s): 20260102000000_drop_old.sql:2 drop-column" in detail
    assert [(f["code"], f["section"]) for f in report["lint"] if f["severity"] == "error"] == [("drop-column", "up")]
    assert all("20260101000000" not in f["file"] for f in report["lint"])  # the base is not linted again
    markdown = run_dbshift("-C", str(repo.root), "check").stdout
    assert markdown.startswith("## dbshift check: problems found")
    assert "| lint | **FAILED** | 1 error-level finding(s): 20260102000000_drop_old.sql:2 drop-column" in markdown


def test_a_suppression_with_its_reason_passes_the_check(repo):
    _branch_dropping_a_column(repo, above="-- lint:ignore drop-column nobody reads it since v4\n")
    result, report = _report(repo)
    assert result.returncode == 0, result.output
    assert next(f for f in report["findings"] if f["check"] == "lint")["ok"]
