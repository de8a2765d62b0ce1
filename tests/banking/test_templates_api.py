"""CSV templates over the API: export a system template, import it as the tenant's own."""

from __future__ import annotations

import json
from typing import Any


def test_template_export_import_and_delete(client: Any) -> None:
    listed = client.get("/api/v1/bank/templates").json()
    assert {"key": "dkb_2023", "origin": "system"}.items() <= next(
        t for t in listed if t["key"] == "dkb_2023"
    ).items()
    exported = client.get("/api/v1/bank/templates/dkb_2023")
    assert exported.status_code == 200
    definition = json.loads(exported.text)
    assert definition["key"] == "dkb_2023"

    taken = client.post("/api/v1/bank/templates", json=definition)
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "bank.template_key_taken"

    definition.update(key="meine_dkb", name="Meine DKB")
    created = client.post("/api/v1/bank/templates", json=definition)
    assert created.status_code == 201, created.text
    own = created.json()
    assert own["origin"] == "user"
    assert client.get("/api/v1/bank/templates").json()[0]["key"] == "meine_dkb"
    assert json.loads(client.get("/api/v1/bank/templates/meine_dkb").text)["name"] == "Meine DKB"

    again = client.post("/api/v1/bank/templates", json=definition)
    assert again.status_code == 409
    assert client.post("/api/v1/bank/templates?replace=true", json=definition).status_code == 201

    broken = client.post("/api/v1/bank/templates", json={"key": "x"})
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "bank.template_invalid"

    assert client.delete(f"/api/v1/bank/templates/{own['id']}").status_code == 204
    assert client.get("/api/v1/bank/templates/meine_dkb").status_code == 404
    missing = client.get("/api/v1/bank/templates/gibt_es_nicht")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "bank.template_unknown"
