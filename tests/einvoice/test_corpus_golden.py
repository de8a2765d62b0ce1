"""Golden tests: our verdicts agree with the official ones on the whole shared corpus, for
everything implemented so far (detection, XSD, layer-1 findings, the first rule tranche), and
every CEN unit-test expectation of the implemented rules is met.

``bench/einvoice_verdicts.py`` prints the same comparison with figures and throughput.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from belegwerk.einvoice.agreement import compare, expectation_met, implemented_rules
from belegwerk.einvoice.validate import Report, validate_file
from tests.conftest import corpus_path

pytestmark = pytest.mark.corpus
SPLIT = "_derived/eInvoicing-EN16931-unit-split/"


@pytest.fixture(scope="module")
def corpus() -> tuple[dict[str, Any], dict[str, Report], Path]:
    base = corpus_path("einvoice", "official_verdicts.json").parent
    official = json.loads((base / "official_verdicts.json").read_text())
    reports = {name: validate_file((base / name).read_bytes(), name) for name in official}
    return official, reports, base


def test_syntax_and_profile_agree(corpus: tuple[dict[str, Any], dict[str, Report], Path]) -> None:
    official, reports, _base = corpus
    rules = implemented_rules()
    wrong = []
    for name, verdict in official.items():
        comparison = compare(reports[name], verdict, rules)
        if not (comparison.syntax_agrees and comparison.profile_agrees):
            wrong.append((name, comparison.syntax, comparison.profile))
    assert wrong == []
    assert len(official) > 1800


def test_xsd_and_implemented_rules_agree(
    corpus: tuple[dict[str, Any], dict[str, Report], Path],
) -> None:
    official, reports, _base = corpus
    rules = implemented_rules()
    assert {"XSD", "BR-01", "BR-16", "BR-CO-10", "BR-CO-16"} <= rules
    disagreements = {
        name: comparison.rule_disagreements
        for name, verdict in official.items()
        if (comparison := compare(reports[name], verdict, rules)).rule_disagreements
    }
    assert disagreements == {}


def test_unit_test_expectations_of_implemented_rules(
    corpus: tuple[dict[str, Any], dict[str, Report], Path],
) -> None:
    _official, reports, base = corpus
    expected = json.loads((base / SPLIT / "expected.json").read_text())
    rules = implemented_rules()
    checked, failed = 0, []
    for name, case in expected.items():
        for expectation in case["expectations"]:
            if expectation["rule"] in rules:
                checked += 1
                if not expectation_met(reports[name], expectation["rule"], expectation["expect"]):
                    failed.append((name, expectation))
    assert failed == []
    assert checked >= 187  # BR-01 … BR-16 and BR-CO-10 … BR-CO-16 have 187 expectations


def test_nothing_in_the_corpus_crashes_or_is_unreadable_without_reason(
    corpus: tuple[dict[str, Any], dict[str, Report], Path],
) -> None:
    official, reports, _base = corpus
    unreadable = {name for name, report in reports.items() if not report.readable}
    # the official verdicts have no verdict either for XML that is no invoice
    assert all(official[name]["syntax"] in ("OTHER", "TESTSET") for name in unreadable)
