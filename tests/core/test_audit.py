from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.core.audit import audit_writer, verify_chain


def test_chain_verifies_and_rejects_raw_update(session: Session, tenant_id: int) -> None:
    writer = audit_writer(session, tenant_id)
    writer.record("create", "thing", 1, after={"a": 1})
    writer.record("update", "thing", 1, before={"a": 1}, after={"a": 2}, reason="typo")
    session.commit()
    assert verify_chain(session, tenant_id) == []
    with pytest.raises(DBAPIError):
        session.execute(
            text("UPDATE audit_log SET reason = 'x' WHERE tenant_id = :t"), {"t": tenant_id}
        )
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM audit_log WHERE tenant_id = :t"), {"t": tenant_id})
    session.rollback()
