"""The shipped rule classifier and enforcement matcher against hand-labelled prose from
real repositories (tests/data/audit_labels/, see `testing.audit_labels`).

`pytest -s tests/test_audit_labels.py` (or `python -m testing.audit_labels`) prints the
numbers and every disagreement. "Is enforced" counts a rule whose own text names a
check the repository runs; rules a check enforces without naming it are reported
separately: the audit calls those gaps by design.
"""

from __future__ import annotations

import pytest

from testing.audit_labels import DATA, Outcome, outcomes, report, scores


@pytest.fixture(scope="module")
def results() -> list[Outcome]:
    return outcomes()


def test_the_sample_is_large_enough_and_sourced(results: list[Outcome]) -> None:
    from ladder._toml import load

    files = sorted(DATA.glob("*.toml"))
    assert len(files) >= 2
    for path in files:
        source = load(path)["source"]
        assert source["repository"].startswith("https://github.com/") and len(source["commit"]) == 40
    assert len(results) >= 60
    assert sum(o.rule for o in results) >= 30 and sum(o.enforced for o in results) >= 5


def test_rule_classifier_and_enforcement_matcher(results: list[Outcome]) -> None:
    print("\n" + report(results))
    rule, enforced, _ = scores(results)
    assert rule.precision >= 0.9 and rule.recall >= 0.9, rule
    assert enforced.precision >= 0.9 and enforced.recall >= 0.9, enforced
