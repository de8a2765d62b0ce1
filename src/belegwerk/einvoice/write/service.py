"""Write an e-invoice of a booked outgoing invoice, check it, archive it with the invoice.

Whatever is written goes through Belegwerk's own validator (file, XML, schema, every business
rule on main) before anyone sees it; a finding of severity *error* refuses the file with the
findings as details, so nothing invalid leaves the books. The written file is archived with the
invoice (``invoice_documents``, role ``xml`` or ``pdf``), where the AGENDA and GoBD exports find
it. An invoice is issued once: asking again for the same format returns the archived file byte
for byte, even if the master data changed since (GoBD: the invoice sent is the one kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.invoice_documents import attach_document, invoice_documents
from belegwerk.books.invoices import get_invoice
from belegwerk.books.models import Invoice
from belegwerk.core.errors import NotFound, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.einvoice.findings import Strictness
from belegwerk.einvoice.validate import validate_file
from belegwerk.einvoice.write.cii import to_cii
from belegwerk.einvoice.write.pdf import render_zugferd
from belegwerk.einvoice.write.source import Target, format_name, load_outgoing
from belegwerk.einvoice.write.ubl import to_ubl

MEDIA_TYPES = {Target.ZUGFERD: "application/pdf"}
ROLES = {Target.ZUGFERD: "pdf"}
SUFFIXES = {
    Target.XRECHNUNG_UBL: "_xrechnung-ubl.xml",
    Target.XRECHNUNG_CII: "_xrechnung-cii.xml",
    Target.ZUGFERD: "_zugferd.pdf",
}


@dataclass(frozen=True, slots=True)
class Written:
    content: bytes
    file_name: str
    media_type: str
    target: Target
    document_id: int
    sha256: str
    archived_before: bool  # True: the file was written earlier and comes from the archive


def file_name(number: str, target: Target) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in number)
    return f"{safe}{SUFFIXES[target]}"


def parse_target(value: str) -> Target:
    try:
        return Target(value.strip().lower())
    except ValueError:
        raise ValidationFailed(
            "einvoice.unknown_format",
            _("Unknown e-invoice format {value}. Allowed: {allowed}.").format(
                value=value, allowed=", ".join(t.value for t in Target)
            ),
            [{"field": "format", "value": value, "allowed": [t.value for t in Target]}],
        ) from None


def render(session: Session, tenant_id: int, invoice_id: int, target: Target) -> bytes:
    """The file of ``target`` as the books say it now (nothing archived, nothing checked)."""
    doc = load_outgoing(session, tenant_id, invoice_id, target)
    if target is Target.XRECHNUNG_UBL:
        return to_ubl(doc)
    xml = to_cii(doc, target)
    return render_zugferd(doc, xml) if target is Target.ZUGFERD else xml


def write_einvoice(
    session: Session, tenant_id: int, invoice_id: int, target: Target, actor: str = "local"
) -> Written:
    """The e-invoice of a booked outgoing invoice: from the archive if it was written before,
    else written, validated (errors refuse it) and archived with the invoice."""
    inv = get_invoice(session, tenant_id, invoice_id)
    name = file_name(inv.number or str(inv.id), target)
    media_type = MEDIA_TYPES.get(target, "application/xml")
    role = ROLES.get(target, "xml")
    for _role, document in invoice_documents(session, tenant_id, invoice_id, role):
        if document.file_name == name:
            return Written(
                document.content, name, media_type, target, document.id, document.sha256, True
            )
    content = render(session, tenant_id, invoice_id, target)
    report = validate_file(content, name, Strictness.STANDARD)
    errors = report.verdict.errors
    if report.error is not None or errors:
        problems = [f.to_dict() for f in errors] or [report.error.to_dict()["error"]]  # type: ignore[union-attr]
        first = errors[0] if errors else None
        raise ValidationFailed(
            "einvoice.written_invalid",
            _(
                "The {format} of invoice {number} would not be valid ({rule}: {message}); it "
                "was not issued."
            ).format(
                format=format_name(target),
                number=inv.number,
                rule=first.rule if first else "?",
                message=first.message if first else "",
            ),
            problems,
        )
    document = attach_document(
        session, tenant_id, invoice_id, content, name, media_type, role, actor
    )
    return Written(content, name, media_type, target, document.id, document.sha256, False)


def invoice_by_reference(session: Session, tenant_id: int, reference: str) -> Invoice:
    """An invoice by its number (``RE-2026-00001``) or its id."""
    text = reference.strip()
    found = session.scalar(
        select(Invoice).where(Invoice.tenant_id == tenant_id, Invoice.number == text)
    )
    if found is not None:
        return found
    if text.isdigit():
        return get_invoice(session, tenant_id, int(text))
    raise NotFound(
        "invoice.not_found",
        _("Invoice {id} not found.").format(id=text),
        [{"field": "invoice", "value": text}],
    )
