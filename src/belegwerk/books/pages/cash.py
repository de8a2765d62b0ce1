"""Cash book pages: opening balance, entry form, list with running balance, reversal,
cash proposals from invoices paid in cash."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from belegwerk.books import cash, closing
from belegwerk.books.categories import CategoryView, list_categories
from belegwerk.books.models import CashProposal, Invoice, Party
from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import current_locale
from belegwerk.web.ui import (
    FormDep,
    Page,
    PageDep,
    checkbox,
    decimal_input,
    local_url,
    parse_date,
    parse_int,
    redirect,
    text,
)

pages = APIRouter(include_in_schema=False)

TEMPLATE = "books/cash.html"
PAGE_SIZE = 50
RATES = ("19", "7", "0")


@dataclass(frozen=True)
class CategoryOption:
    id: int
    label: str
    kind: str
    direction: str
    rate: str
    deductible: bool


def category_label(view: CategoryView) -> str:
    c = view.category
    return c.name_de if current_locale.get() == "de" else c.name_en


def _direction_of(view: CategoryView) -> str:
    c = view.category
    if c.kind == "revenue" or c.key == "private_deposit":
        return "income"
    if c.kind == "transfer":
        return ""  # either way: to the bank or from it
    return "expense"


def category_options(page: Page) -> list[CategoryOption]:
    return [
        CategoryOption(
            id=v.category.id,
            label=category_label(v),
            kind=v.category.kind,
            direction=_direction_of(v),
            rate=str(int(v.category.default_vat_rate)),
            deductible=v.category.input_vat_deductible,
        )
        for v in list_categories(page.session, page.tenant_id)
    ]


@dataclass(frozen=True)
class ProposalRow:
    proposal: CashProposal
    invoice_number: str
    party_name: str


def pending_proposals(page: Page) -> list[ProposalRow]:
    """Cash payments of invoices waiting to be confirmed into the cash book."""
    rows = page.session.execute(
        select(CashProposal, Invoice.number, Party.name)
        .join(Invoice, Invoice.id == CashProposal.invoice_id)
        .outerjoin(Party, Party.id == Invoice.party_id)
        .where(CashProposal.tenant_id == page.tenant_id, CashProposal.status == "proposed")
        .order_by(CashProposal.proposal_date, CashProposal.id)
    ).all()
    return [ProposalRow(p, number or "", name or "") for p, number, name in rows]


def _context(
    page: Page, form: dict[str, Any] | None = None, page_no: int | None = None
) -> dict[str, Any]:
    session, tenant_id = page.session, page.tenant_id
    opening = cash.get_opening(session, tenant_id)
    day = today()
    ctx: dict[str, Any] = {
        "section": "cash",
        "opening": opening,
        "today": day,
        "form": form
        or {
            "entry_date": day.isoformat(),
            "direction": "expense",
            "amount_mode": "gross",
            "input_vat_deductible": True,
            "opening_date": day.isoformat(),
        },
        "rates": ("0",) if page.nav.small_business else RATES,
    }
    if opening is None:
        return ctx
    first = cash.list_cash_entries(session, tenant_id, page=1, page_size=PAGE_SIZE)
    pages_total = max(1, math.ceil(first.total / PAGE_SIZE))
    number = pages_total if page_no is None else min(max(page_no, 1), pages_total)
    listing = (
        first
        if number == 1
        else cash.list_cash_entries(session, tenant_id, page=number, page_size=PAGE_SIZE)
    )
    options = category_options(page)
    ctx.update(
        listing=listing,
        page_no=number,
        pages=pages_total,
        balance=cash.cash_balance(session, tenant_id, day),
        categories=options,
        category_names={o.id: o.label for o in options},
        last_closing=cash.last_closing_date(session, tenant_id),
        reminder=closing.missing_closing_reminder(session, tenant_id, day),
        proposals=pending_proposals(page),
        voucher=cash.voucher_text,
    )
    return ctx


@pages.get("/cash", response_class=HTMLResponse)
def cash_book(
    page: PageDep, page_no: Annotated[int | None, Query(alias="page")] = None
) -> HTMLResponse:
    return page.render(TEMPLATE, **_context(page, page_no=page_no))


@pages.post("/cash/opening", response_model=None)
def set_opening(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = {k: text(form, k) for k in ("opening_date", "opening_amount")}
    try:
        day = parse_date(values["opening_date"], "opening_date")
        assert day is not None
        cash.set_opening_balance(
            page.session,
            page.tenant_id,
            day,
            decimal_input(values["opening_amount"]) or "0",
            actor=page.actor,
        )
    except BelegwerkError as exc:
        if exc.details and exc.details[0].get("field") == "amount":
            exc.details[0]["field"] = "opening_amount"
        return page.fail(TEMPLATE, exc, lambda: _context(page, form=values))
    return redirect("/cash", done="opening")


ENTRY_FIELDS = (
    "entry_date",
    "description",
    "category_id",
    "direction",
    "amount",
    "amount_mode",
    "vat_rate",
)


@pages.post("/cash/entries", response_model=None)
def create_entry(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values: dict[str, Any] = {k: text(form, k) for k in ENTRY_FIELDS}
    values["input_vat_deductible"] = checkbox(form, "input_vat_deductible")
    try:
        day = parse_date(values["entry_date"], "entry_date")
        assert day is not None
        category_id = parse_int(values["category_id"], "category_id")
        data = cash.CashEntryInput(
            entry_date=day,
            description=values["description"],
            category_id=category_id or 0,
            direction=values["direction"],
            amount=decimal_input(values["amount"]) or None,
            amount_mode=values["amount_mode"] or "gross",
            vat_rate=decimal_input(values["vat_rate"]) or None,
            input_vat_deductible=values["input_vat_deductible"],
        )
        entry = cash.create_cash_entry(page.session, page.tenant_id, data, actor=page.actor)
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page, form=values))
    return redirect("/cash", done="entry", voucher=cash.voucher_text(entry.voucher_number))


@pages.post("/cash/entries/{entry_id}/reverse", response_model=None)
def reverse_entry(entry_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    reason = text(form, "reason")
    try:
        cash.reverse_cash_entry(page.session, page.tenant_id, entry_id, reason, actor=page.actor)
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: {**_context(page), "reverse_id": entry_id})
    return redirect("/cash", done="entry_reversed")


@pages.post("/cash/proposals/{proposal_id}/{decision}", response_model=None)
def decide_proposal(
    proposal_id: int, decision: str, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    from belegwerk.books import payments

    try:
        if decision == "confirm":
            day = parse_date(text(form, "entry_date"), "entry_date", required=False)
            payments.confirm_cash_proposal(
                page.session, page.tenant_id, proposal_id, entry_date=day, actor=page.actor
            )
            done = "proposal_confirmed"
        elif decision == "reject":
            payments.reject_cash_proposal(
                page.session, page.tenant_id, proposal_id, actor=page.actor
            )
            done = "proposal_rejected"
        else:
            from belegwerk.core.errors import NotFound
            from belegwerk.core.i18n import _

            raise NotFound("http.404", _("Not found."))
    except BelegwerkError as exc:
        return page.fail(TEMPLATE, exc, lambda: _context(page))
    return redirect(local_url(text(form, "next"), "/cash"), done=done)
