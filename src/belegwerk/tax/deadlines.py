"""Tax due dates: UStVA (10th after the period, one month later with Dauerfristverlängerung),
the Sondervorauszahlung, the annual returns; weekends and the public holidays of the
company's Bundesland move a date to the next working day (§ 108 Abs. 3 AO)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
from sqlalchemy.orm import Session

from belegwerk.core.dates import today
from belegwerk.core.i18n import _
from belegwerk.tax import filings
from belegwerk.tax.periods import Period, check_year, periods_of_year
from belegwerk.tenancy.models import Company
from belegwerk.tenancy.service import get_company

REMIND_DAYS = 14


@cache
def _holidays(state: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv=state or None, years=year)


def next_working_day(day: date, state: str = "") -> date:
    """The day itself, or the next day that is no Saturday, Sunday or public holiday."""
    while day.weekday() >= 5 or day in _holidays(state, day.year):
        day += timedelta(days=1)
    return day


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def ustva_due(period: Period, company: Company) -> date:
    """10th day after the period (§ 18 Abs. 1 UStG), +1 month with Dauerfristverlängerung
    (§ 46 UStDV)."""
    nominal = _add_months(date(period.end.year, period.end.month, 10), 1)
    if company.filing_extension:
        nominal = _add_months(nominal, 1)
    return next_working_day(nominal, company.state)


@dataclass(frozen=True)
class Deadline:
    due: date
    kind: str  # ustva | special_prepayment | annual_vat | euer
    label: str
    period: str = ""
    done: bool = False

    @property
    def overdue(self) -> bool:
        return not self.done and self.due < today()


def calendar(session: Session, tenant_id: int, year: int) -> list[Deadline]:
    """Every due date of the tax year (UStVA of its periods, Sondervorauszahlung) and the
    annual returns for it due in the following year."""
    check_year(year)
    company = get_company(session, tenant_id)
    out: list[Deadline] = []
    files_returns = company.vat_regime != "small_business" and company.ustva_period != "yearly"
    if files_returns:
        quarterly = company.ustva_period == "quarterly"
        for period in periods_of_year(year, quarterly):
            done = filings.latest_filing(session, tenant_id, period) is not None
            out.append(
                Deadline(
                    ustva_due(period, company),
                    "ustva",
                    _("UStVA {period}").format(period=period.label()),
                    period.key,
                    done,
                )
            )
        if company.filing_extension and not quarterly:
            out.append(
                Deadline(
                    next_working_day(date(year, 2, 10), company.state),
                    "special_prepayment",
                    _("Sondervorauszahlung {year} (application for Dauerfristverlängerung)").format(
                        year=year
                    ),
                    str(year),
                    filings.current_special_prepayment(session, tenant_id, year) is not None,
                )
            )
    # Annual returns (USt-Erklärung, EÜR with the income-tax return) without a tax advisor:
    # 31 July of the following year (§ 149 Abs. 2 AO).
    annual = next_working_day(date(year + 1, 7, 31), company.state)
    if company.vat_regime != "small_business":
        out.append(
            Deadline(annual, "annual_vat", _("VAT return {year}").format(year=year), str(year))
        )
    out.append(
        Deadline(
            annual,
            "euer",
            _("EÜR {year} (with the income tax return)").format(year=year),
            str(year),
        )
    )
    return sorted(out, key=lambda d: (d.due, d.kind))


def upcoming(session: Session, tenant_id: int, on: date | None = None) -> list[Deadline]:
    """Open due dates that are overdue or due within the next two weeks (start page)."""
    day = on or today()
    found = calendar(session, tenant_id, day.year - 1) + calendar(session, tenant_id, day.year)
    horizon = day + timedelta(days=REMIND_DAYS)
    return [
        d for d in found if not d.done and d.due <= horizon and d.due >= date(day.year - 1, 1, 1)
    ]
