"""Anlage EÜR pages: the year with its checks and downloads, and every line's postings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import _
from belegwerk.tax.euer import EuerReport, euer_report, first_year, line_detail
from belegwerk.tax.euer_export import elster_rows, section_title
from belegwerk.tax.routes.euer import download
from belegwerk.web.deps import Ctx
from belegwerk.web.ui import Page, PageDep

pages = APIRouter(include_in_schema=False)

SECTION = "euer"


def year_options(page: Page) -> list[int]:
    """The years the books have, newest first."""
    return list(range(today().year, first_year(page.session, page.tenant_id) - 1, -1))


def default_year(page: Page) -> int:
    """The last finished year when the books reach back to it, else this year."""
    current = today().year
    return current - 1 if first_year(page.session, page.tenant_id) < current else current


def rule_labels() -> dict[str, str]:
    return {
        "invoice": _("regular payment of an invoice"),
        "vat_prepayment": _("VAT prepayment"),
    }


def source_link(source_type: str, source_id: int, invoice_id: int | None) -> str:
    """Where a posting of the drill-down can be opened."""
    if invoice_id is not None or source_type == "invoice":
        return f"/invoices/{invoice_id or source_id}"
    if source_type in ("bank_tx", "bank_tx_rev"):
        return f"/bank/transactions/{source_id}"
    if source_type == "cash_entry":
        return f"/cash#entry-{source_id}"
    return ""


@pages.get("/tax/euer", response_class=HTMLResponse)
def euer_page(page: PageDep, year: Annotated[int | None, Query()] = None) -> HTMLResponse:
    chosen = year if year is not None else default_year(page)
    context: dict[str, Any] = {
        "section": SECTION,
        "year": chosen,
        "years": year_options(page),
        "section_title": section_title,
        "rule_labels": rule_labels(),
    }
    try:
        report: EuerReport = euer_report(page.session, page.tenant_id, chosen)
    except BelegwerkError as exc:
        return page.fail("tax/euer.html", exc, lambda: {"years": year_options(page)}, **context)
    return page.render(
        "tax/euer.html",
        report=report,
        elster=elster_rows(report),
        warnings=[n for n in report.notices if n.level == "warning"],
        infos=[n for n in report.notices if n.level != "warning"],
        **context,
    )


@pages.get("/tax/euer/{year}/lines/{kz}", response_class=HTMLResponse)
def line_page(year: int, kz: str, page: PageDep) -> HTMLResponse:
    detail = line_detail(page.session, page.tenant_id, year, kz)
    return page.render(
        "tax/euer_line.html",
        section=SECTION,
        year=year,
        detail=detail,
        source_link=source_link,
        section_title=section_title,
    )


@pages.get("/tax/euer/{year}/download.{fmt}")
def download_page(year: int, fmt: str, page: PageDep) -> Response:
    return download(
        Ctx(session=page.session, tenant_id=page.tenant_id, tenant_slug="", actor=page.actor),
        year,
        fmt,
    )
