"""Download buttons of the invoice page: ``/invoices/{id}/einvoice/{format}``.

A file that can be written is sent as a download (and archived the first time); if it cannot,
the invoice page comes back with the German message naming what is missing.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from belegwerk.books.pages.invoices import DETAIL_TEMPLATE, _detail_context
from belegwerk.core.db import lock_tenant
from belegwerk.core.errors import BelegwerkError
from belegwerk.einvoice.write.service import parse_target, write_einvoice
from belegwerk.web.ui import PageDep

pages = APIRouter(include_in_schema=False)


@pages.get("/invoices/{invoice_id}/einvoice/{fmt}", response_model=None)
def einvoice_download(invoice_id: int, fmt: str, page: PageDep) -> Response | HTMLResponse:
    try:
        target = parse_target(fmt)
        lock_tenant(page.session, page.tenant_id)  # archiving writes to the audit chain
        written = write_einvoice(page.session, page.tenant_id, invoice_id, target, page.actor)
    except BelegwerkError as exc:
        return page.fail(DETAIL_TEMPLATE, exc, lambda: _detail_context(page, invoice_id))
    return Response(
        written.content,
        media_type=written.media_type,
        headers={"Content-Disposition": f'attachment; filename="{written.file_name}"'},
    )
