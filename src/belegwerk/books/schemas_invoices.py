"""API schemas of invoices, payments and cash proposals.

Amounts leave as decimal strings ("1234.56"). Incoming amounts, quantities, unit prices and
rates are accepted as strings or JSON numbers and kept raw here; :meth:`InvoiceIn.to_input`
parses them with ``parse_money``/``parse_scaled``, so a bad value answers with our own code
(``money.too_many_decimals`` …) and the exact field path (``lines[2].unit_price``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from belegwerk.books.invoice_calc import LineInput, parse_scaled
from belegwerk.books.invoices import InvoiceInput
from belegwerk.books.vat import parse_rate
from belegwerk.core.money import parse_money

RawNumber = StrictStr | StrictInt | StrictFloat


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    quantity: RawNumber = "1"
    unit: str = Field("C62", description="UN/ECE Recommendation 20 code")
    unit_price: RawNumber
    vat_rate: RawNumber = Field(description="percent: 0, 7 or 19 (16/5 for 2nd half of 2020)")
    vat_category: str | None = Field(
        None,
        description="EN 16931 VAT category (UNCL5305): S taxable, Z zero rate, E exempt, "
        "AE reverse charge, K intra-community supply/acquisition, G export, O not taxable; "
        "default S for a rate above 0, else E",
    )
    category_id: int | None = None


class ExemptionIn(BaseModel):
    """BT-121 / BT-120 of one VAT category of the invoice."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field("", description="VATEX code, e.g. VATEX-EU-AE")
    reason: str = Field("", description="exemption reason text printed on the invoice")


class InvoiceIn(BaseModel):
    """A draft invoice; ``net_total``/``vat_total``/``gross_total`` are optional cross-checks."""

    model_config = ConfigDict(extra="forbid")

    direction: str = Field(description="in | out")
    issue_date: date
    supply_date: date | None = None
    due_date: date | None = None
    price_mode: str = Field("net", description="net | gross: what unit prices mean")
    party_id: int | None = None
    external_number: str = ""
    note: str = ""
    lines: list[LineIn] = Field(default_factory=list)
    exemptions: dict[str, ExemptionIn] = Field(
        default_factory=dict,
        description="per VAT category code; defaults by law for AE, K, G, O (E needs a reason)",
    )
    net_total: RawNumber | None = None
    vat_total: RawNumber | None = None
    gross_total: RawNumber | None = None

    def to_input(self) -> InvoiceInput:
        lines = [
            LineInput(
                description=ln.description,
                quantity=parse_scaled(ln.quantity, f"lines[{i}].quantity"),
                unit_price=parse_scaled(ln.unit_price, f"lines[{i}].unit_price"),
                vat_rate=parse_rate(ln.vat_rate, f"lines[{i}].vat_rate"),
                unit=ln.unit,
                category_id=ln.category_id,
                vat_category=(ln.vat_category or "").strip().upper(),
            )
            for i, ln in enumerate(self.lines)
        ]

        def money(value: RawNumber | None, name: str) -> Decimal | None:
            return None if value is None else parse_money(value, name, allow_negative=True)

        return InvoiceInput(
            direction=self.direction,
            issue_date=self.issue_date,
            lines=lines,
            price_mode=self.price_mode,
            party_id=self.party_id,
            supply_date=self.supply_date,
            due_date=self.due_date,
            external_number=self.external_number,
            note=self.note,
            exemptions={k.strip().upper(): (v.code, v.reason) for k, v in self.exemptions.items()},
            expected_net=money(self.net_total, "net_total"),
            expected_vat=money(self.vat_total, "vat_total"),
            expected_gross=money(self.gross_total, "gross_total"),
        )


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None
    reversal_date: date | None = None


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_date: date
    amount: RawNumber
    method: str = Field(description="cash | bank | card | paypal")
    reference: str = ""


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_date: date | None = None


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    vat_category: str
    category_id: int | None
    net: Decimal
    vat: Decimal
    gross: Decimal


class TaxTotalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    vat_rate: Decimal
    vat_category: str
    exemption_reason: str
    exemption_reason_code: str
    net: Decimal
    vat: Decimal
    gross: Decimal


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invoice_id: int
    payment_date: date
    amount: Decimal
    method: str
    reference: str
    reverses_id: int | None
    reversal_reason: str | None
    reversed_by_id: int | None = None
    cash_entry_id: int | None = None
    created_at: datetime


class CashProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    invoice_id: int
    proposal_date: date
    amount: Decimal
    status: str
    payment_id: int | None
    cash_entry_id: int | None
    created_at: datetime
    decided_at: datetime | None


class PaymentResultOut(BaseModel):
    """A non-cash payment is stored at once; cash becomes a proposal to confirm."""

    kind: str = Field(description="payment | cash_proposal")
    payment: PaymentOut | None = None
    cash_proposal: CashProposalOut | None = None


class InvoiceRowOut(BaseModel):
    """One line of the invoice register."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: str
    kind: str
    status: str = Field(description="draft | booked | reversed | reversal")
    number: str | None
    external_number: str
    party_id: int | None
    party_name: str | None
    issue_date: date
    due_date: date | None
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    paid: Decimal
    pending_cash: Decimal
    open_amount: Decimal
    payment_status: str | None = Field(description="open | partial | paid, or null")
    reverses_id: int | None
    reversed_by_id: int | None
    replaces_id: int | None
    booked_at: datetime | None


class InvoicePageOut(BaseModel):
    items: list[InvoiceRowOut]
    total: int
    page: int
    page_size: int


class InvoiceOut(BaseModel):
    """One invoice with everything the detail page shows."""

    id: int
    direction: str
    kind: str
    status: str = Field(description="draft | booked | reversed | reversal")
    number: str | None
    external_number: str
    party_id: int | None
    party_name: str | None
    issue_date: date
    supply_date: date | None
    due_date: date | None
    price_mode: str
    small_business: bool
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    note: str
    reverses_id: int | None
    reversal_reason: str | None
    reversed_by_id: int | None
    reversed_by_number: str | None
    replaces_id: int | None
    booked_at: datetime | None
    created_at: datetime
    paid: Decimal
    pending_cash: Decimal
    open_amount: Decimal
    payment_status: str | None
    lines: list[LineOut]
    tax_totals: list[TaxTotalOut]
    payments: list[PaymentOut]
    cash_proposals: list[CashProposalOut]
