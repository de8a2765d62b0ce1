"""End-to-end through a real browser: Debian's Chromium drives the German UI of a running app.

Skips when /usr/bin/chromium (or Playwright) is missing, unless BELEGWERK_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.web.live import CHROMIUM, CHROMIUM_ARGS, live_app

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    """The real app under uvicorn on a fresh SQLite file, in a background thread."""
    with live_app(tmp_path) as (url, _engine):
        yield url


def test_invoice_cash_entry_and_daily_closing_through_the_ui(base_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    today = date.today()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="de-DE")
            page.set_default_timeout(15_000)
            page.on("dialog", lambda dialog: dialog.accept())  # "book the invoice?" confirm

            # Start page in German, with the set-up hint for the fresh company.
            page.goto(base_url + "/")
            expect(page.locator("h1")).to_have_text("Übersicht")
            expect(page.get_by_text("Ihre Firma ist noch nicht eingerichtet.")).to_be_visible()

            # 1. Company settings.
            page.get_by_role("link", name="Einstellungen", exact=True).click()
            page.get_by_label("Firmenname").fill("Café Morgenrot")
            page.get_by_label("Regelbesteuerung").check()
            page.get_by_label("Soll-Versteuerung (nach vereinbarten Entgelten)").check()
            page.get_by_label("Voranmeldungszeitraum (UStVA)").select_option("monthly")
            page.get_by_label("Gewerblich").check()
            page.get_by_label("SKR03 (üblich für Gewerbe)").check()
            page.get_by_label("USt-IdNr.").fill("DE12345")
            page.get_by_role("button", name="Einstellungen speichern").click()
            expect(page.locator(".alert-error")).to_contain_text("ist nicht gültig")
            page.get_by_label("USt-IdNr.").fill("DE136695976")
            page.get_by_label("DATEV-Beraternummer").fill("1234567")
            page.get_by_role("button", name="Einstellungen speichern").click()
            expect(page.locator(".alert-success")).to_have_text(
                "Die Firmeneinstellungen wurden gespeichert."
            )
            expect(page.locator(".switcher summary")).to_contain_text("Café Morgenrot")
            expect(page.locator(".regime")).to_have_text("Regelbesteuerung · SKR03")

            # 2. A customer, then a sales invoice with two lines (add-row JS, live totals).
            page.goto(base_url + "/parties/new?role=customer")
            page.locator("#f-name").fill("Hotel Seeblick GmbH")
            page.get_by_label("Ort").fill("Konstanz")
            page.get_by_role("button", name="Speichern").click()
            expect(page.locator(".alert-success")).to_have_text("Der Kontakt wurde gespeichert.")

            page.get_by_role("link", name="Rechnungen", exact=True).click()
            page.get_by_role("link", name="Neue Ausgangsrechnung").click()
            page.get_by_label("Kunde / Lieferant").select_option(
                label="Hotel Seeblick GmbH (10000)"
            )
            lines = page.locator("tbody[data-lines] tr")
            lines.nth(0).locator("[name=line_description]").fill("Catering Tagung")
            lines.nth(0).locator("[name=line_quantity]").fill("2")
            lines.nth(0).locator("[name=line_unit_price]").fill("1.000,00")
            page.get_by_role("button", name="Position hinzufügen").click()
            expect(lines).to_have_count(2)
            lines.nth(1).locator("[name=line_description]").fill("Kuchenbuffet")
            lines.nth(1).locator("[name=line_unit_price]").fill("100")
            lines.nth(1).locator("[name=line_vat_rate]").select_option("7")
            totals = page.locator("[data-invoice-totals]")
            expect(totals).to_contain_text("2.487,00 €")  # 2.000 + 19 % and 100 + 7 %
            page.get_by_role("button", name="Entwurf speichern").click()
            expect(page.locator(".alert-success")).to_have_text(
                "Die Rechnung wurde als Entwurf gespeichert."
            )
            expect(page.locator("#rate-totals")).to_contain_text("380,00 €")
            expect(page.locator("#gross-total")).to_have_text("2.487,00 €")

            page.get_by_role("button", name="Rechnung buchen").click()
            expect(page.locator(".alert-success")).to_have_text("Die Rechnung wurde gebucht.")
            expect(page.locator("#invoice-number")).to_have_text(f"RE-{today.year}-00001")
            page.get_by_role("link", name="Zurück zur Liste").click()
            row = page.locator("#invoice-table tbody tr").first
            expect(row).to_contain_text(f"RE-{today.year}-00001")
            expect(row).to_contain_text(today.strftime("%d.%m.%Y"))
            expect(row).to_contain_text("Gebucht")

            # 3. Cash book: opening balance, then a cash expense.
            page.get_by_role("link", name="Kassenbuch", exact=True).click()
            page.get_by_label("Bargeldbestand (EUR)").fill("200,00")
            page.get_by_role("button", name="Anfangsbestand festlegen").click()
            expect(page.locator(".alert-success")).to_have_text(
                "Der Kassenanfangsbestand wurde festgelegt."
            )
            expect(page.locator("#cash-balance")).to_have_text("200,00 €")

            page.get_by_label("Kategorie").select_option(label="Büromaterial")
            page.get_by_label("Beschreibung").fill("Druckerpapier")
            page.get_by_label("Betrag (EUR)").fill("23,80")
            expect(page.locator("[data-cash-preview]")).to_contain_text("20,00 €")  # net
            page.get_by_role("button", name="Buchung erfassen").click()
            expect(page.locator(".alert-success")).to_have_text("Die Kassenbuchung wurde erfasst.")
            expect(page.locator("#entries")).to_contain_text("Druckerpapier")
            expect(page.locator("#cash-balance")).to_have_text("176,20 €")

            # 4. Daily closing with a shortage of 1,20 €.
            page.get_by_role("link", name="Tagesabschluss", exact=True).first.click()
            expect(page.locator("#expected")).to_have_text("176,20 €")
            page.locator("[name=count_100]").fill("1")
            page.locator("[name=count_50]").fill("1")
            page.locator("[name=count_20]").fill("1")
            page.locator("[name=count_5]").fill("1")
            expect(page.locator("[data-count-total]")).to_have_text("175,00 €")
            expect(page.locator("[data-count-diff]")).to_have_text("-1,20 €")
            page.get_by_role("button", name="Weiter zum Ergebnis").click()
            expect(page.locator("#difference")).to_have_text("-1,20 €")
            page.get_by_role("button", name="Tagesabschluss speichern").click()
            expect(page.locator(".alert-error")).to_contain_text("Begründung")
            page.get_by_label("Begründung").fill("Wechselgeld falsch herausgegeben")
            page.get_by_label("Als Privatentnahme buchen").check()
            page.get_by_role("button", name="Tagesabschluss speichern").click()

            expect(page.locator(".alert-success")).to_have_text(
                "Der Tagesabschluss wurde gespeichert."
            )
            expect(page.locator("h1")).to_have_text(
                f"Tagesabschluss für den {today.strftime('%d.%m.%Y')}"
            )
            expect(page.locator("#closing-reason")).to_have_text("Wechselgeld falsch herausgegeben")
            expect(page.locator("#closing-treatment")).to_have_text("als Privatentnahme gebucht")

            # The difference was booked into the cash book; the balance now matches the count.
            page.get_by_role("link", name="Kassenbuch", exact=True).click()
            expect(page.locator("#cash-balance")).to_have_text("175,00 €")
            expect(page.locator("#entries")).to_contain_text("Privatentnahme")
        finally:
            browser.close()
