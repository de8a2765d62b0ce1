"""Small helpers shared by the UBL and CII writers: elements and the lexical form of values."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from lxml import etree

from belegwerk.core.money import CENT


def amount(value: Decimal) -> str:
    """An amount with exactly two places (BR-DEC-*)."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}"


def number(value: Decimal) -> str:
    """A quantity, price or rate without trailing zeros and never in exponent notation."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def date_102(value: date) -> str:
    """UN/CEFACT date format 102 (CII): YYYYMMDD."""
    return value.strftime("%Y%m%d")


def sub(parent: Any, tag: str, text: str | None = None, **attrib: str) -> Any:
    """A child element ``tag`` (Clark notation) with optional text and attributes."""
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def serialize(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
