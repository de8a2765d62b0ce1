"""Journal postings of classified bank lines: categories, VAT, private money, § 19, changes of
decision as storno plus new postings, linked invoice payments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from belegwerk.banking.accounts import ledger_account
from belegwerk.banking.bank_postings import open_postings, repost
from belegwerk.banking.classify import accept_all, decide, suggest_for_batch
from belegwerk.banking.models import BankAccount, ImportBatch, PaymentMatch
from belegwerk.core.audit import verify_chain
from belegwerk.core.db import session_factory
from belegwerk.core.errors import ValidationFailed
from tests.banking.classify_helpers import (
    add_tx,
    balances,
    cat,
    count_postings,
    make_account,
    make_batch,
    postings,
    tax_by_account,
)
from tests.books.test_payments import booked_invoice

D = Decimal


def _batch(session: Session, tenant_id: int, account_type: str = "mixed", **kw: Any) -> ImportBatch:
    return make_batch(session, tenant_id, make_account(session, tenant_id, account_type, **kw))


def _one(
    session: Session, tenant_id: int, tx_id: int
) -> tuple[str, str, Decimal, Decimal, Decimal, str | None]:
    (p,) = open_postings(session, tenant_id, tx_id)
    return p.debit_account, p.credit_account, p.amount, p.net_amount, p.tax_amount, p.tax_account


def test_business_categories(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    cases = [
        # amount, category, expected (debit, credit, gross, net, tax, tax account)
        ("-119.00", "telecom", ("4920", "1200", D("119.00"), D("100.00"), D("19.00"), "1576")),
        ("119.00", "revenue_19", ("1200", "8400", D("119.00"), D("100.00"), D("19.00"), "1776")),
        # 19 % picked for a sale at 7 %: the revenue category follows the VAT of the category
        ("107.00", "revenue_7", ("1200", "8300", D("107.00"), D("100.00"), D("7.00"), "1771")),
        ("-7.90", "bank_fees", ("4970", "1200", D("7.90"), D("7.90"), D("0.00"), None)),
        ("-80.00", "insurance", ("4360", "1200", D("80.00"), D("80.00"), D("0.00"), None)),
        ("-500.00", "loan_repayment", ("0630", "1200", D("500.00"), D("500.00"), D("0.00"), None)),
        ("-200.00", "cash_transit", ("1360", "1200", D("200.00"), D("200.00"), D("0.00"), None)),
        # refunds: an expense category on money received, a revenue category on money paid
        ("11.90", "telecom", ("1200", "4920", D("11.90"), D("10.00"), D("1.90"), "1576")),
        ("-23.80", "revenue_19", ("8400", "1200", D("23.80"), D("20.00"), D("3.80"), "1776")),
    ]
    for amount, key, expected in cases:
        tx = add_tx(session, tenant_id, batch, amount, "Partner", "Text")
        decide(session, tenant_id, tx.id, "business", cat(session, key))
        assert _one(session, tenant_id, tx.id) == expected, key
        (p,) = postings(session, tenant_id, tx.id)
        assert (p.source_type, p.voucher, p.posting_date) == (
            "bank_tx",
            f"B-{tx.id}",
            tx.booking_date,
        )
        assert p.text == "Partner: Text"


def test_temporary_rates_of_2020(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-116.00", "Telekom", "R", day=date(2020, 9, 1))
    decide(session, tenant_id, tx.id, "business", cat(session, "telecom"))
    assert _one(session, tenant_id, tx.id)[3:] == (D("100.00"), D("16.00"), "1576")


def test_private_money(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    out = add_tx(session, tenant_id, batch, "-500.00", "Ich", "Privatentnahme")
    dep = add_tx(session, tenant_id, batch, "300.00", "Ich", "Privateinlage")
    private = add_tx(session, tenant_id, batch, "-45.00", "Kino", "")
    open_ = add_tx(session, tenant_id, batch, "1000.00", "Kunde", "RE-1")
    decide(session, tenant_id, out.id, "private_withdrawal")
    decide(session, tenant_id, dep.id, "private_deposit")
    decide(session, tenant_id, private.id, "private")
    decide(session, tenant_id, open_.id, "business")  # waits for an invoice or a category
    assert _one(session, tenant_id, out.id) == (
        "1800",
        "1200",
        D("500.00"),
        D("500.00"),
        D(0),
        None,
    )
    assert _one(session, tenant_id, dep.id) == (
        "1200",
        "1890",
        D("300.00"),
        D("300.00"),
        D(0),
        None,
    )
    assert postings(session, tenant_id, private.id) == []
    assert postings(session, tenant_id, open_.id) == []
    assert postings(session, tenant_id, out.id)[0].category_id == cat(session, "private_withdrawal")


def test_unconfirmed_suggestions_do_not_book(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-500.00", "Ich", "Privatentnahme")
    suggest_for_batch(session, tenant_id, batch.id)
    assert postings(session, tenant_id, tx.id) == []
    accept_all(session, tenant_id, batch_id=batch.id)
    assert len(open_postings(session, tenant_id, tx.id)) == 1


def test_small_business_books_no_vat(make_tenant: Callable[..., int], engine: Engine) -> None:
    tenant = make_tenant(chart="skr03", vat_regime="small_business")
    session = session_factory(engine)()
    session.info["tenant_id"] = tenant
    try:
        batch = _batch(session, tenant)
        cost = add_tx(session, tenant, batch, "-119.00", "Telekom", "R")
        sale = add_tx(session, tenant, batch, "119.00", "Kunde", "RE-1")
        decide(session, tenant, cost.id, "business", cat(session, "telecom"))
        decide(session, tenant, sale.id, "business", cat(session, "revenue_19"))
        assert _one(session, tenant, cost.id) == (
            "4920",
            "1200",
            D("119.00"),
            D("119.00"),
            D(0),
            None,
        )
        assert _one(session, tenant, sale.id) == (
            "1200",
            "8192",
            D("119.00"),
            D("119.00"),
            D(0),
            None,
        )
        (p,) = postings(session, tenant, sale.id)
        assert p.category_id == cat(session, "revenue_small_business")
        assert tax_by_account(session, tenant) == {}
    finally:
        session.rollback()
        session.close()


def test_skr04_and_ledger_accounts(make_tenant: Callable[..., int], engine: Engine) -> None:
    tenant = make_tenant(chart="skr04")
    session = session_factory(engine)()
    session.info["tenant_id"] = tenant
    try:
        plain = _batch(session, tenant)
        second = _batch(session, tenant, ledger_account="1810")
        paypal = _batch(session, tenant, "business", kind="paypal")
        a = add_tx(session, tenant, plain, "-119.00", "Telekom", "R")
        b = add_tx(session, tenant, second, "-50.00", "Ich", "Privatentnahme")
        c = add_tx(session, tenant, paypal, "-5.00", "PayPal", "Gebühr")
        decide(session, tenant, a.id, "business", cat(session, "telecom"))
        decide(session, tenant, b.id, "private_withdrawal")
        decide(session, tenant, c.id, "business", cat(session, "bank_fees"))
        assert _one(session, tenant, a.id) == (
            "6805",
            "1800",
            D("119.00"),
            D("100.00"),
            D("19.00"),
            "1406",
        )
        assert _one(session, tenant, b.id)[:2] == ("2100", "1810")
        paypal_account = session.get(BankAccount, paypal.account_id)
        assert paypal_account is not None
        assert _one(session, tenant, c.id)[:2] == (
            "6855",
            ledger_account(session, tenant, paypal_account),
        )
    finally:
        session.rollback()
        session.close()


def test_changing_a_decision_reverses_and_reposts(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-238.00", "Versicherer", "Beitrag")
    decide(session, tenant_id, tx.id, "business", cat(session, "telecom"))
    # Postings are gross (DATEV style): the tax account only names where the tax goes.
    assert balances(session, tenant_id) == {"4920": D("238.00"), "1200": D("-238.00")}
    assert tax_by_account(session, tenant_id) == {"1576": D("38.00")}

    decide(session, tenant_id, tx.id, "business", cat(session, "insurance"))
    rows = postings(session, tenant_id, tx.id)
    assert [(p.source_type, p.reverses_id is not None) for p in rows] == [
        ("bank_tx", False),
        ("bank_tx_rev", True),
        ("bank_tx", False),
    ]
    assert rows[1].reverses_id == rows[0].id and rows[1].text.startswith("Storno ")
    assert rows[1].posting_date == tx.booking_date and rows[1].voucher == f"B-{tx.id}"
    assert balances(session, tenant_id) == {"4360": D("238.00"), "1200": D("-238.00")}
    assert tax_by_account(session, tenant_id) == {}

    # A second change reverses only what is still open, never the first postings again.
    decide(session, tenant_id, tx.id, "private_withdrawal")
    decide(session, tenant_id, tx.id, "private")
    rows = postings(session, tenant_id, tx.id)
    assert len(rows) == 6
    reversed_ids = [p.reverses_id for p in rows if p.reverses_id is not None]
    assert len(reversed_ids) == len(set(reversed_ids)) == 3
    assert open_postings(session, tenant_id, tx.id) == []
    assert balances(session, tenant_id) == {}

    decide(session, tenant_id, tx.id, "business", cat(session, "rent"))
    assert balances(session, tenant_id) == {"4210": D("238.00"), "1200": D("-238.00")}
    assert tax_by_account(session, tenant_id) == {"1576": D("38.00")}
    assert verify_chain(session, tenant_id) == []


def test_linked_invoice_payments_are_not_booked_twice(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-150.00", "Lieferant", "RE-7 und Gebühr")
    decide(session, tenant_id, tx.id, "business", cat(session, "bank_fees"))
    assert _one(session, tenant_id, tx.id)[2] == D("150.00")
    inv = booked_invoice(session, tenant_id, "100.00", direction="in", rate="0")
    session.add(
        PaymentMatch(
            tenant_id=tenant_id,
            transaction_id=tx.id,
            invoice_id=inv.id,
            amount=D("100.00"),
            confidence=D("0.99"),
            status="linked",
        )
    )
    session.flush()
    assert repost(session, tenant_id, tx.id) == 2  # storno of 150, new posting of the 50 left
    assert _one(session, tenant_id, tx.id)[2] == D("50.00")


def test_foreign_currency_cannot_be_booked(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-20.00", "Shop", "x", currency="USD")
    before = count_postings(session, tenant_id)
    with pytest.raises(ValidationFailed) as err:
        decide(session, tenant_id, tx.id, "business", cat(session, "telecom"))
    assert err.value.code == "bank.currency_not_supported"
    decide(session, tenant_id, tx.id, "private")  # needs no posting
    assert count_postings(session, tenant_id) == before
