"""The UStVA of a month or quarter, computed from the journal the way the Finanzamt does.

Postings carry their VAT treatment (``Posting.vat_treatment``), so one grouped query over the
period's postings gives every Kennzahl: bases are summed in cents and cut to whole euros, taxes
stay in cents, and for the boxes whose tax ELSTER computes itself (81, 86, 89, 93) the tax is
the rate applied to the cut base. Soll-Versteuerung reads postings by their date (invoice date,
payment date for bank and cash); Ist-Versteuerung needs the allocation of invoice postings to
their payments (``belegwerk.tax.cash_basis``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from belegwerk.books import accounts
from belegwerk.books import vat_treatment as vt
from belegwerk.books.categories import account_for
from belegwerk.books.models import Category, Posting
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import CENT, ZERO, parse_money
from belegwerk.tax.forms import Form, form_for
from belegwerk.tax.periods import Period
from belegwerk.tenancy.service import get_company

HUNDRED = Decimal(100)
OUTPUT_TAX = ("36", "98", "47", "85", "65", "69")
INPUT_TAX = ("66", "61", "62", "67", "59", "64")
MANUAL = ("62", "64", "59", "65", "69")
# Boxes a Kleinunternehmer can owe (§ 13b, acquisitions): then it files a UStVA.
SELF_ASSESSED_BOXES_KZ = ("46", "47", "84", "85", "89", "93", "95", "98")


@dataclass(frozen=True)
class Check:
    """A finding before output: errors block, warnings need the user's confirmation."""

    code: str
    level: str  # error | warning
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Ustva:
    period: Period
    form: Form
    basis: str  # accrual | cash
    boxes: dict[str, Decimal]  # non-zero Kennzahlen: bases whole euros, taxes in cents
    computed_tax: dict[str, Decimal]  # tax the Finanzamt derives from 81, 86, 89, 93
    checks: list[Check]
    corrected: bool = False

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.level == "error"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.level == "warning"]

    @property
    def result(self) -> Decimal:
        return self.boxes.get("83", ZERO)

    def box_text(self, kz: str) -> str:
        value = self.boxes.get(kz, ZERO)
        kind = self.form.kinds.get(kz, "tax")
        if kind == "flag":
            return "1" if value else ""
        if kind == "base":
            return str(int(value))
        return f"{value.quantize(CENT):.2f}"

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.key,
            "zeitraum": self.period.code,
            "basis": self.basis,
            "boxes": {kz: self.box_text(kz) for kz in self.ordered_kz()},
            "computed_tax": {kz: f"{v:.2f}" for kz, v in self.computed_tax.items()},
            "errors": [c.__dict__ for c in self.errors],
            "warnings": [c.__dict__ for c in self.warnings],
        }

    def ordered_kz(self) -> list[str]:
        order = [b.kz for b in self.form.boxes]
        return [kz for kz in order if kz in self.boxes]


# --------------------------------------------------------------------------- box mapping


def targets(
    form: Form, treatment: str, self_assessed: bool, rate: Decimal, deductible: bool
) -> list[tuple[str, str]]:
    """Which Kennzahlen a posting feeds and with which amount (``net`` or ``tax``)."""
    rate = rate.quantize(CENT)
    if self_assessed:
        own = {vt.IN_RC_EU: "47", vt.IN_RC_OTHER: "85"}.get(treatment)
        if treatment == vt.IN_IC_ACQUISITION:
            own = None if rate in form.acquisition_rates else "98"
            deduction = "61"
        else:
            deduction = "67"
        out = [(own, "tax")] if own else []
        return out + ([(deduction, "tax")] if deductible else [])
    if treatment == vt.OUT_STANDARD:
        kz = form.sales_rates.get(rate)
        return [(kz, "net")] if kz else [("35", "net"), ("36", "tax")]
    simple = {
        vt.OUT_ZERO: "87",
        vt.OUT_EXEMPT: "48",
        vt.OUT_SMALL_BUSINESS: form.small_business_box,
        vt.OUT_IC_SUPPLY: "41",
        vt.OUT_EXPORT: "43",
        vt.OUT_EU_SERVICE: "21",
        vt.OUT_RC_DOMESTIC: "60",
        vt.OUT_NON_TAXABLE: "45",
        vt.IN_RC_EU: "46",
        vt.IN_RC_OTHER: "84",
    }
    if treatment in simple:
        return [(simple[treatment], "net")]
    if treatment == vt.IN_IC_ACQUISITION:
        return [(form.acquisition_rates.get(rate, "95"), "net")]
    if treatment == vt.IN_STANDARD and deductible:
        return [("66", "tax")]
    return []


def _legacy_treatment(category: Category | None, tax_account: str | None, chart: str) -> str:
    """Postings booked before VAT treatments existed: only those with VAT count."""
    if tax_account is None or category is None:
        return ""
    outputs = {accounts.account(chart, "output_vat_19"), accounts.account(chart, "output_vat_7")}
    return vt.OUT_STANDARD if tax_account in outputs else vt.IN_STANDARD


class PostingSigns:
    """Whether a posting runs the normal way (+1) or is a storno / refund (−1)."""

    def __init__(self, session: Session, tenant_id: int, chart: str) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.chart = chart
        self._accounts: dict[int, str | None] = {}
        self._categories: dict[int, Category | None] = {}
        self.outputs = {
            accounts.self_assessed_account(chart, kind, rate, output=True)
            for kind in ("rc", "ic")
            for rate in (Decimal(19), Decimal(7))
        }

    def category(self, category_id: int | None) -> Category | None:
        if category_id is None:
            return None
        if category_id not in self._categories:
            self._categories[category_id] = self.session.get(Category, category_id)
        return self._categories[category_id]

    def account(self, category_id: int | None) -> str | None:
        if category_id is None:
            return None
        if category_id not in self._accounts:
            category = self.category(category_id)
            self._accounts[category_id] = (
                account_for(self.session, self.tenant_id, category, self.chart)
                if category
                else None
            )
        return self._accounts[category_id]

    def sign(
        self, treatment: str, self_assessed: bool, category_id: int | None, debit: str, credit: str
    ) -> int:
        if self_assessed:
            return 1 if credit in self.outputs else -1
        account = self.account(category_id)
        if account is None:
            return 1
        if treatment.startswith("out_"):
            return 1 if credit == account else -1
        return 1 if debit == account else -1


# --------------------------------------------------------------------------- computation


def _group_query(tenant_id: int, start: date, end: date) -> Any:
    deductible = Posting.tax_account.is_not(None)
    return (
        select(
            Posting.vat_treatment,
            Posting.self_assessed,
            Posting.tax_rate,
            deductible.label("deductible"),
            Posting.tax_account,
            Posting.category_id,
            Posting.debit_account,
            Posting.credit_account,
            func.sum(Posting.net_amount),
            func.sum(Posting.tax_amount),
        )
        .where(
            Posting.tenant_id == tenant_id,
            Posting.posting_date >= start,
            Posting.posting_date <= end,
            or_(Posting.vat_treatment != "", Posting.tax_account.is_not(None)),
        )
        .group_by(
            Posting.vat_treatment,
            Posting.self_assessed,
            Posting.tax_rate,
            deductible,
            Posting.tax_account,
            Posting.category_id,
            Posting.debit_account,
            Posting.credit_account,
        )
    )


def _cut(value: Decimal) -> Decimal:
    """Whole euros, cents cut off (Bemessungsgrundlagen)."""
    return value.quantize(Decimal(1), rounding=ROUND_DOWN)


def sums(
    session: Session, tenant_id: int, period: Period, form: Form, chart: str
) -> dict[str, Decimal]:
    """Raw sums per Kennzahl (cents, signed), straight from the journal."""
    signs = PostingSigns(session, tenant_id, chart)
    raw: dict[str, Decimal] = defaultdict(lambda: ZERO)
    rows = session.execute(_group_query(tenant_id, period.start, period.end))
    for (
        treatment,
        self_assessed,
        rate,
        deductible,
        tax_account,
        cat_id,
        debit,
        credit,
        net,
        tax,
    ) in rows:
        if not treatment:
            treatment = _legacy_treatment(signs.category(cat_id), tax_account, chart)
            if not treatment:
                continue
        sign = signs.sign(treatment, bool(self_assessed), cat_id, debit, credit)
        for kz, part in targets(
            form, treatment, bool(self_assessed), Decimal(rate), bool(deductible)
        ):
            raw[kz] += sign * Decimal(net if part == "net" else tax)
    return dict(raw)


def boxes_from_sums(
    form: Form, raw: Mapping[str, Decimal], manual: Mapping[str, Decimal], special: Decimal
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Kennzahlen as the Finanzamt computes them, plus the derived taxes of 81/86/89/93."""
    boxes: dict[str, Decimal] = {}
    computed: dict[str, Decimal] = {}
    for box in form.boxes:
        if box.kz in ("83", "10", "39"):
            continue
        value = manual.get(box.kz, ZERO) if box.manual else raw.get(box.kz, ZERO)
        if box.kind == "base":
            value = _cut(value)
            if box.rate is not None and value:
                computed[box.kz] = (value * box.rate / HUNDRED).quantize(CENT)
        else:
            value = value.quantize(CENT)
        if value:
            boxes[box.kz] = value
    if special:
        boxes["39"] = special.quantize(CENT)
    output = sum(computed.values(), ZERO) + sum((boxes.get(k, ZERO) for k in OUTPUT_TAX), ZERO)
    deductions = sum((boxes.get(k, ZERO) for k in INPUT_TAX), ZERO)
    boxes["83"] = (output - deductions - boxes.get("39", ZERO)).quantize(CENT)
    return boxes, computed


def parse_manual(values: Mapping[str, object]) -> dict[str, Decimal]:
    """Entered Kennzahlen (62, 64, 59, 65, 69); others are computed from the books."""
    out: dict[str, Decimal] = {}
    for kz, raw in values.items():
        kz = str(kz).strip().removeprefix("Kz").removeprefix("kz")
        if kz not in MANUAL:
            raise ValidationFailed(
                "ustva.not_manual",
                _(
                    "Kennzahl {kz} is computed from the bookings; only {allowed} can be entered."
                ).format(kz=kz, allowed=", ".join(MANUAL)),
                [{"field": f"kz{kz}", "value": str(raw)}],
            )
        amount = parse_money(raw, f"kz{kz}", allow_negative=True)
        if amount:
            out[kz] = amount
    return out


def compute(
    session: Session,
    tenant_id: int,
    period: Period,
    *,
    manual: Mapping[str, Decimal] | None = None,
    basis: str | None = None,
) -> Ustva:
    """The UStVA of a period with its checks (nothing is written)."""
    from belegwerk.tax import checks, filings

    form = form_for(period.year)
    company = get_company(session, tenant_id)
    basis = basis or ("cash" if company.vat_accounting == "cash" else "accrual")
    raw = sums(session, tenant_id, period, form, company.chart)
    special = filings.special_prepayment_credit(session, tenant_id, company, period)
    boxes, computed = boxes_from_sums(form, raw, manual or {}, special)
    found = checks.run(session, tenant_id, company, period, form, raw, basis)
    filed = filings.latest_filing(session, tenant_id, period)
    corrected = filed is not None
    if corrected:
        boxes["10"] = Decimal(1)
    return Ustva(period, form, basis, boxes, computed, found, corrected)


# --------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class Contribution:
    posting: Posting
    amount: Decimal  # signed contribution to the Kennzahl (before cutting to euros)


def drilldown(session: Session, tenant_id: int, period: Period, kz: str) -> list[Contribution]:
    """The postings behind one Kennzahl, with their signed share."""
    form = form_for(period.year)
    company = get_company(session, tenant_id)
    signs = PostingSigns(session, tenant_id, company.chart)
    rows = session.scalars(
        select(Posting)
        .where(
            Posting.tenant_id == tenant_id,
            Posting.posting_date >= period.start,
            Posting.posting_date <= period.end,
            or_(Posting.vat_treatment != "", Posting.tax_account.is_not(None)),
        )
        .order_by(Posting.posting_date, Posting.id)
    )
    out: list[Contribution] = []
    for p in rows:
        treatment = p.vat_treatment or _legacy_treatment(
            signs.category(p.category_id), p.tax_account, company.chart
        )
        if not treatment:
            continue
        hits = targets(form, treatment, p.self_assessed, p.tax_rate, p.tax_account is not None)
        for target, part in hits:
            if target == kz:
                sign = signs.sign(
                    treatment, p.self_assessed, p.category_id, p.debit_account, p.credit_account
                )
                out.append(
                    Contribution(p, sign * (p.net_amount if part == "net" else p.tax_amount))
                )
    return out


def describe(ustva: Ustva) -> Iterable[tuple[str, str, str, str]]:
    """Rows for tables and the PDF: (Kz, label, value, computed tax)."""
    for kz in ustva.ordered_kz():
        box = ustva.form.box(kz)
        tax = ustva.computed_tax.get(kz)
        yield kz, box.label, ustva.box_text(kz), format_money(tax) if tax is not None else ""


def boxes_json(ustva: Ustva) -> str:
    return json.dumps({kz: ustva.box_text(kz) for kz in ustva.ordered_kz()}, sort_keys=True)
