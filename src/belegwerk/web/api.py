"""Health and service endpoints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import func, select, text

from belegwerk import __version__
from belegwerk.core.audit import AuditEntry, verify_chain
from belegwerk.web.deps import CtxDep, engine_of

router = APIRouter(tags=["system"])


@router.get("/health")
def health(request: Request) -> dict[str, str]:
    """Answers as soon as the database answers."""
    with engine_of(request).connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any = None
    after: Any = None
    reason: str | None
    hash: str

    @field_validator("before", "after", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    page: int
    page_size: int


class AuditVerifyOut(BaseModel):
    intact: bool
    problems: list[dict[str, Any]]


@router.get("/audit-log", response_model=AuditPage, tags=["audit"])
def audit_log(
    ctx: CtxDep,
    entity: str | None = None,
    entity_id: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest first; ``before``/``after`` are the changed fields."""
    where = [AuditEntry.tenant_id == ctx.tenant_id]
    if entity:
        where.append(AuditEntry.entity == entity)
    if entity_id:
        where.append(AuditEntry.entity_id == entity_id)
    total = ctx.session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    rows = ctx.session.scalars(
        select(AuditEntry)
        .where(*where)
        .order_by(AuditEntry.seq.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return AuditPage(
        items=[AuditOut.model_validate(r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/audit-log/verify", response_model=AuditVerifyOut, tags=["audit"])
def audit_verify(ctx: CtxDep) -> AuditVerifyOut:
    problems = verify_chain(ctx.session, ctx.tenant_id)
    return AuditVerifyOut(
        intact=not problems,
        problems=[{"id": p.entry_id, "seq": p.seq, "reason": p.reason} for p in problems],
    )
