"""squawk's own rule cases: wherever dbshift covers the same risk, it reaches the same verdict."""

from __future__ import annotations

from tests.lint.squawk_corpus import (
    KNOWN_DISAGREEMENTS,
    NOT_COVERED,
    SQUAWK_TO_DBSHIFT,
    load_cases,
    run_corpus,
)

TARGET = 0.95


def test_every_squawk_rule_is_mapped_to_dbshift_codes_or_said_to_be_out_of_scope(squawk_cases):
    rules = {case["rule"] for case in load_cases(squawk_cases)}
    assert rules - set(SQUAWK_TO_DBSHIFT) - set(NOT_COVERED) == set()


def test_dbshift_agrees_with_squawk_on_at_least_95_percent_of_the_cases_it_covers(squawk_cases):
    results = run_corpus(squawk_cases)
    agreeing = sum(result.agrees for result in results)
    assert agreeing / len(results) >= TARGET, f"{agreeing}/{len(results)}"


def test_every_disagreement_is_a_known_one_with_its_reason(squawk_cases):
    disagreements = {(r.rule, r.test): (r.expect, r.got, r.codes) for r in run_corpus(squawk_cases) if not r.agrees}
    assert set(disagreements) == set(KNOWN_DISAGREEMENTS), disagreements
