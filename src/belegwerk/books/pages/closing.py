"""The daily-closing flow: expected balance → count by denomination → result → (reason and
treatment of a difference) → saved, signed closing; plus the list, statistics and month PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from belegwerk.books import cash, closing
from belegwerk.books.closing_pdf import closings_month_pdf
from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError, NotFound, ValidationFailed
from belegwerk.core.i18n import _, babel_locale, format_date
from belegwerk.web.ui import FormDep, Page, PageDep, parse_date, redirect, text

pages = APIRouter(include_in_schema=False)

COUNT_TEMPLATE = "books/closing_count.html"
RESULT_TEMPLATE = "books/closing_result.html"


@dataclass(frozen=True)
class Denomination:
    key: str
    value: Decimal
    cents: int
    field: str
    is_note: bool

    @property
    def label(self) -> str:
        """How cash is named: "500 €", "2 €", "50 Cent"."""
        if self.value >= 1:
            return f"{int(self.value)} €"
        return f"{self.cents} Cent"


def denominations() -> list[Denomination]:
    return [
        Denomination(
            key=key,
            value=value,
            cents=int(value * 100),
            field=f"count_{key}",
            is_note=key in closing.NOTES,
        )
        for key, value in closing.DENOMINATIONS.items()
    ]


def treatment_choices(difference: Decimal) -> list[tuple[str, str]]:
    """Labels depend on the sign: a shortage is withdrawn/spent, a surplus deposited/earned."""
    if difference < 0:
        return [
            ("private", _("Book as private withdrawal (Privatentnahme)")),
            ("other", _("Book as other expense")),
            ("record_only", _("Record only (no booking)")),
        ]
    return [
        ("private", _("Book as private deposit (Privateinlage)")),
        ("other", _("Book as other income")),
        ("record_only", _("Record only (no booking)")),
    ]


def treatment_label(treatment: str | None, difference: Decimal) -> str:
    """How a saved closing's difference was treated."""
    if treatment == "record_only":
        return _("recorded only, not booked")
    if treatment == "private":
        return (
            _("booked as private withdrawal") if difference < 0 else _("booked as private deposit")
        )
    if treatment == "other":
        return _("booked as other expense") if difference < 0 else _("booked as other income")
    return ""


def _raw_counts(form: FormData) -> dict[str, str]:
    return {d.key: text(form, d.field) for d in denominations()}


def _count_context(page: Page, day: date, raw: dict[str, str] | None = None) -> dict[str, Any]:
    session, tenant_id = page.session, page.tenant_id
    ctx: dict[str, Any] = {
        "section": "closing",
        "day": day,
        "denominations": denominations(),
        "raw": raw or {},
        "opening": cash.get_opening(session, tenant_id),
        "done_closing": closing.get_closing(session, tenant_id, day),
        "last_closing": cash.last_closing_date(session, tenant_id),
        "is_future": day > today(),
    }
    if ctx["opening"] is not None and day >= ctx["opening"].opening_date:
        ctx["expected"] = closing.expected_balance(session, tenant_id, day)
    return ctx


def _day_param(value: str | None, page: Page) -> date:
    if value:
        parsed = parse_date(value, "date")
        assert parsed is not None
        return parsed
    reminder = closing.missing_closing_reminder(page.session, page.tenant_id, today())
    return reminder or today()


@pages.get("/cash/closing", response_class=HTMLResponse)
def closing_start(
    page: PageDep, day: Annotated[str | None, Query(alias="date")] = None
) -> HTMLResponse:
    try:
        selected = _day_param(day, page)
    except ValidationFailed as exc:
        return page.fail(COUNT_TEMPLATE, exc, lambda: _count_context(page, today()))
    return page.render(COUNT_TEMPLATE, **_count_context(page, selected))


def _result_context(
    page: Page, day: date, raw: dict[str, str], reason: str = "", treatment: str = ""
) -> dict[str, Any]:
    counts = closing.normalize_counts({k: v or "0" for k, v in raw.items()})
    counted = closing.counted_total(counts)
    expected = closing.expected_balance(page.session, page.tenant_id, day)
    difference = counted - expected
    return {
        "section": "closing",
        "day": day,
        "denominations": denominations(),
        "counts": counts,
        "counted": counted,
        "expected": expected,
        "difference": difference,
        "choices": treatment_choices(difference),
        "form": {"reason": reason, "treatment": treatment},
    }


@pages.post("/cash/closing/count", response_model=None)
def closing_count(page: PageDep, form: FormDep) -> HTMLResponse:
    raw = _raw_counts(form)
    try:
        day = parse_date(text(form, "date"), "date")
        assert day is not None
        ctx = _result_context(page, day, raw)
    except BelegwerkError as exc:
        fallback = parse_date_or_today(text(form, "date"))
        return page.fail(COUNT_TEMPLATE, exc, lambda: _count_context(page, fallback, raw))
    return page.render(RESULT_TEMPLATE, **ctx)


def parse_date_or_today(value: str) -> date:
    try:
        return parse_date(value, "date") or today()
    except ValidationFailed:
        return today()


@pages.post("/cash/closing/save", response_model=None)
def closing_save(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    raw = _raw_counts(form)
    reason, treatment = text(form, "reason"), text(form, "treatment")
    day = parse_date_or_today(text(form, "date"))
    try:
        closing.close_day(
            page.session,
            page.tenant_id,
            day,
            {k: v or "0" for k, v in raw.items()},
            reason=reason or None,
            treatment=treatment or None,
            actor=page.actor,
        )
    except BelegwerkError as exc:
        return page.fail(
            RESULT_TEMPLATE, exc, lambda: _result_context(page, day, raw, reason, treatment)
        )
    return redirect(f"/cash/closings/{day.isoformat()}", done="closed")


# --------------------------------------------------------------------------- saved closings


def _year_param(value: int | None) -> int:
    year = value or today().year
    if not 1990 <= year <= 9999:
        raise ValidationFailed(
            "closing.invalid_year",
            _("Invalid year: {year}").format(year=year),
            [{"field": "year", "value": year}],
        )
    return year


@pages.get("/cash/closings", response_class=HTMLResponse)
def closings_list(page: PageDep, year: int | None = None) -> HTMLResponse:
    selected = _year_param(year)
    start, end = date(selected, 1, 1), date(selected, 12, 31)
    rows = closing.list_closings(page.session, page.tenant_id, start, end)
    stats = closing.closing_statistics(page.session, page.tenant_id, start, end)
    months = sorted({c.closing_date.month for c in rows})
    return page.render(
        "books/closing_list.html",
        section="closing",
        year=selected,
        closings=list(reversed(rows)),
        stats=stats,
        months=months,
        share=format_decimal(
            stats.share_with_difference * 100, format="#,##0.0", locale=babel_locale()
        ),
        this_year=today().year,
        treatment_label=treatment_label,
    )


@pages.get("/cash/closings/pdf")
def closings_pdf(page: PageDep, month: str = "") -> Response:
    try:
        year_text, month_text = month.split("-")
        year, number = int(year_text), int(month_text)
    except ValueError:
        raise ValidationFailed(
            "closing.invalid_month",
            _("Invalid month: {month}").format(month=month),
            [{"field": "month", "value": month}],
        ) from None
    pdf = closings_month_pdf(page.session, page.tenant_id, year, number)
    filename = f"tagesabschluesse-{year}-{number:02d}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@pages.get("/cash/closings/{day}", response_class=HTMLResponse)
def closing_detail(day: str, page: PageDep) -> HTMLResponse:
    parsed = parse_date(day, "date")
    assert parsed is not None
    found = closing.get_closing(page.session, page.tenant_id, parsed)
    if found is None:
        raise NotFound(
            "closing.not_found",
            _("There is no daily closing for {date}.").format(date=format_date(parsed)),
        )
    entry = (
        cash.get_cash_entry(page.session, page.tenant_id, found.difference_entry_id)
        if found.difference_entry_id
        else None
    )
    return page.render(
        "books/closing_detail.html",
        section="closing",
        c=found,
        counts=closing.counts_of(found),
        denominations=denominations(),
        entry=entry,
        voucher=cash.voucher_text,
        treatment=treatment_label(found.treatment, found.difference),
    )
