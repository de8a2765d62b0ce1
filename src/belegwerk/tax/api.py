"""REST routes under /api/v1/tax: UStVA (boxes, drill-down, PDF, ELSTER XML, filing),
deadlines and the Kleinunternehmer monitor."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from belegwerk.core.dates import today
from belegwerk.tax import deadlines as dl
from belegwerk.tax import elster_xml, filings, ustva_pdf
from belegwerk.tax.monitor import small_business_monitor
from belegwerk.tax.periods import parse_period
from belegwerk.tax.ustva import compute, drilldown, parse_manual
from belegwerk.tenancy.service import get_company
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["tax"])


class FilingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(examples=["2026-03", "2026-Q1"])
    confirm_warnings: bool = False
    manual: dict[str, str] = Field(default_factory=dict, description="Kz 62, 64, 59, 65, 69")
    note: str = ""


class SpecialPrepaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int
    amount: str | None = Field(None, description="as fixed by the Finanzamt; empty = 1/11")


@router.get("/tax/ustva")
def get_ustva(ctx: CtxDep, period: str) -> dict[str, Any]:
    """Every Kennzahl of the period: bases as whole euros, taxes with cents; errors block,
    warnings need confirming before filing."""
    return compute(ctx.session, ctx.tenant_id, parse_period(period)).as_json()


@router.get("/tax/ustva/boxes/{kz}")
def get_box(ctx: CtxDep, kz: str, period: str) -> dict[str, Any]:
    """The postings behind one Kennzahl, with their signed share."""
    rows = drilldown(ctx.session, ctx.tenant_id, parse_period(period), kz)
    return {
        "kz": kz,
        "total": str(sum((r.amount for r in rows), Decimal(0))),
        "postings": [
            {
                "id": r.posting.id,
                "date": r.posting.posting_date.isoformat(),
                "voucher": r.posting.voucher,
                "text": r.posting.text,
                "source_type": r.posting.source_type,
                "source_id": r.posting.source_id,
                "amount": str(r.amount),
            }
            for r in rows
        ],
    }


@router.get("/tax/ustva.pdf", response_class=Response)
def get_pdf(ctx: CtxDep, period: str) -> Response:
    result = compute(ctx.session, ctx.tenant_id, parse_period(period))
    data = ustva_pdf.render(result, get_company(ctx.session, ctx.tenant_id))
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="UStVA_{result.period.key}.pdf"'},
    )


@router.get("/tax/ustva.xml", response_class=Response)
def get_xml(ctx: CtxDep, period: str) -> Response:
    result = compute(ctx.session, ctx.tenant_id, parse_period(period))
    data = elster_xml.build(result, get_company(ctx.session, ctx.tenant_id))
    return Response(
        data,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="UStVA_{result.period.key}.xml"'},
    )


@router.get("/tax/ustva/filings")
def list_filings(ctx: CtxDep, year: int | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "year": f.year,
            "zeitraum": f.period,
            "corrected": f.corrected,
            "result": str(f.result),
            "filed_at": f.filed_at.isoformat(),
        }
        for f in filings.filings_of(ctx.session, ctx.tenant_id, year)
    ]


@router.post("/tax/ustva/filings", status_code=201)
def file_ustva(ctx: CtxDep, body: FilingIn) -> dict[str, Any]:
    """ "Als abgegeben markieren": a record; a second filing of a period is a correction."""
    row = filings.mark_filed(
        ctx.session,
        ctx.tenant_id,
        parse_period(body.period),
        confirm_warnings=body.confirm_warnings,
        manual=parse_manual(body.manual),
        note=body.note,
        actor=ctx.actor,
    )
    return {"id": row.id, "corrected": row.corrected, "result": str(row.result)}


@router.post("/tax/special-prepayments", status_code=201)
def post_special_prepayment(ctx: CtxDep, body: SpecialPrepaymentIn) -> dict[str, Any]:
    row = filings.record_special_prepayment(
        ctx.session, ctx.tenant_id, body.year, body.amount, actor=ctx.actor
    )
    return {"year": row.year, "amount": str(row.amount), "source": row.source}


@router.get("/tax/deadlines")
def get_deadlines(ctx: CtxDep, year: int | None = None) -> list[dict[str, Any]]:
    items = dl.calendar(ctx.session, ctx.tenant_id, year or today().year)
    return [
        {
            "due": d.due.isoformat(),
            "kind": d.kind,
            "label": d.label,
            "period": d.period,
            "done": d.done,
            "overdue": d.overdue,
        }
        for d in items
    ]


@router.get("/tax/small-business-monitor")
def get_monitor(ctx: CtxDep, year: int | None = None) -> dict[str, Any]:
    m = small_business_monitor(ctx.session, ctx.tenant_id, year)
    crossing = m.crossing
    return {
        "year": m.year,
        "turnover": str(m.turnover),
        "prior_year_turnover": str(m.prior_year_turnover),
        "limit_prior_year": str(m.limit_prior),
        "limit_current_year": str(m.limit_current),
        "status": m.status,
        "crossing": None
        if crossing is None
        else {
            "date": crossing.day.isoformat(),
            "voucher": crossing.voucher,
            "text": crossing.text,
            "amount": str(crossing.amount),
            "running": str(crossing.running),
        },
    }
