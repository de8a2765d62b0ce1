"""`belegwerk bank …` against SQLite and PostgreSQL: JSON shapes and exit codes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from belegwerk.banking.models import BankTransaction, ImportBatch
from belegwerk.cli import app
from belegwerk.core.db import get_engine, system_session, tenant_session
from belegwerk.tenancy.service import CompanyData, create_tenant

FIXTURES = Path(__file__).parent / "fixtures"
DKB = FIXTURES / "import_dkb.csv"  # account DE02 1203 0000 0000 2020 51, 4 rows + 1 pending
LATER = FIXTURES / "import_dkb_later.csv"  # 3 of DKB's rows again + 2 new
BAD_ROW = FIXTURES / "import_dkb_bad_row.csv"  # line 7 has 30.02.25
DKB_IBAN = "DE02120300000000202051"
OTHER_IBAN = "DE89370400440532013000"


@pytest.fixture
def tenant(cli_db: str) -> tuple[str, int]:
    """A fresh tenant in the CLI's database (the PostgreSQL run DB holds other tests' too)."""
    with system_session(get_engine()) as s:
        t = create_tenant(
            s, CompanyData(name="CLI GmbH", chart="skr03"), slug=f"cli-{uuid.uuid4().hex[:10]}"
        )
        return t.slug, t.id


def bank(slug: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["bank", *args, "--tenant", slug], env={"COLUMNS": "200"})


def out(result: Result) -> Any:
    return json.loads(result.stdout)


def lines_stored(tenant_id: int) -> int:
    with tenant_session(tenant_id, get_engine()) as s:
        query = select(func.count(BankTransaction.id)).where(BankTransaction.tenant_id == tenant_id)
        return s.scalar(query) or 0


def test_accounts_add_and_list(tenant: tuple[str, int]) -> None:
    slug, _tid = tenant
    added = bank(
        slug,
        "accounts",
        "add",
        "DE02 1203 0000 0000 2020 51",
        "--type",
        "mixed",
        "--name",
        "Geschäftskonto",
        "--opening-balance",
        "-100,50",
        "--opening-date",
        "01.01.2025",
    )
    assert added.exit_code == 0, added.output
    assert "Geschäftskonto" in added.stdout
    paypal = bank(slug, "accounts", "add", "shop@example.de", "--type", "business", "--json")
    assert paypal.exit_code == 0, paypal.output
    assert out(paypal)["kind"] == "paypal"
    listed = bank(slug, "accounts", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in out(listed)}
    giro = rows["Geschäftskonto"]
    assert giro["iban"] == DKB_IBAN
    assert giro["bank_name"] == "Deutsche Kreditbank Berlin"
    assert (giro["account_type"], giro["opening_balance"]) == ("mixed", "-100.50")
    assert (giro["opening_date"], giro["posting_account"]) == ("2025-01-01", "1200")
    assert rows["PayPal shop@example.de"]["posting_account"] == "1210"
    table = bank(slug, "accounts", "list")
    assert table.exit_code == 0 and "Geschäftskonto" in table.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["DE02120300000000202052", "--type", "business"], "iban.invalid"),
        (["DE02120300000000202051", "--type", "privat"], "bank.invalid_account_type"),
    ],
)
def test_accounts_add_refuses_bad_input(
    tenant: tuple[str, int], args: list[str], code: str
) -> None:
    result = bank(tenant[0], "accounts", "add", *args)
    assert result.exit_code == 1
    assert code in result.stderr
    again = bank(tenant[0], "accounts", "list", "--json")
    assert out(again) == []


def test_dry_run_without_account_prints_the_rows(tenant: tuple[str, int]) -> None:
    result = bank(tenant[0], "import", str(DKB), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    data = out(result)
    assert {
        "template",
        "score",
        "rows",
        "imported",
        "duplicates",
        "rejected",
        "transactions",
    } <= set(data)
    assert (data["template"], data["score"], data["rows"]) == ("dkb_2023", "1.0", 4)
    assert (data["imported"], data["duplicates"], data["rejected"]) == (4, 0, [])
    assert data["transactions"][0] == {
        "booking_date": "2025-03-28",
        "value_date": "2025-03-28",
        "amount": "1190.00",
        "currency": "EUR",
        "counterparty": "Müller & Partner mbB",
        "counterparty_iban": "DE75512108001245126199",
        "purpose": "RE-2025-0042 Vielen Dank",
    }
    assert [t["amount"] for t in data["transactions"]] == ["1190.00", "-3.20", "-3.20", "-49.99"]
    assert lines_stored(tenant[1]) == 0


def test_import_dedupes_and_reports(tenant: tuple[str, int]) -> None:
    slug, tid = tenant
    assert bank(slug, "accounts", "add", DKB_IBAN, "--type", "business").exit_code == 0
    first = bank(slug, "import", str(DKB), "--account", DKB_IBAN, "--json")
    assert first.exit_code == 0, first.output
    data = out(first)
    assert (data["rows"], data["imported"], data["duplicates"]) == (4, 4, 0)
    assert data["transactions"] == [] and data["same_file"] is False
    again = out(bank(slug, "import", str(DKB), "--account", DKB_IBAN, "--json"))
    assert (again["imported"], again["duplicates"], again["same_file"]) == (0, 4, True)
    preview = out(bank(slug, "import", str(LATER), "--account", DKB_IBAN, "--dry-run", "--json"))
    assert (preview["imported"], preview["duplicates"]) == (2, 3)
    assert len(preview["transactions"]) == 5
    assert lines_stored(tid) == 4
    later = bank(slug, "import", str(LATER), "--account", "de02 1203 0000 0000 2020 51")
    assert later.exit_code == 0, later.output
    assert "DKB" in later.stdout
    assert lines_stored(tid) == 6
    with tenant_session(tid, get_engine()) as s:
        batches = s.scalars(select(ImportBatch).where(ImportBatch.tenant_id == tid)).all()
        assert [(b.imported, b.duplicates, b.created_by) for b in batches] == [
            (4, 0, "cli"),
            (0, 4, "cli"),
            (2, 3, "cli"),
        ]


def test_statement_for_another_account_is_refused(tenant: tuple[str, int]) -> None:
    slug, tid = tenant
    bank(slug, "accounts", "add", OTHER_IBAN, "--type", "business")
    result = bank(slug, "import", str(DKB), "--account", OTHER_IBAN, "--json")
    assert result.exit_code == 1
    assert "bank.account_mismatch" in result.stderr
    assert out(result)["error"]["code"] == "bank.account_mismatch"
    dry = bank(slug, "import", str(DKB), "--account", OTHER_IBAN, "--dry-run")
    assert dry.exit_code == 1
    assert lines_stored(tid) == 0


def test_rejected_rows_need_accept_rejected(tenant: tuple[str, int]) -> None:
    slug, tid = tenant
    bank(slug, "accounts", "add", DKB_IBAN, "--type", "business")
    refused = bank(slug, "import", str(BAD_ROW), "--account", DKB_IBAN, "--json")
    assert refused.exit_code == 1
    assert "bank.rows_rejected" in refused.stderr
    data = out(refused)
    assert data["rejected"][0]["line"] == 7
    assert data["error"]["details"][0]["line"] == 7
    assert lines_stored(tid) == 0
    dry = bank(slug, "import", str(BAD_ROW), "--dry-run", "--json")
    assert dry.exit_code == 0
    assert [r["line"] for r in out(dry)["rejected"]] == [7]
    accepted = bank(
        slug, "import", str(BAD_ROW), "--account", DKB_IBAN, "--accept-rejected", "--json"
    )
    assert accepted.exit_code == 0, accepted.output
    data = out(accepted)
    assert (data["rows"], data["imported"], len(data["rejected"])) == (3, 2, 1)
    assert lines_stored(tid) == 2


def test_files_that_cannot_be_imported_exit_1(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug = tenant[0]
    unknown = tmp_path / "unbekannt.csv"
    unknown.write_text("Spalte A;Spalte B\nfoo;bar\nbaz;qux\n", encoding="utf-8")
    empty = tmp_path / "leer.csv"
    empty.write_bytes(b"")
    cases = [
        (["import", str(unknown), "--dry-run"], "bank.unknown_layout"),
        (["import", str(empty), "--dry-run"], "bank.empty_file"),
        (["import", str(tmp_path / "fehlt.csv"), "--dry-run"], "bank.file_missing"),
        (["import", str(DKB)], "bank.account_required"),
        (["import", str(DKB), "--account", OTHER_IBAN], "bank.account_not_found"),
        (["import", str(DKB), "--dry-run", "--template", "gibt-es-nicht"], "bank.template_unknown"),
    ]
    for args, code in cases:
        result = bank(slug, *args)
        assert result.exit_code == 1, (args, result.output)
        assert code in result.stderr, (args, result.stderr)


def test_templates_list_and_test(tenant: tuple[str, int]) -> None:
    slug = tenant[0]
    listed = bank(slug, "templates", "list", "--json")
    assert listed.exit_code == 0, listed.output
    keys = {t["key"]: t for t in out(listed)}
    assert {"dkb_2023", "paypal", "ing"} <= set(keys)
    assert keys["dkb_2023"]["source"] == "system"
    assert "DKB" in bank(slug, "templates", "list").stdout
    tested = bank(slug, "templates", "test", str(DKB), "--json")
    assert tested.exit_code == 0, tested.output
    data = out(tested)
    assert data["template"] == "dkb_2023"
    assert data["candidates"][0] == {"key": "dkb_2023", "name": "DKB (ab 2023)", "score": "1.0"}
    assert data["account_iban"] == DKB_IBAN
    assert (data["rows"], data["skipped"]) == (4, 1)
    assert data["transactions"][1]["purpose"] == "Kaffee"
    text = bank(slug, "templates", "test", str(DKB))
    assert text.exit_code == 0 and "dkb_2023" in text.stdout
