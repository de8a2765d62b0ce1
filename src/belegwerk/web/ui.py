"""What every capability's pages share: the layout context, form parsing, flash, redirects.

Pages follow POST-redirect-GET. A handler calls a service; on a :class:`BelegwerkError` it
rolls the request transaction back and re-renders the form with the German message (4xx).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from belegwerk.core.db import system_session
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.tenancy.models import Company, Tenant
from belegwerk.web.deps import CtxDep, engine_of
from belegwerk.web.templating import render


def flash_text(key: str) -> str:
    """Success messages shown after a redirect (``?done=<key>``)."""
    messages = {
        "saved": _("Saved."),
        "settings": _("The company settings have been saved."),
        "override": _("The account has been changed."),
        "override_reset": _("The account has been reset to the standard account."),
        "party": _("The contact has been saved."),
        "invoice": _("The invoice has been saved as a draft."),
        "booked": _("The invoice has been booked."),
        "reversed": _("The invoice has been reversed."),
        "payment": _("The payment has been recorded."),
        "payment_proposed": _(
            "The cash payment has been proposed for the cash book; confirm it there or below."
        ),
        "payment_reversed": _("The payment has been reversed."),
        "deleted": _("The draft has been deleted."),
        "corrected": _("The invoice has been reversed; correct the new draft and book it."),
        "opening": _("The opening balance has been set."),
        "entry": _("The cash entry has been recorded."),
        "entry_reversed": _("The cash entry has been reversed."),
        "proposal_confirmed": _("The cash proposal has been entered into the cash book."),
        "proposal_rejected": _("The cash proposal has been rejected."),
        "closed": _("The daily closing has been saved."),
        "filed": _("The UStVA has been marked as filed."),
    }
    return messages.get(key, "")


@dataclass
class Nav:
    """Header and sidebar data: the companies to switch between and the current one."""

    tenants: list[tuple[str, str]] = field(default_factory=list)
    current_slug: str = ""
    company_name: str = ""
    configured: bool = True
    small_business: bool = False
    chart: str = "skr04"
    flash: str = ""


def _nav(request: Request, session: Session, tenant_id: int, slug: str) -> Nav:
    company = session.scalar(select(Company).where(Company.tenant_id == tenant_id))
    with system_session(engine_of(request)) as system:
        tenants = list(system.execute(select(Tenant.slug, Tenant.name).order_by(Tenant.id)).all())
    name = company.name if company else slug
    return Nav(
        tenants=[(s, n) for s, n in tenants],
        current_slug=slug,
        company_name=name,
        configured=bool(company and company.configured),
        small_business=bool(company and company.vat_regime == "small_business"),
        chart=company.chart if company else "skr04",
        flash=flash_text(request.query_params.get("done", "")),
    )


@dataclass
class Page:
    """A page request: the tenant context plus rendering helpers."""

    request: Request
    session: Session
    tenant_id: int
    actor: str
    nav: Nav

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status_code=status_code, **context)

    def fail(
        self,
        template: str,
        exc: BelegwerkError,
        build: Callable[[], dict[str, Any]] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Undo whatever the failed action wrote, then show the form again with the message.

        ``build`` makes the page context after the rollback (a failed flush leaves the session
        unusable until then), merged under the keyword context.
        """
        self.session.rollback()
        if build is not None:
            context = {**build(), **context}
        context.setdefault("error", exc)
        context.setdefault("field_errors", field_errors(exc))
        return render(self.request, template, status_code=exc.status_code, **context)


def get_page(request: Request, ctx: CtxDep) -> Page:
    nav = _nav(request, ctx.session, ctx.tenant_id, ctx.tenant_slug)
    request.state.nav = nav
    return Page(request, ctx.session, ctx.tenant_id, ctx.actor, nav)


PageDep = Annotated[Page, Depends(get_page)]


async def read_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def field_errors(exc: BelegwerkError) -> dict[str, str]:
    """Map the error's ``details[].field`` to the message, for inline display next to inputs."""
    out: dict[str, str] = {}
    for detail in exc.details:
        name = detail.get("field") if isinstance(detail, dict) else None
        if isinstance(name, str):
            out.setdefault(name, exc.message)
    return out


def redirect(url: str, done: str | None = None, **params: Any) -> RedirectResponse:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    if done:
        query["done"] = done
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
    return RedirectResponse(url, status_code=303)


def local_url(url: str, default: str) -> str:
    """Only redirect within the app (no open redirect through a ``next`` field)."""
    return url if url.startswith("/") and not url.startswith("//") else default


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def checkbox(form: FormData, name: str) -> bool:
    return text(form, name) in ("1", "on", "true", "yes")


GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")


def decimal_input(value: str) -> str:
    """Accept German input ("1.234,56", "1.000") as well as "1234.56"; returns "1234.56".

    With a comma, dots are thousands separators. Without one, a dot is the decimal point
    unless the number is grouped in thousands ("1.000", "12.500.000"), as German users write.
    """
    value = value.strip().replace(" ", "").replace("\u00a0", "").replace("€", "")
    if "," in value or GROUPED.match(value):
        value = value.replace(".", "").replace(",", ".")
    return value


def parse_decimal(value: str, name: str, *, default: Decimal | None = None) -> Decimal:
    """A number that is not money (quantity, rate); German decimal comma allowed."""
    raw = decimal_input(value)
    if not raw and default is not None:
        return default
    try:
        result = Decimal(raw)
    except (InvalidOperation, ValueError):
        result = Decimal("NaN")
    if not result.is_finite():
        raise ValidationFailed(
            "form.not_a_number",
            _("Please enter a number."),
            [{"field": name, "value": value}],
        )
    return result


def parse_date(value: str, name: str, *, required: bool = True) -> date | None:
    """ISO (from <input type=date>) or German 31.12.2026."""
    value = value.strip()
    if not value:
        if required:
            raise ValidationFailed(
                "form.date_missing", _("Please enter a date."), [{"field": name}]
            )
        return None
    try:
        if "." in value:
            day, month, year = value.split(".")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "form.invalid_date",
            _("{value} is not a valid date.").format(value=value),
            [{"field": name, "value": value}],
        ) from None


def parse_int(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed(
            "form.not_a_number", _("Please enter a number."), [{"field": name, "value": value}]
        )
    return int(value)
