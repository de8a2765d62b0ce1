"""Which e-invoice is this? Syntax from the root element and namespace, profile from the
specification identifier (BT-24: UBL ``CustomizationID``, CII guideline ID) — never guessed.

Profile names follow the official verdicts: MINIMUM, BASIC-WL, BASIC, EN16931, EXTENDED,
XRECHNUNG (with its version), OTHER-CIUS for any other specification identifier, NONE when the
document has none, and ZF1-BASIC / ZF1-COMFORT / ZF1-EXTENDED for ZUGFeRD 1.0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.einvoice.values import xml_strip

UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CII = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
ZF1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RAM_ZF1 = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"


class Syntax(StrEnum):
    UBL = "UBL"
    CII = "CII"


class Dialect(StrEnum):
    """CII comes in two element vocabularies: D16B (ZUGFeRD 2, Factur-X, XRechnung) and the
    older one of ZUGFeRD 1.0."""

    UBL = "UBL"
    CII = "CII"
    ZF1 = "ZF1"


class Profile(StrEnum):
    MINIMUM = "MINIMUM"
    BASIC_WL = "BASIC-WL"
    BASIC = "BASIC"
    EN16931 = "EN16931"
    EXTENDED = "EXTENDED"
    XRECHNUNG = "XRECHNUNG"
    OTHER_CIUS = "OTHER-CIUS"
    NONE = "NONE"
    ZF1_BASIC = "ZF1-BASIC"
    ZF1_COMFORT = "ZF1-COMFORT"
    ZF1_EXTENDED = "ZF1-EXTENDED"


class Format(StrEnum):
    XRECHNUNG = "XRECHNUNG"
    ZUGFERD_1 = "ZUGFERD-1"
    FACTUR_X = "FACTUR-X"  # ZUGFeRD 2.x and Factur-X: the same CII profiles
    EN16931 = "EN16931"  # plain EN 16931 UBL/CII, or another CIUS such as Peppol BIS


# The Factur-X / ZUGFeRD 2 profile ids (2.0 spelled them with urn:zugferd.de:2p0).
_FACTUR_X_IDS = {
    "urn:factur-x.eu:1p0:minimum": Profile.MINIMUM,
    "urn:zugferd.de:2p0:minimum": Profile.MINIMUM,
    "urn:factur-x.eu:1p0:basicwl": Profile.BASIC_WL,
    "urn:zugferd.de:2p0:basicwl": Profile.BASIC_WL,
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic": Profile.BASIC,
    "urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic": Profile.BASIC,
    "urn:cen.eu:en16931:2017": Profile.EN16931,
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended": Profile.EXTENDED,
    "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended": Profile.EXTENDED,
    "urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr": Profile.EXTENDED,
}
_ZF1_PROFILES = {
    "basic": Profile.ZF1_BASIC,
    "comfort": Profile.ZF1_COMFORT,
    "extended": Profile.ZF1_EXTENDED,
}
_XR_VERSION = re.compile(r"xrechnung_(\d+)\.(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Detection:
    syntax: Syntax
    dialect: Dialect
    profile: Profile
    format: Format
    spec_id: str  # BT-24 as written (whitespace trimmed)
    credit_note_root: bool = False  # UBL CreditNote
    xrechnung_version: str | None = None  # "3.0", "2.3" …
    xrechnung_extension: bool = False
    note: str | None = None  # a German remark, e.g. an unknown specification identifier

    @property
    def en16931_compliant(self) -> bool:
        """Documents the CEN rules apply to: all but the ZUGFeRD/Factur-X profiles below or
        beside EN 16931 (MINIMUM, BASIC WL, EXTENDED in CII) and ZUGFeRD 1.0."""
        if self.dialect is Dialect.ZF1:
            return False
        if self.syntax is Syntax.UBL:
            return True
        return self.profile not in (Profile.MINIMUM, Profile.BASIC_WL, Profile.EXTENDED)


def detect(root: Any, file_name: str) -> Detection:
    """Detect syntax and profile; ValidationFailed ``einvoice.unknown_document`` otherwise."""
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace, _sep, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if (namespace, local) == (UBL_INVOICE, "Invoice"):
        spec = _text(root.find(f"{{{CBC}}}CustomizationID"))
        return _classify(Syntax.UBL, Dialect.UBL, spec)
    if (namespace, local) == (UBL_CREDIT_NOTE, "CreditNote"):
        spec = _text(root.find(f"{{{CBC}}}CustomizationID"))
        return replace(_classify(Syntax.UBL, Dialect.UBL, spec), credit_note_root=True)
    if (namespace, local) == (CII, "CrossIndustryInvoice"):
        context = root.find(f"{{{CII}}}ExchangedDocumentContext")
        spec = _text(_guideline(context, RAM))
        return _classify(Syntax.CII, Dialect.CII, spec)
    if (namespace, local) == (ZF1, "CrossIndustryDocument"):
        context = root.find(f"{{{ZF1}}}SpecifiedExchangedDocumentContext")
        spec = _text(_guideline(context, RAM_ZF1))
        return _classify_zf1(spec)
    raise ValidationFailed(
        "einvoice.unknown_document",
        _(
            "The file {name} is XML, but no invoice in a format Belegwerk knows (UBL Invoice or "
            "CreditNote, UN/CEFACT CII, ZUGFeRD 1.0); its root element is {root}."
        ).format(name=file_name, root=local or "?"),
        [{"file": file_name, "root": local, "namespace": namespace}],
    )


def _guideline(context: Any, ram: str) -> Any:
    if context is None:
        return None
    param = context.find(f"{{{ram}}}GuidelineSpecifiedDocumentContextParameter")
    return None if param is None else param.find(f"{{{ram}}}ID")


def _text(el: Any) -> str:
    return "" if el is None else xml_strip("".join(el.itertext()))


def _classify(syntax: Syntax, dialect: Dialect, spec: str) -> Detection:
    if not spec:
        return Detection(syntax, dialect, Profile.NONE, Format.EN16931, spec)
    if "xrechnung" in spec.lower():
        match = _XR_VERSION.search(spec)
        version = f"{match.group(1)}.{match.group(2)}" if match else None
        extension = "#conformant#" in spec and "extension" in spec.lower()
        return Detection(
            syntax, dialect, Profile.XRECHNUNG, Format.XRECHNUNG, spec, False, version, extension
        )
    profile = _FACTUR_X_IDS.get(spec)
    if profile is Profile.EN16931:
        return Detection(syntax, dialect, profile, Format.EN16931, spec)
    if profile is not None:
        fmt = Format.FACTUR_X if syntax is Syntax.CII else Format.EN16931
        return Detection(syntax, dialect, profile, fmt, spec)
    note = _(
        "The specification identifier (BT-24) {spec} names no profile Belegwerk knows; the "
        "document is checked against EN 16931 only."
    ).format(spec=spec)
    return Detection(syntax, dialect, Profile.OTHER_CIUS, Format.EN16931, spec, note=note)


def _classify_zf1(spec: str) -> Detection:
    suffix = spec.rsplit(":", 1)[-1].lower() if spec.startswith("urn:ferd:") else ""
    profile = _ZF1_PROFILES.get(suffix)
    if profile is None:
        note = _(
            "The ZUGFeRD 1.0 document names no known profile (BT-24: {spec}); it is checked "
            "against the ZUGFeRD 1.0 schema only."
        ).format(spec=spec or "–")
        return Detection(
            Syntax.CII, Dialect.ZF1, Profile.ZF1_EXTENDED, Format.ZUGFERD_1, spec, note=note
        )
    return Detection(Syntax.CII, Dialect.ZF1, profile, Format.ZUGFERD_1, spec)
