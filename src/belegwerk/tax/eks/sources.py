"""What the EKS reads from the books: cash flows per month and the VAT return's figures.

The flows come from :mod:`belegwerk.tax.cash_basis`: invoice postings realised by their
payments (on the payment date, shares cent-exact), cash-book entries and categorised bank lines
on their own date. Each item is signed from the business's view by the side its money account
is on: money debited (cash, bank, a receivable being paid) came in, money credited went out.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking.overview import booked_vat, money_accounts
from belegwerk.books.models import Category
from belegwerk.core.i18n import _
from belegwerk.tax.cash_basis import CashItem, cash_items
from belegwerk.tax.eks.compute import Flow
from belegwerk.tax.eks.period import Period, month_end
from belegwerk.tenancy.service import get_company

COLUMNS = ("category_id", "voucher", "text", "reverses_id")


def _sign(item: CashItem, money: set[str], category: Category | None) -> int:
    """+1 when the movement brought money in, -1 when it took money out."""
    if item.debit_account in money and item.credit_account not in money:
        return 1
    if item.credit_account in money and item.debit_account not in money:
        return -1
    # Neither or both sides are money (not booked by Belegwerk today): a revenue posting is
    # income and anything else an outgoing, a reversal the opposite.
    usual = 1 if category is not None and category.kind == "revenue" else -1
    return -usual if item.columns.get("reverses_id") else usual


def book_flows(session: Session, tenant_id: int, start: date, end: date) -> list[Flow]:
    """Every movement of business money from ``start`` to ``end`` on the day it moved."""
    chart = get_company(session, tenant_id).chart
    money = money_accounts(session, tenant_id, chart)
    categories = {c.id: c for c in session.scalars(select(Category))}
    flows = []
    for item in cash_items(session, tenant_id, start, end, columns=COLUMNS):
        category = categories.get(item.category_id) if item.category_id else None
        sign = _sign(item, money, category)
        flows.append(
            Flow(
                day=item.flow_date,
                line=category.eks_line if category else None,
                category=category.key if category else "",
                category_name=category.name_de if category else "",
                kind=category.kind if category else "",
                amount=sign * item.net_amount,
                vat=sign * item.tax_amount,
                posting_id=item.posting_id,
                voucher=item.voucher,
                text=item.text,
                invoice_id=item.invoice_id,
            )
        )
    return flows


def vat_return_figures(
    session: Session, tenant_id: int, period: Period
) -> tuple[dict[date, tuple[Decimal, Decimal]], str]:
    """Output and input VAT per month to compare the VAT lines with, and what they are.

    The UStVA is not available yet, so these are the VAT sums of the books by posting date.
    """
    chart = get_company(session, tenant_id).chart
    figures = {
        m: (
            booked_vat(session, tenant_id, chart, m, month_end(m), output=True),
            booked_vat(session, tenant_id, chart, m, month_end(m)),
        )
        for m in period.months
    }
    return figures, _("the VAT sums of the books (the VAT return is not available yet)")
