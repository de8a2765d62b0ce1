"""Tenants and their company master data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from belegwerk.core.db import Base
from belegwerk.core.types import UTCDateTime, utcnow


class Tenant(Base):
    """One company's isolated data (Mandant)."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    # Display name mirrored from the company, so a tenant list needs no cross-tenant read.
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Company(Base):
    """Master data of the tenant's business; every change is audited."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="DE")
    # Bundesland (ISO 3166-2 suffix: BW, BY, BE …) for public holidays in tax deadlines.
    state: Mapped[str] = mapped_column(String(2), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    # Seller contact of e-invoices (XRechnung BG-6: name, telephone, e-mail are mandatory).
    contact_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    tax_number: Mapped[str] = mapped_column(String(20), default="")
    vat_id: Mapped[str] = mapped_column(String(20), default="")
    vat_regime: Mapped[str] = mapped_column(String(20), default="standard")
    vat_accounting: Mapped[str] = mapped_column(String(10), default="accrual")
    ustva_period: Mapped[str] = mapped_column(String(10), default="quarterly")
    filing_extension: Mapped[bool] = mapped_column(Boolean, default=False)
    activity: Mapped[str] = mapped_column(String(10), default="freelance")
    chart: Mapped[str] = mapped_column(String(5), default="skr04")
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)
    advisor_number: Mapped[str] = mapped_column(String(7), default="")
    client_number: Mapped[str] = mapped_column(String(5), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    configured: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
