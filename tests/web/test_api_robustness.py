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
