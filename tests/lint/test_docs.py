"""docs/lint.md documents every rule and the squawk result the test suite measures."""

from __future__ import annotations

from pathlib import Path

from tests.lint.squawk_corpus import KNOWN_DISAGREEMENTS, run_corpus

from dbshift.lint import all_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint.md"


def test_every_rule_has_its_section_with_a_bad_and_a_good_example():
    text = DOC.read_text(encoding="utf-8")
    for code in all_rules():
        section = text.split(f"### `{code}`", 1)
        assert len(section) == 2, code
        body = section[1].split("\n### ", 1)[0]
        assert "Bad" in body and "Good" in body, code


def test_the_documented_squawk_result_is_the_measured_one(squawk_cases):
    results = run_corpus(squawk_cases)
    text = DOC.read_text(encoding="utf-8")
    assert f"**Result: {sum(r.agrees for r in results)} of {len(results)} applicable cases agree" in text
    for rule, test in KNOWN_DISAGREEMENTS:
        assert f"`{test}`" in text
