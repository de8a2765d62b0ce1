"""EÜR and asset register pages: German figures, drill-down, downloads, forms with bad input
answered as 4xx pages and nothing stored."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from belegwerk.core.db import tenant_session
from belegwerk.tax.asset_models import Asset, AssetDisposal

D = Decimal
HTML = {"accept": "text/html"}


def test_euer_page_with_year_picker_lines_and_checks(client: Any, books: None) -> None:
    page = client.get("/tax/euer", params={"year": 2025}, headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert "Anlage EÜR 2025" in html
    assert '<option value="2025" selected>' in html and '<option value="2026"' in html
    assert re.search(r'id="kz-112".*?200,00 €', html, re.S)
    assert re.search(r'id="kpi-profit">-106,50 €', html)
    assert 'href="/tax/euer/2025/lines/112"' in html
    assert 'data-code="euer.investments_not_registered"' in html
    assert 'href="/tax/euer/2025/download.pdf"' in html
    assert "E6000401" in html  # the ELSTER table


def test_default_year_is_the_last_finished_one(client: Any, books: None) -> None:
    html = client.get("/tax/euer", headers=HTML).text
    assert f"Anlage EÜR {date.today().year - 1}" in html


def test_drill_down_page_links_to_the_sources(client: Any, books: None) -> None:
    html = client.get("/tax/euer/2025/lines/185", headers=HTML).text
    assert "Zahlungen und Buchungen" in html
    assert re.search(r'href="/invoices/\d+"', html)  # the notebook's invoice, a share of payment
    assert 'href="/cash#entry-' in html
    sums = client.get("/tax/euer/2025/lines/219", headers=HTML).text
    assert 'href="/tax/euer/2025/lines/159"' in sums


def test_bad_years_and_lines_are_german_4xx_pages(client: Any, books: None) -> None:
    future = client.get("/tax/euer", params={"year": 2099}, headers=HTML)
    assert future.status_code == 422
    assert "Das Jahr 2099 hat noch nicht begonnen." in future.text
    assert '<select id="f-year"' in future.text  # the picker stays usable
    before = client.get("/tax/euer", params={"year": 2001}, headers=HTML)
    assert before.status_code == 422 and "Die Buchführung beginnt 2025" in before.text
    assert client.get("/tax/euer", params={"year": "x"}, headers=HTML).status_code == 422
    assert client.get("/tax/euer/2025/lines/777", headers=HTML).status_code == 422
    assert client.get("/tax/euer/2025/download.doc", headers=HTML).status_code == 404


def test_download_from_the_page(client: Any, books: None) -> None:
    response = client.get("/tax/euer/2025/download.xlsx", headers=HTML)
    assert response.status_code == 200
    assert response.content[:2] == b"PK"


def test_asset_register_flow(client: Any, books: None, engine: Engine, tenant_id: int) -> None:
    register = client.get("/tax/assets", params={"year": 2025}, headers=HTML).text
    offer = re.search(r'href="/tax/assets/new\?posting=(\d+)"', register)
    assert offer is not None
    assert "über 250,00 € bis 1.000,00 €" in register  # the pool range from the parameters
    form = client.get(f"/tax/assets/new?posting={offer.group(1)}", headers=HTML).text
    assert 'value="1500,00"' in form and 'value="2025-07-15"' in form
    created = client.post(
        "/tax/assets",
        data={
            "name": "Notebook",
            "asset_type": "computer",
            "acquisition_date": "15.07.2025",
            "net_cost": "1.500,00",
            "useful_life_months": "",
            "treatment": "auto",
            "posting_id": offer.group(1),
        },
        headers=HTML,
    )
    assert created.status_code == 200, created.text
    assert "Das Wirtschaftsgut wurde ins Anlagenverzeichnis aufgenommen." in created.text
    assert "Abschreibungsplan" in created.text and "250,00 €" in created.text
    asset_id = int(created.url.path.rsplit("/", 1)[-1])
    refused = client.post(
        f"/tax/assets/{asset_id}/disposal",
        data={"kind": "sale", "disposal_date": "01.01.2020", "proceeds": "100"},
        headers=HTML,
    )
    assert refused.status_code == 422 and "vor seiner Anschaffung" in refused.text
    sold = client.post(
        f"/tax/assets/{asset_id}/disposal",
        data={"kind": "sale", "disposal_date": "2026-03-10", "proceeds": "900,00"},
        headers=HTML,
    )
    assert "Der Abgang wurde erfasst." in sold.text
    assert re.search(r'id="gain">-225,00 €', sold.text)
    pooled = client.post("/tax/assets/pool", data={"year": "2026", "pooled": "1"}, headers=HTML)
    assert "Die Wahl für das Jahr wurde gespeichert." in pooled.text
    assert re.search(r'name="pooled" value="1" checked', pooled.text)
    with tenant_session(tenant_id, engine) as s:
        assert s.scalar(select(func.count()).where(AssetDisposal.tenant_id == tenant_id)) == 1


def test_asset_form_refuses_impossible_values(client: Any, engine: Engine, tenant_id: int) -> None:
    for data, text in [
        ({"name": "", "acquisition_date": "2025-01-01", "net_cost": "10",
          "useful_life_months": "12"}, "Bezeichnung"),
        ({"name": "Stuhl", "acquisition_date": "2025-01-01", "net_cost": "-3",
          "useful_life_months": "12"}, "negativ"),
        ({"name": "Stuhl", "acquisition_date": "31.02.2025", "net_cost": "10",
          "useful_life_months": "12"}, "kein gültiges Datum"),
        ({"name": "Stuhl", "acquisition_date": "2025-01-01", "net_cost": "10",
          "useful_life_months": "zwölf"}, "Zahl"),
    ]:  # fmt: skip
        response = client.post("/tax/assets", data=data, headers=HTML)
        assert response.status_code == 422, data
        assert text in response.text
        assert 'id="asset-form"' in response.text
    with tenant_session(tenant_id, engine) as s:
        assert s.scalar(select(func.count()).where(Asset.tenant_id == tenant_id)) == 0
