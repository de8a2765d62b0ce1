"""Records of the VAT side: filed UStVA returns and the Sondervorauszahlung of a year.

Both are records (GoBD): never changed, never deleted. A second filing of a period is a
corrected return (Kz 10); a changed Sondervorauszahlung is a new row, the newest counts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from belegwerk.core.db import Base
from belegwerk.core.types import Money, UTCDateTime, utcnow


class UstvaFiling(Base):
    """A UStVA the user marked as filed ("als abgegeben markiert"), with its boxes."""

    __tablename__ = "ustva_filings"
    __table_args__ = (Index("ix_ustva_filings_period", "tenant_id", "year", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(2))  # ELSTER Zeitraum: 01–12, 41–44
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)  # Kz 10
    boxes: Mapped[str] = mapped_column(Text)  # JSON {"81": "1234", "66": "12.34", ...}
    result: Mapped[Decimal] = mapped_column(Money())  # Kz 83
    basis: Mapped[str] = mapped_column(String(10))  # accrual | cash
    note: Mapped[str] = mapped_column(Text, default="")
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by: Mapped[str] = mapped_column(String(120), default="local")


class SpecialPrepayment(Base):
    """Sondervorauszahlung for the Dauerfristverlängerung of a year (§ 47 UStDV)."""

    __tablename__ = "ustva_special_prepayments"
    __table_args__ = (Index("ix_ustva_special_prepayments_year", "tenant_id", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money())
    source: Mapped[str] = mapped_column(String(10))  # books | entered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")
