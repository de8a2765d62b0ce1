"""Categories (Buchungstext = Master-Kategorie) and the tenant's own accounts for them."""

from __future__ import annotations

from fastapi import APIRouter

from belegwerk.books import categories as service
from belegwerk.books.schemas_categories import CategoryOut, OverrideIn
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["categories"])


@router.get("/categories", response_model=list[CategoryOut])
def list_categories(ctx: CtxDep, kind: str | None = None) -> list[CategoryOut]:
    views = service.list_categories(ctx.session, ctx.tenant_id, kind)
    return [CategoryOut.from_view(v) for v in views]


@router.get("/categories/{category_id}", response_model=CategoryOut)
def get_category(category_id: int, ctx: CtxDep) -> CategoryOut:
    return CategoryOut.from_view(service.category_view(ctx.session, ctx.tenant_id, category_id))


@router.put("/categories/{category_id}/override", response_model=CategoryOut)
def put_override(category_id: int, body: OverrideIn, ctx: CtxDep) -> CategoryOut:
    view = service.set_override(
        ctx.session,
        ctx.tenant_id,
        category_id,
        skr03_account=body.skr03_account,
        skr04_account=body.skr04_account,
        actor=ctx.actor,
    )
    return CategoryOut.from_view(view)


@router.delete("/categories/{category_id}/override", response_model=CategoryOut)
def delete_override(category_id: int, ctx: CtxDep) -> CategoryOut:
    view = service.clear_override(ctx.session, ctx.tenant_id, category_id, actor=ctx.actor)
    return CategoryOut.from_view(view)
