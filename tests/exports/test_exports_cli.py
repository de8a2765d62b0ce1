"""`belegwerk datev|agenda|gdpdu …` against SQLite and PostgreSQL: files, messages, exit codes."""

from __future__ import annotations

import uuid
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from belegwerk.books import journal
from belegwerk.books.models import Posting
from belegwerk.cli import app
from belegwerk.core.db import get_engine, system_session, tenant_session
from belegwerk.exports.models import ExportLog
from belegwerk.maintenance import upgrade_database
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.exports.books import book_year
from tests.exports.extf import check_booking_file


def _tenant(numbers: bool = True) -> tuple[str, int]:
    upgrade_database()  # the master categories, as every command brings them
    with system_session(get_engine()) as s:
        t = create_tenant(
            s, CompanyData(name="CLI GmbH", chart="skr03"), slug=f"cli-{uuid.uuid4().hex[:10]}"
        )
        slug, tenant_id = t.slug, t.id
    with tenant_session(tenant_id, get_engine()) as s:
        book_year(s, tenant_id, numbers=numbers)
    return slug, tenant_id


@pytest.fixture
def tenant(cli_db: str) -> tuple[str, int]:
    return _tenant()


def run(slug: str, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--tenant", slug], env={"COLUMNS": "200"})


def logged(tenant_id: int) -> int:
    with tenant_session(tenant_id, get_engine()) as s:
        return s.scalar(select(func.count()).where(ExportLog.tenant_id == tenant_id)) or 0


def test_datev_export_with_debitors_creditors(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, tenant_id = tenant
    target, parties = tmp_path / "stapel.csv", tmp_path / "personen.csv"
    result = run(
        slug,
        "datev",
        "export",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "-o",
        str(target),
        "--debitors-creditors",
        str(parties),
    )
    assert result.exit_code == 0, result.output
    assert "10 Datensätze" in result.stdout
    assert len(check_booking_file(target.read_bytes()).rows) == 10
    assert parties.read_bytes().startswith(b'"EXTF";700;16;"Debitoren/Kreditoren";5;')
    assert logged(tenant_id) == 2


def test_datev_export_into_a_folder_uses_the_standard_name(
    tenant: tuple[str, int], tmp_path: Path
) -> None:
    slug, _tenant_id = tenant
    result = run(
        slug, "datev", "export", "--from", "2025-02-01", "--to", "2025-02-28", "-o", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "EXTF_Buchungsstapel_20250201-20250228.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-06-01", "--to", "2026-01-31"], "zwei Wirtschaftsjahre"),
        (["--from", "2025-02-30", "--to", "2025-03-31"], "Den Zeitraum gibt es nicht"),
        (["--from", "2025-03-01", "--to", "2025-02-01"], "bevor er beginnt"),
    ],
)
def test_datev_export_refuses_bad_periods(
    tenant: tuple[str, int], tmp_path: Path, args: list[str], message: str
) -> None:
    slug, tenant_id = tenant
    target = tmp_path / "x.csv"
    result = run(slug, "datev", "export", *args, "-o", str(target))
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert not target.exists() and logged(tenant_id) == 0


def test_datev_export_without_numbers(cli_db: str, tmp_path: Path) -> None:
    slug, tenant_id = _tenant(numbers=False)
    target = tmp_path / "x.csv"
    result = run(
        slug, "datev", "export", "--from", "2025-01-01", "--to", "2025-12-31", "-o", str(target)
    )
    assert result.exit_code == 1
    assert "Beraternummer fehlt" in " ".join(result.stderr.split())
    assert "Nichts exportiert" in result.stderr
    assert not target.exists() and logged(tenant_id) == 0


def test_warnings_wait_for_confirm(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, tenant_id = tenant
    with tenant_session(tenant_id, get_engine()) as s:
        journal.post(
            s,
            tenant_id,
            "manual",
            1,
            [
                journal.transfer_line(
                    posting_date=date(2025, 5, 5),
                    debit_account="4711",
                    credit_account="1200",
                    amount=Decimal("5.00"),
                    voucher="X-1",
                    text="Unbekanntes Konto",
                )
            ],
        )
    target = tmp_path / "x.csv"
    args = ["datev", "export", "--from", "2025-01-01", "--to", "2025-12-31", "-o", str(target)]
    refused = run(slug, *args)
    assert refused.exit_code == 3
    assert "4711" in refused.stderr and "--confirm" in refused.stderr
    assert not target.exists()
    confirmed = run(slug, *args, "--confirm")
    assert confirmed.exit_code == 0, confirmed.output
    assert target.is_file()


def test_datev_import(cli_db: str, tmp_path: Path) -> None:
    source_slug, _source = _tenant()
    target_file = tmp_path / "stapel.csv"
    exported = run(
        source_slug,
        "datev",
        "export",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "-o",
        str(target_file),
    )
    assert exported.exit_code == 0, exported.output
    with system_session(get_engine()) as s:
        t = create_tenant(
            s, CompanyData(name="Ziel GmbH", chart="skr03"), slug=f"cli-{uuid.uuid4().hex[:10]}"
        )
        slug, tenant_id = t.slug, t.id
    imported = run(slug, "datev", "import", str(target_file))
    assert imported.exit_code == 0, imported.output
    assert "10 Buchungen importiert" in imported.stdout
    again = run(slug, "datev", "import", str(target_file))
    assert again.exit_code == 1 and "bereits" in again.stderr
    other = tmp_path / "kein-datev.csv"
    other.write_text("Datum;Betrag\n01.01.2025;1,00\n", encoding="utf-8")
    refused = run(slug, "datev", "import", str(other))
    assert refused.exit_code == 1 and "keine Datei im DATEV-Format" in " ".join(
        refused.stderr.split()
    )
    with tenant_session(tenant_id, get_engine()) as s:
        assert s.scalar(select(func.count()).where(Posting.tenant_id == tenant_id)) == 10


def test_agenda_export(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, _tenant_id = tenant
    target = tmp_path / "agenda.zip"
    args = ["agenda", "export", "--from", "2025-01-01", "--to", "2025-12-31", "-o", str(target)]
    refused = run(slug, *args)
    assert refused.exit_code == 3 and "keine Belegdatei" in refused.stderr
    result = run(slug, *args, "--confirm")
    assert result.exit_code == 0, result.output
    names = zipfile.ZipFile(target).namelist()
    assert "EXTF_Buchungsstapel_20250101-20251231.csv" in names


def test_gdpdu_export_to_folder_and_zip(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, _tenant_id = tenant
    folder = tmp_path / "gdpdu"
    result = run(slug, "gdpdu", "export", "--year", "2025", "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert (folder / "index.xml").is_file() and (folder / "journal.csv").is_file()
    again = run(slug, "gdpdu", "export", "--year", "2025", "-o", str(folder))
    assert again.exit_code == 1 and "nicht leer" in again.stderr
    zipped = tmp_path / "gdpdu.zip"
    result = run(slug, "gdpdu", "export", "--year", "2025", "-o", str(zipped))
    assert result.exit_code == 0, result.output
    assert "index.xml" in zipfile.ZipFile(zipped).namelist()
    bad = run(slug, "gdpdu", "export", "--year", "1899", "-o", str(tmp_path / "y.zip"))
    assert bad.exit_code == 1 and "gibt es in den Büchern nicht" in bad.stderr
