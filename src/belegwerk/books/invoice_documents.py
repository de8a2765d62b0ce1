"""Files of an invoice: received originals, written PDF/XML, corrected copies, attachments.

The bytes live once per tenant in ``documents`` (SHA-256, immutable); this module links them to
invoices. E-invoice import archives the original here, the e-invoice writer its PDF and XML, and
the exports (AGENDA, GDPdU) read them back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.invoices import get_invoice
from belegwerk.books.models import InvoiceDocument
from belegwerk.core.audit import audit_writer
from belegwerk.core.documents import Document, store_document

ROLES = ("original", "pdf", "xml", "corrected", "attachment")


def attach_document(
    session: Session,
    tenant_id: int,
    invoice_id: int,
    content: bytes,
    file_name: str,
    media_type: str,
    role: str,
    actor: str = "local",
) -> Document:
    """Archive ``content`` (once per tenant) and link it to the invoice in ``role``; linking the
    same file in the same role twice is a no-op."""
    if role not in ROLES:
        raise ValueError(f"unknown invoice document role {role!r}")
    get_invoice(session, tenant_id, invoice_id)
    document, _new = store_document(session, tenant_id, content, file_name, media_type, actor)
    linked = session.scalar(
        select(InvoiceDocument.id).where(
            InvoiceDocument.tenant_id == tenant_id,
            InvoiceDocument.invoice_id == invoice_id,
            InvoiceDocument.document_id == document.id,
            InvoiceDocument.role == role,
        )
    )
    if linked is None:
        link = InvoiceDocument(
            tenant_id=tenant_id,
            invoice_id=invoice_id,
            document_id=document.id,
            role=role,
            created_by=actor,
        )
        session.add(link)
        session.flush()
        audit_writer(session, tenant_id, actor).record(
            "attach",
            "invoice_document",
            link.id,
            after={
                "invoice_id": invoice_id,
                "document_id": document.id,
                "role": role,
                "file_name": document.file_name,
                "sha256": document.sha256,
            },
        )
    return document


def invoice_documents(
    session: Session, tenant_id: int, invoice_id: int, role: str | None = None
) -> list[tuple[str, Document]]:
    """(role, document) of an invoice in the order they were attached."""
    query = (
        select(InvoiceDocument.role, Document)
        .join(Document, Document.id == InvoiceDocument.document_id)
        .where(InvoiceDocument.tenant_id == tenant_id, InvoiceDocument.invoice_id == invoice_id)
        .order_by(InvoiceDocument.id)
    )
    if role is not None:
        query = query.where(InvoiceDocument.role == role)
    return [(r, doc) for r, doc in session.execute(query)]
