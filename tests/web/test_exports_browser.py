"""The "Exporte" page in Chromium: pick a period, read the checks, download the DATEV file."""

from __future__ import annotations

from pathlib import Path

import pytest

from belegwerk.core.db import system_session, tenant_session
from belegwerk.tenancy.service import ensure_default_tenant
from tests.exports.books import book_year
from tests.exports.extf import check_booking_file
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, live_app

pytestmark = pytest.mark.browser


def test_checks_then_download_of_the_datev_file(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with live_app(tmp_path) as (base_url, engine):
        with system_session(engine) as s:
            tenant_id = ensure_default_tenant(s).id
        with tenant_session(tenant_id, engine) as s:
            book_year(s, tenant_id, numbers=False)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(locale="de-DE", accept_downloads=True)
                page.set_default_timeout(15_000)
                page.goto(base_url + "/")
                page.get_by_role("link", name="Exporte", exact=True).click()
                expect(page.locator("h1")).to_have_text(
                    "Exporte für Steuerberater und Betriebsprüfung"
                )

                # Without DATEV numbers the check names the error and offers no download.
                page.get_by_label("Von").fill("2025-01-01")
                page.get_by_label("Bis").fill("2025-12-31")
                page.get_by_role("button", name="Zeitraum prüfen").click()
                expect(page.locator("#checks")).to_contain_text("Die DATEV-Beraternummer fehlt")
                expect(page.locator("#download-datev")).to_have_count(0)

                # Enter the numbers, check again: all checks pass, the file downloads.
                page.get_by_role(
                    "link", name="DATEV-Nummern in den Einstellungen eintragen"
                ).click()
                page.get_by_label("DATEV-Beraternummer").fill("29098")
                page.get_by_label("DATEV-Mandantennummer").fill("55003")
                page.get_by_role("button", name="Einstellungen speichern").click()
                page.goto(base_url + "/exports?from=2025-01-01&to=2025-12-31")
                expect(page.locator("#checks-ok")).to_have_text(
                    "Alle Prüfungen bestanden: die Dateien können erstellt werden."
                )
                expect(page.locator("#checks")).to_contain_text("10 Buchungen")
                with page.expect_download() as info:
                    page.locator("#download-datev").click()
                download = info.value
                assert download.suggested_filename == "EXTF_Buchungsstapel_20250101-20251231.csv"
                saved = tmp_path / download.suggested_filename
                download.save_as(saved)
                checked = check_booking_file(saved.read_bytes())
                assert len(checked.rows) == 10 and checked.header[10] == "29098"

                # The export is in the log on the page.
                page.goto(base_url + "/exports")
                log = page.locator("#export-log tbody tr")
                expect(log).to_have_count(1)
                expect(log.first).to_contain_text("DATEV-Buchungsstapel")
                expect(log.first).to_contain_text("01.01.2025 – 31.12.2025")

                # A file that is not a DATEV file: German message, nothing imported.
                other = tmp_path / "kontoauszug.csv"
                other.write_text("Datum;Betrag\n01.01.2025;12,00\n", encoding="utf-8")
                page.get_by_label("DATEV-Datei").set_input_files(str(other))
                page.get_by_role("button", name="Datei importieren").click()
                expect(page.locator(".alert-error")).to_contain_text(
                    "Das ist keine Datei im DATEV-Format"
                )
                expect(page.locator("#datev-imports tbody tr")).to_contain_text(
                    "Noch keine DATEV-Datei importiert."
                )
            finally:
                browser.close()
