"""REST routes of the Anlage EÜR (under /api/v1/tax/euer)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response

from belegwerk.core.errors import NotFound
from belegwerk.core.i18n import _
from belegwerk.tax import assets as register
from belegwerk.tax.euer import Line, euer_report, line_detail
from belegwerk.tax.euer_export import csv_bytes, elster_rows, pdf_bytes, report_dict, xlsx_bytes
from belegwerk.tax.euer_schemas import (
    AssetAmountOut,
    DrillRowOut,
    ElsterRowOut,
    EuerLineOut,
    EuerOut,
    LineDetailOut,
)
from belegwerk.web.deps import Ctx, CtxDep

router = APIRouter(tags=["euer"])

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def line_out(line: Line) -> EuerLineOut:
    return EuerLineOut(
        kz=line.kz,
        zeile=line.zeile,
        field=line.field,
        elster=line.elster,
        label=line.label,
        section=line.section,
        counted=line.counted,
        sum=line.is_sum,
        amount=line.amount,
    )


@router.get("/tax/euer/{year}", response_model=EuerOut)
def get_euer(year: int, ctx: CtxDep) -> EuerOut:
    """Every line of the year's Anlage EÜR with the checks and the ten-day-rule moves."""
    return EuerOut.model_validate(report_dict(euer_report(ctx.session, ctx.tenant_id, year)))


@router.get("/tax/euer/{year}/elster", response_model=list[ElsterRowOut])
def get_elster_table(year: int, ctx: CtxDep) -> list[ElsterRowOut]:
    """The filled fields keyed by ELSTER field name, for typing into Mein ELSTER."""
    report = euer_report(ctx.session, ctx.tenant_id, year)
    return [ElsterRowOut.model_validate(row) for row in elster_rows(report)]


@router.get("/tax/euer/{year}/lines/{kz}", response_model=LineDetailOut)
def get_line(year: int, kz: str, ctx: CtxDep) -> LineDetailOut:
    """The postings, payments and assets behind one Kennzahl."""
    detail = line_detail(ctx.session, ctx.tenant_id, year, kz)
    return LineDetailOut(
        line=line_out(detail.line),
        rows=[DrillRowOut.model_validate(asdict(r)) for r in detail.rows],
        assets=[AssetAmountOut.model_validate(asdict(a)) for a in detail.assets],
        parts=[line_out(p) for p in detail.parts],
        note=detail.note,
    )


@router.get(
    "/tax/euer/{year}/export.{fmt}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/pdf": {},
                MEDIA_TYPES["xlsx"]: {},
            }
        }
    },
)
def export(year: int, fmt: str, ctx: CtxDep) -> Response:
    """The EÜR as CSV, Excel (with the ELSTER table and the asset register) or PDF."""
    return download(ctx, year, fmt)


def download(ctx: Ctx, year: int, fmt: str) -> Response:
    """Shared by the API and the web page."""
    if fmt not in MEDIA_TYPES:
        raise NotFound(
            "euer.unknown_format",
            _("Unknown format {fmt}; use csv, xlsx or pdf.").format(fmt=fmt),
            [{"field": "fmt", "value": fmt}],
        )
    report = euer_report(ctx.session, ctx.tenant_id, year)
    if fmt == "csv":
        content = csv_bytes(report)
    else:
        rows = register.register(ctx.session, ctx.tenant_id, report.year)
        content = xlsx_bytes(report, rows) if fmt == "xlsx" else pdf_bytes(report, rows)
    filename = f"anlage-euer-{report.year}.{fmt}"
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
