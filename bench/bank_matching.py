"""Match 10,000 bank transactions against 10,000 open invoices and score the result.

Generates a realistic scenario set with known answers (tests/banking/scenarios.py: invoice
numbers in many spellings, IBAN/name only, Skonto, instalments, one transfer for several
invoices, typos, rent and fees, ambiguous and double payments) plus unpaid invoices up to
10,000 in total, stores it in a fresh SQLite file (or PostgreSQL), then times one
``match_transactions`` run including the automatic links (payments, journal postings, audit)
and the commit, and prints the precision of the automatic links and the share of payable
invoices found.

Targets (issue 3): under 3 s; automatic links ≥ 99 % precise; ≥ 90 % of payable invoices
matched. Run: .venv/bin/python bench/bank_matching.py [--postgres URL] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.banking.scenarios

from tests.banking import scenarios

from belegwerk.banking.matching import match_transactions
from belegwerk.books.categories import sync_master_categories
from belegwerk.core.db import make_engine, system_session, tenant_session
from belegwerk.core.guards import APP_ROLE
from belegwerk.core.migrate import upgrade
from belegwerk.tenancy.service import CompanyData, create_tenant

TRANSACTIONS = 10_000
INVOICES = 10_000


def setup(url: str, pg: bool) -> tuple[Engine, int]:
    upgrade(url)
    engine = make_engine(url, APP_ROLE if pg else None)
    with system_session(engine) as s:
        sync_master_categories(s)
        tenant = create_tenant(
            s, CompanyData(name="Bench GmbH", chart="skr03"), slug=f"bench-{uuid.uuid4().hex[:6]}"
        )
    return engine, tenant.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--transactions", type=int, default=TRANSACTIONS)
    parser.add_argument("--invoices", type=int, default=INVOICES)
    args = parser.parse_args()
    url = args.postgres or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    engine, tenant_id = setup(url, bool(args.postgres))

    counts = scenarios.counts_for(args.transactions)
    base = scenarios.generate(seed=args.seed, per_kind=counts, distractors=0)
    extra = max(0, args.invoices - len(base.invoices))
    sc = scenarios.generate(seed=args.seed, per_kind=counts, distractors=extra)
    t0 = time.perf_counter()
    with tenant_session(tenant_id, engine) as session:
        loaded = scenarios.load(session, tenant_id, sc)
    setup_s = time.perf_counter() - t0
    print(
        f"data: {len(sc.transactions)} transactions, {len(sc.invoices)} invoices, "
        f"{len(sc.parties)} parties ({'PostgreSQL' if args.postgres else 'SQLite'}; "
        f"stored in {setup_s:.1f} s)"
    )

    t0, c0 = time.perf_counter(), time.process_time()
    with tenant_session(tenant_id, engine) as session:
        result = match_transactions(session, tenant_id)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"matching: {elapsed:.2f} s wall, {cpu:.2f} s CPU (target < 3 s) for "
        f"{result.transactions} transactions — "
        f"{result.linked} automatic links on {result.linked_transactions} transactions, "
        f"{result.proposals} proposals, {result.unmatched} without candidate"
    )

    t0 = time.perf_counter()
    with tenant_session(tenant_id, engine) as session:
        again = match_transactions(session, tenant_id)
    print(
        f"second run (only what is left): {time.perf_counter() - t0:.2f} s for "
        f"{again.transactions} transactions, {again.linked} more links"
    )

    with tenant_session(tenant_id, engine) as session:
        ev = scenarios.evaluate(session, tenant_id, loaded)
    print(ev.report())
    print(
        f"targets: precision {ev.precision:.2%} (≥ 99 %), matched {ev.matched_share:.2%} "
        f"(≥ 90 %), time {elapsed:.2f} s (< 3 s)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
