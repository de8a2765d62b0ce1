"""The EKS over HTTP: the API under /api/v1/tax/eks and the pages, good and bad input."""

from __future__ import annotations

import io
from typing import Any

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import session_factory
from belegwerk.tax.eks.models import EksDeclaration, EksMonthValue
from tests.tax.eks_scenario import FINAL, book_scenario, final_mask

Q = "from=2026-01&to=2026-06&kind=final"


@pytest.fixture
def books(engine: Engine, tenant_id: int) -> None:
    with session_factory(engine)() as session:
        session.info["tenant_id"] = tenant_id
        book_scenario(session, tenant_id)
        session.commit()


def count(engine: Engine, tenant_id: int, model: Any) -> int:
    with session_factory(engine)() as session:
        session.info["tenant_id"] = tenant_id
        return int(
            session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
            )
            or 0
        )


def test_eks_json_has_the_lines_and_the_warnings(client: Any, books: None) -> None:
    assert client.put(f"/api/v1/tax/eks/input?{Q}", json=final_mask()).status_code == 200
    data = client.get(f"/api/v1/tax/eks?{Q}").json()
    assert data["form"] == "Jobcenter-EKS - 04/2025"
    assert data["months"] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    lines = {row["line"]: row for table in data["tables"].values() for row in table}
    for code, expected in FINAL.items():
        assert list(lines[code]["values"].values()) == expected, code
    assert data["profit"] == "2139.20"
    assert {w["code"] for w in data["warnings"]} >= {"eks.investment_approval", "eks.low_income"}
    assert data["input"]["car_use"] == "business"
    assert data["allowance"]["months"][0]["basic_allowance"] == "100.00"


def test_input_round_trip_and_audit(client: Any, engine: Engine, tenant_id: int) -> None:
    empty = client.get(f"/api/v1/tax/eks/input?{Q}").json()
    assert empty["source"] == "company"
    saved = client.put(f"/api/v1/tax/eks/input?{Q}", json=final_mask())
    assert saved.status_code == 200, saved.text
    again = client.get(f"/api/v1/tax/eks/input?{Q}").json()
    assert again["source"] == "saved"
    assert again["input"] == saved.json()["input"]
    assert again["input"]["answers"]["home_area"] == "14.50"
    assert again["input"]["km"] == {"2026-02": {"business": "320.00", "private": "150.00"}}
    with session_factory(engine)() as session:
        session.info["tenant_id"] = tenant_id
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "eks_declaration"
            )
        ).all()
    assert [(e.action, e.entity_id) for e in entries] == [("create", "2026-01_2026-06/final")]


@pytest.mark.parametrize(
    ("query", "code", "german"),
    [
        ("from=2026-01&to=2027-01&kind=final", "eks.period_too_long", "höchstens 12 Monate"),
        ("from=2026-06&to=2026-01&kind=final", "eks.period_reversed", "liegt vor seinem Beginn"),
        ("from=2026-13&to=2026-06&kind=final", "eks.invalid_month", "kein gültiger Monat"),
        ("from=2026-02-30&to=2026-06&kind=final", "eks.invalid_month", "kein gültiger Monat"),
        ("from=2026-01&to=2026-06&kind=maybe", "eks.invalid_kind", "Art der Erklärung"),
    ],
)
def test_bad_periods_answer_422_in_german(client: Any, query: str, code: str, german: str) -> None:
    for path in ("/api/v1/tax/eks", "/api/v1/tax/eks/input", "/api/v1/tax/eks/pdf"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == code
        assert german in error["message"]


def test_thirteen_months_are_refused_with_the_count(client: Any) -> None:
    error = client.get("/api/v1/tax/eks?from=2026-01&to=2027-01&kind=final").json()["error"]
    assert error["message"] == (
        "Ein Bewilligungszeitraum umfasst höchstens 12 Monate; 01.2026 bis 01.2027 sind 13 Monate."
    )


def test_bad_input_is_refused_and_nothing_is_written(
    client: Any, engine: Engine, tenant_id: int
) -> None:
    raw = final_mask() | {
        "km": {"2026-02": {"business": "-5"}, "2026-08": {"private": "3"}},
        "deductions": [{"kind": "private_health", "amount": "-1", "rhythm": "weekly"}],
        "answers": {"home_used": "vielleicht", "commute_days": "9", "nonsense": 1},
        "figures": {"G": {"2026-01": "5"}},
    }
    response = client.put(f"/api/v1/tax/eks/input?{Q}", json=raw)
    assert response.status_code == 422
    error = response.json()["error"]
    fields = {d["field"]: d["code"] for d in error["details"]}
    assert fields["km.2026-02.business"] == "eks.negative_km"
    assert fields["km.2026-08"] == "eks.month_outside_period"
    assert fields["deductions.0.amount"] == "money.negative"
    assert fields["deductions.0.rhythm"] == "eks.invalid_rhythm"
    assert fields["answers.home_used"] == "eks.invalid_choice"
    assert fields["answers.nonsense"] == "eks.unknown_field"
    assert fields["figures.G"] == "eks.unknown_line"
    assert fields["answers.commute_days"] == "eks.invalid_count"
    assert error["code"] == error["details"][0]["code"]  # the first problem names the error
    assert "Angaben sind ungültig" in error["message"]
    assert count(engine, tenant_id, EksDeclaration) == 0
    assert count(engine, tenant_id, EksMonthValue) == 0


def test_drilldown_api(client: Any, books: None) -> None:
    rows = client.get(f"/api/v1/tax/eks/drilldown?{Q}&line=B8&month=2026-03").json()
    (march,) = rows
    assert (march["value"], march["how"]) == ("1200.00", "books")
    (booking,) = march["bookings"]
    assert (booking["date"], booking["amount"]) == ("2026-03-15", "1200.00")
    assert booking["category"] == "investment"
    bad = client.get(f"/api/v1/tax/eks/drilldown?{Q}&line=Z9")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "eks.unknown_line"
    outside = client.get(f"/api/v1/tax/eks/drilldown?{Q}&line=A1&month=2026-09")
    assert outside.json()["error"]["code"] == "eks.month_outside_period"


def test_downloads(client: Any, books: None) -> None:
    client.put(f"/api/v1/tax/eks/input?{Q}", json=final_mask())
    pdf = client.get(f"/api/v1/tax/eks/pdf?{Q}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="anlage-eks_2026-01_2026-06_final.pdf"' in pdf.headers["content-disposition"]
    with pdfplumber.open(io.BytesIO(pdf.content)) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    assert "Anlage EKS" in text and "Lindqvist" in text
    csv = client.get(f"/api/v1/tax/eks/csv?{Q}")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0].split(";")[:4] == ["Tabelle", "Zeile", "Bezeichnung", "01.2026"]
    b8 = next(r for r in rows if r.startswith("B;B8;"))
    assert b8.split(";")[3:10] == ["0,00", "0,00", "1200,00", "0,00", "0,00", "0,00", "1200,00"]
    b6 = next(r for r in rows if r.startswith("B;;Abzüglich"))
    assert b6.split(";")[4] == "-15,00"
    xlsx = client.get(f"/api/v1/tax/eks/xlsx?{Q}")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Tabellen A und B", "Tabelle C", "Angaben", "Hinweise"]
    sheet = book["Tabellen A und B"]
    row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "A5.1")
    assert row[2:9] == (190, 190, 0, 190, 0, 95, 665)
    assert book["Tabelle C"]["C3"].value == 264


def test_pages_show_the_tables_and_save_the_mask(
    client: Any, books: None, engine: Engine, tenant_id: int
) -> None:
    html = {"accept": "text/html"}
    picker = client.get("/tax/eks", headers=html)
    assert picker.status_code == 200 and "Bewilligungszeitraum" in picker.text
    view = client.get(f"/tax/eks/view?{Q}", headers=html)
    assert view.status_code == 200
    assert 'id="row-B8"' in view.text and "1.200,00" in view.text
    assert "vorausgefüllt" in view.text  # nothing saved yet: the mask is pre-filled
    form = client.get(f"/tax/eks/input?{Q}", headers=html)
    assert form.status_code == 200 and 'name="km.2026-02.private"' in form.text
    data = {
        "car_use": "business",
        "vat_liable": "yes",
        "km.2026-02.private": "150",
        "answers.applicant_last_name": "Lindqvist",
        "answers.home_used": "yes",
        "answers.home_rooms": "1",
        "deductions_count": "4",
        "deductions.0.kind": "private_health",
        "deductions.0.amount": "1.215,40",
        "deductions.0.rhythm": "quarterly",
        "figures.A2.2026-03": "12,50",
    }
    saved = client.post(f"/tax/eks/input?{Q}", data=data, headers=html, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    view = client.get(saved.headers["location"], headers=html)
    assert "gespeichert" in view.text
    assert "– 15,00" in view.text  # the private km deduction
    assert "12,50" in view.text  # the own figure A2
    api = client.get(f"/api/v1/tax/eks/input?{Q}").json()["input"]
    assert api["deductions"] == [
        {"kind": "private_health", "amount": "1215.40", "rhythm": "quarterly", "description": ""}
    ]
    again = client.get(f"/tax/eks/input?{Q}", headers=html).text  # the saved values come back
    assert 'name="km.2026-02.private" value="150"' in again
    assert 'name="deductions.0.amount" value="1.215,40"' in again
    assert 'name="figures.A2.2026-03" value="12,50"' in again
    drill = client.get(f"/tax/eks/drill?{Q}&line=B8&month=2026-03", headers=html)
    assert drill.status_code == 200 and "15.03.2026" in drill.text


def test_page_form_with_bad_input_shows_the_messages_and_saves_nothing(
    client: Any, engine: Engine, tenant_id: int
) -> None:
    data = {"km.2026-02.private": "-150", "answers.commute": "yes", "answers.commute_days": "8"}
    response = client.post(f"/tax/eks/input?{Q}", data=data, headers={"accept": "text/html"})
    assert response.status_code == 422
    assert "Kilometer dürfen nicht negativ sein." in response.text
    assert "Bitte eine ganze Zahl von 0 bis 7 eingeben." in response.text
    assert 'value="-150"' in response.text  # the user's input stays in the form
    assert count(engine, tenant_id, EksDeclaration) == 0
    bad_period = client.get(
        "/tax/eks/view?from=2026-01&to=2027-06&kind=final", headers={"accept": "text/html"}
    )
    assert bad_period.status_code == 422 and "höchstens 12 Monate" in bad_period.text
