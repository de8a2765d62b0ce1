"""The money overview: cash position (business in full, mixed only its business part), open
invoices, expected position, input VAT of month and quarter, next UStVA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from belegwerk.banking.classify import decide, suggest_for_batch
from belegwerk.banking.overview import UstvaDue, bank_overview, next_ustva
from belegwerk.core.db import session_factory
from tests.banking.classify_helpers import add_tx, cat, make_account, make_batch, with_bank_routes
from tests.books.test_payments import booked_invoice

D = Decimal
TODAY = date(2025, 5, 20)


def _cash_setup(session: Session, tenant_id: int) -> None:
    business = make_account(
        session, tenant_id, "business", opening_balance="1000.00", opening_date=date(2025, 1, 1)
    )
    b = make_batch(session, tenant_id, business)
    add_tx(session, tenant_id, b, "-300.00", "vor Eröffnung", "", day=date(2024, 12, 31))
    add_tx(session, tenant_id, b, "500.00", "Kunde", "RE-1", day=date(2025, 1, 1))
    add_tx(session, tenant_id, b, "-200.00", "Ich", "Privatentnahme", day=date(2025, 3, 1))
    add_tx(session, tenant_id, b, "-999.00", "später", "", day=date(2025, 5, 21))

    mixed = make_account(
        session, tenant_id, "mixed", opening_balance="5000.00", opening_date=date(2025, 1, 1)
    )
    m = make_batch(session, tenant_id, mixed)
    income = add_tx(session, tenant_id, m, "300.00", "Kunde", "RE-2", day=date(2025, 2, 1))
    fun = add_tx(session, tenant_id, m, "-50.00", "Kino", "", day=date(2025, 2, 2))
    out = add_tx(session, tenant_id, m, "-100.00", "Ich", "Privatentnahme", day=date(2025, 2, 3))
    add_tx(session, tenant_id, m, "40.00", "Ich", "Privateinlage", day=date(2025, 2, 4))
    add_tx(session, tenant_id, m, "-77.00", "Unbekannt", "", day=date(2025, 2, 5))
    decide(session, tenant_id, income.id, "business")
    decide(session, tenant_id, fun.id, "private")
    decide(session, tenant_id, out.id, "private_withdrawal")
    suggest_for_batch(session, tenant_id, m.id)  # the deposit: only a suggestion

    private = make_account(session, tenant_id, "private", opening_balance="10000.00")
    p = make_batch(session, tenant_id, private)
    add_tx(session, tenant_id, p, "123.00", "x", "", day=date(2025, 2, 1))


def test_cash_position(session: Session, tenant_id: int) -> None:
    _cash_setup(session, tenant_id)
    o = bank_overview(session, tenant_id, TODAY)
    by_type = {a.account_type: a for a in o.accounts}
    assert set(by_type) == {"business", "mixed"}
    business, mixed = by_type["business"], by_type["mixed"]
    assert (business.opening_balance, business.movements, business.position) == (
        D("1000.00"),
        D("300.00"),
        D("1300.00"),
    )
    # Mixed: business +300 and the withdrawal -100; no opening balance, no private line,
    # the unconfirmed deposit and the undecided line wait.
    assert (mixed.opening_balance, mixed.position, mixed.undecided) == (D(0), D("200.00"), 2)
    assert o.cash_position == D("1500.00")
    assert o.expected_position == D("1500.00")
    # On the opening day: the opening balance and that day's line; before it: nothing yet.
    assert bank_overview(session, tenant_id, date(2025, 1, 1)).cash_position == D("1500.00")
    assert bank_overview(session, tenant_id, date(2024, 12, 31)).cash_position == D(0)


def test_open_invoices_and_expected_position(session: Session, tenant_id: int) -> None:
    _cash_setup(session, tenant_id)
    booked_invoice(session, tenant_id, "100.00", direction="out")  # 119.00 receivable
    booked_invoice(session, tenant_id, "200.00", direction="in")  # 238.00 payable
    o = bank_overview(session, tenant_id, TODAY)
    assert (o.receivables.count, o.receivables.amount) == (1, D("119.00"))
    assert (o.payables.count, o.payables.amount) == (1, D("238.00"))
    assert o.expected_position == D("1500.00") + D("119.00") - D("238.00")


def test_input_vat_of_month_and_quarter(session: Session, tenant_id: int) -> None:
    b = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    telecom, office = cat(session, "telecom"), cat(session, "office_supplies")

    def line(amount: str, day: date, category: int) -> int:
        tx = add_tx(session, tenant_id, b, amount, "Lieferant", "R", day=day)
        decide(session, tenant_id, tx.id, "business", category)
        return tx.id

    line("-119.00", date(2025, 5, 3), telecom)  # 19.00 in May
    line("-59.50", date(2025, 4, 10), office)  # 9.50 in April
    line("-119.00", date(2025, 3, 15), telecom)  # 19.00 in March: another quarter
    line("11.90", date(2025, 5, 12), telecom)  # refund: -1.90 in May
    changed = line("-238.00", date(2025, 5, 8), telecom)  # 38.00 … then changed to insurance:
    decide(session, tenant_id, changed, "business", cat(session, "insurance"))
    line("-119.00", date(2025, 6, 2), telecom)  # June: in the quarter, after today
    o = bank_overview(session, tenant_id, TODAY)
    assert (o.month_start, o.quarter_start) == (date(2025, 5, 1), date(2025, 4, 1))
    assert o.input_vat_month == D("17.10")
    assert o.input_vat_quarter == D("17.10") + D("9.50") + D("19.00")


def test_small_business_has_no_ustva(make_tenant: Callable[..., int], engine: Engine) -> None:
    for overrides, note in (
        ({"vat_regime": "small_business"}, "small_business"),
        ({"ustva_period": "yearly"}, "yearly"),
        ({"ustva_period": "monthly"}, ""),
    ):
        tenant = make_tenant(chart="skr03", **overrides)
        session = session_factory(engine)()
        session.info["tenant_id"] = tenant
        try:
            o = bank_overview(session, tenant, TODAY)
            assert o.ustva_note == note
            assert (o.next_ustva is None) == bool(note)
            assert o.cash_position == D(0) and o.accounts == []
        finally:
            session.close()


@pytest.mark.parametrize(
    ("today", "period", "extension", "expected"),
    [
        # April's return is due 10 May 2025, a Saturday: Monday 12 May.
        (
            date(2025, 5, 9),
            "monthly",
            False,
            (date(2025, 4, 1), date(2025, 4, 30), date(2025, 5, 12)),
        ),
        (
            date(2025, 5, 12),
            "monthly",
            False,
            (date(2025, 4, 1), date(2025, 4, 30), date(2025, 5, 12)),
        ),
        (
            date(2025, 5, 13),
            "monthly",
            False,
            (date(2025, 5, 1), date(2025, 5, 31), date(2025, 6, 10)),
        ),
        (
            date(2025, 5, 20),
            "monthly",
            True,
            (date(2025, 4, 1), date(2025, 4, 30), date(2025, 6, 10)),
        ),
        (
            date(2025, 1, 5),
            "monthly",
            False,
            (date(2024, 12, 1), date(2024, 12, 31), date(2025, 1, 10)),
        ),
        (
            date(2025, 5, 20),
            "quarterly",
            False,
            (date(2025, 4, 1), date(2025, 6, 30), date(2025, 7, 10)),
        ),
        (
            date(2025, 4, 10),
            "quarterly",
            False,
            (date(2025, 1, 1), date(2025, 3, 31), date(2025, 4, 10)),
        ),
        # Q1 with extension due 10 May (Saturday) → 12 May; Q2 due 10 August (Sunday) → 11th.
        (
            date(2025, 5, 12),
            "quarterly",
            True,
            (date(2025, 1, 1), date(2025, 3, 31), date(2025, 5, 12)),
        ),
        (
            date(2025, 5, 13),
            "quarterly",
            True,
            (date(2025, 4, 1), date(2025, 6, 30), date(2025, 8, 11)),
        ),
        (
            date(2025, 1, 20),
            "quarterly",
            True,
            (date(2024, 10, 1), date(2024, 12, 31), date(2025, 2, 10)),
        ),
        (
            date(2025, 12, 31),
            "quarterly",
            False,
            (date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 12)),
        ),
    ],
)
def test_next_ustva(
    today: date, period: str, extension: bool, expected: tuple[date, date, date]
) -> None:
    assert next_ustva(today, period, extension) == UstvaDue(*expected)


def test_next_ustva_none_for_yearly() -> None:
    assert next_ustva(TODAY, "yearly", False) is None


def test_api(session: Session, tenant_id: int, client: Any) -> None:
    c = with_bank_routes(client)
    _cash_setup(session, tenant_id)
    session.commit()
    r = c.get("/api/v1/bank/overview", params={"on": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cash_position"] == "1500.00"
    assert body["expected_position"] == "1500.00"
    assert body["receivables"] == {"count": 0, "amount": "0.00"}
    assert body["next_ustva"] == {
        "period_start": "2025-04-01",
        "period_end": "2025-06-30",
        "due_date": "2025-07-10",
    }
    assert {a["account_type"] for a in body["accounts"]} == {"business", "mixed"}
    assert c.get("/api/v1/bank/overview").status_code == 200
