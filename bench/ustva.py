"""A year with 50,000 postings booked through the bulk paths (invoices in and out with mixed
rates and VAT treatments, cash entries), then the UStVA of one month, timed.

Target (issue 4): the UStVA of a month in under 200 ms on SQLite. Prints best of --runs.
Run: .venv/bin/python bench/ustva.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bench.booking import setup
from sqlalchemy import func, select

from belegwerk.books import cash, invoices
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import Party, Posting
from belegwerk.core.db import tenant_session
from belegwerk.tax.periods import parse_period
from belegwerk.tax.ustva import compute

YEAR = 2025
START = date(YEAR, 1, 1)
D = Decimal


def _parties(session, tenant_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out = {}
    for key, country, vat_id in (
        ("de", "DE", ""),
        ("at", "AT", "ATU13585627"),
        ("fr", "FR", "FR40303265045"),
        ("ie", "IE", "IE6388047V"),
        ("us", "US", ""),
    ):
        p = Party(
            tenant_id=tenant_id,
            name=f"Partner {key}",
            is_customer=True,
            is_supplier=True,
            country=country,
            vat_id=vat_id,
        )
        session.add(p)
        session.flush()
        out[key] = p.id
    return out


def book_year(engine, tenant_id: int, invoices_n: int, cash_n: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(4)
    with tenant_session(tenant_id, engine) as s:
        parties = _parties(s, tenant_id)
        cat = {
            k: category_by_key(s, k).id
            for k in ("revenue_19", "office_supplies", "advertising", "goods_purchase")
        }
        drafts = []
        for i in range(invoices_n):
            day = START + timedelta(days=(i * 365) // invoices_n)
            kind = i % 10
            if kind < 5:  # domestic sales 19/7
                lines = [
                    LineInput("Leistung", D(1), D(rng.randint(1000, 90000)) / 100, D(19)),
                    LineInput("Buch", D(1), D(rng.randint(500, 5000)) / 100, D(7)),
                ]
                drafts.append(invoices.InvoiceInput("out", day, lines, party_id=parties["de"]))
            elif kind == 5:  # EU B2B service
                lines = [
                    LineInput(
                        "Beratung",
                        D(1),
                        D(rng.randint(10000, 90000)) / 100,
                        D(0),
                        vat_category="AE",
                    )
                ]
                drafts.append(invoices.InvoiceInput("out", day, lines, party_id=parties["at"]))
            elif kind == 6:  # intra-community supply
                lines = [
                    LineInput(
                        "Ware", D(2), D(rng.randint(10000, 90000)) / 100, D(0), vat_category="K"
                    )
                ]
                drafts.append(invoices.InvoiceInput("out", day, lines, party_id=parties["fr"]))
            elif kind == 7:  # reverse charge purchase
                lines = [
                    LineInput(
                        "Ads",
                        D(1),
                        D(rng.randint(1000, 50000)) / 100,
                        D(0),
                        category_id=cat["advertising"],
                        vat_category="AE",
                    )
                ]
                drafts.append(invoices.InvoiceInput("in", day, lines, party_id=parties["ie"]))
            else:  # domestic purchases
                lines = [
                    LineInput(
                        "Material",
                        D(1),
                        D(rng.randint(1000, 50000)) / 100,
                        D(19),
                        category_id=cat["office_supplies"],
                    )
                ]
                drafts.append(invoices.InvoiceInput("in", day, lines, party_id=parties["de"]))
        for start in range(0, len(drafts), 5000):
            invoices.book_invoices_bulk(s, tenant_id, drafts[start : start + 5000])
        cash.set_opening_balance(s, tenant_id, START, D("1000000.00"))
        items = [
            cash.CashEntryInput(
                entry_date=START + timedelta(days=(i * 364) // cash_n),
                description=f"Barverkauf {i}",
                category_id=cat["revenue_19"],
                direction="income",
                amount=D(rng.randint(500, 9000)) / 100,
            )
            for i in range(cash_n)
        ]
        cash.create_cash_entries(s, tenant_id, items)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine, tenant_id = setup(url, bool(args.postgres))
        t0 = time.perf_counter()
        book_year(engine, tenant_id, invoices_n=25_000, cash_n=12_000)
        booked = time.perf_counter() - t0
        with tenant_session(tenant_id, engine) as s:
            total = s.scalar(select(func.count(Posting.id)).where(Posting.tenant_id == tenant_id))
        print(f"booked {total} postings of {YEAR} in {booked:.1f} s")
        timings = []
        for _ in range(args.runs):
            with tenant_session(tenant_id, engine) as s:
                t1 = time.perf_counter()
                result = compute(s, tenant_id, parse_period(f"{YEAR}-06"), basis="accrual")
                timings.append((time.perf_counter() - t1) * 1000)
        print(f"UStVA {YEAR}-06: {result.as_json()['boxes']}")
        print(f"UStVA of a month: best {min(timings):.1f} ms of {args.runs} runs (target < 200 ms)")


if __name__ == "__main__":
    main()
