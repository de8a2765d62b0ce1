"""Bank transactions: the list with filters, marking business/private with the suggestion shown,
categories, payment matching (proposals with confidence and reasons, confirm, reject, manual
link to an open invoice, undo), and "accept all suggestions"."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import aliased

from belegwerk.banking import classify, importer, matching
from belegwerk.banking.accounts import get_account, list_accounts
from belegwerk.banking.models import (
    BankAccount,
    BankTransaction,
    Classification,
    PaymentMatch,
)
from belegwerk.banking.pages.common import (
    account_options,
    category_choices,
    fail,
    kind_labels,
    plain_money,
    reason_labels,
    render,
    source_labels,
    usage_labels,
)
from belegwerk.banking.statement import stored_raw
from belegwerk.books import invoices
from belegwerk.books import vat_treatment as vt
from belegwerk.books.models import Invoice, Party, Payment
from belegwerk.core.errors import BelegwerkError, NotFound, ValidationFailed
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import ZERO
from belegwerk.web.ui import (
    FormDep,
    Page,
    PageDep,
    decimal_input,
    local_url,
    parse_date,
    parse_int,
    text,
)

pages = APIRouter(include_in_schema=False)

LIST_TEMPLATE = "banking/transactions.html"
DETAIL_TEMPLATE = "banking/transaction_detail.html"
PAGE_SIZE = 50
OPEN_INVOICES = 500
CLASSIFIED = ("", "open", "suggested", "none", "decided")
MATCHED = ("", "linked", "proposed", "unlinked")
DIRECTIONS = ("", "in", "out")


# --------------------------------------------------------------------------- redirects


def back(next_url: str, default: str, done: str, **params: Any) -> RedirectResponse:
    """Back to the page the action came from (same site only), with a fresh flash message."""
    url = local_url(next_url, default)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", *params)]
    query.append(("done", done))
    query += [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    target = f"{parts.path}?{urlencode(query)}"
    if parts.fragment:
        target += f"#{parts.fragment}"
    return RedirectResponse(target, status_code=303)


# --------------------------------------------------------------------------- the list


@dataclass
class Filters:
    account: int | None = None
    batch: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    classified: str = ""
    matched: str = ""
    direction: str = ""

    def query(self) -> str:
        values = {
            "account": self.account,
            "batch": self.batch,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "q": self.q,
            "classified": self.classified,
            "matched": self.matched,
            "direction": self.direction,
        }
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@dataclass
class MatchInfo:
    match: PaymentMatch
    invoice_number: str
    invoice_direction: str
    party_name: str
    invoice_open: Decimal = ZERO
    reasons: list[str] = field(default_factory=list)


@dataclass
class TxRow:
    tx: BankTransaction
    account_name: str
    account_type: str
    classification: Classification | None
    linked: Decimal
    links: list[MatchInfo] = field(default_factory=list)
    proposals: list[MatchInfo] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return abs(self.tx.amount) - self.linked


def _linked_subquery(tenant_id: int) -> Any:
    """Amount linked per transaction by matches whose payment still stands."""
    rev = aliased(Payment)
    return (
        select(
            PaymentMatch.transaction_id.label("transaction_id"),
            func.sum(PaymentMatch.amount).label("linked"),
        )
        .outerjoin(
            rev, and_(rev.reverses_id == PaymentMatch.payment_id, rev.tenant_id == tenant_id)
        )
        .where(
            PaymentMatch.tenant_id == tenant_id,
            PaymentMatch.status == "linked",
            rev.id.is_(None),
        )
        .group_by(PaymentMatch.transaction_id)
        .subquery()
    )


def _proposed_subquery(tenant_id: int) -> Any:
    return (
        select(PaymentMatch.transaction_id.label("transaction_id"))
        .where(PaymentMatch.tenant_id == tenant_id, PaymentMatch.status == "proposed")
        .group_by(PaymentMatch.transaction_id)
        .subquery()
    )


def _conditions(page: Page, f: Filters, linked: Any, proposed: Any) -> list[ColumnElement[bool]]:
    tx = BankTransaction
    where: list[ColumnElement[bool]] = [tx.tenant_id == page.tenant_id]
    if f.account is not None:
        where.append(tx.account_id == f.account)
    if f.batch is not None:
        where.append(tx.batch_id == f.batch)
    if f.date_from is not None:
        where.append(tx.booking_date >= f.date_from)
    if f.date_to is not None:
        where.append(tx.booking_date <= f.date_to)
    if f.direction == "in":
        where.append(tx.amount > 0)
    elif f.direction == "out":
        where.append(tx.amount < 0)
    if f.q:
        pattern = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                tx.counterparty_name.ilike(pattern, escape="\\"),
                tx.purpose.ilike(pattern, escape="\\"),
                tx.booking_text.ilike(pattern, escape="\\"),
                tx.counterparty_iban.ilike(pattern.replace(" ", ""), escape="\\"),
                tx.end_to_end_ref.ilike(pattern, escape="\\"),
            )
        )
    if f.classified == "open":
        where.append(or_(Classification.id.is_(None), Classification.confirmed.is_(False)))
    elif f.classified == "suggested":
        where.append(Classification.confirmed.is_(False))
    elif f.classified == "none":
        where.append(Classification.id.is_(None))
    elif f.classified == "decided":
        where.append(Classification.confirmed.is_(True))
    if f.matched == "linked":
        where.append(linked.c.linked.is_not(None))
    elif f.matched == "proposed":
        where.append(proposed.c.transaction_id.is_not(None))
    elif f.matched == "unlinked":
        where.append(linked.c.linked.is_(None))
    return where


def _match_infos(page: Page, ids: list[int]) -> dict[int, list[MatchInfo]]:
    if not ids:
        return {}
    rows = page.session.execute(
        select(PaymentMatch, Invoice.number, Invoice.direction, Party.name)
        .join(
            Invoice,
            and_(Invoice.id == PaymentMatch.invoice_id, Invoice.tenant_id == page.tenant_id),
        )
        .outerjoin(Party, Party.id == Invoice.party_id)
        .where(
            PaymentMatch.tenant_id == page.tenant_id,
            PaymentMatch.transaction_id.in_(ids),
            PaymentMatch.status.in_(("proposed", "linked")),
        )
        .order_by(PaymentMatch.confidence.desc(), PaymentMatch.id)
    ).all()
    opens = matching.open_amounts(page.session, page.tenant_id, [m.invoice_id for m, *_r in rows])
    out: dict[int, list[MatchInfo]] = {}
    for m, number, direction, party in rows:
        reasons = json.loads(m.reasons or "[]")
        out.setdefault(m.transaction_id, []).append(
            MatchInfo(
                match=m,
                invoice_number=number or "",
                invoice_direction=direction,
                party_name=party or "",
                invoice_open=opens.get(m.invoice_id, ZERO),
                reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
            )
        )
    return out


def list_rows(page: Page, f: Filters, page_no: int) -> tuple[list[TxRow], int, int]:
    """One page of rows (a page beyond the end shows the last one), the total and the page."""
    tx = BankTransaction
    linked = _linked_subquery(page.tenant_id)
    proposed = _proposed_subquery(page.tenant_id)

    def joined(query: Any) -> Any:
        return (
            query.select_from(tx)
            .join(BankAccount, BankAccount.id == tx.account_id)
            .outerjoin(Classification, Classification.transaction_id == tx.id)
            .outerjoin(linked, linked.c.transaction_id == tx.id)
            .outerjoin(proposed, proposed.c.transaction_id == tx.id)
            .where(*_conditions(page, f, linked, proposed))
        )

    total = int(page.session.scalar(joined(select(func.count(tx.id)))) or 0)
    page_no = min(page_no, max(1, math.ceil(total / PAGE_SIZE)))
    result = page.session.execute(
        joined(
            select(tx, Classification, BankAccount.name, BankAccount.account_type, linked.c.linked)
        )
        .order_by(tx.booking_date.desc(), tx.batch_id.desc(), tx.line_no, tx.id)
        .offset((page_no - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    infos = _match_infos(page, [r[0].id for r in result])
    rows = []
    for t, c, name, account_type, linked_amount in result:
        matches = infos.get(t.id, [])
        rows.append(
            TxRow(
                tx=t,
                account_name=name,
                account_type=account_type,
                classification=c,
                linked=Decimal(linked_amount) if linked_amount is not None else ZERO,
                links=[m for m in matches if m.match.status == "linked"],
                proposals=[m for m in matches if m.match.status == "proposed"],
            )
        )
    return rows, total, page_no


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValidationFailed(
            "request.invalid_filter",
            _("Invalid filter {name}: {value}").format(name=name, value=value),
            [{"field": name, "value": value}],
        )
    return value


def _filters(
    account: str,
    batch: str,
    date_from: str,
    date_to: str,
    q: str,
    classified: str,
    matched: str,
    direction: str,
) -> Filters:
    return Filters(
        account=parse_int(account, "account"),
        batch=parse_int(batch, "batch"),
        date_from=parse_date(date_from, "from", required=False),
        date_to=parse_date(date_to, "to", required=False),
        q=q.strip()[:200],
        classified=_choice(classified, CLASSIFIED, "classified"),
        matched=_choice(matched, MATCHED, "matched"),
        direction=_choice(direction, DIRECTIONS, "direction"),
    )


def _shared(page: Page) -> dict[str, Any]:
    categories = category_choices(page)
    return {
        "section": "bank_transactions",
        "usage_labels": usage_labels(),
        "source_labels": source_labels(),
        "reason_labels": reason_labels(),
        "categories": categories,
        "category_names": {c.id: c.label for c in categories},
        "kinds": kind_labels(),
    }


def _list_context(
    page: Page, f: Filters, page_no: int, raw: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    rows, total, page_no = list_rows(page, f, page_no)
    pages_total = max(1, math.ceil(total / PAGE_SIZE))
    accounts = list_accounts(page.session, page.tenant_id)
    open_suggestions = page.session.scalar(
        select(func.count(Classification.id))
        .join(BankTransaction, BankTransaction.id == Classification.transaction_id)
        .where(
            Classification.tenant_id == page.tenant_id,
            Classification.confirmed.is_(False),
            *([BankTransaction.batch_id == f.batch] if f.batch is not None else []),
        )
    )
    batch = importer.get_batch(page.session, page.tenant_id, f.batch) if f.batch else None
    query = f.query()
    return {
        **_shared(page),
        "rows": rows,
        "total": total,
        "page_no": page_no,
        "pages": pages_total,
        "filters": raw if raw is not None else _raw_filters(f),
        "f": f,
        "query": query,
        "here": "/bank/transactions" + (f"?{query}" if query else ""),
        "account_options": account_options(accounts),
        "open_suggestions": int(open_suggestions or 0),
        "batch": batch,
        **extra,
    }


def _raw_filters(f: Filters) -> dict[str, str]:
    return {
        "account": str(f.account or ""),
        "batch": str(f.batch or ""),
        "from": f.date_from.isoformat() if f.date_from else "",
        "to": f.date_to.isoformat() if f.date_to else "",
        "q": f.q,
        "classified": f.classified,
        "matched": f.matched,
        "direction": f.direction,
    }


@pages.get("/bank/transactions", response_class=HTMLResponse)
def transaction_list(
    page: PageDep,
    account: str = "",
    batch: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    q: str = "",
    classified: str = "",
    matched: str = "",
    direction: str = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    raw = {
        "account": account,
        "batch": batch,
        "from": date_from,
        "to": date_to,
        "q": q,
        "classified": classified,
        "matched": matched,
        "direction": direction,
    }
    try:
        f = _filters(account, batch, date_from, date_to, q, classified, matched, direction)
        if f.batch is not None:
            importer.get_batch(page.session, page.tenant_id, f.batch)
        if f.account is not None:
            get_account(page.session, page.tenant_id, f.account)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page, Filters(), 1, raw))
    return render(page, LIST_TEMPLATE, **_list_context(page, f, page_no))


# --------------------------------------------------------------------------- the detail


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    label: str
    open_amount: Decimal


def open_invoices_for(page: Page, tx: BankTransaction) -> list[OpenInvoice]:
    """Invoices the transaction can pay: money in pays sales, money out purchase invoices."""
    direction = "out" if tx.amount > 0 else "in"
    listing = invoices.list_invoices(
        page.session, page.tenant_id, direction=direction, status="booked", page_size=OPEN_INVOICES
    )
    return [
        OpenInvoice(
            r.id,
            " · ".join(
                p
                for p in (
                    r.number or "",
                    r.external_number,
                    r.party_name or "",
                    _("open {amount}").format(amount=format_money(r.open_amount)),
                )
                if p
            ),
            r.open_amount,
        )
        for r in listing.items
        if r.payment_status in ("open", "partial") and r.open_amount > 0
    ]


def _detail_context(page: Page, transaction_id: int, **extra: Any) -> dict[str, Any]:
    tx = importer.get_transaction(page.session, page.tenant_id, transaction_id)
    account = get_account(page.session, page.tenant_id, tx.account_id)
    view = matching.transaction_matches(page.session, page.tenant_id, tx.id)
    cls = classify.classification_of(page.session, page.tenant_id, tx.id)
    infos = _match_infos(page, [tx.id]).get(tx.id, [])
    paying = any(m.match.status == "linked" for m in infos)
    history = [m for m in view.matches if m.match.status in ("rejected", "undone")]
    batch = importer.get_batch(page.session, page.tenant_id, tx.batch_id)
    context: dict[str, Any] = {
        **_shared(page),
        "tx": tx,
        "account": account,
        "batch": batch,
        "c": cls,
        "raw": stored_raw(tx.raw, batch.raw_layout),
        "links": [m for m in infos if m.match.status == "linked"],
        "proposals": [m for m in infos if m.match.status == "proposed"],
        "history": history,
        "linked": view.linked,
        "remaining": view.remaining,
        "invoice_options": [
            (str(i.id), i.label)
            for i in (open_invoices_for(page, tx) if view.remaining > 0 else [])
        ],
        "form": {
            "usage": cls.usage if cls else ("business" if paying else ""),
            "category_id": str(cls.category_id or "") if cls else "",
            "vat_category": cls.vat_category if cls else "S",
            "amount": plain_money(view.remaining) if view.remaining > 0 else "",
            "invoice_id": "",
        },
        "next_url": f"/bank/transactions/{tx.id}",
        "vat_categories": vt.choices(vt.BANK_CODES),
    }
    context.update(extra)
    return context


@pages.get("/bank/transactions/{transaction_id}", response_class=HTMLResponse)
def transaction_detail(transaction_id: int, page: PageDep) -> HTMLResponse:
    return render(page, DETAIL_TEMPLATE, **_detail_context(page, transaction_id))


def _detail_failed(
    page: Page, transaction_id: int, exc: BelegwerkError, **extra: Any
) -> HTMLResponse:
    def build() -> dict[str, Any]:
        context = _detail_context(page, transaction_id)
        if "form" in extra:
            context["form"] = {**context["form"], **extra.pop("form")}
        return {**context, **extra}

    return fail(page, DETAIL_TEMPLATE, exc, build)


# --------------------------------------------------------------------------- actions


@pages.post("/bank/transactions/{transaction_id}/decide", response_model=None)
def decide(transaction_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    usage = text(form, "usage")
    category = text(form, "category_id")
    vat_category = text(form, "vat_category") or None
    importer.get_transaction(page.session, page.tenant_id, transaction_id)  # 404 first
    try:
        if not usage:
            raise ValidationFailed(
                "bank.usage_missing",
                _("Please choose business, private, private withdrawal or private deposit."),
                [{"field": "usage"}],
            )
        category_id = parse_int(category, "category_id") if usage == "business" else None
        classify.decide(
            page.session,
            page.tenant_id,
            transaction_id,
            usage,
            category_id,
            actor=page.actor,
            vat_category=vat_category if usage == "business" else None,
        )
    except BelegwerkError as exc:
        return _detail_failed(
            page,
            transaction_id,
            exc,
            form={"usage": usage, "category_id": category, "vat_category": vat_category or "S"},
        )
    return back(text(form, "next"), f"/bank/transactions/{transaction_id}", "decided")


@pages.post("/bank/transactions/accept", response_model=None)
def accept_all(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    next_url = text(form, "next")
    try:
        batch_id = parse_int(text(form, "batch"), "batch")
        result = classify.accept_all(page.session, page.tenant_id, batch_id, actor=page.actor)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page, Filters(), 1))
    return back(next_url, "/bank/transactions", "accepted", skipped=len(result.skipped) or None)


@pages.post("/bank/transactions/match", response_model=None)
def match_all(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    try:
        matching.match_transactions(page.session, page.tenant_id, actor=page.actor)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page, Filters(), 1))
    return back(text(form, "next"), "/bank/transactions", "matched")


@pages.post("/bank/transactions/{transaction_id}/match", response_model=None)
def match_one(transaction_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    importer.get_transaction(page.session, page.tenant_id, transaction_id)
    try:
        matching.match_transactions(
            page.session, page.tenant_id, [transaction_id], actor=page.actor
        )
    except BelegwerkError as exc:
        return _detail_failed(page, transaction_id, exc)
    return back(text(form, "next"), f"/bank/transactions/{transaction_id}", "matched")


@pages.post("/bank/transactions/{transaction_id}/link", response_model=None)
def link(transaction_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = {"invoice_id": text(form, "invoice_id"), "amount": text(form, "amount")}
    importer.get_transaction(page.session, page.tenant_id, transaction_id)
    try:
        invoice_id = parse_int(values["invoice_id"], "invoice_id")
        if invoice_id is None:
            raise ValidationFailed(
                "bank.invoice_missing", _("Please choose an invoice."), [{"field": "invoice_id"}]
            )
        amount = decimal_input(values["amount"])
        if not amount:
            amount = str(
                matching.transaction_matches(page.session, page.tenant_id, transaction_id).remaining
            )
        matching.link_transaction(
            page.session, page.tenant_id, transaction_id, invoice_id, amount, actor=page.actor
        )
    except BelegwerkError as exc:
        return _detail_failed(page, transaction_id, exc, form=values)
    return back(text(form, "next"), f"/bank/transactions/{transaction_id}", "linked")


@pages.post("/bank/matches/{match_id}/{decision}", response_model=None)
def decide_match(
    match_id: int, decision: str, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    match = matching.get_match(page.session, page.tenant_id, match_id)
    if decision not in ("confirm", "reject", "undo"):
        raise NotFound("http.404", _("Not found."))
    transaction_id = match.transaction_id
    values = {"amount": text(form, "amount"), "reason": text(form, "reason")}
    try:
        if decision == "confirm":
            amount = decimal_input(values["amount"]) or None
            matching.confirm_match(
                page.session, page.tenant_id, match_id, amount=amount, actor=page.actor
            )
            done = "linked"
        elif decision == "reject":
            matching.reject_match(page.session, page.tenant_id, match_id, actor=page.actor)
            done = "rejected"
        else:
            matching.undo_match(
                page.session, page.tenant_id, match_id, values["reason"], actor=page.actor
            )
            done = "undone"
    except BelegwerkError as exc:
        return _detail_failed(
            page, transaction_id, exc, open_undo=match_id if decision == "undo" else None
        )
    return back(text(form, "next"), f"/bank/transactions/{transaction_id}", done)
