"""Web pages: German by default, amounts as 1.234,56 € and dates as 31.12.2026, forms that
post-redirect-get, and bad input shown inline with the German message as a 4xx, never a 500."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from belegwerk.books import cash, invoices, parties
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput

HTML = {"accept": "text/html"}


def _de(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _category(session: Session, key: str) -> int:
    return category_by_key(session, key).id


def _open_cash(session: Session, tenant_id: int, day: date, amount: str) -> None:
    cash.set_opening_balance(session, tenant_id, day, Decimal(amount))


def _cash_entry(
    session: Session, tenant_id: int, day: date, key: str, direction: str, amount: str
) -> None:
    cash.create_cash_entry(
        session,
        tenant_id,
        cash.CashEntryInput(
            entry_date=day,
            description="Testbuchung",
            category_id=_category(session, key),
            direction=direction,
            amount=Decimal(amount),
        ),
    )


def _customer(session: Session, tenant_id: int, name: str = "Muster GmbH") -> int:
    return parties.create_party(
        session, tenant_id, parties.PartyData(name=name, is_customer=True)
    ).id


def _booked_invoice(session: Session, tenant_id: int, party_id: int, gross: str) -> int:
    draft = invoices.create_draft(
        session,
        tenant_id,
        invoices.InvoiceInput(
            direction="out",
            issue_date=date.today() - timedelta(days=1),
            party_id=party_id,
            price_mode="gross",
            lines=[
                LineInput(
                    description="Beratung",
                    quantity=Decimal(1),
                    unit_price=Decimal(gross),
                    vat_rate=Decimal(19),
                )
            ],
        ),
    )
    invoices.book_invoice(session, tenant_id, draft.id)
    return draft.id


def _path(response: Any) -> str:
    return str(response.url.path)


def test_start_page_shows_key_numbers_and_closing_reminder(
    client: Any, session: Session, tenant_id: int
) -> None:
    yesterday = date.today() - timedelta(days=1)
    _open_cash(session, tenant_id, yesterday - timedelta(days=1), "1234.56")
    _cash_entry(session, tenant_id, yesterday, "office_supplies", "expense", "11.90")
    session.commit()

    page = client.get("/")

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    for text in ("Übersicht", "Umsatz", "Ausgaben", "Kassenbestand", "Offene Rechnungen"):
        assert text in page.text
    assert "1.222,66 €" in page.text  # 1.234,56 − 11,90
    assert "Kein Tagesabschluss für gestern" in page.text
    assert _de(yesterday) in page.text
    assert f"/cash/closing?date={yesterday.isoformat()}" in page.text


def test_settings_form_saves_and_shows_errors_inline(client: Any) -> None:
    page = client.get("/settings")
    assert page.status_code == 200
    assert "Firmeneinstellungen" in page.text
    assert "Kleinunternehmer nach §19 UStG" in page.text

    form = {
        "name": "Atelier Sommer",
        "vat_regime": "small_business",
        "vat_accounting": "cash",
        "ustva_period": "quarterly",
        "activity": "freelance",
        "chart": "skr04",
        "fiscal_year_start_month": "1",
        "vat_id": "DE123",
        "advisor_number": "1234567",
        "client_number": "12345",
    }
    bad = client.post("/settings", data=form)
    assert bad.status_code == 422
    assert "Die USt-IdNr. DE123 ist nicht gültig" in bad.text
    assert 'class="field has-error"' in bad.text
    assert 'value="Atelier Sommer"' in bad.text  # the entry is kept for correction
    assert "Atelier Sommer" not in client.get("/settings").text  # nothing was stored

    good = client.post("/settings", data={**form, "vat_id": "DE136695976"})
    assert good.status_code == 200
    assert _path(good) == "/settings"
    assert "Die Firmeneinstellungen wurden gespeichert." in good.text
    assert 'value="DE136695976"' in good.text
    assert "Kleinunternehmer (§19 UStG) · SKR04" in good.text


def test_categories_show_effective_accounts_and_accept_an_override(client: Any) -> None:
    page = client.get("/categories")
    assert page.status_code == 200
    assert "Büromaterial" in page.text
    assert "Ihr Kontenrahmen: SKR03" in page.text
    match = re.search(r'<tr id="category-(\d+)">\s*<td><strong>Büromaterial', page.text)
    assert match is not None
    category_id = match.group(1)

    bad = client.post(f"/categories/{category_id}/override", data={"skr03_account": "12"})
    assert bad.status_code == 422
    assert "Die Kontonummer 12 ist nicht gültig" in bad.text

    good = client.post(f"/categories/{category_id}/override", data={"skr03_account": "4931"})
    assert good.status_code == 200
    assert "Das Konto wurde geändert." in good.text
    assert "4931" in good.text

    reset = client.post(f"/categories/{category_id}/override/delete")
    assert "Das Konto wurde auf das Standardkonto zurückgesetzt." in reset.text


def test_parties_create_edit_and_validation(client: Any) -> None:
    created = client.post(
        "/parties", data={"name": "Bäckerei Korn", "is_customer": "1", "city": "Kassel"}
    )
    assert created.status_code == 200
    assert re.fullmatch(r"/parties/\d+", _path(created))
    assert "Der Kontakt wurde gespeichert." in created.text
    assert "Kundennr. 10000" in created.text

    bad = client.post(_path(created), data={"name": "Bäckerei Korn", "iban": "DE00 1234"})
    assert bad.status_code == 422
    assert "Die IBAN DE00 1234 ist nicht gültig." in bad.text

    no_role = client.post("/parties", data={"name": "Niemand"})
    assert no_role.status_code == 422
    assert "Kunde, Lieferant oder beides" in no_role.text

    listing = client.get("/parties?q=korn")
    assert "Bäckerei Korn" in listing.text
    assert "Niemand" not in listing.text


def test_invoice_form_book_pay_and_reverse(client: Any, session: Session, tenant_id: int) -> None:
    party_id = _customer(session, tenant_id)
    session.commit()
    issue = date.today() - timedelta(days=2)
    form = {
        "direction": "out",
        "party_id": str(party_id),
        "issue_date": issue.isoformat(),
        "price_mode": "net",
        "line_description": ["Beratung", "Fachbuch", ""],
        "line_quantity": ["2", "1", "1"],
        "line_unit_price": ["1.234,56", "10", ""],
        "line_vat_rate": ["19", "7", "19"],
        "line_category_id": ["", "", ""],
    }

    bad = client.post("/invoices", data={**form, "line_quantity": ["zwei", "1", "1"]})
    assert bad.status_code == 422
    assert "Bitte geben Sie eine Zahl ein." in bad.text
    assert 'value="zwei"' in bad.text
    assert "Keine Rechnungen gefunden." in client.get("/invoices").text

    draft = client.post("/invoices", data=form)
    assert draft.status_code == 200
    assert "Die Rechnung wurde als Entwurf gespeichert." in draft.text
    for amount in ("2.469,12 €", "469,13 €", "0,70 €", "2.948,95 €"):
        assert amount in draft.text  # per-rate totals: net 19 %, VAT 19 %, VAT 7 %, gross
    invoice_path = _path(draft)

    edit = client.get(f"{invoice_path}/edit")
    assert "Entwurf bearbeiten" in edit.text
    assert 'value="1234,56"' in edit.text
    changed = client.post(invoice_path, data={**form, "line_unit_price": ["1.000", "10", ""]})
    assert "2.390,70 €" in changed.text  # 2.000 + 380 VAT + 10,70

    booked = client.post(f"{invoice_path}/book")
    assert "Die Rechnung wurde gebucht." in booked.text
    number = f"RE-{issue.year}-00001"
    assert number in booked.text

    no_reason = client.post(f"{invoice_path}/reverse", data={"reason": ""})
    assert no_reason.status_code == 422
    assert "Bitte geben Sie eine Begründung an" in no_reason.text

    paid = client.post(
        f"{invoice_path}/payments",
        data={"payment_date": issue.isoformat(), "amount": "1.000,00", "method": "bank"},
    )
    assert "Die Zahlung wurde erfasst." in paid.text
    assert "teilweise bezahlt" in paid.text
    assert "1.390,70 €" in paid.text
    assert client.get(f"{invoice_path}/edit", follow_redirects=False).status_code == 303

    too_much = client.post(
        f"{invoice_path}/payments",
        data={"payment_date": issue.isoformat(), "amount": "5000", "method": "bank"},
    )
    assert too_much.status_code == 422

    has_payment = client.post(f"{invoice_path}/reverse", data={"reason": "Doppelt erfasst"})
    assert has_payment.status_code == 409

    overview = client.get("/")
    assert "1 Ausgangsrechnung" in overview.text
    assert re.search(r'id="kpi-open">1.390,70 €<', overview.text)
    if issue.year == date.today().year:  # the fiscal year of the test tenant is the calendar year
        assert re.search(r'id="kpi-revenue">2.010,00 €<', overview.text)

    listing = client.get("/invoices?direction=out&payment=partial")
    assert number in listing.text
    assert _de(issue) in listing.text
    assert "Ausgang" in listing.text
    assert client.get("/invoices?status=bogus").status_code == 422


def test_cash_payment_of_an_invoice_is_confirmed_into_the_cash_book(
    client: Any, session: Session, tenant_id: int
) -> None:
    invoice_id = _booked_invoice(session, tenant_id, _customer(session, tenant_id), "119.00")
    _open_cash(session, tenant_id, date.today() - timedelta(days=5), "50.00")
    session.commit()
    today = date.today().isoformat()

    proposed = client.post(
        f"/invoices/{invoice_id}/payments",
        data={"payment_date": today, "amount": "119,00", "method": "cash"},
    )
    assert "Die Barzahlung wurde dem Kassenbuch vorgeschlagen" in proposed.text
    assert "Barzahlung wartet auf Bestätigung" in proposed.text

    book = client.get("/cash")
    assert "Zu bestätigende Barzahlungen" in book.text
    proposal_id = re.search(r"/cash/proposals/(\d+)/confirm", book.text)
    assert proposal_id is not None

    confirmed = client.post(f"/cash/proposals/{proposal_id.group(1)}/confirm")
    assert "Der Kassenvorschlag wurde ins Kassenbuch übernommen." in confirmed.text
    assert "169,00 €" in confirmed.text  # 50,00 opening + 119,00
    assert "Zu bestätigende Barzahlungen" not in confirmed.text
    assert "bezahlt" in client.get(f"/invoices/{invoice_id}").text


def test_reversal_with_reason_and_corrected_copy(
    client: Any, session: Session, tenant_id: int
) -> None:
    party_id = _customer(session, tenant_id)
    first = _booked_invoice(session, tenant_id, party_id, "238.00")
    second = _booked_invoice(session, tenant_id, party_id, "119.00")
    session.commit()

    reversed_ = client.post(f"/invoices/{first}/reverse", data={"reason": "Falscher Kunde"})
    assert "Die Rechnung wurde storniert." in reversed_.text
    assert "Diese Rechnung wurde storniert durch" in reversed_.text
    assert "Falscher Kunde" in reversed_.text
    again = client.post(f"/invoices/{first}/reverse", data={"reason": "Noch einmal"})
    assert again.status_code == 409

    corrected = client.post(
        f"/invoices/{second}/reverse", data={"reason": "Preis falsch", "correct": "1"}
    )
    assert re.fullmatch(r"/invoices/\d+/edit", _path(corrected))
    assert "korrigieren Sie den neuen Entwurf" in corrected.text
    assert 'value="119"' in corrected.text

    listing = client.get("/invoices?status=reversal")
    assert listing.text.count('class="badge badge-reversal"') == 2


def test_cash_book_opening_entries_and_reversal(
    client: Any, session: Session, tenant_id: int
) -> None:
    revenue = _category(session, "revenue_19")
    start = date.today() - timedelta(days=3)
    empty = client.get("/cash")
    assert "Kassenanfangsbestand festlegen" in empty.text

    bad = client.post(
        "/cash/opening", data={"opening_date": start.isoformat(), "opening_amount": "x"}
    )
    assert bad.status_code == 422
    assert "Der Betrag ist keine Zahl." in bad.text

    opened = client.post(
        "/cash/opening", data={"opening_date": start.isoformat(), "opening_amount": "500,00"}
    )
    assert "Der Kassenanfangsbestand wurde festgelegt." in opened.text

    entry = {
        "entry_date": start.isoformat(),
        "description": "Barverkauf",
        "category_id": str(revenue),
        "direction": "income",
        "amount": "119,00",
        "amount_mode": "gross",
        "vat_rate": "19",
    }
    recorded = client.post("/cash/entries", data=entry)
    assert "Die Kassenbuchung wurde erfasst." in recorded.text
    assert "K-000001" in recorded.text
    assert "619,00 €" in recorded.text
    assert _de(start) in recorded.text

    expense = {
        **entry,
        "direction": "expense",
        "category_id": str(_category(session, "office_supplies")),
        "amount": "10.000,00",
    }
    negative = client.post("/cash/entries", data=expense)
    assert negative.status_code == 422
    assert "Der Kassenbestand würde negativ" in negative.text
    assert 'value="10.000,00"' in negative.text

    entry_id = re.search(r'<tr id="entry-(\d+)"', recorded.text)
    assert entry_id is not None
    no_reason = client.post(f"/cash/entries/{entry_id.group(1)}/reverse", data={"reason": ""})
    assert no_reason.status_code == 422
    reversed_ = client.post(
        f"/cash/entries/{entry_id.group(1)}/reverse", data={"reason": "Falscher Betrag"}
    )
    assert "Die Kassenbuchung wurde storniert." in reversed_.text
    assert "Storno K-000001" in reversed_.text
    assert re.search(r'id="cash-balance">500,00 €<', reversed_.text)


def test_daily_closing_with_difference(client: Any, session: Session, tenant_id: int) -> None:
    day = date.today() - timedelta(days=1)
    _open_cash(session, tenant_id, day - timedelta(days=1), "100.00")
    _cash_entry(session, tenant_id, day, "office_supplies", "expense", "10.00")
    session.commit()

    start = client.get(f"/cash/closing?date={day.isoformat()}")
    assert start.status_code == 200
    assert "Soll-Bestand" in start.text
    assert re.search(r'id="expected">90,00 €<', start.text)
    assert 'name="count_0.50"' in start.text

    counts = {"count_50": "1", "count_20": "2", "count_0.50": "1"}  # 90,50 €
    negative = client.post("/cash/closing/count", data={"date": day.isoformat(), "count_20": "-1"})
    assert negative.status_code == 422
    assert "darf nicht negativ sein" in negative.text

    result = client.post("/cash/closing/count", data={"date": day.isoformat(), **counts})
    assert result.status_code == 200
    assert re.search(r'id="difference">0,50 €<', result.text)
    assert "Als sonstige Einnahme buchen" in result.text

    missing = client.post("/cash/closing/save", data={"date": day.isoformat(), **counts})
    assert missing.status_code == 422
    assert "bitte geben Sie eine Begründung an" in missing.text

    saved = client.post(
        "/cash/closing/save",
        data={"date": day.isoformat(), **counts, "reason": "Trinkgeld", "treatment": "other"},
    )
    assert saved.status_code == 200
    assert _path(saved) == f"/cash/closings/{day.isoformat()}"
    assert "Der Tagesabschluss wurde gespeichert." in saved.text
    assert "als sonstige Einnahme gebucht" in saved.text
    assert "Trinkgeld" in saved.text

    again = client.post(
        "/cash/closing/save",
        data={"date": day.isoformat(), **counts, "reason": "noch mal", "treatment": "other"},
    )
    assert again.status_code == 409
    assert "bereits abgeschlossen" in again.text

    listing = client.get(f"/cash/closings?year={day.year}")
    assert f"Tagesabschlüsse {day.year}" in listing.text
    assert _de(day) in listing.text
    pdf = client.get(f"/cash/closings/pdf?month={day.year}-{day.month:02d}")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert client.get("/cash/closings/pdf?month=bogus").status_code == 422


def test_english_ui_and_not_found_pages(client: Any) -> None:
    german = client.get("/invoices/999999", headers=HTML)
    assert german.status_code == 404
    assert "Rechnung 999999 nicht gefunden." in german.text
    assert client.get("/cash/closings/2001-01-01", headers=HTML).status_code == 404
    assert client.post("/cash/proposals/999999/confirm").status_code == 404
    assert client.get("/cash/closing?date=31.02.2026").status_code == 422

    switched = client.get("/lang/en", follow_redirects=False)
    assert switched.status_code == 303
    client.cookies.set("belegwerk_lang", "en")
    english = client.get("/")
    assert '<html lang="en">' in english.text
    assert "Overview" in english.text
    client.cookies.delete("belegwerk_lang")

    to_company = client.get("/switch/some-company", follow_redirects=False)
    assert to_company.status_code == 303
    assert "belegwerk_tenant=some-company" in to_company.headers["set-cookie"]


def test_bad_path_parameter_on_a_page_is_an_html_4xx(client: Any) -> None:
    resp = client.get("/invoices/abc", headers={"accept": "text/html"})
    assert resp.status_code == 422
    assert "text/html" in resp.headers["content-type"]
    api = client.get("/api/v1/invoices/abc")
    assert api.status_code == 422
    assert api.json()["error"]["code"] == "request.invalid"
