"""A year with 50,000 postings booked through the bulk paths (invoices in and out with mixed
rates and VAT treatments, a fifth with a supply date in the month before, cash entries), and
payments for 60 % of the sales (a tenth of them in two parts across a month end); then the UStVA
of one month, timed twice: Soll-Versteuerung (by period of supply) and Ist-Versteuerung (sales
from the payments received, allocated to the invoice postings).

Target (issue 4): the UStVA of a month in under 200 ms on SQLite. Prints best of --runs.
Run from the repository root: .venv/bin/python -m bench.ustva [--postgres URL] [--runs N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bench.booking import setup
from sqlalchemy import func, select

from belegwerk.books import cash, invoices
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import Invoice, Party, Posting
from belegwerk.books.payments import add_payment
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
        drafts = [
            replace(d, supply_date=d.issue_date - timedelta(days=20)) if i % 5 == 0 else d
            for i, d in enumerate(drafts)
        ]
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


def pay_sales(engine, tenant_id: int) -> int:  # type: ignore[no-untyped-def]
    """Bank payments for 60 % of the booked sales; every tenth paid in two parts."""
    rng = random.Random(5)
    count = 0
    with tenant_session(tenant_id, engine) as s:
        sales = s.execute(
            select(Invoice.id, Invoice.issue_date, Invoice.gross_total)
            .where(Invoice.tenant_id == tenant_id, Invoice.direction == "out")
            .order_by(Invoice.id)
        ).all()
        for invoice_id, issued, gross in sales:
            if rng.random() >= 0.6:
                continue
            day = min(issued + timedelta(days=rng.randint(3, 40)), date(YEAR, 12, 31))
            if rng.random() < 0.1 and gross > 1:
                part = (gross / 3).quantize(D("0.01"))
                add_payment(s, tenant_id, invoice_id, day, part, "bank")
                later = min(day + timedelta(days=rng.randint(20, 45)), date(YEAR, 12, 31))
                add_payment(s, tenant_id, invoice_id, later, gross - part, "bank")
                count += 2
            else:
                add_payment(s, tenant_id, invoice_id, day, gross, "bank")
                count += 1
    return count


def timed(engine, tenant_id: int, basis: str, runs: int) -> tuple[float, float, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Best wall-clock and best CPU time (ms) of ``runs`` UStVA computations of June."""
    wall, cpu = [], []
    for _ in range(runs):
        with tenant_session(tenant_id, engine) as s:
            t1, c1 = time.perf_counter(), time.process_time()
            result = compute(s, tenant_id, parse_period(f"{YEAR}-06"), basis=basis)
            wall.append((time.perf_counter() - t1) * 1000)
            cpu.append((time.process_time() - c1) * 1000)
    return min(wall), min(cpu), result.as_json()["boxes"]


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
        t0 = time.perf_counter()
        payments = pay_sales(engine, tenant_id)
        print(f"recorded {payments} payments in {time.perf_counter() - t0:.1f} s")
        for basis, name in (("accrual", "Soll"), ("cash", "Ist")):
            best, cpu, boxes = timed(engine, tenant_id, basis, args.runs)
            print(f"UStVA {YEAR}-06 ({name}): {boxes}")
            print(
                f"UStVA of a month, {name}: best {best:.1f} ms of {args.runs} runs "
                f"({cpu:.1f} ms CPU of this process; target < 200 ms)"
            )


if __name__ == "__main__":
    main()
