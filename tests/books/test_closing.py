"""Daily closing: count, difference treatments, one per day, signature chain, reminder, PDF."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pdfplumber
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books.cash import (
    CashEntryInput,
    cash_balance,
    create_cash_entry,
    get_cash_entry,
    set_opening_balance,
)
from belegwerk.books.categories import category_by_key
from belegwerk.books.closing import (
    GENESIS,
    close_day,
    closing_statistics,
    counted_total,
    expected_balance,
    missing_closing_reminder,
    normalize_counts,
    signature_of,
    verify_closings,
)
from belegwerk.books.closing_pdf import closings_month_pdf
from belegwerk.books.models import DailyClosing
from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import make_engine
from belegwerk.core.errors import Conflict, ValidationFailed

TODAY = date.today()
OPENED = TODAY - timedelta(days=40)
D = TODAY - timedelta(days=10)


def book(session: Session, tenant_id: int, direction: str, amount: str, day: date = D) -> None:
    key = "revenue_19" if direction == "income" else "office_supplies"
    create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=day,
            description="Beleg",
            category_id=category_by_key(session, key).id,
            direction=direction,
            amount=amount,
        ),
    )


def start(session: Session, tenant_id: int, opening: str = "100.00") -> None:
    """Opening 100.00, then +119.00 and −19.00 on D: expected 200.00 on D."""
    set_opening_balance(session, tenant_id, OPENED, Decimal(opening))
    book(session, tenant_id, "income", "119.00")
    book(session, tenant_id, "expense", "19.00")
    session.commit()


EXACT = {"100": 1, "50": 1, "20": 2, "5": 1, "2": 2, "0.50": 1, "0.20": 2, "0.10": 1}  # 200.00


def test_count_adds_up() -> None:
    counts = normalize_counts(EXACT)
    assert list(counts)[:3] == ["500", "200", "100"] and len(counts) == 15
    assert counted_total(counts) == Decimal("200.00")
    assert counted_total(normalize_counts({"0.5": 3, "0.01": 7, 500: 1})) == Decimal("501.57")


def test_closing_without_difference(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    assert expected_balance(session, tenant_id, D) == Decimal("200.00")
    closing = close_day(session, tenant_id, D, EXACT)
    session.commit()
    assert (closing.expected, closing.counted, closing.difference) == (
        Decimal("200.00"),
        Decimal("200.00"),
        Decimal("0.00"),
    )
    assert closing.treatment is None and closing.difference_entry_id is None
    assert closing.prev_signature == GENESIS and len(closing.signature) == 64
    assert json.loads(closing.counts)["100"] == 1
    assert verify_closings(session, tenant_id) == []
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "daily_closing"
        )
    ).all()
    assert [a.entity_id for a in audit] == [str(closing.id)]


@pytest.mark.parametrize(
    ("counts", "treatment", "direction", "key"),
    [
        ({"100": 1, "50": 1, "20": 2}, "private", "expense", "private_withdrawal"),  # −10.00
        ({"100": 1, "50": 1, "20": 2}, "other", "expense", "other_expense"),
        ({"100": 2, "5": 2}, "private", "income", "private_deposit"),  # +10.00
        ({"100": 2, "5": 2}, "other", "income", "other_income"),
    ],
)
def test_difference_is_booked_by_treatment(
    session: Session,
    tenant_id: int,
    counts: dict[str, int],
    treatment: str,
    direction: str,
    key: str,
) -> None:
    start(session, tenant_id)
    closing = close_day(
        session, tenant_id, D, counts, reason="Wechselgeld falsch", treatment=treatment
    )
    session.commit()
    assert abs(closing.difference) == Decimal("10.00")
    assert closing.reason == "Wechselgeld falsch" and closing.treatment == treatment
    assert closing.difference_entry_id is not None
    entry = get_cash_entry(session, tenant_id, closing.difference_entry_id)
    assert (entry.direction, entry.entry_date, entry.gross) == (direction, D, Decimal("10.00"))
    assert entry.category_id == category_by_key(session, key).id
    assert entry.vat == Decimal("0.00") and entry.input_vat_deductible is False
    assert cash_balance(session, tenant_id, D) == closing.counted
    assert verify_closings(session, tenant_id) == []


def test_record_only_books_nothing(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    closing = close_day(
        session, tenant_id, D, {"100": 2, "0.01": 3}, reason="unklar", treatment="record_only"
    )
    assert closing.difference == Decimal("0.03") and closing.difference_entry_id is None
    assert cash_balance(session, tenant_id, D) == Decimal("200.00")


def test_difference_needs_reason_and_treatment(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, D, {"100": 2, "1": 1})
    assert exc.value.code == "closing.reason_required"
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, D, {"100": 2, "1": 1}, reason="Trinkgeld")
    assert exc.value.code == "closing.treatment_required"
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, D, {"100": 2, "1": 1}, reason="Trinkgeld", treatment="x")
    assert exc.value.code == "closing.treatment_required"
    session.rollback()
    assert (
        session.scalars(select(DailyClosing).where(DailyClosing.tenant_id == tenant_id)).all() == []
    )


@pytest.mark.parametrize(
    ("counts", "code"),
    [
        ({"0.50": -1}, "closing.negative_count"),
        ({"100": -3}, "closing.negative_count"),
        ({"3": 1}, "closing.unknown_denomination"),
        ({"euro": 1}, "closing.unknown_denomination"),
        ({"1": 1.5}, "closing.invalid_count"),
        ({"1": "viele"}, "closing.invalid_count"),
        ({"1": True}, "closing.invalid_count"),
        ({"0.5": 1, "0.50": 1}, "closing.duplicate_denomination"),
    ],
)
def test_bad_counts(session: Session, tenant_id: int, counts: dict[str, Any], code: str) -> None:
    start(session, tenant_id)
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, D, counts)
    assert exc.value.code == code


def test_one_closing_per_day_forward_only(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    close_day(session, tenant_id, D, EXACT)
    session.commit()
    with pytest.raises(Conflict) as exc:
        close_day(session, tenant_id, D, EXACT)
    assert exc.value.code == "closing.exists"
    with pytest.raises(Conflict) as exc:
        close_day(session, tenant_id, D - timedelta(days=1), EXACT)
    assert exc.value.code == "closing.out_of_order"
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, TODAY + timedelta(days=1), EXACT)
    assert exc.value.code == "closing.future_day"
    with pytest.raises(ValidationFailed) as exc:
        book(session, tenant_id, "income", "1.00", day=D)
    assert exc.value.code == "cash.day_closed"
    second = close_day(session, tenant_id, D + timedelta(days=1), EXACT)
    first = session.scalar(
        select(DailyClosing).where(
            DailyClosing.tenant_id == tenant_id, DailyClosing.closing_date == D
        )
    )
    assert first is not None and second.prev_signature == first.signature


def test_closing_needs_an_opening_balance(session: Session, tenant_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, D, EXACT)
    assert exc.value.code == "cash.no_opening_balance"
    set_opening_balance(session, tenant_id, D, Decimal("0.00"))
    with pytest.raises(ValidationFailed) as exc:
        close_day(session, tenant_id, D - timedelta(days=1), {})
    assert exc.value.code == "closing.before_opening"


def test_shortage_that_breaks_a_later_day_is_refused(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    book(session, tenant_id, "expense", "195.00", day=D + timedelta(days=2))
    with pytest.raises(ValidationFailed) as exc:  # 10.00 short on D leaves −5.00 two days later
        close_day(
            session, tenant_id, D, {"100": 1, "50": 1, "20": 2}, reason="fehlt", treatment="other"
        )
    assert exc.value.code == "cash.negative_balance"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE daily_closings SET counted = counted + 100 WHERE tenant_id = :t",
        "DELETE FROM daily_closings WHERE tenant_id = :t",
    ],
)
def test_raw_sql_cannot_change_closings(session: Session, tenant_id: int, statement: str) -> None:
    start(session, tenant_id)
    close_day(session, tenant_id, D, EXACT)
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(text(statement), {"t": tenant_id})
    session.rollback()
    assert verify_closings(session, tenant_id) == []


def test_signature_detects_a_changed_copy(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    closing = close_day(session, tenant_id, D, EXACT)
    assert signature_of(closing) == closing.signature
    for field, value in (
        ("counted", Decimal("200.01")),
        ("reason", "nachträglich"),
        ("counts", json.dumps({"500": 1})),
        ("prev_signature", "f" * 64),
    ):
        copy = DailyClosing(
            **{c.name: getattr(closing, c.name) for c in DailyClosing.__table__.columns}
        )
        setattr(copy, field, value)
        assert signature_of(copy) != closing.signature, field


def test_verify_finds_a_tampered_row(
    engine: Engine, session: Session, tenant_id: int, request: pytest.FixtureRequest
) -> None:
    """The guard is lifted for one transaction (SQLite: drop and recreate the trigger;
    PostgreSQL: as superuser, who also bypasses row-level security, disable the trigger)."""
    start(session, tenant_id)
    first = close_day(session, tenant_id, D, EXACT)
    close_day(session, tenant_id, D + timedelta(days=1), EXACT)
    session.commit()
    tamper = text("UPDATE daily_closings SET reason = 'gefälscht' WHERE id = :i")
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type='trigger' AND name=:n"),
                {"n": "daily_closings_no_update"},
            ).scalar_one()
            conn.execute(text("DROP TRIGGER daily_closings_no_update"))
            try:
                conn.execute(tamper, {"i": first.id})
            finally:
                conn.execute(text(sql))
    else:
        admin = make_engine(request.getfixturevalue("pg_url"))
        try:
            with admin.begin() as conn:
                conn.execute(
                    text("ALTER TABLE daily_closings DISABLE TRIGGER daily_closings_guard")
                )
                conn.execute(tamper, {"i": first.id})
                conn.execute(text("ALTER TABLE daily_closings ENABLE TRIGGER daily_closings_guard"))
        finally:
            admin.dispose()
    session.expire_all()
    problems = verify_closings(session, tenant_id)
    assert [(p.closing_id, p.reason) for p in problems] == [
        (first.id, "content does not match its signature")
    ]


def test_reminder_for_yesterday(session: Session, tenant_id: int) -> None:
    yesterday = TODAY - timedelta(days=1)
    set_opening_balance(session, tenant_id, OPENED, Decimal("10.00"))
    assert missing_closing_reminder(session, tenant_id, TODAY) is None
    book(session, tenant_id, "income", "5.00", day=yesterday)
    assert missing_closing_reminder(session, tenant_id, TODAY) == yesterday
    close_day(session, tenant_id, yesterday, {"10": 1, "5": 1})
    assert missing_closing_reminder(session, tenant_id, TODAY) is None


def test_statistics(session: Session, tenant_id: int) -> None:
    start(session, tenant_id)
    short = {"100": 1, "50": 1, "20": 2, "5": 1, "2": 2, "0.20": 2, "0.10": 1}  # 199.50
    close_day(session, tenant_id, D, EXACT)
    close_day(
        session,
        tenant_id,
        D + timedelta(days=1),
        {"100": 2, "0.50": 1},
        reason="gefunden",
        treatment="record_only",
    )
    close_day(session, tenant_id, D + timedelta(days=2), short, reason="fehlt", treatment="private")
    # no difference: the reason is kept, the treatment dropped
    fourth = close_day(
        session, tenant_id, D + timedelta(days=3), short, reason="gezählt", treatment="other"
    )
    assert (fourth.difference, fourth.treatment, fourth.reason) == (0, None, "gezählt")
    stats = closing_statistics(session, tenant_id, D, D + timedelta(days=30))
    assert stats.closings == 4
    assert stats.days_with_difference == 2
    assert stats.average_abs_difference == Decimal("0.25")  # (0.50 + 0.50) / 4
    assert stats.share_with_difference == Decimal("0.5000") and stats.warning
    empty = closing_statistics(session, tenant_id, OPENED, OPENED)
    assert (empty.closings, empty.share_with_difference, empty.warning) == (0, 0, False)


def test_month_pdf_reads_back(session: Session, tenant_id: int) -> None:
    day = TODAY.replace(day=1)
    set_opening_balance(session, tenant_id, day, Decimal("1234.56"))
    counts = {"500": 2, "200": 1, "20": 1, "10": 1, "2": 2}  # 1234.00
    close_day(session, tenant_id, day, counts, reason="Kasse stimmt nicht", treatment="record_only")
    session.commit()
    pdf = closings_month_pdf(session, tenant_id, day.year, day.month)
    assert pdf.startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        content = "\n".join(page.extract_text() or "" for page in doc.pages)
    assert "Testfirma GmbH" in content
    assert "1.234,56" in content  # expected
    assert "1.234,00" in content  # counted
    assert content.count("-0,56") == 2  # the row and the sum line
    assert "Kasse stimmt nicht" in content
    assert day.strftime("%d.%m.%Y") in content
    with pytest.raises(ValidationFailed):
        closings_month_pdf(session, tenant_id, 2024, 13)


# --------------------------------------------------------------------------- REST API


def _setup_api(client: Any, session: Session) -> None:
    r = client.post(
        "/api/v1/cash/opening", json={"opening_date": OPENED.isoformat(), "amount": "200.00"}
    )
    assert r.status_code == 201, r.text


def test_api_closing_flow(client: Any, session: Session) -> None:
    _setup_api(client, session)
    r = client.get("/api/v1/cash/closings/expected", params={"day": D.isoformat()})
    assert r.json() == {"day": D.isoformat(), "expected": "200.00", "closed": False}
    body = {
        "day": D.isoformat(),
        "counts": {"100": 1, "50": 1, "20": 2},
        "reason": "Fehlbetrag",
        "treatment": "private",
    }
    r = client.post("/api/v1/cash/closings", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["expected"], created["counted"], created["difference"]) == (
        "200.00",
        "190.00",
        "-10.00",
    )
    assert created["counts"]["100"] == 1 and created["counts"]["0.01"] == 0
    r = client.post("/api/v1/cash/closings", json=body)
    assert r.status_code == 409 and r.json()["error"]["code"] == "closing.exists"
    assert (
        client.get("/api/v1/cash/balance", params={"on": D.isoformat()}).json()["balance"]
        == "190.00"
    )
    listed = client.get("/api/v1/cash/closings").json()
    assert [c["signature"] for c in listed] == [created["signature"]]
    assert client.get("/api/v1/cash/closings/verify").json() == {"ok": True, "problems": []}
    stats = client.get(
        "/api/v1/cash/closings/statistics",
        params={"from": OPENED.isoformat(), "to": TODAY.isoformat()},
    ).json()
    assert stats["closings"] == 1 and stats["warning"] is True
    assert stats["average_abs_difference"] == "10.00"
    r = client.get("/api/v1/cash/closings/pdf", params={"year": D.year, "month": D.month})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    r = client.get("/api/v1/cash/closings/pdf", params={"year": D.year, "month": 13})
    assert r.status_code == 422 and r.json()["error"]["code"] == "request.invalid"


def test_api_closing_errors(client: Any, session: Session) -> None:
    _setup_api(client, session)
    r = client.post("/api/v1/cash/closings", json={"day": D.isoformat(), "counts": {"0.20": -4}})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "closing.negative_count"
    assert r.json()["error"]["details"][0]["field"] == "counts.0.20"
    r = client.post("/api/v1/cash/closings", json={"day": D.isoformat(), "counts": {"100": 1}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "closing.reason_required"
    assert client.get("/api/v1/cash/closings").json() == []
    assert client.get("/api/v1/cash/entries").json()["total"] == 0


def test_api_reminder(client: Any, session: Session) -> None:
    _setup_api(client, session)
    assert client.get("/api/v1/cash/reminder").json() == {"missing_day": None, "message": None}
    yesterday = TODAY - timedelta(days=1)
    r = client.post(
        "/api/v1/cash/entries",
        json={
            "entry_date": yesterday.isoformat(),
            "description": "Verkauf",
            "category_id": category_by_key(session, "revenue_7").id,
            "direction": "income",
            "amount": "10.70",
        },
    )
    assert r.status_code == 201, r.text
    reminder = client.get("/api/v1/cash/reminder").json()
    assert reminder["missing_day"] == yesterday.isoformat() and reminder["message"]
