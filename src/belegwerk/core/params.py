"""Tax parameters by date, read from ``core/data/tax_parameters.toml``.

The law changes by date (VAT rates, Kleinunternehmer limits, GWG limit, Bürgergeld allowances);
the code asks for the value on a day and never hard-codes it, so a new law is a new entry in the
data file. Forms whose layout changes by year (UStVA, EÜR) keep their own data next to the code
that fills them (see ``belegwerk.tax``).
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib.resources import files
from typing import Any

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_date


@dataclass(frozen=True)
class Entry:
    """One value of a parameter, valid from ``valid_from`` until the next entry."""

    valid_from: date
    value: Any
    source: str


@cache
def _table() -> dict[str, tuple[Entry, ...]]:
    raw = tomllib.loads(
        files("belegwerk.core").joinpath("data/tax_parameters.toml").read_text("utf-8")
    )
    table: dict[str, tuple[Entry, ...]] = {}
    for key, entries in raw.items():
        parsed = sorted(
            (Entry(e["from"], e["value"], e.get("source", "")) for e in entries),
            key=lambda e: e.valid_from,
        )
        table[key] = tuple(parsed)
    return table


def names() -> list[str]:
    """Every parameter the data file defines."""
    return sorted(_table())


def history(key: str) -> tuple[Entry, ...]:
    """All entries of a parameter, oldest first."""
    try:
        return _table()[key]
    except KeyError:
        raise KeyError(f"unknown tax parameter {key!r}") from None


def entry(key: str, on: date) -> Entry:
    """The entry valid on ``on``; ``tax.parameter_missing`` before the first one."""
    entries = history(key)
    index = bisect_right([e.valid_from for e in entries], on) - 1
    if index < 0:
        raise ValidationFailed(
            "tax.parameter_missing",
            _("No value for {key} is known on {date}.").format(key=key, date=format_date(on)),
            [{"parameter": key, "date": on.isoformat()}],
        )
    return entries[index]


def value(key: str, on: date) -> Any:
    """The raw value on a day (a string, number or list, as the data file has it)."""
    return entry(key, on).value


def decimal(key: str, on: date) -> Decimal:
    """A money amount, rate or count as Decimal (``"1/11"`` style fractions are refused)."""
    return Decimal(str(value(key, on)))


def fraction(key: str, on: date) -> Fraction:
    """A ratio such as the Sondervorauszahlung's 1/11, exact."""
    return Fraction(str(value(key, on)))
