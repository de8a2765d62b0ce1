"""Cash book: opening balance, entries, bad input, balance invariant, reversals, bulk, API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books import accounts
from belegwerk.books.cash import (
    CashEntryInput,
    cash_balance,
    create_cash_entries,
    create_cash_entry,
    get_opening,
    list_cash_entries,
    reverse_cash_entry,
    set_opening_balance,
    voucher_text,
)
from belegwerk.books.categories import account_for, category_by_key
from belegwerk.books.closing import close_day
from belegwerk.books.models import CashEntry, Posting
from belegwerk.core.audit import AuditEntry, verify_chain
from belegwerk.core.db import session_factory
from belegwerk.core.errors import BelegwerkError, Conflict, NotFound, ValidationFailed

TODAY = date.today()
OPENED = TODAY - timedelta(days=30)
D = TODAY - timedelta(days=10)


def cat(session: Session, key: str) -> int:
    return category_by_key(session, key).id


def income(session: Session, amount: str = "119.00", day: date = D, **kw: Any) -> CashEntryInput:
    values: dict[str, Any] = {
        "entry_date": day,
        "description": "Barverkauf",
        "category_id": cat(session, "revenue_19"),
        "direction": "income",
        "amount": amount,
    }
    values.update(kw)
    return CashEntryInput(**values)


def expense(session: Session, amount: str = "11.90", day: date = D, **kw: Any) -> CashEntryInput:
    values: dict[str, Any] = {
        "entry_date": day,
        "description": "Briefumschläge",
        "category_id": cat(session, "office_supplies"),
        "direction": "expense",
        "amount": amount,
    }
    values.update(kw)
    return CashEntryInput(**values)


def opened(session: Session, tenant_id: int, amount: str = "100.00") -> None:
    set_opening_balance(session, tenant_id, OPENED, Decimal(amount))
    session.commit()


def entry_count(session: Session, tenant_id: int) -> int:
    return int(
        session.scalar(select(func.count(CashEntry.id)).where(CashEntry.tenant_id == tenant_id))
        or 0
    )


def postings_of(session: Session, tenant_id: int, entry_id: int) -> list[Posting]:
    return list(
        session.scalars(
            select(Posting)
            .where(
                Posting.tenant_id == tenant_id,
                Posting.source_type == "cash_entry",
                Posting.source_id == entry_id,
            )
            .order_by(Posting.id)
        )
    )


# --------------------------------------------------------------------------- opening balance


def test_opening_balance_is_set_once(session: Session, tenant_id: int) -> None:
    assert get_opening(session, tenant_id) is None
    book = set_opening_balance(session, tenant_id, OPENED, Decimal("250.50"))
    session.commit()
    assert book.opening_balance == Decimal("250.50")
    assert cash_balance(session, tenant_id, TODAY) == Decimal("250.50")
    assert cash_balance(session, tenant_id, OPENED - timedelta(days=1)) == Decimal("0.00")
    with pytest.raises(Conflict) as exc:
        set_opening_balance(session, tenant_id, OPENED, Decimal("1.00"))
    assert exc.value.code == "cash.opening_exists"


def test_opening_balance_must_not_be_negative(session: Session, tenant_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        set_opening_balance(session, tenant_id, OPENED, "-1.00")
    assert exc.value.code == "money.negative"


def test_entry_without_opening_balance_is_refused(session: Session, tenant_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(session, tenant_id, income(session))
    assert exc.value.code == "cash.no_opening_balance"


# --------------------------------------------------------------------------- entries and journal


def test_income_is_split_posted_and_audited(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    entry = create_cash_entry(session, tenant_id, income(session, "119.00"))
    session.commit()
    assert (entry.voucher_number, entry.net, entry.vat, entry.gross) == (
        1,
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )
    assert entry.vat_rate == Decimal("19.00")
    assert entry.input_vat_deductible is False
    (posting,) = postings_of(session, tenant_id, entry.id)
    revenue = account_for(session, tenant_id, category_by_key(session, "revenue_19"), "skr03")
    assert (posting.debit_account, posting.credit_account) == ("1000", revenue)
    assert (posting.amount, posting.net_amount, posting.tax_amount) == (
        Decimal("119.00"),
        Decimal("100.00"),
        Decimal("19.00"),
    )
    assert posting.tax_account == accounts.vat_account("skr03", Decimal(19), output=True)
    assert posting.voucher == "K-000001" == voucher_text(1)
    assert cash_balance(session, tenant_id, D) == Decimal("219.00")
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "cash_entry"
        )
    ).all()
    assert [(a.action, a.entity_id) for a in audit] == [("create", str(entry.id))]
    assert verify_chain(session, tenant_id) == []


def test_expense_in_net_mode_books_input_vat(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    entry = create_cash_entry(
        session, tenant_id, expense(session, "10.00", amount_mode="net", vat_rate="7")
    )
    assert (entry.net, entry.vat, entry.gross) == (
        Decimal("10.00"),
        Decimal("0.70"),
        Decimal("10.70"),
    )
    assert entry.input_vat_deductible is True
    (posting,) = postings_of(session, tenant_id, entry.id)
    office = account_for(session, tenant_id, category_by_key(session, "office_supplies"), "skr03")
    assert (posting.debit_account, posting.credit_account) == (office, "1000")
    assert posting.tax_account == accounts.vat_account("skr03", Decimal(7), output=False)
    assert cash_balance(session, tenant_id, TODAY) == Decimal("89.30")


def test_receipt_with_net_vat_gross_within_a_cent(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    entry = create_cash_entry(
        session,
        tenant_id,
        expense(session, None, net="8.40", vat="1.60", gross="10.00", vat_rate="19"),
    )
    assert (entry.net, entry.vat, entry.gross) == (
        Decimal("8.40"),
        Decimal("1.60"),
        Decimal("10.00"),
    )
    entry = create_cash_entry(
        session,
        tenant_id,
        expense(session, None, net="8.41", vat="1.60", gross="10.00", vat_rate="19"),
    )
    assert entry.net + entry.vat == entry.gross == Decimal("10.00")


def test_voucher_numbers_stay_gap_free_after_refusals(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "10.00")
    first = create_cash_entry(session, tenant_id, income(session, "5.00"))
    with pytest.raises(ValidationFailed):
        create_cash_entry(session, tenant_id, expense(session, "500.00"))
    with pytest.raises(ValidationFailed):
        create_cash_entry(session, tenant_id, income(session, "1.001"))
    second = create_cash_entry(session, tenant_id, expense(session, "3.00"))
    session.commit()
    assert (first.voucher_number, second.voucher_number) == (1, 2)


def test_private_withdrawal_and_deposit_are_transfers(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    withdrawal = create_cash_entry(
        session,
        tenant_id,
        expense(session, "40.00", category_id=cat(session, "private_withdrawal")),
    )
    deposit = create_cash_entry(
        session,
        tenant_id,
        income(session, "15.00", category_id=cat(session, "private_deposit")),
    )
    private_w = account_for(
        session, tenant_id, category_by_key(session, "private_withdrawal"), "skr03"
    )
    private_d = account_for(
        session, tenant_id, category_by_key(session, "private_deposit"), "skr03"
    )
    (pw,) = postings_of(session, tenant_id, withdrawal.id)
    (pd,) = postings_of(session, tenant_id, deposit.id)
    assert (pw.debit_account, pw.credit_account, pw.tax_amount) == (private_w, "1000", 0)
    assert (pd.debit_account, pd.credit_account, pd.tax_amount) == ("1000", private_d, 0)
    assert withdrawal.vat == deposit.vat == Decimal("0.00")
    assert cash_balance(session, tenant_id, TODAY) == Decimal("75.00")
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(
            session,
            tenant_id,
            expense(session, "1.00", category_id=cat(session, "private_withdrawal"), vat_rate=19),
        )
    assert exc.value.code == "cash.private_no_vat"
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(
            session,
            tenant_id,
            income(session, "1.00", category_id=cat(session, "private_withdrawal")),
        )
    assert exc.value.code == "cash.category_direction"


def test_counter_account_books_a_transfer(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    receivables = accounts.account("skr03", "receivables")
    payables = accounts.account("skr03", "payables")
    received = create_cash_entry(
        session, tenant_id, income(session, "238.00"), counter_account=receivables
    )
    paid = create_cash_entry(
        session, tenant_id, expense(session, "50.00"), counter_account=payables
    )
    (pr,) = postings_of(session, tenant_id, received.id)
    (pp,) = postings_of(session, tenant_id, paid.id)
    assert (pr.debit_account, pr.credit_account, pr.amount, pr.tax_amount) == (
        "1000",
        receivables,
        Decimal("238.00"),
        0,
    )
    assert (pp.debit_account, pp.credit_account, pp.amount) == (payables, "1000", Decimal("50.00"))
    assert cash_balance(session, tenant_id, TODAY) == Decimal("288.00")


def test_reduced_2020_rates_only_in_the_second_half_of_2020(
    session: Session, tenant_id: int
) -> None:
    set_opening_balance(session, tenant_id, date(2020, 6, 1), Decimal("0.00"))
    entry = create_cash_entry(
        session, tenant_id, income(session, "116.00", day=date(2020, 8, 3), vat_rate="16")
    )
    assert (entry.net, entry.vat) == (Decimal("100.00"), Decimal("16.00"))
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(
            session, tenant_id, income(session, "116.00", day=date(2020, 6, 3), vat_rate="16")
        )
    assert exc.value.code == "vat.unknown_rate"


# --------------------------------------------------------------------------- bad input


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("too many decimals", {"amount": "10.005"}, "money.too_many_decimals"),
    ("not a number", {"amount": "zehn"}, "money.not_a_number"),
    ("negative amount", {"amount": "-5.00"}, "money.negative"),
    ("zero", {"amount": "0.00"}, "cash.amount_zero"),
    ("no amount", {"amount": None}, "cash.amount_missing"),
    (
        "net + vat != gross",
        {"amount": None, "net": "10.00", "vat": "1.90", "gross": "12.00"},
        "money.inconsistent",
    ),
    (
        "vat does not match the rate",
        {"amount": None, "net": "9.00", "vat": "3.00", "gross": "12.00"},
        "money.inconsistent",
    ),
    ("unknown rate", {"vat_rate": "16"}, "vat.unknown_rate"),
    ("rate not a number", {"vat_rate": "viel"}, "vat.unknown_rate"),
    ("far future", {"entry_date": TODAY + timedelta(days=3000)}, "date.too_far_in_future"),
    ("before opening", {"entry_date": OPENED - timedelta(days=1)}, "cash.before_opening"),
    ("card payment", {"payment_method": "card"}, "cash.not_cash"),
    ("bank payment", {"payment_method": "bank"}, "cash.not_cash"),
    ("bad direction", {"direction": "sideways"}, "cash.invalid_direction"),
    ("bad amount mode", {"amount_mode": "brutto"}, "cash.invalid_amount_mode"),
    ("no description", {"description": "  "}, "cash.description_missing"),
]


@pytest.mark.parametrize(
    ("overrides", "code"), [(o, c) for _, o, c in BAD_INPUT], ids=[n for n, _, _ in BAD_INPUT]
)
def test_bad_input_is_refused_and_nothing_stored(
    session: Session, tenant_id: int, overrides: dict[str, Any], code: str
) -> None:
    opened(session, tenant_id)
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(session, tenant_id, income(session, **overrides))
    assert exc.value.code == code
    assert exc.value.message
    assert exc.value.details and "field" in exc.value.details[0]
    session.rollback()
    assert entry_count(session, tenant_id) == 0


def test_revenue_category_cannot_be_an_expense(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(
            session, tenant_id, expense(session, category_id=cat(session, "revenue_19"))
        )
    assert exc.value.code == "cash.category_direction"
    with pytest.raises(NotFound):
        create_cash_entry(session, tenant_id, expense(session, category_id=999_999))


def test_small_business_books_gross_without_vat(
    engine: Engine, make_tenant: Callable[..., int]
) -> None:
    tenant = make_tenant(vat_regime="small_business", chart="skr04")
    with session_factory(engine)() as session:
        session.info["tenant_id"] = tenant
        opened(session, tenant)
        entry = create_cash_entry(
            session,
            tenant,
            expense(session, "11.90", input_vat_deductible=True),
        )
        assert (entry.net, entry.vat, entry.gross, entry.vat_rate) == (
            Decimal("11.90"),
            Decimal("0.00"),
            Decimal("11.90"),
            Decimal("0.00"),
        )
        assert entry.input_vat_deductible is False
        (posting,) = postings_of(session, tenant, entry.id)
        assert posting.credit_account == "1600"  # Kasse in SKR04
        assert posting.tax_amount == 0 and posting.tax_account is None
        for overrides in (
            {"vat_rate": "19"},
            {"amount": None, "net": "10.00", "vat": "1.90", "gross": "11.90"},
        ):
            with pytest.raises(ValidationFailed) as exc:
                create_cash_entry(session, tenant, income(session, **overrides))
            assert exc.value.code == "vat.small_business_no_vat"
        session.commit()


# --------------------------------------------------------------------------- balance invariant


def test_expense_beyond_the_balance_is_refused(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "50.00")
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entry(session, tenant_id, expense(session, "60.00"))
    assert exc.value.code == "cash.negative_balance"
    assert "-10,00" in exc.value.message or "-10.00" in exc.value.message
    assert exc.value.details[0]["balance"] == "-10.00"
    create_cash_entry(session, tenant_id, expense(session, "50.00"))  # down to exactly zero
    assert cash_balance(session, tenant_id, TODAY) == Decimal("0.00")


def test_back_dated_expense_may_not_break_a_later_day(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "0.00")
    d3, d5, d7, d10 = (OPENED + timedelta(days=n) for n in (3, 5, 7, 10))
    create_cash_entry(session, tenant_id, income(session, "100.00", day=d5))
    create_cash_entry(session, tenant_id, expense(session, "100.00", day=d10))
    with pytest.raises(ValidationFailed) as exc:  # fine on d7 itself, negative on d10
        create_cash_entry(session, tenant_id, expense(session, "50.00", day=d7))
    assert exc.value.code == "cash.negative_balance"
    assert exc.value.details[0]["date"] == d10.isoformat()
    with pytest.raises(ValidationFailed) as exc:  # before the income: negative right away
        create_cash_entry(session, tenant_id, expense(session, "50.00", day=d3))
    assert exc.value.details[0]["date"] == d3.isoformat()
    # an income on d7 makes room for a back-dated expense on d7 of the same size
    create_cash_entry(session, tenant_id, income(session, "30.00", day=d7))
    create_cash_entry(session, tenant_id, expense(session, "30.00", day=d7))
    assert cash_balance(session, tenant_id, d10) == Decimal("0.00")


def test_entries_on_closed_days_are_refused(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "10.00")
    close_day(session, tenant_id, D, {"10": 1})
    for day in (D, D - timedelta(days=1)):
        with pytest.raises(ValidationFailed) as exc:
            create_cash_entry(session, tenant_id, income(session, day=day))
        assert exc.value.code == "cash.day_closed"
    create_cash_entry(session, tenant_id, income(session, day=D + timedelta(days=1)))


# --------------------------------------------------------------------------- reversal


def test_reversal_cancels_exactly(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    original = create_cash_entry(session, tenant_id, expense(session, "11.90"))
    session.commit()
    before = cash_balance(session, tenant_id, TODAY)
    reversal = reverse_cash_entry(session, tenant_id, original.id, "Falscher Betrag")
    session.commit()
    assert reversal.direction == "income"
    assert reversal.reverses_id == original.id
    assert reversal.reversal_reason == "Falscher Betrag"
    assert reversal.entry_date == TODAY
    assert (reversal.net, reversal.vat, reversal.gross) == (
        original.net,
        original.vat,
        original.gross,
    )
    assert reversal.voucher_number == original.voucher_number + 1
    assert cash_balance(session, tenant_id, TODAY) == before + original.gross == Decimal("100.00")
    (p_orig,) = postings_of(session, tenant_id, original.id)
    (p_rev,) = postings_of(session, tenant_id, reversal.id)
    assert (p_rev.debit_account, p_rev.credit_account) == (
        p_orig.credit_account,
        p_orig.debit_account,
    )
    assert (p_rev.amount, p_rev.tax_amount, p_rev.reverses_id) == (
        p_orig.amount,
        p_orig.tax_amount,
        p_orig.id,
    )
    assert p_rev.voucher == voucher_text(reversal.voucher_number)
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "cash_entry")
        .order_by(AuditEntry.seq)
    ).all()
    assert actions == ["create", "reverse"]
    assert verify_chain(session, tenant_id) == []


def test_reversal_rules(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "0.00")
    sale = create_cash_entry(session, tenant_id, income(session, "100.00"))
    spend = create_cash_entry(session, tenant_id, expense(session, "80.00"))
    session.commit()
    with pytest.raises(ValidationFailed) as exc:
        reverse_cash_entry(session, tenant_id, spend.id, "  ")
    assert exc.value.code == "reason.missing"
    with pytest.raises(ValidationFailed) as exc:  # taking back the sale leaves -80
        reverse_cash_entry(session, tenant_id, sale.id, "Irrtum")
    assert exc.value.code == "cash.negative_balance"
    with pytest.raises(ValidationFailed) as exc:
        reverse_cash_entry(session, tenant_id, spend.id, "Irrtum", on=D - timedelta(days=1))
    assert exc.value.code == "cash.reversal_before_original"
    reversal = reverse_cash_entry(session, tenant_id, spend.id, "Doppelt erfasst", on=D)
    with pytest.raises(Conflict) as exc:
        reverse_cash_entry(session, tenant_id, spend.id, "Nochmal")
    assert exc.value.code == "cash.already_reversed"
    with pytest.raises(Conflict) as exc:
        reverse_cash_entry(session, tenant_id, reversal.id, "Storno vom Storno")
    assert exc.value.code == "cash.reversal_of_reversal"
    with pytest.raises(NotFound):
        reverse_cash_entry(session, tenant_id, 987_654_321, "weg damit")
    session.commit()
    assert cash_balance(session, tenant_id, TODAY) == Decimal("100.00")


def test_reversal_on_a_closed_day_is_refused(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id)
    entry = create_cash_entry(session, tenant_id, income(session, "10.00"))
    close_day(session, tenant_id, D + timedelta(days=1), {"100": 1, "10": 1})
    with pytest.raises(ValidationFailed) as exc:
        reverse_cash_entry(session, tenant_id, entry.id, "Irrtum", on=D + timedelta(days=1))
    assert exc.value.code == "cash.day_closed"
    reverse_cash_entry(session, tenant_id, entry.id, "Irrtum", on=D + timedelta(days=2))


# --------------------------------------------------------------------------- immutability


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cash_entries SET gross = gross + 1 WHERE tenant_id = :t",
        "DELETE FROM cash_entries WHERE tenant_id = :t",
        "UPDATE cash_books SET opening_balance = 0 WHERE tenant_id = :t",
        "DELETE FROM cash_books WHERE tenant_id = :t",
    ],
)
def test_raw_sql_cannot_change_cash_rows(session: Session, tenant_id: int, statement: str) -> None:
    opened(session, tenant_id)
    create_cash_entry(session, tenant_id, income(session))
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(text(statement), {"t": tenant_id})
        session.flush()
    session.rollback()
    assert entry_count(session, tenant_id) == 1
    assert cash_balance(session, tenant_id, TODAY) == Decimal("219.00")


# --------------------------------------------------------------------------- listing and bulk


def test_list_has_running_balance_and_pages(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "10.00")
    d1, d2 = D - timedelta(days=2), D
    create_cash_entry(session, tenant_id, income(session, "5.00", day=d2))
    create_cash_entry(session, tenant_id, income(session, "1.00", day=d1))  # back-dated
    create_cash_entry(session, tenant_id, expense(session, "4.00", day=d2))
    session.commit()
    page = list_cash_entries(session, tenant_id)
    assert page.total == 3
    assert [(r.entry.voucher_number, r.balance) for r in page.items] == [
        (2, Decimal("11.00")),
        (1, Decimal("16.00")),
        (3, Decimal("12.00")),
    ]
    second = list_cash_entries(session, tenant_id, page=2, page_size=2)
    assert [(r.entry.voucher_number, r.balance) for r in second.items] == [(3, Decimal("12.00"))]
    only_d2 = list_cash_entries(session, tenant_id, start=d2, end=d2)
    assert [r.balance for r in only_d2.items] == [Decimal("16.00"), Decimal("12.00")]


def test_bulk_booking(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "0.00")
    create_cash_entry(session, tenant_id, income(session, "10.00", day=D - timedelta(days=5)))
    items = []
    for n in range(60):
        day = D + timedelta(days=n % 5)
        items.append(income(session, "11.90", day=day))
        items.append(expense(session, "5.95", day=day, description=f"Beleg {n}"))
    assert create_cash_entries(session, tenant_id, items) == 120
    session.commit()
    numbers = session.scalars(
        select(CashEntry.voucher_number)
        .where(CashEntry.tenant_id == tenant_id)
        .order_by(CashEntry.voucher_number)
    ).all()
    assert numbers == list(range(1, 122))
    assert cash_balance(session, tenant_id, TODAY) == Decimal("10.00") + 60 * Decimal("5.95")
    assert (
        session.scalar(select(func.count(Posting.id)).where(Posting.tenant_id == tenant_id)) == 121
    )
    assert verify_chain(session, tenant_id) == []
    later = create_cash_entry(session, tenant_id, income(session, "1.00", day=TODAY))
    assert later.voucher_number == 122


def test_bulk_refuses_a_batch_that_goes_negative(session: Session, tenant_id: int) -> None:
    opened(session, tenant_id, "0.00")
    items = [
        expense(session, "5.00", day=D),
        income(session, "10.00", day=D + timedelta(days=1)),
    ]
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entries(session, tenant_id, items)
    assert exc.value.code == "cash.negative_balance"
    with pytest.raises(ValidationFailed) as exc:
        create_cash_entries(session, tenant_id, [income(session), income(session, "1.234")])
    assert exc.value.code == "money.too_many_decimals"
    assert exc.value.details[0]["index"] == 1
    session.rollback()
    assert entry_count(session, tenant_id) == 0


# --------------------------------------------------------------------------- REST API


def test_api_cash_book_flow(client: Any, session: Session) -> None:
    assert client.get("/api/v1/cash/opening").json() is None
    r = client.post(
        "/api/v1/cash/opening", json={"opening_date": OPENED.isoformat(), "amount": "100.00"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["opening_balance"] == "100.00"
    r = client.post(
        "/api/v1/cash/opening", json={"opening_date": OPENED.isoformat(), "amount": "1.00"}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "cash.opening_exists"

    body = {
        "entry_date": D.isoformat(),
        "description": "Kaffee für Kunden",
        "category_id": cat(session, "office_supplies"),
        "direction": "expense",
        "amount": "23.80",
    }
    r = client.post("/api/v1/cash/entries", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["gross"], created["net"], created["vat"], created["vat_rate"]) == (
        "23.80",
        "20.00",
        "3.80",
        "19.00",
    )
    assert created["voucher"] == "K-000001" and created["balance"] == "76.20"

    listing = client.get("/api/v1/cash/entries", params={"from": D.isoformat()}).json()
    assert listing["total"] == 1 and listing["items"][0]["balance"] == "76.20"
    assert client.get(f"/api/v1/cash/entries/{created['id']}").json()["gross"] == "23.80"
    assert client.get("/api/v1/cash/balance", params={"on": D.isoformat()}).json() == {
        "on": D.isoformat(),
        "balance": "76.20",
    }

    r = client.post(f"/api/v1/cash/entries/{created['id']}/reverse", json={})
    assert r.status_code == 422 and r.json()["error"]["code"] == "reason.missing"
    r = client.post(f"/api/v1/cash/entries/{created['id']}/reverse", json={"reason": "Irrtum"})
    assert r.status_code == 201, r.text
    assert r.json()["reverses_id"] == created["id"] and r.json()["direction"] == "income"
    r = client.post(f"/api/v1/cash/entries/{created['id']}/reverse", json={"reason": "Irrtum"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "cash.already_reversed"
    item = client.get(f"/api/v1/cash/entries/{created['id']}").json()
    assert item["reversed_by_id"] == r.json()["error"]["details"][0]["reversal_id"]
    assert client.get("/api/v1/cash/balance").json()["balance"] == "100.00"


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"amount": "1.999"}, 422, "money.too_many_decimals"),
        ({"amount": "abc"}, 422, "money.not_a_number"),
        (
            {"amount": None, "net": "10.00", "vat": "1.00", "gross": "12.00"},
            422,
            "money.inconsistent",
        ),
        ({"vat_rate": "12"}, 422, "vat.unknown_rate"),
        ({"entry_date": "2099-01-01"}, 422, "date.too_far_in_future"),
        ({"amount": "500.00"}, 422, "cash.negative_balance"),
        ({"payment_method": "card"}, 422, "cash.not_cash"),
        ({"category_id": 999_999}, 404, "category.not_found"),
        ({"entry_date": "gestern"}, 422, "request.invalid"),
        ({"surprise": 1}, 422, "request.invalid"),
    ],
)
def test_api_errors_have_our_shape(
    client: Any, session: Session, overrides: dict[str, Any], status: int, code: str
) -> None:
    client.post(
        "/api/v1/cash/opening", json={"opening_date": OPENED.isoformat(), "amount": "100.00"}
    )
    body = {
        "entry_date": D.isoformat(),
        "description": "Porto",
        "category_id": cat(session, "office_supplies"),
        "direction": "expense",
        "amount": "10.00",
        **overrides,
    }
    r = client.post("/api/v1/cash/entries", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"]
    assert isinstance(error["details"], list)
    assert client.get("/api/v1/cash/entries").json()["total"] == 0


def test_api_without_opening_and_unknown_entry(client: Any, session: Session) -> None:
    body = {
        "entry_date": D.isoformat(),
        "description": "Verkauf",
        "category_id": cat(session, "revenue_19"),
        "direction": "income",
        "amount": "10.00",
    }
    r = client.post("/api/v1/cash/entries", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "cash.no_opening_balance"
    r = client.get("/api/v1/cash/entries/424242")
    assert r.status_code == 404 and r.json()["error"]["code"] == "cash.not_found"


def test_errors_are_belegwerk_errors() -> None:
    assert issubclass(ValidationFailed, BelegwerkError)


# --------------------------------------------------------------------------- revenue accounts


@pytest.mark.parametrize(("rate", "account"), [("19", "8400"), ("7", "8300"), ("0", "8100")])
def test_sales_revenue_account_follows_the_rate(
    session: Session, tenant_id: int, rate: str, account: str
) -> None:
    """8400 is DATEV's 19 % automatic account: a 7 % sale picked as "19 %" must not land there."""
    opened(session, tenant_id)
    entry = create_cash_entry(session, tenant_id, income(session, "10.70", vat_rate=rate))
    (posting,) = postings_of(session, tenant_id, entry.id)
    assert posting.credit_account == account
    assert entry.category_id == posting.category_id


def test_small_business_sales_go_to_the_section_19_account(
    engine: Engine, make_tenant: Callable[..., int]
) -> None:
    tenant = make_tenant(vat_regime="small_business", chart="skr04")
    with session_factory(engine)() as session:
        session.info["tenant_id"] = tenant
        opened(session, tenant)
        entry = create_cash_entry(session, tenant, income(session, "50.00"))
        (posting,) = postings_of(session, tenant, entry.id)
        assert posting.credit_account == "4184"
        assert posting.tax_amount == 0
        session.commit()


def test_bank_deposit_is_cash_in_transit(session: Session, tenant_id: int) -> None:
    """Taking cash to the bank is neither expense nor income: Kasse → Geldtransit, no VAT."""
    opened(session, tenant_id, "500.00")
    entry = create_cash_entry(
        session,
        tenant_id,
        expense(session, "400.00", category_id=cat(session, "cash_transit"), vat_rate="0"),
    )
    (posting,) = postings_of(session, tenant_id, entry.id)
    assert (posting.debit_account, posting.credit_account) == ("1360", "1000")
    assert posting.tax_amount == 0 and entry.vat == 0
    with pytest.raises(ValidationFailed) as err:
        create_cash_entry(
            session,
            tenant_id,
            expense(session, "10.00", category_id=cat(session, "cash_transit"), vat_rate="19"),
        )
    assert err.value.code == "cash.private_no_vat"
