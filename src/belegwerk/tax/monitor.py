"""Kleinunternehmer monitor (§ 19 UStG from 2025): net turnover received so far this year
against the prior-year and current-year limits, with the transaction that crossed a limit."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from belegwerk.books.journal import chart_of
from belegwerk.core import params
from belegwerk.core.dates import today
from belegwerk.core.money import ZERO
from belegwerk.tax.cash_basis import cash_items
from belegwerk.tax.periods import check_year
from belegwerk.tax.ustva import PostingSigns

WARN_SHARE = Decimal("0.8")
_COLUMNS = ("vat_treatment", "self_assessed", "category_id", "voucher", "text")


@dataclass(frozen=True)
class Receipt:
    day: date
    voucher: str
    text: str
    amount: Decimal
    running: Decimal


@dataclass(frozen=True)
class Monitor:
    year: int
    turnover: Decimal
    prior_year_turnover: Decimal
    limit_prior: Decimal
    limit_current: Decimal
    crossing: Receipt | None  # the receipt that took the year above the current-year limit
    status: str  # ok | warning | exceeded | not_eligible

    @property
    def share(self) -> Decimal:
        return (self.turnover / self.limit_current) if self.limit_current else ZERO


def receipts(
    session: Session, tenant_id: int, year: int, until: date | None = None
) -> list[Receipt]:
    """Turnover received in a year, in order (Entgelte, net): the money view of the journal
    (``cash_basis``, the same allocation the Ist-UStVA and the EÜR use) – invoice payments
    with their share of the sales, revenue booked from bank and cash lines – one receipt per
    payment or direct posting."""
    start, end = date(year, 1, 1), min(until or date(year, 12, 31), date(year, 12, 31))
    if end < start:
        return []
    signs = PostingSigns(session, tenant_id, chart_of(session, tenant_id))
    # one receipt per payment (all its shares) or direct posting, in flow order
    amounts: dict[tuple[date, int, int], Decimal] = defaultdict(lambda: ZERO)
    labels: dict[tuple[date, int, int], tuple[str, str]] = {}
    for item in cash_items(session, tenant_id, start, end, columns=_COLUMNS):
        if not item.vat_treatment.startswith("out_") or item.self_assessed:
            continue
        sign = signs.sign(
            item.vat_treatment, False, item.category_id, item.debit_account, item.credit_account
        )
        key = (item.flow_date, 0 if item.payment_id else 1, item.payment_id or item.posting_id)
        amounts[key] += sign * item.net_amount
        text = f"Zahlung {item.voucher}" if item.payment_id else item.text
        labels.setdefault(key, (item.voucher, text))
    out: list[Receipt] = []
    running = ZERO
    for key in sorted(amounts):
        running += amounts[key]
        voucher, text = labels[key]
        out.append(Receipt(key[0], voucher, text, amounts[key], running))
    return out


def small_business_monitor(session: Session, tenant_id: int, year: int | None = None) -> Monitor:
    year = check_year(year) or today().year
    ref = date(year, 1, 1)
    limit_prior = params.decimal("small_business_limit_prior_year", ref)
    limit_current = params.decimal("small_business_limit_current_year", ref)
    current = receipts(session, tenant_id, year)
    prior = receipts(session, tenant_id, year - 1)
    turnover = current[-1].running if current else ZERO
    prior_turnover = prior[-1].running if prior else ZERO
    crossing = next((r for r in current if r.running > limit_current), None)
    if prior_turnover > limit_prior:
        status = "not_eligible"
    elif crossing is not None:
        status = "exceeded"
    elif turnover >= limit_current * WARN_SHARE or turnover > limit_prior:
        status = "warning"
    else:
        status = "ok"
    return Monitor(year, turnover, prior_turnover, limit_prior, limit_current, crossing, status)
