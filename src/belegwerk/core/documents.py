"""Original files (bank statements, e-invoices, receipts), kept byte for byte with their SHA-256.

GoBD: the original is the record; it is stored once per tenant and never changed (the database
refuses UPDATE and DELETE on this table).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from belegwerk.core.db import Base
from belegwerk.core.types import UTCDateTime, utcnow


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="local")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def store_document(
    session: Session,
    tenant_id: int,
    content: bytes,
    file_name: str,
    media_type: str = "application/octet-stream",
    actor: str = "local",
) -> tuple[Document, bool]:
    """Archive ``content`` once; returns the document and whether it was new."""
    digest = sha256_of(content)
    existing = session.scalar(
        select(Document).where(Document.tenant_id == tenant_id, Document.sha256 == digest)
    )
    if existing is not None:
        return existing, False
    doc = Document(
        tenant_id=tenant_id,
        sha256=digest,
        file_name=file_name[:255],
        media_type=media_type[:100],
        size=len(content),
        content=content,
        created_by=actor,
    )
    session.add(doc)
    session.flush()
    return doc, True
