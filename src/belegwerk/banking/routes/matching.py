"""Payment matching: run it, list proposals and links, confirm, reject, link by hand, undo."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from belegwerk.banking import match_scoring, matching
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["bank-matching"])

RawNumber = StrictStr | StrictInt | StrictFloat


class MatchOut(BaseModel):
    id: int
    transaction_id: int
    invoice_id: int
    invoice_number: str
    invoice_direction: str = Field(description="out: money received pays it; in: money paid")
    invoice_gross: Decimal
    invoice_open: Decimal = Field(description="What may still be paid on the invoice now.")
    party_name: str | None
    amount: Decimal = Field(description="Linked (or proposed) amount, positive.")
    confidence: Decimal = Field(description="0..1")
    reasons: list[str] = Field(
        description="Reason codes: invoice_number, invoice_number_loose, "
        "invoice_number_similar, external_number, customer_number, supplier_number, iban, "
        "name, name_similar, amount_exact, skonto, partial, overpayment, invoice_sum, "
        "invoice_subset; penalties other_number, late; manual."
    )
    status: str = Field(description="proposed | linked | rejected | undone")
    automatic: bool
    payment_id: int | None
    booking_date: date
    transaction_amount: Decimal
    counterparty_name: str
    purpose: str
    created_at: datetime
    decided_at: datetime | None


class MatchPageOut(BaseModel):
    items: list[MatchOut]
    total: int
    page: int
    page_size: int


class TransactionMatchesOut(BaseModel):
    transaction_id: int
    booking_date: date
    amount: Decimal
    counterparty_name: str
    purpose: str
    linked: Decimal = Field(description="Part of the amount linked to invoices.")
    remaining: Decimal = Field(description="Part still free to link.")
    matches: list[MatchOut]


class MatchRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_ids: list[int] | None = Field(
        None, description="Only these transactions; all with an amount left to link if omitted."
    )
    auto_link: bool = True


class MatchRunOut(BaseModel):
    transactions: int
    proposals: int
    linked: int
    linked_transactions: int
    unmatched: int
    auto_link_threshold: float = match_scoring.AUTO_LINK_THRESHOLD
    skonto_tolerance: Decimal = match_scoring.SKONTO_TOLERANCE


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice_id: int
    amount: RawNumber = Field(description='Decimal string, e.g. "119.00".')


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: RawNumber | None = Field(None, description="Another amount than proposed.")


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None
    reversal_date: date | None = None


def _out(view: matching.MatchView) -> MatchOut:
    m = view.match
    return MatchOut(
        id=m.id,
        transaction_id=m.transaction_id,
        invoice_id=m.invoice_id,
        invoice_number=view.invoice_number,
        invoice_direction=view.invoice_direction,
        invoice_gross=view.invoice_gross,
        invoice_open=view.invoice_open,
        party_name=view.party_name,
        amount=m.amount,
        confidence=m.confidence,
        reasons=view.reasons,
        status=m.status,
        automatic=m.automatic,
        payment_id=m.payment_id,
        booking_date=view.booking_date,
        transaction_amount=view.transaction_amount,
        counterparty_name=view.counterparty_name,
        purpose=view.purpose,
        created_at=m.created_at,
        decided_at=m.decided_at,
    )


def _one(ctx: CtxDep, match_id: int) -> MatchOut:
    return _out(matching.match_view(ctx.session, ctx.tenant_id, match_id))


@router.get("/bank/matches", response_model=MatchPageOut)
def list_matches(
    ctx: CtxDep,
    status: str | None = None,
    transaction_id: int | None = None,
    invoice_id: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=matching.MAX_PAGE_SIZE)] = 50,
) -> MatchPageOut:
    """Proposals and links, best first; ``status=proposed`` for what waits for a decision."""
    result = matching.list_matches(
        ctx.session,
        ctx.tenant_id,
        status=None if status in (None, "", "all") else status,
        transaction_id=transaction_id,
        invoice_id=invoice_id,
        page=page,
        page_size=page_size,
    )
    return MatchPageOut(
        items=[_out(v) for v in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.post("/bank/matches/run", response_model=MatchRunOut)
def run_matching(ctx: CtxDep, body: MatchRunIn | None = None) -> MatchRunOut:
    """Look for invoices for the transactions; confident, unambiguous ones are linked."""
    body = body or MatchRunIn()
    result = matching.match_transactions(
        ctx.session, ctx.tenant_id, body.transaction_ids, body.auto_link, actor=ctx.actor
    )
    return MatchRunOut(**result.__dict__)


@router.get("/bank/matches/{match_id}", response_model=MatchOut)
def get_match(ctx: CtxDep, match_id: int) -> MatchOut:
    return _one(ctx, match_id)


@router.post("/bank/matches/{match_id}/confirm", response_model=MatchOut)
def confirm_match(ctx: CtxDep, match_id: int, body: ConfirmIn | None = None) -> MatchOut:
    """Link a proposal: the payment is booked and the invoice becomes (partly) paid."""
    body = body or ConfirmIn()
    matching.confirm_match(ctx.session, ctx.tenant_id, match_id, body.amount, actor=ctx.actor)
    return _one(ctx, match_id)


@router.post("/bank/matches/{match_id}/reject", response_model=MatchOut)
def reject_match(ctx: CtxDep, match_id: int) -> MatchOut:
    matching.reject_match(ctx.session, ctx.tenant_id, match_id, actor=ctx.actor)
    return _one(ctx, match_id)


@router.post("/bank/matches/{match_id}/undo", response_model=MatchOut)
def undo_match(ctx: CtxDep, match_id: int, body: UndoIn | None = None) -> MatchOut:
    """Undo a link: the payment is reversed (Storno) and the invoice is open again."""
    body = body or UndoIn()
    matching.undo_match(
        ctx.session,
        ctx.tenant_id,
        match_id,
        body.reason,
        actor=ctx.actor,
        reversal_date=body.reversal_date,
    )
    return _one(ctx, match_id)


@router.get("/bank/transactions/{transaction_id}/matches", response_model=TransactionMatchesOut)
def transaction_matches(ctx: CtxDep, transaction_id: int) -> TransactionMatchesOut:
    """A transaction's proposals (best first), links, rejected and undone matches."""
    result = matching.transaction_matches(ctx.session, ctx.tenant_id, transaction_id)
    tx = result.transaction
    return TransactionMatchesOut(
        transaction_id=tx.id,
        booking_date=tx.booking_date,
        amount=tx.amount,
        counterparty_name=tx.counterparty_name,
        purpose=tx.purpose,
        linked=result.linked,
        remaining=result.remaining,
        matches=[_out(v) for v in result.matches],
    )


@router.post(
    "/bank/transactions/{transaction_id}/matches", response_model=MatchOut, status_code=201
)
def link_transaction(ctx: CtxDep, transaction_id: int, body: LinkIn) -> MatchOut:
    """Link a transaction by hand to any open invoice with an amount."""
    match = matching.link_transaction(
        ctx.session, ctx.tenant_id, transaction_id, body.invoice_id, body.amount, actor=ctx.actor
    )
    return _one(ctx, match.id)
