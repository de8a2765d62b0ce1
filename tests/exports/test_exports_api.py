"""/api/v1/exports: checks, downloads, import, log, settings; bad input answers 4xx in German."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy import Engine

from belegwerk.core.db import system_session, tenant_session
from belegwerk.tenancy.models import Tenant
from tests.exports.books import book_year
from tests.exports.extf import check_booking_file

YEAR_2025 = {"from": "2025-01-01", "to": "2025-12-31"}


def _books(engine: Engine, tenant_id: int, numbers: bool = True) -> None:
    with tenant_session(tenant_id, engine) as s:
        book_year(s, tenant_id, numbers=numbers)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code
    return body


def test_checks_and_download(client: Any, engine: Engine, tenant_id: int) -> None:
    _books(engine, tenant_id)
    checks = client.get("/api/v1/exports/datev/checks", params=YEAR_2025)
    assert checks.status_code == 200
    body = checks.json()
    assert body["from"] == "2025-01-01" and body["bookings"] == 10 and body["ok"] is True
    assert body["findings"] == []
    download = client.post("/api/v1/exports/datev", json=YEAR_2025)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert (
        'filename="EXTF_Buchungsstapel_20250101-20251231.csv"'
        in download.headers["content-disposition"]
    )
    assert len(check_booking_file(download.content).rows) == 10
    log = client.get("/api/v1/exports/log").json()
    assert log["total"] == 1 and log["items"][0]["kind"] == "datev"
    assert log["items"][0]["records"] == 10 and len(log["items"][0]["sha256"]) == 64


def test_bad_input_answers_in_german(client: Any, engine: Engine, tenant_id: int) -> None:
    _books(engine, tenant_id, numbers=False)
    missing = _error(
        client.post("/api/v1/exports/datev", json=YEAR_2025), 422, "export.checks_failed"
    )
    assert "Beraternummer" in missing["message"]
    assert {d["code"] for d in missing["details"]} >= {"datev.advisor_missing"}
    checks = client.get("/api/v1/exports/datev/checks", params=YEAR_2025).json()
    assert checks["ok"] is False
    two = _error(
        client.post("/api/v1/exports/datev", json={"from": "2025-06-01", "to": "2026-02-01"}),
        422,
        "datev.two_fiscal_years",
    )
    assert "Wirtschaftsjahre" in two["message"]
    _error(
        client.post("/api/v1/exports/datev", json={"from": "2025-13-01", "to": "2025-12-31"}),
        422,
        "export.invalid_date",
    )
    _error(
        client.get("/api/v1/exports/datev/checks", params={"from": "x", "to": "y"}),
        422,
        "export.invalid_date",
    )
    _error(
        client.post("/api/v1/exports/datev", json={"from": "2025-01-01"}), 422, "request.invalid"
    )
    _error(client.post("/api/v1/exports/datev/parties"), 422, "export.checks_failed")
    _error(client.post("/api/v1/exports/gdpdu", json={"year": 1800}), 422, "export.invalid_year")
    assert client.get("/api/v1/exports/log").json()["total"] == 0


def test_warnings_answer_409_until_confirmed(client: Any, engine: Engine, tenant_id: int) -> None:
    _books(engine, tenant_id)
    refused = _error(
        client.post("/api/v1/exports/agenda", json=YEAR_2025), 409, "export.warnings_unconfirmed"
    )
    assert refused["details"][0]["code"] == "agenda.missing_vouchers"
    done = client.post("/api/v1/exports/agenda", json={**YEAR_2025, "confirm_warnings": True})
    assert done.status_code == 200 and done.headers["content-type"] == "application/zip"
    assert (
        "EXTF_Buchungsstapel_20250101-20251231.csv"
        in zipfile.ZipFile(io.BytesIO(done.content)).namelist()
    )
    log = client.get("/api/v1/exports/log").json()["items"][0]
    assert log["warnings"][0]["code"] == "agenda.missing_vouchers"


def test_import_and_list(client: Any, engine: Engine, tenant_id: int, make_tenant: Any) -> None:
    _books(engine, tenant_id)
    content = client.post("/api/v1/exports/datev", json=YEAR_2025).content
    other = make_tenant(chart="skr03")
    with system_session(engine) as s:
        slug = s.get(Tenant, other).slug  # type: ignore[union-attr]
    headers = {"X-Belegwerk-Tenant": slug}
    created = client.post(
        "/api/v1/exports/datev/imports",
        files={"file": ("stapel.csv", content, "text/csv")},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["imported"] == 10 and batch["marker"] == "EXTF" and batch["format_version"] == 13
    listed = client.get("/api/v1/exports/datev/imports", headers=headers).json()
    assert [b["id"] for b in listed] == [batch["id"]]
    one = client.get(f"/api/v1/exports/datev/imports/{batch['id']}", headers=headers)
    assert one.json()["sha256"] == batch["sha256"]
    _error(
        client.get(f"/api/v1/exports/datev/imports/{batch['id']}"), 404, "datev.import_not_found"
    )
    _error(
        client.post(
            "/api/v1/exports/datev/imports",
            files={"file": ("s.csv", content, "text/csv")},
            headers=headers,
        ),
        409,
        "datev.duplicate_file",
    )
    bad = _error(
        client.post(
            "/api/v1/exports/datev/imports",
            files={"file": ("k.csv", content[: len(content) - 50], "text/csv")},
            headers=headers,
        ),
        422,
        "datev.cut_off",
    )
    assert bad["details"][0]["line"] == 12
    _error(
        client.post(
            "/api/v1/exports/datev/imports",
            files={"file": ("e.csv", b"", "text/csv")},
            headers=headers,
        ),
        422,
        "datev.empty_file",
    )


def test_settings_and_gdpdu(client: Any, engine: Engine, tenant_id: int) -> None:
    _books(engine, tenant_id)
    assert client.get("/api/v1/exports/settings").json() == {"datev_lock": False}
    assert client.put("/api/v1/exports/settings", json={"datev_lock": True}).json() == {
        "datev_lock": True
    }
    _error(
        client.put("/api/v1/exports/settings", json={"datev_lock": "vielleicht"}),
        422,
        "request.invalid",
    )
    download = client.post("/api/v1/exports/datev", json=YEAR_2025)
    assert check_booking_file(download.content).header[20] == "1"
    gdpdu = client.post("/api/v1/exports/gdpdu", json={"year": 2025})
    assert gdpdu.status_code == 200
    assert "index.xml" in zipfile.ZipFile(io.BytesIO(gdpdu.content)).namelist()
