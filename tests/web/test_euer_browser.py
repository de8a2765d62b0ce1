"""Anlage EÜR and asset register in a real browser (Debian's Chromium drives the running app).

A year of a small business: cash income, office supplies, a notebook bought as an investment.
The user opens the EÜR through the navigation, picks the year, opens a line down to its
postings, takes the notebook over into the asset register, sees the AfA plan, sells it, and
finds the depreciation in the EÜR.

Skips when /usr/bin/chromium (or Playwright) is missing, unless BELEGWERK_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from belegwerk.books.cash import set_opening_balance
from belegwerk.core.db import session_factory, system_session
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.tax.test_cash_basis import pay
from tests.tax.test_euer import cash, purchase
from tests.web.live import live_app
from tests.web.test_bank_browser import App, Shots, _browser_page

pytestmark = pytest.mark.browser
D = Decimal


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with live_app(tmp_path) as (url, engine):
        with system_session(engine) as session:
            tenant_id = create_tenant(
                session, CompanyData(name="Studio Lindner", chart="skr03"), slug="studio"
            ).id
        with session_factory(engine)() as s:
            s.info["tenant_id"] = tenant_id
            set_opening_balance(s, tenant_id, date(2025, 1, 1), D("500.00"))
            cash(s, tenant_id, date(2025, 3, 1), "revenue_19", "238.00", "income")
            cash(s, tenant_id, date(2025, 3, 2), "office_supplies", "59.50",
                 input_vat_deductible=True)  # fmt: skip
            notebook = purchase(s, tenant_id, "1500.00", "investment", date(2025, 7, 15))
            pay(s, tenant_id, notebook, date(2025, 7, 20), "1785.00")
            s.commit()
        yield App(url, engine, tenant_id)


def test_euer_drill_down_and_asset_register(app: App) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = _browser_page(pw)
        shot = Shots(page, "euer")
        try:
            page.goto(app.url + "/")
            page.locator("nav.mainnav a[href='/tax/euer']").click()
            page.locator("#f-year").select_option("2025")
            page.locator("#year-form button[type=submit]").click()
            expect(page.locator("h1")).to_have_text("Anlage EÜR 2025")
            expect(page.locator("#kz-112")).to_contain_text("200,00 €")
            expect(page.locator("#kz-185")).to_contain_text("294,50 €")
            expect(page.locator("#euer-warnings")).to_contain_text("Anlagenverzeichnis")
            shot("report")

            # Open the input VAT down to its payments: the supplies and the notebook's share.
            page.locator("#kz-185 a").click()
            expect(page.locator("#line-amount")).to_have_text("294,50 €")
            expect(page.locator("#drill-rows tbody tr")).to_have_count(2)
            shot("drill-down")

            # Take the notebook over into the register.
            page.locator("nav.mainnav a[href='/tax/assets']").click()
            page.locator("#f-year").fill("2025")
            page.locator("form.inline-form button[type=submit]").first.click()
            page.locator("#offers a.btn").click()
            expect(page.locator("#f-net_cost")).to_have_value("1500,00")
            page.locator("#f-asset_type").select_option("computer")
            page.locator("#f-name").fill("Notebook Grafik")
            shot("asset-form")
            page.locator("#asset-form button[type=submit]").click()
            expect(page.locator(".alert-success")).to_be_visible()
            expect(page.locator("#plan")).to_contain_text("250,00 €")
            shot("asset")

            # Sell it in March 2026: AfA up to March, the rest is the book value written off.
            page.locator("#f-disposal_date").fill("2026-03-10")
            page.locator("#f-proceeds").fill("900,00")
            page.locator("#dispose-form button[type=submit]").click()
            expect(page.locator("#gain")).to_have_text("-225,00 €")

            page.goto(app.url + "/tax/euer?year=2025")
            expect(page.locator("#kz-130")).to_contain_text("250,00 €")
            shot("report-with-afa")
        finally:
            browser.close()
