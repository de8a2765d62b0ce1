"""`belegwerk einvoice validate` and ``POST /api/v1/einvoices/validate``: JSON shape, German
summary, exit codes and status codes, limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from belegwerk.cli import app
from belegwerk.einvoice.api import MAX_FILES, MAX_REQUEST_BYTES
from tests.einvoice.helpers import CII, UBL, changed, fixture, pdf, remove

KEYS = {
    "file",
    "format",
    "container",
    "syntax",
    "profile",
    "xrechnung_version",
    "valid",
    "accepted",
    "strictness",
    "errors",
    "warnings",
    "information",
    "notes",
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    contents = {
        "gut.xml": fixture(UBL),
        "gut.pdf": pdf({"factur-x.xml": fixture(CII)}),
        "ohne_nummer.xml": changed(UBL, remove("/ubl:Invoice/cbc:ID")),
        "foto.jpg": b"\xff\xd8\xff\xe0" + b"\0" * 64,
    }
    for name, content in contents.items():
        (tmp_path / name).write_bytes(content)
    return {name: tmp_path / name for name in contents}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(
        app, ["einvoice", "validate", *map(str, args)], env={"COLUMNS": "200"}
    )


def test_json_for_valid_files_exits_0(files: dict[str, Path]) -> None:
    result = run("--json", files["gut.xml"], files["gut.pdf"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [set(d) for d in data] == [KEYS, KEYS]
    ubl, factur_x = data
    assert (ubl["syntax"], ubl["profile"], ubl["format"], ubl["container"]) == (
        "UBL",
        "XRECHNUNG",
        "XRECHNUNG",
        "XML",
    )
    assert ubl["xrechnung_version"] == "3.0" and ubl["valid"] is True
    assert (factur_x["syntax"], factur_x["container"]) == ("CII", "PDF")
    assert factur_x["errors"] == [] and factur_x["warnings"] == []


def test_json_error_entries_and_exit_1(files: dict[str, Path]) -> None:
    result = run("--json", files["gut.xml"], files["ohne_nummer.xml"])
    assert result.exit_code == 1
    bad = json.loads(result.stdout)[1]
    assert bad["valid"] is False
    [error] = [e for e in bad["errors"] if e["rule"] == "BR-02"]
    assert error["bt"] == "BT-1"
    assert error["message"] == "Die Rechnung hat keine Rechnungsnummer (BT-1)."
    assert error["location"] == {"xpath": "/ubl:Invoice", "line": 2}


def test_unreadable_file_exits_2_and_the_others_are_still_judged(
    files: dict[str, Path], tmp_path: Path
) -> None:
    result = run("--json", files["ohne_nummer.xml"], files["foto.jpg"], tmp_path / "fehlt.xml")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data[0]["valid"] is False
    assert data[1]["valid"] is None and data[1]["error"]["code"] == "einvoice.unsupported_type"
    assert data[2]["error"]["code"] == "einvoice.file_unreadable"


def test_strictness_flexible_never_blocks(files: dict[str, Path]) -> None:
    result = run("--json", "--strictness", "flexible", files["ohne_nummer.xml"])
    assert result.exit_code == 0
    [entry] = json.loads(result.stdout)
    assert entry["valid"] is False and entry["accepted"] is True
    assert entry["strictness"] == "flexible"


def test_german_summary(files: dict[str, Path]) -> None:
    result = run(files["gut.xml"], files["ohne_nummer.xml"], files["foto.jpg"])
    assert result.exit_code == 2
    out = result.stdout
    assert "gut.xml: gültig – XRechnung 3.0 (UBL); 0 Fehler, 0 Warnungen" in out
    assert "ohne_nummer.xml: ungültig" in out
    assert "Fehler BR-02 (BT-1): Die Rechnung hat keine Rechnungsnummer (BT-1). [Zeile 2:" in out
    assert "foto.jpg: nicht lesbar – Die Datei" in out and "weder XML noch PDF" in out
    assert "3 Dateien: 1 gültig, 1 ungültig, 1 nicht lesbar." in out


def post(client: Any, *files: tuple[str, bytes], **data: str) -> Any:
    return client.post(
        "/api/v1/einvoices/validate",
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
        data=data,
    )


def test_api_validates_several_files(client: Any) -> None:
    resp = post(
        client,
        ("a.xml", fixture(UBL)),
        ("b.pdf", pdf({"factur-x.xml": fixture(CII)})),
        ("c.xml", changed(CII, remove("//ram:DuePayableAmount"))),
        ("d.jpg", b"\xff\xd8\xff\xe0"),
    )
    assert resp.status_code == 200, resp.text
    a, b, c, d = resp.json()
    assert (a["valid"], b["valid"], c["valid"], d["valid"]) == (True, True, False, None)
    assert {e["rule"] for e in c["errors"]} >= {"BR-15", "BR-CO-16"}
    assert d["error"]["code"] == "einvoice.unsupported_type"


def test_api_strictness(client: Any) -> None:
    resp = post(
        client, ("c.xml", changed(UBL, remove("/ubl:Invoice/cbc:ID"))), strictness="flexible"
    )
    assert resp.status_code == 200
    assert resp.json()[0]["accepted"] is True
    bad = post(client, ("c.xml", fixture(UBL)), strictness="lax")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "request.invalid"


def test_api_limits(client: Any) -> None:
    resp = client.post("/api/v1/einvoices/validate", data={"strictness": "strict"})
    assert resp.status_code == 422
    too_many = post(client, *[(f"{i}.xml", b"<a/>") for i in range(MAX_FILES + 1)])
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "einvoice.too_many_files"
    big = post(client, ("gross.xml", b"<a>" + b" " * (25 * 1024 * 1024) + b"</a>"))
    assert big.status_code == 413 and big.json()["error"]["code"] == "einvoice.too_large"
    declared = client.post(
        "/api/v1/einvoices/validate",
        content=b"x",
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(MAX_REQUEST_BYTES + 1),
        },
    )
    assert declared.status_code == 413


def test_api_hostile_xml_is_a_verdict_not_a_crash(client: Any) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaa">]><a>&a;</a>'
    resp = post(client, ("bombe.xml", bomb), ("kaputt.xml", fixture(UBL)[:500]))
    assert resp.status_code == 200
    bomb_result, broken = resp.json()
    assert [e["rule"] for e in bomb_result["errors"]] == ["XML-DOCTYPE"]
    assert [e["rule"] for e in broken["errors"]] == ["XML-NOT-WELLFORMED"]
