"""The filled Anlage EKS as a PDF laid out like the official form (reportlab, built-in fonts).

Sections A to H in the form's order with its field numbers; tables A, B (parts 1-3) with the
line numbers and one column per calendar month (more than six months continue in a second
block, as the paper form has six columns); the signature fields stay empty for the pen. The
text is the form's German whatever the UI language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from babel.numbers import format_decimal
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from belegwerk.tax.eks.exports import KIND_DE, RHYTHM_DE
from belegwerk.tax.eks.form import Field
from belegwerk.tax.eks.service import Report

MONTHS_PER_BLOCK = 6
GREY = colors.HexColor("#e8e8e8")
LIGHT = colors.HexColor("#f4f4f4")
MANUAL = colors.HexColor("#fff2cc")
MONTH_NAMES = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


def _euro(value: Decimal) -> str:
    return format_decimal(value, format="#,##0.00", locale="de_DE")


def _signed(value: Decimal, deduction: bool) -> str:
    """A deduction line prints its amount with the form's minus sign."""
    return f"– {_euro(value)}" if deduction and value else _euro(value)


class _Styles:
    def __init__(self) -> None:
        base = getSampleStyleSheet()["BodyText"]
        self.body = ParagraphStyle("eks-body", parent=base, fontSize=8.5, leading=10.5)
        self.small = ParagraphStyle("eks-small", parent=base, fontSize=7, leading=8.5)
        self.cell = ParagraphStyle("eks-cell", parent=base, fontSize=7, leading=8.2)
        self.bold_cell = ParagraphStyle("eks-bold", parent=self.cell, fontName="Helvetica-Bold")
        self.section = ParagraphStyle(
            "eks-section",
            parent=base,
            fontName="Helvetica-Bold",
            fontSize=10.5,
            leading=13,
            spaceBefore=8,
            spaceAfter=4,
            backColor=GREY,
            borderPadding=(2, 3, 2, 3),
        )
        self.title = ParagraphStyle(
            "eks-title", parent=base, fontName="Helvetica-Bold", fontSize=18, leading=22
        )
        self.table_title = ParagraphStyle(
            "eks-table-title",
            parent=base,
            fontName="Helvetica-Bold",
            fontSize=9,
            leading=11,
            spaceBefore=6,
            spaceAfter=3,
        )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _boxes(value: bool | None, yes: str = "Ja", no: str = "Nein") -> str:
    gap = "\u00a0" * 4
    return f"[{'X' if value is True else ' '}] {yes}{gap}[{'X' if value is False else ' '}] {no}"


def _answer_text(spec: Field, value: Any) -> str:
    if spec.type == "yesno":
        return _boxes(value if isinstance(value, bool) else None)
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, Decimal):
        return _euro(value) if spec.type == "money" else format_decimal(value, locale="de_DE")
    return str(value)


def _field_table(rows: Sequence[tuple[str, str, str]], s: _Styles, width: float) -> Table:
    data = [
        [_p(no, s.bold_cell), _p(label, s.cell), _p(value, s.body)] for no, label, value in rows
    ]
    table = Table(data, colWidths=[9 * mm, width * 0.55, width * 0.45 - 9 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (1, -1), LIGHT),
            ]
        )
    )
    return table


def _fields(report: Report, section: str, s: _Styles, width: float) -> list[Any]:
    answers = report.mask.answers
    rows = [
        (str(f.no), f.label_de, _answer_text(f, answers.get(f.key)))
        for f in report.form.fields_of(section)
    ]
    return [_field_table(rows, s, width)] if rows else []


def _signature(numbers: tuple[tuple[int, str], ...], s: _Styles, width: float) -> Table:
    data = [[_p(f"{no} {label}", s.small) for no, label in numbers], ["" for _ in numbers]]
    table = Table(data, colWidths=[width / len(numbers)] * len(numbers), rowHeights=[None, 14 * mm])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, colors.black),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _month_table(
    report: Report, table_key: str, months: list[date], last_block: bool, s: _Styles, width: float
) -> Table:
    index = [report.months.index(m) for m in months]
    header: list[Any] = [
        _p("Zeile", s.bold_cell),
        _p("Kalendermonat (gegebenenfalls Teilmonat)", s.bold_cell),
        *[Paragraph(f"{MONTH_NAMES[m.month - 1]}<br/>{m.year}", s.bold_cell) for m in months],
    ]
    if last_block:
        header.append(_p("Summe", s.bold_cell))
    data: list[list[Any]] = [header]
    styles: list[tuple[Any, ...]] = []
    for line in report.form.lines_of(table_key):
        row = report.tables.row(line.code)
        deduction = line.kind == "deduction"
        label_style = s.cell if line.is_figure else s.bold_cell
        cells: list[Any] = [_p(line.number, s.bold_cell), _p(line.label_de, label_style)]
        for i in index:
            if not row.applicable:
                cells.append(_p("entfällt", s.small))
            else:
                value = row.values[i]
                text = _signed(value, deduction) + (" *" if row.manual[i] else "")
                cells.append(_p(text, s.bold_cell if not line.is_figure else s.cell))
        if last_block:
            total = "entfällt" if not row.applicable else _signed(row.total, deduction)
            cells.append(_p(total, s.bold_cell))
        r = len(data)
        data.append(cells)
        if not line.is_figure:
            styles.append(("BACKGROUND", (0, r), (-1, r), LIGHT))
        for col, i in enumerate(index, start=2):
            if row.manual[i]:
                styles.append(("BACKGROUND", (col, r), (col, r), MANUAL))
    value_cols = len(months) + (1 if last_block else 0)
    value_width = min(21 * mm, (width - 14 * mm - 55 * mm) / value_cols)
    label_width = width - 14 * mm - value_cols * value_width
    table = Table(data, colWidths=[14 * mm, label_width] + [value_width] * value_cols, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), GREY),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                *styles,
            ]
        )
    )
    return table


def _tables(report: Report, table_key: str, s: _Styles, width: float) -> list[Any]:
    spec = next(t for t in report.form.tables if t.key == table_key)
    months = report.months
    blocks = [months[i : i + MONTHS_PER_BLOCK] for i in range(0, len(months), MONTHS_PER_BLOCK)]
    out: list[Any] = [CondPageBreak(60 * mm), _p(f"{spec.field} {spec.label_de}", s.table_title)]
    for n, block in enumerate(blocks):
        out.append(_month_table(report, table_key, block, n == len(blocks) - 1, s, width))
        out.append(Spacer(1, 3 * mm))
    return out


def _remarks(report: Report, key: str, s: _Styles, width: float) -> list[Any]:
    spec = report.form.field(key)
    text = str(report.mask.answers.get(key) or "")
    return [_field_table([(str(spec.no), spec.label_de, text)], s, width)]


def _table_c(report: Report, s: _Styles, width: float) -> list[Any]:
    header = [
        _p("Art der Absetzung", s.bold_cell),
        _p("Höhe in Euro", s.bold_cell),
        _p(
            "Zahlungsrhythmus (zum Beispiel monatlich, quartalsweise oder zu bestimmten Terminen)",
            s.bold_cell,
        ),
    ]
    data: list[list[Any]] = [header]
    for kind in report.form.deductions:
        entries = [d for d in report.mask.deductions if d.kind == kind.key]
        if not entries:
            data.append([_p(kind.label_de, s.cell), "", ""])
        for d in entries:
            label = kind.label_de + (f" – {d.description}" if d.description else "")
            data.append(
                [_p(label, s.cell), _p(_euro(d.amount), s.cell), _p(RHYTHM_DE[d.rhythm], s.cell)]
            )
    table = Table(data, colWidths=[width * 0.62, width * 0.14, width * 0.24], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), GREY),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
            ]
        )
    )
    return [
        CondPageBreak(50 * mm),
        _p("51 Tabelle C: Absetzungen vom Einkommen", s.table_title),
        table,
    ]


def _car_block(report: Report, s: _Styles, width: float) -> list[Any]:
    mask = report.mask
    use = {
        "business": "betriebliches Kraftfahrzeug (mindestens 50 Prozent betriebliche Nutzung, "
        "Fahrtenbuch liegt bei): Zeilen B6.1 bis B6.4",
        "private": "privates Kraftfahrzeug: nur betriebliche Fahrten, Zeile B6.5",
        "none": "kein Kraftfahrzeug für die Tätigkeit",
    }[mask.car_use]
    rows = [
        ("", "Angaben zu einem Kraftfahrzeug", use),
        ("47", "betriebliche Kilometer", format_decimal(mask.km_total("business"), locale="de_DE")),
        ("47", "private Kilometer", format_decimal(mask.km_total("private"), locale="de_DE")),
    ]
    return [Spacer(1, 2 * mm), _field_table(rows, s, width)]


def _period_section(report: Report, s: _Styles, width: float) -> list[Any]:
    provisional = report.kind == "provisional"
    rows = [
        (
            "8",
            "Bitte geben Sie an, ob Sie in diesem Formular vorläufige oder abschließende "
            "Angaben machen.",
            _boxes(
                provisional, "vorläufig (für die Zukunft)", "abschließend (für die Vergangenheit)"
            ),
        ),
        (
            "9",
            "Bewilligungszeitraum",
            f"von {report.period.start:%d.%m.%Y} bis {report.period.end:%d.%m.%Y}",
        ),
    ]
    return [_field_table(rows, s, width)]


def _income_head(report: Report, s: _Styles, width: float) -> list[Any]:
    rows = [
        (
            "42",
            "Die nachfolgenden Angaben in den Tabellen sind",
            _boxes(report.kind == "provisional", "vorläufig (geschätzt)", "abschließend"),
        ),
        ("32", "Umsatzsteuerpflicht", _boxes(report.mask.vat_liable)),
    ]
    out: list[Any] = [_field_table(rows, s, width)]
    if report.tables.basis is not None and report.mask.basis == "books":
        basis = report.tables.basis
        out.append(
            _p(
                f"Schätzung: monatlicher Durchschnitt der Buchführung von {basis.start:%m.%Y} "
                f"bis {basis.end:%m.%Y}, mit eigenen Angaben (*) ergänzt.",
                s.small,
            )
        )
    return out


def _footer(canvas: Canvas, report: Report, page: int, total: int) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7.5)
    width, height = A4
    canvas.drawString(15 * mm, height - 10 * mm, report.form.name)
    canvas.drawRightString(width - 15 * mm, height - 10 * mm, f"Seite {page} von {total}")
    canvas.drawString(
        15 * mm,
        8 * mm,
        f"{report.company_name} · erstellt mit Belegwerk am {report.created_at:%d.%m.%Y} · "
        "* = eigene Angabe statt Buchführung",
    )
    canvas.restoreState()


def _numbered_canvas(report: Report) -> type[Canvas]:
    """A canvas that knows the page count when it draws the header ("Seite 2 von 9")."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                _footer(self, report, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(report: Report) -> bytes:
    s = _Styles()
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=16 * mm,
        bottomMargin=15 * mm,
        title=f"{report.form.title} {report.period.start:%m.%Y}–{report.period.end:%m.%Y}",
        author=report.company_name,
        subject=report.form.name,
    )
    width = doc.width
    form = report.form

    def section(key: str) -> Paragraph:
        return _p(f"{key}. {form.section(key).label_de}", s.section)

    story: list[Any] = [
        _p(form.title, s.title),
        _p(form.subtitle, s.body),
        _p(f"{report.company_name} – {KIND_DE[report.kind]}e Erklärung", s.small),
        Spacer(1, 3 * mm),
        section("A"),
        *_fields(report, "A", s, width),
        section("B"),
        *_fields(report, "B", s, width),
        section("C"),
        *_period_section(report, s, width),
        section("D"),
        *_fields(report, "D", s, width),
        KeepTogether(
            [
                section("E"),
                _p(
                    "Ich bestätige, dass die Angaben in den Abschnitten A bis D richtig sind.",
                    s.body,
                ),
                Spacer(1, 2 * mm),
                _signature(
                    (
                        (19, "Datum"),
                        (20, "Unterschrift antragstellende Person"),
                        (21, "Datum"),
                        (22, "Unterschrift Betreuerin/Betreuer/Vormund"),
                    ),
                    s,
                    width,
                ),
            ]
        ),
        section("F"),
        *_fields(report, "F", s, width),
        section("G"),
        *_income_head(report, s, width),
        *_tables(report, "A", s, width),
        *_remarks(report, "remarks_a", s, width),
        *_tables(report, "B1", s, width),
        *_remarks(report, "remarks_b1", s, width),
        *_car_block(report, s, width),
        *_tables(report, "B2", s, width),
        *_tables(report, "B3", s, width),
        *_remarks(report, "remarks_b23", s, width),
        *_table_c(report, s, width),
        _p("Angaben zu den personenbezogenen Ausgaben", s.table_title),
        _field_table(
            [
                (str(f.no), f.label_de, _answer_text(f, report.mask.answers.get(f.key)))
                for f in form.fields_of("G")
                if f.no >= 52
            ],
            s,
            width,
        ),
        KeepTogether(
            [
                section("H"),
                _p(
                    "Ich bestätige, dass die Angaben in den Abschnitten F bis G richtig sind.",
                    s.body,
                ),
                Spacer(1, 2 * mm),
                _signature(
                    ((59, "Datum"), (60, "Unterschrift selbständige/freiberufliche Person")),
                    s,
                    width,
                ),
            ]
        ),
    ]
    doc.build(story, canvasmaker=_numbered_canvas(report))
    return buffer.getvalue()
