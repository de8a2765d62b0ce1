"""The "Exporte" page: period, checks, downloads (DATEV, Debitoren/Kreditoren, AGENDA, GDPdU),
DATEV import, Festschreibung setting and the export log.

Downloads are POST forms answered with the file; a refused export shows the page again with
the German message (4xx), nothing is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.exports import service
from belegwerk.exports.agenda import export_agenda
from belegwerk.exports.datev_export import export_datev, prepare
from belegwerk.exports.datev_import import import_file, import_warnings, list_imports
from belegwerk.exports.datev_parse import MAX_FILE_BYTES
from belegwerk.exports.datev_parties import export_parties
from belegwerk.exports.gdpdu import export_gdpdu
from belegwerk.exports.period import parse_day
from belegwerk.tenancy.service import get_company
from belegwerk.web.ui import FormDep, Page, PageDep, checkbox, redirect, text

pages = APIRouter(include_in_schema=False)
TEMPLATE = "exports/exports.html"
LOG_ROWS = 20


def _notices() -> dict[str, str]:
    return {
        "settings": _("The export settings have been saved."),
        "imported": _("The DATEV file has been imported."),
    }


def _default_period() -> tuple[date, date]:
    """The last complete month: what a tax advisor usually asks for."""
    first_this_month = today().replace(day=1)
    last = first_this_month - timedelta(days=1)
    return last.replace(day=1), last


def _context(page: Page, form: dict[str, str], *, checks: bool) -> dict[str, Any]:
    company = get_company(page.session, page.tenant_id)
    log = service.list_log(page.session, page.tenant_id, 1, LOG_ROWS)
    ctx: dict[str, Any] = {
        "section": "exports",
        "form": form,
        "company": company,
        "lock": service.export_settings(page.session, page.tenant_id).datev_lock,
        "log": log,
        "log_rows": [(e, service.confirmed_warnings(e)) for e in log.items],
        "imports": [(b, import_warnings(b)) for b in list_imports(page.session, page.tenant_id)],
        "years": list(range(today().year, today().year - 11, -1)),
        "notice": _notices().get(page.request.query_params.get("done", ""), ""),
        "prepared": None,
        "kinds": {
            "datev": _("DATEV Buchungsstapel"),
            "datev_parties": _("DATEV Debitoren/Kreditoren"),
            "agenda": _("AGENDA (with vouchers)"),
            "gdpdu": _("GDPdU (tax audit)"),
        },
    }
    if checks:
        ctx["prepared"] = prepare(
            page.session,
            page.tenant_id,
            parse_day(form.get("from"), "from"),
            parse_day(form.get("to"), "to"),
        )
    return ctx


@pages.get("/exports", response_class=HTMLResponse)
def exports_page(page: PageDep, request: Request) -> HTMLResponse:
    start, end = _default_period()
    params = request.query_params
    form = {
        "from": params.get("from", start.isoformat()),
        "to": params.get("to", end.isoformat()),
        "year": params.get("year", str(today().year - 1)),
    }
    checks = "from" in params and "to" in params
    try:
        return page.render(TEMPLATE, **_context(page, form, checks=checks))
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page, form, checks=False))


def _period_form(form: Any) -> dict[str, str]:
    return {"from": text(form, "from"), "to": text(form, "to"), "year": text(form, "year")}


def _file(export: service.ExportFile) -> Response:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
    )


def _deliver(
    page: Page, values: dict[str, str], make: Callable[[], service.ExportFile]
) -> Response:
    """The file, or the page again with the German message (nothing logged)."""
    try:
        return _file(make())
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page, values, checks=False))


def _period_export(page: Page, form: Any, export: service.PeriodExport) -> Response:
    values = _period_form(form)
    return _deliver(
        page,
        values,
        lambda: export(
            page.session,
            page.tenant_id,
            parse_day(values["from"], "from"),
            parse_day(values["to"], "to"),
            actor=page.actor,
            confirm_warnings=checkbox(form, "confirm_warnings"),
        ),
    )


@pages.post("/exports/datev", response_model=None)
def datev_download(page: PageDep, form: FormDep) -> Response:
    return _period_export(page, form, export_datev)


@pages.post("/exports/agenda", response_model=None)
def agenda_download(page: PageDep, form: FormDep) -> Response:
    return _period_export(page, form, export_agenda)


@pages.post("/exports/datev/parties", response_model=None)
def parties_download(page: PageDep, form: FormDep) -> Response:
    return _deliver(
        page,
        _period_form(form),
        lambda: export_parties(page.session, page.tenant_id, actor=page.actor),
    )


@pages.post("/exports/gdpdu", response_model=None)
def gdpdu_download(page: PageDep, form: FormDep) -> Response:
    values = _period_form(form)
    try:
        year = text(form, "year")
        if not year.isdigit():
            raise ValidationFailed(
                "export.invalid_year",
                _("Please choose a year."),
                [{"field": "year", "value": year}],
            )
        export, _delivery = export_gdpdu(page.session, page.tenant_id, int(year), actor=page.actor)
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page, values, checks=False))
    return _file(export)


@pages.post("/exports/settings", response_model=None)
def save_settings(page: PageDep, form: FormDep) -> RedirectResponse:
    service.set_datev_lock(page.session, page.tenant_id, checkbox(form, "datev_lock"), page.actor)
    return redirect("/exports", done="settings")


@pages.post("/exports/datev/import", response_model=None)
def datev_upload(page: PageDep, form: FormDep) -> Response:
    values = _period_form(form)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed(
                "datev.no_file", _("Please choose a DATEV file."), [{"field": "file"}]
            )
        content = upload.file.read(MAX_FILE_BYTES + 1)  # more is refused by the parser
        import_file(page.session, page.tenant_id, content, upload.filename, page.actor)
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page, values, checks=False))
    return redirect("/exports", done="imported")
