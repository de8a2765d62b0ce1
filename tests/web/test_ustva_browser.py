"""The UStVA page in a real browser (Debian's Chromium drives the running app): pick a period,
open a Kennzahl's bookings, see the Zusammenfassende Meldung, confirm a warning and mark the
return as filed, download the PDF and read it back.

Skips when /usr/bin/chromium (or Playwright) is missing, unless BELEGWERK_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy import Engine

from belegwerk.books import invoices, parties
from belegwerk.books.invoice_calc import LineInput
from belegwerk.core.dates import today
from belegwerk.core.db import session_factory, system_session
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, live_app

pytestmark = pytest.mark.browser
D = Decimal


@dataclass
class App:
    url: str
    engine: Engine
    tenant_id: int
    period: str  # March of last year: over, and offered by the period picker


def _book(app: App, customer: str, day: date, lines: list[LineInput], **party: str) -> str:
    with session_factory(app.engine)() as session:
        session.info["tenant_id"] = app.tenant_id
        pid = parties.create_party(
            session,
            app.tenant_id,
            parties.PartyData(name=customer, is_customer=True, **party),
        ).id
        draft = invoices.create_draft(
            session,
            app.tenant_id,
            invoices.InvoiceInput(direction="out", issue_date=day, party_id=pid, lines=lines),
        )
        booked = invoices.book_invoice(session, app.tenant_id, draft.id)
        session.commit()
        return str(booked.number)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with live_app(tmp_path) as (url, engine):
        with system_session(engine) as session:
            tenant = create_tenant(
                session,
                CompanyData(
                    name="Atelier Sommer",
                    chart="skr03",
                    ustva_period="monthly",
                    tax_number="2893081508152",
                    state="BW",
                ),
                slug="atelier",
            )
        year = today().year - 1
        yield App(url, engine, tenant.id, f"{year}-03")


def test_ustva_page_drilldown_filing_and_pdf(app: App) -> None:
    from playwright.sync_api import expect, sync_playwright

    year = int(app.period[:4])
    number = _book(
        app,
        "Kunde GmbH",
        date(year, 3, 10),
        [
            LineInput("Gestaltung", D(1), D("1000.00"), D(19)),
            LineInput("Fachbuch", D(1), D("200.00"), D(7)),
        ],
    )
    _book(
        app,
        "Client SARL",
        date(year, 3, 12),
        [LineInput("Ware", D(2), D("750.00"), D(0), vat_category="K")],
        country="FR",
        vat_id="FR40303265045",
    )
    with session_factory(app.engine)() as session:  # a draft of the period: a warning
        session.info["tenant_id"] = app.tenant_id
        invoices.create_draft(
            session,
            app.tenant_id,
            invoices.InvoiceInput(direction="out", issue_date=date(year, 3, 20)),
        )
        session.commit()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(
            locale="de-DE", viewport={"width": 1400, "height": 900}, accept_downloads=True
        )
        page.set_default_timeout(15_000)
        try:
            # 1. The period picker: choosing March of last year reloads the page with it.
            page.goto(app.url + "/tax/ustva")
            page.locator("#f-period").select_option(app.period)
            page.wait_for_url(f"**/tax/ustva?period={app.period}")
            expect(page.locator("h1")).to_contain_text(f"03/{year}")
            boxes = page.locator("#ustva-boxes")
            expect(boxes.locator("tr[data-kz='81'] td.num").first).to_have_text("1000")
            expect(boxes.locator("tr[data-kz='81'] td.num").last).to_have_text("190,00 €")
            expect(boxes.locator("tr[data-kz='86'] td.num").first).to_have_text("200")
            expect(boxes.locator("tr[data-kz='41'] td.num").first).to_have_text("1500")
            expect(boxes.locator("tr[data-kz='83'] td.num").first).to_have_text("204.00")
            # the Zusammenfassende Meldung of the month, agreeing with Kz 41
            expect(page.locator("#zm-lines")).to_contain_text("FR40303265045")
            expect(page.locator("#zm-lines tr[data-vat-id='FR40303265045'] td.num")).to_have_text(
                "1500"
            )
            expect(page.locator("#zm-reconciliation")).to_contain_text("stimmt überein")

            # 2. Drill-down: Kz 81 shows the invoice behind it, and back.
            boxes.locator("tr[data-kz='81'] a").click()
            expect(page.locator("h1")).to_contain_text("Kz 81")
            expect(page.locator("#box-postings")).to_contain_text(number)
            expect(page.locator("#box-postings tfoot")).to_contain_text("1.000,00 €")
            page.locator(".page-head .sub a").click()
            page.wait_for_url(f"**/tax/ustva?period={app.period}")

            # 3. The warning must be confirmed before the return is marked as filed.
            warning = page.locator("[data-check='ustva.draft_invoices']")
            expect(warning).to_be_visible()
            page.locator("#file-form button[type=submit]").click()
            expect(page.locator(".alert-error, .alert-danger").first).to_contain_text("Hinweise")
            page.locator("#file-form input[name=confirm_warnings]").check()
            page.locator("#file-form button[type=submit]").click()
            expect(page.locator(".alert-success")).to_contain_text("abgegeben")
            expect(page.locator(".page-head .sub")).to_contain_text("als abgegeben markiert")
            expect(page.locator("[data-check='ustva.already_filed']")).to_be_visible()

            # 4. The PDF with the boxes.
            with page.expect_download() as info:
                page.locator(f"a[href='/api/v1/tax/ustva.pdf?period={app.period}']").click()
            pdf = info.value
            assert pdf.suggested_filename == f"UStVA_{app.period}.pdf"
            data = Path(pdf.path()).read_bytes()
            assert data.startswith(b"%PDF")
            with pdfplumber.open(io.BytesIO(data)) as doc:
                text = "\n".join(p.extract_text() or "" for p in doc.pages)
            assert f"Umsatzsteuer-Voranmeldung 03/{year}" in text
            assert "1000" in text and "190,00" in text
        finally:
            browser.close()
