"""PDF of all daily closings of a month, for the tax advisor (reportlab, no external fonts)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from babel.numbers import format_decimal
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from belegwerk.books.closing import ClosingStatistics, closing_statistics, list_closings
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, babel_locale, format_date, format_money
from belegwerk.core.money import ZERO
from belegwerk.tenancy.service import get_company


def treatment_label(treatment: str | None, difference: Decimal) -> str:
    """How the difference was booked, named by its direction."""
    shortage = difference < 0
    labels = {
        "private": _("private withdrawal") if shortage else _("private deposit"),
        "other": _("other expense") if shortage else _("other income"),
        "record_only": _("recorded only"),
    }
    return labels.get(treatment or "", "")


def _check_month(year: int, month: int) -> None:
    if not 1 <= month <= 12 or not 1990 <= year <= 9999:
        raise ValidationFailed(
            "closing.invalid_month",
            _("Invalid month: {month}/{year}").format(month=month, year=year),
            [{"field": "month", "value": f"{year}-{month}"}],
        )


def closings_month_pdf(session: Session, tenant_id: int, year: int, month: int) -> bytes:
    """One row per closing with amounts in German format, a sum line and the statistics."""
    _check_month(year, month)
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    company = get_company(session, tenant_id)
    closings = list_closings(session, tenant_id, start, end)
    stats = closing_statistics(session, tenant_id, start, end)

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=_("Daily closings {month:02d}/{year}").format(month=month, year=year),
        author=company.name,
    )
    header: list[object] = [
        _("Date"),
        _("Expected"),
        _("Counted"),
        _("Difference"),
        _("Reason"),
        _("Treatment"),
        _("Signature"),
    ]
    rows: list[list[object]] = [header]
    total_difference = ZERO
    for c in closings:
        total_difference += c.difference
        rows.append(
            [
                format_date(c.closing_date),
                format_money(c.expected),
                format_money(c.counted),
                format_money(c.difference),
                Paragraph(escape(c.reason or ""), small),
                treatment_label(c.treatment, c.difference),
                c.signature[:16],
            ]
        )
    rows.append(
        [
            _("Total ({n} closings)").format(n=len(closings)),
            "",
            "",
            format_money(total_difference),
            "",
            "",
            "",
        ]
    )
    table = Table(
        rows,
        colWidths=[34 * mm, 30 * mm, 30 * mm, 28 * mm, 80 * mm, 38 * mm, 35 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("ALIGN", (1, 0), (3, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f2f2f2")]),
                ("FONTNAME", (6, 1), (6, -2), "Courier"),
            ]
        )
    )
    story: list[object] = [
        Paragraph(escape(company.name), styles["Title"]),
        Paragraph(
            escape(
                _("Daily closings {month:02d}/{year}").format(month=month, year=year)
                + f" ({format_date(start)} – {format_date(end)})"
            ),
            styles["Heading2"],
        ),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
        Paragraph(escape(_statistics_text(stats)), styles["BodyText"]),
        Paragraph(
            escape(
                _(
                    "Each closing is signed with SHA-256 over its content and the previous "
                    "closing's signature (first 16 characters shown)."
                )
            ),
            small,
        ),
    ]
    doc.build(story)  # type: ignore[arg-type]
    return buffer.getvalue()


def _statistics_text(stats: ClosingStatistics) -> str:
    share = (stats.share_with_difference * 100).quantize(Decimal("0.1"))
    text = _(
        "Closings: {n}; days with a difference: {d} ({share} %); average difference: {avg}."
    ).format(
        n=stats.closings,
        d=stats.days_with_difference,
        share=format_decimal(share, format="#,##0.#", locale=babel_locale()),
        avg=format_money(stats.average_abs_difference),
    )
    if stats.warning:
        text += " " + _("Warning: more than 5 % of the days show a cash difference.")
    return text
