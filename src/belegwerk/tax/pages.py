"""Web pages: UStVA (period picker, checks, boxes with drill-down, downloads, "als abgegeben
markieren"), deadline calendar and the Kleinunternehmer monitor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError
from belegwerk.tax import deadlines as dl
from belegwerk.tax import filings
from belegwerk.tax.monitor import small_business_monitor
from belegwerk.tax.periods import Period, parse_period, period_containing, periods_of_year
from belegwerk.tax.ustva import SELF_ASSESSED_BOXES_KZ, compute, describe, drilldown
from belegwerk.tenancy.service import get_company
from belegwerk.web.ui import FormDep, Page, PageDep, checkbox, redirect, text

pages = APIRouter(include_in_schema=False)
USTVA_TEMPLATE = "tax/ustva.html"


def _choices(page: Page, quarterly: bool) -> list[Period]:
    year = today().year
    return periods_of_year(year, quarterly)[::-1] + periods_of_year(year - 1, quarterly)[::-1]


def _context(page: Page, period_key: str) -> dict[str, Any]:
    company = get_company(page.session, page.tenant_id)
    quarterly = company.ustva_period != "monthly"
    last = period_containing(today(), quarterly)
    period = parse_period(period_key) if period_key else _previous(last, quarterly)
    result = compute(page.session, page.tenant_id, period)
    small = company.vat_regime == "small_business"
    owes = any(kz in result.boxes for kz in SELF_ASSESSED_BOXES_KZ)
    return {
        "section": "ustva",
        "period": period,
        "periods": _choices(page, quarterly),
        "result": result,
        "rows": list(describe(result)),
        "small_business": small,
        "show_return": not small or owes,
        "monitor": small_business_monitor(page.session, page.tenant_id) if small else None,
        "filed": filings.latest_filing(page.session, page.tenant_id, period),
        "due": dl.ustva_due(period, company),
    }


def _previous(current: Period, quarterly: bool) -> Period:
    day = current.start.replace(day=1)
    prev_end = day.fromordinal(day.toordinal() - 1)
    return period_containing(prev_end, quarterly)


@pages.get("/tax/ustva", response_class=HTMLResponse)
def ustva_page(page: PageDep, period: str = "") -> HTMLResponse:
    try:
        context = _context(page, period)
    except BelegwerkError as exc:
        return page.fail(USTVA_TEMPLATE, exc, lambda: _context(page, ""))
    return page.render(USTVA_TEMPLATE, **context)


@pages.get("/tax/ustva/boxes/{kz}", response_class=HTMLResponse)
def box_page(kz: str, page: PageDep, period: str = "") -> HTMLResponse:
    parsed = parse_period(period)
    rows = drilldown(page.session, page.tenant_id, parsed, kz)
    return page.render(
        "tax/ustva_box.html", section="ustva", period=parsed, kz=kz, rows=rows,
        total=sum((r.amount for r in rows), start=0),
    )  # fmt: skip


@pages.post("/tax/ustva/file", response_model=None)
def file_page(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    key = text(form, "period")
    try:
        filings.mark_filed(
            page.session,
            page.tenant_id,
            parse_period(key),
            confirm_warnings=checkbox(form, "confirm_warnings"),
            actor=page.actor,
        )
    except BelegwerkError as exc:
        return page.fail(USTVA_TEMPLATE, exc, lambda: _context(page, key))
    return redirect(f"/tax/ustva?period={key}", done="filed")


@pages.get("/tax/deadlines", response_class=HTMLResponse)
def deadlines_page(page: PageDep, year: int | None = None) -> HTMLResponse:
    chosen = year or today().year
    items = dl.calendar(page.session, page.tenant_id, chosen)
    return page.render("tax/deadlines.html", section="deadlines", year=chosen, items=items)
