"""REST routes of the exports, under /api/v1/exports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from belegwerk.core.db import owned_row
from belegwerk.core.i18n import _
from belegwerk.exports import service
from belegwerk.exports.agenda import export_agenda
from belegwerk.exports.datev_export import export_datev, prepare
from belegwerk.exports.datev_import import import_file, import_warnings, list_imports
from belegwerk.exports.datev_parse import MAX_FILE_BYTES
from belegwerk.exports.datev_parties import export_parties
from belegwerk.exports.gdpdu import export_gdpdu
from belegwerk.exports.models import DatevImport
from belegwerk.exports.period import parse_day
from belegwerk.web.deps import Ctx, CtxDep

router = APIRouter(prefix="/exports", tags=["exports"])


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from", description="first day, YYYY-MM-DD")
    end: str = Field(alias="to", description="last day, YYYY-MM-DD")
    confirm_warnings: bool = False


class YearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int


class SettingsIO(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datev_lock: bool


class FindingOut(BaseModel):
    level: str
    code: str
    message: str
    count: int
    details: list[dict[str, Any]]


class ChecksOut(BaseModel):
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    fiscal_year_start: date
    bookings: int
    ok: bool
    findings: list[FindingOut]


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    period_start: date | None
    period_end: date | None
    records: int
    file_name: str
    sha256: str
    size: int
    locked: bool
    warnings: list[dict[str, Any]]
    created_at: datetime
    created_by: str


class LogPage(BaseModel):
    items: list[LogOut]
    total: int
    page: int
    page_size: int


class ImportOut(BaseModel):
    id: int
    file_name: str
    sha256: str
    marker: str
    header_version: int
    format_version: int
    advisor_number: str
    client_number: str
    period_start: date | None
    period_end: date | None
    rows: int
    imported: int
    skipped: int
    uncategorised: int
    warnings: list[dict[str, Any]]
    created_at: datetime


def _download(export: service.ExportFile) -> Response:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.file_name}"',
            "X-Belegwerk-Records": str(export.records),
            "X-Belegwerk-Export-Log": str(export.log_id),
        },
    )


def _import_out(batch: DatevImport) -> ImportOut:
    return ImportOut(
        **{
            k: getattr(batch, k)
            for k in ImportOut.model_fields
            if k not in ("warnings",) and hasattr(batch, k)
        },
        warnings=import_warnings(batch),
    )


@router.get("/datev/checks", response_model=ChecksOut, response_model_by_alias=True)
def datev_checks(
    ctx: CtxDep,
    start: Annotated[str, Query(alias="from")],
    end: Annotated[str, Query(alias="to")],
) -> ChecksOut:
    """The checks before a DATEV export: errors block it, warnings need confirming."""
    prepared = prepare(ctx.session, ctx.tenant_id, parse_day(start, "from"), parse_day(end, "to"))
    return ChecksOut(
        start=prepared.period.start,
        end=prepared.period.end,
        fiscal_year_start=prepared.period.fiscal_year_start,
        bookings=len(prepared.lines),
        ok=not prepared.findings.errors,
        findings=[FindingOut(**f.to_dict()) for f in prepared.findings.items],
    )


def _period_file(body: PeriodIn, ctx: Ctx, export: service.PeriodExport) -> Response:
    return _download(
        export(
            ctx.session,
            ctx.tenant_id,
            parse_day(body.start, "from"),
            parse_day(body.end, "to"),
            actor=ctx.actor,
            confirm_warnings=body.confirm_warnings,
        )
    )


@router.post("/datev", response_class=Response)
def datev_file(body: PeriodIn, ctx: CtxDep) -> Response:
    """The Buchungsstapel as EXTF_….csv (Windows-1252); 422 with the errors, 409 while
    warnings are not confirmed."""
    return _period_file(body, ctx, export_datev)


@router.post("/datev/parties", response_class=Response)
def datev_parties(ctx: CtxDep) -> Response:
    """Debitoren/Kreditoren (category 16) of every customer and supplier."""
    return _download(export_parties(ctx.session, ctx.tenant_id, actor=ctx.actor))


@router.post("/datev/imports", response_model=ImportOut, status_code=201)
def datev_import(ctx: CtxDep, file: Annotated[UploadFile, File()]) -> ImportOut:
    """Import a DATEV Buchungsstapel into the journal (all lines or none)."""
    content = file.file.read(MAX_FILE_BYTES + 1)  # more is refused by the parser
    result = import_file(
        ctx.session, ctx.tenant_id, content, file.filename or "datev.csv", ctx.actor
    )
    return _import_out(result.batch)


@router.get("/datev/imports", response_model=list[ImportOut])
def datev_imports(ctx: CtxDep) -> list[ImportOut]:
    return [_import_out(b) for b in list_imports(ctx.session, ctx.tenant_id)]


@router.get("/datev/imports/{import_id}", response_model=ImportOut)
def datev_import_detail(import_id: int, ctx: CtxDep) -> ImportOut:
    batch = owned_row(
        ctx.session,
        DatevImport,
        ctx.tenant_id,
        import_id,
        code="datev.import_not_found",
        message=_("Unknown DATEV import: {id}").format(id=import_id),
        field="import_id",
    )
    return _import_out(batch)


@router.post("/agenda", response_class=Response)
def agenda_file(body: PeriodIn, ctx: CtxDep) -> Response:
    """Buchungsstapel and voucher files as one ZIP for AGENDA."""
    return _period_file(body, ctx, export_agenda)


@router.post("/gdpdu", response_class=Response)
def gdpdu_file(body: YearIn, ctx: CtxDep) -> Response:
    """The GDPdU delivery of a fiscal year (index.xml and CSV files) as ZIP."""
    export, _delivery = export_gdpdu(ctx.session, ctx.tenant_id, body.year, actor=ctx.actor)
    return _download(export)


@router.get("/log", response_model=LogPage)
def export_log(ctx: CtxDep, page: int = 1, page_size: int = 50) -> LogPage:
    """Every export: period, records, SHA-256, who, when, confirmed warnings."""
    found = service.list_log(ctx.session, ctx.tenant_id, page, page_size)
    items = [
        LogOut.model_validate(
            {
                **{k: getattr(e, k) for k in LogOut.model_fields if k != "warnings"},
                "warnings": service.confirmed_warnings(e),
            }
        )
        for e in found.items
    ]
    return LogPage(items=items, total=found.total, page=found.page, page_size=found.page_size)


@router.get("/settings", response_model=SettingsIO)
def get_settings(ctx: CtxDep) -> SettingsIO:
    return SettingsIO(datev_lock=service.export_settings(ctx.session, ctx.tenant_id).datev_lock)


@router.put("/settings", response_model=SettingsIO)
def put_settings(body: SettingsIO, ctx: CtxDep) -> SettingsIO:
    """Festschreibung (DATEV header field 21) for future DATEV and AGENDA exports."""
    lock = service.set_datev_lock(ctx.session, ctx.tenant_id, body.datev_lock, ctx.actor)
    return SettingsIO(datev_lock=lock)
