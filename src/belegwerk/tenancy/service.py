"""Tenants and company master data; every change lands in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.core.audit import audit_writer
from belegwerk.core.errors import NotFound, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.types import utcnow
from belegwerk.tenancy import validation as v
from belegwerk.tenancy.models import Company, Tenant

DEFAULT_SLUG = "default"

COMPANY_FIELDS = (
    "name",
    "street",
    "postal_code",
    "city",
    "country",
    "state",
    "email",
    "contact_name",
    "phone",
    "tax_number",
    "vat_id",
    "vat_regime",
    "vat_accounting",
    "ustva_period",
    "filing_extension",
    "activity",
    "chart",
    "fiscal_year_start_month",
    "advisor_number",
    "client_number",
    "iban",
    "bic",
    "bank_name",
)


@dataclass
class CompanyData:
    name: str
    vat_regime: str = "standard"
    vat_accounting: str = "accrual"
    ustva_period: str = "quarterly"
    activity: str = "freelance"
    chart: str | None = None
    filing_extension: bool = False
    fiscal_year_start_month: int = 1
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"
    state: str = ""
    email: str = ""
    contact_name: str = ""
    phone: str = ""
    tax_number: str = ""
    vat_id: str = ""
    advisor_number: str = ""
    client_number: str = ""
    iban: str = ""
    bic: str = ""
    bank_name: str = ""


def validate_company(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a (partial) set of company fields; raises on the first problem."""
    out = dict(values)
    if "name" in out:
        out["name"] = str(out["name"]).strip()
        if not out["name"]:
            raise ValidationFailed(
                "company.name_missing", _("The company name is missing."), [{"field": "name"}]
            )
    checks = {
        "vat_regime": v.VAT_REGIMES,
        "vat_accounting": v.VAT_ACCOUNTING,
        "ustva_period": v.USTVA_PERIODS,
        "activity": v.ACTIVITIES,
        "chart": v.CHARTS,
    }
    for key, allowed in checks.items():
        if key in out and out[key] is not None:
            v.check_choice(key, out[key], allowed)
    if out.get("state"):
        out["state"] = str(out["state"]).strip().upper()
        v.check_choice("state", out["state"], v.STATES)
    for key, limit in (("contact_name", 100), ("phone", 40)):
        if key in out:
            out[key] = str(out[key] or "").strip()
            if len(out[key]) > limit:
                raise ValidationFailed(
                    "company.field_too_long",
                    _("{field} may have at most {n} characters.").format(field=key, n=limit),
                    [{"field": key, "max_length": limit}],
                )
    if out.get("phone") and sum(c.isdigit() for c in out["phone"]) < 3:
        raise ValidationFailed(
            "company.invalid_phone",
            _("The telephone number {value} has fewer than three digits.").format(
                value=out["phone"]
            ),
            [{"field": "phone", "value": out["phone"]}],
        )
    if "vat_id" in out:
        out["vat_id"] = v.normalize_vat_id(out["vat_id"] or "")
    if "tax_number" in out:
        out["tax_number"] = v.normalize_tax_number(out["tax_number"] or "")
    if "advisor_number" in out:
        out["advisor_number"] = v.check_digits("advisor_number", out["advisor_number"] or "", 7)
    if "client_number" in out:
        out["client_number"] = v.check_digits("client_number", out["client_number"] or "", 5)
    if "fiscal_year_start_month" in out and not 1 <= int(out["fiscal_year_start_month"]) <= 12:
        raise ValidationFailed(
            "company.invalid_fiscal_year_start_month",
            _("The fiscal year must start in a month from 1 to 12."),
            [{"field": "fiscal_year_start_month"}],
        )
    if out.get("iban"):
        from belegwerk.core.iban import normalize_iban

        out["iban"] = normalize_iban(out["iban"])
    return out


def _snapshot(company: Company) -> dict[str, Any]:
    return {f: getattr(company, f) for f in COMPANY_FIELDS}


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50]
    return slug or "firma"


def create_tenant(session: Session, data: CompanyData, slug: str | None = None) -> Tenant:
    values = validate_company({f.name: getattr(data, f.name) for f in fields(data)})
    if not values.get("chart"):
        values["chart"] = v.suggested_chart(values["activity"])
    base = slug or _slugify(values["name"])
    candidate, n = base, 1
    while session.scalar(select(Tenant.id).where(Tenant.slug == candidate)) is not None:
        n += 1
        candidate = f"{base}-{n}"
    tenant = Tenant(slug=candidate, name=values["name"])
    session.add(tenant)
    session.flush()
    session.info["tenant_id"] = tenant.id
    _set_pg_tenant(session, tenant.id)
    company = Company(tenant_id=tenant.id, configured=True, **values)
    session.add(company)
    session.flush()
    audit_writer(session, tenant.id).record(
        "create", "company", company.id, after=_snapshot(company)
    )
    return tenant


def _set_pg_tenant(session: Session, tenant_id: int) -> None:
    """A transaction that created a tenant must also switch RLS to it before writing rows."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT set_config('app.current_tenant', :t, true)"), {"t": str(tenant_id)}
        )


def ensure_default_tenant(session: Session) -> Tenant:
    """Embedded mode: there is always one tenant to work in."""
    tenant = session.scalar(select(Tenant).order_by(Tenant.id).limit(1))
    if tenant is not None:
        return tenant
    tenant = create_tenant(session, CompanyData(name=_("My company")), slug=DEFAULT_SLUG)
    company = get_company(session, tenant.id)
    company.configured = False
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.id)))


def get_tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound("tenant.not_found", _("Unknown company: {slug}").format(slug=slug))
    return tenant


def get_company(session: Session, tenant_id: int) -> Company:
    company = session.scalar(select(Company).where(Company.tenant_id == tenant_id))
    if company is None:
        raise NotFound("company.not_found", _("No company data for this tenant."))
    return company


def update_company(
    session: Session, tenant_id: int, changes: dict[str, Any], actor: str = "local"
) -> Company:
    company = get_company(session, tenant_id)
    unknown = set(changes) - set(COMPANY_FIELDS)
    if unknown:
        raise ValidationFailed(
            "company.unknown_field",
            _("Unknown field: {field}").format(field=", ".join(sorted(unknown))),
        )
    values = validate_company(changes)
    before = _snapshot(company)
    for key, value in values.items():
        setattr(company, key, value)
    company.configured = True
    company.updated_at = utcnow()
    if "name" in values:
        tenant = session.get(Tenant, tenant_id)
        if tenant is not None:
            tenant.name = values["name"]
    after = _snapshot(company)
    changed_before = {k: before[k] for k in after if before[k] != after[k]}
    changed_after = {k: after[k] for k in after if before[k] != after[k]}
    if changed_after:
        audit_writer(session, tenant_id, actor).record(
            "update", "company", company.id, before=changed_before, after=changed_after
        )
    session.flush()
    return company
