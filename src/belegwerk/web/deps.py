"""Request-scoped database sessions bound to the tenant the caller works in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from belegwerk.core.db import lock_tenant, session_factory, system_session
from belegwerk.core.errors import NotFound
from belegwerk.core.i18n import _
from belegwerk.tenancy.models import Tenant

TENANT_HEADER = "X-Belegwerk-Tenant"
TENANT_COOKIE = "belegwerk_tenant"


@dataclass
class Ctx:
    """What a request works with: its session, tenant and actor."""

    session: Session
    tenant_id: int
    tenant_slug: str
    actor: str


def engine_of(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def resolve_tenant(request: Request) -> Tenant:
    slug = request.headers.get(TENANT_HEADER) or request.cookies.get(TENANT_COOKIE)
    with system_session(engine_of(request)) as session:
        query = select(Tenant)
        if slug:
            tenant = session.scalar(query.where(Tenant.slug == slug))
            if tenant is None and request.headers.get(TENANT_HEADER):
                raise NotFound("tenant.not_found", _("Unknown company: {slug}").format(slug=slug))
            if tenant is not None:
                return tenant
        tenant = session.scalar(query.order_by(Tenant.id).limit(1))
        if tenant is None:
            from belegwerk.tenancy.service import ensure_default_tenant

            tenant = ensure_default_tenant(session)
        return tenant


def get_ctx(request: Request, tenant: Tenant = Depends(resolve_tenant)) -> Iterator[Ctx]:
    """One transaction per request; committed when the handler returns without error."""
    session = session_factory(engine_of(request))()
    session.info["tenant_id"] = tenant.id
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        lock_tenant(session, tenant.id)
    try:
        yield Ctx(session=session, tenant_id=tenant.id, tenant_slug=tenant.slug, actor="local")
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


CtxDep = Annotated[Ctx, Depends(get_ctx, scope="function")]
