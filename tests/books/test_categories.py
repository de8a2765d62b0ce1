"""Master categories (seed = CSV), per-tenant account overrides (audited) and the REST API."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from belegwerk.books.categories import (
    account_for,
    category_by_key,
    clear_override,
    list_categories,
    master_specs,
    set_override,
)
from belegwerk.books.models import Category, CategoryOverride
from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import session_factory
from belegwerk.core.errors import NotFound, ValidationFailed

# The lines of the official form "Jobcenter-EKS 04/2025" (Tabelle A and B).
EKS_LINES = {
    "A1", "A2", "A3", "A4", "A5.1", "A5.2", "A5.3",
    "B1", "B2.1", "B2.2", "B2.3", "B2.4", "B3", "B4", "B5",
    "B6.1", "B6.2", "B6.3", "B6.4", "B6.5", "B7.1", "B7.2", "B7.3", "B8", "B9", "B10",
    "B11", "B12", "B13", "B14.1", "B14.2", "B14.3", "B14.4", "B14.5", "B15", "B16", "B17", "B18",
}  # fmt: skip
# Kennzahlen of the Anlage EÜR 2024/2025 the categories may use (docs/categories.md).
EUER_KZ = {
    "100", "103", "110", "111", "112", "120", "122", "123", "130", "144", "145", "146",
    "150", "175", "183", "186", "194", "221", "223", "224", "225", "234", "280", "281",
}  # fmt: skip
# Expense/revenue categories allowed to lack an account; none today (see docs/categories.md).
WITHOUT_ACCOUNTS: set[str] = set()


def _session(engine: Engine, tenant_id: int) -> Session:
    s = session_factory(engine)()
    s.info["tenant_id"] = tenant_id
    return s


def _audit(session: Session, tenant_id: int, entity: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, AuditEntry.entity == entity)
            .order_by(AuditEntry.seq)
        )
    )


# --- master data -----------------------------------------------------------------------------


def test_seed_matches_csv(session: Session) -> None:
    rows = {c.key: c for c in session.scalars(select(Category))}
    specs = master_specs()
    assert set(rows) == {s.key for s in specs}
    for spec in specs:
        row = rows[spec.key]
        for field, value in spec.__dict__.items():
            assert getattr(row, field) == value, (spec.key, field)


def test_every_expense_and_revenue_category_has_both_accounts() -> None:
    for spec in master_specs():
        if spec.kind in ("expense", "revenue") and spec.key not in WITHOUT_ACCOUNTS:
            assert spec.skr03_account and spec.skr04_account, spec.key


def test_master_values_are_well_formed() -> None:
    keys = [s.key for s in master_specs()]
    assert len(keys) == len(set(keys))
    for spec in master_specs():
        assert spec.kind in ("expense", "revenue", "private", "asset", "transfer"), spec.key
        for account in (spec.skr03_account, spec.skr04_account):
            assert account is None or re.fullmatch(r"[0-9]{4}", account), spec.key
        assert spec.eks_line is None or spec.eks_line in EKS_LINES, spec.key
        assert spec.euer_kz is None or spec.euer_kz in EUER_KZ, spec.key
        assert spec.default_vat_rate in (Decimal(0), Decimal(7), Decimal(19)), spec.key
        if spec.default_vat_rate == 0:
            assert not spec.input_vat_deductible, spec.key
        if spec.kind == "revenue":
            assert not spec.input_vat_deductible, spec.key


def test_verified_accounts_of_the_issue_corrections() -> None:
    """The RechnungsPilot errors named in the issue stay corrected (docs/categories.md)."""
    by_key = {s.key: s for s in master_specs()}
    expected = {
        "revenue_small_business": ("8195", "4185", "A1", "111"),
        "interest": ("2100", "7300", "B15", "234"),
        "private_withdrawal": ("1800", "2100", None, "122"),
        "private_deposit": ("1890", "2180", None, "123"),
        "office_supplies": ("4930", "6815", "B10", "183"),
        "postage": ("4910", "6800", "B10", "183"),
        "telecom": ("4920", "6805", "B11", "280"),
        "consulting": ("4950", "6825", "B12", "194"),
        "training": ("4945", "6821", "B13", "281"),
        "car_tax": ("4510", "7685", "B6.1", "145"),
        "car_insurance": ("4520", "6520", "B6.2", "145"),
        "insurance": ("4360", "6400", "B4", "223"),
        "advertising": ("4600", "6600", "B5", "224"),
        "entertainment": ("4650", "6640", "B14.5", "175"),
        "bank_fees": ("4970", "6855", "B14.3", "183"),
        "loan_repayment": ("0630", "3150", "B16", None),
    }
    for key, (skr03, skr04, eks, kz) in expected.items():
        spec = by_key[key]
        assert (spec.skr03_account, spec.skr04_account, spec.eks_line, spec.euer_kz) == (
            skr03,
            skr04,
            eks,
            kz,
        ), key


def test_private_money_is_no_eks_income() -> None:
    by_key = {s.key: s for s in master_specs()}
    assert by_key["private_withdrawal"].eks_line is None
    assert by_key["private_deposit"].eks_line is None
    assert all(s.eks_line not in ("A2", "A4") for s in master_specs())
    assert by_key["car_depreciation"].eks_line is None  # the EKS has no depreciation


# --- overrides -------------------------------------------------------------------------------


def test_list_shows_master_accounts_of_the_tenant_chart(
    engine: Engine, make_tenant: Callable[..., int]
) -> None:
    for chart in ("skr03", "skr04"):
        tid = make_tenant(chart=chart)
        with _session(engine, tid) as s:
            views = list_categories(s, tid)
            assert len(views) == len(master_specs())
            rev = next(v for v in views if v.category.key == "revenue_19")
            assert rev.chart == chart
            assert rev.account == ("8400" if chart == "skr03" else "4400")
            assert rev.override_skr03 is None and rev.override_skr04 is None


def test_override_changes_effective_account_and_is_audited(
    session: Session, tenant_id: int
) -> None:
    revenue = category_by_key(session, "revenue_19")
    view = set_override(session, tenant_id, revenue.id, skr03_account="8401", actor="tester")
    assert view.account == "8401"
    assert view.effective_skr03 == "8401"
    assert view.effective_skr04 == "4400"  # the other chart keeps the master account
    assert account_for(session, tenant_id, revenue, "skr03") == "8401"
    assert account_for(session, tenant_id, revenue, "skr04") == "4400"
    session.commit()

    set_override(session, tenant_id, revenue.id, skr03_account="8402", skr04_account="4402")
    entries = _audit(session, tenant_id, "category_override")
    assert [e.action for e in entries] == ["update", "update"]
    assert entries[0].actor == "tester"
    assert entries[0].before is None
    assert '"skr03_account":"8401"' in (entries[0].after or "")
    assert '"skr03_account":"8401"' in (entries[1].before or "")
    assert '"skr04_account":"4402"' in (entries[1].after or "")

    view = clear_override(session, tenant_id, revenue.id)
    assert view.account == "8400"
    assert account_for(session, tenant_id, revenue, "skr04") == "4400"
    entries = _audit(session, tenant_id, "category_override")
    assert entries[-1].action == "delete"
    assert '"skr03_account":"8402"' in (entries[-1].before or "")
    assert entries[-1].after is None
    session.commit()


def test_override_is_per_tenant(engine: Engine, make_tenant: Callable[..., int]) -> None:
    a, b = make_tenant(chart="skr03"), make_tenant(chart="skr03")
    with _session(engine, a) as s:
        cat = category_by_key(s, "consulting")
        set_override(s, a, cat.id, skr03_account="4951")
        s.commit()
    with _session(engine, b) as s:
        cat = category_by_key(s, "consulting")
        assert account_for(s, b, cat, "skr03") == "4950"
        assert next(v for v in list_categories(s, b) if v.category.id == cat.id).account == "4950"


@pytest.mark.parametrize("bad", ["84a1", "123", "123456789", " ", "8400-1"])
def test_invalid_account_refused_and_nothing_stored(
    session: Session, tenant_id: int, bad: str
) -> None:
    cat = category_by_key(session, "rent")
    with pytest.raises(ValidationFailed) as exc:
        set_override(session, tenant_id, cat.id, skr04_account=bad)
    assert exc.value.code == "category.invalid_account"
    assert exc.value.details[0]["field"] == "skr04_account"
    session.rollback()
    assert (
        session.scalar(select(CategoryOverride).where(CategoryOverride.tenant_id == tenant_id))
        is None
    )
    assert _audit(session, tenant_id, "category_override") == []


def test_override_needs_an_account_and_a_known_category(session: Session, tenant_id: int) -> None:
    cat = category_by_key(session, "rent")
    with pytest.raises(ValidationFailed) as exc:
        set_override(session, tenant_id, cat.id)
    assert exc.value.code == "category.override_empty"
    with pytest.raises(NotFound) as nf:
        set_override(session, tenant_id, 999_999, skr03_account="4210")
    assert nf.value.code == "category.not_found"
    with pytest.raises(NotFound) as none:
        clear_override(session, tenant_id, cat.id)
    assert none.value.code == "category.no_override"


def test_eight_digit_accounts_are_accepted(session: Session, tenant_id: int) -> None:
    cat = category_by_key(session, "rent")
    view = set_override(session, tenant_id, cat.id, skr03_account="42100001")
    assert view.account == "42100001"


# --- REST API --------------------------------------------------------------------------------


def _by_key(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(i for i in items if i["key"] == key)


def test_api_list_and_get(client: Any) -> None:
    r = client.get("/api/v1/categories")
    assert r.status_code == 200
    items = r.json()
    assert len(items) == len(master_specs())
    rev = _by_key(items, "revenue_19")
    assert rev["name_de"] == "Betriebseinnahmen 19 %"
    assert rev["kind"] == "revenue"
    assert rev["chart"] == "skr03"
    assert rev["account"] == "8400"
    assert rev["master_skr03_account"] == "8400" and rev["master_skr04_account"] == "4400"
    assert rev["effective_skr04_account"] == "4400"
    assert rev["override_skr03_account"] is None
    assert rev["default_vat_rate"] == "19.00"  # decimal string, never a float
    assert rev["input_vat_deductible"] is False
    assert rev["eks_line"] == "A1" and rev["euer_kz"] == "112"

    one = client.get(f"/api/v1/categories/{rev['id']}")
    assert one.status_code == 200
    assert one.json() == rev

    expenses = client.get("/api/v1/categories", params={"kind": "expense"}).json()
    assert expenses and all(i["kind"] == "expense" for i in expenses)


def test_api_override_roundtrip(client: Any) -> None:
    rev = _by_key(client.get("/api/v1/categories").json(), "revenue_19")
    r = client.put(f"/api/v1/categories/{rev['id']}/override", json={"skr03_account": "8401"})
    assert r.status_code == 200
    body = r.json()
    assert body["account"] == "8401"
    assert body["override_skr03_account"] == "8401"
    assert body["master_skr03_account"] == "8400"
    assert body["effective_skr04_account"] == "4400"
    assert _by_key(client.get("/api/v1/categories").json(), "revenue_19")["account"] == "8401"

    r = client.delete(f"/api/v1/categories/{rev['id']}/override")
    assert r.status_code == 200
    assert r.json()["account"] == "8400"
    assert client.delete(f"/api/v1/categories/{rev['id']}/override").status_code == 404


def test_api_errors(client: Any) -> None:
    rev = _by_key(client.get("/api/v1/categories").json(), "revenue_19")
    r = client.put(f"/api/v1/categories/{rev['id']}/override", json={"skr03_account": "84x"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "category.invalid_account"
    assert err["message"]
    assert err["details"] == [{"field": "skr03_account", "value": "84x"}]
    assert _by_key(client.get("/api/v1/categories").json(), "revenue_19")["account"] == "8400"

    r = client.put(f"/api/v1/categories/{rev['id']}/override", json={"chart": "skr03"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "request.invalid"

    r = client.get("/api/v1/categories/999999")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "category.not_found"

    r = client.get("/api/v1/categories", params={"kind": "nonsense"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "category.invalid_kind"
