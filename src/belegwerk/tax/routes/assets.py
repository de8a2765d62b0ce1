"""REST routes of the asset register (under /api/v1/tax/assets)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from belegwerk.core.dates import today
from belegwerk.tax import assets as service
from belegwerk.tax import depreciation as dep
from belegwerk.tax.asset_models import Asset, AssetDisposal
from belegwerk.tax.euer_schemas import (
    AssetDetailOut,
    AssetIn,
    AssetOut,
    AssetTypeOut,
    DisposalIn,
    DisposalOut,
    NoticeOut,
    OfferOut,
    PoolIn,
    PoolOut,
    RegisterRowOut,
    YearAfaOut,
)
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["assets"])


def asset_out(
    asset: Asset,
    disposal: AssetDisposal | None,
    method: str,
    warnings: list[service.Notice] | None = None,
) -> AssetOut:
    return AssetOut(
        id=asset.id,
        name=asset.name,
        asset_type=asset.asset_type,
        asset_group=asset.asset_group,
        acquisition_date=asset.acquisition_date,
        net_cost=asset.net_cost,
        useful_life_months=asset.useful_life_months,
        treatment=asset.treatment,
        method=method,
        posting_id=asset.posting_id,
        invoice_id=asset.invoice_id,
        note=asset.note,
        disposal=None
        if disposal is None
        else DisposalOut(
            kind=disposal.kind,
            disposal_date=disposal.disposal_date,
            proceeds=disposal.proceeds,
            reason=disposal.reason,
        ),
        warnings=[
            NoticeOut(code=w.code, level="warning", message=w.message) for w in warnings or []
        ],
    )


def detail_out(
    session: Session, tenant_id: int, asset_id: int, warnings: list[service.Notice] | None = None
) -> AssetDetailOut:
    asset, disposal, method, plan = service.plan_of(session, tenant_id, asset_id)
    pooled = service.pool_choices(session, tenant_id).get(asset.acquisition_date.year, False)
    return AssetDetailOut(
        asset=asset_out(asset, disposal, method, warnings),
        plan=[_year_out(row) for row in plan],
        gain_or_loss=service.gain_or_loss(asset, disposal, pooled) if disposal else None,
    )


def _year_out(row: dep.YearAfa) -> YearAfaOut:
    return YearAfaOut(
        year=row.year,
        kz=row.kz,
        opening=row.opening,
        afa=row.afa,
        book_value_out=row.book_value_out,
        closing=row.closing,
        withdrawal=row.withdrawal,
    )


def input_of(body: AssetIn) -> service.AssetInput:
    months = body.useful_life_months
    if months is None and body.useful_life_years is not None:
        months = body.useful_life_years * 12
    return service.AssetInput(
        name=body.name,
        acquisition_date=body.acquisition_date,
        net_cost=str(body.net_cost),
        useful_life_months=months,
        asset_type=body.asset_type,
        asset_group=body.asset_group,
        treatment=body.treatment,
        posting_id=body.posting_id,
        invoice_id=body.invoice_id,
        note=body.note,
    )


@router.get("/tax/assets", response_model=list[RegisterRowOut])
def list_assets(
    ctx: CtxDep, year: Annotated[int | None, Query(ge=1990, le=2200)] = None
) -> list[RegisterRowOut]:
    """The register as of a year (default: this year) with that year's AfA per asset."""
    rows = service.register(ctx.session, ctx.tenant_id, year or today().year)
    return [
        RegisterRowOut(
            asset=asset_out(r.asset, r.disposal, r.method),
            year=YearAfaOut(**asdict(r.year)),
        )
        for r in rows
    ]


@router.post("/tax/assets", response_model=AssetDetailOut, status_code=201)
def create_asset(body: AssetIn, ctx: CtxDep) -> AssetDetailOut:
    created = service.create_asset(ctx.session, ctx.tenant_id, input_of(body), ctx.actor)
    return detail_out(ctx.session, ctx.tenant_id, created.asset.id, created.warnings)


@router.get("/tax/assets/types", response_model=list[AssetTypeOut])
def asset_types() -> list[AssetTypeOut]:
    """Useful lives the register suggests, from the official AfA table."""
    return [AssetTypeOut.model_validate(asdict(t)) for t in dep.asset_types().values()]


@router.get("/tax/assets/offers", response_model=list[OfferOut])
def list_offers(ctx: CtxDep) -> list[OfferOut]:
    """Purchases booked as investments that are not in the register yet."""
    return [OfferOut.model_validate(asdict(o)) for o in service.offers(ctx.session, ctx.tenant_id)]


@router.get("/tax/assets/pool", response_model=list[PoolOut])
def list_pool_choices(ctx: CtxDep) -> list[PoolOut]:
    choices = service.pool_choices(ctx.session, ctx.tenant_id)
    return [PoolOut(year=y, pooled=p) for y, p in sorted(choices.items())]


@router.put("/tax/assets/pool/{year}", response_model=PoolOut)
def set_pool_choice(year: int, body: PoolIn, ctx: CtxDep) -> PoolOut:
    """Use the Sammelposten for every asset of the year in its range (§ 6 Abs. 2a EStG)."""
    row = service.set_pool_choice(ctx.session, ctx.tenant_id, year, body.pooled, ctx.actor)
    return PoolOut(year=row.year, pooled=row.pooled)


@router.get("/tax/assets/{asset_id}", response_model=AssetDetailOut)
def get_asset(asset_id: int, ctx: CtxDep) -> AssetDetailOut:
    """An asset with its whole AfA plan."""
    return detail_out(ctx.session, ctx.tenant_id, asset_id)


@router.post("/tax/assets/{asset_id}/disposal", response_model=AssetDetailOut, status_code=201)
def dispose(asset_id: int, body: DisposalIn, ctx: CtxDep) -> AssetDetailOut:
    """Sale, withdrawal, scrapping, or void of a wrong entry (with a reason)."""
    service.dispose_asset(
        ctx.session,
        ctx.tenant_id,
        asset_id,
        body.kind,
        body.disposal_date,
        str(body.proceeds),
        body.reason,
        ctx.actor,
    )
    return detail_out(ctx.session, ctx.tenant_id, asset_id)
