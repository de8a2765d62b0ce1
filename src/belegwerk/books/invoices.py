"""Invoices in and out: drafts, booking with gap-free numbers and journal postings, Storno.

A draft may change freely. Booking assigns the number, writes the postings and freezes the rows
(the database itself refuses UPDATE/DELETE of booked invoices and their lines). A correction is a
reversal invoice (kind ``reversal``: same positive amounts, mirrored postings, own number) plus,
if wanted, a new draft that ``replaces`` the original.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from belegwerk.books import accounts, journal
from belegwerk.books import vat_treatment as vt
from belegwerk.books.categories import (
    RATE_BOUND_REVENUE,
    account_for,
    category_by_key,
    revenue_category_for_rate,
)
from belegwerk.books.invoice_calc import (
    PRICE_MODES,
    Computation,
    LineAmounts,
    LineInput,
    check_expected,
    check_totals_range,
    compute,
    parse_scaled,
)
from belegwerk.books.models import (
    CashProposal,
    Category,
    Invoice,
    InvoiceLine,
    InvoiceTaxTotal,
    Party,
    Payment,
)
from belegwerk.books.numbers import next_number, next_numbers
from belegwerk.books.vat import check_rate
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future, require_reason, today
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO, parse_money, vat_from_net
from belegwerk.core.types import utcnow
from belegwerk.tenancy.models import Company
from belegwerk.tenancy.service import get_company

# Legal wording the outgoing invoice of a Kleinunternehmer must carry; German by law, not gettext.
SMALL_BUSINESS_NOTE = vt.SMALL_BUSINESS_REASON
# Printed on a Stornorechnung; German document text like the §19 note.
REVERSAL_NOTE = "Stornorechnung zu Rechnung {number} vom {date}"

DIRECTIONS = ("in", "out")
UNIT_RE = re.compile(r"^[A-Z0-9]{2,3}$")  # UN/ECE Recommendation 20 codes (C62, HUR, KGM …)
DESCRIPTION_MAX = 500
EXTERNAL_NUMBER_MAX = 60
DEFAULT_REVENUE = {
    Decimal(19): "revenue_19",
    Decimal(16): "revenue_19",
    Decimal(7): "revenue_7",
    Decimal(5): "revenue_7",
    Decimal(0): "revenue_tax_free",
}
SMALL_BUSINESS_REVENUE = "revenue_small_business"
DEFAULT_EXPENSE = "other_expense"
CATEGORY_KINDS = {"out": ("revenue",), "in": ("expense", "asset")}
STATUSES = ("draft", "booked", "reversed", "reversal")
PAYMENT_STATUSES = ("open", "partial", "paid")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class InvoiceInput:
    """What a user enters for an invoice; amounts already Decimal (parsed at the edge)."""

    direction: str
    issue_date: date
    lines: Sequence[LineInput] = ()
    price_mode: str = "net"
    party_id: int | None = None
    supply_date: date | None = None
    due_date: date | None = None
    external_number: str = ""
    note: str = ""
    expected_net: Decimal | None = None
    expected_vat: Decimal | None = None
    expected_gross: Decimal | None = None
    # BT-121 / BT-120 per VAT category code: (reason code, reason text); defaults by law.
    exemptions: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PartyFacts:
    """What the VAT treatment needs of the other party."""

    name: str | None = None
    country: str = vt.HOME
    vat_id: str = ""


# --------------------------------------------------------------------------- validation


class CategoryResolver:
    """Categories and the tenant's accounts for them, cached for one operation (or bulk run)."""

    def __init__(self, session: Session, tenant_id: int, chart: str) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.chart = chart
        self._by_id: dict[int, Category | None] = {}
        self._accounts: dict[int, str | None] = {}
        self._by_key: dict[str, Category] = {}

    def get(self, category_id: int, field_name: str = "category_id") -> Category:
        if category_id not in self._by_id:
            self._by_id[category_id] = self.session.get(Category, category_id)
        category = self._by_id[category_id]
        if category is None:
            raise ValidationFailed(
                "category.not_found",
                _("Unknown category: {id}").format(id=category_id),
                [{"field": field_name, "value": category_id}],
            )
        return category

    def by_key(self, key: str) -> Category:
        if key not in self._by_key:
            category = category_by_key(self.session, key)
            self._by_key[key] = category
            self._by_id[category.id] = category
        return self._by_key[key]

    def resolve(
        self, category_id: int | None, rate: Decimal, direction: str, small_business: bool
    ) -> Category:
        """The line's category, or the default one for its direction, rate and VAT regime."""
        if category_id is not None:
            return self.get(category_id)
        if direction == "in":
            return self.by_key(DEFAULT_EXPENSE)
        if small_business:
            return self.by_key(SMALL_BUSINESS_REVENUE)
        return self.by_key(DEFAULT_REVENUE.get(rate, "revenue_19"))

    def account(self, category: Category) -> str:
        if category.id not in self._accounts:
            self._accounts[category.id] = account_for(
                self.session, self.tenant_id, category, self.chart
            )
        value = self._accounts[category.id]
        if not value:
            raise ValidationFailed(
                "category.no_account",
                _("The category {name} has no account in {chart}.").format(
                    name=category.name_de, chart=self.chart.upper()
                ),
                [{"field": "category_id", "value": category.id}],
            )
        return value


def _is_small_business(company: Company, direction: str) -> bool:
    return company.vat_regime == "small_business" and direction == "out"


def _check_party(session: Session, tenant_id: int, party_id: int | None) -> PartyFacts:
    if party_id is None:
        return PartyFacts()
    found = session.execute(
        select(Party.name, Party.country, Party.vat_id).where(
            Party.id == party_id, Party.tenant_id == tenant_id
        )
    ).first()
    if found is None:
        raise ValidationFailed(
            "party.not_found",
            _("Unknown customer or supplier: {id}").format(id=party_id),
            [{"field": "party_id", "value": party_id}],
        )
    return PartyFacts(name=found[0], country=vt.country_of(found[1]), vat_id=found[2] or "")


def _clean_line(
    line: LineInput,
    index: int,
    *,
    supply: date,
    direction: str,
    small_business: bool,
    cats: CategoryResolver,
    party: PartyFacts,
) -> LineInput:
    prefix = f"lines[{index}]"
    description = (line.description or "").strip()
    if not description or len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(
            "invoice.line_description",
            _("Each line needs a description of at most {max} characters.").format(
                max=DESCRIPTION_MAX
            ),
            [{"field": f"{prefix}.description"}],
        )
    unit = (line.unit or "C62").strip().upper()
    if not UNIT_RE.match(unit):
        raise ValidationFailed(
            "invoice.invalid_unit",
            _("Unknown unit code {unit} (UN/ECE Recommendation 20, e.g. C62, HUR, KGM).").format(
                unit=line.unit
            ),
            [{"field": f"{prefix}.unit", "value": line.unit}],
        )
    quantity = parse_scaled(line.quantity, f"{prefix}.quantity")
    unit_price = parse_scaled(line.unit_price, f"{prefix}.unit_price")
    rate = check_rate(line.vat_rate, supply, f"{prefix}.vat_rate")
    if small_business and rate != 0:
        raise ValidationFailed(
            "vat.small_business_no_vat",
            _("As a small business (§ 19 UStG) you must not charge VAT; use 0 %."),
            [{"field": f"{prefix}.vat_rate", "value": str(rate)}],
        )
    code_field = f"{prefix}.vat_category"
    code = (
        vt.normalize_code(line.vat_category, code_field)
        if line.vat_category
        else vt.default_code(rate, small_business=small_business)
    )
    if small_business and code != vt.EXEMPT:
        raise ValidationFailed(
            "vat.small_business_exempt",
            _("Sales of a small business (§ 19 UStG) are tax-exempt: use the VAT treatment E."),
            [{"field": code_field, "value": code}],
        )
    vt.check_rate_fits(code, rate, f"{prefix}.vat_rate")
    resolved = vt.resolve(
        direction, code, party.country, small_business=small_business, field=code_field
    )
    if resolved.treatment == vt.OUT_IC_SUPPLY and not party.vat_id:
        raise ValidationFailed(
            "vat.ic_needs_vat_id",
            _(
                "An intra-community supply is tax-free only to a customer with a VAT "
                "identification number; enter the customer's USt-IdNr."
            ),
            [{"field": code_field, "value": code}],
        )
    if line.category_id is not None:
        category = cats.get(line.category_id, f"{prefix}.category_id")
        if category.kind not in CATEGORY_KINDS[direction]:
            raise ValidationFailed(
                "category.wrong_kind",
                _("The category {name} does not fit this invoice.").format(name=category.name_de),
                [{"field": f"{prefix}.category_id", "value": line.category_id}],
            )
    category_id = line.category_id
    if direction == "out":
        dedicated = vt.revenue_category_key(resolved.treatment, party.country)
        chosen = cats.get(category_id, f"{prefix}.category_id") if category_id else None
        if dedicated and (chosen is None or chosen.key in RATE_BOUND_REVENUE):
            category_id = cats.by_key(dedicated).id
        elif chosen is not None:
            category_id = revenue_category_for_rate(cats.session, chosen, rate, small_business).id
    return LineInput(
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        vat_rate=rate,
        unit=unit,
        category_id=category_id,
        vat_category=code,
    )


def _validate(
    session: Session,
    tenant_id: int,
    data: InvoiceInput,
    company: Company,
    cats: CategoryResolver,
    *,
    check_party: bool = True,
    party_facts: PartyFacts | None = None,
) -> Checked:
    """Check everything a user can get wrong; return computation, cleaned lines, exemptions."""
    if data.direction not in DIRECTIONS:
        raise ValidationFailed(
            "invoice.invalid_direction",
            _("The direction must be 'in' or 'out'."),
            [{"field": "direction", "value": data.direction}],
        )
    if data.price_mode not in PRICE_MODES:
        raise ValidationFailed(
            "invoice.invalid_price_mode",
            _("The price mode must be 'net' or 'gross'."),
            [{"field": "price_mode", "value": data.price_mode}],
        )
    check_not_far_future(data.issue_date, "issue_date")
    if data.supply_date is not None:
        check_not_far_future(data.supply_date, "supply_date")
    if data.due_date is not None:
        check_not_far_future(data.due_date, "due_date")
        if data.due_date < data.issue_date:
            raise ValidationFailed(
                "invoice.due_before_issue",
                _("The due date lies before the invoice date."),
                [{"field": "due_date", "value": data.due_date.isoformat()}],
            )
    if len(data.external_number) > EXTERNAL_NUMBER_MAX:
        raise ValidationFailed(
            "invoice.external_number_too_long",
            _("The supplier's invoice number is too long."),
            [{"field": "external_number"}],
        )
    supply = data.supply_date or data.issue_date
    small = _is_small_business(company, data.direction)
    party = (
        _check_party(session, tenant_id, data.party_id)
        if check_party
        else (party_facts or PartyFacts())
    )
    lines = [
        _clean_line(
            ln,
            i,
            supply=supply,
            direction=data.direction,
            small_business=small,
            cats=cats,
            party=party,
        )
        for i, ln in enumerate(data.lines)
    ]
    result = compute(lines, data.price_mode)
    check_totals_range(result)
    expected = [
        None if v is None else parse_money(v, f"{name}_total", allow_negative=True)
        for name, v in (
            ("net", data.expected_net),
            ("vat", data.expected_vat),
            ("gross", data.expected_gross),
        )
    ]
    check_expected(result, *expected)
    return Checked(result, lines, _exemptions(data, result, small), party)


@dataclass(frozen=True)
class Checked:
    """A validated invoice: computation, cleaned lines, BT-120/121 per category, party."""

    result: Computation
    lines: list[LineInput]
    exemptions: dict[str, tuple[str, str]]
    party: PartyFacts


def _exemptions(
    data: InvoiceInput, result: Computation, small_business: bool
) -> dict[str, tuple[str, str]]:
    """BT-120/121 per VAT category of the invoice: as entered, else the legal default; an
    outgoing exempt invoice of a regular business must name its exemption."""
    out: dict[str, tuple[str, str]] = {}
    for code in {r.category for r in result.rates}:
        given_code, given_text = data.exemptions.get(code, ("", ""))
        if data.direction == "in":
            out[code] = ((given_code or "").strip(), (given_text or "").strip())
            continue
        text, reason_code = vt.exemption(
            code,
            given_text,
            given_code,
            small_business=small_business,
            field=f"exemptions.{code}",
        )
        out[code] = (reason_code, text)
    return out


def _with_note(note: str, small_business: bool) -> str:
    note = (note or "").strip()
    if small_business and SMALL_BUSINESS_NOTE not in note:
        return f"{note}\n{SMALL_BUSINESS_NOTE}" if note else SMALL_BUSINESS_NOTE
    return note


# --------------------------------------------------------------------------- storage helpers


def _line_rows(
    tenant_id: int, invoice_id: int, lines: Sequence[LineInput], amounts: Sequence[LineAmounts]
) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "invoice_id": invoice_id,
            "position": pos,
            "description": ln.description,
            "quantity": ln.quantity,
            "unit": ln.unit,
            "unit_price": ln.unit_price,
            "vat_rate": ln.vat_rate,
            "vat_category": ln.vat_category,
            "category_id": ln.category_id,
            "net": a.net,
            "vat": a.vat,
            "gross": a.gross,
        }
        for pos, (ln, a) in enumerate(zip(lines, amounts, strict=True), start=1)
    ]


def _tax_rows(
    tenant_id: int,
    invoice_id: int,
    result: Computation,
    exemptions: Mapping[str, tuple[str, str]],
) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "invoice_id": invoice_id,
            "vat_rate": r.rate,
            "vat_category": r.category,
            "exemption_reason_code": exemptions.get(r.category, ("", ""))[0],
            "exemption_reason": exemptions.get(r.category, ("", ""))[1],
            "net": r.net,
            "vat": r.vat,
            "gross": r.gross,
        }
        for r in result.rates
    ]


def _write_lines(
    session: Session,
    tenant_id: int,
    invoice_id: int,
    lines: Sequence[LineInput],
    result: Computation,
    exemptions: Mapping[str, tuple[str, str]],
) -> None:
    rows = _line_rows(tenant_id, invoice_id, lines, result.lines)
    if rows:
        session.execute(insert(InvoiceLine), rows)
    taxes = _tax_rows(tenant_id, invoice_id, result, exemptions)
    if taxes:
        session.execute(insert(InvoiceTaxTotal), taxes)


def _drop_lines(session: Session, tenant_id: int, invoice_id: int) -> None:
    for model in (InvoiceLine, InvoiceTaxTotal):
        session.execute(
            delete(model).where(model.tenant_id == tenant_id, model.invoice_id == invoice_id)
        )


def _apply(inv: Invoice, data: InvoiceInput, result: Computation, small: bool) -> None:
    inv.direction = data.direction
    inv.price_mode = data.price_mode
    inv.party_id = data.party_id
    inv.issue_date = data.issue_date
    inv.supply_date = data.supply_date
    inv.due_date = data.due_date
    inv.external_number = data.external_number.strip()
    inv.small_business = small
    inv.note = _with_note(data.note, small)
    inv.net_total = result.net
    inv.vat_total = result.vat
    inv.gross_total = result.gross


def get_invoice(
    session: Session, tenant_id: int, invoice_id: int, *, for_update: bool = False
) -> Invoice:
    return owned_row(
        session,
        Invoice,
        tenant_id,
        invoice_id,
        code="invoice.not_found",
        message=_("Invoice {id} not found.").format(id=invoice_id),
        field="invoice_id",
        for_update=for_update,
    )


def invoice_lines(session: Session, tenant_id: int, invoice_id: int) -> list[InvoiceLine]:
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.tenant_id == tenant_id, InvoiceLine.invoice_id == invoice_id)
            .order_by(InvoiceLine.position)
        )
    )


def tax_totals(session: Session, tenant_id: int, invoice_id: int) -> list[InvoiceTaxTotal]:
    return list(
        session.scalars(
            select(InvoiceTaxTotal)
            .where(InvoiceTaxTotal.tenant_id == tenant_id, InvoiceTaxTotal.invoice_id == invoice_id)
            .order_by(InvoiceTaxTotal.vat_rate.desc())
        )
    )


def reversal_of(session: Session, tenant_id: int, invoice_id: int) -> Invoice | None:
    """The Stornorechnung of an invoice, if there is one."""
    return session.scalar(
        select(Invoice).where(Invoice.tenant_id == tenant_id, Invoice.reverses_id == invoice_id)
    )


def _require_draft(inv: Invoice) -> None:
    if inv.status != "draft":
        raise Conflict(
            "invoice.booked_immutable",
            _("Invoice {number} is booked and cannot be changed; reverse it instead.").format(
                number=inv.number
            ),
            [{"field": "invoice_id", "value": inv.id}],
        )


def _input_from(
    inv: Invoice, lines: Sequence[InvoiceLine], totals: Sequence[InvoiceTaxTotal] = ()
) -> InvoiceInput:
    return InvoiceInput(
        direction=inv.direction,
        issue_date=inv.issue_date,
        lines=[
            LineInput(
                description=ln.description,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                vat_rate=ln.vat_rate,
                unit=ln.unit,
                category_id=ln.category_id,
                vat_category=ln.vat_category,
            )
            for ln in lines
        ],
        exemptions={
            t.vat_category: (t.exemption_reason_code, t.exemption_reason)
            for t in totals
            if t.exemption_reason or t.exemption_reason_code
        },
        price_mode=inv.price_mode,
        party_id=inv.party_id,
        supply_date=inv.supply_date,
        due_date=inv.due_date,
        external_number=inv.external_number,
        note=inv.note,
    )


def _snapshot(
    inv: Invoice,
    lines: Sequence[LineInput] | None = None,
    exemptions: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "direction": inv.direction,
        "kind": inv.kind,
        "status": inv.status,
        "number": inv.number,
        "external_number": inv.external_number,
        "party_id": inv.party_id,
        "issue_date": inv.issue_date,
        "supply_date": inv.supply_date,
        "due_date": inv.due_date,
        "price_mode": inv.price_mode,
        "small_business": inv.small_business,
        "net_total": inv.net_total,
        "vat_total": inv.vat_total,
        "gross_total": inv.gross_total,
        "note": inv.note,
        "reverses_id": inv.reverses_id,
        "replaces_id": inv.replaces_id,
    }
    if lines is not None:
        snap["lines"] = [
            {
                "description": ln.description,
                "quantity": ln.quantity,
                "unit": ln.unit,
                "unit_price": ln.unit_price,
                "vat_rate": ln.vat_rate,
                "vat_category": ln.vat_category,
                "category_id": ln.category_id,
            }
            for ln in lines
        ]
    if exemptions:
        snap["exemptions"] = {k: list(v) for k, v in sorted(exemptions.items())}
    return snap


# --------------------------------------------------------------------------- drafts


def create_draft(
    session: Session,
    tenant_id: int,
    data: InvoiceInput,
    actor: str = "local",
    *,
    replaces_id: int | None = None,
) -> Invoice:
    """A new draft: validated and computed, no number and no postings yet."""
    company = get_company(session, tenant_id)
    cats = CategoryResolver(session, tenant_id, company.chart)
    checked = _validate(session, tenant_id, data, company, cats)
    result, lines = checked.result, checked.lines
    small = _is_small_business(company, data.direction)
    inv = Invoice(
        tenant_id=tenant_id,
        kind="invoice",
        status="draft",
        replaces_id=replaces_id,
        created_by=actor,
    )
    _apply(inv, data, result, small)
    session.add(inv)
    session.flush()
    _write_lines(session, tenant_id, inv.id, lines, result, checked.exemptions)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "create", "invoice", inv.id, after=_snapshot(inv, lines, checked.exemptions)
    )
    return inv


def update_draft(
    session: Session, tenant_id: int, invoice_id: int, data: InvoiceInput, actor: str = "local"
) -> Invoice:
    """Replace a draft's header and lines; a booked invoice is refused."""
    inv = get_invoice(session, tenant_id, invoice_id, for_update=True)
    _require_draft(inv)
    company = get_company(session, tenant_id)
    cats = CategoryResolver(session, tenant_id, company.chart)
    checked = _validate(session, tenant_id, data, company, cats)
    result, lines = checked.result, checked.lines
    old = _input_from(
        inv, invoice_lines(session, tenant_id, inv.id), tax_totals(session, tenant_id, inv.id)
    )
    before = _snapshot(inv, old.lines, old.exemptions)
    _drop_lines(session, tenant_id, inv.id)
    _apply(inv, data, result, _is_small_business(company, data.direction))
    session.flush()
    _write_lines(session, tenant_id, inv.id, lines, result, checked.exemptions)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "update", "invoice", inv.id, before=before, after=_snapshot(inv, lines, checked.exemptions)
    )
    return inv


def delete_draft(session: Session, tenant_id: int, invoice_id: int, actor: str = "local") -> None:
    """Drafts may be thrown away; a booked invoice only ever gets reversed."""
    inv = get_invoice(session, tenant_id, invoice_id, for_update=True)
    _require_draft(inv)
    old = _input_from(
        inv, invoice_lines(session, tenant_id, inv.id), tax_totals(session, tenant_id, inv.id)
    )
    before = _snapshot(inv, old.lines, old.exemptions)
    _drop_lines(session, tenant_id, inv.id)
    session.delete(inv)
    session.flush()
    audit_writer(session, tenant_id, actor).record("delete", "invoice", invoice_id, before=before)


# --------------------------------------------------------------------------- booking


def _number_format(direction: str, year: int) -> tuple[str, str]:
    """(series, prefix): outgoing RE-{year}-nnnnn, incoming internal voucher ER-{year}-nnnnn."""
    if direction == "out":
        return f"invoice_out:{year}", f"RE-{year}-"
    return f"invoice_in:{year}", f"ER-{year}-"


def _assign_number(session: Session, tenant_id: int, direction: str, year: int) -> str:
    series, prefix = _number_format(direction, year)
    return f"{prefix}{next_number(session, tenant_id, series):05d}"


def _posting_text(number: str, party_name: str | None) -> str:
    return f"{number} {party_name or ''}".strip()


def _posting_lines(
    cats: CategoryResolver,
    *,
    direction: str,
    small_business_tenant: bool,
    posting_date: date,
    supply_date: date,
    voucher: str,
    text: str,
    lines: Sequence[LineInput],
    amounts: Sequence[LineAmounts],
    country: str = vt.HOME,
) -> list[journal.Line]:
    """One journal line per (category, rate, VAT category): receivables→revenue, or
    expense→payables; plus the self-assessed tax of reverse-charge and acquisition groups."""
    chart = cats.chart
    groups: dict[tuple[int, Decimal, str], list[Decimal]] = {}
    categories: dict[int, Category] = {}
    for ln, a in zip(lines, amounts, strict=True):
        category = cats.resolve(ln.category_id, ln.vat_rate, direction, small_business_tenant)
        categories[category.id] = category
        key = (category.id, ln.vat_rate, ln.vat_category)
        sums = groups.setdefault(key, [ZERO, ZERO, ZERO])
        sums[0] += a.net
        sums[1] += a.vat
        sums[2] += a.gross
    out: list[journal.Line] = []
    for (category_id, rate, code), (net, vat, gross) in groups.items():
        if gross == 0:
            continue
        category = categories[category_id]
        resolved = vt.resolve(
            direction,
            code,
            country,
            small_business=small_business_tenant and direction == "out",
        )
        sign = 1 if gross > 0 else -1
        net, vat, gross = net * sign, vat * sign, gross * sign
        extra: list[journal.Line] = []
        if direction == "out":
            line = journal.sale_line(
                chart,
                posting_date=posting_date,
                money_account=accounts.account(chart, "receivables"),
                revenue_account=cats.account(category),
                gross=gross,
                net=net,
                vat=vat,
                rate=rate,
                voucher=voucher,
                text=text,
                category_id=category_id,
            )
            line = replace(line, vat_treatment=resolved.treatment)
        else:
            deductible = not small_business_tenant and category.input_vat_deductible
            expense = cats.account(category)
            line = journal.purchase_line(
                chart,
                posting_date=posting_date,
                money_account=accounts.account(chart, "payables"),
                expense_account=expense,
                gross=gross,
                net=net,
                vat=vat,
                rate=rate,
                deductible=deductible,
                voucher=voucher,
                text=text,
                category_id=category_id,
            )
            line = replace(line, vat_treatment=resolved.treatment)
            if resolved.self_assessed:
                own_rate = vt.self_assessment_rate(category.default_vat_rate, supply_date)
                tax = vat_from_net(net, own_rate)
                line = replace(
                    line,
                    tax_rate=own_rate,
                    tax_key=vt.datev_tax_key(resolved.treatment, own_rate, deductible),
                )
                if tax:
                    extra.append(
                        journal.self_assessed_line(
                            chart,
                            posting_date=posting_date,
                            expense_account=expense,
                            tax=tax,
                            rate=own_rate,
                            treatment=resolved.treatment,
                            deductible=deductible,
                            voucher=voucher,
                            text=text,
                        )
                    )
        if sign < 0:  # a net discount group: the postings run the other way
            line, *extra = [
                replace(x, debit_account=x.credit_account, credit_account=x.debit_account)
                for x in (line, *extra)
            ]
        out.append(line)
        out.extend(extra)
    return out


def book_invoice(
    session: Session, tenant_id: int, invoice_id: int, actor: str = "local"
) -> Invoice:
    """Draft → booked: re-validate, assign the gap-free number, post to the journal, audit."""
    inv = get_invoice(session, tenant_id, invoice_id, for_update=True)
    _require_draft(inv)
    company = get_company(session, tenant_id)
    cats = CategoryResolver(session, tenant_id, company.chart)
    stored = invoice_lines(session, tenant_id, inv.id)
    if not stored:
        raise ValidationFailed(
            "invoice.no_lines",
            _("An invoice needs at least one line before it can be booked."),
            [{"field": "lines"}],
        )
    data = _input_from(inv, stored, tax_totals(session, tenant_id, inv.id))
    checked = _validate(session, tenant_id, data, company, cats)
    result, lines = checked.result, checked.lines
    if inv.direction == "out" and inv.party_id is None:
        raise ValidationFailed(
            "invoice.party_required",
            _("An outgoing invoice needs a customer before it can be booked."),
            [{"field": "party_id"}],
        )
    if result.gross <= 0:
        raise ValidationFailed(
            "invoice.not_positive",
            _("The invoice total must be greater than zero."),
            [{"field": "gross_total", "value": str(result.gross)}],
        )
    small = _is_small_business(company, inv.direction)
    if (result.net, result.vat, result.gross) != (inv.net_total, inv.vat_total, inv.gross_total):
        _drop_lines(session, tenant_id, inv.id)  # computed by an older rule: store it afresh
        _write_lines(session, tenant_id, inv.id, lines, result, checked.exemptions)
    _apply(inv, data, result, small)
    inv.number = _assign_number(session, tenant_id, inv.direction, inv.issue_date.year)
    inv.status = "booked"
    inv.booked_at = utcnow()
    session.flush()
    postings = _posting_lines(
        cats,
        direction=inv.direction,
        small_business_tenant=company.vat_regime == "small_business",
        posting_date=inv.issue_date,
        supply_date=inv.supply_date or inv.issue_date,
        voucher=inv.number,
        text=_posting_text(inv.number, checked.party.name),
        lines=lines,
        amounts=result.lines,
        country=checked.party.country,
    )
    journal.post(session, tenant_id, "invoice", inv.id, postings)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "book", "invoice", inv.id, after=_snapshot(inv, lines, checked.exemptions)
    )
    return inv


# --------------------------------------------------------------------------- payments summary


def signed_payment_amount() -> ColumnElement[Decimal]:
    """A payment counts positive, its reversal row negative."""
    return case((Payment.reverses_id.is_(None), Payment.amount), else_=-Payment.amount)


def paid_amount(session: Session, tenant_id: int, invoice_id: int) -> Decimal:
    value = session.scalar(
        select(func.coalesce(func.sum(signed_payment_amount()), ZERO)).where(
            Payment.tenant_id == tenant_id, Payment.invoice_id == invoice_id
        )
    )
    return Decimal(value or ZERO)


def pending_cash(session: Session, tenant_id: int, invoice_id: int) -> Decimal:
    """Cash proposals still waiting for the user's confirmation."""
    value = session.scalar(
        select(func.coalesce(func.sum(CashProposal.amount), ZERO)).where(
            CashProposal.tenant_id == tenant_id,
            CashProposal.invoice_id == invoice_id,
            CashProposal.status == "proposed",
        )
    )
    return Decimal(value or ZERO)


def payment_status(gross: Decimal, paid: Decimal) -> str:
    if paid >= gross:
        return "paid"
    return "partial" if paid > 0 else "open"


@dataclass(frozen=True)
class PaymentSummary:
    paid: Decimal
    pending_cash: Decimal
    open_amount: Decimal
    status: str | None  # None where payments do not apply (draft, reversal, reversed)


def payment_summary(
    session: Session, tenant_id: int, inv: Invoice, reversed_: bool | None = None
) -> PaymentSummary:
    paid = paid_amount(session, tenant_id, inv.id)
    pending = pending_cash(session, tenant_id, inv.id)
    if reversed_ is None:
        reversed_ = reversal_of(session, tenant_id, inv.id) is not None
    payable = inv.status == "booked" and inv.kind == "invoice" and not reversed_
    if not payable:
        return PaymentSummary(paid=paid, pending_cash=pending, open_amount=ZERO, status=None)
    return PaymentSummary(
        paid=paid,
        pending_cash=pending,
        open_amount=inv.gross_total - paid,
        status=payment_status(inv.gross_total, paid),
    )


# --------------------------------------------------------------------------- reversal


def reverse_invoice(
    session: Session,
    tenant_id: int,
    invoice_id: int,
    reason: str | None,
    actor: str = "local",
    *,
    reversal_date: date | None = None,
) -> Invoice:
    """Storno: a booked reversal invoice with its own number and mirrored postings."""
    reason_text = require_reason(reason)
    original = get_invoice(session, tenant_id, invoice_id, for_update=True)
    if original.status == "draft":
        raise Conflict(
            "invoice.not_booked",
            _("A draft cannot be reversed; delete it instead."),
            [{"field": "invoice_id", "value": invoice_id}],
        )
    if original.kind == "reversal":
        raise Conflict(
            "invoice.is_reversal",
            _("A reversal cannot be reversed itself."),
            [{"field": "invoice_id", "value": invoice_id}],
        )
    existing = reversal_of(session, tenant_id, invoice_id)
    if existing is not None:
        raise Conflict(
            "invoice.already_reversed",
            _("Invoice {number} has already been reversed by {reversal}.").format(
                number=original.number, reversal=existing.number
            ),
            [{"field": "invoice_id", "value": invoice_id, "reversal_id": existing.id}],
        )
    if paid_amount(session, tenant_id, invoice_id) != 0:
        raise Conflict(
            "invoice.has_payments",
            _("Invoice {number} has payments; reverse the payments first.").format(
                number=original.number
            ),
            [{"field": "invoice_id", "value": invoice_id}],
        )
    day = check_not_far_future(reversal_date or today(), "reversal_date")
    if day < original.issue_date:
        raise ValidationFailed(
            "invoice.reversal_before_original",
            _("The reversal cannot be dated before the invoice."),
            [{"field": "reversal_date", "value": day.isoformat()}],
        )
    assert original.number is not None
    rev = Invoice(
        tenant_id=tenant_id,
        direction=original.direction,
        kind="reversal",
        status="draft",  # the line triggers accept lines only while the row is a draft
        number=_assign_number(session, tenant_id, original.direction, day.year),
        external_number=original.external_number,
        party_id=original.party_id,
        issue_date=day,
        supply_date=original.supply_date,
        due_date=None,
        price_mode=original.price_mode,
        small_business=original.small_business,
        net_total=original.net_total,
        vat_total=original.vat_total,
        gross_total=original.gross_total,
        note=_with_note(
            REVERSAL_NOTE.format(
                number=original.number, date=original.issue_date.strftime("%d.%m.%Y")
            ),
            original.small_business,
        ),
        reverses_id=original.id,
        reversal_reason=reason_text,
        created_by=actor,
    )
    session.add(rev)
    session.flush()
    lines = invoice_lines(session, tenant_id, original.id)
    copies = [
        {c: getattr(ln, c) for c in _LINE_COPY} | {"tenant_id": tenant_id, "invoice_id": rev.id}
        for ln in lines
    ]
    if copies:
        session.execute(insert(InvoiceLine), copies)
    totals = [
        {
            "tenant_id": tenant_id,
            "invoice_id": rev.id,
            "vat_rate": t.vat_rate,
            "vat_category": t.vat_category,
            "exemption_reason": t.exemption_reason,
            "exemption_reason_code": t.exemption_reason_code,
            "net": t.net,
            "vat": t.vat,
            "gross": t.gross,
        }
        for t in tax_totals(session, tenant_id, original.id)
    ]
    if totals:
        session.execute(insert(InvoiceTaxTotal), totals)
    rev.status = "booked"
    rev.booked_at = utcnow()
    session.flush()
    journal.reverse(
        session,
        tenant_id,
        "invoice",
        original.id,
        reversal_type="invoice",
        reversal_id=rev.id,
        posting_date=day,
        voucher=rev.number or "",
    )
    pending = session.scalars(
        select(CashProposal).where(
            CashProposal.tenant_id == tenant_id,
            CashProposal.invoice_id == original.id,
            CashProposal.status == "proposed",
        )
    ).all()
    writer = audit_writer(session, tenant_id, actor)
    for proposal in pending:  # the invoice is void, so its open cash proposals are too
        proposal.status = "rejected"
        proposal.decided_at = utcnow()
        writer.record(
            "reject",
            "cash_proposal",
            proposal.id,
            after={"status": "rejected"},
            reason=reason_text,
        )
    session.flush()
    writer.record("reverse", "invoice", original.id, after=_snapshot(rev), reason=reason_text)
    return rev


_LINE_COPY = (
    "position",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "vat_rate",
    "vat_category",
    "category_id",
    "net",
    "vat",
    "gross",
)


def correct_invoice(
    session: Session,
    tenant_id: int,
    invoice_id: int,
    reason: str | None,
    actor: str = "local",
    *,
    reversal_date: date | None = None,
) -> Invoice:
    """Reverse a booked invoice and return a new draft copy (``replaces_id``) for editing."""
    reverse_invoice(session, tenant_id, invoice_id, reason, actor, reversal_date=reversal_date)
    original = get_invoice(session, tenant_id, invoice_id)
    data = _input_from(
        original,
        invoice_lines(session, tenant_id, invoice_id),
        tax_totals(session, tenant_id, invoice_id),
    )
    data = replace(
        data,
        issue_date=reversal_date or today(),
        supply_date=original.supply_date or original.issue_date,
        due_date=None,
    )
    return create_draft(session, tenant_id, data, actor, replaces_id=original.id)


def display_status(inv: Invoice, reversed_by_id: int | None) -> str:
    """draft | booked | reversed (a Storno exists) | reversal (the Stornorechnung itself)."""
    if inv.status == "draft":
        return "draft"
    if inv.kind == "reversal":
        return "reversal"
    return "reversed" if reversed_by_id is not None else "booked"


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    direction: str
    kind: str
    status: str
    number: str | None
    external_number: str
    party_id: int | None
    party_name: str | None
    issue_date: date
    due_date: date | None
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    paid: Decimal
    pending_cash: Decimal
    open_amount: Decimal
    payment_status: str | None
    reverses_id: int | None
    reversed_by_id: int | None
    replaces_id: int | None
    booked_at: datetime | None


@dataclass(frozen=True)
class InvoicePage:
    items: list[InvoiceRow] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 50


def _check_choice(name: str, value: str | None, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        raise ValidationFailed(
            "request.invalid_filter",
            _("Invalid filter {name}: {value}").format(name=name, value=value),
            [{"field": name, "value": value, "allowed": list(allowed)}],
        )


def list_invoices(
    session: Session,
    tenant_id: int,
    direction: str | None = None,
    status: str | None = None,
    party_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    search: str | None = None,
    payment_status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> InvoicePage:
    """The invoice register: one set-based query (payments and proposals grouped once)."""
    _check_choice("direction", direction, DIRECTIONS)
    _check_choice("status", status, STATUSES)
    _check_choice("payment_status", payment_status, PAYMENT_STATUSES)
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)

    paid_q = (
        select(Payment.invoice_id, func.sum(signed_payment_amount()).label("paid"))
        .where(Payment.tenant_id == tenant_id)
        .group_by(Payment.invoice_id)
        .subquery()
    )
    pending_q = (
        select(CashProposal.invoice_id, func.sum(CashProposal.amount).label("pending"))
        .where(CashProposal.tenant_id == tenant_id, CashProposal.status == "proposed")
        .group_by(CashProposal.invoice_id)
        .subquery()
    )
    rev = aliased(Invoice)
    paid = func.coalesce(paid_q.c.paid, ZERO)
    pending = func.coalesce(pending_q.c.pending, ZERO)
    payable = and_(Invoice.status == "booked", Invoice.kind == "invoice", rev.id.is_(None))
    pay_status = case(
        (
            payable,
            case(
                (paid >= Invoice.gross_total, "paid"),
                (paid > ZERO, "partial"),
                else_="open",
            ),
        ),
        else_=None,
    )

    where: list[ColumnElement[bool]] = [Invoice.tenant_id == tenant_id]
    if direction:
        where.append(Invoice.direction == direction)
    if status == "draft":
        where.append(Invoice.status == "draft")
    elif status == "booked":
        where.append(payable)
    elif status == "reversed":
        where.append(rev.id.is_not(None))
    elif status == "reversal":
        where.append(Invoice.kind == "reversal")
    if party_id is not None:
        where.append(Invoice.party_id == party_id)
    if date_from:
        where.append(Invoice.issue_date >= date_from)
    if date_to:
        where.append(Invoice.issue_date <= date_to)
    if search and search.strip():
        term = search.strip()
        where.append(
            or_(
                Invoice.number.icontains(term, autoescape=True),
                Invoice.external_number.icontains(term, autoescape=True),
                Party.name.icontains(term, autoescape=True),
            )
        )
    if payment_status:
        where.append(pay_status == payment_status)

    def joined(query: Any) -> Any:
        return (
            query.select_from(Invoice)
            .outerjoin(Party, Party.id == Invoice.party_id)
            .outerjoin(rev, and_(rev.reverses_id == Invoice.id, rev.tenant_id == tenant_id))
            .outerjoin(paid_q, paid_q.c.invoice_id == Invoice.id)
            .outerjoin(pending_q, pending_q.c.invoice_id == Invoice.id)
            .where(*where)
        )

    total = session.scalar(joined(select(func.count()))) or 0
    rows = session.execute(
        joined(
            select(
                Invoice,
                Party.name,
                rev.id,
                paid.label("paid"),
                pending.label("pending"),
                pay_status.label("payment_status"),
            )
        )
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = []
    for inv, party_name, reversed_by, paid_value, pending_value, p_status in rows:
        paid_dec = Decimal(paid_value)
        items.append(
            InvoiceRow(
                id=inv.id,
                direction=inv.direction,
                kind=inv.kind,
                status=display_status(inv, reversed_by),
                number=inv.number,
                external_number=inv.external_number,
                party_id=inv.party_id,
                party_name=party_name,
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                net_total=inv.net_total,
                vat_total=inv.vat_total,
                gross_total=inv.gross_total,
                paid=paid_dec,
                pending_cash=Decimal(pending_value),
                open_amount=inv.gross_total - paid_dec if p_status else ZERO,
                payment_status=p_status,
                reverses_id=inv.reverses_id,
                reversed_by_id=reversed_by,
                replaces_id=inv.replaces_id,
                booked_at=inv.booked_at,
            )
        )
    return InvoicePage(items=items, total=int(total), page=page, page_size=page_size)


# --------------------------------------------------------------------------- bulk


_CHUNK = 2000


def book_invoices_bulk(
    session: Session, tenant_id: int, drafts: Sequence[InvoiceInput], actor: str = "local"
) -> int:
    """Create and book many invoices with set-based inserts (benchmarks, imports, demo data).

    Same validation, numbers, lines, tax totals, postings and audit records as the one-by-one
    path, but a handful of statements per table instead of several per invoice.
    """
    if not drafts:
        return 0
    company = get_company(session, tenant_id)
    cats = CategoryResolver(session, tenant_id, company.chart)
    small_tenant = company.vat_regime == "small_business"
    party_ids = {d.party_id for d in drafts if d.party_id is not None}
    parties: dict[int, PartyFacts] = {}
    for start in range(0, len(party_ids), _CHUNK):
        chunk = list(party_ids)[start : start + _CHUNK]
        found = session.execute(
            select(Party.id, Party.name, Party.country, Party.vat_id).where(
                Party.tenant_id == tenant_id, Party.id.in_(chunk)
            )
        )
        parties.update(
            (pid, PartyFacts(name, vt.country_of(country), vat_id or ""))
            for pid, name, country, vat_id in found
        )
    checked: list[tuple[InvoiceInput, Checked]] = []
    for i, data in enumerate(drafts):
        try:
            if data.party_id is not None and data.party_id not in parties:
                _check_party(session, tenant_id, data.party_id)
            party = parties.get(data.party_id or 0, PartyFacts())
            check = _validate(
                session, tenant_id, data, company, cats, check_party=False, party_facts=party
            )
            result, lines = check.result, check.lines
            if data.direction == "out" and data.party_id is None:
                raise ValidationFailed(
                    "invoice.party_required",
                    _("An outgoing invoice needs a customer before it can be booked."),
                    [{"field": "party_id"}],
                )
            if not lines or result.gross <= 0:
                raise ValidationFailed(
                    "invoice.not_positive",
                    _("The invoice total must be greater than zero."),
                    [{"field": "gross_total", "value": str(result.gross)}],
                )
        except ValidationFailed as exc:
            exc.details = [{**d, "invoice_index": i} for d in exc.details] or [{"invoice_index": i}]
            raise
        checked.append((data, check))

    # gap-free numbers: one reservation per series
    wanted: dict[tuple[str, int], int] = {}
    for data, _c in checked:
        key = (data.direction, data.issue_date.year)
        wanted[key] = wanted.get(key, 0) + 1
    pools: dict[tuple[str, int], list[str]] = {}
    for (direction, year), count in sorted(wanted.items()):
        series, prefix = _number_format(direction, year)
        pools[(direction, year)] = [
            f"{prefix}{n:05d}" for n in reversed(next_numbers(session, tenant_id, series, count))
        ]

    now = utcnow()
    numbers: list[str] = []
    invoice_rows: list[dict[str, Any]] = []
    for data, check in checked:
        result = check.result
        number = pools[(data.direction, data.issue_date.year)].pop()
        numbers.append(number)
        small = _is_small_business(company, data.direction)
        invoice_rows.append(
            {
                "tenant_id": tenant_id,
                "direction": data.direction,
                "kind": "invoice",
                "status": "draft",
                "number": number,
                "external_number": data.external_number.strip(),
                "party_id": data.party_id,
                "issue_date": data.issue_date,
                "supply_date": data.supply_date,
                "due_date": data.due_date,
                "price_mode": data.price_mode,
                "small_business": small,
                "net_total": result.net,
                "vat_total": result.vat,
                "gross_total": result.gross,
                "note": _with_note(data.note, small),
                "reverses_id": None,
                "reversal_reason": None,
                "replaces_id": None,
                "booked_at": None,
                "created_at": now,
                "created_by": actor,
            }
        )
    ids: list[int] = list(
        session.scalars(
            insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), invoice_rows
        )
    )
    line_rows: list[dict[str, Any]] = []
    tax_rows: list[dict[str, Any]] = []
    posting_rows: list[dict[str, object]] = []
    writer = audit_writer(session, tenant_id, actor)
    for inv_id, number, (data, check), row in zip(ids, numbers, checked, invoice_rows, strict=True):
        result, lines = check.result, check.lines
        line_rows.extend(_line_rows(tenant_id, inv_id, lines, result.lines))
        tax_rows.extend(_tax_rows(tenant_id, inv_id, result, check.exemptions))
        postings = _posting_lines(
            cats,
            direction=data.direction,
            small_business_tenant=small_tenant,
            posting_date=data.issue_date,
            supply_date=data.supply_date or data.issue_date,
            voucher=number,
            text=_posting_text(number, check.party.name),
            lines=lines,
            amounts=result.lines,
            country=check.party.country,
        )
        posting_rows.extend(
            journal.posting_row(tenant_id, "invoice", inv_id, p) for p in postings if p.amount
        )
        row["status"] = "booked"
        row["booked_at"] = now
        snap = {k: row[k] for k in _BULK_SNAPSHOT}
        writer.record("book", "invoice", inv_id, after=snap | {"lines": len(lines)})
    session.execute(insert(InvoiceLine), line_rows)
    session.execute(insert(InvoiceTaxTotal), tax_rows)
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            update(Invoice)
            .where(Invoice.tenant_id == tenant_id, Invoice.id.in_(ids[start : start + _CHUNK]))
            .values(status="booked", booked_at=now),
            execution_options={"synchronize_session": False},
        )
    journal.post_many(session, posting_rows)
    session.flush()
    return len(ids)


_BULK_SNAPSHOT = (
    "direction",
    "kind",
    "status",
    "number",
    "external_number",
    "party_id",
    "issue_date",
    "supply_date",
    "due_date",
    "price_mode",
    "small_business",
    "net_total",
    "vat_total",
    "gross_total",
    "note",
)
