"""Plausibility warnings: what a Jobcenter clerk would ask about before accepting the EKS.

None of them blocks the output; each names the months, lines and amounts it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import ZERO
from belegwerk.tax.eks.compute import Tables
from belegwerk.tax.eks.form import Form
from belegwerk.tax.eks.inputs import Mask

# Below this a month's business income is hardly a living: the Jobcenter asks why.
LOW_INCOME = Decimal(100)
INVESTMENT_LINES = ("B8", "B9")


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    level: str = "warning"  # warning | info


def _months_text(months: list[date]) -> str:
    return ", ".join(f"{m:%m.%Y}" for m in months)


def _low_income(tables: Tables) -> list[Warning]:
    low = [m for m, v in zip(tables.months, tables.row("A").values, strict=True) if v < LOW_INCOME]
    if not low:
        return []
    return [
        Warning(
            "eks.low_income",
            _("Business income under {limit} in {months}.").format(
                limit=format_money(LOW_INCOME), months=_months_text(low)
            ),
            [{"month": f"{m:%Y-%m}", "income": str(tables.value("A", m))} for m in low],
        )
    ]


def _no_health_insurance(form: Form, mask: Mask) -> list[Warning]:
    if any(form.deduction(d.kind).health for d in mask.deductions):
        return []
    return [
        Warning(
            "eks.no_health_insurance",
            _("No health insurance is entered in table C (deductions from income)."),
        )
    ]


def _withdrawals(tables: Tables, withdrawals: Decimal) -> list[Warning]:
    profit = tables.row("G").total
    if withdrawals <= 0 or withdrawals <= profit:
        return []
    return [
        Warning(
            "eks.withdrawals_above_profit",
            _(
                "Private withdrawals of {withdrawals} exceed the profit of {profit}: the "
                "Jobcenter will ask how the difference was financed."
            ).format(withdrawals=format_money(withdrawals), profit=format_money(profit)),
            [{"withdrawals": str(withdrawals), "profit": str(profit)}],
        )
    ]


def _investments(tables: Tables) -> list[Warning]:
    found = [
        {"line": code, "month": f"{m:%Y-%m}", "amount": str(v)}
        for code in INVESTMENT_LINES
        for m, v in zip(tables.months, tables.row(code).values, strict=True)
        if v
    ]
    if not found:
        return []
    total = sum((Decimal(f["amount"]) for f in found), ZERO)
    return [
        Warning(
            "eks.investment_approval",
            _(
                "Investments of {amount}: the Jobcenter deducts only necessary expenses "
                "(§ 3 Bürgergeld-V); agree larger purchases with it beforehand and attach the "
                "invoices."
            ).format(amount=format_money(total)),
            found,
        )
    ]


def _empty_months(form: Form, tables: Tables) -> list[Warning]:
    empty = [
        m
        for i, m in enumerate(tables.months)
        if all(not tables.row(code).values[i] for code in form.figure_codes)
    ]
    if not empty:
        return []
    return [
        Warning(
            "eks.empty_month",
            _("No figure at all for {months}: the form wants a 0 there — check the books.").format(
                months=_months_text(empty)
            ),
            [{"month": f"{m:%Y-%m}"} for m in empty],
        )
    ]


@dataclass(frozen=True)
class VatFigures:
    """Output and input VAT of one VAT return period, to hold the EKS's VAT lines against."""

    label: str  # 03/2026, Q1 2026
    months: tuple[date, ...]
    output: Decimal
    input: Decimal


@dataclass(frozen=True)
class VatComparison:
    source: str  # what the figures are, for the message
    periods: list[VatFigures]
    tolerance: Decimal  # the UStVA cuts bases to whole euros: its taxes may differ by cents


def _vat_comparison(tables: Tables, mask: Mask, vat: VatComparison | None) -> list[Warning]:
    """A5.1 against the output VAT and B17 against the input VAT of the same VAT return
    periods (only periods wholly inside the EKS period)."""
    if vat is None or not mask.vat_liable or tables.forecast:
        return []
    found = []
    for figures in vat.periods:
        if not set(figures.months) <= set(tables.months):
            continue
        for line, expected in (("A5.1", figures.output), ("B17", figures.input)):
            actual = sum((tables.value(line, m) for m in figures.months), ZERO)
            if abs(actual - expected) > vat.tolerance:
                found.append(
                    {
                        "line": line,
                        "period": figures.label,
                        "eks": str(actual),
                        "vat_return": str(expected),
                    }
                )
    if not found:
        return []
    lines = "; ".join(
        f"{f['line']} {f['period']}: "
        f"{format_money(Decimal(f['eks']))} / {format_money(Decimal(f['vat_return']))}"
        for f in found[:6]
    )
    return [
        Warning(
            "eks.vat_mismatch",
            _(
                "The VAT lines differ from {basis} of the same months (EKS / VAT return): "
                "{lines}. The EKS counts VAT when paid; invoices paid in another month, "
                "accrual accounting and corrections explain differences — explain them in "
                "the remarks."
            ).format(basis=vat.source, lines=lines + (" …" if len(found) > 6 else "")),
            found,
        )
    ]


def _car(form: Form, tables: Tables, mask: Mask) -> list[Warning]:
    out = []
    car_flows = tables.placement.car_flows
    if car_flows and mask.car_use == "none":
        out.append(
            Warning(
                "eks.car_use_missing",
                _(
                    "The books contain vehicle costs, but the mask says no vehicle is used: "
                    "choose business or private vehicle."
                ),
            )
        )
    if car_flows and mask.car_use == "private":
        out.append(
            Warning(
                "eks.private_car_costs",
                _(
                    "Vehicle costs in the books do not count for a private vehicle; only the "
                    "business kilometres (B6.5) do."
                ),
                level="info",
            )
        )
    needed = {"business": "private", "private": "business"}.get(mask.car_use)
    if (
        needed
        and not mask.km_total(needed)
        and not mask.km_total("business" if needed == "private" else "private")
    ):
        out.append(
            Warning(
                "eks.km_missing",
                _("No kilometres are entered (field 47)."),
            )
        )
    if mask.car_use == "business":
        costs = sum((tables.row(c).total for c in ("B6.1", "B6.2", "B6.3", "B6.4")), ZERO)
        deduction = tables.row("B6-").total
        if deduction > costs:
            out.append(
                Warning(
                    "eks.km_deduction_exceeds_costs",
                    _(
                        "The deduction for private kilometres ({deduction}) is higher than the "
                        "vehicle costs ({costs})."
                    ).format(deduction=format_money(deduction), costs=format_money(costs)),
                )
            )
    return out


def _vat_without_liability(tables: Tables, mask: Mask) -> list[Warning]:
    if mask.vat_liable or not tables.placement.vat_flows:
        return []
    return [
        Warning(
            "eks.vat_in_books",
            _(
                "Field 32 says the business is not liable to VAT, but the books contain VAT: "
                "the amounts are shown gross and the VAT lines are left out."
            ),
        )
    ]


def _manual_final(form: Form, tables: Tables, kind: str) -> list[Warning]:
    if kind != "final":
        return []
    changed = [
        {"line": code, "month": f"{m:%Y-%m}"}
        for code in form.figure_codes
        for m, manual in zip(tables.months, tables.row(code).manual, strict=True)
        if manual
    ]
    if not changed:
        return []
    return [
        Warning(
            "eks.manual_figures",
            _(
                "{count} figures of this final declaration are your own instead of the books': "
                "explain them in the remarks and attach proof."
            ).format(count=len(changed)),
            changed,
            level="info",
        )
    ]


def _unplaced(tables: Tables) -> list[Warning]:
    uncategorised = [f for reason, f in tables.placement.unplaced if reason == "uncategorised"]
    if not uncategorised:
        return []
    total = sum((abs(f.amount + f.vat) for f in uncategorised), ZERO)
    return [
        Warning(
            "eks.uncategorised",
            _(
                "{count} movements ({amount}) have no category and are missing in the tables: "
                "categorise them first."
            ).format(count=len(uncategorised), amount=format_money(total)),
            [{"posting_id": f.posting_id, "voucher": f.voucher} for f in uncategorised[:50]],
        )
    ]


def _empty_basis(tables: Tables, mask: Mask) -> list[Warning]:
    """A forecast from months without bookings: nothing at all, or fewer months than averaged
    (a business started recently would have its income divided by months it did not exist)."""
    basis = tables.basis
    if not tables.forecast or mask.basis != "books" or basis is None:
        return []
    used = {month for _line, month in tables.placement.cells}
    if not used:
        return [
            Warning(
                "eks.empty_basis",
                _(
                    "The books hold nothing for {start} to {end}, the months the forecast "
                    "averages: enter your expected figures instead."
                ).format(start=f"{basis.start:%m.%Y}", end=f"{basis.end:%m.%Y}"),
            )
        ]
    empty = [m for m in basis.months if m not in used]
    if not empty:
        return []
    return [
        Warning(
            "eks.thin_basis",
            _(
                "The forecast averages {count} months, but the books hold nothing for "
                "{months}: average fewer months or enter your expected figures."
            ).format(count=basis.length, months=_months_text(empty)),
            [{"month": f"{m:%Y-%m}"} for m in empty],
            level="info",
        )
    ]


def warnings(
    form: Form,
    tables: Tables,
    mask: Mask,
    kind: str,
    *,
    withdrawals: Decimal,
    vat: VatComparison | None,
) -> list[Warning]:
    """Every warning, most important first."""
    return [
        *_unplaced(tables),
        *_empty_basis(tables, mask),
        *_low_income(tables),
        *_no_health_insurance(form, mask),
        *_withdrawals(tables, withdrawals),
        *_vat_comparison(tables, mask, vat),
        *_vat_without_liability(tables, mask),
        *_investments(tables),
        *_car(form, tables, mask),
        *_empty_months(form, tables),
        *_manual_final(form, tables, kind),
    ]
