"""The Anlage EÜR as data and files: JSON, CSV, Excel, PDF and the table keyed by ELSTER field.

Amounts leave as strings with two places (JSON) or as numbers (Excel), never as floats. CSV
follows what German spreadsheet users expect: UTF-8 with BOM, ``;``, decimal comma.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from belegwerk.core.i18n import _, format_date, format_money
from belegwerk.tax.assets import RegisterRow, describe_method
from belegwerk.tax.euer import EuerReport, Line

MONEY_FORMAT = "#,##0.00"


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _comma(value: Decimal) -> str:
    return format(value, "f").replace(".", ",")


def section_title(section: str) -> str:
    return {
        "income": _("Business income"),
        "expense": _("Business expenses"),
        "result": _("Profit"),
        "extra": _("Additional information (sole proprietors)"),
    }[section]


def elster_rows(report: EuerReport) -> list[dict[str, Any]]:
    """The filled fields keyed by ELSTER field name, in form order, for typing into ELSTER."""
    return [
        {
            "field": line.field,
            "path": line.elster,
            "kz": line.kz,
            "zeile": line.zeile,
            "label": line.label,
            "amount": _plain(line.amount),
        }
        for line in report.filled()
    ]


def report_dict(report: EuerReport) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    return {
        "year": report.year,
        "form_year": report.form_year,
        "title": report.title,
        "company": report.company,
        "small_business": report.small_business,
        "boxes": {line.kz: _plain(line.amount) for line in report.filled()},
        "elster": {line.field: _plain(line.amount) for line in report.filled()},
        "income": _plain(report.income),
        "expenses": _plain(report.expenses),
        "profit": _plain(report.profit),
        "investments": _plain(report.investments),
        "lines": [
            {
                "kz": line.kz,
                "zeile": line.zeile,
                "field": line.field,
                "elster": line.elster,
                "label": line.label,
                "section": line.section,
                "counted": line.counted,
                "sum": line.is_sum,
                "amount": _plain(line.amount),
            }
            for line in report.lines
        ],
        "moves": [
            {
                "flow_date": m.flow_date.isoformat(),
                "to_year": m.to_year,
                "rule": m.rule,
                "voucher": m.voucher,
                "text": m.text,
                "amount": _plain(m.amount),
                "posting_id": m.posting_id,
                "payment_id": m.payment_id,
            }
            for m in report.moves
        ],
        "notices": [
            {"code": n.code, "level": n.level, "message": n.message, "details": n.details}
            for n in report.notices
        ],
    }


def _headers() -> list[str]:
    return [_("Line"), _("Kennzahl"), _("ELSTER field"), _("Description"), _("Amount (EUR)")]


def csv_bytes(report: EuerReport) -> bytes:
    out = StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_headers())
    for line in report.filled():
        writer.writerow([line.zeile or "", line.kz, line.field, line.label, _comma(line.amount)])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(report: EuerReport, assets: Sequence[RegisterRow]) -> bytes:
    """Sheets: the form's lines, the ELSTER table, the asset register of the year, the checks."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Anlage EÜR")[:31]
    bold = Font(bold=True)
    sheet.append([f"{report.title} – {report.company}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append(_headers())
    for cell in sheet[3]:
        cell.font = bold
    for line in report.filled():
        sheet.append([line.zeile, line.kz, line.field, line.label, line.amount])
        row = sheet.max_row
        sheet.cell(row=row, column=5).number_format = MONEY_FORMAT
        if line.is_sum:
            for cell in sheet[row]:
                cell.font = bold
    for letter, width in zip("ABCDE", (8, 10, 12, 70, 16), strict=True):
        sheet.column_dimensions[letter].width = width

    elster = book.create_sheet(_("ELSTER"))
    elster.append([_("ELSTER field"), _("Path"), _("Kennzahl"), _("Amount (EUR)")])
    for row_data in elster_rows(report):
        elster.append(
            [row_data["field"], row_data["path"], row_data["kz"], Decimal(row_data["amount"])]
        )
        elster.cell(row=elster.max_row, column=4).number_format = MONEY_FORMAT
    elster.column_dimensions["B"].width = 70

    register = book.create_sheet(_("Asset register")[:31])
    register.append(_register_headers())
    for item in assets:
        register.append(_register_row(item, for_excel=True))
        for index in (3, 6, 7, 8, 9):
            register.cell(row=register.max_row, column=index).number_format = MONEY_FORMAT
    register.column_dimensions["A"].width = 40

    checks = book.create_sheet(_("Checks"))
    checks.append([_("Level"), _("Message")])
    for notice in report.notices:
        checks.append([notice.level, notice.message])
    checks.column_dimensions["B"].width = 120
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _register_headers() -> list[str]:
    return [
        _("Asset"),
        _("Acquired"),
        _("Cost"),
        _("Method"),
        _("Useful life (months)"),
        _("Book value at start"),
        _("Depreciation"),
        _("Book value written off"),
        _("Book value at end"),
    ]


def _register_row(item: RegisterRow, *, for_excel: bool) -> list[Any]:
    asset, view = item.asset, item.year
    values: list[Any] = [
        asset.name,
        asset.acquisition_date if for_excel else format_date(asset.acquisition_date),
        asset.net_cost,
        describe_method(item.method),
        asset.useful_life_months,
        view.opening,
        view.afa,
        view.book_value_out,
        view.closing,
    ]
    if not for_excel:
        for i in (2, 5, 6, 7, 8):
            values[i] = format_money(values[i])
    return values


def pdf_bytes(report: EuerReport, assets: Sequence[RegisterRow]) -> bytes:
    """A printable overview: the filled lines by section, the checks, the asset register."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=report.title,
        author=report.company,
    )
    story: list[Any] = [
        Paragraph(escape(report.title), styles["Title"]),
        Paragraph(escape(report.company), styles["Heading2"]),
    ]
    if report.form_year != report.year:
        story.append(
            Paragraph(
                escape(_("Kennzahlen of the form {year}").format(year=report.form_year)), small
            )
        )
    for section in ("income", "expense", "result", "extra"):
        lines = [ln for ln in report.filled() if ln.section == section]
        if not lines:
            continue
        story += [Spacer(1, 4 * mm), Paragraph(escape(section_title(section)), styles["Heading3"])]
        story.append(_lines_table(lines, small))
    if report.notices:
        story += [Spacer(1, 5 * mm), Paragraph(escape(_("Checks")), styles["Heading3"])]
        for notice in report.notices:
            story.append(Paragraph("• " + escape(notice.message), small))
    if report.moves:
        story += [
            Spacer(1, 5 * mm),
            Paragraph(escape(_("Ten-day rule (§ 11 EStG)")), styles["Heading3"]),
        ]
        for move in report.moves:
            text = _("{date} {voucher} {text}: {amount} counts in {year}").format(
                date=format_date(move.flow_date),
                voucher=move.voucher,
                text=move.text,
                amount=format_money(move.amount),
                year=move.to_year,
            )
            story.append(Paragraph(escape(text), small))
    if assets:
        story += [
            Spacer(1, 5 * mm),
            Paragraph(
                escape(_("Asset register {year}").format(year=report.year)), styles["Heading3"]
            ),
        ]
        rows = [[Paragraph(escape(h), small) for h in _register_headers()]]
        for item in assets:
            values = _register_row(item, for_excel=False)
            rows.append([Paragraph(escape(str(v)), small) for v in values])
        table = Table(rows, repeatRows=1, colWidths=[38 * mm] + [17.5 * mm] * 8)
        table.setStyle(_style(align_from=2))
        story.append(table)
    doc.build(story)
    return buffer.getvalue()


def _lines_table(lines: Sequence[Line], small: Any) -> Table:
    rows: list[list[Any]] = [
        [_("Line"), _("Kz"), Paragraph(escape(_("Description")), small), _("Amount")]
    ]
    for line in lines:
        rows.append(
            [
                str(line.zeile or ""),
                line.kz,
                Paragraph(escape(line.label), small),
                format_money(line.amount),
            ]
        )
    table = Table(rows, colWidths=[12 * mm, 12 * mm, 126 * mm, 30 * mm], repeatRows=1)
    style = _style(align_from=3)
    for index, line in enumerate(lines, start=1):
        if line.is_sum:
            style.add("FONTNAME", (0, index), (-1, index), "Helvetica-Bold")
            style.add("LINEABOVE", (0, index), (-1, index), 0.6, colors.black)
    table.setStyle(style)
    return table


def _style(align_from: int) -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("ALIGN", (align_from, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ]
    )
