"""REST routes of the Anlage EKS under /api/v1/tax/eks.

Every route names the period and kind in the query (``from=2026-01&to=2026-06&kind=final``);
bad months, a reversed or too long period answer 422 with the German message.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from belegwerk.tax.eks import exports, inputs
from belegwerk.tax.eks.form import form_for
from belegwerk.tax.eks.pdf import render_pdf
from belegwerk.tax.eks.period import Period, parse_kind, parse_month, parse_period
from belegwerk.tax.eks.service import Report, build_report, drilldown
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["tax-eks"])

FromQ = Annotated[
    str, Query(alias="from", description="First month, YYYY-MM", examples=["2026-01"])
]
ToQ = Annotated[str, Query(alias="to", description="Last month, YYYY-MM", examples=["2026-06"])]
KindQ = Annotated[str, Query(description="provisional | final", examples=["final"])]

MEDIA = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _report(ctx: CtxDep, start: str, end: str, kind: str) -> Report:
    return build_report(ctx.session, ctx.tenant_id, parse_period(start, end), parse_kind(kind))


@router.get("/tax/eks")
def eks(ctx: CtxDep, start: FromQ, end: ToQ, kind: KindQ) -> dict[str, Any]:
    """The filled tables A, B and C, the profit, warnings and the allowance view."""
    return exports.to_json(_report(ctx, start, end, kind))


def _input_out(loaded: inputs.LoadedMask) -> dict[str, Any]:
    source_period = loaded.source_period
    return {
        "input": inputs.to_data(loaded.mask),
        "source": loaded.source,
        "source_period": (
            {"from": f"{source_period.start:%Y-%m}", "to": f"{source_period.end:%Y-%m}"}
            if source_period
            else None
        ),
        "source_kind": loaded.source_kind,
    }


@router.get("/tax/eks/input")
def get_input(ctx: CtxDep, start: FromQ, end: ToQ, kind: KindQ) -> dict[str, Any]:
    """The saved mask, or the one pre-filled from the last declaration (``source`` says which)."""
    period, kind = parse_period(start, end), parse_kind(kind)
    form = form_for(period.start)
    return _input_out(inputs.load_mask(ctx.session, ctx.tenant_id, form, period, kind))


@router.put("/tax/eks/input")
def put_input(
    ctx: CtxDep,
    start: FromQ,
    end: ToQ,
    kind: KindQ,
    body: Annotated[dict[str, Any], Body(examples=[{"car_use": "private", "km": {}}])],
) -> dict[str, Any]:
    """Store the mask (the whole of it: what is left out is emptied); audited."""
    period, kind = parse_period(start, end), parse_kind(kind)
    form = form_for(period.start)
    mask = inputs.parse_mask(form, period, body)
    inputs.save_mask(ctx.session, ctx.tenant_id, period, kind, mask, form, ctx.actor)
    return _input_out(inputs.LoadedMask(mask, "saved"))


def _month(value: str | None) -> date | None:
    return parse_month(value, "month") if value else None


@router.get("/tax/eks/drilldown")
def eks_drilldown(
    ctx: CtxDep,
    start: FromQ,
    end: ToQ,
    kind: KindQ,
    line: Annotated[str, Query(examples=["B8"])],
    month: Annotated[str | None, Query(examples=["2026-03"])] = None,
) -> list[dict[str, Any]]:
    """The bookings behind a figure: per month the value, how it came about and the postings."""
    report = _report(ctx, start, end, kind)
    return [
        {
            "line": d.line,
            "month": f"{d.month:%Y-%m}",
            "value": str(d.value),
            "how": d.how,
            "basis": (
                {"from": f"{d.basis.start:%Y-%m}", "to": f"{d.basis.end:%Y-%m}"}
                if d.basis
                else None
            ),
            "km": str(d.km) if d.km is not None else None,
            "rate": str(d.rate) if d.rate is not None else None,
            "bookings": [
                {
                    "posting_id": c.flow.posting_id,
                    "date": c.flow.day.isoformat(),
                    "voucher": c.flow.voucher,
                    "text": c.flow.text,
                    "category": c.flow.category,
                    "amount": str(c.amount),
                }
                for c in d.contributions
            ],
        }
        for d in drilldown(report, line, _month(month))
    ]


def _file(report: Report, fmt: str) -> Response:
    if fmt == "pdf":
        content = render_pdf(report)
    elif fmt == "csv":
        content = exports.to_csv(report)
    else:
        content = exports.to_xlsx(report)
    name = exports.file_name(report, fmt)
    return Response(
        content=content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/tax/eks/pdf", response_class=Response)
def eks_pdf(ctx: CtxDep, start: FromQ, end: ToQ, kind: KindQ) -> Response:
    """The filled form as PDF, laid out like Jobcenter-EKS 04/2025."""
    return _file(_report(ctx, start, end, kind), "pdf")


@router.get("/tax/eks/csv", response_class=Response)
def eks_csv(ctx: CtxDep, start: FromQ, end: ToQ, kind: KindQ) -> Response:
    """Tables A, B and C as CSV (semicolon, decimal comma, UTF-8 with BOM)."""
    return _file(_report(ctx, start, end, kind), "csv")


@router.get("/tax/eks/xlsx", response_class=Response)
def eks_xlsx(ctx: CtxDep, start: FromQ, end: ToQ, kind: KindQ) -> Response:
    """Tables, table C, the answers and the warnings as an Excel workbook."""
    return _file(_report(ctx, start, end, kind), "xlsx")


def period_query(period: Period, kind: str) -> str:
    return f"from={period.start:%Y-%m}&to={period.end:%Y-%m}&kind={kind}"
