"""Row-level security on PostgreSQL: a tenant cannot see or touch another tenant's rows,
not even with hand-written SQL, and nothing at all is visible without a tenant set."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from belegwerk.core.db import system_session, tenant_session
from belegwerk.tenancy.service import CompanyData, create_tenant

TENANT_TABLES = (
    "companies",
    "audit_log",
    "category_overrides",
    "number_sequences",
    "parties",
    "invoices",
    "invoice_lines",
    "invoice_tax_totals",
    "payments",
    "cash_proposals",
    "cash_books",
    "cash_entries",
    "daily_closings",
    "postings",
    "documents",
    "bank_accounts",
    "bank_import_batches",
    "bank_transactions",
    "bank_classifications",
    "bank_rules",
    "bank_templates",
    "bank_matches",
)


pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_engine: Engine) -> Engine:
    """Row-level security exists on PostgreSQL only."""
    return pg_engine


@pytest.fixture
def make_tenant(pg: Engine) -> Callable[..., int]:
    def factory(name: str) -> int:
        with system_session(pg) as s:
            return create_tenant(s, CompanyData(name=name), slug=f"t-{uuid.uuid4().hex[:12]}").id

    return factory


def _add_party(engine: Engine, tenant_id: int, name: str) -> None:
    with tenant_session(tenant_id, engine) as s:
        s.execute(
            text(
                "INSERT INTO parties (tenant_id, name, is_customer, is_supplier, street, "
                "postal_code, city, country, email, vat_id, iban, bic, created_at, updated_at) "
                "VALUES (:t, :n, true, false, '', '', '', 'DE', '', '', '', '', now(), now())"
            ),
            {"t": tenant_id, "n": name},
        )


def test_every_tenant_table_has_forced_rls(pg: Engine) -> None:
    with pg.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname = ANY(:names)"
            ),
            {"names": list(TENANT_TABLES)},
        ).all()
    assert {r[0] for r in rows} == set(TENANT_TABLES)
    assert all(r[1] and r[2] for r in rows), rows


def test_tenant_cannot_read_or_write_other_tenant(
    pg: Engine, make_tenant: Callable[..., int]
) -> None:
    a, b = make_tenant(name="Firma A"), make_tenant(name="Firma B")
    _add_party(pg, a, "Kunde von A")
    _add_party(pg, b, "Kunde von B")

    with tenant_session(a, pg) as s:
        # A hand-written query without any tenant filter sees only A's rows.
        names = s.execute(text("SELECT name FROM parties")).scalars().all()
        assert names == ["Kunde von A"]
        assert s.execute(text("SELECT count(*) FROM companies")).scalar_one() == 1
        assert (
            s.execute(
                text("SELECT count(*) FROM parties WHERE tenant_id = :b"), {"b": b}
            ).scalar_one()
            == 0
        )
        # Updates and deletes aimed at B touch nothing.
        assert (
            s.execute(
                text("UPDATE parties SET name = 'hijacked' WHERE tenant_id = :b"), {"b": b}
            ).rowcount
            == 0
        )
        assert s.execute(text("DELETE FROM parties WHERE tenant_id = :b"), {"b": b}).rowcount == 0

    # Inserting a row for B while working as A is refused by the policy.
    with pytest.raises(DBAPIError, match="row-level security"), tenant_session(a, pg) as s:
        s.execute(
            text(
                "INSERT INTO parties (tenant_id, name, is_customer, is_supplier, street, "
                "postal_code, city, country, email, vat_id, iban, bic, created_at, updated_at) "
                "VALUES (:b, 'smuggled', true, false, '', '', '', 'DE', '', '', '', '', "
                "now(), now())"
            ),
            {"b": b},
        )
    # Moving one's own row over to B is refused as well.
    with pytest.raises(DBAPIError, match="row-level security"), tenant_session(a, pg) as s:
        s.execute(text("UPDATE parties SET tenant_id = :b"), {"b": b})

    with tenant_session(b, pg) as s:
        assert s.execute(text("SELECT name FROM parties")).scalars().all() == ["Kunde von B"]


def test_no_tenant_no_rows(pg: Engine, make_tenant: Callable[..., int]) -> None:
    a = make_tenant(name="Firma A")
    _add_party(pg, a, "Kunde von A")
    with pg.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM parties")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 0
