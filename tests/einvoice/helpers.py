"""Own fixtures (two small valid XRechnung 3.0 invoices) and ways to break them in tests."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

FIXTURES = Path(__file__).parent / "fixtures"
NS = {
    "ubl": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
UBL = "xrechnung_ubl.xml"
CII = "xrechnung_cii.xml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def changed(name: str, change: Callable[[Any], None]) -> bytes:
    """The fixture after ``change(root)`` edited its tree."""
    root = etree.fromstring(fixture(name))
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def remove(path: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        for el in root.xpath(path, namespaces=NS):
            el.getparent().remove(el)

    return change


def set_text(path: str, text: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        found = root.xpath(path, namespaces=NS)
        assert found, path
        for el in found:
            el.text = text

    return change


def pdf(attachments: dict[str, bytes] | None = None, password: str | None = None) -> bytes:
    """A one-page PDF (reportlab) with the given embedded files (pypdf)."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen.canvas import Canvas

    page = io.BytesIO()
    canvas = Canvas(page)
    canvas.drawString(72, 720, "Rechnung RE-2026-00042")
    canvas.save()
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(page.getvalue())))
    for name, data in (attachments or {}).items():
        writer.add_attachment(name, data)
    if password is not None:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def set_attr(path: str, name: str, value: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        for el in root.xpath(path, namespaces=NS):
            el.set(name, value)

    return change
