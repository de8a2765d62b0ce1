"""DATEV export of a year with 50,000 postings (target: under 3 s on SQLite).

The year is booked through the books' bulk paths (25,000 cash entries and 25,000 invoices
with one category each, as in bench/booking.py), then the whole year is exported: checks,
the 125-column booking lines, Windows-1252 encoding and the export log. Best of three runs.
Also timed, for information: the DATEV import of the exported file into a fresh tenant and the
GDPdU export of the year.

Run: .venv/bin/python bench/datev_export.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, select

from belegwerk.books import cash, invoices, parties
from belegwerk.books.categories import category_by_key, sync_master_categories
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import Posting
from belegwerk.core.db import make_engine, system_session, tenant_session
from belegwerk.core.guards import APP_ROLE
from belegwerk.core.migrate import upgrade
from belegwerk.exports.datev_export import export_datev
from belegwerk.exports.datev_import import import_file
from belegwerk.exports.gdpdu import export_gdpdu
from belegwerk.tenancy.service import CompanyData, create_tenant

HALF = 25_000
YEAR = 2025
START = date(YEAR, 1, 1)
RUNS = 3


def tenant(engine: Engine, name: str) -> int:
    with system_session(engine) as s:
        data = CompanyData(name=name, chart="skr03", advisor_number="29098", client_number="55003")
        return create_tenant(s, data, slug=f"bench-{uuid.uuid4().hex[:8]}").id


def book_year(engine: Engine, tenant_id: int) -> None:
    rng = random.Random(11)
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
    entries = []
    for i in range(HALF):
        day = START + timedelta(days=i * 365 // HALF)
        income = i % 4 == 0
        entries.append(
            cash.CashEntryInput(
                entry_date=day,
                description=f"{'Barverkauf' if income else 'Büromaterial'} {i}",
                category_id=cats["revenue_19" if income else "office_supplies"],
                direction="income" if income else "expense",
                amount=Decimal(rng.randint(2000, 9000) if income else rng.randint(100, 1500)) / 100,
            )
        )
    drafts = []
    for i in range(HALF):
        day = START + timedelta(days=i * 365 // HALF)
        out = i % 3 != 0
        rate = Decimal(rng.choice([19, 19, 7])) if out else Decimal(19)
        category = ("revenue_19" if rate == 19 else "revenue_7") if out else "goods_purchase"
        lines = [
            LineInput(
                description=f"Position {j}",
                quantity=Decimal(rng.randint(1, 20)),
                unit_price=Decimal(rng.randint(500, 50000)) / 100,
                vat_rate=rate,
                category_id=cats[category],
            )
            for j in range(rng.randint(1, 3))
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
    with tenant_session(tenant_id, engine) as s:
        cash.create_cash_entries(s, tenant_id, entries)
    with tenant_session(tenant_id, engine) as s:
        invoices.book_invoices_bulk(s, tenant_id, drafts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.postgres or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    upgrade(url)
    engine = make_engine(url, APP_ROLE if args.postgres else None)
    with system_session(engine) as s:
        sync_master_categories(s)
    source = tenant(engine, "Bench GmbH")
    t0 = time.perf_counter()
    book_year(engine, source)
    booked = time.perf_counter() - t0
    with tenant_session(source, engine) as s:
        postings = s.scalar(select(func.count()).where(Posting.tenant_id == source))
    print(f"database: {engine.dialect.name}")
    print(f"booked {postings} postings in {booked:.1f} s (cash entries and invoices, bulk paths)")

    timings = []
    content = b""
    for _ in range(RUNS):
        t = time.perf_counter()
        with tenant_session(source, engine) as s:
            export = export_datev(s, source, START, date(YEAR, 12, 31), actor="bench")
        timings.append(time.perf_counter() - t)
        content = export.content
    print(
        f"DATEV export of the year ({export.records} booking lines, {len(content) / 1e6:.1f} MB): "
        f"best {min(timings):.2f} s of {RUNS} (runs: "
        f"{', '.join(f'{x:.2f}' for x in timings)}; target < 3 s)"
    )

    target = tenant(engine, "Import GmbH")
    t = time.perf_counter()
    with tenant_session(target, engine) as s:
        result = import_file(s, target, content, export.file_name)
    print(
        f"DATEV import of that file into a fresh tenant: {result.imported} postings in "
        f"{time.perf_counter() - t:.2f} s (for information)"
    )
    t = time.perf_counter()
    with tenant_session(source, engine) as s:
        gdpdu, _delivery = export_gdpdu(s, source, YEAR, actor="bench")
    print(
        f"GDPdU export of the year ({gdpdu.records} records, {len(gdpdu.content) / 1e6:.1f} MB "
        f"zipped): {time.perf_counter() - t:.2f} s (for information)"
    )
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
