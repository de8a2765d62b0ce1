"""The writer's edges: REST API, CLI (``belegwerk einvoice write``) and the invoice page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from belegwerk.cli import app
from belegwerk.core.db import get_engine, system_session, tenant_session
from belegwerk.einvoice.validate import validate_file
from belegwerk.tenancy.service import update_company
from tests.einvoice.writing import SELLER, booked_out, customer, line

COMPANY = {k: v for k, v in SELLER.items() if k != "chart"}


def _setup_via_api(client: Any, **party: Any) -> int:
    """Company settings, a customer and a booked invoice, all through the REST API."""
    response = client.put("/api/v1/settings", json=COMPANY)
    assert response.status_code == 200, response.text
    assert response.json()["contact_name"] == "Erika Muster"
    body = {
        "name": "Landesamt für Beispiele",
        "is_customer": True,
        "street": "Amtsweg 2",
        "postal_code": "14467",
        "city": "Potsdam",
        "public_authority": True,
        "leitweg_id": "04011000-12345-03",
    } | party
    response = client.post("/api/v1/parties", json=body)
    assert response.status_code in (200, 201), response.text
    party_id = response.json()["id"]
    response = client.post(
        "/api/v1/invoices",
        json={
            "direction": "out",
            "issue_date": "2026-03-02",
            "party_id": party_id,
            "lines": [
                {"description": "Schulung", "quantity": "2", "unit_price": "450", "vat_rate": "19"}
            ],
        },
    )
    assert response.status_code in (200, 201), response.text
    invoice_id = response.json()["id"]
    assert client.post(f"/api/v1/invoices/{invoice_id}/book").status_code == 200
    return int(invoice_id)


def test_api_writes_each_format(client: Any) -> None:
    invoice_id = _setup_via_api(client)
    expected = {
        "xrechnung-ubl": ("application/xml", b"<Invoice"),
        "xrechnung-cii": ("application/xml", b"<rsm:CrossIndustryInvoice"),
        "zugferd": ("application/pdf", b"%PDF-"),
    }
    for fmt, (media_type, marker) in expected.items():
        response = client.get(f"/api/v1/invoices/{invoice_id}/einvoice", params={"format": fmt})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media_type)
        assert marker in response.content[:600]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;") and "RE-2026-" in disposition
        report = validate_file(response.content, f"x.{fmt}")
        assert report.verdict.errors == []
        again = client.get(f"/api/v1/invoices/{invoice_id}/einvoice", params={"format": fmt})
        assert again.content == response.content  # the archived file
    party = client.get("/api/v1/parties", params={"q": "Landesamt"}).json()["items"][0]
    assert party["public_authority"] is True and party["leitweg_id"] == "04011000-12345-03"


def test_api_errors(client: Any) -> None:
    invoice_id = _setup_via_api(client)
    bad = client.get(f"/api/v1/invoices/{invoice_id}/einvoice", params={"format": "pdf"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "einvoice.unknown_format"
    missing = client.get("/api/v1/invoices/999999/einvoice")
    assert missing.status_code == 404
    draft = client.post(
        "/api/v1/invoices",
        json={
            "direction": "out",
            "issue_date": "2026-03-03",
            "lines": [{"description": "A", "unit_price": "1", "vat_rate": "19"}],
        },
    ).json()["id"]
    refused = client.get(f"/api/v1/invoices/{draft}/einvoice", params={"format": "zugferd"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "einvoice.not_booked"
    wrong = client.post(
        "/api/v1/parties",
        json={"name": "Amt", "is_customer": True, "public_authority": True},
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "party.leitweg_id_required"


def test_invoice_page_offers_the_downloads(client: Any) -> None:
    invoice_id = _setup_via_api(client)
    page = client.get(f"/invoices/{invoice_id}")
    assert page.status_code == 200
    for fmt in ("xrechnung-ubl", "xrechnung-cii", "zugferd"):
        assert f'href="/invoices/{invoice_id}/einvoice/{fmt}"' in page.text
    pdf = client.get(f"/invoices/{invoice_id}/einvoice/zugferd")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    # without the seller's telephone an XRechnung cannot be written: the page says why
    client.put("/api/v1/settings", json={"phone": ""})
    cii = client.get(f"/invoices/{invoice_id}/einvoice/xrechnung-cii")
    assert cii.status_code == 422
    assert "XRechnung (CII)" in cii.text and "invoice-number" in cii.text


def test_cli_writes_and_archives(cli_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with system_session(get_engine()) as s:
        from belegwerk.tenancy.service import ensure_default_tenant

        tenant_id = ensure_default_tenant(s).id
    with tenant_session(tenant_id, get_engine()) as s:
        update_company(s, tenant_id, COMPANY | {"chart": "skr03"})
        party = customer(s, tenant_id)
        number = booked_out(s, tenant_id, party, [line("Wartung", "1", "99")]).number
    assert number is not None
    target = tmp_path / "rechnung.pdf"
    result = runner.invoke(
        app, ["einvoice", "write", number, "--format", "zugferd", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF-")
    assert "rechnung.pdf" in result.output
    check = runner.invoke(app, ["einvoice", "validate", str(target)])
    assert check.exit_code == 0, check.output
    xml = tmp_path / "rechnung.xml"
    result = runner.invoke(app, ["einvoice", "write", number, "-o", str(xml)])
    assert result.exit_code == 0 and xml.read_bytes().startswith(b"<?xml")
    refused = runner.invoke(
        app, ["einvoice", "write", "RE-1999-99999", "--format", "zugferd", "-o", str(xml)]
    )
    assert refused.exit_code == 1
    assert "invoice.not_found" in refused.output
    bad = runner.invoke(app, ["einvoice", "write", number, "--format", "odt", "-o", str(xml)])
    assert bad.exit_code == 1 and "einvoice.unknown_format" in bad.output
