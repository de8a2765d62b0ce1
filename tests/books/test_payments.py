"""Payments: bank/card/PayPal at once, cash via confirmed proposals, reversals, REST API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books.cash import cash_balance, reverse_cash_entry, set_opening_balance
from belegwerk.books.invoices import (
    book_invoice,
    create_draft,
    get_invoice,
    list_invoices,
    payment_summary,
    reverse_invoice,
)
from belegwerk.books.models import CashEntry, CashProposal, Invoice, Party, Payment, Posting
from belegwerk.books.payments import (
    add_payment,
    confirm_cash_proposal,
    list_cash_proposals,
    list_payments,
    reject_cash_proposal,
    reverse_payment,
)
from belegwerk.core.audit import verify_chain
from belegwerk.core.db import session_factory, tenant_session
from belegwerk.core.errors import Conflict, ValidationFailed
from tests.books.test_invoices import inp, ln, make_party

D = Decimal
TODAY = date.today()
ISSUED = TODAY - timedelta(days=20)
PAID = TODAY - timedelta(days=5)


def booked_invoice(
    session: Session,
    tenant_id: int,
    price: str = "100.00",
    direction: str = "out",
    rate: str = "19",
    **kw: Any,
) -> Invoice:
    party = make_party(session, tenant_id)
    draft = create_draft(
        session,
        tenant_id,
        inp([ln(price, rate)], direction=direction, party_id=party, issue=ISSUED, **kw),
    )
    return book_invoice(session, tenant_id, draft.id)


def payment_postings(session: Session, tenant_id: int, payment_id: int) -> list[Posting]:
    return list(
        session.scalars(
            select(Posting)
            .where(
                Posting.tenant_id == tenant_id,
                Posting.source_type == "payment",
                Posting.source_id == payment_id,
            )
            .order_by(Posting.id)
        )
    )


def status(session: Session, tenant_id: int, inv: Invoice) -> tuple[Decimal, Decimal, str | None]:
    s = payment_summary(session, tenant_id, inv)
    return s.paid, s.open_amount, s.status


@pytest.mark.parametrize(
    ("chart", "bank", "transit", "receivables"),
    [("skr03", "1200", "1360", "1400"), ("skr04", "1800", "1460", "1200")],
)
def test_bank_and_card_payments_post_money_against_receivables(
    make_tenant: Callable[..., int],
    engine: Engine,
    chart: str,
    bank: str,
    transit: str,
    receivables: str,
) -> None:
    tenant_id = make_tenant(chart=chart)
    with tenant_session(tenant_id, engine) as session:
        inv = booked_invoice(session, tenant_id)  # 119.00
        assert status(session, tenant_id, inv) == (D("0.00"), D("119.00"), "open")
        p1 = add_payment(session, tenant_id, inv.id, PAID, "100.00", "bank", "SEPA 1")
        assert isinstance(p1, Payment)
        assert status(session, tenant_id, inv) == (D("100.00"), D("19.00"), "partial")
        p2 = add_payment(session, tenant_id, inv.id, PAID, D("19.00"), "card")
        assert isinstance(p2, Payment)
        assert status(session, tenant_id, inv) == (D("119.00"), D("0.00"), "paid")
        (a,) = payment_postings(session, tenant_id, p1.id)
        (b,) = payment_postings(session, tenant_id, p2.id)
        assert (a.debit_account, a.credit_account, a.amount, a.tax_amount) == (
            bank,
            receivables,
            D("100.00"),
            D("0.00"),
        )
        assert (b.debit_account, b.credit_account, b.amount) == (transit, receivables, D("19.00"))
        assert a.voucher == inv.number and a.posting_date == PAID
        assert verify_chain(session, tenant_id) == []


@pytest.mark.parametrize(
    ("chart", "payables", "transit"), [("skr03", "1600", "1360"), ("skr04", "3300", "1460")]
)
def test_paying_an_incoming_invoice_debits_payables(
    make_tenant: Callable[..., int], engine: Engine, chart: str, payables: str, transit: str
) -> None:
    tenant_id = make_tenant(chart=chart)
    with tenant_session(tenant_id, engine) as session:
        inv = booked_invoice(session, tenant_id, "50.00", direction="in")
        p = add_payment(session, tenant_id, inv.id, PAID, "59.50", "paypal")
        (post,) = payment_postings(session, tenant_id, p.id)
        assert (post.debit_account, post.credit_account, post.amount) == (
            payables,
            transit,
            D("59.50"),
        )
        paid = list_invoices(session, tenant_id, payment_status="paid")
        assert [r.id for r in paid.items] == [inv.id]


def test_bad_payments_are_refused(session: Session, tenant_id: int) -> None:
    inv = booked_invoice(session, tenant_id)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": "119.01"}, "payment.overpaid"),
        ({"amount": "0"}, "payment.not_positive"),
        ({"amount": "-5"}, "money.negative"),
        ({"amount": "1.001"}, "money.too_many_decimals"),
        ({"amount": "zehn"}, "money.not_a_number"),
        ({"method": "cheque"}, "payment.unknown_method"),
        ({"payment_date": TODAY + timedelta(days=4000)}, "date.too_far_in_future"),
    ]
    for change, code in cases:
        args: dict[str, Any] = {"payment_date": PAID, "amount": "10.00", "method": "bank"} | change
        with pytest.raises(ValidationFailed) as exc:
            add_payment(session, tenant_id, inv.id, **args)
        assert exc.value.code == code, change
    assert (
        session.scalar(
            select(func.count()).select_from(Payment).where(Payment.tenant_id == tenant_id)
        )
        == 0
    )


def test_payments_only_on_booked_live_invoices(session: Session, tenant_id: int) -> None:
    draft = create_draft(session, tenant_id, inp([ln()], issue=ISSUED))
    with pytest.raises(Conflict) as exc:
        add_payment(session, tenant_id, draft.id, PAID, "1.00", "bank")
    assert exc.value.code == "payment.invoice_not_booked"
    inv = booked_invoice(session, tenant_id)
    rev = reverse_invoice(session, tenant_id, inv.id, "Doppelt erfasst")
    with pytest.raises(Conflict) as exc:
        add_payment(session, tenant_id, inv.id, PAID, "1.00", "bank")
    assert exc.value.code == "payment.invoice_reversed"
    with pytest.raises(Conflict) as exc:
        add_payment(session, tenant_id, rev.id, PAID, "1.00", "bank")
    assert exc.value.code == "payment.invoice_is_reversal"


def test_reverse_payment_then_invoice(session: Session, tenant_id: int) -> None:
    inv = booked_invoice(session, tenant_id)
    p = add_payment(session, tenant_id, inv.id, PAID, "119.00", "bank")
    assert isinstance(p, Payment)
    with pytest.raises(Conflict) as exc:
        reverse_invoice(session, tenant_id, inv.id, "Kunde storniert")
    assert exc.value.code == "invoice.has_payments"
    with pytest.raises(ValidationFailed) as vexc:
        reverse_payment(session, tenant_id, p.id, "")
    assert vexc.value.code == "reason.missing"
    rev = reverse_payment(session, tenant_id, p.id, "Rücklastschrift")
    assert (rev.reverses_id, rev.amount, rev.reversal_reason) == (
        p.id,
        D("119.00"),
        "Rücklastschrift",
    )
    assert status(session, tenant_id, inv) == (D("0.00"), D("119.00"), "open")
    (orig,) = payment_postings(session, tenant_id, p.id)
    (mirror,) = payment_postings(session, tenant_id, rev.id)
    assert (mirror.debit_account, mirror.credit_account, mirror.amount, mirror.reverses_id) == (
        orig.credit_account,
        orig.debit_account,
        orig.amount,
        orig.id,
    )
    with pytest.raises(Conflict) as exc:
        reverse_payment(session, tenant_id, p.id, "nochmal")
    assert exc.value.code == "payment.already_reversed"
    with pytest.raises(Conflict) as exc:
        reverse_payment(session, tenant_id, rev.id, "Storno vom Storno")
    assert exc.value.code == "payment.is_reversal"
    rows = list_payments(session, tenant_id, inv.id)
    assert [(r.payment.id, r.reversed_by_id) for r in rows] == [(p.id, rev.id), (rev.id, None)]
    reverse_invoice(session, tenant_id, inv.id, "Kunde storniert")
    assert verify_chain(session, tenant_id) == []


def test_raw_sql_cannot_change_payments(engine: Engine, tenant_id: int) -> None:
    with tenant_session(tenant_id, engine) as s:
        inv = booked_invoice(s, tenant_id)
        pid = add_payment(s, tenant_id, inv.id, PAID, "10.00", "bank").id
    for sql in (
        "UPDATE payments SET amount = 1 WHERE id = :id",
        "DELETE FROM payments WHERE id = :id",
    ):
        session = session_factory(engine)()
        session.info["tenant_id"] = tenant_id
        try:
            with pytest.raises(DBAPIError):
                session.execute(text(sql), {"id": pid})
        finally:
            session.rollback()
            session.close()


# --------------------------------------------------------------------------- cash


def _open_cash(session: Session, tenant_id: int, amount: str = "0.00") -> None:
    set_opening_balance(session, tenant_id, ISSUED - timedelta(days=10), D(amount))


def test_partial_payments_in_cash_and_by_bank(session: Session, tenant_id: int) -> None:
    _open_cash(session, tenant_id)
    inv = booked_invoice(session, tenant_id)  # 119.00
    proposal = add_payment(session, tenant_id, inv.id, PAID, "50.00", "cash")
    assert isinstance(proposal, CashProposal) and proposal.status == "proposed"
    assert (
        session.scalar(
            select(func.count()).select_from(Payment).where(Payment.invoice_id == inv.id)
        )
        == 0
    )
    summary = payment_summary(session, tenant_id, inv)
    assert (summary.paid, summary.pending_cash, summary.status) == (D("0.00"), D("50.00"), "open")
    # the pending proposal counts against the open amount, so nothing can be overpaid later
    with pytest.raises(ValidationFailed) as exc:
        add_payment(session, tenant_id, inv.id, PAID, "70.00", "bank")
    assert exc.value.code == "payment.overpaid"
    add_payment(session, tenant_id, inv.id, PAID, "69.00", "bank")
    assert list_cash_proposals(session, tenant_id) == [proposal]

    confirmed = confirm_cash_proposal(session, tenant_id, proposal.id)
    assert confirmed.status == "confirmed" and confirmed.decided_at is not None
    payment = session.get(Payment, confirmed.payment_id)
    entry = session.get(CashEntry, confirmed.cash_entry_id)
    assert payment is not None and entry is not None
    assert (payment.method, payment.amount, payment.payment_date) == ("cash", D("50.00"), PAID)
    assert (entry.direction, entry.gross, entry.invoice_id, entry.payment_id) == (
        "income",
        D("50.00"),
        inv.id,
        payment.id,
    )
    assert payment_postings(session, tenant_id, payment.id) == []  # the cash entry posts
    (cash_post,) = session.scalars(
        select(Posting).where(Posting.source_type == "cash_entry", Posting.source_id == entry.id)
    ).all()
    assert (cash_post.debit_account, cash_post.credit_account, cash_post.amount) == (
        "1000",
        "1400",
        D("50.00"),
    )
    assert cash_balance(session, tenant_id, TODAY) == D("50.00")
    assert status(session, tenant_id, inv) == (D("119.00"), D("0.00"), "paid")
    with pytest.raises(Conflict) as cexc:
        confirm_cash_proposal(session, tenant_id, proposal.id)
    assert cexc.value.code == "cash_proposal.already_decided"
    assert verify_chain(session, tenant_id) == []


def test_reject_cash_proposal(session: Session, tenant_id: int) -> None:
    inv = booked_invoice(session, tenant_id)
    proposal = add_payment(session, tenant_id, inv.id, PAID, "119.00", "cash")
    rejected = reject_cash_proposal(session, tenant_id, proposal.id)
    assert rejected.status == "rejected"
    assert list_cash_proposals(session, tenant_id) == []
    assert payment_summary(session, tenant_id, inv).pending_cash == D("0.00")
    with pytest.raises(Conflict):
        reject_cash_proposal(session, tenant_id, proposal.id)


def test_reversing_invoice_rejects_pending_proposals(session: Session, tenant_id: int) -> None:
    inv = booked_invoice(session, tenant_id)
    proposal = add_payment(session, tenant_id, inv.id, PAID, "10.00", "cash")
    reverse_invoice(session, tenant_id, inv.id, "Falscher Kunde")
    assert proposal.status == "rejected"


def test_reverse_cash_payment_reverses_the_cash_entry(session: Session, tenant_id: int) -> None:
    _open_cash(session, tenant_id)
    inv = booked_invoice(session, tenant_id)
    proposal = confirm_cash_proposal(
        session, tenant_id, add_payment(session, tenant_id, inv.id, PAID, "119.00", "cash").id
    )
    assert proposal.payment_id is not None and proposal.cash_entry_id is not None
    # The cash entry alone cannot be reversed: the invoice would stay paid.
    with pytest.raises(Conflict) as err:
        reverse_cash_entry(session, tenant_id, proposal.cash_entry_id, "Falsch erfasst")
    assert err.value.code == "cash.reverse_via_payment"
    rev = reverse_payment(session, tenant_id, proposal.payment_id, "Falsch erfasst")
    storno = session.scalar(
        select(CashEntry).where(CashEntry.reverses_id == proposal.cash_entry_id)
    )
    assert storno is not None and storno.direction == "expense" and storno.gross == D("119.00")
    assert cash_balance(session, tenant_id, TODAY) == D("0.00")
    assert status(session, tenant_id, inv) == (D("0.00"), D("119.00"), "open")
    assert rev.method == "cash"
    assert verify_chain(session, tenant_id) == []


def test_cash_payment_of_incoming_invoice_needs_cash(session: Session, tenant_id: int) -> None:
    _open_cash(session, tenant_id, "20.00")
    inv = booked_invoice(session, tenant_id, "50.00", direction="in")  # 59.50
    proposal = add_payment(session, tenant_id, inv.id, PAID, "59.50", "cash")
    with pytest.raises(ValidationFailed) as exc:
        confirm_cash_proposal(session, tenant_id, proposal.id)
    assert exc.value.code == "cash.negative_balance"
    session.rollback()


def test_cash_payment_of_incoming_invoice_posts_payables(session: Session, tenant_id: int) -> None:
    _open_cash(session, tenant_id, "100.00")
    inv = booked_invoice(session, tenant_id, "50.00", direction="in")
    proposal = confirm_cash_proposal(
        session, tenant_id, add_payment(session, tenant_id, inv.id, PAID, "59.50", "cash").id
    )
    (post,) = session.scalars(
        select(Posting).where(
            Posting.source_type == "cash_entry", Posting.source_id == proposal.cash_entry_id
        )
    ).all()
    assert (post.debit_account, post.credit_account, post.amount) == ("1600", "1000", D("59.50"))
    assert cash_balance(session, tenant_id, TODAY) == D("40.50")


def test_small_business_cash_payment(make_tenant: Callable[..., int], engine: Engine) -> None:
    tenant_id = make_tenant(vat_regime="small_business", chart="skr04")
    with tenant_session(tenant_id, engine) as session:
        _open_cash(session, tenant_id, "500.00")
        inv_in = booked_invoice(session, tenant_id, "100.00", direction="in")  # supplier VAT 19 %
        inv_out = booked_invoice(session, tenant_id, "80.00", rate="0")
        for inv, amount in ((inv_in, "119.00"), (inv_out, "80.00")):
            prop = add_payment(session, tenant_id, inv.id, PAID, amount, "cash")
            confirm_cash_proposal(session, tenant_id, prop.id)
        entries = session.scalars(select(CashEntry).where(CashEntry.tenant_id == tenant_id)).all()
        assert {(e.direction, e.gross, e.vat) for e in entries} == {
            ("expense", D("119.00"), D("0.00")),
            ("income", D("80.00"), D("0.00")),
        }


# --------------------------------------------------------------------------- REST API


def _party_for(engine: Engine, tenant_id: int) -> int:
    with tenant_session(tenant_id, engine) as s:
        party = Party(tenant_id=tenant_id, name="API Kunde", is_customer=True)
        s.add(party)
        s.flush()
        return party.id


def test_api_invoice_lifecycle(client: Any, engine: Engine, tenant_id: int) -> None:
    party = _party_for(engine, tenant_id)
    body = {
        "direction": "out",
        "issue_date": ISSUED.isoformat(),
        "party_id": party,
        "lines": [
            {
                "description": "Beratung",
                "quantity": "2",
                "unit": "HUR",
                "unit_price": "60.00",
                "vat_rate": "19",
            },
            {"description": "Buch", "quantity": 1, "unit_price": 20.5, "vat_rate": 7},
        ],
        "net_total": "140.50",
        "vat_total": "24.24",
        "gross_total": "164.74",
    }
    r = client.post("/api/v1/invoices", json=body)
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["status"] == "draft" and inv["number"] is None
    assert (inv["net_total"], inv["vat_total"], inv["gross_total"]) == ("140.50", "24.24", "164.74")
    assert inv["lines"][0]["quantity"] == "2.0000" and inv["lines"][0]["unit"] == "HUR"
    assert [t["vat_rate"] for t in inv["tax_totals"]] == ["19.00", "7.00"]

    body["lines"][1]["unit_price"] = "30.00"
    for key in ("net_total", "vat_total", "gross_total"):
        body.pop(key)
    r = client.put(f"/api/v1/invoices/{inv['id']}", json=body)
    assert r.status_code == 200 and r.json()["gross_total"] == "174.90"

    r = client.post(f"/api/v1/invoices/{inv['id']}/book")
    assert r.status_code == 200, r.text
    booked = r.json()
    assert booked["status"] == "booked" and booked["number"].startswith("RE-")
    assert (booked["payment_status"], booked["open_amount"]) == ("open", "174.90")

    r = client.put(f"/api/v1/invoices/{inv['id']}", json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invoice.booked_immutable"
    r = client.delete(f"/api/v1/invoices/{inv['id']}")
    assert r.status_code == 409

    r = client.post(
        f"/api/v1/invoices/{inv['id']}/payments",
        json={"payment_date": PAID.isoformat(), "amount": "100.00", "method": "bank"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "payment"
    assert r.json()["payment"]["amount"] == "100.00"
    r = client.post(
        f"/api/v1/invoices/{inv['id']}/payments",
        json={"payment_date": PAID.isoformat(), "amount": 74.9, "method": "cash"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "cash_proposal"
    proposal_id = r.json()["cash_proposal"]["id"]
    assert [p["id"] for p in client.get("/api/v1/cash-proposals").json()] == [proposal_id]

    r = client.post(f"/api/v1/cash-proposals/{proposal_id}/confirm")
    assert r.status_code == 422  # no opening balance of the cash book yet
    assert r.json()["error"]["code"] == "cash.no_opening_balance"
    with tenant_session(tenant_id, engine) as s:
        _open_cash(s, tenant_id)
    r = client.post(f"/api/v1/cash-proposals/{proposal_id}/confirm")
    assert r.status_code == 200 and r.json()["status"] == "confirmed"

    detail = client.get(f"/api/v1/invoices/{inv['id']}").json()
    assert (detail["paid"], detail["open_amount"], detail["payment_status"]) == (
        "174.90",
        "0.00",
        "paid",
    )
    assert len(detail["payments"]) == 2 and detail["payments"][1]["cash_entry_id"] is not None

    page = client.get("/api/v1/invoices", params={"payment_status": "paid"}).json()
    assert page["total"] == 1 and page["items"][0]["paid"] == "174.90"
    assert page["page"] == 1 and page["page_size"] == 50

    r = client.post(f"/api/v1/invoices/{inv['id']}/reverse", json={"reason": "Test"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invoice.has_payments"
    for pay in detail["payments"]:
        r = client.post(f"/api/v1/payments/{pay['id']}/reverse", json={"reason": "Irrtum"})
        assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/invoices/{inv['id']}/reverse")
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason.missing"
    r = client.post(f"/api/v1/invoices/{inv['id']}/correct", json={"reason": "Preis falsch"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "draft" and r.json()["replaces_id"] == inv["id"]
    r = client.post(f"/api/v1/invoices/{inv['id']}/reverse", json={"reason": "nochmal"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "invoice.already_reversed"
    original = client.get(f"/api/v1/invoices/{inv['id']}").json()
    assert original["status"] == "reversed" and original["reversed_by_number"].startswith("RE-")
    r = client.delete(f"/api/v1/invoices/{r.json()['error']['details'][0]['reversal_id']}")
    assert r.status_code == 409


def test_api_bad_input_answers_with_error_shape(
    client: Any, engine: Engine, tenant_id: int
) -> None:
    base = {
        "direction": "out",
        "issue_date": ISSUED.isoformat(),
        "lines": [{"description": "X", "unit_price": "1.00", "vat_rate": "19"}],
    }

    def post(change: dict[str, Any], line: dict[str, Any] | None = None) -> Any:
        body = base | change
        if line is not None:
            body["lines"] = [base["lines"][0] | line]  # type: ignore[index]
        return client.post("/api/v1/invoices", json=body)

    cases = [
        (
            post({}, {"unit_price": "1.00001"}),
            422,
            "money.too_many_decimals",
            "lines[0].unit_price",
        ),
        (post({}, {"quantity": "viel"}), 422, "money.not_a_number", "lines[0].quantity"),
        (post({}, {"vat_rate": "17"}), 422, "vat.unknown_rate", "lines[0].vat_rate"),
        (post({"gross_total": "abc"}), 422, "money.not_a_number", "gross_total"),
        (
            post({"net_total": "1.00", "vat_total": "0.19", "gross_total": "1.30"}),
            422,
            "money.inconsistent",
            "gross_total",
        ),
        (post({"party_id": 987654}), 422, "party.not_found", "party_id"),
        (
            post({"issue_date": (TODAY + timedelta(days=4000)).isoformat()}),
            422,
            "date.too_far_in_future",
            "issue_date",
        ),
    ]
    for r, status_code, code, field in cases:
        assert r.status_code == status_code, r.text
        err = r.json()["error"]
        assert (err["code"], err["details"][0]["field"]) == (code, field)
        assert err["message"]
    r = post({}, {"unit_price": True})
    assert r.status_code == 422 and r.json()["error"]["code"] == "request.invalid"
    r = client.get("/api/v1/invoices/999999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "invoice.not_found"
    r = client.get("/api/v1/invoices", params={"status": "nope"})
    assert r.status_code == 422
    assert client.get("/api/v1/invoices").json()["total"] == 0


def test_api_small_business_refuses_vat(make_tenant: Callable[..., int], engine: Engine) -> None:
    from fastapi.testclient import TestClient

    from belegwerk.core.db import system_session
    from belegwerk.tenancy.models import Tenant
    from belegwerk.web.app import create_app

    tenant_id = make_tenant(vat_regime="small_business")
    with system_session(engine) as s:
        slug = s.get(Tenant, tenant_id).slug  # type: ignore[union-attr]
    with TestClient(create_app(engine), headers={"X-Belegwerk-Tenant": slug}) as c:
        body = {
            "direction": "out",
            "issue_date": ISSUED.isoformat(),
            "lines": [{"description": "X", "unit_price": "10", "vat_rate": "19"}],
        }
        r = c.post("/api/v1/invoices", json=body)
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "vat.small_business_no_vat"
        body["lines"][0]["vat_rate"] = "0"  # type: ignore[index]
        r = c.post("/api/v1/invoices", json=body)
        assert r.status_code == 201
        assert r.json()["small_business"] is True
        assert "§ 19 UStG" in r.json()["note"]
    with tenant_session(tenant_id, engine) as s:
        assert get_invoice(s, tenant_id, r.json()["id"]).vat_total == D("0.00")
