"""Rules for business and private: the list in priority order (first match wins), create, edit,
delete, move up and down."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from belegwerk.banking import rules as service
from belegwerk.banking.models import Rule
from belegwerk.banking.pages.common import (
    category_choices,
    fail,
    kind_labels,
    plain_money,
    render,
    usage_labels,
)
from belegwerk.core.errors import BelegwerkError, NotFound
from belegwerk.core.i18n import _
from belegwerk.web.ui import (
    FormDep,
    Page,
    PageDep,
    checkbox,
    decimal_input,
    parse_int,
    redirect,
    text,
)

pages = APIRouter(include_in_schema=False)

LIST_TEMPLATE = "banking/rules.html"
FORM_TEMPLATE = "banking/rule_form.html"
TEXT_FIELDS = (
    "name",
    "counterparty_pattern",
    "purpose_pattern",
    "iban",
    "amount_min",
    "amount_max",
    "direction",
    "usage",
    "category_id",
)


def _shared(page: Page) -> dict[str, Any]:
    categories = category_choices(page)
    return {
        "section": "bank_rules",
        "usage_labels": usage_labels(),
        "categories": categories,
        "category_names": {c.id: c.label for c in categories},
        "kinds": kind_labels(),
    }


def _blank() -> dict[str, Any]:
    return {"usage": "business", "direction": "", "active": True}


def _list_context(page: Page, form: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **_shared(page),
        "rules": service.list_rules(page.session, page.tenant_id),
        "form": form or _blank(),
    }


def _values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: text(form, k) for k in TEXT_FIELDS}
    values["active"] = checkbox(form, "active")
    return values


def _input(values: dict[str, Any], priority: int | None = None) -> service.RuleInput:
    usage = values["usage"] or "business"
    return service.RuleInput(
        name=values["name"],
        usage=usage,
        category_id=parse_int(values["category_id"], "category_id")
        if usage == "business"
        else None,
        counterparty_pattern=values["counterparty_pattern"],
        purpose_pattern=values["purpose_pattern"],
        iban=values["iban"],
        amount_min=decimal_input(values["amount_min"]) or None,
        amount_max=decimal_input(values["amount_max"]) or None,
        direction=values["direction"],
        active=bool(values["active"]),
        priority=priority,
    )


@pages.get("/bank/rules", response_class=HTMLResponse)
def rule_list(page: PageDep) -> HTMLResponse:
    return render(page, LIST_TEMPLATE, **_list_context(page))


@pages.post("/bank/rules", response_model=None)
def rule_create(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _values(form)
    try:
        service.create_rule(page.session, page.tenant_id, _input(values), page.actor)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page, values))
    return redirect("/bank/rules", done="rule_created")


def _stored(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "counterparty_pattern": rule.counterparty_pattern,
        "purpose_pattern": rule.purpose_pattern,
        "iban": rule.iban,
        "amount_min": plain_money(rule.amount_min) if rule.amount_min is not None else "",
        "amount_max": plain_money(rule.amount_max) if rule.amount_max is not None else "",
        "direction": rule.direction,
        "usage": rule.usage,
        "category_id": str(rule.category_id or ""),
        "active": rule.active,
    }


@pages.get("/bank/rules/{rule_id}", response_class=HTMLResponse)
def rule_edit(rule_id: int, page: PageDep) -> HTMLResponse:
    rule = service.get_rule(page.session, page.tenant_id, rule_id)
    return render(page, FORM_TEMPLATE, **_shared(page), rule=rule, form=_stored(rule))


@pages.post("/bank/rules/{rule_id}", response_model=None)
def rule_update(rule_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = _values(form)
    service.get_rule(page.session, page.tenant_id, rule_id)  # 404 first
    try:
        service.update_rule(page.session, page.tenant_id, rule_id, _input(values), page.actor)
    except BelegwerkError as exc:

        def build() -> dict[str, Any]:
            rule = service.get_rule(page.session, page.tenant_id, rule_id)
            return {**_shared(page), "rule": rule, "form": values}

        return fail(page, FORM_TEMPLATE, exc, build)
    return redirect("/bank/rules", done="rule_saved")


@pages.post("/bank/rules/{rule_id}/delete", response_model=None)
def rule_delete(rule_id: int, page: PageDep) -> HTMLResponse | RedirectResponse:
    service.get_rule(page.session, page.tenant_id, rule_id)
    try:
        service.delete_rule(page.session, page.tenant_id, rule_id, page.actor)
    except BelegwerkError as exc:
        return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page))
    return redirect("/bank/rules", done="rule_deleted")


@pages.post("/bank/rules/{rule_id}/move/{direction}", response_model=None)
def rule_move(rule_id: int, direction: str, page: PageDep) -> HTMLResponse | RedirectResponse:
    """One place up or down; the whole order is stored again so priorities stay distinct."""
    if direction not in ("up", "down"):
        raise NotFound("http.404", _("Not found."))
    ids = [r.id for r in service.list_rules(page.session, page.tenant_id)]
    if rule_id not in ids:
        service.get_rule(page.session, page.tenant_id, rule_id)  # raises the 404
    i = ids.index(rule_id)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        try:
            service.reorder_rules(page.session, page.tenant_id, ids, page.actor)
        except BelegwerkError as exc:
            return fail(page, LIST_TEMPLATE, exc, lambda: _list_context(page))
    return redirect("/bank/rules", done="rule_moved")
