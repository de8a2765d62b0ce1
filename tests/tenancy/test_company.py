from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import system_session
from belegwerk.core.errors import ValidationFailed
from belegwerk.tenancy.service import CompanyData, create_tenant, get_company, update_company


@pytest.mark.parametrize(("activity", "chart"), [("freelance", "skr04"), ("trade", "skr03")])
def test_chart_suggested_from_activity(engine: Engine, activity: str, chart: str) -> None:
    with system_session(engine) as s:
        tenant = create_tenant(
            s, CompanyData(name="Vorschlag", activity=activity), slug=f"t-{uuid.uuid4().hex[:8]}"
        )
        assert get_company(s, tenant.id).chart == chart


def test_chart_override_wins(engine: Engine) -> None:
    with system_session(engine) as s:
        tenant = create_tenant(
            s,
            CompanyData(name="Händler", activity="trade", chart="skr04"),
            slug=f"t-{uuid.uuid4().hex[:8]}",
        )
        assert get_company(s, tenant.id).chart == "skr04"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"vat_id": "DE12345"}, "vat_id.invalid"),
        ({"vat_id": "DE136695976"}, None),
        ({"tax_number": "123"}, "tax_number.invalid"),
        ({"tax_number": "181/815/08155"}, None),
        ({"advisor_number": "12345678"}, "company.invalid_advisor_number"),
        ({"client_number": "123456"}, "company.invalid_client_number"),
        ({"client_number": "12a"}, "company.invalid_client_number"),
        ({"vat_regime": "bogus"}, "company.invalid_vat_regime"),
        ({"chart": "skr49"}, "company.invalid_chart"),
        ({"iban": "DE00 1234"}, "iban.invalid"),
        ({"iban": "DE89 3704 0044 0532 0130 00"}, None),
        ({"fiscal_year_start_month": 13}, "company.invalid_fiscal_year_start_month"),
        ({"name": "  "}, "company.name_missing"),
    ],
)
def test_company_validation(
    session: Session, tenant_id: int, changes: dict[str, Any], code: str | None
) -> None:
    if code is None:
        update_company(session, tenant_id, changes)
        return
    with pytest.raises(ValidationFailed) as err:
        update_company(session, tenant_id, changes)
    assert err.value.code == code


def test_changes_are_audited(session: Session, tenant_id: int) -> None:
    update_company(session, tenant_id, {"vat_regime": "small_business", "name": "Neu"})
    session.commit()
    row = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id, AuditEntry.action == "update")
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert row is not None
    assert json.loads(row.before or "{}")["vat_regime"] == "standard"
    assert json.loads(row.after or "{}") == {"vat_regime": "small_business", "name": "Neu"}


def test_settings_api(client: Any) -> None:
    got = client.get("/api/v1/settings")
    assert got.status_code == 200
    assert got.json()["name"] == "Testfirma GmbH"
    bad = client.put("/api/v1/settings", json={"vat_id": "XX"})
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["code"] == "vat_id.invalid"
    assert body["details"][0]["field"] == "vat_id"
    unknown = client.put("/api/v1/settings", json={"colour": "blau"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "request.invalid"
    ok = client.put("/api/v1/settings", json={"ustva_period": "monthly", "filing_extension": True})
    assert ok.status_code == 200
    assert ok.json()["filing_extension"] is True
    assert client.get("/api/v1/settings").json()["ustva_period"] == "monthly"


def test_health(client: Any) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    assert client.get("/api/docs").status_code == 200


def test_unknown_tenant_header(client: Any) -> None:
    resp = client.get("/api/v1/settings", headers={"X-Belegwerk-Tenant": "nope"})
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "tenant.not_found"
