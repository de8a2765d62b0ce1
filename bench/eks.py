"""Time the Anlage EKS on a busy year: 40,000 cash entries and 4,000 invoices with their payments
(about 50,000 postings), booked through the service layer on a fresh SQLite file (or the
PostgreSQL database given).

Prints the best of three runs for: the final EKS of six months (cash-basis items of the period,
placement, tables, warnings, allowances), the provisional EKS of the next six months (averaging
the same months), the PDF and the Excel file. The issue names no EKS figure; these are for
information. Run: .venv/bin/python bench/eks.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for bench.booking

from bench.booking import setup

from belegwerk.books import cash, invoices, parties
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import Invoice, Posting
from belegwerk.books.payments import add_payment
from belegwerk.core.db import tenant_session
from belegwerk.tax.eks.exports import to_xlsx
from belegwerk.tax.eks.pdf import render_pdf
from belegwerk.tax.eks.period import parse_period
from belegwerk.tax.eks.service import build_report

CASH = 40_000
INVOICES = 4_000
START = date(2026, 1, 1)
KEYS = ("revenue_19", "office_supplies", "postage", "advertising", "training", "goods_purchase")


def _cash(cats: dict[str, int], rng: random.Random) -> list[cash.CashEntryInput]:
    entries = []
    for i in range(CASH):
        income = i % 2 == 0
        key = "revenue_19" if income else rng.choice(KEYS[1:5])
        entries.append(
            cash.CashEntryInput(
                entry_date=START + timedelta(days=i * 365 // CASH),
                description=f"Beleg {i}",
                category_id=cats[key],
                direction="income" if income else "expense",
                amount=Decimal(rng.randint(100, 9000)) / 100,
            )
        )
    return entries


def _invoices(cats: dict[str, int], customer: int, supplier: int) -> list[invoices.InvoiceInput]:
    drafts = []
    for i in range(INVOICES):
        out = i % 2 == 0
        drafts.append(
            invoices.InvoiceInput(
                direction="out" if out else "in",
                issue_date=START + timedelta(days=i * 330 // INVOICES),
                party_id=customer if out else supplier,
                lines=[
                    LineInput(
                        description="Leistung",
                        quantity=Decimal(1),
                        unit_price=Decimal(100 + i % 900),
                        vat_rate=Decimal(19),
                        category_id=cats["revenue_19" if out else "goods_purchase"],
                    )
                ],
                external_number="" if out else f"LI-{i}",
            )
        )
    return drafts


def best_of_three(label: str, run: Callable[[], Any]) -> Any:
    times, result = [], None
    for _ in range(3):
        t = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t)
    print(
        f"{label}: best of 3 {min(times) * 1000:.0f} ms (all: "
        + ", ".join(f"{x * 1000:.0f}" for x in times)
        + " ms)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.postgres or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    engine, tenant_id = setup(url, bool(args.postgres))
    rng = random.Random(4)
    t0 = time.perf_counter()
    with tenant_session(tenant_id, engine) as s:
        cats = {k: category_by_key(s, k).id for k in KEYS}
        customer = parties.create_party(
            s, tenant_id, parties.PartyData(name="Kunde", is_customer=True)
        ).id
        supplier = parties.create_party(
            s, tenant_id, parties.PartyData(name="Lieferant", is_supplier=True)
        ).id
        cash.set_opening_balance(s, tenant_id, START, Decimal("500000.00"))
        cash.create_cash_entries(s, tenant_id, _cash(cats, rng))
        invoices.book_invoices_bulk(s, tenant_id, _invoices(cats, customer, supplier))
    with tenant_session(tenant_id, engine) as s:
        for inv in s.scalars(select(Invoice).where(Invoice.tenant_id == tenant_id)):
            paid = inv.issue_date + timedelta(days=10 + inv.id % 40)
            add_payment(s, tenant_id, inv.id, paid, inv.gross_total, "bank")
        count = s.scalar(select(func.count(Posting.id)).where(Posting.tenant_id == tenant_id))
    took = time.perf_counter() - t0
    print(f"database: {engine.dialect.name}; {count} postings booked in {took:.1f} s")

    final, forecast = parse_period("2026-01", "2026-06"), parse_period("2026-07", "2026-12")
    with tenant_session(tenant_id, engine) as s:
        report = best_of_three(
            "final EKS 01-06/2026", lambda: build_report(s, tenant_id, final, "final")
        )
        best_of_three(
            "provisional EKS 07-12/2026 (averages 01-06)",
            lambda: build_report(s, tenant_id, forecast, "provisional"),
        )
        best_of_three("PDF", lambda: render_pdf(report))
        best_of_three("Excel", lambda: to_xlsx(report))
    print(f"profit 01-06/2026: {report.tables.row('G').total} €")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
