"""Depreciation of one asset, year by year (pure functions; the limits come from core.params).

Methods, chosen per asset from its cost on the acquisition date and the year's Sammelposten
choice (:func:`method_for`):

* ``linear`` — § 7 Abs. 1 EStG, pro rata temporis by month: the month of acquisition counts in
  full, so is the month of disposal. The cumulative AfA after ``m`` months is
  ``cost × m / life`` rounded half up to the cent, and a year's AfA is the difference of two
  cumulative figures: the years add up to the cost exactly.
* ``gwg`` — § 6 Abs. 2 EStG, geringwertiges Wirtschaftsgut: net cost up to the GWG limit written
  off in full in the year of acquisition (Kz 132).
* ``pool`` — § 6 Abs. 2a EStG, Sammelposten: every movable asset of a year that chose the pool
  with a cost above the lower and up to the upper limit; a fifth per year over five years
  starting with the acquisition year, no months, and a disposal changes nothing (Kz 137).
* ``digital`` — computer hardware and software with a useful life of one year (BMF 26.02.2021,
  22.02.2022): the cost in full in the year of acquisition.

A disposal ends linear AfA with the month of disposal; what is left is the Restbuchwert
(Kz 135). A void entry (kind ``void``) is no asset at all.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files

from belegwerk.core import params
from belegwerk.core.money import ZERO, from_cents, to_cents

GROUPS = ("movable", "intangible", "immovable")
TREATMENTS = ("auto", "linear", "digital")
DISPOSAL_KINDS = ("sale", "withdrawal", "scrapped", "void")
# Anlage EÜR Kennzahl of each kind of AfA.
KZ_BY_GROUP = {"movable": "130", "intangible": "131", "immovable": "136"}
KZ_GWG = "132"
KZ_POOL = "137"
KZ_BOOK_VALUE = "135"
KZ_WITHDRAWAL = "102"


@dataclass(frozen=True)
class AssetType:
    """A line of the AfA table the register suggests useful lives from."""

    key: str
    name_de: str
    name_en: str
    group: str
    months: int
    digital: bool
    source: str


@cache
def asset_types() -> dict[str, AssetType]:
    raw = tomllib.loads(files("belegwerk.tax").joinpath("data/afa_table.toml").read_text("utf-8"))
    return {t["key"]: AssetType(**t) for t in raw["type"]}


@dataclass(frozen=True)
class Disposal:
    day: date
    kind: str
    proceeds: Decimal


@dataclass(frozen=True)
class AssetFacts:
    """What the depreciation of one asset depends on."""

    id: int
    name: str
    group: str
    acquisition_date: date
    net_cost: Decimal
    useful_life_months: int
    treatment: str
    disposal: Disposal | None = None


@dataclass(frozen=True)
class YearAfa:
    """One year of an asset's AfA plan."""

    year: int
    method: str
    kz: str
    opening: Decimal  # book value at the start of the year (the cost in the acquisition year)
    afa: Decimal
    book_value_out: Decimal  # Restbuchwert written off on disposal in this year
    closing: Decimal
    withdrawal: Decimal  # Teilwert of a withdrawal into private use in this year


def limits(on: date) -> tuple[Decimal, Decimal, Decimal, int]:
    """GWG limit, Sammelposten range and years, as the law had them on the day."""
    return (
        params.decimal("gwg_limit", on),
        params.decimal("pooled_asset_lower", on),
        params.decimal("pooled_asset_upper", on),
        int(params.decimal("pooled_asset_years", on)),
    )


def method_for(asset: AssetFacts, pooled: bool) -> str:
    """linear, gwg, pool or digital; ``pooled`` is the Sammelposten choice of its year."""
    if asset.treatment == "digital":
        return "digital"
    if asset.group != "movable":
        return "linear"
    gwg_limit, lower, upper, _years = limits(asset.acquisition_date)
    if pooled and lower < asset.net_cost <= upper:
        return "pool"  # § 6 Abs. 2a Satz 5 EStG: for all such assets of the year
    ceiling = lower if pooled else gwg_limit
    if asset.treatment == "auto" and asset.net_cost <= ceiling:
        return "gwg"
    return "linear"


def _months_through(start: date, day: date) -> int:
    """Months from the acquisition month through ``day``'s month, both counted."""
    return (day.year - start.year) * 12 + day.month - start.month + 1


def _share(cost: int, part: int, whole: int) -> int:
    part = max(0, min(part, whole))
    return (2 * cost * part + whole) // (2 * whole)


def plan(asset: AssetFacts, pooled: bool) -> list[YearAfa]:
    """Every year with AfA or a disposal, from the acquisition year on."""
    disposal = asset.disposal
    if disposal is not None and disposal.kind == "void":
        return []
    method = method_for(asset, pooled)
    cost = to_cents(asset.net_cost)
    first = asset.acquisition_date.year
    end_year = disposal.day.year if disposal is not None else None
    if method in ("gwg", "digital"):
        kz = KZ_GWG if method == "gwg" else KZ_BY_GROUP[asset.group]
        cumulative = {first: cost}
        last = first
    elif method == "pool":
        kz = KZ_POOL
        years = limits(asset.acquisition_date)[3]
        cumulative = {first + k: _share(cost, k + 1, years) for k in range(years)}
        last = first + years - 1  # a disposal does not end the pool (§ 6 Abs. 2a Satz 3)
    else:
        kz = KZ_BY_GROUP[asset.group]
        life = asset.useful_life_months
        last_month = asset.acquisition_date.month + life - 1
        last = first + (last_month - 1) // 12
        if end_year is not None:
            last = min(last, end_year)
        cumulative = {}
        for year in range(first, last + 1):
            through = date(year, 12, 1)
            if end_year == year and disposal is not None:
                through = disposal.day
            cumulative[year] = _share(cost, _months_through(asset.acquisition_date, through), life)
    if end_year is not None and method != "pool":
        last = max(last, end_year)
    out: list[YearAfa] = []
    before = 0
    for year in range(first, last + 1):
        now = cumulative.get(year, before)
        afa = now - before
        opening = cost - before
        book_out = withdrawal = 0
        disposed = disposal is not None and disposal.day.year == year
        if disposal is not None and disposed:
            if method == "linear":
                book_out = cost - now
            if disposal.kind == "withdrawal":
                withdrawal = to_cents(disposal.proceeds)
        before = now
        if not (afa or book_out or withdrawal or disposed or opening):
            continue  # written off already, disposed of later: nothing happens this year
        out.append(
            YearAfa(
                year=year,
                method=method,
                kz=kz,
                opening=from_cents(opening),
                afa=from_cents(afa),
                book_value_out=from_cents(book_out),
                closing=from_cents(cost - now - book_out),
                withdrawal=from_cents(withdrawal),
            )
        )
    return out


def in_year(asset: AssetFacts, pooled: bool, year: int) -> YearAfa | None:
    for row in plan(asset, pooled):
        if row.year == year:
            return row
    return None


def book_value(asset: AssetFacts, pooled: bool, on_year_end: int) -> Decimal:
    """Book value at the end of a year (the cost before the acquisition year)."""
    if on_year_end < asset.acquisition_date.year:
        return asset.net_cost
    rows = [r for r in plan(asset, pooled) if r.year <= on_year_end]
    return rows[-1].closing if rows else ZERO
