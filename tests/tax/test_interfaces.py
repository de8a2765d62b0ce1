"""UStVA outputs and interfaces: ELSTER XML structure, PDF read back, API, CLI, pages;
deadline calendar with a holiday; Kleinunternehmer monitor with the crossing transaction."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from lxml import etree
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from belegwerk.books.payments import add_payment
from belegwerk.core.db import session_factory, system_session
from belegwerk.tax import deadlines as dl
from belegwerk.tax import elster_xml
from belegwerk.tax.monitor import small_business_monitor
from belegwerk.tax.periods import parse_period
from belegwerk.tax.ustva import compute
from belegwerk.tax.ustva_pdf import render
from belegwerk.tenancy.service import get_company, update_company
from tests.tax.test_ustva import invoice

D = Decimal
NS = "http://finkonsens.de/elster/elsteranmeldung/ustva/v2026"


def test_elster_xml_structure(session: Session, tenant_id: int) -> None:
    update_company(session, tenant_id, {"tax_number": "2893081508152", "state": "BW"})
    invoice(session, tenant_id, [("1000.99", "19", "S", None)])
    invoice(
        session, tenant_id, [("100.00", "0", "AE", "advertising")], direction="in", country="IE"
    )
    result = compute(session, tenant_id, parse_period("2026-03"))
    data = elster_xml.build(result, get_company(session, tenant_id), created=date(2026, 4, 2))
    assert data.startswith(b"<?xml version='1.0' encoding='ISO-8859-15'?>")
    root = etree.fromstring(data)
    assert root.tag == f"{{{NS}}}Anmeldungssteuern" and root.get("version") == "2026"
    assert root.get("art") is None
    children = [etree.QName(c).localname for c in root]
    assert children == ["Erstellungsdatum", "DatenLieferant", "Steuerfall"]
    case = root.find(f"{{{NS}}}Steuerfall/{{{NS}}}Umsatzsteuervoranmeldung")
    assert case is not None
    values = {etree.QName(c).localname: c.text for c in case}
    assert values["Jahr"] == "2026" and values["Zeitraum"] == "03"
    assert values["Steuernummer"] == "2893081508152"
    assert values["Kz81"] == "1000"  # whole euros
    assert (values["Kz46"], values["Kz47"], values["Kz67"]) == ("100", "19.00", "19.00")
    assert values["Kz83"] == "190.00"
    quarter = compute(session, tenant_id, parse_period("2026-Q1"))
    q = etree.fromstring(elster_xml.build(quarter, get_company(session, tenant_id)))
    assert q.findtext(f".//{{{NS}}}Zeitraum") == "41"


def test_elster_xml_refuses_errors_and_missing_tax_number(session: Session, tenant_id: int) -> None:
    invoice(session, tenant_id, [("10.00", "19", "S", None)])
    result = compute(session, tenant_id, parse_period("2026-03"))
    with pytest.raises(Exception) as err:
        elster_xml.build(result, get_company(session, tenant_id))
    assert getattr(err.value, "code", "") == "ustva.tax_number_missing"


def test_pdf_reads_back(session: Session, tenant_id: int) -> None:
    invoice(session, tenant_id, [("1234.56", "19", "S", None)])
    result = compute(session, tenant_id, parse_period("2026-03"))
    pdf = render(result, get_company(session, tenant_id))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    assert "Umsatzsteuer-Voranmeldung 03/2026" in text
    assert "81" in text and "1234" in text and "234,46" in text


def test_deadlines_move_over_weekends_and_state_holidays(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    """§ 18 Abs. 1 UStG, § 108 Abs. 3 AO: 10 May 2026 is a Sunday → Monday 11 May; with
    Dauerfristverlängerung the December return of 2025 is due 10 Feb 2026 (Tuesday). Epiphany
    (6 Jan) is a holiday in Bavaria, not in Berlin."""
    tid = make_tenant(chart="skr03", ustva_period="monthly", state="BY")
    session.info["tenant_id"] = tid
    company = get_company(session, tid)
    assert dl.ustva_due(parse_period("2026-04"), company) == date(2026, 5, 11)
    assert dl.next_working_day(date(2026, 1, 6), "BY") == date(2026, 1, 7)
    assert dl.next_working_day(date(2026, 1, 6), "BE") == date(2026, 1, 6)
    # Whit Monday 25 May 2026 everywhere; Corpus Christi 4 June 2026 in BY, not in BE
    assert dl.next_working_day(date(2026, 6, 4), "BY") == date(2026, 6, 5)
    update_company(session, tid, {"filing_extension": True})
    assert dl.ustva_due(parse_period("2025-12"), get_company(session, tid)) == date(2026, 2, 10)
    items = dl.calendar(session, tid, 2026)
    kinds = [d.kind for d in items]
    assert kinds.count("ustva") == 12 and "special_prepayment" in kinds and "euer" in kinds


def test_small_business_monitor_names_the_crossing_payment(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    """§ 19 Abs. 1 UStG (2025): the status ends with the receipt that takes the year's net
    turnover above 100.000 €; the monitor names it."""
    tid = make_tenant(chart="skr03", vat_regime="small_business")
    session.info["tenant_id"] = tid
    first = invoice(session, tid, [("20000.00", "0", "", None)], day=date(2026, 2, 1))
    second = invoice(session, tid, [("85000.00", "0", "", None)], day=date(2026, 3, 1))
    add_payment(session, tid, first, date(2026, 2, 10), "20000.00", "bank")
    m = small_business_monitor(session, tid, 2026)
    assert (m.turnover, m.status, m.crossing) == (D("20000.00"), "ok", None)
    add_payment(session, tid, second, date(2026, 3, 20), "60000.00", "bank")
    assert small_business_monitor(session, tid, 2026).status == "warning"  # 80 % of the limit
    add_payment(session, tid, second, date(2026, 4, 2), "25000.00", "bank")
    m = small_business_monitor(session, tid, 2026)
    assert m.status == "exceeded" and m.crossing is not None
    assert (m.crossing.day, m.crossing.amount, m.crossing.running) == (
        date(2026, 4, 2),
        D("25000.00"),
        D("105000.00"),
    )


def _setup(engine: Engine, tenant_id: int) -> None:
    with session_factory(engine)() as s:
        s.info["tenant_id"] = tenant_id
        update_company(s, tenant_id, {"tax_number": "2893081508152"})
        invoice(s, tenant_id, [("500.00", "19", "S", None)])
        s.commit()


def test_api(client: Any, engine: Engine, tenant_id: int) -> None:
    _setup(engine, tenant_id)
    res = client.get("/api/v1/tax/ustva", params={"period": "2026-03"})
    assert res.status_code == 200
    assert res.json()["boxes"] == {"81": "500", "83": "95.00"}
    box = client.get("/api/v1/tax/ustva/boxes/81", params={"period": "2026-03"}).json()
    assert box["total"] == "500.00" and len(box["postings"]) == 1
    for bad in ("2026-13", "2026-Q5"):
        res = client.get("/api/v1/tax/ustva", params={"period": bad})
        assert res.status_code == 422
        assert res.json()["error"]["code"] == "tax.invalid_period"
    xml = client.get("/api/v1/tax/ustva.xml", params={"period": "2026-03"})
    assert xml.status_code == 200 and b"<Kz81>500</Kz81>" in xml.content
    pdf = client.get("/api/v1/tax/ustva.pdf", params={"period": "2026-03"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    filed = client.post("/api/v1/tax/ustva/filings", json={"period": "2026-03"})
    assert filed.status_code == 201, filed.text
    again = client.post("/api/v1/tax/ustva/filings", json={"period": "2026-03"})
    assert again.status_code == 409  # the "already filed" warning needs confirming
    again = client.post(
        "/api/v1/tax/ustva/filings", json={"period": "2026-03", "confirm_warnings": True}
    )
    assert again.json()["corrected"] is True
    deadlines = client.get("/api/v1/tax/deadlines", params={"year": 2026}).json()
    assert any(d["kind"] == "ustva" and d["period"] == "2026-Q1" for d in deadlines)
    assert client.get("/api/v1/tax/small-business-monitor").status_code == 200


def test_pages(client: Any, engine: Engine, tenant_id: int) -> None:
    _setup(engine, tenant_id)
    page = client.get("/tax/ustva", params={"period": "2026-Q1"})
    assert page.status_code == 200
    assert 'data-kz="81"' in page.text and "Kennzahlen" in page.text
    assert client.get("/tax/ustva/boxes/81", params={"period": "2026-Q1"}).status_code == 200
    bad = client.get("/tax/ustva", params={"period": "2026-Q5"})
    assert bad.status_code == 422 and "2026-Q5" in bad.text
    done = client.post(
        "/tax/ustva/file",
        data={"period": "2026-Q1", "confirm_warnings": "1"},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303)
    assert "Fristen" in client.get("/tax/deadlines").text


@pytest.fixture
def cli_tenant(cli_db: str) -> str:
    from belegwerk.books.categories import sync_master_categories
    from belegwerk.core.db import get_engine
    from belegwerk.tenancy.models import Tenant
    from belegwerk.tenancy.service import CompanyData, create_tenant

    with system_session(get_engine()) as s:
        sync_master_categories(s)
        tenant = create_tenant(
            s, CompanyData(name="CLI GmbH", chart="skr03", tax_number="2893081508152")
        )
        tid = tenant.id
    with session_factory(get_engine())() as s:
        s.info["tenant_id"] = tid
        invoice(s, tid, [("200.00", "19", "S", None)])
        s.commit()
        slug = s.get(Tenant, tid).slug  # type: ignore[union-attr]
    return str(slug)


def test_cli(cli_tenant: str, tmp_path: Path) -> None:
    from belegwerk.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["ustva", "--period", "2026-03", "--json", "--tenant", cli_tenant])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["period"] == "2026-03" and data["boxes"] == {"81": "200", "83": "38.00"}
    assert isinstance(data["warnings"], list)
    xml, pdf = tmp_path / "u.xml", tmp_path / "u.pdf"
    res = runner.invoke(
        app,
        [
            "ustva",
            "--period",
            "2026-Q1",
            "--elster-xml",
            str(xml),
            "--pdf",
            str(pdf),
            "--tenant",
            cli_tenant,
        ],
    )
    assert res.exit_code == 0, res.output
    assert b"<Zeitraum>41</Zeitraum>" in xml.read_bytes() and pdf.read_bytes().startswith(b"%PDF")
    res = runner.invoke(app, ["ustva", "--period", "2026-13", "--tenant", cli_tenant])
    assert res.exit_code == 1 and "tax.invalid_period" in res.output
