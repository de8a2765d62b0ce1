"""Export periods: real dates, in order, not in the future, inside one fiscal year (DATEV).

A DATEV Belegdatum has no year (TTMM); DATEV takes it from the header's period, so one file
can only cover one fiscal year (Wirtschaftsjahr).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from belegwerk.core.dates import today
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_date


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    fiscal_year_start: date

    @property
    def fiscal_year_end(self) -> date:
        return add_year(self.fiscal_year_start) - timedelta(days=1)


def add_year(day: date) -> date:
    return day.replace(year=day.year + 1)


def fiscal_year_start(day: date, start_month: int) -> date:
    """First day of the fiscal year that contains ``day``."""
    year = day.year if day.month >= start_month else day.year - 1
    return date(year, start_month, 1)


def parse_day(value: str | date | None, field: str) -> date:
    """An ISO date (YYYY-MM-DD) from a form, the API or the command line."""
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "export.invalid_date",
            _("The period does not exist: {value} is not a valid date (YYYY-MM-DD).").format(
                value=text or "–"
            ),
            [{"field": field, "value": text}],
        ) from None


def check_period(start: date, end: date, start_month: int, *, one_fiscal_year: bool) -> Period:
    """The period as given, or a German message why it cannot be exported."""
    if end < start:
        raise ValidationFailed(
            "export.period_reversed",
            _("The period ends ({end}) before it begins ({start}).").format(
                start=format_date(start), end=format_date(end)
            ),
            [{"field": "to", "value": end.isoformat()}],
        )
    if start > today():
        raise ValidationFailed(
            "export.period_in_future",
            _("The period begins in the future ({start}); there is nothing to export yet.").format(
                start=format_date(start)
            ),
            [{"field": "from", "value": start.isoformat()}],
        )
    if start.year < 1990:
        raise ValidationFailed(
            "export.period_too_old",
            _("The period begins before 1990; there are no books that old."),
            [{"field": "from", "value": start.isoformat()}],
        )
    fy_start = fiscal_year_start(start, start_month)
    period = Period(start, end, fy_start)
    if one_fiscal_year and end > period.fiscal_year_end:
        raise ValidationFailed(
            "datev.two_fiscal_years",
            _(
                "The period {start} – {end} spans two fiscal years. DATEV takes the year of "
                "every booking from the file, so each fiscal year needs its own file: export "
                "{start} – {fy_end} and {next_start} – {end} separately."
            ).format(
                start=format_date(start),
                end=format_date(end),
                fy_end=format_date(period.fiscal_year_end),
                next_start=format_date(period.fiscal_year_end + timedelta(days=1)),
            ),
            [
                {"field": "to", "value": end.isoformat()},
                {"fiscal_year_end": period.fiscal_year_end.isoformat()},
            ],
        )
    return period


def fiscal_year(year: int, start_month: int) -> Period:
    """The whole fiscal year that begins in ``year`` (GDPdU export)."""
    if not 1990 <= year <= today().year or date(year, start_month, 1) > today():
        raise ValidationFailed(
            "export.invalid_year",
            _("The year {year} does not exist in the books.").format(year=year),
            [{"field": "year", "value": year}],
        )
    start = date(year, start_month, 1)
    return Period(start, add_year(start) - timedelta(days=1), start)
