"""The Anlage EKS of one period and kind: the books' cash flows plus the mask, checked.

``build_report`` is what every edge calls; it reads, never writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO
from belegwerk.core.types import utcnow
from belegwerk.tax.eks import sources
from belegwerk.tax.eks.allowance import AllowanceView, allowance_view
from belegwerk.tax.eks.checks import Warning, warnings
from belegwerk.tax.eks.compute import (
    Contribution,
    Flow,
    Tables,
    basis_period,
    build_tables,
    km_rate,
    place,
)
from belegwerk.tax.eks.form import Form, form_for
from belegwerk.tax.eks.inputs import LoadedMask, Mask, load_mask
from belegwerk.tax.eks.period import Period
from belegwerk.tenancy.service import get_company

FlowSource = Callable[[Session, int, date, date], list[Flow]]


@dataclass
class Report:
    form: Form
    period: Period
    kind: str
    loaded: LoadedMask
    tables: Tables
    allowance: AllowanceView
    warnings: list[Warning]
    withdrawals: Decimal
    company_name: str
    created_at: datetime

    @property
    def mask(self) -> Mask:
        return self.loaded.mask

    @property
    def months(self) -> list[date]:
        return self.tables.months


def build_report(
    session: Session,
    tenant_id: int,
    period: Period,
    kind: str,
    *,
    mask: Mask | None = None,
    flows: FlowSource = sources.book_flows,
) -> Report:
    """The EKS from the books: the period's own flows (final) or the average of the months
    before it (provisional), with the saved or pre-filled mask unless ``mask`` is given."""
    form = form_for(period.start)
    loaded = load_mask(session, tenant_id, form, period, kind)
    if mask is not None:
        loaded = LoadedMask(mask, "given")
    current = loaded.mask
    basis = basis_period(period, current) if kind == "provisional" else None
    span = basis or period
    placement = place(form, flows(session, tenant_id, span.start, span.end), current)
    tables = build_tables(form, period, current, placement, forecast_basis=basis)
    withdrawals = sum(placement.withdrawals.values(), ZERO)
    if basis is not None:
        # The forecast expects the basis months' withdrawals to go on at the same pace.
        withdrawals = (withdrawals / basis.length * period.length).quantize(Decimal("0.01"))
    vat = sources.vat_return_figures(session, tenant_id, period) if kind == "final" else None
    found = warnings(
        form,
        tables,
        current,
        kind,
        withdrawals=withdrawals,
        vat=vat,
    )
    view = allowance_view(
        form, period.months, tables.row("G").total, current.deductions, current.has_minor_child
    )
    return Report(
        form=form,
        period=period,
        kind=kind,
        loaded=loaded,
        tables=tables,
        allowance=view,
        warnings=found,
        withdrawals=withdrawals,
        company_name=get_company(session, tenant_id).name,
        created_at=utcnow(),
    )


@dataclass(frozen=True)
class Drill:
    """The bookings behind one figure, and how the figure comes from them."""

    line: str
    month: date
    value: Decimal
    how: str  # books | forecast | manual | km | sum | not_applicable
    contributions: list[Contribution]
    basis: Period | None = None
    km: Decimal | None = None
    rate: Decimal | None = None


def drilldown(report: Report, line: str, month: date | None) -> list[Drill]:
    """Per month of the period (or only ``month``): value and bookings of ``line``."""
    try:
        spec = report.form.line(line)
    except KeyError:
        raise ValidationFailed(
            "eks.unknown_line",
            _("{line} is not a line of the form.").format(line=line),
            [{"field": "line", "value": line}],
        ) from None
    if month is not None and month not in report.months:
        raise ValidationFailed(
            "eks.month_outside_period",
            _("The month {month} is not part of the period.").format(month=f"{month:%m.%Y}"),
            [{"field": "month", "value": f"{month:%Y-%m}"}],
        )
    tables = report.tables
    row = tables.row(line)
    out = []
    for index, m in enumerate(tables.months):
        if month is not None and m != month:
            continue
        value = row.values[index]
        cells = tables.placement.cells
        contributions: list[Contribution] = []
        basis = None
        km = rate = None
        if not spec.is_figure:
            how = "sum"
        elif not row.applicable:
            how = "not_applicable"
        elif row.manual[index]:
            how = "manual"
        elif spec.km is not None:
            how = "km"
            km = report.mask.km_of(m, spec.km) or ZERO
            rate = km_rate(m)
        elif tables.forecast:
            how = "forecast"
            basis = tables.basis
            if basis is not None and report.mask.basis == "books":
                for bm in basis.months:
                    contributions.extend(cells.get((line, bm), ()))
        else:
            how = "books"
            contributions = list(cells.get((line, m), ()))
        out.append(Drill(line, m, value, how, contributions, basis, km, rate))
    return out
