"""AGENDA export: the DATEV Buchungsstapel plus the invoices' voucher files in one ZIP.

AGENDA FIBU reads DATEV-format Buchungsstapel through its "DATEV-Import-Assistent"
(AGENDA → Transfer); the vouchers travel with it in the same folder. Vouchers and booking
lines are tied by the voucher number: every invoice's files are named after its number, the
"Belegfeld 1" of its booking lines (``Belege/RE-2026-00001.pdf`` and ``.xml`` side by side),
and the line names its files in "Beleginfo 1" ("Belegdatei"). The "Beleglink" field stays
empty: its ``BEDI`` links point into DATEV's document store and AGENDA expects it blank.

Files come from the invoice documents (:mod:`belegwerk.books.invoice_documents`): the written
PDF and XML, a received original (PDF or XML by its type), corrected copies and attachments.
Invoices of the period without any file are listed as warnings. ``Belegverzeichnis.csv`` lists
every file with its SHA-256 and invoice.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.models import Invoice, InvoiceDocument, Posting
from belegwerk.core.documents import Document
from belegwerk.core.i18n import _, format_date
from belegwerk.exports import datev_format as fmt
from belegwerk.exports.datev_export import deliver, file_name, prepare, render
from belegwerk.exports.service import ExportFile, require_clean

FOLDER = "Belege"
MEDIA_TYPE = "application/zip"
_EXTENSIONS = {"application/pdf": "pdf", "application/xml": "xml", "text/xml": "xml"}


@dataclass(frozen=True)
class VoucherFile:
    invoice_number: str
    path: str  # inside the ZIP
    role: str
    document: Document


def _extension(document: Document) -> str:
    suffix = document.file_name.rsplit(".", 1)[-1].lower() if "." in document.file_name else ""
    if suffix.isalnum() and 0 < len(suffix) <= 5:
        return suffix
    return _EXTENSIONS.get(document.media_type.split(";")[0].strip().lower(), "bin")


def voucher_files(
    session: Session, tenant_id: int, start: date, end: date
) -> tuple[list[VoucherFile], list[Invoice]]:
    """The files of the invoices booked in the period, and the invoices that have none."""
    invoice_ids = select(Posting.source_id).where(
        Posting.tenant_id == tenant_id,
        Posting.source_type == "invoice",
        Posting.posting_date.between(start, end),
    )
    invoices = list(
        session.scalars(
            select(Invoice)
            .where(Invoice.tenant_id == tenant_id, Invoice.id.in_(invoice_ids))
            .order_by(Invoice.issue_date, Invoice.id)
        )
    )
    links = session.execute(
        select(InvoiceDocument.invoice_id, InvoiceDocument.role, Document)
        .join(Document, Document.id == InvoiceDocument.document_id)
        .where(
            InvoiceDocument.tenant_id == tenant_id,
            InvoiceDocument.invoice_id.in_([i.id for i in invoices]),
        )
        .order_by(InvoiceDocument.id)
    ).all()
    by_invoice: dict[int, list[tuple[str, Document]]] = {}
    for invoice_id, role, document in links:
        by_invoice.setdefault(invoice_id, []).append((role, document))
    files: list[VoucherFile] = []
    missing: list[Invoice] = []
    for invoice in invoices:
        attached = by_invoice.get(invoice.id, [])
        if not attached:
            missing.append(invoice)
            continue
        base = fmt.voucher_field(invoice.number or f"ID{invoice.id}")
        taken: set[str] = set()
        # The written PDF/XML first, so they get the plain names; then the rest.
        order = {"pdf": 0, "xml": 0, "original": 1, "corrected": 2, "attachment": 3}
        for role, document in sorted(attached, key=lambda item: order.get(item[0], 4)):
            ext = _extension(document)
            name = f"{base}.{ext}"
            n = 1
            while name in taken:
                n += 1
                name = f"{base}_{role}_{n}.{ext}" if role != "original" else f"{base}_{n}.{ext}"
            taken.add(name)
            files.append(VoucherFile(invoice.number or "", f"{FOLDER}/{name}", role, document))
    return files, missing


def _directory(files: list[VoucherFile], invoices: dict[str, Invoice]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator=fmt.NEWLINE)
    writer.writerow(["Belegnummer", "Rechnungsdatum", "Datei", "Rolle", "SHA-256", "Bytes"])
    for f in files:
        invoice = invoices.get(f.invoice_number)
        writer.writerow(
            [
                f.invoice_number,
                invoice.issue_date.strftime("%d.%m.%Y") if invoice else "",
                f.path,
                f.role,
                f.document.sha256,
                f.document.size,
            ]
        )
    return out.getvalue().encode(fmt.ENCODING, "belegwerk-cp1252")


def export_agenda(
    session: Session,
    tenant_id: int,
    start: date,
    end: date,
    *,
    actor: str = "local",
    confirm_warnings: bool = False,
) -> ExportFile:
    """Check, write and log the AGENDA ZIP of ``start`` … ``end``."""
    files, missing = voucher_files(session, tenant_id, start, end)
    names: dict[str, list[str]] = {}
    for f in files:
        names.setdefault(f.invoice_number, []).append(f.path.removeprefix(f"{FOLDER}/"))
    prepared = prepare(session, tenant_id, start, end, voucher_files=names)
    for invoice in missing:
        prepared.findings.add(
            "warning",
            "agenda.missing_vouchers",
            _("Invoices of the period have no voucher file (first: {number} of {date}).").format(
                number=invoice.number, date=format_date(invoice.issue_date)
            ),
            {"invoice_id": invoice.id, "number": invoice.number},
        )
    require_clean(prepared.findings, confirm_warnings, _("AGENDA export"))
    csv_name = file_name(prepared.period)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(csv_name, render(prepared, actor))
        for f in files:
            archive.writestr(f.path, f.document.content)
        invoices = {
            i.number or "": i
            for i in session.scalars(
                select(Invoice).where(
                    Invoice.tenant_id == tenant_id,
                    Invoice.number.in_([f.invoice_number for f in files]),
                )
            )
        }
        archive.writestr(f"{FOLDER}/Belegverzeichnis.csv", _directory(files, invoices))
    content = buffer.getvalue()
    name = f"AGENDA_{prepared.period.start:%Y%m%d}-{prepared.period.end:%Y%m%d}.zip"
    return deliver(session, tenant_id, prepared, "agenda", name, content, MEDIA_TYPE, actor)
