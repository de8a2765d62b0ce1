"""REST routes of e-invoices (under /api/v1/einvoices).

``POST /einvoices/validate`` takes one or many files (multipart field ``files``) and answers
one result per file, in the order sent, like ``belegwerk einvoice validate --json``. A file
that is no e-invoice at all gets its ``error`` within the list, so one bad file does not cost
the verdicts of the others; the request itself is refused (4xx) when it has no file, more than
``MAX_FILES`` files, a file over the size limit (413) or a body too large to be an upload of
e-invoices (413, refused from its Content-Length before it is read). Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.einvoice.carrier import MAX_FILE_BYTES, too_large
from belegwerk.einvoice.findings import Strictness
from belegwerk.einvoice.output import report_dict
from belegwerk.einvoice.validate import validate_file

MAX_FILES = 50
MAX_REQUEST_BYTES = 64 * 1024 * 1024


class PayloadTooLarge(BelegwerkError):
    status_code = 413


class _UploadLimitRoute(APIRoute):
    """Refuses an oversized request from its Content-Length, before the body is read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_REQUEST_BYTES:
                err = PayloadTooLarge(
                    "einvoice.too_large",
                    _("The upload is larger than {limit} MB.").format(
                        limit=MAX_REQUEST_BYTES // (1024 * 1024)
                    ),
                    [{"size": int(length), "max": MAX_REQUEST_BYTES}],
                )
                return JSONResponse(err.to_dict(), status_code=413)
            return await handler(request)

        return limited


router = APIRouter(tags=["einvoices"], route_class=_UploadLimitRoute)


class LocationOut(BaseModel):
    xpath: str
    line: int | None


class FindingOut(BaseModel):
    rule: str
    bt: str | None
    message: str
    location: LocationOut | None


class ErrorOut(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]]


class EinvoiceReportOut(BaseModel):
    file: str
    format: str | None
    container: str | None
    syntax: str | None
    profile: str | None
    xrechnung_version: str | None
    valid: bool | None
    accepted: bool | None
    strictness: str
    errors: list[FindingOut]
    warnings: list[FindingOut]
    information: list[FindingOut]
    notes: list[str]
    error: ErrorOut | None = None


@router.post("/einvoices/validate", response_model=list[EinvoiceReportOut])
def validate(
    files: Annotated[list[UploadFile], File(description="XML or PDF e-invoices")],
    strictness: Annotated[Strictness, Form()] = Strictness.STANDARD,
) -> list[dict[str, Any]]:
    """Validate like the official validators; one result per file, nothing is stored."""
    if not files:
        raise ValidationFailed("einvoice.no_file", _("No file was sent."), [{"field": "files"}])
    if len(files) > MAX_FILES:
        raise ValidationFailed(
            "einvoice.too_many_files",
            _("At most {limit} files can be validated at once.").format(limit=MAX_FILES),
            [{"field": "files", "count": len(files), "max": MAX_FILES}],
        )
    uploads = []
    for upload in files:
        name = upload.filename or "upload"
        content = upload.file.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            refused = too_large(name, len(content))
            raise PayloadTooLarge(refused.code, refused.message, refused.details)
        uploads.append((name, content))
    return [report_dict(validate_file(content, name, strictness)) for name, content in uploads]
