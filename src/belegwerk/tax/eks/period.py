"""The benefit period (Bewilligungszeitraum): whole calendar months, 1 to 12 of them.

Each edge (CLI, API, pages) parses with :func:`parse_period`, so bad input answers the same
German message and code everywhere.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

KINDS = ("provisional", "final")
MAX_MONTHS = 12
_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_GERMAN = re.compile(r"^(\d{1,2})[./](\d{4})$")


def kind_labels() -> dict[str, str]:
    return {"provisional": _("provisional"), "final": _("final")}


def add_months(first: date, count: int) -> date:
    """The first day of the month ``count`` months after ``first``'s month."""
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_month(value: str, field: str) -> date:
    """``2026-01`` (or the German ``01.2026``) as the first day of that month."""
    text = (value or "").strip()
    match = _ISO.match(text)
    year_month = (match.group(1), match.group(2)) if match else None
    if year_month is None and (german := _GERMAN.match(text)):
        year_month = (german.group(2), german.group(1))
    if year_month is not None:
        year, month = int(year_month[0]), int(year_month[1])
        if 1 <= month <= 12 and 1990 <= year <= 2100:
            return date(year, month, 1)
    raise ValidationFailed(
        "eks.invalid_month",
        _("{value} is not a valid month (expected YYYY-MM, e.g. 2026-01).").format(value=text),
        [{"field": field, "value": text}],
    )


@dataclass(frozen=True)
class Period:
    """A benefit period of whole months; ``start`` is a first, ``end`` a last day of a month."""

    start: date
    end: date

    @property
    def months(self) -> list[date]:
        """The first day of every month of the period."""
        count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return [add_months(self.start, i) for i in range(count)]

    @property
    def length(self) -> int:
        return len(self.months)

    @property
    def key(self) -> str:
        """``2026-01_2026-06``: how URLs and file names name the period."""
        return f"{self.start:%Y-%m}_{self.end:%Y-%m}"

    def previous_months(self, count: int) -> Period:
        """The ``count`` whole months right before this period (the forecast's basis)."""
        first = add_months(self.start, -count)
        return Period(first, month_end(add_months(self.start, -1)))


def make_period(start: date, end: date) -> Period:
    """Check order and length; ``start``/``end`` are any days of the first and last month."""
    first, last = start.replace(day=1), end.replace(day=1)
    if last < first:
        raise ValidationFailed(
            "eks.period_reversed",
            _("The end of the period ({end}) lies before its start ({start}).").format(
                start=f"{first:%m.%Y}", end=f"{last:%m.%Y}"
            ),
            [{"field": "to", "value": f"{last:%Y-%m}"}],
        )
    period = Period(first, month_end(last))
    if period.length > MAX_MONTHS:
        raise ValidationFailed(
            "eks.period_too_long",
            _(
                "A benefit period has at most {max} months; {start} to {end} are {count} months."
            ).format(
                max=MAX_MONTHS, start=f"{first:%m.%Y}", end=f"{last:%m.%Y}", count=period.length
            ),
            [{"field": "to", "value": f"{last:%Y-%m}", "months": period.length}],
        )
    return period


def parse_period(start: str, end: str) -> Period:
    return make_period(parse_month(start, "from"), parse_month(end, "to"))


def parse_kind(value: str) -> str:
    kind = (value or "").strip().lower()
    aliases = {"vorläufig": "provisional", "vorlaeufig": "provisional", "abschließend": "final"}
    kind = aliases.get(kind, kind)
    if kind not in KINDS:
        raise ValidationFailed(
            "eks.invalid_kind",
            _("The kind of declaration must be provisional or final."),
            [{"field": "kind", "value": value}],
        )
    return kind
