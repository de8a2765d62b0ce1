"""Customers and suppliers: list with search, create and edit form."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from belegwerk.books import parties as service
from belegwerk.core.errors import BelegwerkError
from belegwerk.web.ui import FormDep, PageDep, checkbox, parse_int, redirect, text

pages = APIRouter(include_in_schema=False)

LIST_TEMPLATE = "books/party_list.html"
FORM_TEMPLATE = "books/party_form.html"
PAGE_SIZE = 50
TEXT_FIELDS = (
    "name",
    "street",
    "postal_code",
    "city",
    "country",
    "email",
    "vat_id",
    "iban",
    "bic",
    "leitweg_id",
)


@pages.get("/parties", response_class=HTMLResponse)
def party_list(
    page: PageDep,
    role: str = "",
    q: str = "",
    page_no: Annotated[int, Query(alias="page")] = 1,
) -> HTMLResponse:
    rows, total = service.list_parties(
        page.session,
        page.tenant_id,
        role=role or None,
        q=q or None,
        page=page_no,
        page_size=PAGE_SIZE,
    )
    return page.render(
        LIST_TEMPLATE,
        section="parties",
        rows=rows,
        total=total,
        page_no=page_no,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        filters={"role": role, "q": q},
    )


def _values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: text(form, k) for k in TEXT_FIELDS}
    values["is_customer"] = checkbox(form, "is_customer")
    values["is_supplier"] = checkbox(form, "is_supplier")
    values["public_authority"] = checkbox(form, "public_authority")
    values["customer_number"] = text(form, "customer_number")
    values["supplier_number"] = text(form, "supplier_number")
    return values


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    typed = dict(values)
    for key in ("customer_number", "supplier_number"):
        typed[key] = parse_int(values[key], key)
    typed["country"] = (values["country"] or "DE").upper()
    return typed


@pages.get("/parties/new", response_class=HTMLResponse)
def party_new(page: PageDep, role: str = "customer") -> HTMLResponse:
    form = {"country": "DE", "is_customer": role != "supplier", "is_supplier": role == "supplier"}
    return page.render(FORM_TEMPLATE, section="parties", form=form, party=None)


@pages.post("/parties", response_model=None)
def party_create(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _values(form)
    try:
        party = service.create_party(
            page.session, page.tenant_id, service.PartyData(**_typed(values)), page.actor
        )
    except BelegwerkError as exc:
        return page.fail(
            FORM_TEMPLATE,
            exc,
            section="parties",
            form=values,
            party=None,
            next_url=text(form, "next"),
        )
    back = text(form, "next")
    if back.startswith("/invoices/new"):
        return redirect(back, party_id=party.id)
    return redirect(f"/parties/{party.id}", done="party")


@pages.get("/parties/{party_id}", response_class=HTMLResponse)
def party_edit(party_id: int, page: PageDep) -> HTMLResponse:
    party = service.get_party(page.session, page.tenant_id, party_id)
    form = {f: getattr(party, f) for f in service.PARTY_FIELDS}
    for key in ("customer_number", "supplier_number", "vat_id", "iban", "bic"):
        form[key] = "" if form[key] is None else form[key]
    return page.render(FORM_TEMPLATE, section="parties", form=form, party=party)


@pages.post("/parties/{party_id}", response_model=None)
def party_update(party_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _values(form)
    try:
        changes = _typed(values)
        for key in ("customer_number", "supplier_number"):
            if changes[key] is None:
                changes.pop(key)  # keep (or newly assign) the automatic number
        service.update_party(page.session, page.tenant_id, party_id, changes, page.actor)
    except BelegwerkError as exc:

        def build() -> dict[str, Any]:
            party = service.get_party(page.session, page.tenant_id, party_id)
            return {"section": "parties", "form": values, "party": party}

        return page.fail(FORM_TEMPLATE, exc, build)
    return redirect(f"/parties/{party_id}", done="party")
