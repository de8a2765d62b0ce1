"""Severity overrides of the official XRechnung validator configuration (KoSIT).

KoSIT's ``scenarios.xml`` re-grades some CEN rules per scenario (``customLevel``): in the
XRechnung CIUS BR-CL-21/BR-CL-23 only warn; the XRechnung *extension* allows more codes and its
own prepaid-amount arithmetic (BR-DEX-09), so there BR-CO-16 and several code-list rules are
mere information. Other profiles keep the CEN severities.
"""

from __future__ import annotations

from dataclasses import replace

from belegwerk.einvoice.detect import Detection, Profile, Syntax
from belegwerk.einvoice.findings import Finding, Severity

WARN, INFO = Severity.WARNING, Severity.INFO
_XRECHNUNG = {"BR-CL-21": WARN, "BR-CL-23": WARN}
_EXTENSION_UBL = {
    "BR-CL-10": INFO,
    "BR-CL-11": INFO,
    "BR-CL-21": INFO,
    "BR-CL-23": WARN,
    "BR-CL-24": WARN,
    "BR-CL-25": INFO,
    "BR-CL-26": INFO,
    "BR-CO-16": INFO,
}
_EXTENSION_CII = {
    "BR-CL-10": INFO,
    "BR-CL-11": INFO,
    "BR-CL-21": INFO,
    "BR-CL-23": WARN,
    "BR-CL-25": INFO,
    "BR-CL-26": INFO,
}


def levels_for(detection: Detection) -> dict[str, Severity]:
    if detection.profile is not Profile.XRECHNUNG:
        return {}
    if not detection.xrechnung_extension:
        return _XRECHNUNG
    if detection.syntax is Syntax.UBL and not detection.credit_note_root:
        return _EXTENSION_UBL
    return _EXTENSION_CII if detection.syntax is Syntax.CII else _XRECHNUNG


def apply_levels(findings: list[Finding], detection: Detection) -> list[Finding]:
    levels = levels_for(detection)
    if not levels:
        return findings
    return [replace(f, severity=levels[f.rule]) if f.rule in levels else f for f in findings]
