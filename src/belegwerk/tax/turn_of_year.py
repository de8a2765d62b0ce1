"""The ten-day rule of § 11 Abs. 1 Satz 2 and Abs. 2 Satz 2 EStG around New Year.

Regularly recurring income and expenses that flow within a short time (ten days, H 11 EStH)
before or after the turn of the year count in the year they belong to economically, if they also
fall due within that window (BFH X R 44/16: both payment and due date inside the ten days).
The books cannot know every contract, so a payment is recognised as *regular* like this:

* **A payment of an invoice** counts when the invoice has a due date inside the window of the
  same turn of the year, its supply date (or, without one, its invoice date) lies in the other
  year, and the same customer or supplier has another booked invoice in the same direction
  dated about one, three, six or twelve months earlier or later (:data:`RHYTHMS`) — the
  monthly rent, the quarterly insurance, the yearly licence.
* **A VAT prepayment** (category ``vat_payment``) paid from 1 to 10 January belongs to the year
  before: its statutory due date is 10 January for the December or fourth-quarter return, or for
  the November return with a filing extension (BFH X R 2/21: a weekend moving the due date does
  not matter). Quarterly filers with the filing extension have nothing due on 10 January.

Other bank or cash payments carry no due date; they stay in the year of payment. The report
lists them as hints when their category is typically recurring (rent, insurance, telephone …),
so the user can link them to an invoice with its due date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from belegwerk.books.models import Invoice
from belegwerk.core import params
from belegwerk.tax.cash_basis import CashItem, cash_items
from belegwerk.tenancy.models import Company

# Distance in days between two invoices of one party that makes them a rhythm: about one,
# three, six or twelve months.
RHYTHMS = ((25, 35), (85, 97), (175, 190), (355, 375))
VAT_PAYMENT = "vat_payment"
# Categories whose bank or cash payments are typically recurring: a hint, not a move.
RECURRING_KEYS = frozenset(
    {"rent", "insurance", "telecom", "car_leasing", "car_insurance", "car_tax", "fees", "interest"}
)


@dataclass(frozen=True)
class Move:
    """A payment counted in another year than the one it flowed in."""

    item: CashItem
    to_year: int
    rule: str  # "invoice" | "vat_prepayment"


@dataclass(frozen=True)
class _InvoiceFacts:
    id: int
    party_id: int | None
    direction: str
    issue_date: date
    supply_date: date | None
    due_date: date | None


def window_days(year: int) -> int:
    return int(params.decimal("recurring_payment_window_days", date(year, 1, 1)))


def window(turn: int, days: int) -> tuple[date, date]:
    """The days around the turn from ``turn - 1`` to ``turn``."""
    return date(turn - 1, 12, 31) - timedelta(days=days - 1), date(turn, 1, days)


def _turn(day: date) -> int:
    return day.year + 1 if day.month == 12 else day.year


def _regular(facts: _InvoiceFacts, others: Sequence[_InvoiceFacts]) -> bool:
    for other in others:
        if other.id == facts.id or other.direction != facts.direction:
            continue
        gap = abs((other.issue_date - facts.issue_date).days)
        if any(low <= gap <= high for low, high in RHYTHMS):
            return True
    return False


def _invoices(
    session: Session, tenant_id: int, ids: set[int], windows: Sequence[tuple[date, date]]
) -> tuple[dict[int, _InvoiceFacts], dict[int, list[_InvoiceFacts]]]:
    """The window's invoices that can move (due inside a window, with a party), and the booked
    invoices of their parties around them."""
    if not ids:
        return {}, {}
    due_in_window = or_(*(Invoice.due_date.between(start, end) for start, end in windows))
    columns = (
        Invoice.id,
        Invoice.party_id,
        Invoice.direction,
        Invoice.issue_date,
        Invoice.supply_date,
        Invoice.due_date,
    )
    own = {
        row[0]: _InvoiceFacts(*row)
        for row in session.execute(
            select(*columns).where(
                Invoice.tenant_id == tenant_id,
                Invoice.id.in_(ids),
                Invoice.party_id.is_not(None),
                due_in_window,
            )
        ).all()
    }
    parties = {f.party_id for f in own.values() if f.party_id is not None}
    if not parties:
        return own, {}
    first = min(f.issue_date for f in own.values()) - timedelta(days=RHYTHMS[-1][1])
    last = max(f.issue_date for f in own.values()) + timedelta(days=RHYTHMS[-1][1])
    by_party: dict[int, list[_InvoiceFacts]] = defaultdict(list)
    for row in session.execute(
        select(*columns).where(
            Invoice.tenant_id == tenant_id,
            Invoice.party_id.in_(parties),
            Invoice.status == "booked",
            Invoice.kind == "invoice",
            Invoice.issue_date >= first,
            Invoice.issue_date <= last,
        )
    ).all():
        facts = _InvoiceFacts(*row)
        assert facts.party_id is not None
        by_party[facts.party_id].append(facts)
    return own, by_party


def _vat_prepayment_due_in_january(company: Company) -> bool:
    if company.ustva_period == "monthly":
        return True
    return company.ustva_period == "quarterly" and not company.filing_extension


def window_items(session: Session, tenant_id: int, year: int) -> list[CashItem]:
    """The money that flowed in the windows around both turns of ``year``."""
    days = window_days(year)
    items: list[CashItem] = []
    for turn in (year, year + 1):
        start, end = window(turn, days)
        items.extend(
            cash_items(session, tenant_id, start, end, columns=("category_id", "voucher", "text"))
        )
    return items


def moves_for(
    session: Session,
    tenant_id: int,
    year: int,
    company: Company,
    items: Sequence[CashItem],
    vat_payment_category: int | None,
    is_outflow: Callable[[CashItem], bool],
) -> list[Move]:
    """The window items that belong to another year than they flowed in, where one side is
    ``year``. A VAT prepayment moves only when paid (``is_outflow``), not when refunded."""
    days = window_days(year)
    ids = {i.invoice_id for i in items if i.invoice_id is not None}
    own, by_party = _invoices(
        session, tenant_id, ids, [window(turn, days) for turn in (year, year + 1)]
    )
    moves = []
    for item in items:
        turn = _turn(item.flow_date)
        start, end = window(turn, days)
        target: int | None = None
        rule = ""
        if item.invoice_id is not None:
            facts = own.get(item.invoice_id)
            if facts is None or facts.due_date is None or not start <= facts.due_date <= end:
                continue
            belongs = (facts.supply_date or facts.issue_date).year
            if belongs not in (turn - 1, turn) or facts.party_id is None:
                continue
            if _regular(facts, by_party.get(facts.party_id, [])):
                target, rule = belongs, "invoice"
        elif (
            vat_payment_category is not None
            and item.category_id == vat_payment_category
            and item.flow_date.month == 1
            and is_outflow(item)
            and _vat_prepayment_due_in_january(company)
        ):
            target, rule = turn - 1, "vat_prepayment"
        if target is None or target == item.flow_date.year:
            continue
        if year in (target, item.flow_date.year):
            moves.append(Move(item=item, to_year=target, rule=rule))
    return moves


def recurring_hints(
    items: Sequence[CashItem], year: int, moves: Sequence[Move], recurring_categories: set[int]
) -> list[CashItem]:
    """Bank and cash payments of typically recurring categories in the windows of ``year``
    that the rule cannot place (no invoice, so no due date) and did not move."""
    moved = {(m.item.posting_id, m.item.payment_id) for m in moves}
    return [
        i
        for i in items
        if i.invoice_id is None
        and i.category_id in recurring_categories
        and (i.posting_id, i.payment_id) not in moved
        and i.flow_date.year == year
    ]
