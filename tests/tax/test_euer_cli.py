"""`belegwerk euer …` against SQLite and PostgreSQL: JSON, files, exit codes."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from belegwerk.books.cash import set_opening_balance
from belegwerk.books.categories import sync_master_categories
from belegwerk.cli import app
from belegwerk.core.db import get_engine, system_session, tenant_session
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.tax.test_euer import cash

D = Decimal


@pytest.fixture
def tenant(cli_db: str) -> tuple[str, int]:
    """A tenant with a small 2025 in its books."""
    with system_session(get_engine()) as s:
        sync_master_categories(s)
        t = create_tenant(
            s, CompanyData(name="CLI Freiberuf", chart="skr04"), slug=f"cli-{uuid.uuid4().hex[:10]}"
        )
    with tenant_session(t.id, get_engine()) as s:
        set_opening_balance(s, t.id, date(2025, 1, 1), D("100.00"))
        cash(s, t.id, date(2025, 5, 1), "revenue_19", "1190.00", "income")
        cash(s, t.id, date(2025, 5, 2), "telecom", "59.50", input_vat_deductible=True)
    return t.slug, t.id


def run(slug: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["euer", *args, "--tenant", slug], env={"COLUMNS": "200"})


def out(result: Result) -> Any:
    return json.loads(result.stdout)


def test_json_and_table(tenant: tuple[str, int]) -> None:
    slug, _ = tenant
    result = run(slug, "--year", "2025", "--json")
    assert result.exit_code == 0, result.output
    body = out(result)
    assert body["boxes"] == {
        "112": "1000.00",
        "140": "190.00",
        "159": "1190.00",
        "280": "50.00",
        "185": "9.50",
        "199": "59.50",
        "219": "1130.50",
    }
    table = run(slug, "--year", "2025")
    assert table.exit_code == 0
    assert "Umsatzsteuerpflichtige Betriebseinnahmen" in table.stdout and "1.130,50" in table.stdout


def test_files(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, _ = tenant
    pdf, csv_file, xlsx = tmp_path / "e.pdf", tmp_path / "e.csv", tmp_path / "e.xlsx"
    result = run(
        slug, "--year", "2025", "--pdf", str(pdf), "--csv", str(csv_file), "--xlsx", str(xlsx)
    )
    assert result.exit_code == 0, result.output
    with pdfplumber.open(pdf) as doc:
        assert "Telekommunikation" in (doc.pages[0].extract_text() or "")
    assert "280;E6003901" in csv_file.read_text("utf-8-sig")
    assert load_workbook(xlsx)["ELSTER"]["A2"].value == "E6000401"


def test_line_and_errors(tenant: tuple[str, int]) -> None:
    slug, _ = tenant
    line = run(slug, "line", "--year", "2025", "--kz", "280", "--json")
    assert line.exit_code == 0
    assert [r["amount"] for r in out(line)["rows"]] == ["50.00"]
    future = run(slug, "--year", "2999", "--json")
    assert future.exit_code == 1
    assert out(future)["error"]["code"] in ("year.invalid", "euer.future_year")
    early = run(slug, "--year", "2020")
    assert early.exit_code == 1 and "euer.before_books" in early.stderr
    assert "beginnt 2025" in early.stderr
    assert run(slug).exit_code == 2  # no year, no subcommand


def test_assets_commands(tenant: tuple[str, int]) -> None:
    slug, _ = tenant
    added = run(
        slug, "assets", "add", "Notebook", "--date", "2025-07-15", "--cost", "1500",
        "--type", "computer", "--years", "2", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    body = out(added)
    assert body["warnings"] and body["id"]
    listed = out(run(slug, "assets", "list", "--year", "2025", "--json"))
    assert [(a["name"], a["afa"]) for a in listed] == [("Notebook", "375.00")]
    assert run(slug, "assets", "pool", "2025", "--on").exit_code == 0
    bad = run(slug, "assets", "dispose", str(body["id"]), "--kind", "void", "--date", "2025-08-01")
    assert bad.exit_code == 1 and "reason.missing" in bad.stderr
    gone = run(
        slug, "assets", "dispose", str(body["id"]), "--kind", "void", "--date", "2025-08-01",
        "--reason", "doppelt erfasst",
    )  # fmt: skip
    assert gone.exit_code == 0
    assert out(run(slug, "assets", "list", "--year", "2025", "--json")) == []
    refused = run(
        slug, "assets", "add", "X", "--date", "2025-01-01", "--cost", "abc", "--months", "3"
    )
    assert refused.exit_code == 1 and "money.not_a_number" in refused.stderr
    assert out(run(slug, "assets", "offers", "--json")) == []
