"""Tables A and B from cash flows and the mask, by the form's rules.

The EKS is cash-based and knows no depreciation (§ 3 Bürgergeld-V): a flow counts in the month
the money moved. A revenue category's net goes to its line and the VAT received to A5.1; an
expense's (or investment's) net goes to its line and the input VAT paid to B17; VAT paid to the
Finanzamt is B18 and a refund A5.3; a loan repayment is B16. Private money (withdrawals,
deposits) and money in transit are no line. Car costs follow the form: a business car's costs
(B6.1-B6.4) less the privately driven km × the km rate, or for a private car only the business
km × the rate (B6.5) — its costs in the books do not count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from belegwerk.core import params
from belegwerk.core.money import ZERO
from belegwerk.tax.eks.form import Form, Line
from belegwerk.tax.eks.inputs import Mask
from belegwerk.tax.eks.period import Period

CENT = Decimal("0.01")
INCOME_VAT_LINE = "A5.1"
EXPENSE_VAT_LINE = "B17"
KM_RATE = "eks_km_rate"


class Flow(NamedTuple):
    """One movement of money in the books as the EKS sees it (a tuple: tens of thousands of
    them are made per report).

    ``amount`` is the net (or, without VAT, the whole) amount, signed from the business's view:
    positive when money came in. ``vat`` is the VAT part, signed the same way.
    """

    day: date
    line: str | None  # the category's EKS line
    category: str  # the category's key ("" when uncategorised)
    category_name: str
    kind: str  # the category's kind: revenue | expense | asset | private | transfer | ""
    amount: Decimal
    vat: Decimal
    posting_id: int
    voucher: str
    text: str
    invoice_id: int | None = None


class Contribution(NamedTuple):
    """What one flow adds to one cell (a line in a month): the drill-down's row."""

    flow: Flow
    line: str
    amount: Decimal


@dataclass
class Placement:
    """Flows of a span of months sorted into the form's lines."""

    cells: dict[tuple[str, date], list[Contribution]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (reason, flow): uncategorised | no_line | private_car | no_vat_line | loan_payout
    unplaced: list[tuple[str, Flow]] = field(default_factory=list)
    withdrawals: dict[date, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    car_flows: int = 0
    vat_flows: int = 0

    def add(self, flow: Flow, line: str, amount: Decimal, month: date) -> None:
        if amount:
            self.cells[(line, month)].append(Contribution(flow, line, amount))

    def total(self, line: str, month: date) -> Decimal:
        return sum((c.amount for c in self.cells.get((line, month), ())), ZERO)


def _month(day: date) -> date:
    return day.replace(day=1)


def place(form: Form, flows: Iterable[Flow], mask: Mask) -> Placement:
    """Sort flows into lines per month, by the rules in the module docstring."""
    out = Placement()
    lines = {line.code: line for line in form.lines}
    for flow in flows:
        month = _month(flow.day)
        if flow.category == "private_withdrawal" and flow.amount < 0:
            out.withdrawals[month] += -flow.amount
        if flow.kind in ("private", "transfer") and flow.line is None:
            continue  # private money and money in transit are no business income or expense
        if not flow.kind:
            out.unplaced.append(("uncategorised", flow))
            continue
        line = lines.get(flow.line or "")
        if line is None or not line.is_figure:
            out.unplaced.append(("no_line", flow))
            continue
        if flow.vat:
            out.vat_flows += 1
        _place_one(out, line, flow, month, mask)
    return out


def _place_one(out: Placement, line: Line, flow: Flow, month: date, mask: Mask) -> None:
    income = line.table == "A"
    amount, vat = flow.amount, flow.vat
    if not mask.vat_liable:
        # Field 32 "no": the VAT lines drop out, so any VAT stays in the amount (gross).
        amount, vat = amount + vat, ZERO
    if line.car:
        out.car_flows += 1
        if mask.car_use == "private":
            out.unplaced.append(("private_car", flow))
            amount = ZERO  # a private car counts only by km (B6.5); its VAT was still paid
    if line.vat and not mask.vat_liable:
        out.unplaced.append(("no_vat_line", flow))
        return
    if not income and amount > 0 and line.inflow is not None:
        # Money coming back on an expense line that names its own inflow line: a VAT refund
        # is A5.3; a loan paid out is no income at all.
        if line.inflow:
            out.add(flow, line.inflow, amount, month)
        else:
            out.unplaced.append(("loan_payout", flow))
        amount = ZERO
    out.add(flow, line.code, amount if income else -amount, month)
    if vat:
        out.add(
            flow, INCOME_VAT_LINE if income else EXPENSE_VAT_LINE, vat if income else -vat, month
        )


@dataclass
class Row:
    """One line of a table with a value per month and the period total."""

    line: Line
    values: list[Decimal]
    manual: list[bool]
    applicable: bool = True

    @property
    def total(self) -> Decimal:
        return sum(self.values, ZERO)


@dataclass
class Tables:
    months: list[date]
    rows: dict[str, Row]
    placement: Placement
    basis: Period | None = None  # the months a forecast averages
    forecast: bool = False

    def row(self, code: str) -> Row:
        return self.rows[code]

    def value(self, code: str, month: date) -> Decimal:
        return self.rows[code].values[self.months.index(month)]


def km_rate(month: date) -> Decimal:
    return params.decimal(KM_RATE, month)


def _applicable(line: Line, mask: Mask) -> bool:
    if line.vat and not mask.vat_liable:
        return False
    if line.car == "business" and mask.car_use == "private":
        return False
    return not (line.car == "private" and mask.car_use == "business")


def _average(total: Decimal, count: int) -> Decimal:
    return (total / count).quantize(CENT, rounding=ROUND_HALF_UP)


def build_tables(
    form: Form,
    period: Period,
    mask: Mask,
    placement: Placement,
    *,
    forecast_basis: Period | None = None,
) -> Tables:
    """The figure of every line and month, then the sums.

    Without ``forecast_basis`` the placement holds the period's own flows (final declaration).
    With it, the placement holds the basis months' flows and each month of the period gets
    their monthly average (provisional declaration from the books). The user's figures replace
    single cells either way; the km lines come from the kilometres and the dated km rate.
    """
    months = period.months
    rows: dict[str, Row] = {}
    for line in form.lines:
        if not line.is_figure:
            continue
        values: list[Decimal] = []
        manual: list[bool] = []
        for month in months:
            value = _figure(line, month, mask, placement, forecast_basis)
            given = mask.figures.get(line.code, {}).get(month)
            manual.append(given is not None)
            values.append(given if given is not None else value)
        applicable = _applicable(line, mask)
        if not applicable:
            values = [ZERO] * len(months)
        rows[line.code] = Row(line, values, manual, applicable)
    _sums(form, months, rows)
    return Tables(months, rows, placement, forecast_basis, forecast_basis is not None)


def _figure(
    line: Line, month: date, mask: Mask, placement: Placement, basis: Period | None
) -> Decimal:
    if line.km is not None:
        km = mask.km_of(month, line.km) or ZERO
        return (km * km_rate(month)).quantize(CENT, rounding=ROUND_HALF_UP) if km else ZERO
    if basis is None:
        return placement.total(line.code, month)
    if mask.basis == "manual":
        return ZERO
    total = sum((placement.total(line.code, m) for m in basis.months), ZERO)
    return _average(total, basis.length)


def _sums(form: Form, months: list[date], rows: dict[str, Row]) -> None:
    """Sums, carries and the profit in form order: each part's subtotal includes what the
    previous part carried over, so the last sum is the whole table B."""
    running: list[Decimal] = [ZERO] * len(months)
    income: list[Decimal] = [ZERO] * len(months)
    for line in form.lines:
        if line.is_figure:
            sign = -1 if line.kind == "deduction" else 1
            running = [r + sign * v for r, v in zip(running, rows[line.code].values, strict=True)]
        elif line.kind == "carry":
            rows[line.code] = Row(
                line, list(rows[line.carries or ""].values), [False] * len(months)
            )
        elif line.kind == "sum":
            rows[line.code] = Row(line, list(running), [False] * len(months))
            if line.table == "A":
                income, running = running, [ZERO] * len(months)
        elif line.kind == "profit":
            rows[line.code] = Row(
                line, [i - e for i, e in zip(income, running, strict=True)], [False] * len(months)
            )


def basis_period(period: Period, mask: Mask) -> Period:
    """The months a provisional declaration averages: the ``basis_months`` before the period."""
    return period.previous_months(mask.basis_months)
