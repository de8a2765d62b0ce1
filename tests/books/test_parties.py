"""Customers and suppliers: DATEV number ranges, validation, audited updates, search, API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from belegwerk.books.models import NumberSequence, Party
from belegwerk.books.parties import (
    PartyData,
    create_party,
    find_by_iban,
    find_by_name,
    find_by_vat_id,
    get_party,
    list_parties,
    update_party,
)
from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import session_factory
from belegwerk.core.errors import BelegwerkError, Conflict, NotFound, ValidationFailed

IBAN = "DE89370400440532013000"
VAT_ID = "DE136695976"


def _count(session: Session, tenant_id: int) -> int:
    return session.scalar(select(func.count()).where(Party.tenant_id == tenant_id)) or 0


def _audit(session: Session, tenant_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "party")
            .order_by(AuditEntry.seq)
        )
    )


# --- numbers ---------------------------------------------------------------------------------


def test_numbers_are_assigned_from_the_datev_ranges(session: Session, tenant_id: int) -> None:
    c1 = create_party(session, tenant_id, PartyData(name="Kunde A", is_customer=True))
    c2 = create_party(session, tenant_id, PartyData(name="Kunde B", is_customer=True))
    s1 = create_party(session, tenant_id, PartyData(name="Lieferant A", is_supplier=True))
    both = create_party(
        session, tenant_id, PartyData(name="Beides", is_customer=True, is_supplier=True)
    )
    session.commit()
    assert (c1.customer_number, c1.supplier_number) == (10000, None)
    assert (c2.customer_number, c2.supplier_number) == (10001, None)
    assert (s1.customer_number, s1.supplier_number) == (None, 70000)
    assert (both.customer_number, both.supplier_number) == (10002, 70001)


def test_explicit_numbers_in_range_and_duplicates(session: Session, tenant_id: int) -> None:
    given = create_party(
        session, tenant_id, PartyData(name="Vorgabe", is_customer=True, customer_number=10001)
    )
    assert given.customer_number == 10001
    auto1 = create_party(session, tenant_id, PartyData(name="Auto 1", is_customer=True))
    auto2 = create_party(session, tenant_id, PartyData(name="Auto 2", is_customer=True))
    assert (auto1.customer_number, auto2.customer_number) == (10000, 10002)  # 10001 skipped
    session.commit()

    with pytest.raises(Conflict) as exc:
        create_party(
            session, tenant_id, PartyData(name="Doppelt", is_customer=True, customer_number=10002)
        )
    assert exc.value.code == "party.number_taken"
    assert exc.value.details == [{"field": "customer_number", "value": 10002}]
    session.rollback()
    assert _count(session, tenant_id) == 3


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (PartyData(name="X", is_customer=True, customer_number=9999), "party.number_out_of_range"),
        (PartyData(name="X", is_customer=True, customer_number=70000), "party.number_out_of_range"),
        (PartyData(name="X", is_supplier=True, supplier_number=69999), "party.number_out_of_range"),
        (
            PartyData(name="X", is_supplier=True, supplier_number=100000),
            "party.number_out_of_range",
        ),
        (PartyData(name="X", is_supplier=True, customer_number=10005), "party.number_without_role"),
        (PartyData(name="X"), "party.no_role"),
        (PartyData(name="   ", is_customer=True), "party.name_required"),
        (PartyData(name="X" * 201, is_customer=True), "party.field_too_long"),
        (PartyData(name="X", is_customer=True, email="kein-at"), "party.invalid_email"),
        (PartyData(name="X", is_customer=True, country="Deutschland"), "party.invalid_country"),
        (PartyData(name="X", is_customer=True, bic="NOTABIC!"), "bic.invalid"),
    ],
)
def test_bad_input_is_refused(session: Session, tenant_id: int, data: PartyData, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        create_party(session, tenant_id, data)
    assert exc.value.code == code
    assert exc.value.message
    session.rollback()
    assert _count(session, tenant_id) == 0


def test_invalid_iban_and_vat_id_store_nothing(session: Session, tenant_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        create_party(session, tenant_id, PartyData(name="A", is_supplier=True, iban="DE00123"))
    assert exc.value.code == "iban.invalid"
    assert exc.value.details[0]["field"] == "iban"
    with pytest.raises(ValidationFailed) as exc:
        create_party(
            session, tenant_id, PartyData(name="A", is_supplier=True, vat_id=VAT_ID[:-1] + "0")
        )
    assert exc.value.code == "vat_id.invalid"
    assert exc.value.details[0]["field"] == "vat_id"
    session.rollback()
    assert _count(session, tenant_id) == 0
    # validation happens before a number is drawn: the range is untouched
    assert (
        session.scalar(select(NumberSequence).where(NumberSequence.tenant_id == tenant_id)) is None
    )


def test_values_are_normalised(session: Session, tenant_id: int) -> None:
    p = create_party(
        session,
        tenant_id,
        PartyData(
            name="  Müller GmbH ",
            is_supplier=True,
            iban="de89 3704 0044 0532 0130 00",
            bic="cobadeffxxx",
            vat_id="de 136 695 976",
            country="at",
            email=" info@mueller.example ",
        ),
    )
    assert p.name == "Müller GmbH"
    assert p.iban == IBAN
    assert p.bic == "COBADEFFXXX"
    assert p.vat_id == VAT_ID
    assert p.country == "AT"
    assert p.email == "info@mueller.example"


# --- update, get, isolation ------------------------------------------------------------------


def test_update_is_audited_with_before_and_after(
    engine: Engine, session: Session, tenant_id: int
) -> None:
    p = create_party(
        session, tenant_id, PartyData(name="Alt", is_customer=True, city="Bonn"), actor="anna"
    )
    session.commit()
    # one actor per session (the audit writer is cached per session), as in a request
    with session_factory(engine)() as other:
        other.info["tenant_id"] = tenant_id
        update_party(other, tenant_id, p.id, {"city": "Köln", "name": "Neu"}, actor="bert")
        update_party(other, tenant_id, p.id, {"city": "Köln"}, actor="bert")  # no change
        other.commit()
        entries = _audit(other, tenant_id)
    assert [e.action for e in entries] == ["create", "update"]  # no row for the no-op
    assert entries[0].actor == "anna"
    assert json.loads(entries[0].after or "{}")["customer_number"] == 10000
    assert entries[1].actor == "bert"
    assert json.loads(entries[1].before or "{}") == {"city": "Bonn", "name": "Alt"}
    assert json.loads(entries[1].after or "{}") == {"city": "Köln", "name": "Neu"}


def test_update_adds_role_number_and_validates(session: Session, tenant_id: int) -> None:
    p = create_party(session, tenant_id, PartyData(name="Kunde", is_customer=True))
    other = create_party(session, tenant_id, PartyData(name="Lieferant", is_supplier=True))
    updated = update_party(session, tenant_id, p.id, {"is_supplier": True})
    assert (updated.customer_number, updated.supplier_number) == (10000, 70001)
    session.commit()

    for changes, code in [
        ({"iban": "DE00"}, "iban.invalid"),
        ({"vat_id": "DE123456789"}, "vat_id.invalid"),
        ({"name": ""}, "party.name_required"),
        ({"is_customer": False, "is_supplier": False}, "party.no_role"),
        ({"supplier_number": other.supplier_number}, "party.number_taken"),
        ({"colour": "blue"}, "party.unknown_field"),
    ]:
        with pytest.raises(BelegwerkError) as exc:
            update_party(session, tenant_id, p.id, changes)
        assert exc.value.code == code, changes
        session.rollback()
    fresh = get_party(session, tenant_id, p.id)
    assert (fresh.name, fresh.iban, fresh.supplier_number) == ("Kunde", "", 70001)


def test_parties_are_tenant_scoped(engine: Engine, make_tenant: Callable[..., int]) -> None:
    a, b = make_tenant(), make_tenant()
    with session_factory(engine)() as s:
        s.info["tenant_id"] = a
        pid = create_party(s, a, PartyData(name="Nur A", is_customer=True)).id
        s.commit()
    with session_factory(engine)() as s:
        s.info["tenant_id"] = b
        with pytest.raises(NotFound) as exc:
            get_party(s, b, pid)
        assert exc.value.code == "party.not_found"
        # each tenant has its own number range
        assert create_party(s, b, PartyData(name="B", is_customer=True)).customer_number == 10000
        assert list_parties(s, b)[1] == 1


# --- search and matching helpers -------------------------------------------------------------


def test_search_by_name_number_role_and_paging(session: Session, tenant_id: int) -> None:
    names = ["Alpha Büro", "Beta Druck", "Gamma Büro", "Delta_Test", "100% Service"]
    for i, name in enumerate(names):
        create_party(session, tenant_id, PartyData(name=name, is_customer=True, is_supplier=i == 1))
    session.commit()

    rows, total = list_parties(session, tenant_id, q="büro")
    assert total == 2 and [r.name for r in rows] == ["Alpha Büro", "Gamma Büro"]
    rows, total = list_parties(session, tenant_id, q="10002")
    assert total == 1 and rows[0].name == "Gamma Büro"
    rows, total = list_parties(session, tenant_id, q="70000")
    assert total == 1 and rows[0].name == "Beta Druck"
    assert list_parties(session, tenant_id, q="_")[1] == 1  # LIKE wildcards are literal
    assert list_parties(session, tenant_id, q="%")[1] == 1
    assert list_parties(session, tenant_id, role="supplier")[1] == 1
    assert list_parties(session, tenant_id, role="customer")[1] == 5

    page1, total = list_parties(session, tenant_id, page=1, page_size=2)
    page3, _ = list_parties(session, tenant_id, page=3, page_size=2)
    assert total == 5
    assert [p.name for p in page1] == ["100% Service", "Alpha Büro"]
    assert [p.name for p in page3] == ["Gamma Büro"]
    with pytest.raises(ValidationFailed) as exc:
        list_parties(session, tenant_id, role="friend")
    assert exc.value.code == "party.invalid_role"


def test_find_by_vat_id_iban_and_name(session: Session, tenant_id: int) -> None:
    p = create_party(
        session,
        tenant_id,
        PartyData(name="Stadtwerke Musterstadt", is_supplier=True, vat_id=VAT_ID, iban=IBAN),
    )
    create_party(session, tenant_id, PartyData(name="Andere", is_supplier=True))
    assert [x.id for x in find_by_vat_id(session, tenant_id, "de 136695976")] == [p.id]
    assert [x.id for x in find_by_iban(session, tenant_id, "DE89 3704 0044 0532 0130 00")] == [p.id]
    assert [x.id for x in find_by_name(session, tenant_id, " stadtwerke musterstadt ")] == [p.id]
    assert find_by_vat_id(session, tenant_id, "kaputt") == []
    assert find_by_iban(session, tenant_id, "") == []
    assert find_by_name(session, tenant_id, "Stadtwerke") == []


# --- REST API --------------------------------------------------------------------------------


def test_api_create_get_update_list(client: Any) -> None:
    r = client.post(
        "/api/v1/parties",
        json={"name": "Kunde API", "is_customer": True, "iban": IBAN, "vat_id": VAT_ID},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["customer_number"] == 10000 and body["supplier_number"] is None
    assert body["iban"] == IBAN and body["vat_id"] == VAT_ID and body["country"] == "DE"

    got = client.get(f"/api/v1/parties/{body['id']}")
    assert got.status_code == 200 and got.json()["name"] == "Kunde API"

    r = client.put(f"/api/v1/parties/{body['id']}", json={"city": "Berlin", "is_supplier": True})
    assert r.status_code == 200
    assert r.json()["city"] == "Berlin" and r.json()["supplier_number"] == 70000

    client.post("/api/v1/parties", json={"name": "Lieferant API", "is_supplier": True})
    page = client.get("/api/v1/parties", params={"role": "supplier", "q": "api"}).json()
    assert page["total"] == 2 and page["page"] == 1
    assert [i["name"] for i in page["items"]] == ["Kunde API", "Lieferant API"]
    assert client.get("/api/v1/parties", params={"q": "10000"}).json()["total"] == 1


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"name": "X", "is_supplier": True, "iban": "DE00 1234"}, 422, "iban.invalid", "iban"),
        ({"name": "X", "is_supplier": True, "vat_id": "DE12"}, 422, "vat_id.invalid", "vat_id"),
        ({"name": "", "is_customer": True}, 422, "party.name_required", "name"),
        ({"is_customer": True}, 422, "request.invalid", "body.name"),
        ({"name": "X", "is_customer": True, "fax": "1"}, 422, "request.invalid", "body.fax"),
    ],
)
def test_api_error_shape_and_nothing_stored(
    client: Any, payload: dict[str, Any], status: int, code: str, field: str
) -> None:
    r = client.post("/api/v1/parties", json=payload)
    assert r.status_code == status
    err = r.json()["error"]
    assert set(err) == {"code", "message", "details"}
    assert err["code"] == code
    assert err["message"]
    assert err["details"][0]["field"] == field
    assert client.get("/api/v1/parties").json()["total"] == 0


def test_api_conflict_and_not_found(client: Any) -> None:
    ok = client.post(
        "/api/v1/parties", json={"name": "A", "is_customer": True, "customer_number": 12345}
    )
    assert ok.status_code == 201
    r = client.post(
        "/api/v1/parties", json={"name": "B", "is_customer": True, "customer_number": 12345}
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "party.number_taken"
    assert client.get("/api/v1/parties").json()["total"] == 1

    r = client.get("/api/v1/parties/999999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "party.not_found"
    r = client.put("/api/v1/parties/999999", json={"name": "C"})
    assert r.status_code == 404
    r = client.get("/api/v1/parties", params={"role": "friend"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "party.invalid_role"
