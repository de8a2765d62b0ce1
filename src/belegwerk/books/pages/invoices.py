"""Invoice pages: register with filters, draft form with line items, detail with booking,
reversal (Storno), payments and cash proposals."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from starlette.datastructures import FormData

from belegwerk.books import invoices as service
from belegwerk.books import parties, payments
from belegwerk.books import vat_treatment as vt
from belegwerk.books.categories import list_categories
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import CashProposal, Invoice
from belegwerk.books.pages.cash import category_label
from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _, babel_locale, current_locale, format_money
from belegwerk.web.ui import (
    FormDep,
    Page,
    PageDep,
    checkbox,
    decimal_input,
    parse_date,
    parse_decimal,
    parse_int,
    redirect,
    text,
)

pages = APIRouter(include_in_schema=False)

LIST_TEMPLATE = "books/invoice_list.html"
FORM_TEMPLATE = "books/invoice_form.html"
DETAIL_TEMPLATE = "books/invoice_detail.html"
PAGE_SIZE = 50
PARTY_LIMIT = 200
LINE_FIELDS = ("description", "quantity", "unit_price", "vat_rate", "vat_category", "category_id")


# --------------------------------------------------------------------------- list


@pages.get("/invoices", response_class=HTMLResponse)
def invoice_list(
    page: PageDep,
    direction: str = "",
    status: str = "",
    payment: str = "",
    q: str = "",
    page_no: Annotated[int, Query(alias="page")] = 1,
) -> HTMLResponse:
    filters = {"direction": direction, "status": status, "payment": payment, "q": q}
    query = urlencode({k: v for k, v in filters.items() if v})
    try:
        listing = service.list_invoices(
            page.session,
            page.tenant_id,
            direction=direction or None,
            status=status or None,
            payment_status=payment or None,
            search=q or None,
            page=page_no,
            page_size=PAGE_SIZE,
        )
    except BelegwerkError as exc:
        listing = service.InvoicePage()
        return page.fail(
            LIST_TEMPLATE,
            exc,
            section="invoices",
            listing=listing,
            filters=filters,
            query=query,
            pages=1,
            page_no=1,
        )
    return page.render(
        LIST_TEMPLATE,
        section="invoices",
        listing=listing,
        filters=filters,
        query=query,
        pages=max(1, math.ceil(listing.total / PAGE_SIZE)),
        page_no=listing.page,
    )


# --------------------------------------------------------------------------- form


@dataclass(frozen=True)
class CategoryChoice:
    id: int
    label: str
    direction: str  # the invoice direction it fits: out (revenue) | in (expense, asset)


def _form_context(page: Page, form: dict[str, Any], invoice_id: int | None) -> dict[str, Any]:
    rows, _total = parties.list_parties(page.session, page.tenant_id, page_size=PARTY_LIMIT)
    chosen = form.get("party_id")
    if chosen and all(str(p.id) != str(chosen) for p in rows):
        with contextlib.suppress(BelegwerkError, ValueError):
            rows.append(parties.get_party(page.session, page.tenant_id, int(chosen)))
    categories = [
        CategoryChoice(
            v.category.id, category_label(v), "out" if v.category.kind == "revenue" else "in"
        )
        for v in list_categories(page.session, page.tenant_id)
        if v.category.kind in ("revenue", "expense", "asset")
    ]
    return {
        "section": "invoices",
        "form": form,
        "invoice_id": invoice_id,
        "parties": rows,
        "categories": categories,
        "rates": ("0",) if page.nav.small_business else ("19", "7", "0"),
        "vat_categories": vt.choices(),
    }


def _blank_form(direction: str, party_id: str = "") -> dict[str, Any]:
    day = today()
    return {
        "direction": direction if direction in service.DIRECTIONS else "out",
        "party_id": party_id,
        "issue_date": day.isoformat(),
        "supply_date": "",
        "due_date": "",
        "price_mode": "net",
        "external_number": "",
        "note": "",
        "exemption_reason": "",
        "lines": [
            {
                "description": "",
                "quantity": "1",
                "unit_price": "",
                "vat_rate": "",
                "vat_category": "",
                "category_id": "",
            }
        ],
    }


def _submitted(form: FormData) -> dict[str, Any]:
    """The form as entered, line rows zipped; rows left completely empty are dropped."""
    values: dict[str, Any] = {
        k: text(form, k)
        for k in (
            "direction",
            "party_id",
            "issue_date",
            "supply_date",
            "due_date",
            "price_mode",
            "external_number",
            "note",
            "exemption_reason",
        )
    }
    columns = {name: [str(v).strip() for v in form.getlist(f"line_{name}")] for name in LINE_FIELDS}
    count = max((len(c) for c in columns.values()), default=0)
    lines = []
    for i in range(count):
        row = {name: (columns[name][i] if i < len(columns[name]) else "") for name in LINE_FIELDS}
        if row["description"] or row["unit_price"]:
            lines.append(row)
    values["lines"] = lines
    return values


def _invoice_input(values: dict[str, Any]) -> service.InvoiceInput:
    lines = []
    for i, row in enumerate(values["lines"]):
        prefix = f"lines[{i}]"
        lines.append(
            LineInput(
                description=row["description"],
                quantity=parse_decimal(row["quantity"], f"{prefix}.quantity", default=Decimal(1)),
                unit_price=parse_decimal(row["unit_price"], f"{prefix}.unit_price"),
                vat_rate=parse_decimal(row["vat_rate"], f"{prefix}.vat_rate", default=Decimal(0)),
                category_id=parse_int(row["category_id"], f"{prefix}.category_id"),
                vat_category=row.get("vat_category", ""),
            )
        )
    reason = (values.get("exemption_reason") or "").strip()
    codes = {ln.vat_category for ln in lines if ln.vat_category not in ("", vt.STANDARD)}
    if not lines:
        raise ValidationFailed(
            "invoice.no_lines",
            _("Please enter at least one line."),
            [{"field": "lines[0].description"}],
        )
    issue = parse_date(values["issue_date"], "issue_date")
    assert issue is not None
    return service.InvoiceInput(
        direction=values["direction"],
        issue_date=issue,
        lines=lines,
        price_mode=values["price_mode"] or "net",
        party_id=parse_int(values["party_id"], "party_id"),
        supply_date=parse_date(values["supply_date"], "supply_date", required=False),
        due_date=parse_date(values["due_date"], "due_date", required=False),
        external_number=values["external_number"],
        note=values["note"],
        exemptions={code: ("", reason) for code in codes} if reason else {},
    )


@pages.get("/invoices/new", response_class=HTMLResponse)
def invoice_new(page: PageDep, direction: str = "out", party_id: str = "") -> HTMLResponse:
    return page.render(FORM_TEMPLATE, **_form_context(page, _blank_form(direction, party_id), None))


@pages.post("/invoices", response_model=None)
def invoice_create(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _submitted(form)
    try:
        invoice = service.create_draft(
            page.session, page.tenant_id, _invoice_input(values), page.actor
        )
        if checkbox(form, "book_now"):
            service.book_invoice(page.session, page.tenant_id, invoice.id, page.actor)
            return redirect(f"/invoices/{invoice.id}", done="booked")
    except BelegwerkError as exc:
        return page.fail(FORM_TEMPLATE, exc, lambda: _form_context(page, values, None))
    return redirect(f"/invoices/{invoice.id}", done="invoice")


def _stored_form(page: Page, invoice_id: int) -> dict[str, Any]:
    inv = service.get_invoice(page.session, page.tenant_id, invoice_id)
    lines = service.invoice_lines(page.session, page.tenant_id, invoice_id)

    def plain(value: Decimal) -> str:
        """As typed by a person: no trailing zeros, the locale's decimal separator."""
        text = format(value.normalize(), "f")
        return text.replace(".", ",") if current_locale.get() == "de" else text

    return {
        "direction": inv.direction,
        "party_id": str(inv.party_id or ""),
        "issue_date": inv.issue_date.isoformat(),
        "supply_date": inv.supply_date.isoformat() if inv.supply_date else "",
        "due_date": inv.due_date.isoformat() if inv.due_date else "",
        "price_mode": inv.price_mode,
        "external_number": inv.external_number,
        "note": inv.note
        if not inv.small_business
        else inv.note.replace(service.SMALL_BUSINESS_NOTE, "").strip(),
        "lines": [
            {
                "description": ln.description,
                "quantity": plain(ln.quantity),
                "unit_price": plain(ln.unit_price),
                "vat_rate": str(int(ln.vat_rate)),
                "vat_category": ln.vat_category,
                "category_id": str(ln.category_id or ""),
            }
            for ln in lines
        ],
        "exemption_reason": next(
            (
                t.exemption_reason
                for t in service.tax_totals(page.session, page.tenant_id, invoice_id)
                if t.exemption_reason and t.exemption_reason_code == ""
            ),
            "",
        ),
    }


@pages.get("/invoices/{invoice_id}/edit", response_model=None)
def invoice_edit(invoice_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    inv = service.get_invoice(page.session, page.tenant_id, invoice_id)
    if inv.status != "draft":
        return redirect(f"/invoices/{invoice_id}")
    return page.render(
        FORM_TEMPLATE, **_form_context(page, _stored_form(page, invoice_id), invoice_id)
    )


@pages.post("/invoices/{invoice_id}", response_model=None)
def invoice_update(
    invoice_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    values = _submitted(form)
    try:
        service.update_draft(
            page.session, page.tenant_id, invoice_id, _invoice_input(values), page.actor
        )
        if checkbox(form, "book_now"):
            service.book_invoice(page.session, page.tenant_id, invoice_id, page.actor)
            return redirect(f"/invoices/{invoice_id}", done="booked")
    except BelegwerkError as exc:
        return page.fail(FORM_TEMPLATE, exc, lambda: _form_context(page, values, invoice_id))
    return redirect(f"/invoices/{invoice_id}", done="invoice")


# --------------------------------------------------------------------------- detail and actions


def _number(value: Decimal) -> str:
    """A quantity in the locale's format, without trailing zeros (2; 12,5; 1.000)."""
    return format_decimal(value.normalize(), format="#,##0.####", locale=babel_locale())


def _price(value: Decimal) -> str:
    """A unit price: two places, up to four when the price has them (0,1234 €)."""
    return f"{format_decimal(value, format='#,##0.00##', locale=babel_locale())} €"


def _detail_context(page: Page, invoice_id: int, **extra: Any) -> dict[str, Any]:
    session, tenant_id = page.session, page.tenant_id
    inv = service.get_invoice(session, tenant_id, invoice_id)
    reversal = service.reversal_of(session, tenant_id, invoice_id)
    original = service.get_invoice(session, tenant_id, inv.reverses_id) if inv.reverses_id else None
    party = parties.get_party(session, tenant_id, inv.party_id) if inv.party_id else None
    summary = service.payment_summary(session, tenant_id, inv, reversal is not None)
    names = {v.category.id: category_label(v) for v in list_categories(session, tenant_id)}
    replaced_by = session.scalar(
        select(Invoice.id).where(Invoice.tenant_id == tenant_id, Invoice.replaces_id == invoice_id)
    )
    ctx: dict[str, Any] = {
        "section": "invoices",
        "inv": inv,
        "status": service.display_status(inv, reversal.id if reversal else None),
        "party": party,
        "lines": service.invoice_lines(session, tenant_id, invoice_id),
        "totals": service.tax_totals(session, tenant_id, invoice_id),
        "reversal": reversal,
        "original": original,
        "replaced_by": replaced_by,
        "summary": summary,
        "payments": payments.list_payments(session, tenant_id, invoice_id)
        if inv.status == "booked"
        else [],
        "proposals": payments.list_cash_proposals(session, tenant_id, "proposed", invoice_id),
        "category_names": names,
        "vat_label": vt.label,
        "number": _number,
        "price": _price,
        "today": today(),
        "form": {
            "payment_date": today().isoformat(),
            "amount": (
                format_money(summary.open_amount - summary.pending_cash, currency=False)
                if summary.status
                else ""
            ),
            "method": "bank",
        },
    }
    ctx.update(extra)
    return ctx


@pages.get("/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice_detail(invoice_id: int, page: PageDep) -> HTMLResponse:
    return page.render(DETAIL_TEMPLATE, **_detail_context(page, invoice_id))


def _action_failed(page: Page, invoice_id: int, exc: BelegwerkError, **extra: Any) -> HTMLResponse:
    return page.fail(DETAIL_TEMPLATE, exc, lambda: _detail_context(page, invoice_id, **extra))


@pages.post("/invoices/{invoice_id}/book", response_model=None)
def invoice_book(invoice_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    try:
        service.book_invoice(page.session, page.tenant_id, invoice_id, page.actor)
    except BelegwerkError as exc:
        return _action_failed(page, invoice_id, exc)
    return redirect(f"/invoices/{invoice_id}", done="booked")


@pages.post("/invoices/{invoice_id}/delete", response_model=None)
def invoice_delete(invoice_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    try:
        service.delete_draft(page.session, page.tenant_id, invoice_id, page.actor)
    except BelegwerkError as exc:
        return _action_failed(page, invoice_id, exc)
    return redirect("/invoices", done="deleted")


@pages.post("/invoices/{invoice_id}/reverse", response_model=None)
def invoice_reverse(
    invoice_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    reason = text(form, "reason")
    try:
        day = parse_date(text(form, "reversal_date"), "reversal_date", required=False)
        if checkbox(form, "correct"):
            draft = service.correct_invoice(
                page.session, page.tenant_id, invoice_id, reason, page.actor, reversal_date=day
            )
            return redirect(f"/invoices/{draft.id}/edit", done="corrected")
        service.reverse_invoice(
            page.session, page.tenant_id, invoice_id, reason, page.actor, reversal_date=day
        )
    except BelegwerkError as exc:
        return _action_failed(
            page, invoice_id, exc, reverse_form={"reason": reason}, open_reverse=True
        )
    return redirect(f"/invoices/{invoice_id}", done="reversed")


@pages.post("/invoices/{invoice_id}/payments", response_model=None)
def invoice_payment(
    invoice_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    values = {k: text(form, k) for k in ("payment_date", "amount", "method", "reference")}
    try:
        day = parse_date(values["payment_date"], "payment_date")
        assert day is not None
        result = payments.add_payment(
            page.session,
            page.tenant_id,
            invoice_id,
            day,
            decimal_input(values["amount"]) or "",
            values["method"],
            values["reference"],
            page.actor,
        )
    except BelegwerkError as exc:
        return _action_failed(page, invoice_id, exc, form=values)
    done = "payment_proposed" if isinstance(result, CashProposal) else "payment"
    return redirect(f"/invoices/{invoice_id}", done=done)


@pages.post("/invoices/{invoice_id}/payments/{payment_id}/reverse", response_model=None)
def payment_reverse(
    invoice_id: int, payment_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    try:
        payments.reverse_payment(
            page.session, page.tenant_id, payment_id, text(form, "reason"), page.actor
        )
    except BelegwerkError as exc:
        return _action_failed(page, invoice_id, exc)
    return redirect(f"/invoices/{invoice_id}", done="payment_reversed")
