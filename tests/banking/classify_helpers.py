"""Bank accounts, batches and lines written straight into the tables, for the classification,
posting and overview tests (independent of the parsers and the importer)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from belegwerk.banking.models import BankAccount, BankTransaction, Classification, ImportBatch
from belegwerk.books.categories import category_by_key
from belegwerk.books.models import Posting
from belegwerk.core.audit import AuditEntry
from belegwerk.core.documents import store_document

D = Decimal
DAY = date(2025, 5, 6)


def make_account(
    session: Session,
    tenant_id: int,
    account_type: str = "mixed",
    *,
    kind: str = "bank",
    ledger_account: str = "",
    opening_balance: str = "0.00",
    opening_date: date | None = None,
) -> BankAccount:
    account = BankAccount(
        tenant_id=tenant_id,
        kind=kind,
        name=f"Konto {account_type}",
        iban=None if kind == "paypal" else f"DE{uuid.uuid4().int % 10**20:020d}",
        email="shop@example.org" if kind == "paypal" else "",
        account_type=account_type,
        opening_balance=D(opening_balance),
        opening_date=opening_date,
        ledger_account=ledger_account,
    )
    session.add(account)
    session.flush()
    return account


def make_batch(session: Session, tenant_id: int, account: BankAccount) -> ImportBatch:
    content = f"statement {uuid.uuid4()}".encode()
    document, _new = store_document(session, tenant_id, content, "auszug.csv", "text/csv")
    batch = ImportBatch(
        tenant_id=tenant_id,
        account_id=account.id,
        document_id=document.id,
        file_name="auszug.csv",
        file_sha256=document.sha256,
        format="csv",
    )
    session.add(batch)
    session.flush()
    return batch


def tx_row(
    tenant_id: int,
    batch: ImportBatch,
    amount: str | Decimal,
    name: str = "",
    purpose: str = "",
    *,
    iban: str = "",
    booking_text: str = "",
    day: date = DAY,
    currency: str = "EUR",
) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "account_id": batch.account_id,
        "batch_id": batch.id,
        "line_no": 1,
        "booking_date": day,
        "value_date": day,
        "amount": D(amount),
        "currency": currency,
        "counterparty_name": name,
        "counterparty_iban": iban,
        "purpose": purpose,
        "booking_text": booking_text,
        "fingerprint": uuid.uuid4().hex,
        "occurrence": 1,
    }


def add_tx(
    session: Session,
    tenant_id: int,
    batch: ImportBatch,
    amount: str | Decimal,
    name: str = "",
    purpose: str = "",
    **kw: Any,
) -> BankTransaction:
    tx = BankTransaction(**tx_row(tenant_id, batch, amount, name, purpose, **kw))
    session.add(tx)
    session.flush()
    return tx


def add_many(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    return list(
        session.scalars(
            insert(BankTransaction).returning(BankTransaction.id, sort_by_parameter_order=True),
            list(rows),
        )
    )


def cat(session: Session, key: str) -> int:
    return category_by_key(session, key).id


def classification(session: Session, tenant_id: int, tx_id: int) -> Classification | None:
    session.expire_all()
    return session.scalar(
        select(Classification).where(
            Classification.tenant_id == tenant_id, Classification.transaction_id == tx_id
        )
    )


def postings(session: Session, tenant_id: int, tx_id: int) -> list[Posting]:
    return list(
        session.scalars(
            select(Posting)
            .where(
                Posting.tenant_id == tenant_id,
                Posting.source_type.in_(("bank_tx", "bank_tx_rev")),
                Posting.source_id == tx_id,
            )
            .order_by(Posting.id)
        )
    )


def balances(session: Session, tenant_id: int) -> dict[str, Decimal]:
    """Net movement per account over the whole journal (debit positive), zero rows dropped."""
    out: dict[str, Decimal] = {}
    for p in session.scalars(select(Posting).where(Posting.tenant_id == tenant_id)):
        out[p.debit_account] = out.get(p.debit_account, D(0)) + p.amount
        out[p.credit_account] = out.get(p.credit_account, D(0)) - p.amount
    return {k: v for k, v in out.items() if v != 0}


def tax_by_account(session: Session, tenant_id: int) -> dict[str, Decimal]:
    """Tax per tax account: counted positive on original postings, negative on reversals."""
    out: dict[str, Decimal] = {}
    for p in session.scalars(select(Posting).where(Posting.tenant_id == tenant_id)):
        if p.tax_account:
            sign = -1 if p.reverses_id is not None else 1
            out[p.tax_account] = out.get(p.tax_account, D(0)) + sign * p.tax_amount
    return {k: v for k, v in out.items() if v != 0}


def audit_actions(session: Session, tenant_id: int, entity: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, AuditEntry.entity == entity)
            .order_by(AuditEntry.seq)
        )
    )


def count_postings(session: Session, tenant_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Posting).where(Posting.tenant_id == tenant_id)
        )
        or 0
    )


def with_bank_routes(client: Any) -> Any:
    """The test client with the classification and rule routes mounted (when the banking API
    module that normally includes them is not assembled yet)."""
    from belegwerk.banking.routes import classify as classify_routes
    from belegwerk.banking.routes import rules as rules_routes

    app = client.app
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/bank/rules" not in paths:
        app.include_router(rules_routes.router, prefix="/api/v1")
    if "/api/v1/bank/classifications" not in paths:
        app.include_router(classify_routes.router, prefix="/api/v1")
    return client
