"""Business or private, categories, accepting suggestions, and the money overview."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from belegwerk.banking import classify, overview
from belegwerk.banking.bank_postings import open_postings
from belegwerk.core.dates import today
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["bank-classification"])


class ClassificationOut(BaseModel):
    transaction_id: int
    account_id: int
    batch_id: int
    booking_date: date
    amount: Decimal = Field(description="Signed, money received positive.")
    currency: str
    counterparty_name: str
    counterparty_iban: str
    purpose: str
    classification_id: int | None
    usage: str | None = Field(
        description="business | private | private_withdrawal | private_deposit; "
        "null while nothing is suggested or decided."
    )
    category_id: int | None
    source: str | None = Field(description="user | keyword | rule | memory | classifier | default")
    confidence: Decimal | None
    rule_id: int | None
    confirmed: bool
    updated_at: datetime | None


class ClassificationPageOut(BaseModel):
    items: list[ClassificationOut]
    total: int
    page: int
    page_size: int


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    usage: str = Field(examples=["business"])
    category_id: int | None = None
    vat_category: str | None = Field(
        None,
        description="EN 16931 VAT category: S (default), Z, E, O or AE (reverse charge, e.g. "
        "advertising bought from an EU company)",
    )
    vat_country: str | None = Field(
        None, description="The other party's country (ISO); default from its IBAN"
    )


class DecisionOut(BaseModel):
    transaction_id: int
    classification_id: int
    usage: str
    category_id: int | None
    vat_category: str
    vat_country: str
    source: str
    confidence: Decimal
    confirmed: bool
    postings: int = Field(description="Open journal postings of the line after the decision.")


class AcceptAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: int | None = None
    min_confidence: Decimal = Field(default=Decimal(0), description="0 … 1")


class SkippedOut(BaseModel):
    transaction_id: int
    code: str
    message: str


class AcceptAllOut(BaseModel):
    accepted: int
    skipped: list[SkippedOut]


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: int


class SuggestOut(BaseModel):
    created: int


@router.get("/bank/classifications", response_model=ClassificationPageOut)
def list_classifications(
    ctx: CtxDep,
    batch_id: int | None = None,
    account_id: int | None = None,
    confirmed: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=classify.PAGE_SIZE_MAX)] = 100,
) -> ClassificationPageOut:
    result = classify.list_classifications(
        ctx.session,
        ctx.tenant_id,
        batch_id=batch_id,
        account_id=account_id,
        confirmed=confirmed,
        page=page,
        page_size=page_size,
    )
    return ClassificationPageOut(
        items=[ClassificationOut(**row.__dict__) for row in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.put("/bank/transactions/{transaction_id}/classification", response_model=DecisionOut)
def put_classification(transaction_id: int, body: DecisionIn, ctx: CtxDep) -> DecisionOut:
    cls = classify.decide(
        ctx.session,
        ctx.tenant_id,
        transaction_id,
        body.usage,
        body.category_id,
        actor=ctx.actor,
        vat_category=body.vat_category,
        vat_country=body.vat_country,
    )
    return DecisionOut(
        transaction_id=cls.transaction_id,
        classification_id=cls.id,
        usage=cls.usage,
        category_id=cls.category_id,
        vat_category=cls.vat_category,
        vat_country=cls.vat_country,
        source=cls.source,
        confidence=cls.confidence,
        confirmed=cls.confirmed,
        postings=len(open_postings(ctx.session, ctx.tenant_id, transaction_id)),
    )


@router.post("/bank/classifications/accept-all", response_model=AcceptAllOut)
def accept_all(ctx: CtxDep, body: AcceptAllIn | None = None) -> AcceptAllOut:
    body = body or AcceptAllIn()
    result = classify.accept_all(
        ctx.session,
        ctx.tenant_id,
        batch_id=body.batch_id,
        min_confidence=body.min_confidence,
        actor=ctx.actor,
    )
    return AcceptAllOut(accepted=result.accepted, skipped=[SkippedOut(**s) for s in result.skipped])


@router.post("/bank/classifications/suggest", response_model=SuggestOut)
def suggest(body: SuggestIn, ctx: CtxDep) -> SuggestOut:
    classify.get_batch(ctx.session, ctx.tenant_id, body.batch_id)
    created = classify.suggest_for_batch(ctx.session, ctx.tenant_id, body.batch_id, actor=ctx.actor)
    return SuggestOut(created=created)


# --------------------------------------------------------------------------- overview


class OpenInvoicesOut(BaseModel):
    count: int
    amount: Decimal


class AccountPositionOut(BaseModel):
    account_id: int
    name: str
    kind: str
    account_type: str
    opening_balance: Decimal
    movements: Decimal
    position: Decimal
    undecided: int


class UstvaDueOut(BaseModel):
    period_start: date
    period_end: date
    due_date: date


class OverviewOut(BaseModel):
    today: date
    cash_position: Decimal = Field(
        description="Business accounts in full, mixed accounts only their confirmed business "
        "part (business lines, private withdrawals and deposits, without opening balance)."
    )
    accounts: list[AccountPositionOut]
    receivables: OpenInvoicesOut
    payables: OpenInvoicesOut
    expected_position: Decimal = Field(description="Cash position + receivables − payables.")
    month_start: date
    input_vat_month: Decimal
    quarter_start: date
    input_vat_quarter: Decimal
    next_ustva: UstvaDueOut | None = Field(
        description="None for small businesses (§ 19 UStG) and yearly filers (see ustva_note)."
    )
    ustva_note: str


@router.get("/bank/overview", response_model=OverviewOut)
def get_overview(ctx: CtxDep, on: date | None = None) -> OverviewOut:
    o = overview.bank_overview(ctx.session, ctx.tenant_id, on or today())
    return OverviewOut(
        today=o.today,
        cash_position=o.cash_position,
        accounts=[AccountPositionOut(**a.__dict__) for a in o.accounts],
        receivables=OpenInvoicesOut(count=o.receivables.count, amount=o.receivables.amount),
        payables=OpenInvoicesOut(count=o.payables.count, amount=o.payables.amount),
        expected_position=o.expected_position,
        month_start=o.month_start,
        input_vat_month=o.input_vat_month,
        quarter_start=o.quarter_start,
        input_vat_quarter=o.input_vat_quarter,
        next_ustva=UstvaDueOut(**o.next_ustva.__dict__) if o.next_ustva else None,
        ustva_note=o.ustva_note,
    )
