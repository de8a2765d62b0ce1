"""Reports as JSON data (CLI ``--json`` and the API) and as a readable German summary."""

from __future__ import annotations

from typing import Any

from belegwerk.core.i18n import _, ngettext
from belegwerk.einvoice.detect import Detection, Format
from belegwerk.einvoice.findings import Finding, Severity
from belegwerk.einvoice.validate import Report


def format_label(detection: Detection) -> str:
    """``XRechnung 3.0 (UBL)``, ``ZUGFeRD 2 / Factur-X EN16931 (CII)`` …"""
    if detection.format is Format.XRECHNUNG:
        name = f"XRechnung {detection.xrechnung_version or ''}".rstrip()
        if detection.xrechnung_extension:
            name += " " + _("Extension")
    elif detection.format is Format.ZUGFERD_1:
        name = f"ZUGFeRD 1.0 {detection.profile.value.removeprefix('ZF1-')}"
    elif detection.format is Format.FACTUR_X:
        name = f"ZUGFeRD 2 / Factur-X {detection.profile.value}"
    else:
        name = "EN 16931" if detection.spec_id else _("EN 16931 syntax without specification id")
    return f"{name} ({detection.syntax.value})"


def report_dict(report: Report) -> dict[str, Any]:
    """One file's result: ``file, format, container, syntax, profile, xrechnung_version, valid,
    accepted, strictness, errors, warnings, information, notes`` (and ``error`` when the file
    could not be read)."""
    detection = report.detection
    verdict = report.verdict
    data: dict[str, Any] = {
        "file": report.file,
        "format": detection.format.value if detection else None,
        "container": report.container.value if report.container else None,
        "syntax": detection.syntax.value if detection else None,
        "profile": detection.profile.value if detection else None,
        "xrechnung_version": detection.xrechnung_version if detection else None,
        "valid": verdict.valid if report.readable else None,
        "accepted": verdict.accepted if report.readable else None,
        "strictness": verdict.strictness.value,
        "errors": [f.to_dict() for f in verdict.errors],
        "warnings": [f.to_dict() for f in verdict.warnings],
        "information": [f.to_dict() for f in verdict.infos],
        "notes": list(report.notes),
    }
    if report.error is not None:
        data["error"] = report.error.to_dict()["error"]
    return data


def summary_lines(report: Report) -> list[str]:
    """A few German lines for a terminal: the verdict, then each finding with its place."""
    if report.error is not None:
        return [
            _("{file}: cannot be read – {message}").format(
                file=report.file, message=report.error.message
            )
        ]
    verdict = report.verdict
    label = format_label(report.detection) if report.detection else report.container or ""
    if verdict.valid:
        state = _("valid") if verdict.accepted else _("valid, but not accepted (strict)")
    else:
        state = _("invalid") if not verdict.accepted else _("invalid, accepted (flexible)")
    counts = (
        ngettext("{n} error", "{n} errors", len(verdict.errors)).format(n=len(verdict.errors))
        + ", "
        + ngettext("{n} warning", "{n} warnings", len(verdict.warnings)).format(
            n=len(verdict.warnings)
        )
    )
    lines = [f"{report.file}: {state} – {label}; {counts}".rstrip()]
    lines.extend(f"  {note}" for note in report.notes)
    lines.extend(_finding_line(f) for f in verdict.findings)
    return lines


def _finding_line(finding: Finding) -> str:
    kind = {
        Severity.ERROR: _("Error"),
        Severity.WARNING: _("Warning"),
        Severity.INFO: _("Information"),
    }[finding.severity]
    term = f" ({finding.bt})" if finding.bt else ""
    where = ""
    if finding.location is not None and finding.location.line:
        place = _("line {line}: {xpath}").format(
            line=finding.location.line, xpath=finding.location.xpath
        )
        where = f" [{place}]"
    elif finding.location is not None:
        where = f" [{finding.location.xpath}]"
    return f"  {kind} {finding.rule}{term}: {finding.message}{where}"
