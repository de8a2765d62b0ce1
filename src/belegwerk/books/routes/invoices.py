"""REST routes of invoices, their payments and the cash proposals that payments in cash create."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from belegwerk.books import invoices, payments
from belegwerk.books.models import CashProposal, Party, Payment
from belegwerk.books.schemas_invoices import (
    CashProposalOut,
    ConfirmIn,
    InvoiceIn,
    InvoiceOut,
    InvoicePageOut,
    InvoiceRowOut,
    LineOut,
    PaymentIn,
    PaymentOut,
    PaymentResultOut,
    ReasonIn,
    TaxTotalOut,
)
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["invoices"])


def _detail(ctx: CtxDep, invoice_id: int) -> InvoiceOut:
    session, tenant_id = ctx.session, ctx.tenant_id
    inv = invoices.get_invoice(session, tenant_id, invoice_id)
    reversal = invoices.reversal_of(session, tenant_id, inv.id)
    summary = invoices.payment_summary(session, tenant_id, inv, reversal is not None)
    party_name = (
        session.scalar(
            select(Party.name).where(Party.id == inv.party_id, Party.tenant_id == tenant_id)
        )
        if inv.party_id is not None
        else None
    )
    return InvoiceOut(
        id=inv.id,
        direction=inv.direction,
        kind=inv.kind,
        status=invoices.display_status(inv, reversal.id if reversal else None),
        number=inv.number,
        external_number=inv.external_number,
        party_id=inv.party_id,
        party_name=party_name,
        issue_date=inv.issue_date,
        supply_date=inv.supply_date,
        due_date=inv.due_date,
        price_mode=inv.price_mode,
        small_business=inv.small_business,
        net_total=inv.net_total,
        vat_total=inv.vat_total,
        gross_total=inv.gross_total,
        note=inv.note,
        reverses_id=inv.reverses_id,
        reversal_reason=inv.reversal_reason,
        reversed_by_id=reversal.id if reversal else None,
        reversed_by_number=reversal.number if reversal else None,
        replaces_id=inv.replaces_id,
        booked_at=inv.booked_at,
        created_at=inv.created_at,
        paid=summary.paid,
        pending_cash=summary.pending_cash,
        open_amount=summary.open_amount,
        payment_status=summary.status,
        lines=[
            LineOut.model_validate(ln) for ln in invoices.invoice_lines(session, tenant_id, inv.id)
        ],
        tax_totals=[
            TaxTotalOut.model_validate(t) for t in invoices.tax_totals(session, tenant_id, inv.id)
        ],
        payments=_payments(ctx, inv.id),
        cash_proposals=[
            CashProposalOut.model_validate(p)
            for p in payments.list_cash_proposals(
                session, tenant_id, status=None, invoice_id=inv.id
            )
        ],
    )


def _payment_out(
    p: Payment, reversed_by_id: int | None = None, cash_entry_id: int | None = None
) -> PaymentOut:
    out = PaymentOut.model_validate(p)
    return out.model_copy(update={"reversed_by_id": reversed_by_id, "cash_entry_id": cash_entry_id})


def _payments(ctx: CtxDep, invoice_id: int) -> list[PaymentOut]:
    rows = payments.list_payments(ctx.session, ctx.tenant_id, invoice_id)
    return [_payment_out(r.payment, r.reversed_by_id, r.cash_entry_id) for r in rows]


@router.get("/invoices", response_model=InvoicePageOut)
def list_invoices(
    ctx: CtxDep,
    direction: str | None = None,
    status: str | None = None,
    party_id: int | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    search: str | None = None,
    payment_status: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=invoices.MAX_PAGE_SIZE)] = 50,
) -> InvoicePageOut:
    """The invoice register; ``from``/``to`` filter the invoice date."""
    result = invoices.list_invoices(
        ctx.session,
        ctx.tenant_id,
        direction=direction or None,
        status=status or None,
        party_id=party_id,
        date_from=date_from,
        date_to=date_to,
        search=search,
        payment_status=payment_status or None,
        page=page,
        page_size=page_size,
    )
    return InvoicePageOut(
        items=[InvoiceRowOut.model_validate(r) for r in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.post("/invoices", response_model=InvoiceOut, status_code=201)
def create_invoice(ctx: CtxDep, body: InvoiceIn) -> InvoiceOut:
    inv = invoices.create_draft(ctx.session, ctx.tenant_id, body.to_input(), ctx.actor)
    return _detail(ctx, inv.id)


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(ctx: CtxDep, invoice_id: int) -> InvoiceOut:
    return _detail(ctx, invoice_id)


@router.put("/invoices/{invoice_id}", response_model=InvoiceOut)
def update_invoice(ctx: CtxDep, invoice_id: int, body: InvoiceIn) -> InvoiceOut:
    invoices.update_draft(ctx.session, ctx.tenant_id, invoice_id, body.to_input(), ctx.actor)
    return _detail(ctx, invoice_id)


@router.delete("/invoices/{invoice_id}", status_code=204)
def delete_invoice(ctx: CtxDep, invoice_id: int) -> Response:
    invoices.delete_draft(ctx.session, ctx.tenant_id, invoice_id, ctx.actor)
    return Response(status_code=204)


@router.post("/invoices/{invoice_id}/book", response_model=InvoiceOut)
def book_invoice(ctx: CtxDep, invoice_id: int) -> InvoiceOut:
    invoices.book_invoice(ctx.session, ctx.tenant_id, invoice_id, ctx.actor)
    return _detail(ctx, invoice_id)


@router.post("/invoices/{invoice_id}/reverse", response_model=InvoiceOut, status_code=201)
def reverse_invoice(ctx: CtxDep, invoice_id: int, body: ReasonIn | None = None) -> InvoiceOut:
    """Storno; answers with the new reversal invoice."""
    body = body or ReasonIn()
    rev = invoices.reverse_invoice(
        ctx.session,
        ctx.tenant_id,
        invoice_id,
        body.reason,
        ctx.actor,
        reversal_date=body.reversal_date,
    )
    return _detail(ctx, rev.id)


@router.post("/invoices/{invoice_id}/correct", response_model=InvoiceOut, status_code=201)
def correct_invoice(ctx: CtxDep, invoice_id: int, body: ReasonIn | None = None) -> InvoiceOut:
    """Storno plus a new draft copy for editing; answers with the draft."""
    body = body or ReasonIn()
    draft = invoices.correct_invoice(
        ctx.session,
        ctx.tenant_id,
        invoice_id,
        body.reason,
        ctx.actor,
        reversal_date=body.reversal_date,
    )
    return _detail(ctx, draft.id)


@router.get("/invoices/{invoice_id}/payments", response_model=list[PaymentOut])
def list_payments(ctx: CtxDep, invoice_id: int) -> list[PaymentOut]:
    return _payments(ctx, invoice_id)


@router.post("/invoices/{invoice_id}/payments", response_model=PaymentResultOut, status_code=201)
def add_payment(ctx: CtxDep, invoice_id: int, body: PaymentIn) -> PaymentResultOut:
    result = payments.add_payment(
        ctx.session,
        ctx.tenant_id,
        invoice_id,
        body.payment_date,
        body.amount,
        body.method,
        body.reference,
        ctx.actor,
    )
    if isinstance(result, CashProposal):
        return PaymentResultOut(
            kind="cash_proposal", cash_proposal=CashProposalOut.model_validate(result)
        )
    return PaymentResultOut(kind="payment", payment=_payment_out(result))


@router.post("/payments/{payment_id}/reverse", response_model=PaymentOut, status_code=201)
def reverse_payment(ctx: CtxDep, payment_id: int, body: ReasonIn | None = None) -> PaymentOut:
    body = body or ReasonIn()
    reversal = payments.reverse_payment(
        ctx.session,
        ctx.tenant_id,
        payment_id,
        body.reason,
        ctx.actor,
        reversal_date=body.reversal_date,
    )
    return _payment_out(reversal)


@router.get("/cash-proposals", response_model=list[CashProposalOut])
def list_cash_proposals(
    ctx: CtxDep, status: str | None = "proposed", invoice_id: int | None = None
) -> list[CashProposalOut]:
    """Open proposals by default; ``status=all`` lists every one."""
    rows = payments.list_cash_proposals(
        ctx.session, ctx.tenant_id, None if status in (None, "", "all") else status, invoice_id
    )
    return [CashProposalOut.model_validate(p) for p in rows]


@router.post("/cash-proposals/{proposal_id}/confirm", response_model=CashProposalOut)
def confirm_cash_proposal(
    ctx: CtxDep, proposal_id: int, body: ConfirmIn | None = None
) -> CashProposalOut:
    body = body or ConfirmIn()
    proposal = payments.confirm_cash_proposal(
        ctx.session, ctx.tenant_id, proposal_id, ctx.actor, entry_date=body.entry_date
    )
    return CashProposalOut.model_validate(proposal)


@router.post("/cash-proposals/{proposal_id}/reject", response_model=CashProposalOut)
def reject_cash_proposal(ctx: CtxDep, proposal_id: int) -> CashProposalOut:
    proposal = payments.reject_cash_proposal(ctx.session, ctx.tenant_id, proposal_id, ctx.actor)
    return CashProposalOut.model_validate(proposal)
