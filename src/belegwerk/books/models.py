"""Tables of the books: categories, parties, invoices, payments, cash book, closings, journal.

Booked rows are immutable; the migrations add database triggers that refuse UPDATE/DELETE.
"""

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
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from belegwerk.core.db import Base
from belegwerk.core.types import Money, Rate, Scaled, UTCDateTime, utcnow


class Category(Base):
    """Master category (Buchungstext): decides accounts, EÜR line, EKS line and VAT treatment."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name_de: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # expense | revenue | private | asset
    skr03_account: Mapped[str | None] = mapped_column(String(8))
    skr04_account: Mapped[str | None] = mapped_column(String(8))
    eks_line: Mapped[str | None] = mapped_column(String(10))
    euer_kz: Mapped[str | None] = mapped_column(String(10))
    default_vat_rate: Mapped[Decimal] = mapped_column(Rate())
    input_vat_deductible: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class CategoryOverride(Base):
    """A tenant's own account for a category (e.g. the tax advisor's revenue account)."""

    __tablename__ = "category_overrides"
    __table_args__ = (UniqueConstraint("tenant_id", "category_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    skr03_account: Mapped[str | None] = mapped_column(String(8))
    skr04_account: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NumberSequence(Base):
    """Gap-free number ranges (Nummernkreise), advanced under a row lock."""

    __tablename__ = "number_sequences"
    __table_args__ = (UniqueConstraint("tenant_id", "series"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    series: Mapped[str] = mapped_column(String(40))
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Party(Base):
    """A customer or supplier (or both)."""

    __tablename__ = "parties"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_number"),
        UniqueConstraint("tenant_id", "supplier_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_supplier: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_number: Mapped[int | None] = mapped_column(Integer)
    supplier_number: Mapped[int | None] = mapped_column(Integer)
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    email: Mapped[str] = mapped_column(String(200), default="")
    vat_id: Mapped[str] = mapped_column(String(20), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    # E-invoices: a public authority must be invoiced with its Leitweg-ID (XRechnung BT-10);
    # for other customers ``leitweg_id`` holds their own buyer reference, if they gave one.
    public_authority: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    leitweg_id: Mapped[str] = mapped_column(String(50), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invoice(Base):
    """An incoming (``in``) or outgoing (``out``) invoice; immutable once booked."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_invoices_tenant_date", "tenant_id", "issue_date", "id"),
        # The UStVA finds invoices by their supply period (Leistungsdatum).
        Index("ix_invoices_tenant_supply", "tenant_id", "supply_date"),
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        CheckConstraint("status IN ('draft', 'booked')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10), default="invoice")  # invoice | reversal
    status: Mapped[str] = mapped_column(String(10), default="draft")
    number: Mapped[str | None] = mapped_column(String(40))
    external_number: Mapped[str] = mapped_column(String(60), default="")
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    supply_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    price_mode: Mapped[str] = mapped_column(String(5), default="net")  # net | gross
    small_business: Mapped[bool] = mapped_column(Boolean, default=False)
    net_total: Mapped[Decimal] = mapped_column(Money())
    vat_total: Mapped[Decimal] = mapped_column(Money())
    gross_total: Mapped[Decimal] = mapped_column(Money())
    note: Mapped[str] = mapped_column(Text, default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Scaled(4))
    unit: Mapped[str] = mapped_column(String(20), default="C62")
    unit_price: Mapped[Decimal] = mapped_column(Scaled(4))
    vat_rate: Mapped[Decimal] = mapped_column(Rate())
    # EN 16931 VAT category code (UNCL5305: S, Z, E, AE, K, G, O, L, M), BT-151.
    vat_category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    net: Mapped[Decimal] = mapped_column(Money())
    vat: Mapped[Decimal] = mapped_column(Money())
    gross: Mapped[Decimal] = mapped_column(Money())


class InvoiceTaxTotal(Base):
    """Per-rate and VAT-category totals of an invoice (EN 16931 VAT breakdown, BG-23); VAT is
    rounded once per group, not per line."""

    __tablename__ = "invoice_tax_totals"
    __table_args__ = (UniqueConstraint("invoice_id", "vat_category", "vat_rate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    vat_rate: Mapped[Decimal] = mapped_column(Rate())
    vat_category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    # BT-120 / BT-121: why no VAT is charged (required for E, AE, K, G, O).
    exemption_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    exemption_reason_code: Mapped[str] = mapped_column(String(30), default="", server_default="")
    net: Mapped[Decimal] = mapped_column(Money())
    vat: Mapped[Decimal] = mapped_column(Money())
    gross: Mapped[Decimal] = mapped_column(Money())


class Payment(Base):
    """Money received or paid against an invoice; immutable, corrected by a reversal row."""

    __tablename__ = "payments"
    # The cash-basis view (EÜR, Ist-UStVA, EKS) selects the payments of a period.
    __table_args__ = (Index("ix_payments_tenant_date", "tenant_id", "payment_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    method: Mapped[str] = mapped_column(String(10))  # cash | bank | card | paypal
    reference: Mapped[str] = mapped_column(String(200), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class CashProposal(Base):
    """A cash payment of an invoice waiting for the user to confirm it into the cash book."""

    __tablename__ = "cash_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    proposal_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    cash_entry_id: Mapped[int | None] = mapped_column(ForeignKey("cash_entries.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CashBook(Base):
    """The opening balance (Kassenanfangsbestand), set once."""

    __tablename__ = "cash_books"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    opening_date: Mapped[date] = mapped_column(Date)
    opening_balance: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CashEntry(Base):
    """One line of the Kassenbuch; the database refuses UPDATE and DELETE."""

    __tablename__ = "cash_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "voucher_number"),
        Index("ix_cash_entries_tenant_date", "tenant_id", "entry_date", "voucher_number"),
        CheckConstraint("direction IN ('income', 'expense')", name="direction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    voucher_number: Mapped[int] = mapped_column(Integer)
    entry_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    payment_method: Mapped[str] = mapped_column(String(10), default="cash")
    direction: Mapped[str] = mapped_column(String(7))
    net: Mapped[Decimal] = mapped_column(Money())
    vat_rate: Mapped[Decimal] = mapped_column(Rate())
    vat: Mapped[Decimal] = mapped_column(Money())
    gross: Mapped[Decimal] = mapped_column(Money())
    input_vat_deductible: Mapped[bool] = mapped_column(Boolean, default=False)
    # EN 16931 VAT category of the receipt: S, Z, E or O (cash is domestic by nature).
    vat_category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("cash_entries.id"), unique=True)
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class DailyClosing(Base):
    """Tagesabschluss with cash count; signed and chained like the audit log."""

    __tablename__ = "daily_closings"
    __table_args__ = (UniqueConstraint("tenant_id", "closing_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    closing_date: Mapped[date] = mapped_column(Date)
    expected: Mapped[Decimal] = mapped_column(Money())
    counted: Mapped[Decimal] = mapped_column(Money())
    difference: Mapped[Decimal] = mapped_column(Money())
    counts: Mapped[str] = mapped_column(Text)  # JSON: denomination -> count
    reason: Mapped[str | None] = mapped_column(Text)
    treatment: Mapped[str | None] = mapped_column(String(20))
    difference_entry_id: Mapped[int | None] = mapped_column(ForeignKey("cash_entries.id"))
    prev_signature: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class Posting(Base):
    """One Buchungssatz of the journal, shaped like a DATEV booking line.

    ``amount`` is gross and always positive; ``net_amount``/``tax_amount`` split it, and
    ``tax_account`` names where the tax goes, so UStVA/EÜR read sums without re-deriving.

    ``vat_treatment`` says which UStVA boxes the posting feeds (see
    :mod:`belegwerk.books.vat_treatment`); ``tax_key`` is the DATEV BU-Schlüssel where DATEV
    needs one (empty on automatic accounts). Reverse charge and intra-community acquisitions
    get a second posting with ``self_assessed`` set: the tax the recipient owes (credit the
    §13b / acquisition output-VAT account), its ``tax_account`` the input-VAT account when the
    tax is deductible (None for a Kleinunternehmer). DATEV computes that tax itself from the
    BU-Schlüssel of the base posting, so its export skips self-assessed postings.
    """

    __tablename__ = "postings"
    __table_args__ = (
        Index("ix_postings_tenant_date", "tenant_id", "posting_date"),
        Index("ix_postings_source", "tenant_id", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    posting_date: Mapped[date] = mapped_column(Date)
    debit_account: Mapped[str] = mapped_column(String(8))
    credit_account: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money())
    net_amount: Mapped[Decimal] = mapped_column(Money())
    tax_amount: Mapped[Decimal] = mapped_column(Money())
    tax_rate: Mapped[Decimal] = mapped_column(Rate())
    tax_account: Mapped[str | None] = mapped_column(String(8))
    tax_key: Mapped[str] = mapped_column(String(4), default="")
    vat_treatment: Mapped[str] = mapped_column(String(24), default="", server_default="")
    self_assessed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    voucher: Mapped[str] = mapped_column(String(36))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    text: Mapped[str] = mapped_column(String(60))
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("postings.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InvoiceDocument(Base):
    """A file belonging to an invoice: the received original, the written PDF or XML, a
    corrected copy or an attachment. The file itself is an immutable :class:`Document`; the
    link is a record too (never changed, never deleted)."""

    __tablename__ = "invoice_documents"
    __table_args__ = (
        UniqueConstraint("invoice_id", "document_id", "role"),
        CheckConstraint(
            "role IN ('original', 'pdf', 'xml', 'corrected', 'attachment')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    role: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")
