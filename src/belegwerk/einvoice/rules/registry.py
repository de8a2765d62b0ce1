"""The rule registry: a business rule is a small typed function registered under its rule id.

A rule sees the parsed invoice (the EN 16931 model), the detected syntax and profile and, where
the official binding of a syntax needs it, the XML tree itself; it yields ``Hit``s (where and
what, in German). The registry adds id, severity, business term and layer. Rules belong to a
rule set (EN 16931, XRechnung CIUS, a ZUGFeRD/Factur-X profile); a rule may be limited to one
syntax, like the official UBL-SR-*/CII-SR-* rules.

When a rule needs a number the document does not spell as one, the official schematron stops
with a dynamic error and reports nothing but that; ``run_rule_set`` does the same and reports
one ``<SET>-EXCEPTION`` finding, so the verdicts stay comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from belegwerk.core.i18n import _
from belegwerk.einvoice.detect import Detection, Syntax
from belegwerk.einvoice.findings import Finding, Layer, Location, Severity
from belegwerk.einvoice.model import Invoice, Totals
from belegwerk.einvoice.values import MalformedValue


class RuleSet(StrEnum):
    EN16931 = "EN16931"  # CEN/TS 16931-3 validation artefacts (schematron 1.3.x)


_LAYERS = {RuleSet.EN16931: Layer.EN16931}
_EXCEPTION_IDS = {RuleSet.EN16931: "CEN-EXCEPTION"}


@dataclass(frozen=True, slots=True)
class Hit:
    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class RuleContext:
    invoice: Invoice
    detection: Detection
    root: Any  # the lxml root element, for syntax-specific rules

    @property
    def syntax(self) -> Syntax:
        return self.detection.syntax

    @property
    def totals(self) -> Totals | None:
        """The document totals element (UBL LegalMonetaryTotal, CII header summation), if any;
        the CEN rules on BG-22 have it as their context."""
        totals = self.invoice.totals
        return totals if totals is not None and totals.declared else None


Check = Callable[[RuleContext], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    bt: str | None
    severity: Severity
    rule_set: RuleSet
    syntaxes: frozenset[Syntax]
    check: Check


REGISTRY: dict[RuleSet, list[Rule]] = {rule_set: [] for rule_set in RuleSet}


def rule(
    rule_id: str,
    *,
    bt: str | None,
    rule_set: RuleSet = RuleSet.EN16931,
    severity: Severity = Severity.ERROR,
    syntax: Syntax | None = None,
) -> Callable[[Check], Check]:
    """Register ``check`` under ``rule_id``; ``syntax`` limits it to UBL or CII documents."""

    def register(check: Check) -> Check:
        if any(r.id == rule_id and r.syntaxes & _syntaxes(syntax) for r in REGISTRY[rule_set]):
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_set].append(Rule(rule_id, bt, severity, rule_set, _syntaxes(syntax), check))
        return check

    return register


def _syntaxes(syntax: Syntax | None) -> frozenset[Syntax]:
    return frozenset(Syntax) if syntax is None else frozenset({syntax})


def rules_of(rule_set: RuleSet) -> list[Rule]:
    return list(REGISTRY[rule_set])


def run_rule_set(rule_set: RuleSet, ctx: RuleContext) -> list[Finding]:
    layer = _LAYERS[rule_set]
    findings: list[Finding] = []
    try:
        for registered in REGISTRY[rule_set]:
            if ctx.syntax not in registered.syntaxes:
                continue
            for hit in registered.check(ctx):
                findings.append(
                    Finding(
                        registered.id,
                        registered.severity,
                        hit.message,
                        layer,
                        registered.bt,
                        hit.location,
                    )
                )
    except MalformedValue as exc:
        message = _(
            "The check against {rules} stopped: the value '{raw}' is not a valid number or "
            "code, so no further business rule could be evaluated."
        ).format(rules=rule_set.value, raw=exc.raw.strip()[:80])
        return [Finding(_EXCEPTION_IDS[rule_set], Severity.ERROR, message, layer, None, exc.source)]
    return findings
