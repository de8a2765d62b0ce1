"""The FastAPI application: mounts each capability's API routes and pages."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from belegwerk import __version__
from belegwerk.core import i18n
from belegwerk.core.db import get_engine
from belegwerk.core.errors import BelegwerkError, Conflict, ValidationFailed

STATIC = Path(__file__).resolve().parent / "static"

# Capability modules that expose ``router`` (API, under /api/v1) and ``pages`` (HTML).
API_MODULES = (
    "belegwerk.web.api",
    "belegwerk.tenancy.api",
    "belegwerk.books.api",
    "belegwerk.banking.api",
    "belegwerk.einvoice.api",
    "belegwerk.einvoice.write.api",
    "belegwerk.tax.api",
    "belegwerk.exports.api",
    "belegwerk.tax.eks.api",
    "belegwerk.tax.routes.euer",
    "belegwerk.tax.routes.assets",
)
PAGE_MODULES = (
    "belegwerk.web.pages",
    "belegwerk.books.pages.settings",
    "belegwerk.books.pages.cash",
    "belegwerk.books.pages.closing",
    "belegwerk.books.pages.invoices",
    "belegwerk.books.pages.parties",
    "belegwerk.books.pages.categories",
    "belegwerk.banking.pages.overview",
    "belegwerk.banking.pages.accounts",
    "belegwerk.banking.pages.imports",
    "belegwerk.banking.pages.transactions",
    "belegwerk.banking.pages.rules",
    "belegwerk.banking.pages.templates",
    "belegwerk.tax.pages",
    "belegwerk.exports.pages",
    "belegwerk.tax.eks.pages",
    "belegwerk.tax.euer_pages",
    "belegwerk.tax.asset_pages",
    "belegwerk.einvoice.write.pages",
)


def _error(
    status: int, code: str, message: str, details: Sequence[object] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": list(details or [])}},
        status_code=status,
    )


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    # Behind a reverse proxy the browser's host arrives as X-Forwarded-Host.
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")}
    return urlsplit(origin).netloc not in hosts - {""}


def _respond(request: Request, err: BelegwerkError) -> Response:
    """Every error the same way: the error page for a browser, the JSON shape for the API."""
    if _wants_html(request):
        from belegwerk.web.templating import render

        return render(request, "error.html", status_code=err.status_code, error=err)
    return _error(err.status_code, err.code, err.message, err.details)


def create_app(engine: Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="Belegwerk",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.engine = engine or get_engine()

    @app.middleware("http")
    async def locale_middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        lang = request.cookies.get("belegwerk_lang") or request.query_params.get("lang")
        if lang not in i18n.SUPPORTED:
            lang = i18n.DEFAULT_LOCALE
        token = i18n.current_locale.set(lang)
        try:
            return await call_next(request)
        finally:
            i18n.current_locale.reset(token)

    @app.middleware("http")
    async def same_origin_writes(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse writes sent by another site's page (CSRF): the embedded mode has no login, so
        a foreign page could otherwise post forms to http://127.0.0.1:8000 in the user's
        browser."""
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and _cross_site(request):
            err = BelegwerkError(
                "request.cross_site", i18n._("Requests from other websites are not accepted.")
            )
            err.status_code = 403
            return _respond(request, err)
        return await call_next(request)

    @app.exception_handler(BelegwerkError)
    async def domain_error(request: Request, exc: BelegwerkError) -> Response:
        return _respond(request, exc)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        """A uniqueness race between two simultaneous requests: the loser may simply retry."""
        message = i18n._("Someone changed the same data at the same moment; please try again.")
        return _respond(request, Conflict("db.conflict", message))

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        """Numbers beyond what the database stores (ids like 10**20) are bad input, not a crash."""
        message = i18n._("A number in the request is too large.")
        return _respond(request, ValidationFailed("request.out_of_range", message))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "problem": err.get("msg")}
            for err in exc.errors()
        ]
        message = i18n._("The request is invalid.")
        return _respond(request, ValidationFailed("request.invalid", message, details))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: i18n._("Not found."), 405: i18n._("Method not allowed.")}
        err = BelegwerkError(
            f"http.{exc.status_code}", messages.get(exc.status_code, str(exc.detail))
        )
        err.status_code = exc.status_code
        return _respond(request, err)

    for name in API_MODULES:
        app.include_router(import_module(name).router, prefix="/api/v1")
    for name in PAGE_MODULES:
        app.include_router(import_module(name).pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # In the background, so /api/v1/health answers at once after start.
    threading.Thread(target=warm_templates, name="warm-templates", daemon=True).start()
    return app


def warm_templates() -> None:
    """Compile every template once at start-up, so no user waits for Jinja's first compile."""
    from belegwerk.web.templating import env

    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
