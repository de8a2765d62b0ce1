"""Bad requests are 4xx with our error shape, never a 500 — for every route of the API."""

from __future__ import annotations

import re
from typing import Any

import pytest

BODIES: list[Any] = [
    None,
    {},
    [],
    "text",
    {"amount": "1e999", "entry_date": "2026-02-30", "category_id": -1},
    {"amount": "NaN", "gross": "Infinity", "day": "yesterday", "counts": {"500": -1}},
    {"lines": [{"quantity": "x", "unit_price": None, "vat_rate": "19%"}], "direction": "up"},
    {"name": "x" * 5000, "iban": "DE" + "9" * 40, "vat_id": "\u0000"},
    {"reason": None, "payment_date": "1800-01-01", "amount": 10**30, "method": "gold"},
    {"skr03_account": "12", "skr04_account": "abcdefghijk"},
]
PATH_VALUES = ["1", "0", "-5", "abc", "99999999999999999999", "1.5"]
QUERIES = [
    "",
    "?page=0",
    "?page=abc&page_size=100000",
    "?from=2026-13-01&to=x",
    "?on=nope&day=2026-02-30",
    "?year=99999&month=13",
    "?direction=sideways&status=weird&payment_status=x",
]


def _routes(client: Any) -> list[tuple[str, str]]:
    spec = client.get("/api/openapi.json").json()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


def test_no_route_answers_bad_input_with_a_server_error(client: Any) -> None:
    failures = []
    for method, path in _routes(client):
        paths = [re.sub(r"\{[^}]+\}", v, path) for v in PATH_VALUES] if "{" in path else [path]
        for concrete in paths:
            if method == "GET":
                for query in QUERIES:
                    resp = client.get(concrete + query)
                    if resp.status_code >= 500:
                        failures.append(f"GET {concrete}{query}: {resp.status_code}")
                continue
            for body in BODIES:
                resp = client.request(method, concrete, json=body)
                if resp.status_code >= 500:
                    failures.append(f"{method} {concrete} {str(body)[:60]}: {resp.status_code}")
                elif resp.status_code >= 400:
                    assert set(resp.json()) == {"error"}, (method, concrete, resp.text)
            resp = client.request(
                method, concrete, content=b"{not json", headers={"content-type": "application/json"}
            )
            if resp.status_code >= 500:
                failures.append(f"{method} {concrete} malformed JSON: {resp.status_code}")
    assert failures == []


@pytest.mark.parametrize("path", ["/invoices/abc", "/cash?page=-1", "/parties/999999"])
def test_pages_answer_bad_input_with_4xx(client: Any, path: str) -> None:
    resp = client.get(path, headers={"accept": "text/html"})
    assert 400 <= resp.status_code < 500 or resp.status_code == 200


PAGE_POSTS = [
    "/settings",
    "/cash/opening",
    "/cash/entries",
    "/cash/entries/{id}/reverse",
    "/cash/proposals/{id}/confirm",
    "/cash/proposals/{id}/nonsense",
    "/cash/closing/count",
    "/cash/closing/save",
    "/invoices",
    "/invoices/{id}",
    "/invoices/{id}/book",
    "/invoices/{id}/delete",
    "/invoices/{id}/reverse",
    "/invoices/{id}/payments",
    "/invoices/{id}/payments/{id}/reverse",
    "/parties",
    "/parties/{id}",
    "/categories/{id}/override",
    "/categories/{id}/override/delete",
]
FORMS: list[dict[str, Any]] = [
    {},
    {"amount": "1,2,3", "entry_date": "31.02.2026", "category_id": "x", "direction": "?"},
    {"day": "morgen", "c_500": "-1", "c_0.01": "abc", "reason": "", "treatment": "weg"},
    {"name": "", "vat_id": "DE1", "iban": "XX", "fiscal_year_start_month": "13"},
    {"line_description": ["a", "b"], "line_quantity": ["1e9999"], "line_unit_price": ["x"]},
    {"opening_date": "2026-13-01", "amount": "-5", "skr03_account": "1"},
]


@pytest.mark.parametrize("value", ["1", "abc", "99999999999999999999"])
def test_page_forms_answer_bad_input_without_server_errors(client: Any, value: str) -> None:
    failures = []
    for template in PAGE_POSTS:
        path = template.replace("{id}", value)
        for form in FORMS:
            resp = client.post(
                path, data=form, headers={"accept": "text/html"}, follow_redirects=False
            )
            if resp.status_code >= 500:
                failures.append(f"POST {path} {str(form)[:50]}: {resp.status_code}")
    assert failures == []


def test_writes_from_other_websites_are_refused(client: Any) -> None:
    """No login in the embedded mode: a foreign page must not post into the books (CSRF)."""
    foreign = client.post(
        "/cash/opening",
        data={"opening_date": "2026-01-01", "amount": "10,00"},
        headers={"origin": "https://evil.example", "accept": "text/html"},
    )
    assert foreign.status_code == 403
    api = client.put(
        "/api/v1/settings", json={"name": "Übernommen"}, headers={"sec-fetch-site": "cross-site"}
    )
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "request.cross_site"
    assert client.get("/api/v1/settings").json()["name"] != "Übernommen"
    same = client.put(
        "/api/v1/settings", json={"city": "Leipzig"}, headers={"origin": "http://testserver"}
    )
    assert same.status_code == 200
