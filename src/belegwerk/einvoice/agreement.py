"""Comparing our verdict with an official one (the corpus's ``official_verdicts.json``).

Used by ``bench/einvoice_verdicts.py`` and the golden tests. The official entries name the
syntax ``UBL``/``CII``/``ZF1``, ``NONE`` for a file without a readable invoice (not well-formed
XML, PDF without XML) and ``OTHER``/``TESTSET`` for XML that is no invoice; the profile and the
error/warning rule ids as the official rule sets report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from belegwerk.einvoice.detect import Dialect
from belegwerk.einvoice.findings import Severity
from belegwerk.einvoice.rules.registry import REGISTRY
from belegwerk.einvoice.validate import Report

# Findings of the layers before the business rules that the official verdicts also name.
LAYER_RULES = frozenset({"XSD", "XML-NOT-WELLFORMED", "PDF-NO-XML", "CEN-EXCEPTION"})


def implemented_rules() -> frozenset[str]:
    """Every rule id Belegwerk checks so far: the layers plus the registered business rules."""
    return LAYER_RULES | {rule.id for rules in REGISTRY.values() for rule in rules}


def syntax_label(report: Report) -> str:
    """Our result in the official vocabulary of syntaxes."""
    if report.error is not None:
        return "OTHER"
    if report.detection is None:
        return "NONE"
    if report.detection.dialect is Dialect.ZF1:
        return "ZF1"
    return report.detection.syntax.value


@dataclass(slots=True)
class Comparison:
    file: str
    syntax: tuple[str, str]  # (ours, official)
    profile: tuple[str | None, str | None]
    valid: tuple[bool | None, bool | None]
    rule_disagreements: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def syntax_agrees(self) -> bool:
        ours, official = self.syntax
        return ours == official or (ours == "OTHER" and official == "TESTSET")

    @property
    def profile_agrees(self) -> bool:
        return self.profile[1] is None or self.profile[0] == self.profile[1]


def compare(report: Report, official: dict[str, Any], rules: frozenset[str]) -> Comparison:
    """Our verdict against the official one, restricted to the rule ids in ``rules``."""
    detection = report.detection
    ours_profile = detection.profile.value if detection is not None else None
    comparison = Comparison(
        report.file,
        (syntax_label(report), official["syntax"]),
        (ours_profile, official.get("profile")),
        (report.verdict.valid if report.readable else None, official.get("valid")),
    )
    for severity, key in ((Severity.ERROR, "errors"), (Severity.WARNING, "warnings")):
        ours = report.verdict.rule_ids(severity) & rules
        theirs = set(official.get(key, ())) & rules
        for rule_id in ours ^ theirs:
            comparison.rule_disagreements[f"{rule_id} ({key})"] = (
                "yes" if rule_id in ours else "no",
                "yes" if rule_id in theirs else "no",
            )
    return comparison


def expectation_met(report: Report, rule_id: str, expect: str) -> bool:
    """A CEN unit-test expectation: ``error``/``warning`` means the rule fires with that
    severity, ``success`` means it stays silent."""
    if expect == "success":
        return rule_id not in report.verdict.rule_ids() | report.verdict.rule_ids(Severity.WARNING)
    severity = Severity.ERROR if expect == "error" else Severity.WARNING
    return rule_id in report.verdict.rule_ids(severity)
