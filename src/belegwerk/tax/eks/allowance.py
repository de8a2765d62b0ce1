"""How much of the profit the Jobcenter counts: the Bürgergeld allowances, by date.

The income of the period is spread evenly over its months (§ 3 Abs. 4 Bürgergeld-V). From each
month's share come off: taxes (§ 11b Abs. 1 Satz 1 Nr. 1 SGB II) and compulsory contributions
(Nr. 2) from table C; the basic allowance of 100 € (§ 11b Abs. 2), which covers insurance,
Riester and work expenses (Nr. 3 to 5) — above 400 € a month those count instead when they are
higher (with the 30 € insurance flat rate of § 6 Abs. 1 Nr. 1 Bürgergeld-V); and the tiered
allowance on earned income (§ 11b Abs. 3: 20 % / 30 % / 10 %, the 30 % tier from July 2023, the
upper limit 1,500 € instead of 1,200 € with a minor child). Every amount comes from the dated
tax parameters of the month, so a period across 1 July 2023 uses both laws.

This is an orientation for the user, not the Jobcenter's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from belegwerk.core import params
from belegwerk.core.money import ZERO
from belegwerk.tax.eks.form import Form
from belegwerk.tax.eks.inputs import Deduction

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TierPart:
    """The part of the income inside one tier and the share of it that is not counted."""

    lower: Decimal
    upper: Decimal
    share: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class AllowanceMonth:
    month: date
    income: Decimal  # the month's share of the period's profit
    taxes: Decimal
    compulsory: Decimal
    other_deductions: Decimal  # Nr. 3 to 5 incl. the insurance flat rate, monthly
    basic: Decimal  # the basic allowance, or the higher proven Nr. 3-5 deductions
    basic_proven: bool
    tiers: tuple[TierPart, ...]
    counted: Decimal

    @property
    def earned_allowance(self) -> Decimal:
        return sum((t.amount for t in self.tiers), ZERO)

    @property
    def free(self) -> Decimal:
        """Everything that is not counted."""
        return self.income - self.counted if self.income > 0 else ZERO


@dataclass(frozen=True)
class AllowanceView:
    months: tuple[AllowanceMonth, ...]
    profit: Decimal
    has_minor_child: bool

    @property
    def counted_total(self) -> Decimal:
        return sum((m.counted for m in self.months), ZERO)

    @property
    def average_income(self) -> Decimal:
        return self.months[0].income if self.months else ZERO


def _tiers(month: date, income: Decimal, has_child: bool) -> tuple[TierPart, ...]:
    parts = []
    for tier in params.value("citizen_benefit_tiers", month):
        lower = _cents(Decimal(tier["lower"]))
        upper = _cents(
            Decimal(tier.get("upper_with_child", tier["upper"]) if has_child else tier["upper"])
        )
        share = Decimal(tier["share"])
        base = max(ZERO, min(income, upper) - lower)
        parts.append(TierPart(lower, upper, share, base, _cents(base * share)))
    return tuple(parts)


def _group_total(form: Form, deductions: list[Deduction], group: str, months: int) -> Decimal:
    return sum(
        (d.monthly(months) for d in deductions if form.deduction(d.kind).group == group), ZERO
    )


def allowance_month(
    month: date,
    income: Decimal,
    *,
    taxes: Decimal = ZERO,
    compulsory: Decimal = ZERO,
    other: Decimal = ZERO,
    has_minor_child: bool = False,
) -> AllowanceMonth:
    """One month: ``income`` is the month's profit; the deductions are monthly amounts."""
    if income <= 0:
        return AllowanceMonth(month, income, taxes, compulsory, ZERO, ZERO, False, (), ZERO)
    basic = min(income, _cents(params.decimal("citizen_benefit_basic_allowance", month)))
    proven = False
    other_total = ZERO
    if other:
        other_total = _cents(other + params.decimal("citizen_benefit_insurance_flat_rate", month))
        if (
            income > params.decimal("citizen_benefit_proof_threshold", month)
            and other_total > basic
        ):
            basic, proven = min(income, other_total), True
    tiers = _tiers(month, income, has_minor_child)
    counted = income - taxes - compulsory - basic - sum((t.amount for t in tiers), ZERO)
    return AllowanceMonth(
        month,
        income,
        taxes,
        compulsory,
        other_total,
        basic,
        proven,
        tiers,
        max(ZERO, _cents(counted)),
    )


def allowance_view(
    form: Form,
    months: list[date],
    profit: Decimal,
    deductions: list[Deduction],
    has_minor_child: bool,
) -> AllowanceView:
    """The allowance per month for the period's profit spread evenly over its months."""
    count = len(months)
    income = _cents(profit / count) if count else ZERO
    taxes = _group_total(form, deductions, "tax", count)
    compulsory = _group_total(form, deductions, "compulsory", count)
    other = _group_total(form, deductions, "other", count)
    return AllowanceView(
        tuple(
            allowance_month(
                m,
                income,
                taxes=taxes,
                compulsory=compulsory,
                other=other,
                has_minor_child=has_minor_child,
            )
            for m in months
        ),
        profit,
        has_minor_child,
    )
