"""Web pages shared by all capabilities: start page, language and company switch."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from belegwerk.books.dashboard import dashboard
from belegwerk.tax.deadlines import upcoming
from belegwerk.web.deps import TENANT_COOKIE
from belegwerk.web.ui import PageDep, local_url

pages = APIRouter(include_in_schema=False)


@pages.get("/", response_class=HTMLResponse)
def index(page: PageDep) -> HTMLResponse:
    today = date.today()
    data = dashboard(page.session, page.tenant_id, today)
    due = upcoming(page.session, page.tenant_id, today)
    return page.render("index.html", section="home", d=data, today=today, deadlines=due)


@pages.get("/switch/{slug}")
def switch_tenant(slug: str) -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(TENANT_COOKIE, slug, samesite="lax")
    return response


def _back(referer: str | None) -> str:
    """Back to the page the switch was clicked on: same site only, without its flash message."""
    if not referer:
        return "/"
    parts = urlsplit(referer)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "done"])
    return local_url(parts.path + (f"?{query}" if query else ""), "/")


@pages.get("/lang/{lang}")
def switch_language(lang: str, request: Request) -> RedirectResponse:
    response = RedirectResponse(_back(request.headers.get("referer")), status_code=303)
    if lang in ("de", "en"):
        response.set_cookie("belegwerk_lang", lang, samesite="lax")
    return response
