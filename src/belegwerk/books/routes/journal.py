"""Journal postings: what UStVA, EÜR, EKS and DATEV read."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select

from belegwerk.books.models import Posting
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["journal"])


class PostingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    posting_date: date
    debit_account: str
    credit_account: str
    amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    tax_rate: Decimal
    tax_account: str | None
    tax_key: str
    voucher: str
    category_id: int | None
    text: str
    source_type: str
    source_id: int
    reverses_id: int | None
    created_at: datetime


class PostingPage(BaseModel):
    items: list[PostingOut]
    total: int
    page: int
    page_size: int


@router.get("/journal", response_model=PostingPage)
def list_postings(
    ctx: CtxDep,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    account: str | None = None,
    source_type: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PostingPage:
    where = [Posting.tenant_id == ctx.tenant_id]
    if date_from:
        where.append(Posting.posting_date >= date_from)
    if date_to:
        where.append(Posting.posting_date <= date_to)
    if account:
        where.append(or_(Posting.debit_account == account, Posting.credit_account == account))
    if source_type:
        where.append(Posting.source_type == source_type)
    total = ctx.session.scalar(select(func.count()).select_from(Posting).where(*where)) or 0
    rows = ctx.session.scalars(
        select(Posting)
        .where(*where)
        .order_by(Posting.posting_date, Posting.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return PostingPage(
        items=[PostingOut.model_validate(r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )
