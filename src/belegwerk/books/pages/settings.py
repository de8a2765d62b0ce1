"""Company settings page: master data, VAT regime, chart of accounts, DATEV numbers."""

from __future__ import annotations

from typing import Any

from babel.dates import get_month_names
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import babel_locale
from belegwerk.tenancy import service
from belegwerk.tenancy.service import COMPANY_FIELDS
from belegwerk.web.ui import FormDep, PageDep, checkbox, parse_int, redirect, text

pages = APIRouter(include_in_schema=False)

TEMPLATE = "books/settings.html"


def _months() -> list[tuple[int, str]]:
    names = get_month_names("wide", locale=babel_locale())
    return [(m, str(names[m])) for m in range(1, 13)]


def _show(page: PageDep, form: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"section": "settings", "form": form, "months": _months(), **extra}


@pages.get("/settings", response_class=HTMLResponse)
def settings_form(page: PageDep) -> HTMLResponse:
    company = service.get_company(page.session, page.tenant_id)
    form = {f: getattr(company, f) for f in COMPANY_FIELDS}
    return page.render(TEMPLATE, **_show(page, form, configured=company.configured))


@pages.post("/settings", response_model=None)
def settings_save(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values: dict[str, Any] = {
        f: text(form, f)
        for f in COMPANY_FIELDS
        if f not in ("filing_extension", "fiscal_year_start_month")
    }
    for choice in ("vat_regime", "vat_accounting", "ustva_period", "activity", "chart"):
        if not values.get(choice):
            values.pop(choice, None)  # nothing chosen: keep the current value
    values["filing_extension"] = checkbox(form, "filing_extension")
    values["country"] = (values.get("country") or "DE").upper()
    try:
        values["fiscal_year_start_month"] = (
            parse_int(text(form, "fiscal_year_start_month"), "fiscal_year_start_month") or 1
        )
        service.update_company(page.session, page.tenant_id, values, page.actor)
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, **_show(page, values, configured=True))
    return redirect("/settings", done="settings")
