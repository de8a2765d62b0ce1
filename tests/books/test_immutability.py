"""GoBD by construction: the database itself refuses to change booked rows, on both backends."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books import cash
from belegwerk.books.categories import category_by_key

DAY = date.today() - timedelta(days=3)

STATEMENTS = [
    "UPDATE postings SET amount = 1 WHERE tenant_id = :t",
    "DELETE FROM postings WHERE tenant_id = :t",
    "UPDATE cash_entries SET gross = 1 WHERE tenant_id = :t",
    "DELETE FROM cash_entries WHERE tenant_id = :t",
    "UPDATE cash_books SET opening_balance = 0 WHERE tenant_id = :t",
    "DELETE FROM cash_books WHERE tenant_id = :t",
    "UPDATE audit_log SET actor = 'someone' WHERE tenant_id = :t",
    "DELETE FROM audit_log WHERE tenant_id = :t",
]


@pytest.fixture
def booked(session: Session, tenant_id: int) -> int:
    cash.set_opening_balance(session, tenant_id, DAY, Decimal("50.00"))
    cash.create_cash_entry(
        session,
        tenant_id,
        cash.CashEntryInput(
            entry_date=DAY,
            description="Barverkauf",
            category_id=category_by_key(session, "revenue_19").id,
            direction="income",
            amount=Decimal("11.90"),
        ),
    )
    session.commit()
    return tenant_id


@pytest.mark.parametrize("statement", STATEMENTS)
def test_raw_sql_cannot_change_booked_rows(session: Session, booked: int, statement: str) -> None:
    before = session.execute(
        text("SELECT count(*) FROM postings WHERE tenant_id = :t"), {"t": booked}
    ).scalar_one()
    assert before == 1
    with pytest.raises(DBAPIError, match="immutable"):
        session.execute(text(statement), {"t": booked})
    session.rollback()
    after = session.execute(
        text("SELECT amount FROM postings WHERE tenant_id = :t"), {"t": booked}
    ).scalar_one()
    assert after == 1190  # cents, unchanged


def test_reversing_twice_never_cancels_twice(session: Session, booked: int) -> None:
    from sqlalchemy import func, select

    from belegwerk.books import journal
    from belegwerk.books.models import CashEntry, Posting

    entry_id = session.scalar(select(CashEntry.id).where(CashEntry.tenant_id == booked))
    assert entry_id is not None
    for _ in range(2):
        journal.reverse(
            session,
            booked,
            "cash_entry",
            entry_id,
            reversal_type="test_rev",
            reversal_id=1,
            posting_date=DAY,
            voucher="T-1",
        )
    mirrors = session.scalar(
        select(func.count())
        .select_from(Posting)
        .where(Posting.tenant_id == booked, Posting.source_type == "test_rev")
    )
    assert mirrors == 1
    session.rollback()
