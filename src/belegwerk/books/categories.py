"""The master category table (Buchungstext = Master-Kategorie) and per-tenant account overrides."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.journal import chart_of
from belegwerk.books.models import Category, CategoryOverride
from belegwerk.core.audit import audit_writer
from belegwerk.core.errors import NotFound, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.types import utcnow

DATA = Path(__file__).resolve().parent / "data" / "categories.csv"
CHARTS = ("skr03", "skr04")
KINDS = ("expense", "revenue", "private", "asset", "transfer")
# DATEV Sachkonten have 4 digits in the standard charts; longer ones (up to 8) for custom setups.
ACCOUNT_PATTERN = re.compile(r"^[0-9]{4,8}$")


@dataclass(frozen=True)
class CategorySpec:
    key: str
    name_de: str
    name_en: str
    kind: str
    skr03_account: str | None
    skr04_account: str | None
    eks_line: str | None
    euer_kz: str | None
    default_vat_rate: Decimal
    input_vat_deductible: bool
    sort_order: int
    note: str


@lru_cache
def master_specs() -> tuple[CategorySpec, ...]:
    with DATA.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return tuple(
        CategorySpec(
            key=r["key"],
            name_de=r["name_de"],
            name_en=r["name_en"],
            kind=r["kind"],
            skr03_account=r["skr03_account"] or None,
            skr04_account=r["skr04_account"] or None,
            eks_line=r["eks_line"] or None,
            euer_kz=r["euer_kz"] or None,
            default_vat_rate=Decimal(r["default_vat_rate"]),
            input_vat_deductible=r["input_vat_deductible"] == "true",
            sort_order=int(r["sort_order"]),
            note=r["note"],
        )
        for r in rows
    )


def sync_master_categories(session: Session) -> int:
    """Insert or update the shipped master categories; returns how many rows changed."""
    existing = {c.key: c for c in session.scalars(select(Category))}
    changed = 0
    for spec in master_specs():
        values = spec.__dict__
        row = existing.get(spec.key)
        if row is None:
            session.add(Category(**values))
            changed += 1
            continue
        if any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    session.flush()
    return changed


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(
            "category.not_found",
            _("Unknown category: {id}").format(id=category_id),
            [{"field": "category_id", "value": category_id}],
        )
    return category


def category_by_key(session: Session, key: str) -> Category:
    category = session.scalar(select(Category).where(Category.key == key))
    if category is None:
        raise NotFound("category.not_found", _("Unknown category: {id}").format(id=key))
    return category


def _override(session: Session, tenant_id: int, category_id: int) -> CategoryOverride | None:
    return session.scalar(
        select(CategoryOverride).where(
            CategoryOverride.tenant_id == tenant_id, CategoryOverride.category_id == category_id
        )
    )


def _effective(category: Category, override: CategoryOverride | None, chart: str) -> str | None:
    attr = f"{chart}_account"
    if override is not None and getattr(override, attr):
        return str(getattr(override, attr))
    value = getattr(category, attr)
    return str(value) if value else None


def account_for(session: Session, tenant_id: int, category: Category, chart: str) -> str | None:
    """The tenant's account for a category: its override if set, else the master account."""
    return _effective(category, _override(session, tenant_id, category.id), chart)


@dataclass(frozen=True)
class CategoryView:
    """A master category as one tenant sees it: master accounts, its overrides, the result."""

    category: Category
    chart: str
    override_skr03: str | None
    override_skr04: str | None
    effective_skr03: str | None
    effective_skr04: str | None

    @property
    def account(self) -> str | None:
        """The account bookings use in the tenant's own chart."""
        return self.effective_skr03 if self.chart == "skr03" else self.effective_skr04


def _view(category: Category, override: CategoryOverride | None, chart: str) -> CategoryView:
    return CategoryView(
        category=category,
        chart=chart,
        override_skr03=override.skr03_account if override else None,
        override_skr04=override.skr04_account if override else None,
        effective_skr03=_effective(category, override, "skr03"),
        effective_skr04=_effective(category, override, "skr04"),
    )


def _chart(session: Session, tenant_id: int) -> str:
    return chart_of(session, tenant_id)


def list_categories(
    session: Session, tenant_id: int, kind: str | None = None
) -> list[CategoryView]:
    """All master categories with the tenant's effective accounts, in display order."""
    query = select(Category).order_by(Category.sort_order, Category.id)
    if kind is not None:
        if kind not in KINDS:
            raise ValidationFailed(
                "category.invalid_kind",
                _("Unknown category kind: {kind}. Allowed: {allowed}.").format(
                    kind=kind, allowed=", ".join(KINDS)
                ),
                [{"field": "kind", "value": kind}],
            )
        query = query.where(Category.kind == kind)
    overrides = {
        o.category_id: o
        for o in session.scalars(
            select(CategoryOverride).where(CategoryOverride.tenant_id == tenant_id)
        )
    }
    chart = _chart(session, tenant_id)
    return [_view(c, overrides.get(c.id), chart) for c in session.scalars(query)]


def category_view(session: Session, tenant_id: int, category_id: int) -> CategoryView:
    category = get_category(session, category_id)
    return _view(category, _override(session, tenant_id, category.id), _chart(session, tenant_id))


def _check_account(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not ACCOUNT_PATTERN.match(value):
        raise ValidationFailed(
            "category.invalid_account",
            _("The account number {value} is not valid (4 to 8 digits).").format(value=value),
            [{"field": field, "value": value}],
        )
    return value


def _accounts(override: CategoryOverride | None) -> dict[str, str | None] | None:
    if override is None:
        return None
    return {"skr03_account": override.skr03_account, "skr04_account": override.skr04_account}


def set_override(
    session: Session,
    tenant_id: int,
    category_id: int,
    skr03_account: str | None = None,
    skr04_account: str | None = None,
    actor: str = "local",
) -> CategoryView:
    """Give the tenant its own account(s) for a category (e.g. the tax advisor's revenue account).

    The override replaces any earlier one; a chart left ``None`` falls back to the master account.
    """
    category = get_category(session, category_id)
    skr03 = _check_account("skr03_account", skr03_account)
    skr04 = _check_account("skr04_account", skr04_account)
    if skr03 is None and skr04 is None:
        raise ValidationFailed(
            "category.override_empty",
            _("Give an account for SKR03 or SKR04 (or remove the override)."),
            [{"field": "skr03_account"}, {"field": "skr04_account"}],
        )
    override = _override(session, tenant_id, category.id)
    before = _accounts(override)
    if override is None:
        override = CategoryOverride(tenant_id=tenant_id, category_id=category.id)
        session.add(override)
    override.skr03_account = skr03
    override.skr04_account = skr04
    override.updated_at = utcnow()
    after = _accounts(override)
    if before != after:
        audit_writer(session, tenant_id, actor).record(
            "update", "category_override", category.key, before=before, after=after
        )
    session.flush()
    return _view(category, override, _chart(session, tenant_id))


def clear_override(
    session: Session, tenant_id: int, category_id: int, actor: str = "local"
) -> CategoryView:
    """Go back to the master accounts of a category."""
    category = get_category(session, category_id)
    override = _override(session, tenant_id, category.id)
    if override is None:
        raise NotFound(
            "category.no_override",
            _("The category {name} has no own accounts.").format(name=category.name_de),
            [{"field": "category_id", "value": category_id}],
        )
    audit_writer(session, tenant_id, actor).record(
        "delete", "category_override", category.key, before=_accounts(override), after=None
    )
    session.delete(override)
    session.flush()
    return _view(category, None, _chart(session, tenant_id))


# Revenue categories whose accounts are DATEV automatic accounts for one VAT treatment.
REVENUE_BY_RATE = {
    Decimal(19): "revenue_19",
    Decimal(16): "revenue_19",
    Decimal(7): "revenue_7",
    Decimal(5): "revenue_7",
    Decimal(0): "revenue_tax_free",
}
SMALL_BUSINESS_REVENUE = "revenue_small_business"
RATE_BOUND_REVENUE = frozenset((*REVENUE_BY_RATE.values(), SMALL_BUSINESS_REVENUE))


def revenue_category_for_rate(
    session: Session, category: Category, rate: Decimal, small_business: bool
) -> Category:
    """Sales revenue follows its VAT treatment: 8400 is the 19 % automatic account, so a 7 % or
    a § 19 sale picked under "Betriebseinnahmen 19 %" is booked under the matching category
    (DATEV would otherwise compute the wrong tax). Other categories stay as chosen."""
    if category.key not in RATE_BOUND_REVENUE:
        return category
    key = SMALL_BUSINESS_REVENUE if small_business else REVENUE_BY_RATE.get(rate, category.key)
    return category if key == category.key else category_by_key(session, key)
