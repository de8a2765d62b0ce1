"""Suggest usage and category for 100,000 new bank lines, then accept them all.

Setup on a fresh SQLite file (or PostgreSQL with --postgres URL): one mixed account with 5,000
confirmed decisions for 1,000 counterparties as history (private or one of six categories), 20
user rules, and one batch of
100,000 new lines (a quarter match a rule, a third a remembered counterparty, some carry
"Privatentnahme", the rest are unknown).

Figures printed: suggest_for_batch with rules + memory only (classifier switched off), the same
with the classifier (training included, then with the cached model), and accept_all (confirm +
postings + one audit record per line). Target (issue 3): the rules + memory path well under 1 s.
Run: .venv/bin/python bench/bank_classify.py [--postgres URL] [-n 100000]
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
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from belegwerk.banking import classify, learn
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, ImportBatch
from belegwerk.banking.rules import RuleInput, create_rule
from belegwerk.books.categories import category_by_key, sync_master_categories
from belegwerk.core.db import make_engine, system_session, tenant_session
from belegwerk.core.documents import store_document
from belegwerk.core.guards import APP_ROLE
from belegwerk.core.migrate import upgrade
from belegwerk.core.types import utcnow
from belegwerk.tenancy.service import CompanyData, create_tenant

START = date(2025, 1, 1)
WORDS = ["Rechnung", "Abo", "Einkauf", "Beitrag", "Lastschrift", "Gutschrift", "Miete", "Kaffee"]


def setup(url: str, pg: bool) -> tuple[Engine, int]:
    upgrade(url)
    engine = make_engine(url, APP_ROLE if pg else None)
    with system_session(engine) as s:
        sync_master_categories(s)
        tenant = create_tenant(
            s, CompanyData(name="Bench GmbH", chart="skr03"), slug=f"bench-{uuid.uuid4().hex[:6]}"
        )
    return engine, tenant.id


def batch_of(s: Any, tenant_id: int, account: BankAccount) -> ImportBatch:
    doc, _new = store_document(s, tenant_id, uuid.uuid4().bytes, "bench.csv", "text/csv")
    batch = ImportBatch(
        tenant_id=tenant_id,
        account_id=account.id,
        document_id=doc.id,
        file_name="bench.csv",
        file_sha256=doc.sha256,
        format="csv",
    )
    s.add(batch)
    s.flush()
    return batch


def line(
    rnd: random.Random, tenant_id: int, batch: ImportBatch, i: int, kind: str
) -> dict[str, Any]:
    cents = rnd.randint(100, 200_000) * (-1 if rnd.random() < 0.8 else 1)
    name, purpose, iban = f"Unbekannt {rnd.randint(0, 10**6)}", rnd.choice(WORDS), ""
    if kind == "rule":
        name = f"Regelpartner {rnd.randint(0, 19)} GmbH"
    elif kind == "memory":
        n = rnd.randint(0, 999)
        name, iban = f"Partner {n}", f"DE{n:020d}"
    elif kind == "keyword":
        purpose, cents = "Privatentnahme", -abs(cents)
    return {
        "tenant_id": tenant_id,
        "account_id": batch.account_id,
        "batch_id": batch.id,
        "line_no": i,
        "booking_date": START + timedelta(days=i % 360),
        "value_date": None,
        "amount": Decimal(cents) / 100,
        "currency": "EUR",
        "counterparty_name": name,
        "counterparty_iban": iban,
        "purpose": f"{purpose} {i}",
        "booking_text": "SEPA-Lastschrift",
        "fingerprint": uuid.uuid4().hex,
        "occurrence": 1,
    }


def prepare(engine: Engine, tenant_id: int, n: int) -> int:
    rnd = random.Random(7)
    with tenant_session(tenant_id, engine) as s:
        account = BankAccount(tenant_id=tenant_id, name="Misch", iban="DE1", account_type="mixed")
        s.add(account)
        s.flush()
        telecom = category_by_key(s, "telecom").id
        for r in range(20):
            create_rule(
                s,
                tenant_id,
                RuleInput(
                    name=f"Regel {r}",
                    counterparty_pattern=f"regelpartner {r} *",
                    category_id=telecom,
                ),
            )
        history = batch_of(s, tenant_id, account)
        old = [line(rnd, tenant_id, history, i, "memory") for i in range(5000)]
        ids = list(
            s.scalars(
                insert(BankTransaction).returning(BankTransaction.id, sort_by_parameter_order=True),
                old,
            )
        )
        keys = ["office_supplies", "telecom", "rent", "insurance", "advertising", "travel_lodging"]
        categories = [category_by_key(s, k).id for k in keys]
        now = utcnow()

        def decision(row: dict[str, Any]) -> tuple[str, int | None]:
            n = int(row["counterparty_iban"][2:])
            return ("private", None) if n % 10 == 0 else ("business", categories[n % len(keys)])

        s.execute(
            insert(Classification),
            [
                {
                    "tenant_id": tenant_id,
                    "transaction_id": tx_id,
                    "usage": decision(row)[0],
                    "category_id": decision(row)[1],
                    "source": "user",
                    "confidence": Decimal(1),
                    "confirmed": True,
                    "updated_at": now,
                    "updated_by": "bench",
                }
                for tx_id, row in zip(ids, old, strict=True)
            ],
        )
        batch = batch_of(s, tenant_id, account)
        kinds = ["rule"] * 25 + ["memory"] * 33 + ["keyword"] * 2 + ["unknown"] * 40
        rows = [line(rnd, tenant_id, batch, i, rnd.choice(kinds)) for i in range(n)]
        for start in range(0, n, 20_000):
            s.execute(insert(BankTransaction), rows[start : start + 20_000])
        return batch.id


def timed_suggest(engine: Engine, tenant_id: int, batch_id: int, classifier: bool) -> float:
    original = learn.model_for
    if not classifier:
        learn.model_for = lambda session, tenant: None  # type: ignore[assignment]
    try:
        with tenant_session(tenant_id, engine) as s:
            s.execute(
                delete(Classification).where(
                    Classification.tenant_id == tenant_id, Classification.confirmed.is_(False)
                )
            )
        with tenant_session(tenant_id, engine) as s:
            t0 = time.perf_counter()
            created = classify.suggest_for_batch(s, tenant_id, batch_id)
            elapsed = time.perf_counter() - t0
        print(f"    {created:,} suggestions in {elapsed:.3f} s")
        return elapsed
    finally:
        learn.model_for = original


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine, tenant_id = setup(url, bool(args.postgres))
        batch_id = prepare(engine, tenant_id, args.n)
        print(f"{args.n:,} new lines, 5,000 confirmed decisions, 20 rules ({engine.dialect.name})")
        runs = [timed_suggest(engine, tenant_id, batch_id, classifier=False) for _ in range(3)]
        print(f"suggest, rules + memory:           {min(runs):6.3f} s (best of 3)")
        learn.forget_all()
        t = timed_suggest(engine, tenant_id, batch_id, classifier=True)
        print(f"suggest, with classifier (train):  {t:6.3f} s")
        t = timed_suggest(engine, tenant_id, batch_id, classifier=True)
        print(f"suggest, with classifier (cached): {t:6.3f} s")
        with tenant_session(tenant_id, engine) as s:
            t0 = time.perf_counter()
            learn.forget(s, tenant_id)
            learn.train(s, tenant_id)
            print(f"training on 5,000 decisions:      {time.perf_counter() - t0:6.3f} s")
        with tenant_session(tenant_id, engine) as s:
            t0 = time.perf_counter()
            result = classify.accept_all(s, tenant_id, batch_id=batch_id)
            elapsed = time.perf_counter() - t0
            open_ = s.scalar(select(Classification.id).where(Classification.confirmed.is_(False)))
        print(f"accept_all {result.accepted:,} (postings + audit):  {elapsed:6.3f} s")
        assert open_ is None
        engine.dispose()


if __name__ == "__main__":
    main()
