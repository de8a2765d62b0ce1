"""A year with 50,000 postings: time the cash-basis view and the Anlage EÜR of that year.

The year is booked through the books' bulk paths on a fresh SQLite file (or PostgreSQL):
outgoing and incoming invoices (``book_invoices_bulk``), their payments as bank lines linked by
the payment matching (automatic links: payments, settlement postings, audit), partial payments
and payments across the turn of the year, the cash book (``create_cash_entries``) and an asset
register. Then ``cash_items`` and the EÜR of the year are timed, best of three runs.

Target (issue 4): the EÜR of the year in under 1 s on SQLite (the report with all its checks,
the ten-day rule and the asset register, from a fresh session).
Run: .venv/bin/python bench/euer.py [--postgres URL] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.banking.scenarios

from booking import setup  # the same fresh database and tenant as the booking benchmark
from tests.banking.scenarios import make_account, store_transactions

from belegwerk.banking.matching import match_transactions
from belegwerk.books import cash
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import InvoiceInput, book_invoices_bulk
from belegwerk.books.models import Invoice, Party, Payment, Posting
from belegwerk.books.payments import add_payment
from belegwerk.core.db import tenant_session
from belegwerk.tax.assets import AssetInput, create_asset
from belegwerk.tax.cash_basis import cash_items, cash_totals
from belegwerk.tax.euer import euer_report

YEAR = 2025
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)
D = Decimal
OUT_INVOICES = 10_000
IN_INVOICES = 3_000
CASH_ENTRIES = 26_000


def _parties(session: Session, tenant_id: int) -> tuple[list[int], list[int]]:
    rows = [
        {
            "tenant_id": tenant_id,
            "name": f"Kunde {i}",
            "is_customer": True,
            "customer_number": 10000 + i,
        }
        for i in range(200)
    ] + [
        {
            "tenant_id": tenant_id,
            "name": f"Lieferant {i}",
            "is_supplier": True,
            "supplier_number": 70000 + i,
        }
        for i in range(50)
    ]
    ids = list(
        session.scalars(insert(Party).returning(Party.id, sort_by_parameter_order=True), rows)
    )
    return ids[:200], ids[200:]


def _invoices(
    cats: dict[str, int], customers: list[int], suppliers: list[int], rng: random.Random
) -> list[InvoiceInput]:
    """Issue dates from 15 Nov of the year before to 31 Dec of the year."""
    first = date(YEAR - 1, 11, 15)
    span = (END - first).days
    drafts = []
    for i in range(OUT_INVOICES + IN_INVOICES):
        out = i < OUT_INVOICES
        day = first + timedelta(days=rng.randrange(span + 1))
        if out:
            lines = [
                LineInput(
                    description=f"Leistung {j}",
                    quantity=D(rng.randint(1, 8)),
                    unit_price=D(rng.randint(2000, 90000)) / 100,
                    vat_rate=D(rate),
                    category_id=cats["revenue_19" if rate == 19 else "revenue_7"],
                )
                for j, rate in enumerate(rng.choice([[19], [19], [19, 7], [7]]))
            ]
        else:
            key = rng.choice(["goods_purchase", "external_services", "consulting", "advertising"])
            lines = [
                LineInput(
                    description="Einkauf",
                    quantity=D(1),
                    unit_price=D(rng.randint(5000, 300000)) / 100,
                    vat_rate=D(19),
                    category_id=cats[key],
                )
            ]
        drafts.append(
            InvoiceInput(
                direction="out" if out else "in",
                issue_date=day,
                party_id=rng.choice(customers if out else suppliers),
                external_number="" if out else f"LI-{i}",
                lines=lines,
            )
        )
    return drafts


def _bank_lines(session: Session, tenant_id: int, rng: random.Random) -> list[dict[str, Any]]:
    """One transfer per invoice for most invoices, a few paid in two instalments, some late
    (into the next year) and some never."""
    rows = []
    for number, direction, gross, issued, party in session.execute(
        select(
            Invoice.number, Invoice.direction, Invoice.gross_total, Invoice.issue_date, Party.name
        )
        .join(Party, Party.id == Invoice.party_id)
        .where(Invoice.tenant_id == tenant_id)
    ):
        roll = rng.random()
        if roll < 0.05:
            continue  # unpaid
        sign = 1 if direction == "out" else -1
        day = issued + timedelta(days=rng.randint(3, 40))
        if day > date(YEAR + 1, 1, 31):
            continue
        if roll < 0.12 and gross > 10:
            half = (gross / 2).quantize(D("0.01"))
            parts = [(day, half), (day + timedelta(days=30), gross - half)]
        else:
            parts = [(day, gross)]
        for when, amount in parts:
            rows.append(
                {
                    "booking_date": when,
                    "amount": sign * amount,
                    "counterparty_name": party,
                    "purpose": f"Rechnung {number}",
                }
            )
    return rows


def _cash(cats: dict[str, int], rng: random.Random) -> list[cash.CashEntryInput]:
    items = []
    for i in range(CASH_ENTRIES):
        day = START + timedelta(days=min(i * 365 // CASH_ENTRIES, 364))
        if i % 3 == 0:
            items.append(
                cash.CashEntryInput(
                    entry_date=day,
                    description=f"Barverkauf {i}",
                    category_id=cats["revenue_19"],
                    direction="income",
                    amount=D(rng.randint(1000, 20000)) / 100,
                )
            )
        else:
            key = rng.choice(["office_supplies", "postage", "travel_transport", "entertainment"])
            items.append(
                cash.CashEntryInput(
                    entry_date=day,
                    description=f"Ausgabe {i}",
                    category_id=cats[key],
                    direction="expense",
                    amount=D(rng.randint(100, 2500)) / 100,
                    input_vat_deductible=key != "postage",
                )
            )
    return items


def build(engine: Engine, tenant_id: int) -> None:
    rng = random.Random(4)
    keys = (
        "revenue_19",
        "revenue_7",
        "goods_purchase",
        "external_services",
        "consulting",
        "advertising",
        "office_supplies",
        "postage",
        "travel_transport",
        "entertainment",
    )
    t0 = time.perf_counter()
    with tenant_session(tenant_id, engine) as s:
        cats = {k: category_by_key(s, k).id for k in keys}
        customers, suppliers = _parties(s, tenant_id)
        book_invoices_bulk(s, tenant_id, _invoices(cats, customers, suppliers, rng))
        cash.set_opening_balance(s, tenant_id, START, D("50000.00"))
        cash.create_cash_entries(s, tenant_id, _cash(cats, rng))
        account = make_account(s, tenant_id)
        store_transactions(s, tenant_id, account, _bank_lines(s, tenant_id, rng))
    with tenant_session(tenant_id, engine) as s:
        result = match_transactions(s, tenant_id)
    with tenant_session(tenant_id, engine) as s:
        partial = _partial_payments(s, tenant_id)
        _assets(s, tenant_id, rng)
    with tenant_session(tenant_id, engine) as s:
        in_year = s.scalar(
            select(func.count())
            .select_from(Posting)
            .where(Posting.tenant_id == tenant_id, Posting.posting_date.between(START, END))
        )
    print(
        f"data: {in_year} postings dated {YEAR} ({OUT_INVOICES + IN_INVOICES} invoices, "
        f"{result.linked} payments linked by the matching, {partial} partial payments, "
        f"{CASH_ENTRIES} cash entries, 60 assets), "
        f"built in {time.perf_counter() - t0:.1f} s"
    )


def _partial_payments(session: Session, tenant_id: int) -> int:
    """Invoices the bank did not pay get two instalments, some across the turn of the year."""
    paid = select(Payment.invoice_id).where(Payment.tenant_id == tenant_id)
    rows = session.execute(
        select(Invoice.id, Invoice.gross_total, Invoice.issue_date)
        .where(Invoice.tenant_id == tenant_id, Invoice.id.not_in(paid))
        .order_by(Invoice.id)
        .limit(400)
    ).all()
    count = 0
    for invoice_id, gross, issued in rows:
        first = (gross * D("0.4")).quantize(D("0.01"))
        day = max(issued, date(YEAR, 12, 20)) if issued.year == YEAR else issued
        add_payment(session, tenant_id, invoice_id, day, first, "bank")
        add_payment(session, tenant_id, invoice_id, day + timedelta(days=14), gross - first, "bank")
        count += 2
    return count


def _assets(session: Session, tenant_id: int, rng: random.Random) -> None:
    kinds = ["computer", "office_furniture", "mobile_phone", "car", "camera", ""]
    for i in range(60):
        kind = kinds[i % len(kinds)]
        create_asset(
            session,
            tenant_id,
            AssetInput(
                name=f"Anlagegut {i}",
                acquisition_date=date(YEAR - 2 + i % 3, 1 + i % 12, 1 + i % 27),
                net_cost=D(rng.randint(20000, 4000000)) / 100,
                useful_life_months=None if kind else 60,
                asset_type=kind,
            ),
        )


def best_of(runs: int, label: str, fn: Any) -> Any:
    """Best wall time of ``runs`` (the machine is shared), with the CPU time of that run."""
    timings = []
    result = None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        timings.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(timings)
    print(
        f"{label}: best {wall * 1000:.0f} ms wall ({cpu * 1000:.0f} ms CPU) of {runs} runs "
        f"({', '.join(f'{w * 1000:.0f}' for w, _c in timings)} ms)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.postgres or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    engine, tenant_id = setup(url, bool(args.postgres))
    build(engine, tenant_id)
    load = os.getloadavg()[0]
    print(f"database: {engine.dialect.name}; load average {load:.1f} on {os.cpu_count()} cores")

    def items() -> int:
        with tenant_session(tenant_id, engine) as s:
            return len(cash_items(s, tenant_id, START, END))

    count = best_of(args.runs, "cash_items (year, all columns)", items)
    print(f"  {count} cash items")

    def totals() -> int:
        with tenant_session(tenant_id, engine) as s:
            return len(cash_totals(s, tenant_id, START, END, ("category_id", "tax_rate")))

    best_of(args.runs, "cash_totals (year, by category and rate)", totals)

    def report() -> str:
        with tenant_session(tenant_id, engine) as s:
            return str(euer_report(s, tenant_id, YEAR).profit)

    profit = best_of(args.runs, "EÜR of the year (report with checks, target < 1 s)", report)
    print(f"  profit {profit}")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
