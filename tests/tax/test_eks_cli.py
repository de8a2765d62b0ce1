"""`belegwerk eks …` against SQLite and PostgreSQL: outputs, bad input, nothing written."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from belegwerk.cli import app
from belegwerk.core.db import get_engine, system_session, tenant_session
from belegwerk.maintenance import upgrade_database
from belegwerk.tax.eks.models import EksDeclaration
from belegwerk.tenancy.service import CompanyData, create_tenant
from tests.tax.eks_scenario import book_scenario, final_mask

PERIOD = ["--from", "2026-01", "--to", "2026-06"]


@pytest.fixture
def tenant(cli_db: str) -> tuple[str, int]:
    upgrade_database()  # as every command does: migrations and the master categories
    with system_session(get_engine()) as s:
        t = create_tenant(
            s,
            CompanyData(name="Lindqvist Grafik", chart="skr04"),
            slug=f"eks-{uuid.uuid4().hex[:8]}",
        )
        slug, tenant_id = t.slug, t.id
    with tenant_session(tenant_id, get_engine()) as session:
        book_scenario(session, tenant_id)
    return slug, tenant_id


def eks(slug: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["eks", *args, "--tenant", slug], env={"COLUMNS": "250"})


def declarations(tenant_id: int) -> int:
    with tenant_session(tenant_id, get_engine()) as s:
        query = select(func.count(EksDeclaration.id)).where(EksDeclaration.tenant_id == tenant_id)
        return s.scalar(query) or 0


def test_json_output_with_saved_input(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, tenant_id = tenant
    mask = tmp_path / "eks.json"
    mask.write_text(json.dumps(final_mask()), "utf-8")
    result = eks(slug, *PERIOD, "--kind", "final", "--input", str(mask), "--json")
    assert result.exit_code == 0, result.output
    data: Any = json.loads(result.stdout)
    assert data["period"] == {"from": "2026-01", "to": "2026-06"}
    assert data["profit"] == "2139.20"
    b8 = next(r for r in data["tables"]["B2"] if r["line"] == "B8")
    assert b8["values"]["2026-03"] == "1200.00"
    assert data["input_source"] == "saved"
    assert declarations(tenant_id) == 1


def test_files_and_summary(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, _ = tenant
    pdf, csv, xlsx = tmp_path / "eks.pdf", tmp_path / "eks.csv", tmp_path / "eks.xlsx"
    result = eks(
        slug,
        *PERIOD,
        "--kind",
        "provisional",
        "--pdf",
        str(pdf),
        "--csv",
        str(csv),
        "--xlsx",
        str(xlsx),
    )
    assert result.exit_code == 0, result.output
    assert "Geschrieben" in result.stdout
    with pdfplumber.open(pdf) as doc:
        assert "Anlage EKS" in (doc.pages[0].extract_text() or "")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert xlsx.read_bytes()[:2] == b"PK"
    summary = eks(slug, "--from", "2026-01", "--to", "2026-06", "--kind", "final")
    assert summary.exit_code == 0, summary.output
    # nothing saved for the final declaration: the 15 € for private km are not deducted yet
    assert "Betriebseinnahmen" in summary.stdout and "2.124,20" in summary.stdout
    assert "Hinweis" in summary.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--from", "2026-01", "--to", "2027-06", "--kind", "final"], "eks.period_too_long"),
        (["--from", "2026-06", "--to", "2026-01", "--kind", "final"], "eks.period_reversed"),
        (["--from", "2026-13", "--to", "2026-06", "--kind", "final"], "eks.invalid_month"),
        (["--from", "2026-01", "--to", "2026-06", "--kind", "draft"], "eks.invalid_kind"),
    ],
)
def test_bad_periods(tenant: tuple[str, int], tmp_path: Path, args: list[str], code: str) -> None:
    slug, tenant_id = tenant
    target = tmp_path / "eks.pdf"
    result = eks(slug, *args, "--pdf", str(target))
    assert result.exit_code == 1
    assert code in result.stderr and "Fehler" in result.stderr
    assert not target.exists()
    assert declarations(tenant_id) == 0


def test_negative_km_writes_nothing(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, tenant_id = tenant
    mask = tmp_path / "eks.json"
    mask.write_text(json.dumps(final_mask() | {"km": {"2026-02": {"private": "-150"}}}), "utf-8")
    target = tmp_path / "eks.xlsx"
    result = eks(slug, *PERIOD, "--kind", "final", "--input", str(mask), "--xlsx", str(target))
    assert result.exit_code == 1
    assert "eks.negative_km" in result.stderr
    assert "Kilometer dürfen nicht negativ sein." in result.stderr
    assert "km.2026-02.private" in result.stderr
    assert not target.exists()
    assert declarations(tenant_id) == 0


def test_broken_input_file_and_missing_folder(tenant: tuple[str, int], tmp_path: Path) -> None:
    slug, tenant_id = tenant
    broken = tmp_path / "eks.json"
    broken.write_text('{"km": {\n  "2026-02": }', "utf-8")
    result = eks(slug, *PERIOD, "--kind", "final", "--input", str(broken), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "eks.input_not_json"
    assert "Zeile 2" in result.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps(final_mask()), "utf-8")
    missing = tmp_path / "nope" / "eks.pdf"
    result = eks(slug, *PERIOD, "--kind", "final", "--input", str(good), "--pdf", str(missing))
    assert result.exit_code == 1 and "eks.output_folder_missing" in result.stderr
    assert declarations(tenant_id) == 0
