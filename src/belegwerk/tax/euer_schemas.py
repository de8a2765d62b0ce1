"""API shapes of the Anlage EÜR and the asset register (amounts as decimal strings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NoticeOut(BaseModel):
    code: str
    level: str = Field(description="warning | info")
    message: str
    details: list[dict[str, Any]] = []


class EuerLineOut(BaseModel):
    kz: str
    zeile: int | None
    field: str = Field(description="ELSTER field name, e.g. E6000401")
    elster: str = Field(description="ELSTER XML path of the field")
    label: str
    section: str = Field(description="income | expense | result | extra")
    counted: bool
    sum: bool
    amount: Decimal


class MoveOut(BaseModel):
    flow_date: date
    to_year: int
    rule: str = Field(description="invoice | vat_prepayment")
    voucher: str
    text: str
    amount: Decimal
    posting_id: int
    payment_id: int | None


class EuerOut(BaseModel):
    year: int
    form_year: int = Field(description="The year whose form supplied Kennzahlen and fields.")
    title: str
    company: str
    small_business: bool
    boxes: dict[str, Decimal] = Field(description="Filled lines by Kennzahl.")
    elster: dict[str, Decimal] = Field(description="Filled lines by ELSTER field name.")
    income: Decimal
    expenses: Decimal
    profit: Decimal
    investments: Decimal = Field(description="Capitalised purchases paid (no expense).")
    lines: list[EuerLineOut]
    moves: list[MoveOut]
    notices: list[NoticeOut]


class ElsterRowOut(BaseModel):
    field: str
    path: str
    kz: str
    zeile: int | None
    label: str
    amount: Decimal


class DrillRowOut(BaseModel):
    flow_date: date
    amount: Decimal
    posting_id: int
    payment_id: int | None
    invoice_id: int | None
    source_type: str
    source_id: int
    voucher: str
    text: str
    category: str
    moved_from: int | None


class AssetAmountOut(BaseModel):
    asset_id: int
    name: str
    amount: Decimal


class LineDetailOut(BaseModel):
    line: EuerLineOut
    rows: list[DrillRowOut]
    assets: list[AssetAmountOut]
    parts: list[EuerLineOut]
    note: str


# --------------------------------------------------------------------------- assets


class AssetIn(BaseModel):
    """A new entry of the asset register; the useful life in months or in years."""

    model_config = ConfigDict(extra="forbid")

    name: str
    acquisition_date: date
    net_cost: str | int = Field(description='Net acquisition cost, e.g. "1499.00".')
    useful_life_months: int | None = Field(default=None, ge=1, le=100_000)
    useful_life_years: int | None = Field(default=None, ge=1, le=10_000)
    asset_type: str = Field(default="", description="Key of GET /tax/assets/types.")
    asset_group: str | None = Field(default=None, description="movable | intangible | immovable")
    treatment: str = Field(default="auto", description="auto | linear | digital")
    posting_id: int | None = Field(default=None, description="The investment's posting.")
    invoice_id: int | None = None
    note: str = ""


class DisposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="sale | withdrawal | scrapped | void")
    disposal_date: date
    proceeds: str | int = Field(default="0", description="Net sale price or Teilwert.")
    reason: str = Field(default="", description="Required for void.")


class DisposalOut(BaseModel):
    kind: str
    disposal_date: date
    proceeds: Decimal
    reason: str


class AssetOut(BaseModel):
    id: int
    name: str
    asset_type: str
    asset_group: str
    acquisition_date: date
    net_cost: Decimal
    useful_life_months: int
    treatment: str
    method: str = Field(description="linear | gwg | pool | digital, as the law applies it")
    posting_id: int | None
    invoice_id: int | None
    note: str
    disposal: DisposalOut | None
    warnings: list[NoticeOut] = []


class YearAfaOut(BaseModel):
    year: int
    kz: str
    opening: Decimal
    afa: Decimal
    book_value_out: Decimal
    closing: Decimal
    withdrawal: Decimal


class AssetDetailOut(BaseModel):
    asset: AssetOut
    plan: list[YearAfaOut]
    gain_or_loss: Decimal | None


class RegisterRowOut(BaseModel):
    asset: AssetOut
    year: YearAfaOut


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pooled: bool


class PoolOut(BaseModel):
    year: int
    pooled: bool


class OfferOut(BaseModel):
    posting_id: int
    posting_date: date
    voucher: str
    text: str
    net_amount: Decimal
    invoice_id: int | None


class AssetTypeOut(BaseModel):
    key: str
    name_de: str
    name_en: str
    group: str
    months: int
    digital: bool
    source: str
