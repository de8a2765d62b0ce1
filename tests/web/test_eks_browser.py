"""The Anlage EKS in a real browser: pick the period, see the tables and warnings, enter what the
books cannot know, see the km deduction and open the bookings behind a figure.

Skips without /usr/bin/chromium (or Playwright) unless BELEGWERK_REQUIRE_BROWSER=1.
BELEGWERK_SCREENSHOTS=DIR keeps a screenshot of every step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from belegwerk.core.db import session_factory, system_session
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.tax.eks_scenario import book_scenario
from tests.web.live import live_app
from tests.web.test_bank_browser import App, Shots, _browser_page

pytestmark = pytest.mark.browser


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with live_app(tmp_path) as (url, engine):
        with system_session(engine) as session:
            tenant_id = create_tenant(
                session, CompanyData(name="Lindqvist Grafik", chart="skr04"), slug="grafik"
            ).id
        with session_factory(engine)() as session:
            session.info["tenant_id"] = tenant_id
            book_scenario(session, tenant_id)
            session.commit()
        yield App(url, engine, tenant_id)


def test_eks_page_from_picker_to_drilldown(app: App) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser, page = _browser_page(pw)
        shot = Shots(page, "eks")
        try:
            # 1. The navigation leads to the picker; choose the final declaration 01–06/2026.
            page.goto(app.url + "/")
            page.locator("nav.mainnav a[href='/tax/eks']").click()
            page.locator("#f-from").fill("2026-01")
            page.locator("#f-to").fill("2026-06")
            page.locator("#eks-picker input[name=kind][value=final]").check()
            shot("picker")
            page.locator("#eks-picker button[type=submit]").click()

            # 2. The tables, filled from the books; the warnings; nothing saved yet.
            expect(page.locator("h1")).to_contain_text("Anlage EKS 01.2026 – 06.2026")
            expect(page.locator("#mask-source")).to_be_visible()
            b8 = page.locator("#row-B8")
            expect(b8.locator("td[data-month='2026-03']")).to_have_text("1.200,00")
            expect(page.locator("#kpi-profit")).to_have_text("2.124,20 €")
            warnings = page.locator("#eks-warnings")
            expect(warnings.locator("[data-code='eks.investment_approval']")).to_be_visible()
            expect(warnings.locator("[data-code='eks.car_use_missing']")).to_be_visible()
            shot("tables")

            # 3. The input mask: business car, 150 private km in February, health insurance.
            page.locator("#edit-input").click()
            page.locator("input[name=car_use][value=business]").check()
            page.locator("input[name='km.2026-02.private']").fill("150")
            page.locator("input[name='answers.applicant_last_name']").fill("Lindqvist")
            page.locator("select[name='deductions.0.kind']").select_option("private_health")
            page.locator("input[name='deductions.0.amount']").fill("215,40")
            shot("mask")
            page.locator("#save-input").click()

            # 4. Saved: the km deduction is there, the profit follows, the warning is gone.
            expect(page.locator(".alert-success")).to_contain_text("gespeichert")
            deduction = page.locator("#row-B6-")
            expect(deduction.locator("td[data-month='2026-02']")).to_have_text("– 15,00")
            expect(page.locator("#kpi-profit")).to_have_text("2.139,20 €")
            expect(page.locator("[data-code='eks.car_use_missing']")).to_have_count(0)
            expect(page.locator("#table-c")).to_contain_text("215,40 €")
            shot("saved")

            # 5. Drill-down: the bookings behind the investment of March.
            b8.locator("td[data-month='2026-03'] a").click()
            expect(page.locator("h1")).to_contain_text("B8 Investitionen")
            expect(page.locator("#drill-2026-03")).to_contain_text("15.03.2026")
            expect(page.locator("#drill-2026-03")).to_contain_text("1.200,00 €")
            shot("drill")

            # 6. The PDF download answers with the filled form.
            pdf = page.request.get(page.url.replace("/tax/eks/drill", "/api/v1/tax/eks/pdf"))
            assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
        finally:
            browser.close()
