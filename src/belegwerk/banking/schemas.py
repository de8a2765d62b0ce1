"""API shapes of bank accounts, statement imports and bank transactions (amounts as strings)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AccountIn(BaseModel):
    """A new account: a bank account by IBAN, or ``kind="paypal"`` by e-mail address."""

    model_config = ConfigDict(extra="forbid")

    iban: str = Field(default="", examples=["DE89 3704 0044 0532 0130 00"])
    account_type: str = Field(default="business", description="business | mixed | private")
    kind: str = Field(default="bank", description="bank | paypal")
    name: str = Field(default="", description="Empty: bank name and the IBAN's last digits.")
    bic: str = Field(default="", description="Empty: taken from the IBAN where known.")
    bank_name: str = Field(default="", description="Empty: taken from the IBAN where known.")
    email: str = Field(default="", description="PayPal: the account's e-mail address.")
    currency: str = "EUR"
    opening_balance: str | int | None = Field(
        default=None, description='Decimal string, may be negative, e.g. "-120.50".'
    )
    opening_date: date | None = None
    ledger_account: str = Field(
        default="", description="Finanzkonto for postings; empty: the chart's default."
    )


class AccountUpdate(BaseModel):
    """Only the fields sent are changed; the IBAN is fixed once statements were imported."""

    model_config = ConfigDict(extra="forbid")

    iban: str | None = None
    account_type: str | None = None
    kind: str | None = None
    name: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    email: str | None = None
    currency: str | None = None
    opening_balance: str | int | None = None
    opening_date: date | None = None
    ledger_account: str | None = None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    name: str
    iban: str | None
    bic: str
    bank_name: str
    email: str
    account_type: str
    currency: str
    opening_balance: Decimal
    opening_date: date | None
    ledger_account: str
    posting_account: str = Field(description="The chart account postings of this account use.")
    created_at: datetime
    updated_at: datetime


class RejectedOut(BaseModel):
    line: int
    message: str
    code: str = "bank.row_invalid"


class CandidateOut(BaseModel):
    key: str
    name: str
    score: Decimal


class ParsedTransactionOut(BaseModel):
    """A statement line as it will be stored."""

    model_config = ConfigDict(from_attributes=True)

    line_no: int
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str
    counterparty_iban: str
    counterparty_bic: str
    purpose: str
    booking_text: str
    end_to_end_ref: str
    mandate_ref: str
    creditor_id: str
    gv_code: str
    balance_after: Decimal | None
    fee_of: int | None = Field(default=None, description="PayPal fee: index of its payment.")


class PreviewOut(BaseModel):
    format: str
    template_key: str
    template_name: str
    score: Decimal
    candidates: list[CandidateOut]
    ambiguous: bool = Field(description="Two templates fit equally well: the user chooses.")
    account_iban: str | None = Field(description="The IBAN the statement names, if any.")
    account_id: int | None = Field(description="The existing account with that IBAN, if any.")
    currency: str
    rows: int = Field(description="Transactions read (without rejected and skipped rows).")
    skipped: int = Field(description="Rows ignored on purpose (pending, totals).")
    transactions: list[ParsedTransactionOut] = Field(description="The first 20 rows.")
    rejected: list[RejectedOut]


class BatchOut(BaseModel):
    id: int
    account_id: int
    document_id: int
    file_name: str
    file_sha256: str
    format: str
    template_key: str
    score: Decimal
    rows: int
    imported: int
    duplicates: int
    rejected: int
    rejected_rows: list[dict[str, Any]]
    same_file: bool = Field(description="This very file was imported into the account before.")
    created_at: datetime
    created_by: str


class BatchPage(BaseModel):
    items: list[BatchOut]
    total: int
    page: int
    page_size: int


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_id: int
    batch_id: int
    line_no: int
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str
    counterparty_iban: str
    counterparty_bic: str
    purpose: str
    booking_text: str
    end_to_end_ref: str
    mandate_ref: str
    creditor_id: str
    gv_code: str
    balance_after: Decimal | None
    fee_of_id: int | None
    fingerprint: str
    occurrence: int
    created_at: datetime


class TransactionDetailOut(TransactionOut):
    raw: dict[str, Any] = Field(description="The row as the bank delivered it.")


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    total: int
    page: int
    page_size: int
