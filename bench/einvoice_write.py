"""Writing e-invoices out of the books: how long one invoice takes in each format.

Books ``count`` outgoing invoices with 1–5 lines at 19 % / 7 % (bulk path) on a fresh SQLite
file, then writes each as XRechnung UBL and CII and the first ``pdfs`` as ZUGFeRD PDF through
the full service: read from the books, write, validate with every layer, archive with the
invoice. Also one invoice with 1,000 lines. Prints the best of three rounds (each round writes
different invoices, since a written invoice comes from the archive afterwards).

Run: .venv/bin/python bench/einvoice_write.py [count] [pdfs]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from belegwerk.books.categories import sync_master_categories
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import InvoiceInput, book_invoices_bulk
from belegwerk.books.models import Invoice
from belegwerk.books.parties import PartyData, create_party
from belegwerk.core.db import make_engine, session_factory, system_session
from belegwerk.core.migrate import upgrade
from belegwerk.einvoice.write.service import write_einvoice
from belegwerk.einvoice.write.source import Target
from belegwerk.tenancy.service import CompanyData, create_tenant

SELLER = CompanyData(
    name="Bench GmbH",
    street="Hauptstraße 1",
    postal_code="10115",
    city="Berlin",
    email="rechnung@bench.example",
    contact_name="Erika Muster",
    phone="+49 30 1234567",
    vat_id="DE136695976",
    iban="DE02120300000000202051",
    chart="skr03",
)


def _invoices(count: int, party_id: int, lines_each: int | None = None) -> list[InvoiceInput]:
    start = date(2026, 1, 2)
    out = []
    for i in range(count):
        n = lines_each or 1 + i % 5
        lines = [
            LineInput(
                f"Leistung {i}-{j}",
                Decimal(1 + (i + j) % 9),
                Decimal(f"{10 + (i * 31 + j * 7) % 900}.{(i + j) % 100:02d}"),
                Decimal(19 if (i + j) % 3 else 7),
            )
            for j in range(n)
        ]
        out.append(
            InvoiceInput("out", start + timedelta(days=i % 300), lines=lines, party_id=party_id)
        )
    return out


def main(count: int = 300, pdfs: int = 30) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        with system_session(engine) as s:
            sync_master_categories(s)
            tenant = create_tenant(s, SELLER, slug="bench").id
        session = session_factory(engine)()
        session.info["tenant_id"] = tenant
        party = create_party(
            session,
            tenant,
            PartyData(
                name="Kunde AG",
                is_customer=True,
                street="Marktplatz 5",
                postal_code="80331",
                city="München",
                email="ap@kunde.example",
            ),
        ).id
        book_invoices_bulk(session, tenant, _invoices(count * 3, party))
        book_invoices_bulk(session, tenant, _invoices(3, party, lines_each=1000))
        session.commit()
        ids = [i for (i,) in session.query(Invoice.id).order_by(Invoice.id)]
        small, large = ids[: count * 3], ids[count * 3 :]
        print(f"{count} invoices (1–5 lines) per round, best of 3:")
        for target in Target:
            per_round = pdfs if target is Target.ZUGFERD else count
            best = float("inf")
            for round_no in range(3):
                batch = small[round_no * count : round_no * count + per_round]
                started = time.perf_counter()
                for invoice_id in batch:
                    write_einvoice(session, tenant, invoice_id, target)
                best = min(best, (time.perf_counter() - started) / len(batch))
                session.commit()
            print(f"  {target.value:14} {best * 1000:7.1f} ms per invoice ({1 / best:6.1f}/s)")
        print("one invoice with 1,000 lines, best of 3:")
        for target in Target:
            best = float("inf")
            for invoice_id in large:
                started = time.perf_counter()
                write_einvoice(session, tenant, invoice_id, target)
                best = min(best, time.perf_counter() - started)
            session.commit()
            print(f"  {target.value:14} {best:6.2f} s")
        session.close()
        engine.dispose()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
