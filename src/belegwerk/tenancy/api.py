"""REST routes for tenants and company settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from belegwerk.core.db import system_session
from belegwerk.tenancy import service
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["settings"])


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    street: str
    postal_code: str
    city: str
    country: str
    state: str
    email: str
    contact_name: str
    phone: str
    tax_number: str
    vat_id: str
    vat_regime: str
    vat_accounting: str
    ustva_period: str
    filing_extension: bool
    activity: str
    chart: str
    fiscal_year_start_month: int
    advisor_number: str
    client_number: str
    iban: str
    bic: str
    bank_name: str
    configured: bool


class CompanyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    state: str | None = None
    email: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    tax_number: str | None = None
    vat_id: str | None = None
    vat_regime: str | None = None
    vat_accounting: str | None = None
    ustva_period: str | None = None
    filing_extension: bool | None = None
    activity: str | None = None
    chart: str | None = None
    fiscal_year_start_month: int | None = None
    advisor_number: str | None = None
    client_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None


class TenantOut(BaseModel):
    slug: str
    name: str


@router.get("/tenants", response_model=list[TenantOut])
def list_tenants(ctx: CtxDep) -> list[dict[str, Any]]:
    with system_session(ctx.session.get_bind()) as session:  # type: ignore[arg-type]
        return [{"slug": t.slug, "name": t.name} for t in service.list_tenants(session)]


@router.get("/settings", response_model=CompanyOut)
def get_settings(ctx: CtxDep) -> Any:
    return service.get_company(ctx.session, ctx.tenant_id)


@router.put("/settings", response_model=CompanyOut)
def put_settings(body: CompanyUpdate, ctx: CtxDep) -> Any:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return service.update_company(ctx.session, ctx.tenant_id, changes, ctx.actor)
