"""Voranmeldungszeiträume: a month (``2026-03``) or a quarter (``2026-Q1``)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

_PATTERN = re.compile(r"^\s*(\d{4})-(?:(\d{1,2})|[Qq](\d))\s*$")


@dataclass(frozen=True)
class Period:
    """A VAT return period with its ELSTER ``Zeitraum`` (01–12 months, 41–44 quarters)."""

    year: int
    month: int | None = None
    quarter: int | None = None

    @property
    def start(self) -> date:
        first = self.month if self.month else 3 * (self.quarter or 1) - 2
        return date(self.year, first, 1)

    @property
    def end(self) -> date:
        last = self.month if self.month else 3 * (self.quarter or 1)
        return date(self.year, last, calendar.monthrange(self.year, last)[1])

    @property
    def code(self) -> str:
        return f"{self.month:02d}" if self.month else f"{40 + (self.quarter or 0)}"

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else f"{self.year}-Q{self.quarter}"

    @property
    def is_last_of_year(self) -> bool:
        return self.end.month == 12

    def label(self) -> str:
        if self.month:
            return f"{self.month:02d}/{self.year}"
        return _("Q{quarter} {year}").format(quarter=self.quarter, year=self.year)


def parse_period(value: str | None, field: str = "period") -> Period:
    """``2026-03`` or ``2026-Q1``; anything else (2026-13, 2026-Q5) is ``tax.invalid_period``."""
    match = _PATTERN.match(value or "")
    problem = ValidationFailed(
        "tax.invalid_period",
        _(
            "{value} is not a valid period: use a month like 2026-03 or a quarter like 2026-Q1."
        ).format(value=value),
        [{"field": field, "value": value}],
    )
    if not match:
        raise problem
    year = int(match.group(1))
    if not 1990 <= year <= 2100:
        raise problem
    if match.group(2) is not None:
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise problem
        return Period(year, month=month)
    quarter = int(match.group(3))
    if not 1 <= quarter <= 4:
        raise problem
    return Period(year, quarter=quarter)


def periods_of_year(year: int, quarterly: bool) -> list[Period]:
    if quarterly:
        return [Period(year, quarter=q) for q in range(1, 5)]
    return [Period(year, month=m) for m in range(1, 13)]


def period_containing(day: date, quarterly: bool) -> Period:
    if quarterly:
        return Period(day.year, quarter=(day.month - 1) // 3 + 1)
    return Period(day.year, month=day.month)


def check_year(year: int | None, field: str = "year") -> int | None:
    """A tax year within the range the forms and parameters cover."""
    if year is not None and not 1990 <= year <= 2100:
        raise ValidationFailed(
            "tax.invalid_year",
            _("{year} is not a valid year.").format(year=year),
            [{"field": field, "value": year}],
        )
    return year
