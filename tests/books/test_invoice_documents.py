"""Files linked to invoices: archived once, linked per role, never changed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books.invoice_documents import attach_document, invoice_documents
from belegwerk.core.errors import NotFound
from tests.books.test_payments import booked_invoice


def test_attach_and_list(session: Session, tenant_id: int) -> None:
    inv = booked_invoice(session, tenant_id, direction="in")
    xml = b"<Invoice/>"
    doc = attach_document(
        session, tenant_id, inv.id, xml, "r1.xml", "application/xml", role="original"
    )
    again = attach_document(
        session, tenant_id, inv.id, xml, "r1.xml", "application/xml", role="original"
    )
    assert again.id == doc.id
    attach_document(session, tenant_id, inv.id, b"%PDF-1.7", "r1.pdf", "application/pdf", "pdf")
    listed = invoice_documents(session, tenant_id, inv.id)
    assert [(role, d.file_name) for role, d in listed] == [
        ("original", "r1.xml"),
        ("pdf", "r1.pdf"),
    ]
    assert [d.content for _r, d in invoice_documents(session, tenant_id, inv.id, "pdf")] == [
        b"%PDF-1.7"
    ]


def test_unknown_invoice_and_role(session: Session, tenant_id: int) -> None:
    with pytest.raises(NotFound):
        attach_document(session, tenant_id, 999_999, b"x", "x.xml", "application/xml", "original")
    inv = booked_invoice(session, tenant_id)
    with pytest.raises(ValueError):
        attach_document(session, tenant_id, inv.id, b"x", "x.xml", "application/xml", "other")


def test_links_are_immutable(session: Session, tenant_id: int) -> None:
    inv = booked_invoice(session, tenant_id)
    attach_document(session, tenant_id, inv.id, b"<x/>", "x.xml", "application/xml", "xml")
    session.flush()
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(text("DELETE FROM invoice_documents"))
