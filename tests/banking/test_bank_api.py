"""REST API of accounts, imports and transactions: shapes, amounts as strings, upload limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from belegwerk.banking.routes import imports as import_routes
from belegwerk.banking.statement import MAX_FILE_BYTES

FIXTURES = Path(__file__).parent / "fixtures"
DKB = (FIXTURES / "import_dkb.csv").read_bytes()
LATER = (FIXTURES / "import_dkb_later.csv").read_bytes()
BAD_ROW = (FIXTURES / "import_dkb_bad_row.csv").read_bytes()
DKB_IBAN = "DE02120300000000202051"
OTHER_IBAN = "DE89370400440532013000"
API = "/api/v1/bank"


def upload(client: Any, content: bytes, name: str = "umsaetze.csv", **form: object) -> Any:
    return client.post(
        f"{API}/imports",
        files={"file": (name, content, "text/csv")},
        data={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()},
    )


def preview(client: Any, content: bytes, **form: object) -> Any:
    return client.post(
        f"{API}/imports/preview",
        files={"file": ("umsaetze.csv", content, "text/csv")},
        data={k: str(v) for k, v in form.items()},
    )


def new_account(client: Any, iban: str = DKB_IBAN, **fields: object) -> dict[str, Any]:
    response = client.post(f"{API}/accounts", json={"iban": iban, **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]  # type: ignore[no-any-return]


def test_accounts_crud(client: Any) -> None:
    created = new_account(
        client,
        "DE02 1203 0000 0000 2020 51",
        account_type="mixed",
        opening_balance="-12.30",
        opening_date="2025-01-01",
    )
    assert created["iban"] == DKB_IBAN
    assert created["bank_name"] == "Deutsche Kreditbank Berlin"
    assert created["opening_balance"] == "-12.30"
    assert created["posting_account"] == "1200"
    paypal = new_account(client, "", kind="paypal", email="shop@example.de")
    assert (paypal["iban"], paypal["posting_account"]) == (None, "1210")
    listed = client.get(f"{API}/accounts").json()
    assert {a["id"] for a in listed} == {created["id"], paypal["id"]}
    one = client.get(f"{API}/accounts/{created['id']}").json()
    assert one == created
    changed = client.put(
        f"{API}/accounts/{created['id']}", json={"name": "Hauptkonto", "opening_balance": "5"}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["opening_balance"]) == ("Hauptkonto", "5.00")
    assert changed.json()["account_type"] == "mixed"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"iban": "DE02120300000000202052"}, 422, "iban.invalid"),
        ({"iban": DKB_IBAN, "account_type": "x"}, 422, "bank.invalid_account_type"),
        ({"iban": DKB_IBAN, "opening_balance": "1.005"}, 422, "money.too_many_decimals"),
        ({"iban": DKB_IBAN, "colour": "red"}, 422, "request.invalid"),
    ],
)
def test_account_input_errors(client: Any, body: dict[str, Any], status: int, code: str) -> None:
    response = client.post(f"{API}/accounts", json=body)
    assert response.status_code == status
    assert error_code(response) == code


def test_account_conflicts_and_missing(client: Any) -> None:
    new_account(client)
    again = client.post(f"{API}/accounts", json={"iban": DKB_IBAN.lower()})
    assert (again.status_code, error_code(again)) == (409, "bank.account_exists")
    missing = client.get(f"{API}/accounts/999999")
    assert (missing.status_code, error_code(missing)) == (404, "bank.account_not_found")
    assert client.put(f"{API}/accounts/999999", json={"name": "x"}).status_code == 404


def test_preview_shows_detection_and_first_rows(client: Any) -> None:
    account = new_account(client)
    response = preview(client, DKB)
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["format"], data["template_key"], data["template_name"]) == (
        "csv",
        "dkb_2023",
        "DKB (ab 2023)",
    )
    assert data["score"] == "1.0" and data["ambiguous"] is False
    assert data["candidates"][0]["key"] == "dkb_2023"
    assert (data["account_iban"], data["account_id"]) == (DKB_IBAN, account["id"])
    assert (data["rows"], data["skipped"], data["rejected"]) == (4, 1, [])
    first = data["transactions"][0]
    assert (first["amount"], first["booking_date"], first["line_no"]) == (
        "1190.00",
        "2025-03-28",
        7,
    )
    assert first["end_to_end_ref"] == "E2E-0042"
    assert client.get(f"{API}/imports").json()["total"] == 0  # nothing stored
    forced = preview(client, DKB, template_key="dkb_2023")
    assert forced.status_code == 200 and forced.json()["template_key"] == "dkb_2023"
    bad = preview(client, BAD_ROW).json()
    assert [r["line"] for r in bad["rejected"]] == [7]
    assert bad["rejected"][0]["code"] == "bank.invalid_date"


def test_import_then_reimport_and_overlap(client: Any) -> None:
    account = new_account(client)
    first = upload(client, DKB, account_id=account["id"])
    assert first.status_code == 201, first.text
    batch = first.json()
    assert (batch["rows"], batch["imported"], batch["duplicates"], batch["rejected"]) == (
        4,
        4,
        0,
        0,
    )
    assert (batch["template_key"], batch["score"], batch["same_file"]) == (
        "dkb_2023",
        "1.0000",
        False,
    )
    again = upload(client, DKB, account_id=account["id"]).json()
    assert (again["imported"], again["duplicates"], again["same_file"]) == (0, 4, True)
    assert again["document_id"] == batch["document_id"]
    later = upload(client, LATER, "spaeter.csv", account_id=account["id"]).json()
    assert (later["imported"], later["duplicates"], later["same_file"]) == (2, 3, False)

    batches = client.get(f"{API}/imports", params={"account_id": account["id"]}).json()
    assert batches["total"] == 3
    assert [b["imported"] for b in batches["items"]] == [2, 0, 4]
    assert client.get(f"{API}/imports/{batch['id']}").json() == batch
    assert error_code(client.get(f"{API}/imports/999999")) == "bank.import_not_found"

    page = client.get(f"{API}/transactions", params={"account_id": account["id"]}).json()
    assert page["total"] == 6
    assert page["items"][0]["booking_date"] == "2025-04-14"
    assert page["items"][0]["amount"] == "595.00"
    coffees = client.get(f"{API}/transactions", params={"search": "kaffee"}).json()
    assert [t["occurrence"] for t in coffees["items"]] == [1, 2]
    incoming = client.get(
        f"{API}/transactions", params={"direction": "in", "from": "2025-03-28", "to": "2025-03-31"}
    ).json()
    assert [t["counterparty_name"] for t in incoming["items"]] == ["Müller & Partner mbB"]
    paged = client.get(f"{API}/transactions", params={"page": 2, "page_size": 4}).json()
    assert (paged["total"], len(paged["items"])) == (6, 2)
    detail = client.get(f"{API}/transactions/{coffees['items'][0]['id']}").json()
    assert detail["raw"]["Verwendungszweck"] == "Kaffee"
    assert detail["raw"]["Betrag (€)"] == "-3,2"
    missing = client.get(f"{API}/transactions/999999")
    assert (missing.status_code, error_code(missing)) == (404, "bank.transaction_not_found")
    wrong = client.get(f"{API}/transactions", params={"direction": "up"})
    assert wrong.status_code == 422


def test_import_refusals_store_nothing(client: Any) -> None:
    other = new_account(client, OTHER_IBAN)
    mismatch = upload(client, DKB, account_id=other["id"])
    assert (mismatch.status_code, error_code(mismatch)) == (409, "bank.account_mismatch")
    assert DKB_IBAN in mismatch.json()["error"]["message"]
    private = new_account(client, account_type="private")
    refused = upload(client, DKB, account_id=private["id"])
    assert (refused.status_code, error_code(refused)) == (409, "bank.private_account")
    unknown = upload(client, DKB, account_id=999999)
    assert (unknown.status_code, error_code(unknown)) == (404, "bank.account_not_found")
    assert client.get(f"{API}/imports").json()["total"] == 0
    assert client.get(f"{API}/transactions").json()["total"] == 0


def test_rejected_rows_need_accept_rejected(client: Any) -> None:
    account = new_account(client)
    refused = upload(client, BAD_ROW, account_id=account["id"])
    assert (refused.status_code, error_code(refused)) == (422, "bank.rows_rejected")
    [detail] = refused.json()["error"]["details"]
    assert detail["line"] == 7 and "30.02.25" in detail["message"]
    assert client.get(f"{API}/imports").json()["total"] == 0
    accepted = upload(client, BAD_ROW, account_id=account["id"], accept_rejected=True)
    assert accepted.status_code == 201, accepted.text
    data = accepted.json()
    assert (data["rows"], data["imported"], data["rejected"]) == (3, 2, 1)
    assert data["rejected_rows"][0]["line"] == 7


def test_empty_and_unknown_files(client: Any) -> None:
    account = new_account(client)
    for response in (preview(client, b""), upload(client, b"", account_id=account["id"])):
        assert (response.status_code, error_code(response)) == (422, "bank.empty_file")
    unknown = preview(client, b"Spalte A;Spalte B\nfoo;bar\n")
    assert (unknown.status_code, error_code(unknown)) == (422, "bank.unknown_layout")
    missing_file = client.post(f"{API}/imports/preview", data={"template_key": "x"})
    assert missing_file.status_code == 422


def test_too_large_upload_is_refused_before_reading(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_args: object) -> bytes:
        raise AssertionError("the body was read")

    monkeypatch.setattr(import_routes, "read_upload", never)
    body = b"x" * (MAX_FILE_BYTES + import_routes.MULTIPART_SLACK + 1)
    response = preview(client, body)
    assert response.status_code == 413
    assert error_code(response) == "bank.too_large"


def test_too_large_upload_is_refused_by_its_read_size(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file just over the limit passes the Content-Length check (form overhead allowance)
    and is caught when read."""
    monkeypatch.setattr(import_routes, "MAX_FILE_BYTES", 1000)
    account = new_account(client)
    for response in (preview(client, DKB + b" " * 1000), upload(client, DKB * 3, account_id=1)):
        assert response.status_code == 413
        assert error_code(response) == "bank.too_large"
    assert upload(client, DKB[:900], account_id=account["id"]).status_code != 413
