"""``GET /api/v1/invoices/{id}/einvoice?format=xrechnung-ubl|xrechnung-cii|zugferd``.

Answers the file itself (XML or PDF, as an attachment) and archives it with the invoice the
first time; later calls return the archived file. A draft (409), an incoming invoice, data the
format needs but the books lack, or a file our validator would refuse (422) are answered with
the usual error JSON.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from belegwerk.core.db import lock_tenant
from belegwerk.einvoice.write.service import parse_target, write_einvoice
from belegwerk.einvoice.write.source import Target
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["einvoices"])


@router.get(
    "/invoices/{invoice_id}/einvoice",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}, "application/pdf": {}}}},
)
def download_einvoice(
    invoice_id: int,
    ctx: CtxDep,
    format: Annotated[
        str, Query(description="xrechnung-ubl, xrechnung-cii or zugferd")
    ] = Target.XRECHNUNG_UBL.value,
) -> Response:
    """The e-invoice of a booked outgoing invoice, validated and archived."""
    target = parse_target(format)
    lock_tenant(ctx.session, ctx.tenant_id)  # archiving writes to the audit chain
    written = write_einvoice(ctx.session, ctx.tenant_id, invoice_id, target, ctx.actor)
    return Response(
        written.content,
        media_type=written.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{written.file_name}"',
            "X-Belegwerk-SHA256": written.sha256,
        },
    )
