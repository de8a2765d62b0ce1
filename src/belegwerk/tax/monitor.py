"""Kleinunternehmer monitor (§ 19 UStG from 2025): net turnover received so far this year
against the prior-year and current-year limits, with the transaction that crossed a limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from belegwerk.books.journal import chart_of
from belegwerk.books.models import Invoice, Payment, Posting
from belegwerk.core import params
from belegwerk.core.dates import today
from belegwerk.core.money import ZERO
from belegwerk.tax.periods import check_year
from belegwerk.tax.ustva import PostingSigns

WARN_SHARE = Decimal("0.8")
CASH_SOURCES = ("bank_tx", "bank_tx_rev", "cash_entry")


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
    """Turnover received in a year, in order (Entgelte, net: a small business charges no VAT):
    payments of outgoing invoices and revenue booked from bank and cash lines."""
    start, end = date(year, 1, 1), min(until or date(year, 12, 31), date(year, 12, 31))
    rows: list[tuple[date, int, str, str, Decimal]] = []
    paid = session.execute(
        select(
            Payment.payment_date, Payment.id, Invoice.number, Payment.amount, Payment.reverses_id
        )
        .join(Invoice, and_(Invoice.id == Payment.invoice_id, Invoice.tenant_id == tenant_id))
        .where(
            Payment.tenant_id == tenant_id,
            Invoice.direction == "out",
            Payment.payment_date >= start,
            Payment.payment_date <= end,
        )
    )
    for day, pid, number, amount, reverses in paid:
        signed = -amount if reverses else amount
        rows.append((day, pid, number or "", f"Zahlung {number}", signed))
    booked = session.execute(
        select(
            Posting.posting_date, Posting.id, Posting.voucher, Posting.text, Posting.net_amount,
            Posting.category_id, Posting.debit_account, Posting.credit_account,
            Posting.vat_treatment,
        ).where(
            Posting.tenant_id == tenant_id,
            Posting.source_type.in_(CASH_SOURCES),
            Posting.vat_treatment.like("out_%"),
            Posting.posting_date >= start,
            Posting.posting_date <= end,
        )
    )  # fmt: skip
    signs = PostingSigns(session, tenant_id, chart_of(session, tenant_id))
    for day, pid, voucher, text, net, cat_id, debit, credit, treatment in booked:
        # revenue on the credit side; a storno or refund runs the other way
        rows.append(
            (day, pid, voucher, text, signs.sign(treatment, False, cat_id, debit, credit) * net)
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    out: list[Receipt] = []
    running = ZERO
    for day, _pid, voucher, text, amount in rows:
        running += amount
        out.append(Receipt(day, voucher, text, amount, running))
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
