"""The filled form as PDF, rendered and read back (pdfplumber for the text, pdftoppm for pixels)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy.orm import Session

from belegwerk.tax.eks import inputs
from belegwerk.tax.eks.form import form_for
from belegwerk.tax.eks.pdf import render_pdf
from belegwerk.tax.eks.period import parse_period
from belegwerk.tax.eks.service import Report, build_report
from tests.tax.eks_scenario import book_scenario, final_mask


def report_for(session: Session, tenant_id: int, start: str, end: str, kind: str) -> Report:
    period = parse_period(start, end)
    form = form_for(period.start)
    mask = inputs.parse_mask(form, period, final_mask() if kind == "final" else {})
    inputs.save_mask(session, tenant_id, period, kind, mask, form)
    return build_report(session, tenant_id, period, kind)


def read(pdf: bytes) -> tuple[list[str], list[list[list[str | None]]]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        texts = [page.extract_text() or "" for page in doc.pages]
        tables = [
            [[" ".join(cell.split()) if cell else cell for cell in row] for row in table]
            for page in doc.pages
            for table in page.extract_tables()
        ]
    return texts, tables


def test_pdf_reads_back_like_the_form(session: Session, tenant_id: int) -> None:
    book_scenario(session, tenant_id)
    pdf = render_pdf(report_for(session, tenant_id, "2026-01", "2026-06", "final"))
    texts, tables = read(pdf)
    text = "\n".join(texts)
    pages = len(texts)
    assert texts[0].startswith("Jobcenter-EKS - 04/2025")
    assert f"Seite 1 von {pages}" in texts[0] and f"Seite {pages} von {pages}" in texts[-1]
    for heading in (
        "Anlage EKS",
        "A. Persönliche Daten der antragstellenden Person",
        "C. Angaben zum Bewilligungszeitraum und zur Art der Erklärung",
        "F. Weitere Angaben zur selbständigen/freiberuflichen Tätigkeit",
        "43 Tabelle A: Angaben zu den Betriebseinnahmen",
        "48 Tabelle B – Teil 2: Angaben zu den Betriebsausgaben",
        "51 Tabelle C: Absetzungen vom Einkommen",
        "H. Unterschrift der selbständigen/freiberuflichen Person",
    ):
        assert heading in text, heading
    # personal data and the kind of declaration
    assert "Lindqvist" in text and "17.04.1988" in text and "Grafikdesign" in text
    fields = {row[0]: row[-1] for t in tables for row in t if row[0]}
    assert fields["8"] == "[ ] vorläufig (für die Zukunft) [X] abschließend (für die Vergangenheit)"
    assert fields["9"] == "von 01.01.2026 bis 30.06.2026"
    assert fields["23"] == "[X] Ja [ ] Nein"
    assert fields["25"] == "14,5"
    # the tables: one column per month, the form's line numbers, German amounts
    rows = {row[0]: row for table in tables for row in table if row and row[0]}
    assert rows["B8"][2:] == ["0,00", "0,00", "1.200,00", "0,00", "0,00", "0,00", "1.200,00"]
    assert rows["A5.1"][-1] == "665,00"
    assert rows["B17"][-1] == "250,80"
    header = next(t[0] for t in tables if t[0] and t[0][0] == "Zeile")
    assert header[2:] == [
        "Januar 2026",
        "Februar 2026",
        "März 2026",
        "April 2026",
        "Mai 2026",
        "Juni 2026",
        "Summe",
    ]
    profit = next(r for t in tables for r in t if r[1] and r[1].startswith("Gewinn"))
    assert profit[-1] == "2.139,20"
    deduction = next(r for t in tables for r in t if r[1] and r[1].startswith("Abzüglich"))
    assert deduction[3] == "– 15,00"
    table_c = next(
        r for t in tables for r in t if r[0] and r[0].startswith("Beiträge zur privaten")
    )
    assert table_c[1:] == ["215,40", "monatlich"]
    assert re.search(r"47\s+private Kilometer\s+150", text)


def test_twelve_months_continue_in_a_second_block(session: Session, tenant_id: int) -> None:
    """The paper form has six month columns; a longer period continues below."""
    pdf = render_pdf(report_for(session, tenant_id, "2026-01", "2026-12", "provisional"))
    _texts, tables = read(pdf)
    headers = [t[0] for t in tables if t[0] and t[0][0] == "Zeile"]
    assert headers[0][2:] == [
        f"{m} 2026" for m in ("Januar", "Februar", "März", "April", "Mai", "Juni")
    ]
    assert headers[1][2:] == [
        *(f"{m} 2026" for m in ("Juli", "August", "September", "Oktober", "November", "Dezember")),
        "Summe",
    ]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_pdf_renders_to_images(session: Session, tenant_id: int, tmp_path: Path) -> None:
    book_scenario(session, tenant_id)
    pdf = render_pdf(report_for(session, tenant_id, "2026-01", "2026-06", "final"))
    source = tmp_path / "eks.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == len(read(pdf)[0]) >= 4
    assert all(image.stat().st_size > 3000 for image in images)
