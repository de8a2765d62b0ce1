"""AGENDA export: Buchungsstapel plus voucher files, PDF and XML of an invoice side by side."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import date

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy.orm import Session

from belegwerk.books.invoice_documents import attach_document
from belegwerk.core.errors import Conflict
from belegwerk.exports.agenda import export_agenda
from belegwerk.exports.models import ExportLog
from tests.exports.books import YEAR, book_year
from tests.exports.extf import check_booking_file, unquote

FROM, TO = date(YEAR, 1, 1), date(YEAR, 12, 31)
XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><rsm:CrossIndustryInvoice xmlns:rsm='
    b'"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'
)


def pdf(title: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, title)
    page.save()
    return buffer.getvalue()


def test_agenda_zip_pairs_vouchers_with_booking_lines(session: Session, tenant_id: int) -> None:
    books = book_year(session, tenant_id)
    sale_pdf, sale_xml = pdf("Rechnung RE-2025-00001"), XML
    attach_document(
        session, tenant_id, books.sale_19, sale_pdf, "rechnung.pdf", "application/pdf", "pdf"
    )
    attach_document(
        session, tenant_id, books.sale_19, sale_xml, "factur-x.xml", "application/xml", "xml"
    )
    received = XML.replace(b"/>", b"><!-- received --></rsm:CrossIndustryInvoice>")
    attach_document(
        session, tenant_id, books.office, received, "xrechnung.xml", "application/xml", "original"
    )
    with pytest.raises(Conflict) as refused:
        export_agenda(session, tenant_id, FROM, TO)
    missing = next(d for d in refused.value.details if d["code"] == "agenda.missing_vouchers")
    assert missing["count"] == 4  # RE-…02, ER-…02, RE-…03 and its Storno RE-…04
    assert "RE-2025-00002" in missing["message"]

    export = export_agenda(session, tenant_id, FROM, TO, confirm_warnings=True)
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    names = set(archive.namelist())
    assert {
        "EXTF_Buchungsstapel_20250101-20251231.csv",
        "Belege/RE-2025-00001.pdf",
        "Belege/RE-2025-00001.xml",
        "Belege/ER-2025-00001.xml",
        "Belege/Belegverzeichnis.csv",
    } == names
    assert archive.read("Belege/RE-2025-00001.pdf") == sale_pdf
    assert archive.read("Belege/RE-2025-00001.xml") == sale_xml
    assert archive.read("Belege/ER-2025-00001.xml") == received

    rows = check_booking_file(archive.read("EXTF_Buchungsstapel_20250101-20251231.csv")).rows
    sale = next(r for r in rows if unquote(r[10]) == "RE-2025-00001" and r[7] == "8400")
    assert sale[19] == '""'  # no BEDI Beleglink: AGENDA links by the voucher number
    assert unquote(sale[20]) == "Belegdatei"
    assert unquote(sale[21]) == "RE-2025-00001.pdf, RE-2025-00001.xml"

    directory = archive.read("Belege/Belegverzeichnis.csv").decode("cp1252")
    listed = list(csv.reader(io.StringIO(directory), delimiter=";"))
    assert listed[0][:3] == ["Belegnummer", "Rechnungsdatum", "Datei"]
    by_path = {r[2]: r for r in listed[1:]}
    assert by_path["Belege/RE-2025-00001.pdf"][4] == hashlib.sha256(sale_pdf).hexdigest()
    assert by_path["Belege/ER-2025-00001.xml"][3] == "original"

    entry = session.get(ExportLog, export.log_id)
    assert entry is not None and entry.kind == "agenda"
    assert entry.sha256 == hashlib.sha256(export.content).hexdigest()
    assert "agenda.missing_vouchers" in entry.warnings
