"""Tables of banking: accounts, import batches, transactions (immutable, as the bank delivered
them), and the changeable layers on top: classification, rules, user templates, matches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from belegwerk.core.db import Base
from belegwerk.core.types import Money, Scaled, UTCDateTime, utcnow


class BankAccount(Base):
    """A bank or PayPal account; private accounts are listed but never imported."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "iban"),
        CheckConstraint("account_type IN ('business', 'mixed', 'private')", name="account_type"),
        CheckConstraint("kind IN ('bank', 'paypal')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="bank")
    name: Mapped[str] = mapped_column(String(100))
    iban: Mapped[str | None] = mapped_column(String(34))  # None for PayPal
    bic: Mapped[str] = mapped_column(String(11), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")  # PayPal identity
    account_type: Mapped[str] = mapped_column(String(10), default="business")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    opening_balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    opening_date: Mapped[date | None] = mapped_column(Date)
    # Finanzkonto in the chart; empty = the chart's bank account (1200/1800) or transit (PayPal).
    ledger_account: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportBatch(Base):
    """One imported file: what came in, what was new, what was a duplicate, what was refused."""

    __tablename__ = "bank_import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(10))  # csv | mt940 | camt
    template_key: Mapped[str] = mapped_column(String(80), default="")
    score: Mapped[Decimal] = mapped_column(Scaled(4), default=Decimal(0))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejected_rows: Mapped[str] = mapped_column(Text, default="[]")  # JSON [{"line","message"}]
    # CSV imports keep each line's raw data as the text the bank wrote; this (JSON, see
    # statement.RawLayout) names its columns once. None: each line's raw data is a JSON object.
    raw_layout: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class BankTransaction(Base):
    """A statement line as the bank delivered it; never changed.

    Duplicates: ``fingerprint`` hashes the identifying fields; ``occurrence`` counts identical
    lines within one file (two equal coffees on one day), so a re-import or an overlapping file
    adds nothing while genuine twins survive.
    """

    __tablename__ = "bank_transactions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "fingerprint", "occurrence"),
        Index("ix_bank_transactions_account_date", "tenant_id", "account_id", "booking_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No index of its own: ix_bank_transactions_account_date starts with tenant_id.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("bank_import_batches.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())  # signed: incoming positive
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    counterparty_name: Mapped[str] = mapped_column(String(200), default="")
    counterparty_iban: Mapped[str] = mapped_column(String(34), default="")
    counterparty_bic: Mapped[str] = mapped_column(String(11), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    booking_text: Mapped[str] = mapped_column(String(200), default="")
    end_to_end_ref: Mapped[str] = mapped_column(String(100), default="")
    mandate_ref: Mapped[str] = mapped_column(String(100), default="")
    creditor_id: Mapped[str] = mapped_column(String(50), default="")
    gv_code: Mapped[str] = mapped_column(String(10), default="")
    balance_after: Mapped[Decimal | None] = mapped_column(Money())
    fee_of_id: Mapped[int | None] = mapped_column(ForeignKey("bank_transactions.id"))  # PayPal
    # The source row: its CSV text when the batch has a raw_layout, else a JSON object.
    raw: Mapped[str] = mapped_column(Text, default="{}")
    fingerprint: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Classification(Base):
    """What a transaction is for the books; changeable, every change audited."""

    __tablename__ = "bank_classifications"
    __table_args__ = (
        CheckConstraint(
            "usage IN ('business', 'private', 'private_withdrawal', 'private_deposit')",
            name="usage",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("bank_transactions.id"), unique=True)
    usage: Mapped[str] = mapped_column(String(20))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # EN 16931 VAT category of the payment (S, Z, E, AE, O): AE for a foreign supplier's
    # reverse-charge service paid from the bank without an invoice in the books (Google Ads …).
    vat_category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    # The supplier's country where it matters (AE); empty = from the counterparty IBAN.
    vat_country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    # Where the answer came from: user | rule | memory | keyword | classifier
    source: Mapped[str] = mapped_column(String(12), default="user")
    confidence: Mapped[Decimal] = mapped_column(Scaled(4), default=Decimal(1))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("bank_rules.id"))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)  # False = suggestion
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="local")


class Rule(Base):
    """A user rule: first match by priority decides usage and category."""

    __tablename__ = "bank_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    name: Mapped[str] = mapped_column(String(100))
    counterparty_pattern: Mapped[str] = mapped_column(String(200), default="")
    purpose_pattern: Mapped[str] = mapped_column(String(200), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    amount_min: Mapped[Decimal | None] = mapped_column(Money())
    amount_max: Mapped[Decimal | None] = mapped_column(Money())
    direction: Mapped[str] = mapped_column(String(3), default="")  # "", in, out
    usage: Mapped[str] = mapped_column(String(20), default="business")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserTemplate(Base):
    """A CSV template the user made in the editor; takes priority over the system templates."""

    __tablename__ = "bank_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)  # JSON, same schema as system templates
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentMatch(Base):
    """A link (or proposal) between a bank transaction and an invoice, with its reasons."""

    __tablename__ = "bank_matches"
    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'linked', 'rejected', 'undone')", name="status"),
        Index("ix_bank_matches_tx", "tenant_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("bank_transactions.id"))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    confidence: Mapped[Decimal] = mapped_column(Scaled(4))
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of reason codes
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
