"""When a posting counts for the UStVA and the Zusammenfassende Meldung: its tax period.

The journal dates an invoice's postings on the invoice date, but the law ties the tax to other
dates, so the UStVA cannot simply read ``posting_date``:

* Soll-Versteuerung: the tax arises at the end of the period in which the supply was made
  (§ 13 Abs. 1 Nr. 1 a Satz 1 UStG) – the invoice's supply date (Leistungsdatum), else its
  invoice date.
* Input VAT needs the supply made *and* the invoice in hand (§ 15 Abs. 1 Satz 1 Nr. 1 UStG):
  the later of the two dates. Payment does not matter, also not for an Ist-taxed recipient.
* Reverse charge for services from the EU (§ 13b Abs. 1): the period of the supply. Other
  § 13b cases (Abs. 2) and intra-community acquisitions (§ 13 Abs. 1 Nr. 6): the invoice date,
  at the latest the month after the supply.
* Intra-community supplies (Kz 41, ZM "L"): the invoice date, at the latest the month after the
  supply (§ 18b Satz 2, § 18a Abs. 8 UStG); EU services (Kz 21, ZM "S"): the supply period
  (§ 18b Satz 3) – whether the tenant is taxed on receipts or not (UStAE 18a.3 Abs. 1).
* A Stornorechnung corrects in the period of the change (§ 17 Abs. 1 Satz 7 UStG): its own date,
  but never before the period the cancelled invoice counted in.
* Cash entries, bank lines and everything else booked directly: their posting date.

Periods are whole months or quarters, so a tax month is enough: ``year * 12 + month``. The rule
is one SQL expression over postings joined to their invoice, evaluated set-based.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Date, Select, and_, case, cast, extract, func, null, or_, select
from sqlalchemy.sql.elements import ColumnElement

from belegwerk.books import vat_treatment as vt
from belegwerk.books.models import Invoice, Posting
from belegwerk.tax.periods import Period

INVOICE_SOURCE = "invoice"
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
# Taxed with the invoice, at the latest in the month after the supply.
INVOICE_OR_NEXT_MONTH = (vt.OUT_IC_SUPPLY, vt.IN_RC_OTHER, vt.IN_IC_ACQUISITION)
# Own sales whose tax (or reporting) follows the money for a tenant taxed on receipts (§ 20
# UStG). Intra-community supplies and EU services are reported by § 18b, payment or not.
CASH_TREATMENTS = (
    vt.OUT_STANDARD,
    vt.OUT_ZERO,
    vt.OUT_EXEMPT,
    vt.OUT_SMALL_BUSINESS,
    vt.OUT_EXPORT,
    vt.OUT_RC_DOMESTIC,
    vt.OUT_NON_TAXABLE,
)


def month_index(day: date) -> int:
    return day.year * 12 + day.month


def _month(column: Any) -> ColumnElement[int]:
    return extract("year", column) * 12 + extract("month", column)


def _least(a: ColumnElement[int], b: ColumnElement[int]) -> ColumnElement[int]:
    return case((a <= b, a), else_=b)


def _greatest(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a >= b, a), else_=b)


def tax_month() -> ColumnElement[int]:
    """The tax month of an invoice posting (rows of ``postings`` joined to ``invoices``).

    A Stornorechnung takes the later of its own month and the rule's month; for the rules
    that are at most the invoice month that is simply its own month.
    """
    issue_day = Invoice.issue_date
    supply_day = func.coalesce(Invoice.supply_date, Invoice.issue_date)
    issue, supply = _month(issue_day), _month(supply_day)
    reversal = Invoice.kind == "reversal"
    return case(
        (
            Posting.vat_treatment.in_(INVOICE_OR_NEXT_MONTH),
            case((reversal, issue), else_=_least(issue, supply + 1)),
        ),
        (
            or_(Posting.vat_treatment == vt.IN_STANDARD, reversal),
            _month(_greatest(issue_day, supply_day)),
        ),
        else_=supply,
    )


def _month_start(index: int) -> date:
    return date((index - 1) // 12, (index - 1) % 12 + 1, 1)


def invoice_postings_in(
    query: Q, tenant_id: int, period: Period, *invoice_filter: ColumnElement[bool]
) -> Q:
    """Restrict ``query`` (over ``postings``) to invoice postings whose tax month lies in the
    period. The tax month is always the invoice month, the supply month or the month after
    (the supply month is the invoice month without a supply date), so a cheap date window on
    the invoice comes first, narrowed further by ``invoice_filter`` (conditions on
    ``invoices``)."""
    first, last = month_index(period.start), month_index(period.end)
    window = _month_start(first - 1)
    candidates = select(Invoice.id).where(
        Invoice.tenant_id == tenant_id,
        or_(
            Invoice.issue_date.between(period.start, period.end),
            Invoice.supply_date.between(window, period.end),
        ),
        *invoice_filter,
    )
    return query.join_from(
        Posting, Invoice, and_(Invoice.id == Posting.source_id, Invoice.tenant_id == tenant_id)
    ).where(
        Posting.tenant_id == tenant_id,
        Posting.source_type == INVOICE_SOURCE,
        Posting.source_id.in_(candidates),
        tax_month().between(first, last),
    )


def direct_postings_in(query: Q, tenant_id: int, period: Period) -> Q:
    """Restrict ``query`` to postings not from invoices, dated in the period."""
    return query.where(
        Posting.tenant_id == tenant_id,
        Posting.source_type != INVOICE_SOURCE,
        Posting.posting_date >= period.start,
        Posting.posting_date <= period.end,
    )


def postings_in(
    tenant_id: int, period: Period
) -> tuple[Select[Posting, Any], Select[Posting, date | None]]:
    """The postings of a period as two queries of (:class:`Posting`, supply date) rows:
    direct postings (no supply date), invoice postings (their invoice's supply date)."""
    return (
        direct_postings_in(select(Posting, null_date()), tenant_id, period),
        invoice_postings_in(select(Posting, Invoice.supply_date), tenant_id, period),
    )


def null_date() -> ColumnElement[Any]:
    return cast(null(), Date).label("supply_date")
