"""The sqldef MySQL corpus (MariaDB flavour where marked) as an oracle on the real MariaDB server.

Each applicable case: the drafted up turns `current` into `desired` and the down turns it back,
compared by inspection. The pass counts and exclusions are in docs/corpus-servers.md.
"""

from __future__ import annotations

import re

import pytest

from servers import corpus as c
from servers.conftest import create_database, drop_database

pytest.importorskip("yaml")
pytestmark = pytest.mark.slow


@pytest.fixture
def bench(mysql_url):
    target, scratch = create_database(mysql_url), create_database(mysql_url)
    workbench = c.Workbench(target, scratch)
    yield workbench
    workbench.close()
    drop_database(mysql_url, target)
    drop_database(mysql_url, scratch)


def test_sqldef_mysql_cases_round_trip(bench, corpus):
    version_text = bench.target.execute("SELECT VERSION()")[0][0]
    flavour = "mariadb" if "mariadb" in version_text.lower() else "mysql"
    version = tuple(int(part) for part in re.findall(r"\d+", version_text)[:2])
    cases = list(c.sqldef_cases(corpus / "sqldef" / "mysql"))
    assert len(cases) == 313
    outcome = c.run_corpus(bench, cases, "mysql", lambda case: c.sqldef_exclusion(case, flavour, version, c.MYSQL_UNCOVERED))
    print(outcome.summary(f"sqldef mysql ({flavour} {version_text})"))
    assert outcome.applicable >= 190, outcome.summary("sqldef mysql")
    assert len(outcome.passed) >= 0.9 * outcome.applicable, "\n".join(f"{k}: {v}" for k, v in outcome.failed.items())
