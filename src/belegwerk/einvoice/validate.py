"""Validate one file in layers: carrier (PDF) → secure XML → detection → XSD → model → rules.

``validate_file`` never raises for bad content: a file that cannot be read at all (not XML or
PDF, too large, password-protected or corrupt PDF, XML that is no invoice) comes back as a
report with ``error`` set; everything else gets a verdict with findings. Rules keep running
after a schema violation, as the official validators do, so a user sees every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.safe_xml import parse_xml
from belegwerk.einvoice import rules as _rules  # noqa: F401  (registers the rules)
from belegwerk.einvoice.carrier import MAX_FILE_BYTES, Container, Payload, open_carrier
from belegwerk.einvoice.detect import Detection, Dialect, Format, Profile, detect
from belegwerk.einvoice.findings import Finding, Layer, Location, Severity, Strictness, Verdict
from belegwerk.einvoice.model import Invoice
from belegwerk.einvoice.parse_cii import D16B, ZUGFERD1, parse_cii
from belegwerk.einvoice.parse_ubl import NS as UBL_NS
from belegwerk.einvoice.parse_ubl import parse_ubl
from belegwerk.einvoice.rules.levels import apply_levels
from belegwerk.einvoice.rules.registry import RuleContext, RuleSet, run_rule_set
from belegwerk.einvoice.xsd import validate_schema

_XML_RULES = {
    "einvoice.xml_invalid": "XML-NOT-WELLFORMED",
    "einvoice.xml_doctype": "XML-DOCTYPE",
    "einvoice.xml_too_deep": "XML-TOO-DEEP",
}


@dataclass(slots=True)
class Report:
    """The result for one file."""

    file: str
    verdict: Verdict
    container: Container | None = None
    detection: Detection | None = None
    invoice: Invoice | None = None
    notes: list[str] = field(default_factory=list)
    error: ValidationFailed | None = None  # the file could not be read at all

    @property
    def readable(self) -> bool:
        return self.error is None


def validate_file(
    content: bytes, file_name: str, strictness: Strictness = Strictness.STANDARD
) -> Report:
    report = Report(file_name, Verdict(strictness=strictness))
    try:
        payload = open_carrier(content, file_name)
        report.container = payload.container
        root = _xml_root(payload, file_name, report)
        if root is None:
            return report
        detection = detect(root, file_name)
        if payload.container is Container.PDF and detection.profile is Profile.EN16931:
            detection = replace(detection, format=Format.FACTUR_X)  # a PDF/A-3 with CII is one
        report.detection = detection
    except ValidationFailed as exc:
        report.error = exc
        return report
    if detection.note:
        report.notes.append(detection.note)
    findings = report.verdict.findings
    findings.extend(validate_schema(root, detection, _prefixes(detection)))
    report.invoice = invoice = _parse(root, detection)
    if detection.en16931_compliant:
        found = run_rule_set(RuleSet.EN16931, RuleContext(invoice, detection, root))
        findings.extend(apply_levels(found, detection))
    return report


def _xml_root(payload: Payload, file_name: str, report: Report) -> Any:
    """The parsed root, or None after recording a carrier/XML finding."""
    findings = report.verdict.findings
    if payload.xml is None:
        findings.append(
            Finding(
                "PDF-NO-XML",
                Severity.ERROR,
                _(
                    "The PDF contains no e-invoice (no embedded factur-x.xml, "
                    "zugferd-invoice.xml or xrechnung.xml); it can only be entered manually."
                ),
                Layer.CARRIER,
            )
        )
        report.notes.append(_("A PDF without invoice data: for manual entry."))
        return None
    if payload.conflict:
        findings.append(
            Finding(
                "PDF-XML-CONFLICT",
                Severity.ERROR,
                _(
                    "The PDF contains several invoice XMLs that disagree ({names}); it is "
                    "unclear which one is the invoice."
                ).format(names=", ".join(payload.conflict)),
                Layer.CARRIER,
            )
        )
        return None
    source = f"{file_name} ({payload.xml_name})" if payload.xml_name else file_name
    try:
        return parse_xml(payload.xml, source, max_bytes=MAX_FILE_BYTES, code_prefix="einvoice")
    except ValidationFailed as exc:
        rule_id = _XML_RULES.get(exc.code)
        if rule_id is None:
            raise
        line = exc.details[0].get("line") if exc.details else None
        location = Location("/", line if isinstance(line, int) else None)
        findings.append(Finding(rule_id, Severity.ERROR, exc.message, Layer.XML, None, location))
        return None


def _parse(root: Any, detection: Detection) -> Invoice:
    if detection.dialect is Dialect.UBL:
        return parse_ubl(root, detection.credit_note_root)
    return parse_cii(root, ZUGFERD1 if detection.dialect is Dialect.ZF1 else D16B)


def _prefixes(detection: Detection) -> dict[str, str]:
    if detection.dialect is Dialect.UBL:
        return UBL_NS
    return (ZUGFERD1 if detection.dialect is Dialect.ZF1 else D16B).ns
