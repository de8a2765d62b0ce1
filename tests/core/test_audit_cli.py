"""`belegwerk audit verify`: exit 0 when intact, non-zero naming the row altered by raw SQL."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from typer.testing import CliRunner

from belegwerk.cli import app
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import get_engine, make_engine, system_session, tenant_session
from belegwerk.tenancy.service import CompanyData, create_tenant


def test_audit_verify_detects_tampering(cli_db: str) -> None:
    engine = get_engine()
    with system_session(engine) as s:
        tenant = create_tenant(s, CompanyData(name="Prüf GmbH"), slug=f"t-{uuid.uuid4().hex[:8]}")
        tenant_id, slug = tenant.id, tenant.slug
    with tenant_session(tenant_id, engine) as s:
        writer = audit_writer(s, tenant_id)
        writer.record("create", "cash_entry", 1, after={"gross": "10.00"})
        target = writer.record("create", "cash_entry", 2, after={"gross": "20.00"})
        writer.record("create", "cash_entry", 3, after={"gross": "30.00"})
        s.flush()
        target_id = target.id

    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--tenant", slug])
    assert ok.exit_code == 0, ok.output
    assert "intakt" in ok.output

    # Tamper as the database owner, bypassing the immutability trigger on purpose.
    raw = make_engine(cli_db)
    with raw.begin() as conn:
        if raw.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_guard"))
        conn.execute(
            text("UPDATE audit_log SET after = :a WHERE id = :id"),
            {"a": '{"gross":"2.00"}', "id": target_id},
        )
        if raw.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_guard"))
    raw.dispose()

    bad = runner.invoke(app, ["audit", "verify", "--tenant", slug])
    assert bad.exit_code == 1, bad.output
    assert f"id={target_id}" in bad.output
