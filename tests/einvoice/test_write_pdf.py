"""The ZUGFeRD PDF: PDF/A-3 structure read back with pypdf, text with pdfplumber, pixels with
pdftoppm (poppler)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from belegwerk.core.db import session_factory
from belegwerk.einvoice.write.service import write_einvoice
from belegwerk.einvoice.write.source import Target
from tests.einvoice.writing import SELLER, booked_out, customer, line, seller_tenant


@pytest.fixture
def pdf_session(engine: Engine) -> Iterator[Session]:
    s = session_factory(engine)()
    yield s
    s.rollback()
    s.close()


def _zugferd(session: Session, tenant: int, **kw: object) -> bytes:
    session.info["tenant_id"] = tenant
    party = customer(session, tenant, **kw.pop("party", {}))  # type: ignore[arg-type]
    lines = kw.pop("lines", None) or [
        line("Beratung Datenschutz", "3.5", "119.99", unit="HUR"),
        line("Fachbuch „Recht“", "3", "19.95", "7"),
    ]
    inv = booked_out(session, tenant, party, lines, **kw)  # type: ignore[arg-type]
    return write_einvoice(session, tenant, inv.id, Target.ZUGFERD).content


def _text(pdf: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


def test_pdf_a3_structure(pdf_session: Session, make_tenant: Callable[..., int]) -> None:
    pdf = _zugferd(pdf_session, seller_tenant(make_tenant))
    assert pdf.startswith(b"%PDF-1.7\n%")
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted
    assert reader.trailer.get("/ID") is not None
    root = reader.trailer["/Root"]
    # the invoice XML: an associated file named factur-x.xml, relationship Alternative
    (spec,) = [a.get_object() for a in root["/AF"]]
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert spec["/AFRelationship"] == "/Alternative"
    embedded = spec["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/text/xml"
    assert etree.fromstring(embedded.get_data()).tag.endswith("}CrossIndustryInvoice")
    # output intent with an RGB ICC profile
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    icc = intent["/DestOutputProfile"].get_object()
    assert icc["/N"] == 3 and icc.get_data()[36:40] == b"acsp"
    # XMP: PDF/A-3b, Factur-X extension with profile EN 16931, unfiltered
    metadata = root["/Metadata"].get_object()
    assert "/Filter" not in metadata
    xmp = metadata.get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp
    assert "<fx:DocumentType>INVOICE</fx:DocumentType>" in xmp
    assert "pdfaExtension:schemas" in xmp
    # the information dictionary says only what the XMP says too, and the same
    info = reader.metadata
    assert info is not None
    assert set(info) <= {
        "/Title",
        "/Author",
        "/Subject",
        "/Creator",
        "/Producer",
        "/CreationDate",
        "/ModDate",
    }
    created = re.search(r"<xmp:CreateDate>(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)", xmp)
    assert created is not None and info["/CreationDate"].startswith(
        "D:" + "".join(created.groups())
    )
    producer = re.search(r"<pdf:Producer>([^<]*)<", xmp)
    assert producer is not None and info["/Producer"] == producer.group(1)
    # every font is embedded (no standard-14 font a reader would have to supply)
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert descriptor is not None, font["/BaseFont"]
            assert "/FontFile2" in descriptor.get_object(), font["/BaseFont"]


def test_pdf_reads_as_a_german_invoice(
    pdf_session: Session, make_tenant: Callable[..., int]
) -> None:
    pdf = _zugferd(pdf_session, seller_tenant(make_tenant), due_date=None)
    text = _text(pdf)
    for expected in (
        SELLER["name"],
        "Kunde AG",
        "Marktplatz 5",
        "80331 München",
        "Rechnung RE-2026-",
        "Rechnungsdatum 02.03.2026",
        "Beratung Datenschutz",
        "Fachbuch „Recht“",
        "3,5 Std.",
        "119,99 €",
        "Umsatzsteuer 19 % auf 419,97 €",
        "Umsatzsteuer 7 % auf 59,85 €",
        "Rechnungsbetrag",
        "Zahlbar sofort ohne Abzug.",
        "IBAN DE02 1203 0000 0000 2020 51",
        "USt-IdNr. DE136695976",
        "Steuernummer 2893081508152",
    ):
        assert expected in text, expected
    # 3.5 × 119.99 = 419.965 → 419.97 (+ 79.79 VAT); 3 × 19.95 = 59.85 (+ 4.19 VAT)
    assert "Summe netto 479,82 €" in text
    assert "Rechnungsbetrag 563,80 €" in text


def test_small_business_pdf_shows_the_section_19_note(
    pdf_session: Session, make_tenant: Callable[..., int]
) -> None:
    tenant = seller_tenant(make_tenant, vat_regime="small_business", vat_id="")
    text = _text(_zugferd(pdf_session, tenant, lines=[line("Logo-Entwurf", "1", "480", "0")]))
    assert "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet." in text
    assert "Umsatzsteuer 0" not in text
    assert "Rechnungsbetrag 480,00 €" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_pdf_renders(pdf_session: Session, make_tenant: Callable[..., int], tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "invoice.pdf"
    path.write_bytes(_zugferd(pdf_session, seller_tenant(make_tenant)))
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    image = Image.open(tmp_path / "page.png").convert("L")
    assert image.size[0] < image.size[1]  # A4 portrait
    dark = image.point(lambda v: 255 if v < 128 else 0).histogram()[255]
    assert dark > 500  # text was drawn
