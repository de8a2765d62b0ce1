"""Banking end-to-end in a real browser: Debian's Chromium drives the running app.

1. The import flow: create an account, upload a DKB statement, see the detected bank and its
   score, import, see the result and the transactions, mark one as private, link one to an
   invoice.
2. An unknown CSV: upload, get the template editor, map the columns by dropdown, test, save,
   import with the new template.

Skips when /usr/bin/chromium (or Playwright) is missing, unless BELEGWERK_REQUIRE_BROWSER=1.
Set BELEGWERK_SCREENSHOTS=DIR to keep a screenshot of every step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from belegwerk.books import invoices, parties
from belegwerk.books.invoice_calc import LineInput
from belegwerk.core.db import session_factory, system_session
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, live_app

FIXTURES = Path(__file__).resolve().parents[1] / "banking" / "fixtures"

pytestmark = pytest.mark.browser


@dataclass
class App:
    url: str
    engine: Engine
    tenant_id: int


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """The real app under uvicorn on a fresh SQLite file with one configured company."""
    with live_app(tmp_path) as (url, engine):
        with system_session(engine) as session:
            tenant = create_tenant(
                session, CompanyData(name="Atelier Sommer", chart="skr03"), slug="atelier"
            )
            tenant_id = tenant.id
        yield App(url, engine, tenant_id)


def _booked_invoice(app: App, customer: str, iban: str, gross: str) -> int:
    with session_factory(app.engine)() as session:
        session.info["tenant_id"] = app.tenant_id
        party = parties.create_party(
            session, app.tenant_id, parties.PartyData(name=customer, is_customer=True, iban=iban)
        )
        draft = invoices.create_draft(
            session,
            app.tenant_id,
            invoices.InvoiceInput(
                direction="out",
                issue_date=date(2026, 10, 20),
                party_id=party.id,
                price_mode="gross",
                lines=[
                    LineInput(
                        description="Catering Tagung",
                        quantity=Decimal(1),
                        unit_price=Decimal(gross),
                        vat_rate=Decimal(19),
                    )
                ],
            ),
        )
        invoices.book_invoice(session, app.tenant_id, draft.id)
        session.commit()
        return draft.id


class Shots:
    """Screenshots of each step when BELEGWERK_SCREENSHOTS names a folder."""

    def __init__(self, page: Any, prefix: str) -> None:
        folder = os.environ.get("BELEGWERK_SCREENSHOTS")
        self.page = page
        self.folder = Path(folder) if folder else None
        self.prefix = prefix
        self.n = 0
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> None:
        if self.folder is None:
            return
        self.n += 1
        path = self.folder / f"{self.prefix}-{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)


def _browser_page(pw: Any) -> tuple[Any, Any]:
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(locale="de-DE", viewport={"width": 1400, "height": 900})
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())
    return browser, page


def test_import_a_bank_statement_mark_private_and_link_an_invoice(app: App) -> None:
    from playwright.sync_api import expect, sync_playwright

    invoice_id = _booked_invoice(app, "Hotel Seeblick GmbH", "DE89370400440532013000", "1500")
    with sync_playwright() as pw:
        browser, page = _browser_page(pw)
        shot = Shots(page, "import")
        try:
            # 1. A mixed account (business and private money) with the statement's IBAN.
            page.goto(app.url + "/bank/accounts")
            page.locator("a[href='/bank/accounts/new']").first.click()
            page.locator("#f-iban").fill("DE02 1203 0000 0000 2020 51")
            page.locator("#f-name").fill("DKB Geschäft")
            page.locator("input[name=account_type][value=mixed]").check()
            shot("account-form")
            page.locator("#account-form button[type=submit]").click()
            expect(page.locator(".alert-success")).to_be_visible()
            expect(page.locator("#account-table")).to_contain_text("DE02 1203 0000 0000 2020 51")
            expect(page.locator("#account-table")).to_contain_text("Deutsche Kreditbank")

            # 2. Upload: the bank is recognised with its score, the preview shows the rows.
            page.locator("nav.mainnav a[href='/bank/import']").click()
            page.locator("#f-file").set_input_files(str(FIXTURES / "ui_dkb_2023.csv"))
            shot("upload")
            page.locator("#upload-form button[type=submit]").click()
            expect(page.locator("#detected-bank")).to_have_text("DKB (ab 2023)")
            expect(page.locator("#detected-score")).to_contain_text("100 %")
            # The file names its IBAN: the account is chosen by itself.
            expect(page.locator("#f-account_id option:checked")).to_contain_text("DKB Geschäft")
            expect(page.locator("#row-count")).to_have_text("6")
            expect(page.locator("#preview-table")).to_contain_text("Hotel Seeblick GmbH")
            expect(page.locator("#preview-table")).to_contain_text("1.000,00 €")
            expect(page.locator("#preview-table")).to_contain_text("16.11.2026")
            shot("preview")

            # 3. Import and the result.
            page.locator("#import-button").click()
            expect(page.locator("#batch-imported")).to_have_text("6")
            expect(page.locator("#batch-duplicates")).to_have_text("0")
            expect(page.locator("#batch-rejected")).to_have_text("0")
            expect(page.locator("#batch-transactions")).to_contain_text("Privatentnahme November")
            shot("result")

            # 4. The transactions: mark the supermarket as private.
            page.locator("a[href^='/bank/transactions?batch=']").first.click()
            rows = page.locator("#tx-table tbody tr")
            expect(rows).to_have_count(6)
            rewe = rows.filter(has_text="REWE Markt GmbH")
            rewe.locator("select[name=usage]").select_option("private")
            expect(rewe.locator("select[name=category_id]")).to_be_disabled()
            rewe.locator("form[data-decide-form] button[type=submit]").click()
            expect(page.locator(".alert-success")).to_be_visible()
            rewe = page.locator("#tx-table tbody tr").filter(has_text="REWE Markt GmbH")
            expect(rewe.locator(".badge-usage-private")).to_be_visible()
            expect(rewe).to_have_class("confirmed")
            shot("marked-private")

            # 5. Link the hotel's payment to its invoice (partly paid: 1.000 of 1.500 €).
            page.locator("#tx-table a.tx-party", has_text="Hotel Seeblick GmbH").click()
            expect(page.locator("#matches")).to_contain_text("RE-2026-00001")  # proposed
            page.locator("#f-invoice_id").select_option(str(invoice_id))
            expect(page.locator("#f-amount")).to_have_value("1.000,00")
            shot("link-form")
            page.locator("#link-button").click()
            expect(page.locator(".alert-success")).to_be_visible()
            expect(page.locator("#matches .badge-linked")).to_be_visible()
            expect(page.locator("#matches")).to_contain_text("RE-2026-00001")
            shot("linked")

            page.goto(f"{app.url}/invoices/{invoice_id}")
            expect(page.locator("#paid-amount")).to_have_text("1.000,00 €")
            expect(page.locator("#open-amount")).to_have_text("500,00 €")
        finally:
            browser.close()


def test_unknown_csv_gets_a_template_in_the_editor(app: App) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = _browser_page(pw)
        shot = Shots(page, "editor")
        try:
            page.goto(app.url + "/bank/accounts/new")
            page.locator("#f-iban").fill("DE89370400440532013000")
            page.locator("#account-form button[type=submit]").click()
            expect(page.locator(".alert-success")).to_be_visible()

            # Upload a layout no template knows: the editor opens with the file's columns.
            page.goto(app.url + "/bank/import")
            page.locator("#f-file").set_input_files(str(FIXTURES / "ui_unknown.csv"))
            page.locator("#upload-form button[type=submit]").click()
            expect(page.locator("#template-editor")).to_be_visible()
            mapping = page.locator("#column-mapping")
            for column in ("Tag", "Gegenpartei", "Notiz", "Wert EUR"):
                expect(mapping).to_contain_text(column)
            expect(mapping).to_contain_text("Copyshop Meier")
            expect(page.locator("#f-delimiter")).to_have_value("comma")
            shot("editor")

            # Map the columns by dropdown and set the number and date formats.
            page.locator("#f-name").fill("Testbank Nord")
            page.locator("select[name=map_0]").select_option("booking_date")
            page.locator("select[name=map_1]").select_option("counterparty_name")
            page.locator("select[name=map_2]").select_option("purpose")
            page.locator("select[name=map_3]").select_option("amount")
            page.locator("#f-decimal").select_option(".")
            page.locator("#f-thousands").select_option("comma")
            page.locator("#f-date_format").select_option("%Y-%m-%d")

            # Test on the file: three rows, German formats.
            page.locator("#test-template").click()
            expect(page.locator("#test-count")).to_contain_text("3")
            expect(page.locator("#test-rows")).to_contain_text("-45,90 €")
            expect(page.locator("#test-rows")).to_contain_text("1.500,00 €")
            expect(page.locator("#test-rows")).to_contain_text("03.11.2026")
            expect(page.locator("select[name=map_3]")).to_have_value("amount")  # kept
            shot("tested")

            # Save: the import continues with the new template, which reads the file.
            page.locator("#save-template").click()
            expect(page.locator(".alert-success")).to_be_visible()
            expect(page.locator("#detected-bank")).to_have_text("Testbank Nord")
            expect(page.locator("#row-count")).to_have_text("3")
            shot("preview")
            page.locator("#import-button").click()
            expect(page.locator("#batch-imported")).to_have_text("3")
            shot("result")

            page.locator("nav.mainnav a[href='/bank/templates']").click()
            expect(page.locator("#own-templates")).to_contain_text("Testbank Nord")
            expect(page.locator("#own-templates")).to_contain_text("user-testbank-nord")
        finally:
            browser.close()
