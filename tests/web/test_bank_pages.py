"""Banking pages: German by default with 1.234,56 € and 31.12.2026, the import flow through its
POSTs (upload → detected bank and score → preview → import → result), the template editor for
an unknown CSV, marking and matching transactions, rules — and bad input as a 4xx, never a 500.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from belegwerk.banking.models import (
    BankTransaction,
    Classification,
    ImportBatch,
    PaymentMatch,
    UserTemplate,
)
from belegwerk.books import invoices, parties
from belegwerk.books.invoice_calc import LineInput
from belegwerk.core.documents import store_document
from belegwerk.web.app import PAGE_MODULES
from tests.conftest import corpus_path

FIXTURES = Path(__file__).resolve().parents[1] / "banking" / "fixtures"
DKB = FIXTURES / "ui_dkb_2023.csv"
DKB_BAD = FIXTURES / "ui_dkb_bad.csv"
UNKNOWN = FIXTURES / "ui_unknown.csv"
DKB_IBAN = "DE02120300000000202051"  # the account the DKB fixtures name in their preamble
HTML = {"accept": "text/html"}


def _path(response: Any) -> str:
    return str(response.url.path)


def _account(client: Any, account_type: str = "mixed", iban: str = DKB_IBAN) -> int:
    resp = client.post(
        "/bank/accounts",
        data={"kind": "bank", "iban": iban, "account_type": account_type, "name": "DKB Geschäft"},
    )
    assert resp.status_code == 200, resp.text
    match = re.search(r'<tr id="account-(\d+)">', resp.text)
    assert match is not None
    return int(match.group(1))


def _upload(client: Any, path: Path, **data: str) -> Any:
    with path.open("rb") as fh:
        return client.post("/bank/import", files={"file": (path.name, fh, "text/csv")}, data=data)


def _document_id(resp: Any) -> int:
    match = re.search(r"/bank/import/(\d+)", str(resp.url))
    assert match is not None, resp.url
    return int(match.group(1))


def _import(client: Any, path: Path, account_id: int, **data: str) -> Any:
    preview = _upload(client, path)
    assert preview.status_code == 200, preview.text
    return client.post(
        f"/bank/import/{_document_id(preview)}", data={"account_id": str(account_id), **data}
    )


def _batch_id(resp: Any) -> int:
    match = re.fullmatch(r"/bank/imports/(\d+)", _path(resp))
    assert match is not None, resp.url
    return int(match.group(1))


def _tx_id(session: Session, tenant_id: int, counterparty: str) -> int:
    found = session.scalar(
        select(BankTransaction.id).where(
            BankTransaction.tenant_id == tenant_id,
            BankTransaction.counterparty_name == counterparty,
        )
    )
    assert found is not None
    return int(found)


def _invoice(session: Session, tenant_id: int, name: str, iban: str, gross: str) -> int:
    party = parties.create_party(
        session, tenant_id, parties.PartyData(name=name, is_customer=True, iban=iban)
    )
    draft = invoices.create_draft(
        session,
        tenant_id,
        invoices.InvoiceInput(
            direction="out",
            issue_date=date(2026, 10, 20),
            party_id=party.id,
            price_mode="gross",
            lines=[
                LineInput(
                    description="Catering",
                    quantity=Decimal(1),
                    unit_price=Decimal(gross),
                    vat_rate=Decimal(19),
                )
            ],
        ),
    )
    invoices.book_invoice(session, tenant_id, draft.id)
    session.commit()
    return draft.id


# --------------------------------------------------------------------------- pages


def test_bank_pages_render_in_german(client: Any) -> None:
    for url in (
        "/bank",
        "/bank/accounts",
        "/bank/accounts/new",
        "/bank/accounts/new?kind=paypal",
        "/bank/import",
        "/bank/transactions",
        "/bank/rules",
        "/bank/templates",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert '<html lang="de">' in resp.text
        assert '<span class="nav-group">Bank</span>' in resp.text  # the sidebar group
        assert 'href="/bank/transactions"' in resp.text
    overview = client.get("/bank")
    assert 'id="cash-position">0,00 €<' in overview.text
    assert "<h1>Geldübersicht</h1>" in overview.text
    for label in ("Konten", "Import", "Umsätze", "Regeln", "Vorlagen"):
        assert f'">{label}</a>' in overview.text  # the Bank group of the sidebar
    assert "<h1>Kontoauszug importieren</h1>" in client.get("/bank/import").text
    assert "<h1>Bankumsätze</h1>" in client.get("/bank/transactions").text
    assert "DKB (ab 2023)" in client.get("/bank/templates").text  # shipped templates listed


def test_account_form_validates_and_saves(client: Any) -> None:
    bad = client.post("/bank/accounts", data={"kind": "bank", "iban": "DE00 1234"})
    assert bad.status_code == 422
    assert 'class="field has-error"' in bad.text
    assert 'value="DE00 1234"' in bad.text  # kept for correction

    no_mail = client.post("/bank/accounts", data={"kind": "paypal", "email": ""})
    assert no_mail.status_code == 422

    account_id = _account(client, "business")
    listing = client.get("/bank/accounts")
    assert "DE02 1203 0000 0000 2020 51" in listing.text
    assert "Deutsche Kreditbank" in listing.text  # bank name filled in from the IBAN

    edit = client.get(f"/bank/accounts/{account_id}")
    assert edit.status_code == 200
    saved = client.post(
        f"/bank/accounts/{account_id}",
        data={
            "name": "Geschäftskonto",
            "account_type": "mixed",
            "iban": DKB_IBAN,
            "opening_balance": "1.234,56",
            "opening_date": "2026-10-31",
            "currency": "EUR",
        },
    )
    assert saved.status_code == 200
    assert _path(saved) == "/bank/accounts"
    assert "1.234,56 €" in saved.text
    assert "31.10.2026" in saved.text
    wrong = client.post(f"/bank/accounts/{account_id}", data={"opening_balance": "abc"})
    assert wrong.status_code == 422
    assert client.get("/bank/accounts/999999", headers=HTML).status_code == 404

    paypal = client.post("/bank/accounts", data={"kind": "paypal", "email": "shop@example.com"})
    assert paypal.status_code == 200
    assert "shop@example.com" in paypal.text


# --------------------------------------------------------------------------- import flow


def test_upload_preview_import_and_result(client: Any, session: Session, tenant_id: int) -> None:
    account_id = _account(client)

    preview = _upload(client, DKB)
    assert preview.status_code == 200
    assert re.fullmatch(r"/bank/import/\d+", _path(preview))
    text = preview.text
    assert 'id="detected-bank">DKB (ab 2023)<' in text
    assert "100 %" in text  # the score
    assert "DE02 1203 0000 0000 2020 51" in text  # the account named in the file
    assert f'<option value="{account_id}" selected>' in text  # found by that IBAN
    assert "1.000,00 €" in text and "2.380,00 €" in text and "-23,45 €" in text
    assert "16.11.2026" in text
    assert 'id="row-count"><strong>6<' in text  # the pending row is skipped, not counted
    assert 'id="dedupe-info"' in text  # the account is known: new vs. already imported

    document_id = _document_id(preview)
    result = client.post(f"/bank/import/{document_id}", data={"account_id": str(account_id)})
    assert result.status_code == 200
    batch_id = _batch_id(result)
    assert 'id="batch-imported">6<' in result.text
    assert 'id="batch-duplicates">0<' in result.text
    assert "Hotel Seeblick GmbH" in result.text

    # The transactions list shows what came in, German formats and the keyword suggestion.
    listing = client.get(f"/bank/transactions?batch={batch_id}")
    assert listing.status_code == 200
    assert listing.text.count('<tr id="tx-') == 6
    assert "12.11.2026" in listing.text and "-500,00 €" in listing.text
    search = client.get("/bank/transactions?q=rewe&direction=out&from=2026-11-01&to=30.11.2026")
    assert search.text.count('<tr id="tx-') == 1

    # The same file again: nothing new, and the preview says so before importing.
    again = _upload(client, DKB)
    assert 'id="dedupe-info"' in again.text
    second = client.post(
        f"/bank/import/{_document_id(again)}", data={"account_id": str(account_id)}
    )
    assert 'id="batch-imported">0<' in second.text
    assert 'id="batch-duplicates">6<' in second.text
    assert 'id="nothing-new"' in second.text
    count = session.scalar(
        select(func.count(BankTransaction.id)).where(BankTransaction.tenant_id == tenant_id)
    )
    assert count == 6


def test_ambiguous_file_asks_which_template(client: Any) -> None:
    sample = corpus_path(
        "bank", "RechnungsPilot", "vorlagen", "bank-csv", "sparkasse-lzo-camt-v2.csv"
    )
    account_id = _account(client, "business", iban="DE89370400440532013000")
    preview = _upload(client, sample)
    assert preview.status_code == 200
    assert 'id="ambiguous"' in preview.text  # CSV-CAMT V2 and V8 look alike
    assert "Sparkasse (CSV-CAMT V2)" in preview.text and "Sparkasse (CSV-CAMT V8)" in preview.text
    document_id = _document_id(preview)
    unchosen = client.post(f"/bank/import/{document_id}", data={"account_id": str(account_id)})
    assert unchosen.status_code == 422
    assert "bitte wählen Sie eine" in unchosen.text
    chosen_preview = client.get(f"/bank/import/{document_id}?template=sparkasse_csv_camt_v8")
    assert 'id="detected-bank">Sparkasse (CSV-CAMT V8)<' in chosen_preview.text
    chosen = client.post(
        f"/bank/import/{document_id}",
        data={"account_id": str(account_id), "template_key": "sparkasse_csv_camt_v8"},
    )
    assert chosen.status_code == 200
    assert 'id="batch-imported">7<' in chosen.text
    unknown = client.get(f"/bank/import/{document_id}?template=nope", headers=HTML)
    assert unknown.status_code == 422


def test_statement_of_another_account_is_refused(
    client: Any, session: Session, tenant_id: int
) -> None:
    other = _account(client, "business", iban="DE89370400440532013000")
    preview = _upload(client, DKB, account_id=str(other))
    assert 'id="account-problem"' in preview.text
    refused = client.post(f"/bank/import/{_document_id(preview)}", data={"account_id": str(other)})
    assert refused.status_code == 409
    assert 'class="alert alert-error"' in refused.text
    stored = select(func.count(ImportBatch.id)).where(ImportBatch.tenant_id == tenant_id)
    assert session.scalar(stored) == 0

    missing = client.post(f"/bank/import/{_document_id(preview)}", data={"account_id": ""})
    assert missing.status_code == 422
    assert 'class="field has-error wide"' in missing.text


def test_unreadable_rows_are_listed_and_imported_only_when_accepted(
    client: Any, session: Session, tenant_id: int
) -> None:
    account_id = _account(client)
    preview = _upload(client, DKB_BAD)
    assert preview.status_code == 200
    assert 'id="rejected-rows"' in preview.text
    assert "30.02.26" in preview.text
    assert '<td class="num">5</td>' in preview.text  # the line number
    assert "-1.234,56 €" in preview.text
    document_id = _document_id(preview)

    refused = client.post(f"/bank/import/{document_id}", data={"account_id": str(account_id)})
    assert refused.status_code == 422
    stored = select(func.count(ImportBatch.id)).where(ImportBatch.tenant_id == tenant_id)
    assert session.scalar(stored) == 0  # nothing half-stored

    accepted = client.post(
        f"/bank/import/{document_id}",
        data={"account_id": str(account_id), "accept_rejected": "1"},
    )
    assert accepted.status_code == 200
    assert 'id="batch-imported">2<' in accepted.text
    assert 'id="batch-rejected">1<' in accepted.text
    assert "30.02.26" in accepted.text  # the rejected row stays on record


def test_oversized_upload_is_refused(client: Any, monkeypatch: Any) -> None:
    from belegwerk.banking.pages import common

    monkeypatch.setattr(common, "MAX_FILE_BYTES", 1000)
    read = _upload(client, DKB)  # 1.3 KB: refused while reading the form
    assert read.status_code == 413
    assert 'class="alert alert-error"' in read.text
    monkeypatch.setattr(common, "MULTIPART_SLACK", 0)
    early = client.post(
        "/bank/import",
        files={"file": ("dkb.csv", DKB.read_bytes(), "text/csv")},
        headers=HTML,
    )
    assert early.status_code == 413  # refused by its Content-Length, before reading
    assert "bank.too_large" in early.text


def test_upload_errors_are_shown_on_the_form(client: Any) -> None:
    empty = client.post("/bank/import", files={"file": ("leer.csv", b"", "text/csv")})
    assert empty.status_code == 422
    assert 'class="alert alert-error"' in empty.text
    nothing = client.post("/bank/import", data={"account_id": ""})
    assert nothing.status_code == 422
    bad_account = _upload(client, DKB, account_id="999999")
    assert bad_account.status_code == 404
    broken_xml = client.post(
        "/bank/import",
        files={"file": ("a.xml", b'<?xml version="1.0"?><!DOCTYPE x []><Document/>', "text/xml")},
    )
    assert 400 <= broken_xml.status_code < 500
    assert client.get("/bank/import/999999", headers=HTML).status_code == 404
    assert client.post("/bank/import/999999", data={"account_id": "1"}).status_code == 404
    assert client.get("/bank/imports/999999", headers=HTML).status_code == 404
    assert client.get("/bank/import/abc", headers=HTML).status_code == 422


# --------------------------------------------------------------------------- transactions


def test_mark_private_confirm_suggestions_and_categories(
    client: Any, session: Session, tenant_id: int
) -> None:
    account_id = _account(client)
    batch_id = _batch_id(_import(client, DKB, account_id))
    rewe = _tx_id(session, tenant_id, "REWE Markt GmbH")

    marked = client.post(
        f"/bank/transactions/{rewe}/decide",
        data={"usage": "private", "next": f"/bank/transactions?batch={batch_id}#tx-{rewe}"},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    assert marked.headers["location"].endswith(f"done=decided#tx-{rewe}")
    c = session.scalar(select(Classification).where(Classification.transaction_id == rewe))
    assert c is not None and c.usage == "private" and c.confirmed

    # A withdrawal is money out; money in cannot be one: the message, a 422, nothing stored.
    hotel = _tx_id(session, tenant_id, "Hotel Seeblick GmbH")
    wrong = client.post(f"/bank/transactions/{hotel}/decide", data={"usage": "private_withdrawal"})
    assert wrong.status_code == 422
    assert 'class="alert alert-error"' in wrong.text
    none = client.post(f"/bank/transactions/{hotel}/decide", data={"usage": ""})
    assert none.status_code == 422

    # The bank fee: business with a category (books it).
    fee = _tx_id(session, tenant_id, "DKB AG")
    detail = client.get(f"/bank/transactions/{fee}")
    assert detail.status_code == 200
    assert "-9,90 €" in detail.text
    category = re.search(r'<option value="(\d+)"[^>]*>Nebenkosten des Geldverkehrs', detail.text)
    assert category is not None
    booked = client.post(
        f"/bank/transactions/{fee}/decide",
        data={"usage": "business", "category_id": category.group(1)},
    )
    assert booked.status_code == 200
    assert _path(booked) == f"/bank/transactions/{fee}"

    # Accept all remaining suggestions of the import (the Privatentnahme keyword).
    accepted = client.post(f"/bank/imports/{batch_id}/accept")
    assert accepted.status_code == 200
    open_suggestions = select(func.count(Classification.id)).where(
        Classification.tenant_id == tenant_id, Classification.confirmed.is_(False)
    )
    assert session.scalar(open_suggestions) == 0
    nothing = client.post(f"/bank/imports/{batch_id}/accept")
    assert nothing.status_code == 409

    decided = client.get("/bank/transactions?classified=decided")
    assert decided.text.count('<tr id="tx-') == 3
    assert client.get("/bank/transactions?classified=bogus").status_code == 422
    assert client.get("/bank/transactions?from=31.02.2026").status_code == 422
    assert client.get("/bank/transactions?account=999999").status_code == 404
    assert client.get("/bank/transactions/999999", headers=HTML).status_code == 404
    assert client.post("/bank/transactions/999999/decide", data={"usage": "x"}).status_code == 404


def test_link_confirm_reject_and_undo_invoice_matches(
    client: Any, session: Session, tenant_id: int
) -> None:
    invoice_id = _invoice(
        session, tenant_id, "Hotel Seeblick GmbH", "DE89370400440532013000", "1500"
    )
    account_id = _account(client)
    _import(client, DKB, account_id)
    hotel = _tx_id(session, tenant_id, "Hotel Seeblick GmbH")

    proposal = session.scalar(
        select(PaymentMatch).where(
            PaymentMatch.transaction_id == hotel, PaymentMatch.status == "proposed"
        )
    )
    assert proposal is not None  # same IBAN and name, a partial payment
    detail = client.get(f"/bank/transactions/{hotel}")
    assert "RE-2026-00001" in detail.text
    assert "IBAN" in detail.text and "%" in detail.text  # reasons and confidence

    rejected = client.post(f"/bank/matches/{proposal.id}/reject")
    assert rejected.status_code == 200
    assert client.post(f"/bank/matches/{proposal.id}/reject").status_code == 409

    # Manual link to the open invoice, part of the amount first.
    no_invoice = client.post(f"/bank/transactions/{hotel}/link", data={"invoice_id": ""})
    assert no_invoice.status_code == 422
    too_much = client.post(
        f"/bank/transactions/{hotel}/link",
        data={"invoice_id": str(invoice_id), "amount": "1.000,01"},
    )
    assert too_much.status_code == 422
    linked = client.post(
        f"/bank/transactions/{hotel}/link",
        data={"invoice_id": str(invoice_id), "amount": "1.000,00"},
    )
    assert linked.status_code == 200
    assert 'class="badge badge-linked"' in linked.text
    inv = client.get(f"/invoices/{invoice_id}")
    assert 'id="paid-amount">1.000,00 €<' in inv.text
    assert client.get("/bank/transactions?matched=linked").text.count('<tr id="tx-') == 1

    link = session.scalar(
        select(PaymentMatch).where(
            PaymentMatch.transaction_id == hotel, PaymentMatch.status == "linked"
        )
    )
    assert link is not None
    no_reason = client.post(f"/bank/matches/{link.id}/undo", data={"reason": ""})
    assert no_reason.status_code == 422
    undone = client.post(f"/bank/matches/{link.id}/undo", data={"reason": "falsche Rechnung"})
    assert undone.status_code == 200
    assert 'id="paid-amount">0,00 €<' in client.get(f"/invoices/{invoice_id}").text
    assert client.post(f"/bank/matches/{link.id}/bogus").status_code == 404
    assert client.post("/bank/matches/999999/confirm").status_code == 404

    rematch = client.post(f"/bank/transactions/{hotel}/match")
    assert rematch.status_code == 200
    everything = client.post("/bank/transactions/match", data={"next": "/bank/transactions"})
    assert everything.status_code == 200


# --------------------------------------------------------------------------- templates


def test_unknown_csv_goes_through_the_template_editor(
    client: Any, session: Session, tenant_id: int
) -> None:
    account_id = _account(client, "business", iban="DE89370400440532013000")
    editor = _upload(client, UNKNOWN, account_id=str(account_id))
    assert editor.status_code == 200
    assert _path(editor) == "/bank/templates/editor"
    for column in ("Tag", "Gegenpartei", "Notiz", "Wert EUR"):
        assert f"<strong>{column}</strong>" in editor.text
    assert "Copyshop Meier" in editor.text  # example values
    found = re.search(r'name="document" value="(\d+)"', editor.text)
    assert found is not None
    document_id = int(found.group(1))

    form = {
        "document": str(document_id),
        "account": str(account_id),
        "name": "Testbank Nord",
        "delimiter": "comma",
        "encoding": "utf-8",
        "decimal": ",",
        "thousands": "dot",
        "date_format": "%Y-%m-%d",
        "header": "1",
        "header_line": "1",
        "map_0": "booking_date",
        "map_1": "counterparty_name",
        "map_2": "purpose",
        "map_3": "amount",
    }
    # With the decimal comma the amounts do not read: the test shows the rows and why.
    wrong = client.post("/bank/templates/editor", data={**form, "action": "test"})
    assert wrong.status_code == 200
    assert 'id="test-rejected"' in wrong.text
    tested = client.post(
        "/bank/templates/editor",
        data={**form, "decimal": ".", "thousands": "comma", "action": "test"},
    )
    assert 'id="test-count"' in tested.text
    assert "-45,90 €" in tested.text and "1.500,00 €" in tested.text
    assert "03.11.2026" in tested.text

    no_date = client.post("/bank/templates/editor", data={**form, "map_0": "", "action": "test"})
    assert no_date.status_code == 422
    twice = client.post(
        "/bank/templates/editor", data={**form, "map_2": "amount", "action": "test"}
    )
    assert twice.status_code == 422
    assert client.post("/bank/templates/editor", data={**form, "name": ""}).status_code == 422

    saved = client.post(
        "/bank/templates/editor",
        data={**form, "decimal": ".", "thousands": "comma", "action": "save"},
    )
    assert saved.status_code == 200
    assert _path(saved) == f"/bank/import/{document_id}"
    assert 'id="detected-bank">Testbank Nord<' in saved.text
    key = session.scalar(select(UserTemplate.key).where(UserTemplate.tenant_id == tenant_id))
    assert key == "user-testbank-nord"

    result = client.post(
        f"/bank/import/{document_id}", data={"account_id": str(account_id), "template_key": key}
    )
    assert 'id="batch-imported">3<' in result.text

    # The next upload of this layout is recognised by the user's template.
    again = _upload(client, UNKNOWN)
    assert _path(again).startswith("/bank/import/")
    assert 'id="detected-bank">Testbank Nord<' in again.text

    # Export as JSON, import it again (refused as a duplicate unless replacing), delete.
    exported = client.get(f"/bank/templates/{key}.json")
    assert exported.status_code == 200
    assert exported.headers["content-disposition"] == f'attachment; filename="{key}.json"'
    definition = json.loads(exported.text)
    assert definition["columns"]["amount"] == {"names": ["Wert EUR"]}
    files = {"file": ("t.json", exported.content, "application/json")}
    assert client.post("/bank/templates/import", files=files).status_code == 409
    replaced = client.post("/bank/templates/import", files=files, data={"replace": "1"})
    assert replaced.status_code == 200
    bad = client.post(
        "/bank/templates/import", files={"file": ("t.json", b"{nope", "application/json")}
    )
    assert bad.status_code == 422
    system = client.get("/bank/templates/dkb_2023.json")
    copy = client.post(
        "/bank/templates/import", files={"file": ("dkb.json", system.content, "application/json")}
    )
    assert copy.status_code == 200  # a shipped template comes in under a key of its own
    assert "user-dkb-ab-2023" in copy.text

    template_id = session.scalar(select(UserTemplate.id).where(UserTemplate.key == key))
    deleted = client.post(f"/bank/templates/{template_id}/delete")
    assert deleted.status_code == 200
    assert key not in deleted.text
    assert client.post(f"/bank/templates/{template_id}/delete").status_code == 404
    assert client.get("/bank/templates/nope.json", headers=HTML).status_code == 404
    assert client.get("/bank/templates/editor?document=999999", headers=HTML).status_code == 404


def test_template_editor_refuses_other_tenants_and_non_csv_files(
    client: Any, engine: Any, make_tenant: Any
) -> None:
    from belegwerk.core.db import session_factory

    other = make_tenant()
    with session_factory(engine)() as s:
        s.info["tenant_id"] = other
        document, _new = store_document(s, other, UNKNOWN.read_bytes(), "fremd.csv", "text/csv")
        s.commit()
        foreign = document.id
    assert client.get(f"/bank/templates/editor?document={foreign}", headers=HTML).status_code == 404
    assert client.get(f"/bank/import/{foreign}", headers=HTML).status_code == 404

    mt940 = client.post(
        "/bank/templates/upload",
        files={"file": ("a.sta", b":20:STARTUMS\n:25:1/2\n:61:2611021102C10,00NTRFNONREF\n", "")},
    )
    assert mt940.status_code == 422


# --------------------------------------------------------------------------- rules


def test_rules_create_edit_move_and_delete(client: Any) -> None:
    first = client.post(
        "/bank/rules",
        data={
            "name": "Supermarkt privat",
            "counterparty_pattern": "rewe*",
            "usage": "private",
            "active": "1",
        },
    )
    assert first.status_code == 200
    second = client.post(
        "/bank/rules",
        data={
            "name": "Strom",
            "purpose_pattern": "strom",
            "usage": "business",
            "direction": "out",
            "amount_min": "10",
            "amount_max": "1.000,00",
            "active": "1",
        },
    )
    assert second.status_code == 200
    assert "1.000,00 €" in second.text
    ids = [int(i) for i in re.findall(r'<tr id="rule-(\d+)">', second.text)]
    assert len(ids) == 2

    moved = client.post(f"/bank/rules/{ids[1]}/move/up")
    assert [int(i) for i in re.findall(r'<tr id="rule-(\d+)">', moved.text)] == ids[::-1]
    assert client.post(f"/bank/rules/{ids[1]}/move/sideways").status_code == 404

    no_condition = client.post("/bank/rules", data={"name": "alles", "usage": "business"})
    assert no_condition.status_code == 422
    assert 'class="field has-error"' in no_condition.text
    bad_range = client.post(
        "/bank/rules",
        data={"name": "x", "counterparty_pattern": "a", "amount_min": "5", "amount_max": "1"},
    )
    assert bad_range.status_code == 422

    edit = client.get(f"/bank/rules/{ids[0]}")
    assert 'value="rewe*"' in edit.text
    saved = client.post(
        f"/bank/rules/{ids[0]}",
        data={"name": "Supermärkte", "counterparty_pattern": "rewe*", "usage": "private"},
    )
    assert saved.status_code == 200
    assert "Supermärkte" in saved.text
    assert "inactive" in saved.text or "inaktiv" in saved.text

    deleted = client.post(f"/bank/rules/{ids[0]}/delete")
    assert deleted.status_code == 200
    assert f'<tr id="rule-{ids[0]}">' not in deleted.text
    assert client.post(f"/bank/rules/{ids[0]}/delete").status_code == 404
    assert client.get("/bank/rules/999999", headers=HTML).status_code == 404


# --------------------------------------------------------------------------- robustness

JUNK_FORMS: list[dict[str, str]] = [
    {},
    {
        "account_id": "abc",
        "usage": "gold",
        "category_id": "99999999999999999999",
        "amount": "1e999",
        "invoice_id": "-1",
        "reason": "\u0000",
        "name": "x" * 5000,
        "iban": "DE" + "9" * 40,
        "amount_min": "NaN",
        "direction": "up",
        "document": "1.5",
        "header_line": "abc",
        "delimiter": "nope",
        "next": "//evil.example/",
        "batch": "0",
    },
]


def test_no_bank_page_answers_bad_input_with_a_server_error(
    client: Any, session: Session, tenant_id: int
) -> None:
    account_id = _account(client)
    _import(client, DKB, account_id)  # rows to point at
    modules = [import_module(name) for name in PAGE_MODULES if ".banking." in name]
    routes = [
        (method, route.path)
        for module in modules
        for route in module.pages.routes
        for method in sorted(getattr(route, "methods", set()) - {"HEAD"})
    ]
    assert len(routes) > 25
    failures = []
    for method, path in routes:
        for value in ("1", "abc", "99999999999999999999"):
            url = re.sub(r"\{[^}]+\}", value, path)
            for form in JUNK_FORMS if method == "POST" else [{}]:
                resp = client.request(method, url, data=form or None, headers=HTML)
                if resp.status_code >= 500:
                    failures.append(f"{method} {url} {sorted(form)}: {resp.status_code}")
                elif resp.status_code in (301, 302, 303, 307) and "evil" in resp.headers.get(
                    "location", ""
                ):
                    failures.append(f"{method} {url}: open redirect")
    assert not failures, "\n".join(failures)
