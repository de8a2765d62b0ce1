"""UStVA form definitions per year (``tax/data/ustva_<year>.toml``): next year's form is data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _


@dataclass(frozen=True)
class BoxDef:
    kz: str
    kind: str  # base | tax | flag
    section: str
    label: str
    rate: Decimal | None = None  # the Finanzamt computes the tax of this base
    manual: bool = False  # not derived from bookings; entered with the return


@dataclass(frozen=True)
class Form:
    year: int
    namespace: str
    version: str
    sales_rates: dict[Decimal, str]
    acquisition_rates: dict[Decimal, str]
    small_business_box: str
    boxes: tuple[BoxDef, ...]

    def box(self, kz: str) -> BoxDef:
        for b in self.boxes:
            if b.kz == kz:
                return b
        raise KeyError(kz)

    @property
    def kinds(self) -> dict[str, str]:
        return {b.kz: b.kind for b in self.boxes}


def _rates(raw: dict[str, str]) -> dict[Decimal, str]:
    return {Decimal(k).quantize(Decimal("0.01")): v for k, v in raw.items()}


@cache
def available_years() -> tuple[int, ...]:
    names = [p.name for p in files("belegwerk.tax").joinpath("data").iterdir()]
    return tuple(
        sorted(int(n[6:10]) for n in names if n.startswith("ustva_") and n.endswith(".toml"))
    )


@cache
def _load(year: int) -> Form:
    raw = tomllib.loads(
        files("belegwerk.tax").joinpath(f"data/ustva_{year}.toml").read_text("utf-8")
    )
    boxes = tuple(
        BoxDef(
            kz=b["kz"],
            kind=b["kind"],
            section=b["section"],
            label=b["label"],
            rate=Decimal(b["rate"]) if "rate" in b else None,
            manual=bool(b.get("manual", False)),
        )
        for b in raw["boxes"]
    )
    return Form(
        year=int(raw["year"]),
        namespace=raw["namespace"],
        version=str(raw["version"]),
        sales_rates=_rates(raw["sales_rates"]),
        acquisition_rates=_rates(raw["acquisition_rates"]),
        small_business_box=raw["small_business_box"],
        boxes=boxes,
    )


def form_for(year: int) -> Form:
    """The form of a tax year; ``tax.form_missing`` for years Belegwerk has no form for."""
    if year not in available_years():
        raise ValidationFailed(
            "tax.form_missing",
            _("There is no UStVA form for {year}; available: {years}.").format(
                year=year, years=", ".join(str(y) for y in available_years())
            ),
            [{"field": "period", "value": year}],
        )
    return _load(year)
