"""Customers and suppliers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from belegwerk.books import parties as service
from belegwerk.books.schemas_parties import PartyCreate, PartyOut, PartyPage, PartyUpdate
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["parties"])


@router.get("/parties", response_model=PartyPage)
def list_parties(
    ctx: CtxDep,
    role: str | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=service.PAGE_SIZE_MAX)] = 50,
) -> PartyPage:
    rows, total = service.list_parties(
        ctx.session, ctx.tenant_id, role=role, q=q, page=page, page_size=page_size
    )
    return PartyPage(
        items=[PartyOut.model_validate(r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/parties", response_model=PartyOut, status_code=201)
def create_party(body: PartyCreate, ctx: CtxDep) -> Any:
    data = service.PartyData(**body.model_dump())
    return service.create_party(ctx.session, ctx.tenant_id, data, actor=ctx.actor)


@router.get("/parties/{party_id}", response_model=PartyOut)
def get_party(party_id: int, ctx: CtxDep) -> Any:
    return service.get_party(ctx.session, ctx.tenant_id, party_id)


@router.put("/parties/{party_id}", response_model=PartyOut)
def update_party(party_id: int, body: PartyUpdate, ctx: CtxDep) -> Any:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return service.update_party(ctx.session, ctx.tenant_id, party_id, changes, actor=ctx.actor)
