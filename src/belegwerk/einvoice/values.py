"""Typed values of an e-invoice, each remembering where it stood in the XML.

A value keeps the text as written (``raw``) next to the parsed value: an amount that is no
``xs:decimal`` parses to ``None`` but is not lost, so a finding can quote it and point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from belegwerk.einvoice.findings import Location

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_XML_SPACE = " \t\r\n"


class MalformedValue(Exception):
    """A rule needed a number or date that the document does not spell correctly."""

    def __init__(self, raw: str, source: Location) -> None:
        super().__init__(f"{raw!r} at {source.xpath}")
        self.raw = raw
        self.source = source


def xml_strip(text: str) -> str:
    """Strip XML whitespace only (XPath ``normalize-space`` semantics at the ends)."""
    return text.strip(_XML_SPACE)


def parse_decimal(raw: str) -> Decimal | None:
    """``xs:decimal`` lexical space: optional sign, digits, optional point; no exponent."""
    text = xml_strip(raw)
    if not _DECIMAL.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def parse_boolean(raw: str) -> bool | None:
    """``xs:boolean``: true, false, 1, 0 (after whitespace collapse); anything else is None."""
    text = xml_strip(raw)
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    return None


def parse_date(raw: str, fmt: str | None = None) -> date | None:
    """UBL ``xs:date`` (YYYY-MM-DD, optional zone) or CII format 102 (YYYYMMDD)."""
    text = xml_strip(raw)
    try:
        if fmt == "102":
            if len(text) != 8 or not text.isdigit():
                return None
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if fmt is None and len(text) >= 10 and text[4] == "-" and text[7] == "-":
            rest = text[10:]
            if rest and not re.fullmatch(r"Z|[+-]\d\d:\d\d", rest):
                return None
            return date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None


@dataclass(slots=True)
class Text:
    """A text, code or identifier; ``scheme`` carries schemeID/listID where the syntax has one."""

    value: str  # trimmed of XML whitespace
    source: Location
    scheme: str | None = None

    @property
    def blank(self) -> bool:
        return not self.value


@dataclass(slots=True)
class Amount:
    value: Decimal | None  # None when ``raw`` is no xs:decimal
    raw: str
    source: Location
    currency: str | None = None

    def require(self) -> Decimal:
        if self.value is None:
            raise MalformedValue(self.raw, self.source)
        return self.value


@dataclass(slots=True)
class Quantity:
    value: Decimal | None
    raw: str
    source: Location
    unit: str | None = None  # UN/ECE Rec 20 unit code (BT-130, BT-150)

    def require(self) -> Decimal:
        if self.value is None:
            raise MalformedValue(self.raw, self.source)
        return self.value


@dataclass(slots=True)
class Day:
    value: date | None  # None when ``raw`` is not a date in the syntax's format
    raw: str
    source: Location
    format: str | None = None  # CII date format code (102 = YYYYMMDD)


@dataclass(slots=True)
class Flag:
    value: bool | None  # None when ``raw`` is no xs:boolean
    raw: str
    source: Location

    def require(self) -> bool:
        if self.value is None:
            raise MalformedValue(self.raw, self.source)
        return self.value


@dataclass(slots=True)
class Binary:
    """An embedded attachment (BT-125) with MIME code and file name, decoded from base64."""

    content: bytes | None  # None when the base64 text is broken
    mime_code: str | None
    filename: str | None
    source: Location
