"""What validation reports: findings with rule id, severity, business term and location.

A finding names the rule as the official rule sets do (``BR-CO-15``, ``BR-DE-1``, ``XSD``, …),
so a user can compare our verdict with KoSIT's or Mustang's line by line. The verdict honours the
strictness the user chose (strict: warnings block too; standard: errors block; flexible: nothing
blocks, everything is only reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "information"  # reported, never blocking (KoSIT's custom level "information")


class Strictness(StrEnum):
    STRICT = "strict"
    STANDARD = "standard"
    FLEXIBLE = "flexible"


class Layer(StrEnum):
    """Where a finding comes from, in the order the layers run."""

    CARRIER = "carrier"  # the file: PDF container, embedded XML
    XML = "xml"  # well-formed and secure XML
    XSD = "xsd"  # the schema of the syntax or profile
    EN16931 = "en16931"  # CEN business rules
    CIUS = "cius"  # XRechnung BR-DE-* and other national rules
    PROFILE = "profile"  # ZUGFeRD / Factur-X profile rules


@dataclass(slots=True)
class Location:
    """Where in the XML: an XPath with prefixes (``/ubl:Invoice/cac:InvoiceLine[2]/cbc:ID``)
    and the source line, when the parser knows it."""

    xpath: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"xpath": self.xpath, "line": self.line}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str  # German (or the request's language)
    layer: Layer
    bt: str | None = None  # the business term or group concerned, e.g. "BT-112" or "BG-23"
    location: Location | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "bt": self.bt,
            "message": self.message,
            "location": self.location.to_dict() if self.location else None,
        }


@dataclass(slots=True)
class Verdict:
    """All findings of one document and what they mean under a strictness."""

    findings: list[Finding] = field(default_factory=list)
    strictness: Strictness = Strictness.STANDARD

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.INFO]

    @property
    def valid(self) -> bool:
        """Valid in the sense of the standard: no errors (warnings allowed)."""
        return not self.errors

    @property
    def accepted(self) -> bool:
        """May the document be imported under the chosen strictness?"""
        if self.strictness is Strictness.FLEXIBLE:
            return True
        if self.strictness is Strictness.STRICT:
            return not self.errors and not self.warnings
        return self.valid

    def rule_ids(self, severity: Severity = Severity.ERROR) -> set[str]:
        return {f.rule for f in self.findings if f.severity is severity}
