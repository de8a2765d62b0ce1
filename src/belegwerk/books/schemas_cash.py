"""API schemas of the cash book and the daily closing.

Amounts travel as decimal strings. Incoming amounts go through ``parse_money`` while the body
is parsed, so a bad amount answers with our own error code (``money.too_many_decimals``, …)
instead of a generic validation error.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from belegwerk.books.vat import parse_rate
from belegwerk.core.money import parse_money


def _money(value: object, info: ValidationInfo) -> Decimal:
    return parse_money(value, info.field_name or "amount")


def _rate(value: object, info: ValidationInfo) -> Decimal:
    return parse_rate(value, info.field_name or "vat_rate")


MoneyIn = Annotated[Decimal, BeforeValidator(_money)]
RateIn = Annotated[Decimal, BeforeValidator(_rate)]


class OpeningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opening_date: date
    amount: MoneyIn


class OpeningOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    opening_date: date
    opening_balance: Decimal
    created_at: datetime


class CashEntryIn(BaseModel):
    """Either ``amount`` with ``amount_mode`` or the receipt's net/VAT/gross."""

    model_config = ConfigDict(extra="forbid")

    entry_date: date
    description: str = Field(max_length=1000)
    category_id: int
    direction: str = Field(description="income | expense")
    amount: MoneyIn | None = None
    amount_mode: str = Field("gross", description="gross | net")
    vat_rate: RateIn | None = None
    input_vat_deductible: bool | None = None
    payment_method: str = "cash"
    net: MoneyIn | None = None
    vat: MoneyIn | None = None
    gross: MoneyIn | None = None


class CashEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    voucher_number: int
    voucher: str
    entry_date: date
    description: str
    category_id: int
    payment_method: str
    direction: str
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    gross: Decimal
    input_vat_deductible: bool
    reverses_id: int | None
    reversal_reason: str | None
    reversed_by_id: int | None = None
    invoice_id: int | None
    payment_id: int | None
    created_at: datetime
    created_by: str
    balance: Decimal | None = Field(None, description="running balance after this entry")


class CashEntryPageOut(BaseModel):
    items: list[CashEntryOut]
    total: int
    page: int
    page_size: int


class ReverseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None
    on: date | None = None


class BalanceOut(BaseModel):
    on: date
    balance: Decimal


class ClosingIn(BaseModel):
    """``counts`` maps a denomination ("500" … "0.01") to a whole, non-negative number."""

    model_config = ConfigDict(extra="forbid")

    day: date
    counts: dict[str, object]
    reason: str | None = None
    treatment: str | None = Field(None, description="private | other | record_only")


class ClosingOut(BaseModel):
    id: int
    closing_date: date
    expected: Decimal
    counted: Decimal
    difference: Decimal
    counts: dict[str, int]
    reason: str | None
    treatment: str | None
    difference_entry_id: int | None
    prev_signature: str
    signature: str
    created_at: datetime
    created_by: str


class ExpectedOut(BaseModel):
    day: date
    expected: Decimal
    closed: bool


class StatisticsOut(BaseModel):
    start: date
    end: date
    closings: int
    days_with_difference: int
    average_abs_difference: Decimal
    share_with_difference: Decimal
    warning: bool


class ReminderOut(BaseModel):
    missing_day: date | None
    message: str | None


class ClosingProblemOut(BaseModel):
    closing_id: int
    closing_date: date
    reason: str


class VerifyOut(BaseModel):
    ok: bool
    problems: list[ClosingProblemOut]
