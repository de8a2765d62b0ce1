"""Key numbers of the start page, each computed by one set-based query.

Revenue and expenses come from the journal (the one truth every report reads): the net amount
of postings whose category is a revenue or expense category, reversals and discounts subtracted.
The cash balance comes from the cash book; open invoices are booked, not reversed invoices whose
payments do not cover the gross total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, ColumnElement, and_, case, exists, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from belegwerk.books import accounts, cash, closing
from belegwerk.books.models import Category, Invoice, Payment, Posting
from belegwerk.core.money import ZERO, from_cents
from belegwerk.tenancy.service import get_company

MONEY_ROLES = ("cash", "bank", "transit", "receivables", "payables")


@dataclass(frozen=True)
class OpenInvoices:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Dashboard:
    period_start: date
    period_end: date
    revenue: Decimal
    expenses: Decimal
    cash_balance: Decimal | None  # None: no cash book opened yet
    receivables: OpenInvoices  # open outgoing invoices
    payables: OpenInvoices  # open incoming invoices
    missing_closing: date | None  # a day with cash movements but without closing


def cents(column: object) -> ColumnElement[int]:
    """A Money column as its raw integer cents, so SQL sums stay exact and unconverted."""
    return type_coerce(column, BigInteger)


def _money(value: int | None) -> Decimal:
    return from_cents(int(value)) if value is not None else ZERO


def fiscal_year(today: date, start_month: int) -> tuple[date, date]:
    year = today.year if today.month >= start_month else today.year - 1
    start = date(year, start_month, 1)
    end = date(year + 1, start_month, 1) - timedelta(days=1)
    return start, end


def profit_figures(
    session: Session, tenant_id: int, chart: str, start: date, end: date
) -> tuple[Decimal, Decimal]:
    """Net revenue and net expenses from the journal.

    A revenue posting counts positive when money (or a receivable) is debited and negative the
    other way round (reversal, discount); an expense posting positive when money (or a payable)
    is credited. Postings between two money accounts (a payment settling a receivable, cash
    paying an invoice) carry the invoice's category but are no revenue or expense again.
    """
    money = [accounts.account(chart, r) for r in MONEY_ROLES]
    net = cents(Posting.net_amount)
    revenue = case((Posting.debit_account.in_(money), net), else_=-net)
    expense = case((Posting.credit_account.in_(money), net), else_=-net)
    row = session.execute(
        select(
            func.sum(case((Category.kind == "revenue", revenue), else_=0)),
            func.sum(case((Category.kind == "expense", expense), else_=0)),
        )
        .select_from(Posting)
        .join(Category, Category.id == Posting.category_id)
        .where(
            Posting.tenant_id == tenant_id,
            Posting.posting_date >= start,
            Posting.posting_date <= end,
            ~(Posting.debit_account.in_(money) & Posting.credit_account.in_(money)),
        )
    ).one()
    return _money(row[0]), _money(row[1])


def cash_balance(session: Session, tenant_id: int, on: date) -> Decimal | None:
    """Balance at the end of ``on``; None while the cash book has no opening balance."""
    if cash.get_opening(session, tenant_id) is None:
        return None
    return cash.cash_balance(session, tenant_id, on)


def open_invoices(session: Session, tenant_id: int) -> dict[str, OpenInvoices]:
    """Per direction: booked invoices, not reversed, with payments below the gross total."""
    reversal = aliased(Invoice)
    amount = cents(Payment.amount)
    paid = (
        select(
            Payment.invoice_id.label("invoice_id"),
            func.sum(case((Payment.reverses_id.is_(None), amount), else_=-amount)).label("paid"),
        )
        .where(Payment.tenant_id == tenant_id)
        .group_by(Payment.invoice_id)
        .subquery()
    )
    gross = cents(Invoice.gross_total)
    remaining = gross - func.coalesce(paid.c.paid, 0)
    rows = session.execute(
        select(Invoice.direction, func.count(), func.sum(remaining))
        .select_from(Invoice)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(
            Invoice.tenant_id == tenant_id,
            Invoice.status == "booked",
            Invoice.kind == "invoice",
            ~exists().where(
                and_(reversal.tenant_id == tenant_id, reversal.reverses_id == Invoice.id)
            ),
            remaining > 0,
        )
        .group_by(Invoice.direction)
    ).all()
    out = {d: OpenInvoices(0, ZERO) for d in ("in", "out")}
    for direction, count, open_cents in rows:
        out[direction] = OpenInvoices(int(count), _money(open_cents))
    return out


def dashboard(session: Session, tenant_id: int, today: date | None = None) -> Dashboard:
    today = today or date.today()
    company = get_company(session, tenant_id)
    start, end = fiscal_year(today, company.fiscal_year_start_month or 1)
    revenue, expenses = profit_figures(session, tenant_id, company.chart, start, end)
    open_ = open_invoices(session, tenant_id)
    return Dashboard(
        period_start=start,
        period_end=end,
        revenue=revenue,
        expenses=expenses,
        cash_balance=cash_balance(session, tenant_id, today),
        receivables=open_["out"],
        payables=open_["in"],
        missing_closing=closing.missing_closing_reminder(session, tenant_id, today),
    )
