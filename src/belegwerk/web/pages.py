"""Web pages shared by all capabilities: start page, language and company switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from belegwerk.web.deps import TENANT_COOKIE, CtxDep
from belegwerk.web.templating import render

pages = APIRouter(include_in_schema=False)


@pages.get("/", response_class=HTMLResponse)
def index(request: Request, ctx: CtxDep) -> HTMLResponse:
    return render(request, "index.html")


@pages.get("/switch/{slug}")
def switch_tenant(slug: str) -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(TENANT_COOKIE, slug, samesite="lax")
    return response


@pages.get("/lang/{lang}")
def switch_language(lang: str, request: Request) -> RedirectResponse:
    response = RedirectResponse(request.headers.get("referer") or "/", status_code=303)
    if lang in ("de", "en"):
        response.set_cookie("belegwerk_lang", lang, samesite="lax")
    return response
