"""REST routes of the cash book (Kassenbuch) and the daily closing (Tagesabschluss)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from belegwerk.books import cash, closing
from belegwerk.books.closing_pdf import closings_month_pdf
from belegwerk.books.models import CashEntry
from belegwerk.books.schemas_cash import (
    BalanceOut,
    CashEntryIn,
    CashEntryOut,
    CashEntryPageOut,
    ClosingIn,
    ClosingOut,
    ClosingProblemOut,
    ExpectedOut,
    OpeningIn,
    OpeningOut,
    ReminderOut,
    ReverseIn,
    StatisticsOut,
    VerifyOut,
)
from belegwerk.core.dates import today
from belegwerk.core.i18n import _
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["cash"])

DateFrom = Annotated[date | None, Query(alias="from")]
DateTo = Annotated[date | None, Query(alias="to")]


def _entry_out(
    entry: CashEntry, *, balance: Any = None, reversed_by_id: int | None = None
) -> CashEntryOut:
    return CashEntryOut(
        id=entry.id,
        voucher_number=entry.voucher_number,
        voucher=cash.voucher_text(entry.voucher_number),
        entry_date=entry.entry_date,
        description=entry.description,
        category_id=entry.category_id,
        payment_method=entry.payment_method,
        direction=entry.direction,
        net=entry.net,
        vat_rate=entry.vat_rate,
        vat=entry.vat,
        gross=entry.gross,
        input_vat_deductible=entry.input_vat_deductible,
        reverses_id=entry.reverses_id,
        reversal_reason=entry.reversal_reason,
        reversed_by_id=reversed_by_id,
        invoice_id=entry.invoice_id,
        payment_id=entry.payment_id,
        created_at=entry.created_at,
        created_by=entry.created_by,
        balance=balance,
    )


# --------------------------------------------------------------------------- opening balance


@router.get("/cash/opening", response_model=OpeningOut | None)
def get_opening(ctx: CtxDep) -> Any:
    return cash.get_opening(ctx.session, ctx.tenant_id)


@router.post("/cash/opening", response_model=OpeningOut, status_code=201)
def set_opening(body: OpeningIn, ctx: CtxDep) -> Any:
    return cash.set_opening_balance(
        ctx.session, ctx.tenant_id, body.opening_date, body.amount, actor=ctx.actor
    )


# --------------------------------------------------------------------------- entries


@router.get("/cash/entries", response_model=CashEntryPageOut)
def list_entries(
    ctx: CtxDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CashEntryPageOut:
    result = cash.list_cash_entries(
        ctx.session, ctx.tenant_id, start=date_from, end=date_to, page=page, page_size=page_size
    )
    return CashEntryPageOut(
        items=[
            _entry_out(r.entry, balance=r.balance, reversed_by_id=r.reversed_by_id)
            for r in result.items
        ],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.post("/cash/entries", response_model=CashEntryOut, status_code=201)
def create_entry(body: CashEntryIn, ctx: CtxDep) -> CashEntryOut:
    entry = cash.create_cash_entry(
        ctx.session,
        ctx.tenant_id,
        cash.CashEntryInput(**body.model_dump()),
        actor=ctx.actor,
    )
    return _entry_out(
        entry, balance=cash.cash_balance(ctx.session, ctx.tenant_id, entry.entry_date)
    )


@router.get("/cash/entries/{entry_id}", response_model=CashEntryOut)
def get_entry(entry_id: int, ctx: CtxDep) -> CashEntryOut:
    entry = cash.get_cash_entry(ctx.session, ctx.tenant_id, entry_id)
    reversal = cash.reversal_of(ctx.session, ctx.tenant_id, entry_id)
    return _entry_out(entry, reversed_by_id=reversal.id if reversal else None)


@router.post("/cash/entries/{entry_id}/reverse", response_model=CashEntryOut, status_code=201)
def reverse_entry(entry_id: int, body: ReverseIn, ctx: CtxDep) -> CashEntryOut:
    reversal = cash.reverse_cash_entry(
        ctx.session, ctx.tenant_id, entry_id, body.reason, actor=ctx.actor, on=body.on
    )
    return _entry_out(reversal)


@router.get("/cash/balance", response_model=BalanceOut)
def balance(ctx: CtxDep, on: date | None = None) -> BalanceOut:
    day = on or today()
    return BalanceOut(on=day, balance=cash.cash_balance(ctx.session, ctx.tenant_id, day))


# --------------------------------------------------------------------------- daily closing


@router.get("/cash/closings", response_model=list[ClosingOut])
def list_closings(ctx: CtxDep, date_from: DateFrom = None, date_to: DateTo = None) -> Any:
    rows = closing.list_closings(ctx.session, ctx.tenant_id, date_from, date_to)
    return [closing.closing_summary(c) for c in rows]


@router.post("/cash/closings", response_model=ClosingOut, status_code=201)
def close_day(body: ClosingIn, ctx: CtxDep) -> Any:
    row = closing.close_day(
        ctx.session,
        ctx.tenant_id,
        body.day,
        body.counts,
        reason=body.reason,
        treatment=body.treatment,
        actor=ctx.actor,
    )
    return closing.closing_summary(row)


@router.get("/cash/closings/expected", response_model=ExpectedOut)
def expected(ctx: CtxDep, day: date | None = None) -> ExpectedOut:
    target = day or today()
    return ExpectedOut(
        day=target,
        expected=closing.expected_balance(ctx.session, ctx.tenant_id, target),
        closed=closing.get_closing(ctx.session, ctx.tenant_id, target) is not None,
    )


@router.get("/cash/closings/statistics", response_model=StatisticsOut)
def statistics(ctx: CtxDep, date_from: DateFrom = None, date_to: DateTo = None) -> Any:
    end = date_to or today()
    start = date_from or end.replace(day=1)
    return asdict(closing.closing_statistics(ctx.session, ctx.tenant_id, start, end))


@router.get("/cash/closings/verify", response_model=VerifyOut)
def verify(ctx: CtxDep) -> VerifyOut:
    problems = closing.verify_closings(ctx.session, ctx.tenant_id)
    return VerifyOut(ok=not problems, problems=[ClosingProblemOut(**asdict(p)) for p in problems])


@router.get(
    "/cash/closings/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def closings_pdf(
    ctx: CtxDep,
    year: Annotated[int, Query(ge=1990, le=9999)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> Response:
    data = closings_month_pdf(ctx.session, ctx.tenant_id, year, month)
    filename = f"tagesabschluesse-{year}-{month:02d}.pdf"
    return Response(
        content=data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/cash/reminder", response_model=ReminderOut)
def reminder(ctx: CtxDep) -> ReminderOut:
    missing = closing.missing_closing_reminder(ctx.session, ctx.tenant_id, today())
    return ReminderOut(
        missing_day=missing,
        message=_("No daily closing for yesterday.") if missing else None,
    )
