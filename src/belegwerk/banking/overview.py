"""The money overview: business cash across accounts, open invoices, input VAT, next UStVA.

Definitions:

* **Cash position** as of ``today`` (lines booked up to and including that day):

  - a business account counts in full: its opening balance plus every line booked on or after
    the opening date (the opening balance is the balance at the start of that day);
  - a mixed account counts only its business part: the sum of its lines whose *confirmed*
    usage is business, private withdrawal (money taken out of the business) or private deposit
    (money put in), and of lines linked to an invoice (business by their nature). Its opening
    balance is not counted, because nobody can say which part of it was business money; the
    business part therefore starts at zero and may be negative (the business spent private
    money). Lines still undecided are counted in ``undecided``;
  - private accounts do not count.

* **Receivables / payables**: booked, not reversed invoices out / in with their open amounts.
* **Expected position**: cash position + receivables − payables.
* **Input VAT** of the current calendar month and quarter: the tax amounts of journal postings
  on the input VAT accounts dated in the period. A posting counts positive when the money (or
  the payable) is on its credit side, as in a purchase, and negative the other way round (a
  storno or a refund).
* **Next UStVA**: for ``ustva_period`` monthly or quarterly, the return whose due date is the
  first on or after ``today``: the 10th of the month after the period, one month later with a
  filing extension (Dauerfristverlängerung), moved to the Monday when it falls on a weekend
  (§ 108 (3) AO; public holidays are not considered). A small business (§ 19 UStG) and a tenant
  filing yearly have no UStVA: ``next_ustva`` is None and ``ustva_note`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from belegwerk.banking.accounts import PAYPAL_LEDGER, ledger_account
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, PaymentMatch
from belegwerk.books import accounts
from belegwerk.books.dashboard import MONEY_ROLES, OpenInvoices, open_invoices
from belegwerk.books.models import Posting
from belegwerk.core.money import ZERO, from_cents
from belegwerk.tenancy.service import get_company

BUSINESS_PART_USAGES = ("business", "private_withdrawal", "private_deposit")


@dataclass(frozen=True)
class AccountPosition:
    account_id: int
    name: str
    kind: str
    account_type: str
    opening_balance: Decimal  # counted: zero for mixed accounts (see module docstring)
    movements: Decimal  # counted lines up to today
    position: Decimal
    undecided: int  # mixed accounts: lines without a confirmed usage


@dataclass(frozen=True)
class UstvaDue:
    period_start: date
    period_end: date
    due_date: date


@dataclass(frozen=True)
class Overview:
    today: date
    cash_position: Decimal
    accounts: list[AccountPosition]
    receivables: OpenInvoices
    payables: OpenInvoices
    expected_position: Decimal
    month_start: date
    input_vat_month: Decimal
    quarter_start: date
    input_vat_quarter: Decimal
    next_ustva: UstvaDue | None
    ustva_note: str  # "" | "small_business" | "yearly"


def _positions(session: Session, tenant_id: int, today: date) -> list[AccountPosition]:
    tx = BankTransaction
    accts = list(
        session.scalars(
            select(BankAccount)
            .where(BankAccount.tenant_id == tenant_id, BankAccount.account_type != "private")
            .order_by(BankAccount.kind, BankAccount.name, BankAccount.id)
        )
    )
    if not accts:
        return []
    amount = type_coerce(tx.amount, BigInteger)
    # A line linked to an invoice is business by its nature, decided or not.
    linked = (
        select(PaymentMatch.id)
        .where(
            PaymentMatch.tenant_id == tenant_id,
            PaymentMatch.transaction_id == tx.id,
            PaymentMatch.status == "linked",
        )
        .exists()
    )
    business_part = or_(
        and_(Classification.confirmed.is_(True), Classification.usage.in_(BUSINESS_PART_USAGES)),
        linked,
    )
    in_period = and_(
        tx.booking_date <= today,
        or_(BankAccount.opening_date.is_(None), tx.booking_date >= BankAccount.opening_date),
    )
    counted = case(
        (BankAccount.account_type == "business", amount),
        (business_part, amount),
        else_=0,
    )
    undecided = case(
        (
            and_(
                BankAccount.account_type == "mixed",
                or_(Classification.id.is_(None), Classification.confirmed.is_(False)),
                ~linked,
            ),
            1,
        ),
        else_=0,
    )
    rows = session.execute(
        select(tx.account_id, func.sum(counted), func.sum(undecided))
        .join(BankAccount, BankAccount.id == tx.account_id)
        .outerjoin(Classification, Classification.transaction_id == tx.id)
        .where(tx.tenant_id == tenant_id, BankAccount.account_type != "private", in_period)
        .group_by(tx.account_id)
    ).all()
    sums = {account_id: (int(s or 0), int(u or 0)) for account_id, s, u in rows}
    out = []
    for a in accts:
        moved_cents, open_lines = sums.get(a.id, (0, 0))
        opening = a.opening_balance if a.account_type == "business" else ZERO
        if a.opening_date is not None and a.opening_date > today:
            opening = ZERO
        moved = from_cents(moved_cents)
        out.append(
            AccountPosition(
                account_id=a.id,
                name=a.name,
                kind=a.kind,
                account_type=a.account_type,
                opening_balance=opening,
                movements=moved,
                position=opening + moved,
                undecided=open_lines,
            )
        )
    return out


def money_accounts(session: Session, tenant_id: int, chart: str) -> set[str]:
    """Every account money sits on: cash, banks (each bank account's own), transit, PayPal,
    receivables and payables; the other side of a posting says what the money was for."""
    money = {accounts.account(chart, role) for role in MONEY_ROLES}
    money.add(PAYPAL_LEDGER[chart])
    for a in session.scalars(select(BankAccount).where(BankAccount.tenant_id == tenant_id)):
        money.add(ledger_account(session, tenant_id, a))
    return money


def input_vat(session: Session, tenant_id: int, chart: str, start: date, end: date) -> Decimal:
    """Input VAT booked in ``start`` … ``end`` (both inclusive), reversals and refunds netted."""
    return booked_vat(session, tenant_id, chart, start, end)


def booked_vat(
    session: Session, tenant_id: int, chart: str, start: date, end: date, *, output: bool = False
) -> Decimal:
    """Input VAT (or, with ``output``, output VAT) booked in ``start`` … ``end``, by posting
    date, reversals and refunds netted; positive for VAT paid (input) or owed (output)."""
    kind = "output" if output else "input"
    tax_accounts = [accounts.account(chart, f"{kind}_vat_{r}") for r in ("7", "19")]
    money = money_accounts(session, tenant_id, chart)
    tax = type_coerce(Posting.tax_amount, BigInteger)
    credit_money = Posting.credit_account.in_(money)
    debit_money = Posting.debit_account.in_(money)
    signed = case(
        (and_(credit_money, ~debit_money), tax),
        (and_(debit_money, ~credit_money), -tax),
        (Posting.reverses_id.is_not(None), -tax),
        else_=tax,
    )
    total = session.scalar(
        select(func.coalesce(func.sum(signed), 0)).where(
            Posting.tenant_id == tenant_id,
            Posting.tax_account.in_(tax_accounts),
            Posting.posting_date >= start,
            Posting.posting_date <= end,
        )
    )
    return from_cents(-int(total or 0) if output else int(total or 0))


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _shift_weekend(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def next_ustva(today: date, period: str, extension: bool) -> UstvaDue | None:
    """The next UStVA due on or after ``today`` for monthly or quarterly filers."""
    months = {"monthly": 1, "quarterly": 3}.get(period)
    if months is None:
        return None
    start = _quarter_start(today) if months == 3 else date(today.year, today.month, 1)
    start = _month_add(start, -3 * months)  # old enough that its due date has passed
    while True:
        following = _month_add(start, months)
        due = _shift_weekend(_month_add(following, 1 if extension else 0).replace(day=10))
        if due >= today:
            return UstvaDue(start, following - timedelta(days=1), due)
        start = following


def bank_overview(session: Session, tenant_id: int, today: date) -> Overview:
    company = get_company(session, tenant_id)
    positions = _positions(session, tenant_id, today)
    cash = sum((p.position for p in positions), ZERO)
    open_ = open_invoices(session, tenant_id)
    month_start = date(today.year, today.month, 1)
    month_end = _month_add(month_start, 1) - timedelta(days=1)
    quarter_start = _quarter_start(today)
    quarter_end = _month_add(quarter_start, 3) - timedelta(days=1)
    if company.vat_regime == "small_business":
        due, note = None, "small_business"
    elif company.ustva_period not in ("monthly", "quarterly"):
        due, note = None, "yearly"
    else:
        due, note = next_ustva(today, company.ustva_period, company.filing_extension), ""
    return Overview(
        today=today,
        cash_position=cash,
        accounts=positions,
        receivables=open_["out"],
        payables=open_["in"],
        expected_position=cash + open_["out"].amount - open_["in"].amount,
        month_start=month_start,
        input_vat_month=input_vat(session, tenant_id, company.chart, month_start, month_end),
        quarter_start=quarter_start,
        input_vat_quarter=input_vat(session, tenant_id, company.chart, quarter_start, quarter_end),
        next_ustva=due,
        ustva_note=note,
    )
