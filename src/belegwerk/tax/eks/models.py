"""What the books cannot know, kept per benefit period and kind: the input mask of the EKS.

A declaration is the user's working copy (not a booked record): it may change until it is
handed in, and every change is in the audit log with before and after.
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
from belegwerk.core.types import Money, Scaled, UTCDateTime, utcnow


class EksDeclaration(Base):
    """One Anlage EKS: the period, its kind and the answers the books cannot give."""

    __tablename__ = "eks_declarations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "period_start", "period_end", "kind"),
        CheckConstraint("kind IN ('provisional', 'final')", name="kind"),
        CheckConstraint("basis IN ('books', 'manual')", name="basis"),
        CheckConstraint("car_use IN ('none', 'business', 'private')", name="car_use"),
        CheckConstraint("basis_months BETWEEN 1 AND 12", name="basis_months"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    # Provisional only: forecast from the average of the last `basis_months` months of the
    # books ("books") or from the user's figures alone ("manual").
    basis: Mapped[str] = mapped_column(String(10), default="books")
    basis_months: Mapped[int] = mapped_column(Integer, default=6)
    vat_liable: Mapped[bool] = mapped_column(Boolean, default=True)  # field 32
    car_use: Mapped[str] = mapped_column(String(10), default="none")
    has_minor_child: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[str] = mapped_column(Text, default="{}")  # JSON: numbered fields by key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="local")


class EksDeduction(Base):
    """A line of table C (Absetzungen vom Einkommen): kind, amount and payment rhythm."""

    __tablename__ = "eks_deductions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("eks_declarations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Money())
    rhythm: Mapped[str] = mapped_column(String(12))


class EksMonthValue(Base):
    """A user's figure for one month: a table line in euro (forecast or correction) or the
    kilometres driven (``km_business`` / ``km_private``, field 47)."""

    __tablename__ = "eks_month_values"
    __table_args__ = (UniqueConstraint("declaration_id", "month", "line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("eks_declarations.id"), index=True)
    month: Mapped[date] = mapped_column(Date)
    line: Mapped[str] = mapped_column(String(12))
    value: Mapped[Decimal] = mapped_column(Scaled(2))
