"""Tables of the exports: per-tenant export settings, the export log and DATEV import batches.

The log and the import batches are records (GoBD): the database refuses UPDATE and DELETE.
"""

from __future__ import annotations

from datetime import date, datetime

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
from belegwerk.core.types import UTCDateTime, utcnow

EXPORT_KINDS = ("datev", "datev_parties", "agenda", "gdpdu")


class ExportSettings(Base):
    """What a tenant decides about its exports; changes are audited."""

    __tablename__ = "export_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), unique=True)
    # DATEV header field 21: the tax advisor's DATEV locks (festschreiben) the batch on import.
    datev_lock: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="local")


class ExportLog(Base):
    """One file handed out: which period, how many records, its SHA-256, who, when."""

    __tablename__ = "export_log"
    __table_args__ = (
        CheckConstraint("kind IN ('datev', 'datev_parties', 'agenda', 'gdpdu')", name="kind"),
        Index("ix_export_log_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    records: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # JSON list of the warnings the user confirmed before the export ({"code", "message"}).
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


class DatevImport(Base):
    """One imported DATEV Buchungsstapel: the archived original and what became of its rows."""

    __tablename__ = "datev_imports"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    marker: Mapped[str] = mapped_column(String(4))  # EXTF (third-party) or DTVF (DATEV)
    header_version: Mapped[int] = mapped_column(Integer)
    format_version: Mapped[int] = mapped_column(Integer)
    advisor_number: Mapped[str] = mapped_column(String(10), default="")
    client_number: Mapped[str] = mapped_column(String(10), default="")
    fiscal_year_start: Mapped[date | None] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(60), default="")
    rows: Mapped[int] = mapped_column(Integer)
    imported: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    uncategorised: Mapped[int] = mapped_column(Integer)
    # JSON list of {"line", "message"}: skipped rows, kept keys, uncategorised lines.
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")
