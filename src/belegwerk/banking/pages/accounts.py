"""Bank and PayPal accounts: list with balances, create and edit form."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import BigInteger, func, select, type_coerce
from starlette.datastructures import FormData

from belegwerk.banking import accounts as service
from belegwerk.banking.models import BankAccount, BankTransaction
from belegwerk.banking.pages.common import account_type_labels, render
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import current_locale
from belegwerk.core.money import from_cents
from belegwerk.web.ui import (
    FormDep,
    Page,
    PageDep,
    decimal_input,
    local_url,
    parse_date,
    redirect,
    text,
)

pages = APIRouter(include_in_schema=False)

LIST_TEMPLATE = "banking/accounts.html"
FORM_TEMPLATE = "banking/account_form.html"
TEXT_FIELDS = (
    "kind",
    "name",
    "iban",
    "bic",
    "bank_name",
    "email",
    "account_type",
    "currency",
    "opening_balance",
    "opening_date",
    "ledger_account",
)


class AccountRow:
    """An account with what its imported lines add up to."""

    def __init__(
        self, account: BankAccount, lines: int, last: date | None, moved: Decimal, ledger: str
    ) -> None:
        self.account = account
        self.lines = lines
        self.last_booking = last
        self.balance = account.opening_balance + moved
        self.ledger = ledger


def account_rows(page: Page) -> list[AccountRow]:
    tx = BankTransaction
    sums = {
        account_id: (int(count or 0), last, int(total or 0))
        for account_id, count, last, total in page.session.execute(
            select(
                tx.account_id,
                func.count(tx.id),
                func.max(tx.booking_date),
                func.sum(type_coerce(tx.amount, BigInteger)),
            )
            .where(tx.tenant_id == page.tenant_id)
            .group_by(tx.account_id)
        )
    }
    rows = []
    for account in service.list_accounts(page.session, page.tenant_id):
        count, last, cents = sums.get(account.id, (0, None, 0))
        ledger = service.ledger_account(page.session, page.tenant_id, account)
        rows.append(AccountRow(account, count, last, from_cents(cents), ledger))
    return rows


@pages.get("/bank/accounts", response_class=HTMLResponse)
def account_list(page: PageDep) -> HTMLResponse:
    return render(
        page,
        LIST_TEMPLATE,
        section="bank_accounts",
        rows=account_rows(page),
        type_labels=account_type_labels(),
    )


def _values(form: FormData) -> dict[str, Any]:
    return {k: text(form, k) for k in TEXT_FIELDS}


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    typed = dict(values)
    typed["opening_balance"] = decimal_input(values["opening_balance"]) or "0"
    typed["opening_date"] = parse_date(values["opening_date"], "opening_date", required=False)
    typed["kind"] = values["kind"] or "bank"
    typed["account_type"] = values["account_type"] or "business"
    if typed["kind"] == "paypal":
        typed["iban"] = ""
    else:
        typed["email"] = ""
    return typed


def _form_context(
    form: dict[str, Any], account: BankAccount | None, next_url: str = ""
) -> dict[str, Any]:
    return {
        "section": "bank_accounts",
        "form": form,
        "account": account,
        "next_url": next_url,
        "type_labels": account_type_labels(),
    }


def _plain(value: Decimal) -> str:
    text_value = format(value, "f")
    return text_value.replace(".", ",") if current_locale.get() == "de" else text_value


@pages.get("/bank/accounts/new", response_class=HTMLResponse)
def account_new(page: PageDep, iban: str = "", kind: str = "bank", next: str = "") -> HTMLResponse:
    form = {
        "kind": "paypal" if kind == "paypal" else "bank",
        "iban": iban,
        "account_type": "business",
        "currency": "EUR",
    }
    return render(page, FORM_TEMPLATE, **_form_context(form, None, next))


@pages.post("/bank/accounts", response_model=None)
def account_create(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _values(form)
    next_url = local_url(text(form, "next"), "")
    try:
        data = service.AccountData(**_typed(values))
        account = service.create_account(page.session, page.tenant_id, data, page.actor)
    except BelegwerkError as exc:
        return page.fail(FORM_TEMPLATE, exc, lambda: _form_context(values, None, next_url))
    if next_url:
        return redirect(next_url, done="account_created", account=account.id)
    return redirect("/bank/accounts", done="account_created")


@pages.get("/bank/accounts/{account_id}", response_class=HTMLResponse)
def account_edit(account_id: int, page: PageDep) -> HTMLResponse:
    account = service.get_account(page.session, page.tenant_id, account_id)
    form = {
        "kind": account.kind,
        "name": account.name,
        "iban": account.iban or "",
        "bic": account.bic,
        "bank_name": account.bank_name,
        "email": account.email,
        "account_type": account.account_type,
        "currency": account.currency,
        "opening_balance": _plain(account.opening_balance),
        "opening_date": account.opening_date.isoformat() if account.opening_date else "",
        "ledger_account": account.ledger_account,
    }
    return render(page, FORM_TEMPLATE, **_form_context(form, account))


@pages.post("/bank/accounts/{account_id}", response_model=None)
def account_update(
    account_id: int, page: PageDep, form: FormDep
) -> HTMLResponse | RedirectResponse:
    values = _values(form)
    try:
        changes = _typed(values)
        current = service.get_account(page.session, page.tenant_id, account_id)
        changes["kind"] = current.kind  # the kind is fixed once created
        if current.kind == "paypal":
            changes["iban"] = ""
        else:
            changes["email"] = current.email
        service.update_account(page.session, page.tenant_id, account_id, changes, page.actor)
    except BelegwerkError as exc:

        def build() -> dict[str, Any]:
            account = service.get_account(page.session, page.tenant_id, account_id)
            return _form_context({**values, "kind": account.kind}, account)

        return page.fail(FORM_TEMPLATE, exc, build)
    return redirect("/bank/accounts", done="account_saved")
