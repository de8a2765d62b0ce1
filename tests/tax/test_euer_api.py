"""REST API of the Anlage EÜR and the asset register; the downloads read back."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from belegwerk.core.db import tenant_session
from belegwerk.tax.asset_models import Asset

D = Decimal


def test_report_elster_table_and_drill_down(client: Any, books: None) -> None:
    body = client.get("/api/v1/tax/euer/2025").json()
    assert body["year"] == 2025 and body["form_year"] == 2025
    assert body["boxes"]["112"] == "200.00" and body["boxes"]["140"] == "38.00"
    assert body["elster"]["E6000401"] == "200.00"
    assert body["boxes"]["185"] == "294.50"  # 9.50 on supplies + 285.00 on the notebook
    assert body["investments"] == "1500.00"
    assert "euer.investments_not_registered" in {n["code"] for n in body["notices"]}
    table = client.get("/api/v1/tax/euer/2025/elster").json()
    assert {"field": "E6001201", "kz": "159", "amount": "238.00"}.items() <= table[
        [r["kz"] for r in table].index("159")
    ].items()
    detail = client.get("/api/v1/tax/euer/2025/lines/183").json()
    assert detail["line"]["amount"] == "50.00"
    assert [(r["source_type"], r["amount"]) for r in detail["rows"]] == [("cash_entry", "50.00")]
    sums = client.get("/api/v1/tax/euer/2025/lines/159").json()
    assert {p["kz"] for p in sums["parts"]} == {"112", "140"}


def render_first_page(content: bytes, folder: Path) -> Path:
    """The first page as PNG through poppler's pdftoppm (skips without poppler-utils)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing (apt-get install poppler-utils)")
    source = folder / "euer.pdf"
    source.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(source), str(folder / "page")],
        check=True,
        timeout=60,
    )
    (page,) = folder.glob("page*.png")
    return page


def test_downloads_read_back(client: Any, books: None, tmp_path: Path) -> None:
    response = client.get("/api/v1/tax/euer/2025/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="anlage-euer-2025.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Zeile", "Kennzahl", "ELSTER-Feld"]
    assert rows[1][:3] == ["15", "112", "E6000401"] and rows[1][4] == "200,00"

    xlsx = client.get("/api/v1/tax/euer/2025/export.xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Anlage EÜR", "ELSTER", "Anlagenverzeichnis", "Prüfungen"]
    values = {row[1]: row[4] for row in book["Anlage EÜR"].iter_rows(min_row=4, values_only=True)}
    assert D(str(values["112"])) == D("200.00") and D(str(values["219"])) == D("-106.50")

    pdf = client.get("/api/v1/tax/euer/2025/export.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    rendered = render_first_page(pdf.content, tmp_path)
    assert rendered.stat().st_size > 10_000  # poppler draws a real page
    with pdfplumber.open(io.BytesIO(pdf.content)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    assert "Anlage EÜR 2025" in text
    assert "Umsatzsteuerpflichtige Betriebseinnahmen" in text and "200,00" in text
    assert "Summe Betriebseinnahmen" in text and "238,00" in text


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/v1/tax/euer/1800", 422, "year.invalid"),
        ("/api/v1/tax/euer/zwanzig", 422, "request.invalid"),
        ("/api/v1/tax/euer/2099", 422, "euer.future_year"),
        ("/api/v1/tax/euer/2024", 422, "euer.before_books"),
        ("/api/v1/tax/euer/2025/lines/999", 422, "euer.unknown_kz"),
        ("/api/v1/tax/euer/2025/export.docx", 404, "euer.unknown_format"),
    ],
)
def test_bad_requests_answer_in_german(
    client: Any, books: None, url: str, status: int, code: str
) -> None:
    response = client.get(url)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]


def test_asset_register_api(client: Any, books: None, engine: Engine, tenant_id: int) -> None:
    (offer,) = client.get("/api/v1/tax/assets/offers").json()
    assert offer["net_amount"] == "1500.00"
    types = {t["key"]: t for t in client.get("/api/v1/tax/assets/types").json()}
    assert types["computer"]["months"] == 36 and types["computer"]["digital"]
    created = client.post(
        "/api/v1/tax/assets",
        json={
            "name": "Notebook",
            "acquisition_date": "2025-07-15",
            "net_cost": offer["net_amount"],
            "asset_type": "computer",
            "useful_life_years": 2,
            "posting_id": offer["posting_id"],
        },
    )
    assert created.status_code == 201
    asset = created.json()
    assert asset["asset"]["useful_life_months"] == 24 and asset["asset"]["method"] == "linear"
    assert [w["code"] for w in asset["asset"]["warnings"]] == ["asset.shorter_than_table"]
    assert [p["afa"] for p in asset["plan"]] == ["375.00", "750.00", "375.00"]
    assert client.get("/api/v1/tax/assets/offers").json() == []
    euer = client.get("/api/v1/tax/euer/2025").json()
    assert euer["boxes"]["130"] == "375.00"
    assert client.put("/api/v1/tax/assets/pool/2025", json={"pooled": True}).json() == {
        "year": 2025,
        "pooled": True,
    }
    sold = client.post(
        f"/api/v1/tax/assets/{asset['asset']['id']}/disposal",
        json={"kind": "sale", "disposal_date": "2026-01-31", "proceeds": "900"},
    ).json()
    assert sold["asset"]["disposal"]["kind"] == "sale"
    assert sold["gain_or_loss"] == str(D("900.00") - D("1500.00") + D("375.00") + D("62.50"))
    register = client.get("/api/v1/tax/assets", params={"year": 2026}).json()
    assert [
        (r["asset"]["name"], r["year"]["afa"], r["year"]["book_value_out"]) for r in register
    ] == [("Notebook", "62.50", "1062.50")]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "", "acquisition_date": "2025-01-01", "net_cost": "10", "useful_life_months": 3},
         "asset.name"),
        ({"name": "X", "acquisition_date": "2025-01-01", "net_cost": "-1", "useful_life_months": 3},
         "money.negative"),
        ({"name": "X", "acquisition_date": "2025-01-01", "net_cost": "10"},
         "asset.useful_life_missing"),
        ({"name": "X", "acquisition_date": "2025-13-01", "net_cost": "10"}, "request.invalid"),
        ({"name": "X", "acquisition_date": "2025-01-01", "net_cost": "10", "colour": "red"},
         "request.invalid"),
    ],
)  # fmt: skip
def test_impossible_assets_are_refused(
    client: Any, engine: Engine, tenant_id: int, body: dict[str, Any], code: str
) -> None:
    response = client.post("/api/v1/tax/assets", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    with tenant_session(tenant_id, engine) as s:
        assert s.scalar(select(func.count()).where(Asset.tenant_id == tenant_id)) == 0


def test_disposal_of_an_unknown_asset_is_404(client: Any) -> None:
    response = client.post(
        "/api/v1/tax/assets/999999/disposal",
        json={"kind": "sale", "disposal_date": "2026-01-01", "proceeds": "1"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "asset.not_found"
