"""Tables of the asset register (Anlagenverzeichnis).

An asset and its disposal are records: the database refuses UPDATE and DELETE (GoBD), a wrong
entry is voided by a disposal of kind ``void`` and entered again. The Sammelposten choice of a
year is an election the taxpayer may change until the return is filed, so it is updatable; every
change is in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from belegwerk.core.db import Base
from belegwerk.core.types import Money, UTCDateTime, utcnow


class Asset(Base):
    """An item of the asset register with what its depreciation needs."""

    __tablename__ = "assets"
    __table_args__ = (
        CheckConstraint("asset_group IN ('movable', 'intangible', 'immovable')", name="group"),
        CheckConstraint("treatment IN ('auto', 'linear', 'digital')", name="treatment"),
        CheckConstraint("useful_life_months > 0", name="useful_life"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    asset_type: Mapped[str] = mapped_column(String(40), default="")
    asset_group: Mapped[str] = mapped_column(String(12), default="movable")
    acquisition_date: Mapped[date] = mapped_column(Date)
    net_cost: Mapped[Decimal] = mapped_column(Money())
    useful_life_months: Mapped[int] = mapped_column(Integer)
    treatment: Mapped[str] = mapped_column(String(10), default="auto")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    posting_id: Mapped[int | None] = mapped_column(ForeignKey("postings.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class AssetDisposal(Base):
    """The end of an asset: sale, withdrawal into private use, scrapping, or a void entry."""

    __tablename__ = "asset_disposals"
    __table_args__ = (
        CheckConstraint("kind IN ('sale', 'withdrawal', 'scrapped', 'void')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), unique=True)
    disposal_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    proceeds: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class AssetPoolYear(Base):
    """Whether the tenant pools the assets of a year (Sammelposten, § 6 Abs. 2a EStG)."""

    __tablename__ = "asset_pool_years"
    __table_args__ = (UniqueConstraint("tenant_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    pooled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
