"""Simultaneous writers of one tenant on PostgreSQL: no lost numbers, no audit collisions,
no deadlocks — the way web requests run (tenant lock first)."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from belegwerk.books import cash
from belegwerk.books.categories import category_by_key
from belegwerk.books.models import CashEntry
from belegwerk.core.audit import verify_chain
from belegwerk.core.db import lock_tenant, system_session, tenant_session
from belegwerk.tenancy.service import CompanyData, create_tenant

pytestmark = pytest.mark.postgres
DAY = date.today() - timedelta(days=1)


def test_parallel_cash_entries_stay_gap_free(pg_engine: Engine) -> None:
    with system_session(pg_engine) as s:
        tenant_id = create_tenant(
            s, CompanyData(name="Parallel GmbH"), slug=f"t-{uuid.uuid4().hex[:8]}"
        ).id
    with tenant_session(tenant_id, pg_engine) as s:
        cash.set_opening_balance(s, tenant_id, DAY, Decimal("100.00"))
        income = category_by_key(s, "revenue_19").id
        expense = category_by_key(s, "office_supplies").id

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                with tenant_session(tenant_id, pg_engine) as s:
                    lock_tenant(s, tenant_id)
                    cash.create_cash_entry(
                        s,
                        tenant_id,
                        cash.CashEntryInput(
                            entry_date=DAY,
                            description=f"Worker {n} Beleg {i}",
                            category_id=income if i % 2 == 0 else expense,
                            direction="income" if i % 2 == 0 else "expense",
                            amount=Decimal("1.19"),
                        ),
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with tenant_session(tenant_id, pg_engine) as s:
        numbers = sorted(
            s.scalars(select(CashEntry.voucher_number).where(CashEntry.tenant_id == tenant_id))
        )
        assert numbers == list(range(1, 31))
        assert (
            s.scalar(
                select(func.count()).select_from(CashEntry).where(CashEntry.tenant_id == tenant_id)
            )
            == 30
        )
        assert verify_chain(s, tenant_id) == []
        assert cash.cash_balance(s, tenant_id, DAY) == Decimal(
            "107.14"
        )  # 6 workers × (3 × 1.19 in − 2 × 1.19 out)
