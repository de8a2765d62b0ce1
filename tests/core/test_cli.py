from __future__ import annotations

from typer.testing import CliRunner

from belegwerk.cli import app
from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import get_engine, system_session, tenant_session
from belegwerk.tenancy.service import ensure_default_tenant, get_company


def test_init_non_interactive(cli_db: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "init",
            "--company",
            "Lena Schmidt Webdesign",
            "--vat-regime",
            "small_business",
            "--vat-accounting",
            "cash",
            "--ustva-period",
            "quarterly",
            "--chart",
            "skr04",
            "--activity",
            "freelance",
            "--advisor-number",
            "1234567",
            "--client-number",
            "12345",
        ],
    )
    assert result.exit_code == 0, result.output
    engine = get_engine()
    with system_session(engine) as s:
        tenant_id = ensure_default_tenant(s).id
    with tenant_session(tenant_id, engine) as s:
        company = get_company(s, tenant_id)
        assert company.name == "Lena Schmidt Webdesign"
        assert company.vat_regime == "small_business"
        assert company.chart == "skr04"
        assert company.advisor_number == "1234567"
        assert company.configured
        assert s.query(AuditEntry).filter_by(tenant_id=tenant_id, entity="company").count() >= 1


def test_init_rejects_bad_values(cli_db: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "init",
            "--company",
            "X",
            "--vat-regime",
            "standard",
            "--vat-accounting",
            "cash",
            "--ustva-period",
            "monthly",
            "--chart",
            "skr03",
            "--activity",
            "trade",
            "--advisor-number",
            "12345678",
        ],
    )
    assert result.exit_code == 2
    assert "company.invalid_advisor_number" in result.output


def test_init_without_terminal_reports_missing_option(cli_db: str) -> None:
    result = CliRunner().invoke(app, ["init", "--vat-regime", "standard"])
    assert result.exit_code == 2
    assert "Name des Unternehmens" in result.output


def test_demo_if_empty_stays_out_of_real_books(cli_db: str) -> None:
    runner = CliRunner()
    init = runner.invoke(
        app,
        [
            "init",
            "--company",
            "Echte Firma",
            "--vat-regime",
            "standard",
            "--vat-accounting",
            "accrual",
            "--ustva-period",
            "quarterly",
            "--chart",
            "skr03",
            "--activity",
            "trade",
        ],
    )
    assert init.exit_code == 0, init.output
    from belegwerk.demo import demo_loaded
    from belegwerk.tenancy.models import Tenant

    # The PostgreSQL run database is shared with the demo test, which may have run before.
    loaded_before = demo_loaded(get_engine())
    with system_session(get_engine()) as s:
        tenants_before = s.query(Tenant).count()
    result = runner.invoke(app, ["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert ("bereits geladen" if loaded_before else "keine Demo") in result.output
    with system_session(get_engine()) as s:
        assert s.query(Tenant).count() == tenants_before
