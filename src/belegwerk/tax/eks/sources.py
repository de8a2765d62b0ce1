"""What the EKS reads from the books: cash flows per month and the VAT return's figures.

The flows come from :mod:`belegwerk.tax.cash_basis`: invoice postings realised by their
payments (on the payment date, shares cent-exact), cash-book entries and categorised bank lines
on their own date. The tax a recipient owes under § 13b or on an intra-community acquisition
moves no money (it is paid with the VAT return, B18) and is left out. Each item is signed from
the business's view by the side its money account is on: money debited (cash, bank, a
receivable being paid) came in, money credited went out.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking.overview import booked_vat, money_accounts
from belegwerk.books.models import Category
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO
from belegwerk.tax import ustva
from belegwerk.tax.cash_basis import CashItem, cash_items
from belegwerk.tax.eks.checks import VatComparison, VatFigures
from belegwerk.tax.eks.compute import Flow
from belegwerk.tax.eks.period import Period, add_months, month_end
from belegwerk.tax.periods import Period as UstvaPeriod
from belegwerk.tenancy.service import get_company

# The UStVA computes the tax of 81/86 from bases cut to whole euros: up to 0.19 € + 0.07 € off.
VAT_RETURN_TOLERANCE = Decimal("1.00")
COLUMNS = ("category_id", "voucher", "text", "reverses_id", "self_assessed")


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
        if item.columns["self_assessed"]:
            continue  # § 13b / acquisition tax owed by the recipient: no money moves
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


def _return_periods(period: Period, quarterly: bool) -> list[UstvaPeriod]:
    """The VAT return periods that lie wholly inside the EKS period."""
    out = []
    for month in period.months:
        if quarterly:
            if (month.month - 1) % 3 == 0 and add_months(month, 2) <= period.months[-1]:
                out.append(UstvaPeriod(month.year, quarter=(month.month - 1) // 3 + 1))
        else:
            out.append(UstvaPeriod(month.year, month=month.month))
    return out


def _months(start: date, end: date) -> tuple[date, ...]:
    months, month = [], start
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return tuple(months)


def _from_ustva(session: Session, tenant_id: int, periods: list[UstvaPeriod]) -> list[VatFigures]:
    out = []
    for p in periods:
        result = ustva.compute(session, tenant_id, p)
        boxes, computed = result.boxes, result.computed_tax
        output = sum((computed.get(kz, ZERO) for kz in ("81", "86")), ZERO)
        output += boxes.get("36", ZERO)
        out.append(VatFigures(p.label(), _months(p.start, p.end), output, boxes.get("66", ZERO)))
    return out


def _from_books(session: Session, tenant_id: int, period: Period) -> list[VatFigures]:
    chart = get_company(session, tenant_id).chart
    return [
        VatFigures(
            f"{m:%m/%Y}",
            (m,),
            booked_vat(session, tenant_id, chart, m, month_end(m), output=True),
            booked_vat(session, tenant_id, chart, m, month_end(m)),
        )
        for m in period.months
    ]


def vat_return_figures(session: Session, tenant_id: int, period: Period) -> VatComparison | None:
    """The UStVA of the periods inside the EKS period (monthly or quarterly as the company
    files); the VAT sums of the books by month where no UStVA can be computed (no form for the
    year); None for a Kleinunternehmer or a company that files no UStVA (yearly)."""
    company = get_company(session, tenant_id)
    if company.vat_regime == "small_business" or company.ustva_period == "yearly":
        return None
    periods = _return_periods(period, company.ustva_period == "quarterly")
    try:
        figures = _from_ustva(session, tenant_id, periods)
    except ValidationFailed as exc:  # e.g. no UStVA form for the year (tax.form_missing)
        return VatComparison(
            _("the VAT sums of the books ({reason})").format(reason=exc.message.rstrip(".")),
            _from_books(session, tenant_id, period),
            ZERO,
        )
    return VatComparison(_("the VAT return (UStVA)"), figures, VAT_RETURN_TOLERANCE)
