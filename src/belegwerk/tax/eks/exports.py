"""The EKS as data: JSON, CSV (German Excel: semicolon, decimal comma) and an Excel workbook.

Files for the Jobcenter speak the form's language, German, whatever the UI language is; the
line texts are the official ones.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from belegwerk.tax.eks.allowance import AllowanceView
from belegwerk.tax.eks.compute import Row
from belegwerk.tax.eks.inputs import to_data
from belegwerk.tax.eks.service import Report

KIND_DE = {"provisional": "vorläufig", "final": "abschließend"}
RHYTHM_DE = {
    "monthly": "monatlich",
    "quarterly": "vierteljährlich",
    "half_yearly": "halbjährlich",
    "yearly": "jährlich",
    "once": "einmalig im Zeitraum",
}
MONEY_FORMAT = "#,##0.00"


def _ym(month: date) -> str:
    return f"{month:%Y-%m}"


def _row_json(row: Row, months: list[date]) -> dict[str, Any]:
    line = row.line
    return {
        "line": line.code,
        "number": line.number,
        "label": line.label_de,
        "kind": line.kind,
        "applicable": row.applicable,
        "values": {_ym(m): str(v) for m, v in zip(months, row.values, strict=True)},
        "total": str(row.total),
        "manual": [_ym(m) for m, flag in zip(months, row.manual, strict=True) if flag],
    }


def _allowance_json(view: AllowanceView) -> dict[str, Any]:
    return {
        "has_minor_child": view.has_minor_child,
        "profit": str(view.profit),
        "counted_total": str(view.counted_total),
        "months": [
            {
                "month": _ym(m.month),
                "income": str(m.income),
                "taxes": str(m.taxes),
                "compulsory": str(m.compulsory),
                "other_deductions": str(m.other_deductions),
                "basic_allowance": str(m.basic),
                "basic_allowance_proven": m.basic_proven,
                "tiers": [
                    {
                        "lower": str(t.lower),
                        "upper": str(t.upper),
                        "share": str(t.share),
                        "base": str(t.base),
                        "amount": str(t.amount),
                    }
                    for t in m.tiers
                ],
                "earned_allowance": str(m.earned_allowance),
                "counted": str(m.counted),
            }
            for m in view.months
        ],
    }


def to_json(report: Report) -> dict[str, Any]:
    months = report.months
    tables = report.tables
    mask = report.mask
    return {
        "form": report.form.name,
        "company": report.company_name,
        "period": {"from": _ym(report.period.start), "to": _ym(report.period.end)},
        "months": [_ym(m) for m in months],
        "kind": report.kind,
        "forecast": (
            {
                "method": mask.basis,
                "from": _ym(tables.basis.start),
                "to": _ym(tables.basis.end),
            }
            if tables.basis is not None
            else None
        ),
        "tables": {
            t.key: [
                _row_json(tables.row(line.code), months) for line in report.form.lines_of(t.key)
            ]
            for t in report.form.tables
        },
        "income": str(tables.row("A").total),
        "expenses": str(tables.row("B").total),
        "profit": str(tables.row("G").total),
        "table_c": [
            {
                "kind": d.kind,
                "label": report.form.deduction(d.kind).label_de,
                "description": d.description,
                "amount": str(d.amount),
                "rhythm": d.rhythm,
                "monthly": str(d.monthly(len(months))),
            }
            for d in mask.deductions
        ],
        "km": {
            "business": str(mask.km_total("business")),
            "private": str(mask.km_total("private")),
        },
        "withdrawals": str(report.withdrawals),
        "input": to_data(mask),
        "input_source": report.loaded.source,
        "warnings": [
            {"code": w.code, "level": w.level, "message": w.message, "details": w.details}
            for w in report.warnings
        ],
        "allowance": _allowance_json(report.allowance),
    }


def _german(value: Decimal) -> str:
    return format_decimal(value, format="0.00", locale="de_DE")


def to_csv(report: Report) -> bytes:
    """Tables A, B and C as one CSV that German Excel opens as it is (UTF-8 with BOM)."""
    buffer = io.StringIO()
    out = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    months = report.months
    out.writerow(
        ["Tabelle", "Zeile", "Bezeichnung", *[f"{m:%m.%Y}" for m in months], "Summe", "Hinweis"]
    )
    for table in report.form.tables:
        for line in report.form.lines_of(table.key):
            row = report.tables.row(line.code)
            note = "" if row.applicable else "entfällt"
            if any(row.manual):
                note = "eigene Angabe: " + ", ".join(
                    f"{m:%m.%Y}" for m, f in zip(months, row.manual, strict=True) if f
                )
            sign = "-" if line.kind == "deduction" else ""
            out.writerow(
                [
                    table.key[0],
                    line.number,
                    line.label_de,
                    *[sign + _german(v) if v else _german(v) for v in row.values],
                    (sign if row.total else "") + _german(row.total),
                    note,
                ]
            )
    out.writerow([])
    out.writerow(
        ["Tabelle", "", "Art der Absetzung", "Höhe in Euro", "Zahlungsrhythmus", "monatlich"]
    )
    for d in report.mask.deductions:
        label = report.form.deduction(d.kind).label_de
        text = f"{label} ({d.description})" if d.description else label
        out.writerow(
            ["C", "", text, _german(d.amount), RHYTHM_DE[d.rhythm], _german(d.monthly(len(months)))]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_tables(wb: Workbook, report: Report) -> None:
    ws = wb.active
    assert ws is not None
    ws.title = "Tabellen A und B"
    months = report.months
    bold = Font(bold=True)
    manual_fill = PatternFill("solid", fgColor="FFF2CC")
    ws.append([f"{report.form.title} – {report.form.name}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(
        [
            f"{report.company_name} · Bewilligungszeitraum {report.period.start:%m.%Y} bis "
            f"{report.period.end:%m.%Y} · {KIND_DE[report.kind]}"
        ]
    )
    ws.append([])
    header = ["Zeile", "Bezeichnung", *[f"{m:%m.%Y}" for m in months], "Summe"]
    for table in report.form.tables:
        ws.append([table.label_de])
        ws.cell(ws.max_row, 1).font = bold
        ws.append(header)
        for cell in ws[ws.max_row]:
            cell.font = bold
        for line in report.form.lines_of(table.key):
            row = report.tables.row(line.code)
            sign = -1 if line.kind == "deduction" else 1
            values: list[Any] = [sign * v for v in row.values]
            ws.append([line.number, line.label_de, *values, sign * row.total])
            r = ws.max_row
            for c in range(3, 4 + len(months)):
                ws.cell(r, c).number_format = MONEY_FORMAT
            if not line.is_figure:
                for cell in ws[r]:
                    cell.font = bold
            if not row.applicable:
                ws.cell(r, 2).comment = Comment("entfällt", "Belegwerk")
            for i, flag in enumerate(row.manual):
                if flag:
                    ws.cell(r, 3 + i).fill = manual_fill
                    ws.cell(r, 3 + i).comment = Comment("eigene Angabe", "Belegwerk")
        ws.append([])
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 60
    for c in range(3, 4 + len(months)):
        ws.column_dimensions[get_column_letter(c)].width = 13
    for row_cells in ws.iter_rows(min_col=2, max_col=2):
        row_cells[0].alignment = Alignment(wrap_text=True, vertical="top")


def _sheet_table_c(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Tabelle C")
    ws.append(
        ["Art der Absetzung", "Beschreibung", "Höhe in Euro", "Zahlungsrhythmus", "monatlich"]
    )
    for cell in ws[1]:
        cell.font = Font(bold=True)
    months = len(report.months)
    for d in report.mask.deductions:
        ws.append(
            [
                report.form.deduction(d.kind).label_de,
                d.description,
                d.amount,
                RHYTHM_DE[d.rhythm],
                d.monthly(months),
            ]
        )
        ws.cell(ws.max_row, 3).number_format = MONEY_FORMAT
        ws.cell(ws.max_row, 5).number_format = MONEY_FORMAT
    ws.column_dimensions["A"].width = 70
    ws.column_dimensions["B"].width = 30
    for col in "CDE":
        ws.column_dimensions[col].width = 16


def _sheet_answers(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Angaben")
    ws.append(["Nr.", "Angabe", "Wert"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    answers = report.mask.answers
    for spec in report.form.fields:
        value = answers.get(spec.key)
        if isinstance(value, bool):
            text: Any = "Ja" if value else "Nein"
        elif isinstance(value, date):
            text = f"{value:%d.%m.%Y}"
        elif isinstance(value, Decimal):
            text = value
        else:
            text = value if value is not None else ""
        ws.append([spec.no, spec.label_de, text])
    ws.append([32, "Umsatzsteuerpflicht", "Ja" if report.mask.vat_liable else "Nein"])
    ws.append(["47", "betriebliche Kilometer", report.mask.km_total("business")])
    ws.append(["47", "private Kilometer", report.mask.km_total("private")])
    ws.column_dimensions["B"].width = 90
    ws.column_dimensions["C"].width = 30


def _sheet_notes(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Hinweise")
    ws.append(["Hinweis", "Code"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for w in report.warnings:
        ws.append([w.message, w.code])
    ws.column_dimensions["A"].width = 120
    ws.column_dimensions["B"].width = 30


def to_xlsx(report: Report) -> bytes:
    wb = Workbook()
    _sheet_tables(wb, report)
    _sheet_table_c(wb, report)
    _sheet_answers(wb, report)
    _sheet_notes(wb, report)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def file_name(report: Report, extension: str) -> str:
    return f"anlage-eks_{report.period.key}_{report.kind}.{extension}"
