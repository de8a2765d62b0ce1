"""Book 10,000 cash entries and 10,000 invoices (with lines, tax totals, postings and audit
records) through the service layer on a fresh SQLite file, and time the invoice list.

Targets (issue 2): booking both under 20 s on SQLite; the invoice list page with 10,000
invoices under 150 ms server time. Run: .venv/bin/python bench/booking.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from belegwerk.books import cash, invoices, parties
from belegwerk.books.categories import category_by_key, sync_master_categories
from belegwerk.books.invoice_calc import LineInput
from belegwerk.core.db import make_engine, system_session, tenant_session
from belegwerk.core.guards import APP_ROLE
from belegwerk.core.migrate import upgrade
from belegwerk.tenancy.service import CompanyData, create_tenant

N = 10_000
START = date(2025, 1, 1)


def setup(url: str, pg: bool) -> tuple[Engine, int]:
    upgrade(url)
    engine = make_engine(url, APP_ROLE if pg else None)
    with system_session(engine) as s:
        sync_master_categories(s)
        tenant = create_tenant(
            s, CompanyData(name="Bench GmbH", chart="skr03"), slug=f"bench-{uuid.uuid4().hex[:6]}"
        )
    return engine, tenant.id


def cash_items(session_cat: dict[str, int], rng: random.Random) -> list[cash.CashEntryInput]:
    items = []
    for i in range(N):
        day = START + timedelta(days=i // 20)
        if i % 4 == 0:
            items.append(
                cash.CashEntryInput(
                    entry_date=day,
                    description=f"Barverkauf {i}",
                    category_id=session_cat["revenue_19"],
                    direction="income",
                    amount=Decimal(rng.randint(2000, 9000)) / 100,
                )
            )
        else:
            items.append(
                cash.CashEntryInput(
                    entry_date=day,
                    description=f"Büromaterial {i}",
                    category_id=session_cat["office_supplies"],
                    direction="expense",
                    amount=Decimal(rng.randint(100, 1500)) / 100,
                )
            )
    return items


def invoice_drafts(
    cats: dict[str, int], customer: int, supplier: int, rng: random.Random
) -> list[invoices.InvoiceInput]:
    drafts = []
    for i in range(N):
        day = START + timedelta(days=i // 15)
        out = i % 3 != 0
        lines = [
            LineInput(
                description=f"Position {j}",
                quantity=Decimal(rng.randint(1, 20)),
                unit_price=Decimal(rng.randint(500, 50000)) / 100,
                vat_rate=Decimal(rng.choice([19, 19, 7])) if out else Decimal(19),
                category_id=(cats["revenue_19"] if out else cats["goods_purchase"]),
            )
            for j in range(rng.randint(1, 3))
        ]
        if out:
            lines = [
                LineInput(**{**ln.__dict__, "category_id": cats["revenue_7"]})
                if ln.vat_rate == 7
                else ln
                for ln in lines
            ]
        drafts.append(
            invoices.InvoiceInput(
                direction="out" if out else "in",
                issue_date=day,
                party_id=customer if out else supplier,
                lines=lines,
                external_number="" if out else f"LI-{i}",
            )
        )
    return drafts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.postgres or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    engine, tenant_id = setup(url, bool(args.postgres))
    rng = random.Random(7)
    with tenant_session(tenant_id, engine) as s:
        cats = {
            k: category_by_key(s, k).id
            for k in ("revenue_19", "revenue_7", "office_supplies", "goods_purchase")
        }
        customer = parties.create_party(
            s, tenant_id, parties.PartyData(name="Kunde AG", is_customer=True)
        ).id
        supplier = parties.create_party(
            s, tenant_id, parties.PartyData(name="Lieferant KG", is_supplier=True)
        ).id
        cash.set_opening_balance(s, tenant_id, START, Decimal("5000.00"))
    items = cash_items(cats, rng)
    drafts = invoice_drafts(cats, customer, supplier, rng)

    t0 = time.perf_counter()
    with tenant_session(tenant_id, engine) as s:
        cash.create_cash_entries(s, tenant_id, items)
    t1 = time.perf_counter()
    with tenant_session(tenant_id, engine) as s:
        invoices.book_invoices_bulk(s, tenant_id, drafts)
    t2 = time.perf_counter()
    print(f"database: {engine.dialect.name}")
    print(f"{N} cash entries booked (entries, postings, audit): {t1 - t0:.2f} s")
    print(f"{N} invoices booked (lines, tax totals, postings, audit): {t2 - t1:.2f} s")
    print(f"total: {t2 - t0:.2f} s (target < 20 s on SQLite)")

    timings = []
    with tenant_session(tenant_id, engine) as s:
        for page in (1, 2, 100, 1, 50, 200):
            t = time.perf_counter()
            invoices.list_invoices(s, tenant_id, page=page, page_size=50)
            timings.append((time.perf_counter() - t) * 1000)
    print(
        f"list_invoices (10,000 invoices, 50 per page): median {statistics.median(timings):.1f} ms,"
        f" max {max(timings):.1f} ms"
    )
    page_timings(engine, tenant_id)
    engine.dispose()
    tmp.cleanup()


def page_timings(engine: Engine, tenant_id: int) -> None:
    """Server time of the rendered invoice list page (GET /invoices) through the ASGI app."""
    try:
        from fastapi.testclient import TestClient

        from belegwerk.tenancy.models import Tenant
        from belegwerk.web.app import create_app
    except ImportError:
        return
    with system_session(engine) as s:
        slug = s.get(Tenant, tenant_id).slug  # type: ignore[union-attr]
    client = TestClient(create_app(engine), headers={"X-Belegwerk-Tenant": slug})
    timings = []
    for url in [
        "/invoices",
        "/invoices?page=2",
        "/invoices?page=150",
        "/invoices",
        "/invoices?direction=out",
        "/invoices?page=3",
    ]:
        t = time.perf_counter()
        resp = client.get(url)
        timings.append((time.perf_counter() - t) * 1000)
        if resp.status_code != 200:
            print(f"GET {url}: HTTP {resp.status_code}")
            return
    print(
        f"GET /invoices page (10,000 invoices): median {statistics.median(timings):.1f} ms, "
        f"max {max(timings):.1f} ms (target < 150 ms)"
    )


if __name__ == "__main__":
    main()
