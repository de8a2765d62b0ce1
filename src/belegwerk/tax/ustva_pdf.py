"""Printable UStVA: every filled Kennzahl with its form wording, for the records or to type
into ELSTER."""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from belegwerk.core.dates import today
from belegwerk.core.i18n import format_date
from belegwerk.tax.ustva import Ustva, describe
from belegwerk.tenancy.models import Company


def render(ustva: Ustva, company: Company) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        title=f"UStVA {ustva.period.key}", author=company.name,
    )  # fmt: skip
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    story = [
        Paragraph(f"Umsatzsteuer-Voranmeldung {ustva.period.label()}", styles["Title"]),
        Paragraph(
            f"{company.name} · Steuernummer {company.tax_number or '–'} · Formular "
            f"{ustva.form.year} · {'Ist' if ustva.basis == 'cash' else 'Soll'}-Versteuerung"
            f"{' · berichtigte Anmeldung' if ustva.corrected else ''}",
            styles["BodyText"],
        ),
        Spacer(1, 6 * mm),
    ]
    rows = [["Kz", "Bezeichnung", "Wert", "Steuer"]]
    for kz, label, value, tax in describe(ustva):
        rows.append([kz, Paragraph(label, small), value, tax])
    table = Table(rows, colWidths=[12 * mm, 110 * mm, 25 * mm, 25 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f4f6")]),
                ("FONT", (0, -1), (-1, -1), "Helvetica-Bold"),
            ]
        )
    )
    story += [table, Spacer(1, 6 * mm)]
    for check in ustva.checks:
        story.append(
            Paragraph(
                f"{'Fehler' if check.level == 'error' else 'Hinweis'}: {check.message}", small
            )
        )
    story.append(Paragraph(f"Erstellt am {format_date(today())} mit Belegwerk.", small))
    doc.build(story)
    return buf.getvalue()
