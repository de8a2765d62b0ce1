"""Categories page: the master categories with the tenant's effective accounts and overrides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

from belegwerk.books import categories as service
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import current_locale
from belegwerk.web.ui import FormDep, Page, PageDep, redirect, text

pages = APIRouter(include_in_schema=False)

TEMPLATE = "books/categories.html"
KIND_ORDER = ("revenue", "expense", "asset", "private", "transfer")


def _context(page: Page, **extra: Any) -> dict[str, Any]:
    views = service.list_categories(page.session, page.tenant_id)
    views.sort(key=lambda v: (KIND_ORDER.index(v.category.kind), v.category.sort_order))
    return {
        "section": "categories",
        "views": views,
        "english": current_locale.get() == "en",
        "chart": page.nav.chart,
        **extra,
    }


@pages.get("/categories", response_class=HTMLResponse)
def categories_page(page: PageDep) -> HTMLResponse:
    return page.render(TEMPLATE, **_context(page))


@pages.post("/categories/{category_id}/override", response_model=None)
def save_override(
    category_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    values = {k: text(form, k) for k in ("skr03_account", "skr04_account")}
    try:
        service.set_override(
            page.session,
            page.tenant_id,
            category_id,
            skr03_account=values["skr03_account"] or None,
            skr04_account=values["skr04_account"] or None,
            actor=page.actor,
        )
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page, open_id=category_id, form=values))
    return redirect("/categories", done="override")


@pages.post("/categories/{category_id}/override/delete", response_model=None)
def delete_override(category_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    try:
        service.clear_override(page.session, page.tenant_id, category_id, actor=page.actor)
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page))
    return redirect("/categories", done="override_reset")
