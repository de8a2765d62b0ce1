"""Property-based tests of the cash-book invariant.

balance = opening + Σ income − Σ expense on every day; it is never negative (operations that
would break that are refused and change nothing); a reversal cancels its entry exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from belegwerk.books.cash import (
    CashEntryInput,
    cash_balance,
    create_cash_entries,
    create_cash_entry,
    list_cash_entries,
    reverse_cash_entry,
    set_opening_balance,
)
from belegwerk.books.categories import category_by_key
from belegwerk.books.models import Posting
from belegwerk.core.db import session_factory
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.money import from_cents, split_gross, vat_from_net

TODAY = date.today()
OPENED = TODAY - timedelta(days=40)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

cents = st.integers(min_value=1, max_value=30_000)
day_offset = st.integers(min_value=0, max_value=15)
operation = st.one_of(
    st.tuples(st.sampled_from(["income", "expense"]), cents, day_offset),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=40), st.just(0)),
)


@dataclass
class Booked:
    id: int
    day: date
    signed: int  # cents, income positive
    is_reversal: bool
    reversed: bool = False


@contextmanager
def tenant_session(engine: Engine, tenant_id: int) -> Iterator[Session]:
    session = session_factory(engine)()
    session.info["tenant_id"] = tenant_id
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def end_of_day_balances(opening: int, booked: list[Booked]) -> dict[date, int]:
    daily: dict[date, int] = defaultdict(int)
    for b in booked:
        daily[b.day] += b.signed
    balance, result = opening, {}
    for day in sorted(daily):
        balance += daily[day]
        result[day] = balance
    return result


def stays_non_negative(opening: int, booked: list[Booked]) -> bool:
    return all(v >= 0 for v in end_of_day_balances(opening, booked).values())


def entry(session: Session, direction: str, amount: int, day: date) -> CashEntryInput:
    key = "revenue_19" if direction == "income" else "office_supplies"
    return CashEntryInput(
        entry_date=day,
        description=f"{direction} {amount}",
        category_id=category_by_key(session, key).id,
        direction=direction,
        amount=from_cents(amount),
    )


def check_invariant(session: Session, tenant_id: int, opening: int, booked: list[Booked]) -> None:
    total = opening + sum(b.signed for b in booked)
    assert cash_balance(session, tenant_id, TODAY) == from_cents(total)
    for day, expected in end_of_day_balances(opening, booked).items():
        actual = cash_balance(session, tenant_id, day)
        assert actual == from_cents(expected) and actual >= 0
    rows = list_cash_entries(session, tenant_id, page_size=1000).items
    assert len(rows) == len(booked)
    if rows:
        assert rows[-1].balance == from_cents(total)


@SETTINGS
@given(opening=st.integers(min_value=0, max_value=20_000), ops=st.lists(operation, max_size=10))
def test_balance_invariant_with_reversals(
    engine: Engine,
    make_tenant: Callable[..., int],
    opening: int,
    ops: list[tuple[str, int, int]],
) -> None:
    tenant_id = make_tenant(chart="skr03")
    with tenant_session(engine, tenant_id) as session:
        set_opening_balance(session, tenant_id, OPENED, from_cents(opening))
        booked: list[Booked] = []
        for kind, value, offset in ops:
            if kind == "reverse":
                if not booked:
                    continue
                target = booked[value % len(booked)]
                candidate = Booked(0, TODAY, -target.signed, True)
                try:
                    reversal = reverse_cash_entry(session, tenant_id, target.id, "Korrektur")
                except Conflict as exc:
                    expected_code = (
                        "cash.reversal_of_reversal"
                        if target.is_reversal
                        else "cash.already_reversed"
                    )
                    assert target.is_reversal or target.reversed
                    assert exc.code == expected_code
                except ValidationFailed as exc:
                    assert exc.code == "cash.negative_balance"
                    assert not stays_non_negative(opening, [*booked, candidate])
                else:
                    assert not target.is_reversal and not target.reversed
                    assert stays_non_negative(opening, [*booked, candidate])
                    assert reversal.gross == from_cents(abs(target.signed))
                    target.reversed = True
                    candidate.id = reversal.id
                    booked.append(candidate)
            else:
                day = OPENED + timedelta(days=offset)
                signed = value if kind == "income" else -value
                candidate = Booked(0, day, signed, False)
                allowed = stays_non_negative(opening, [*booked, candidate])
                try:
                    created = create_cash_entry(
                        session, tenant_id, entry(session, kind, value, day)
                    )
                except ValidationFailed as exc:
                    assert exc.code == "cash.negative_balance"
                    assert not allowed
                else:
                    assert allowed
                    candidate.id = created.id
                    booked.append(candidate)
            check_invariant(session, tenant_id, opening, booked)

        # A reversed pair leaves no trace on any account: its postings cancel exactly.
        pairs = {b.id for b in booked if b.reversed}
        pairs |= {b.id for b in booked if b.is_reversal}
        net: dict[str, int] = defaultdict(int)
        for p in session.scalars(
            select(Posting).where(
                Posting.tenant_id == tenant_id,
                Posting.source_type == "cash_entry",
                Posting.source_id.in_(pairs or {-1}),
            )
        ):
            amount = int(p.amount * 100)
            net[p.debit_account] += amount
            net[p.credit_account] -= amount
        assert all(v == 0 for v in net.values())
        session.commit()


@SETTINGS
@given(
    opening=st.integers(min_value=0, max_value=5_000),
    batch=st.lists(
        st.tuples(st.sampled_from(["income", "expense"]), cents, day_offset),
        min_size=1,
        max_size=25,
    ),
)
def test_bulk_batch_is_all_or_nothing(
    engine: Engine,
    make_tenant: Callable[..., int],
    opening: int,
    batch: list[tuple[str, int, int]],
) -> None:
    tenant_id = make_tenant(chart="skr04")
    with tenant_session(engine, tenant_id) as session:
        set_opening_balance(session, tenant_id, OPENED, from_cents(opening))
        session.commit()
        planned = [
            Booked(0, OPENED + timedelta(days=o), v if k == "income" else -v, False)
            for k, v, o in batch
        ]
        allowed = stays_non_negative(opening, planned)
        items = [entry(session, k, v, OPENED + timedelta(days=o)) for k, v, o in batch]
        try:
            count = create_cash_entries(session, tenant_id, items)
        except ValidationFailed as exc:
            assert exc.code == "cash.negative_balance" and not allowed
            session.rollback()
            check_invariant(session, tenant_id, opening, [])
        else:
            assert allowed and count == len(batch)
            session.commit()
            check_invariant(session, tenant_id, opening, planned)


@SETTINGS
@given(
    amount=st.integers(min_value=1, max_value=10**9),
    rate=st.sampled_from([0, 7, 19]),
    mode=st.sampled_from(["gross", "net"]),
)
def test_stored_amounts_always_add_up(
    engine: Engine, make_tenant: Callable[..., int], amount: int, rate: int, mode: str
) -> None:
    tenant_id = make_tenant(chart="skr03")
    with tenant_session(engine, tenant_id) as session:
        set_opening_balance(session, tenant_id, OPENED, Decimal("0.00"))
        value = from_cents(amount)
        created = create_cash_entry(
            session,
            tenant_id,
            CashEntryInput(
                entry_date=TODAY,
                description="Verkauf",
                category_id=category_by_key(session, "revenue_19").id,
                direction="income",
                amount=value,
                amount_mode=mode,
                vat_rate=rate,
            ),
        )
        assert created.net + created.vat == created.gross
        if mode == "gross":
            assert created.gross == value
            assert (created.net, created.vat) == split_gross(value, Decimal(rate))
        else:
            assert created.net == value and created.vat == vat_from_net(value, Decimal(rate))
