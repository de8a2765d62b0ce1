"""The demo goes through the real services; it must produce consistent, verifiable books."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select

from belegwerk.books import cash, closing
from belegwerk.books.models import CashEntry, Invoice, Posting
from belegwerk.core.audit import verify_chain
from belegwerk.core.db import tenant_session
from belegwerk.demo import demo_loaded, has_business_data, load_demo
from belegwerk.tenancy.service import get_company


def test_demo_loads_two_consistent_companies(engine: Engine) -> None:
    today = date(2026, 11, 23)
    freelancer, gmbh = load_demo(engine, today=today)
    assert demo_loaded(engine)
    assert has_business_data(engine)
    for tenant_id, regime in ((freelancer, "small_business"), (gmbh, "standard")):
        with tenant_session(tenant_id, engine) as s:
            assert get_company(s, tenant_id).vat_regime == regime
            first, last, count = s.execute(
                select(
                    func.min(Invoice.issue_date), func.max(Invoice.issue_date), func.count()
                ).where(Invoice.tenant_id == tenant_id)
            ).one()
            assert count > 100
            assert first <= date(2024, 12, 1) and last >= date(2026, 10, 1)
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(CashEntry)
                    .where(CashEntry.tenant_id == tenant_id)
                )
                > 200
            )
            assert (
                s.scalar(
                    select(func.count()).select_from(Posting).where(Posting.tenant_id == tenant_id)
                )
                > 300
            )
            assert verify_chain(s, tenant_id) == []
            days = s.scalars(
                select(CashEntry.entry_date)
                .where(CashEntry.tenant_id == tenant_id)
                .order_by(CashEntry.voucher_number)
            ).all()
            assert days == sorted(days), "voucher numbers follow the dates, as in a real till"
            assert closing.verify_closings(s, tenant_id) == []
            assert cash.cash_balance(s, tenant_id, today) >= Decimal(0)
            # Yesterday's cash moved without a closing: the reminder shows.
            yesterday = today - timedelta(days=1)
            assert closing.missing_closing_reminder(s, tenant_id, today) == yesterday
    with tenant_session(freelancer, engine) as s:
        outgoing = s.scalars(
            select(Invoice).where(Invoice.tenant_id == freelancer, Invoice.direction == "out")
        ).all()
        assert all(i.vat_total == 0 and "§ 19 UStG" in i.note for i in outgoing)
    from belegwerk.banking.models import BankTransaction, PaymentMatch

    for tenant_id in (freelancer, gmbh):
        with tenant_session(tenant_id, engine) as s:
            lines = s.scalar(
                select(func.count())
                .select_from(BankTransaction)
                .where(BankTransaction.tenant_id == tenant_id)
            )
            linked = s.scalar(
                select(func.count())
                .select_from(PaymentMatch)
                .where(PaymentMatch.tenant_id == tenant_id, PaymentMatch.status == "linked")
            )
            assert lines and lines >= 5
            assert linked and linked >= 1, "the demo statement pays open invoices"
    with tenant_session(gmbh, engine) as s:
        vat = s.scalar(
            select(func.sum(Invoice.vat_total)).where(
                Invoice.tenant_id == gmbh, Invoice.direction == "out"
            )
        )
        assert vat is not None and vat > 0
