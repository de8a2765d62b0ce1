"""Web pages of the Anlage EKS: period and kind picker, the tables with drill-down and warnings,
the input mask, downloads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.datastructures import FormData

from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import _, format_money
from belegwerk.tax.eks import inputs
from belegwerk.tax.eks.api import period_query
from belegwerk.tax.eks.form import Form, form_for
from belegwerk.tax.eks.models import EksDeclaration
from belegwerk.tax.eks.period import (
    Period,
    add_months,
    kind_labels,
    parse_kind,
    parse_month,
    parse_period,
)
from belegwerk.tax.eks.service import build_report, drilldown
from belegwerk.web.ui import FormDep, Page, PageDep, decimal_input, redirect, text

pages = APIRouter(include_in_schema=False)
SECTION = "tax_eks"
EXTRA_DEDUCTION_ROWS = 3


def _plain(value: Decimal) -> str:
    return format_money(value, currency=False)


def _number(value: Decimal) -> str:
    """A quantity as typed (150, 14,5): no trailing zeros, no exponent, decimal comma."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _helpers() -> dict[str, Any]:
    return {
        "section": SECTION,
        "kind_labels": kind_labels(),
        "plain": _plain,
        "rhythms": inputs.rhythm_labels(),
        "how_labels": {
            "books": _("from the books"),
            "forecast": _("forecast: monthly average of the books"),
            "manual": _("your own figure"),
            "km": _("kilometres × rate"),
            "sum": _("sum of the lines above"),
            "not_applicable": _("does not apply"),
        },
    }


def _flash(page: Page) -> None:
    if page.request.query_params.get("done") == "eks_saved":
        page.nav.flash = _("The entries for the EKS have been saved.")


@pages.get("/tax/eks", response_class=HTMLResponse)
def picker(page: PageDep) -> HTMLResponse:
    start = today().replace(day=1)
    saved = page.session.scalars(
        select(EksDeclaration)
        .where(EksDeclaration.tenant_id == page.tenant_id)
        .order_by(EksDeclaration.period_start.desc(), EksDeclaration.kind)
    ).all()
    return page.render(
        "eks/index.html",
        **_helpers(),
        default_from=f"{start:%Y-%m}",
        default_to=f"{add_months(start, 5):%Y-%m}",
        saved=[(Period(d.period_start, d.period_end), d.kind, d.updated_at) for d in saved],
        period_query=period_query,
    )


def _period_args(page: Page) -> tuple[Period, str]:
    q = page.request.query_params
    return parse_period(q.get("from", ""), q.get("to", "")), parse_kind(q.get("kind", ""))


@pages.get("/tax/eks/view", response_class=HTMLResponse)
def view(page: PageDep) -> HTMLResponse:
    period, kind = _period_args(page)
    report = build_report(page.session, page.tenant_id, period, kind)
    _flash(page)
    return page.render(
        "eks/view.html",
        **_helpers(),
        r=report,
        q=period_query(period, kind),
        unplaced=report.tables.placement.unplaced,
    )


@pages.get("/tax/eks/drill", response_class=HTMLResponse)
def drill(page: PageDep) -> HTMLResponse:
    period, kind = _period_args(page)
    q = page.request.query_params
    month = parse_month(q["month"], "month") if q.get("month") else None
    report = build_report(page.session, page.tenant_id, period, kind)
    line = q.get("line", "")
    return page.render(
        "eks/drill.html",
        **_helpers(),
        r=report,
        q=period_query(period, kind),
        drills=drilldown(report, line, month),
        line=report.form.line(line),
        month=month,
    )


# --------------------------------------------------------------------------- input mask


def _mask_values(form: Form, period: Period, mask: inputs.Mask) -> dict[str, str]:
    """The mask as the form's input values (German number format)."""
    values: dict[str, str] = {
        "basis": mask.basis,
        "basis_months": str(mask.basis_months),
        "car_use": mask.car_use,
        "vat_liable": "yes" if mask.vat_liable else "no",
        "has_minor_child": "yes" if mask.has_minor_child else "no",
    }
    for spec in form.fields:
        value = mask.answers.get(spec.key)
        name = f"answers.{spec.key}"
        if isinstance(value, bool):
            values[name] = "yes" if value else "no"
        elif isinstance(value, date):
            values[name] = value.isoformat()
        elif isinstance(value, Decimal):
            values[name] = _plain(value) if spec.type == "money" else _number(value)
        elif value is not None:
            values[name] = str(value)
    for month, kinds in mask.km.items():
        for kind, km in kinds.items():
            values[f"km.{month:%Y-%m}.{kind}"] = _number(km)
    for line, months in mask.figures.items():
        for month, amount in months.items():
            values[f"figures.{line}.{month:%Y-%m}"] = _plain(amount)
    for i, d in enumerate(mask.deductions):
        values.update(
            {
                f"deductions.{i}.kind": d.kind,
                f"deductions.{i}.amount": _plain(d.amount),
                f"deductions.{i}.rhythm": d.rhythm,
                f"deductions.{i}.description": d.description,
            }
        )
    return values


def _raw_from_form(form_spec: Form, period: Period, data: FormData) -> dict[str, Any]:
    """The submitted form in the JSON shape :func:`inputs.parse_mask` checks."""
    answers: dict[str, Any] = {}
    for spec in form_spec.fields:
        value = text(data, f"answers.{spec.key}")
        if spec.type == "money" and value:
            value = decimal_input(value)
        answers[spec.key] = value
    km = {
        f"{m:%Y-%m}": {k: text(data, f"km.{m:%Y-%m}.{k}") for k in inputs.KM_KINDS}
        for m in period.months
    }
    figures = {
        line: {
            f"{m:%Y-%m}": decimal_input(v)
            for m in period.months
            if (v := text(data, f"figures.{line}.{m:%Y-%m}"))
        }
        for line in form_spec.input_codes
    }
    deductions = []
    raw_count = text(data, "deductions_count")
    count = min(int(raw_count), 50) if raw_count.isdigit() else 0
    for i in range(count):
        kind, amount = text(data, f"deductions.{i}.kind"), text(data, f"deductions.{i}.amount")
        if not kind and not amount:
            continue
        deductions.append(
            {
                "kind": kind,
                "amount": decimal_input(amount),
                "rhythm": text(data, f"deductions.{i}.rhythm") or "monthly",
                "description": text(data, f"deductions.{i}.description"),
            }
        )
    return {
        "basis": text(data, "basis") or "books",
        "basis_months": text(data, "basis_months") or "6",
        "vat_liable": text(data, "vat_liable"),
        "car_use": text(data, "car_use") or "none",
        "has_minor_child": text(data, "has_minor_child"),
        "answers": answers,
        "km": km,
        "figures": {k: v for k, v in figures.items() if v},
        "deductions": deductions,
    }


def _input_context(
    page: Page,
    period: Period,
    kind: str,
    form: Form,
    values: dict[str, str],
    loaded: inputs.LoadedMask | None,
) -> dict[str, Any]:
    count = sum(1 for k in values if k.startswith("deductions.") and k.endswith(".kind"))
    return {
        **_helpers(),
        "period": period,
        "kind": kind,
        "f": form,
        "v": values,
        "loaded": loaded,
        "q": period_query(period, kind),
        "deduction_rows": count + EXTRA_DEDUCTION_ROWS,
        "car_uses": inputs.car_use_labels(),
        "bases": inputs.basis_labels(),
    }


@pages.get("/tax/eks/input", response_class=HTMLResponse)
def input_form(page: PageDep) -> HTMLResponse:
    period, kind = _period_args(page)
    form = form_for(period.start)
    loaded = inputs.load_mask(page.session, page.tenant_id, form, period, kind)
    values = _mask_values(form, period, loaded.mask)
    return page.render("eks/input.html", **_input_context(page, period, kind, form, values, loaded))


@pages.post("/tax/eks/input", response_model=None)
def save_input(page: PageDep, data: FormDep) -> HTMLResponse | RedirectResponse:
    period, kind = _period_args(page)
    form = form_for(period.start)
    raw = _raw_from_form(form, period, data)
    try:
        mask = inputs.parse_mask(form, period, raw)
        inputs.save_mask(page.session, page.tenant_id, period, kind, mask, form, page.actor)
    except BelegwerkError as exc:
        submitted = {k: v for k, v in data.items() if isinstance(v, str)}
        messages = {
            str(d["field"]): str(d.get("message", exc.message))
            for d in exc.details
            if isinstance(d, dict) and "field" in d
        }
        return page.fail(
            "eks/input.html",
            exc,
            lambda: _input_context(page, period, kind, form, submitted, None),
            field_errors=messages,
        )
    return redirect(f"/tax/eks/view?{period_query(period, kind)}", done="eks_saved")
