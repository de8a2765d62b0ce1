"""VAT rates by date of supply (Leistungsdatum), from the dated tax parameters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from belegwerk.core import params
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_date
from belegwerk.core.money import CENT


@lru_cache(maxsize=8192)
def allowed_rates(supply_date: date) -> frozenset[Decimal]:
    """VAT rates valid for a supply (Leistungsdatum), not the invoice date: 0 % and the
    standard and reduced rates of that day (16/5 % for 1 Jul – 31 Dec 2020)."""
    return frozenset(
        {
            Decimal(0),
            params.decimal("vat_reduced_rate", supply_date),
            params.decimal("vat_standard_rate", supply_date),
        }
    )


def check_rate(rate: Decimal, supply_date: date, field: str = "vat_rate") -> Decimal:
    """The rate as a two-place Decimal, or ``vat.unknown_rate``."""
    if rate.is_finite() and rate in allowed_rates(supply_date):
        return rate.quantize(CENT)
    allowed = ", ".join(str(int(r)) for r in sorted(allowed_rates(supply_date)))
    raise ValidationFailed(
        "vat.unknown_rate",
        _("Unknown VAT rate {rate} %. Allowed on {date}: {allowed} %.").format(
            rate=rate, date=format_date(supply_date), allowed=allowed
        ),
        [{"field": field, "value": str(rate)}],
    )


def parse_rate(value: object, field: str = "vat_rate") -> Decimal:
    """A VAT rate from user input; anything that is not a number is an unknown rate."""
    try:
        rate = Decimal(str(value).strip().rstrip("%").strip()) if value is not None else None
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite():
        raise ValidationFailed(
            "vat.unknown_rate",
            _("Unknown VAT rate {rate} %.").format(rate=value),
            [{"field": field, "value": str(value)}],
        )
    return rate
