"""The `belegwerk` command."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from belegwerk.banking.cli import bank_app
from belegwerk.core.errors import BelegwerkError
from belegwerk.einvoice.cli import einvoice_app
from belegwerk.tax.cli import tax_app, ustva
from belegwerk.tax.eks.cli import eks_app

app = typer.Typer(
    help="Belegwerk – Buchhaltung, Kassenbuch und Steuer für Selbstständige.", no_args_is_help=True
)
db_app = typer.Typer(help="Datenbank verwalten.", no_args_is_help=True)
audit_app = typer.Typer(help="Prüfprotokoll (Audit-Log).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(bank_app, name="bank")
app.add_typer(einvoice_app, name="einvoice")
app.add_typer(tax_app, name="tax")
app.command("ustva")(ustva)
app.add_typer(eks_app, name="eks")
console = Console()
err_console = Console(stderr=True)


def _fail(exc: BelegwerkError) -> None:
    err_console.print(f"[red]Fehler[/red] {escape(exc.code)}: {escape(exc.message)}")
    for detail in exc.details:
        err_console.print(f"  {escape(str(detail))}")
    raise typer.Exit(2)


def _upgrade() -> None:
    from belegwerk.maintenance import upgrade_database

    upgrade_database()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrationen anwenden (Alembic) und Stammkategorien abgleichen."""
    _upgrade()
    console.print("Datenbank ist aktuell.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse (Standard 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (Standard 8000)")] = None,
    no_upgrade: Annotated[
        bool, typer.Option("--no-upgrade", help="Migrationen nicht anwenden")
    ] = False,
) -> None:
    """Web-Oberfläche und REST-API starten."""
    import uvicorn

    from belegwerk.core.settings import get_settings
    from belegwerk.web.app import create_app

    settings = get_settings()
    if not no_upgrade:
        _upgrade()
    bind = host or settings.host
    if bind not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"[yellow]Achtung:[/yellow] {escape(bind)} ist von anderen Rechnern erreichbar, "
            "und Belegwerk hat noch keine Anmeldung – nur in einem vertrauenswürdigen Netz "
            "oder hinter einem Reverse-Proxy mit Anmeldung betreiben."
        )
    console.print(f"Belegwerk läuft auf http://{bind}:{port or settings.port}")
    uvicorn.run(create_app(), host=bind, port=port or settings.port, log_level="warning")


def _ask(
    value: Any, prompt: str, choices: list[str] | None = None, default: str | None = None
) -> Any:
    if value is not None:
        return value
    if not sys.stdin.isatty():
        if default is not None:
            return default
        err_console.print(f"[red]Fehlende Angabe:[/red] {prompt}")
        raise typer.Exit(2)
    import rich.prompt

    return rich.prompt.Prompt.ask(prompt, choices=choices, default=default)


@app.command()
def init(
    company: Annotated[str | None, typer.Option(help="Name des Unternehmens")] = None,
    vat_regime: Annotated[str | None, typer.Option(help="standard | small_business")] = None,
    vat_accounting: Annotated[str | None, typer.Option(help="cash (Ist) | accrual (Soll)")] = None,
    ustva_period: Annotated[str | None, typer.Option(help="monthly | quarterly | yearly")] = None,
    chart: Annotated[
        str | None, typer.Option(help="skr03 | skr04 (Vorschlag aus Tätigkeit)")
    ] = None,
    activity: Annotated[str | None, typer.Option(help="freelance | trade | mixed")] = None,
    advisor_number: Annotated[str, typer.Option(help="DATEV-Beraternummer (bis 7 Ziffern)")] = "",
    client_number: Annotated[str, typer.Option(help="DATEV-Mandantennummer (bis 5 Ziffern)")] = "",
    filing_extension: Annotated[bool, typer.Option(help="Dauerfristverlängerung")] = False,
    tenant: Annotated[
        str | None, typer.Option(help="Mandant (Kürzel); Standard: der erste")
    ] = None,
) -> None:
    """Unternehmen einrichten (ohne Rückfragen, wenn alle Optionen angegeben sind)."""
    from belegwerk.core.db import get_engine, system_session
    from belegwerk.tenancy import service
    from belegwerk.tenancy.validation import suggested_chart

    company = _ask(company, "Name des Unternehmens")
    vat_regime = _ask(vat_regime, "Besteuerung", ["standard", "small_business"], "standard")
    vat_accounting = _ask(vat_accounting, "Versteuerung", ["cash", "accrual"], "accrual")
    ustva_period = _ask(
        ustva_period, "UStVA-Zeitraum", ["monthly", "quarterly", "yearly"], "quarterly"
    )
    activity = _ask(activity, "Tätigkeit", ["freelance", "trade", "mixed"], "freelance")
    chart = _ask(chart, "Kontenrahmen", ["skr03", "skr04"], suggested_chart(activity))
    _upgrade()
    changes = dict(
        name=company,
        vat_regime=vat_regime,
        vat_accounting=vat_accounting,
        ustva_period=ustva_period,
        activity=activity,
        chart=chart,
        advisor_number=advisor_number,
        client_number=client_number,
        filing_extension=filing_extension,
    )
    try:
        with system_session(get_engine()) as session:
            t = (
                service.get_tenant_by_slug(session, tenant)
                if tenant
                else service.ensure_default_tenant(session)
            )
            session.info["tenant_id"] = t.id
            service._set_pg_tenant(session, t.id)
            service.update_company(session, t.id, changes)
            slug = t.slug
    except BelegwerkError as exc:
        _fail(exc)
    console.print(f"Unternehmen [bold]{company}[/bold] eingerichtet (Mandant {slug}).")


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="nur laden, wenn noch nichts gebucht ist")
    ] = False,
    seed: Annotated[
        int, typer.Option(help="Zufallsstartwert (gleiche Daten bei gleichem Wert)")
    ] = 2026,
) -> None:
    """Demo laden: Kleinunternehmerin (Freiberuflerin) und GmbH, je zwei Jahre Buchungen."""
    import time

    from belegwerk import demo as demo_data
    from belegwerk.core.db import get_engine

    _upgrade()
    engine = get_engine()
    if demo_data.demo_loaded(engine):
        console.print("Demo ist bereits geladen.")
        return
    if if_empty and demo_data.has_business_data(engine):
        console.print("Es gibt schon eine eingerichtete Firma oder Buchungen – keine Demo.")
        return
    started = time.perf_counter()
    with console.status("Lade Demo-Daten …"):
        try:
            demo_data.load_demo(engine, seed=seed)
        except BelegwerkError as exc:
            _fail(exc)
    console.print(
        f"Demo geladen in {time.perf_counter() - started:.1f} s: "
        f"{demo_data.FREELANCER_SLUG} (Kleinunternehmerin, SKR04) und "
        f"{demo_data.GMBH_SLUG} (GmbH, SKR03)."
    )


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="nur diesen Mandanten prüfen")] = None,
) -> None:
    """Hash-Kette des Prüfprotokolls prüfen; Exit-Code 1 bei Manipulation."""
    from belegwerk.core.audit import verify_chain
    from belegwerk.core.db import get_engine, system_session, tenant_session
    from belegwerk.tenancy.service import list_tenants

    engine = get_engine()
    with system_session(engine) as session:
        tenants = [(t.id, t.slug) for t in list_tenants(session)]
    if tenant:
        tenants = [t for t in tenants if t[1] == tenant]
    broken = False
    table = Table("Mandant", "Ergebnis")
    for tenant_id, slug in tenants:
        with tenant_session(tenant_id, engine) as session:
            problems = verify_chain(session, tenant_id)
        if problems:
            broken = True
            for p in problems:
                table.add_row(slug, f"[red]Zeile id={p.entry_id} (seq {p.seq}): {p.reason}[/red]")
        else:
            table.add_row(slug, "[green]intakt[/green]")
    console.print(table)
    if broken:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
