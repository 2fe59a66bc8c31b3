"""The sqldef PostgreSQL corpus and migra's fixtures as oracles on the real PostgreSQL server.

Each applicable case: the drafted up turns `current` into `desired` and the down turns it back,
compared by inspection. The pass counts and exclusions are in docs/corpus-servers.md.
"""

from __future__ import annotations

import pytest

from servers import corpus as c
from servers.conftest import create_database, drop_database

pytest.importorskip("yaml")
pytestmark = pytest.mark.slow


@pytest.fixture
def bench(postgres_url):
    target, scratch = create_database(postgres_url), create_database(postgres_url)
    workbench = c.Workbench(target, scratch)
    yield workbench
    workbench.close()
    drop_database(postgres_url, target)
    drop_database(postgres_url, scratch)


def _server_version(bench) -> tuple[int, ...]:
    number = int(bench.target.execute("SHOW server_version_num")[0][0])
    return number // 10000, number % 10000


def test_sqldef_postgres_cases_round_trip(bench, corpus):
    version = _server_version(bench)
    cases = list(c.sqldef_cases(corpus / "sqldef" / "postgres"))
    assert len(cases) == 838
    outcome = c.run_corpus(bench, cases, "postgresql",
                           lambda case: c.sqldef_exclusion(case, "postgres", version, c.POSTGRES_UNCOVERED))
    print(outcome.summary("sqldef postgres"))
    assert outcome.applicable >= 550, outcome.summary("sqldef postgres")
    assert len(outcome.passed) >= 0.9 * outcome.applicable, "\n".join(f"{k}: {v}" for k, v in outcome.failed.items())


def test_migra_fixtures_round_trip(bench, corpus):
    cases = list(c.migra_cases(corpus / "migra"))
    assert len(cases) == 26
    outcome = c.run_corpus(bench, cases, "postgresql", lambda case: c.uncovered_reason(case, c.POSTGRES_UNCOVERED))
    print(outcome.summary("migra"))
    # Regressions show here: these fixtures pass today.
    assert {"migra/constraints", "migra/generated", "migra/triggers", "migra/dependencies3"} <= set(outcome.passed), outcome.failed
