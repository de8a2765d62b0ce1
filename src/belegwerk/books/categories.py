"""The master category table (Buchungstext = Master-Kategorie) and per-tenant account overrides."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.models import Category, CategoryOverride
from belegwerk.core.errors import NotFound
from belegwerk.core.i18n import _

DATA = Path(__file__).resolve().parent / "data" / "categories.csv"


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


def account_for(session: Session, tenant_id: int, category: Category, chart: str) -> str | None:
    """The tenant's account for a category: its override if set, else the master account."""
    override = session.scalar(
        select(CategoryOverride).where(
            CategoryOverride.tenant_id == tenant_id, CategoryOverride.category_id == category.id
        )
    )
    attr = f"{chart}_account"
    if override is not None and getattr(override, attr):
        return str(getattr(override, attr))
    value = getattr(category, attr)
    return str(value) if value else None
