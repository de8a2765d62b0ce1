"""CLI: ``belegwerk ustva`` and ``belegwerk tax …`` (deadlines, monitor, filing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from belegwerk.banking.cli import (
    JsonOpt,
    TenantOpt,
    _fail,
    _print_json,
    _session,
    _tenant_id,
    console,
)
from belegwerk.core.errors import BelegwerkError

tax_app = typer.Typer(
    help="Steuer: Fristen, Kleinunternehmer-Monitor, UStVA abgeben.", no_args_is_help=True
)

PeriodOpt = Annotated[str, typer.Option("--period", help="Monat 2026-03 oder Quartal 2026-Q1")]
KzOpt = Annotated[
    list[str] | None,
    typer.Option("--kz", help="Eingetragene Kennzahl, z. B. --kz 62=123.45 (62, 64, 59, 65, 69)"),
]


def _manual(values: list[str] | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in values or []:
        kz, _, amount = item.partition("=")
        out[kz.strip()] = amount.strip()
    return out


def ustva(
    period: PeriodOpt,
    as_json: JsonOpt = False,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="PDF in diese Datei schreiben")] = None,
    elster_xml: Annotated[
        Path | None, typer.Option("--elster-xml", help="Mein-ELSTER-Upload-XML schreiben")
    ] = None,
    kz: KzOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """Umsatzsteuer-Voranmeldung eines Monats oder Quartals."""
    from belegwerk.tax import elster_xml as xml
    from belegwerk.tax import ustva_pdf
    from belegwerk.tax.periods import parse_period
    from belegwerk.tax.ustva import compute, describe, parse_manual
    from belegwerk.tenancy.service import get_company

    try:
        parsed = parse_period(period)
        manual = parse_manual(_manual(kz))
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            result = compute(session, tenant_id, parsed, manual=manual)
            company = get_company(session, tenant_id)
            if elster_xml is not None:
                elster_xml.write_bytes(xml.build(result, company))
            if pdf is not None:
                pdf.write_bytes(ustva_pdf.render(result, company))
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        data = result.as_json()
        _print_json(
            {
                "period": data["period"],
                "boxes": data["boxes"],
                "warnings": [c["message"] for c in data["warnings"]],
                "errors": [c["message"] for c in data["errors"]],
            }
        )
    else:
        table = Table(title=f"UStVA {parsed.label()}")
        for col in ("Kz", "Bezeichnung", "Wert", "Steuer"):
            table.add_column(col, justify="right" if col in ("Wert", "Steuer") else "left")
        for row in describe(result):
            table.add_row(*row)
        console.print(table)
        for check in result.checks:
            style, word = ("red", "Fehler") if check.level == "error" else ("yellow", "Hinweis")
            console.print(f"[{style}]{word}:[/{style}] {check.message}")
    if result.errors:
        raise typer.Exit(1)


@tax_app.command("file")
def file_ustva(
    period: PeriodOpt,
    confirm: Annotated[
        bool, typer.Option("--confirm-warnings", help="Hinweise bestätigen")
    ] = False,
    kz: KzOpt = None,
    tenant: TenantOpt = None,
) -> None:
    """UStVA als abgegeben markieren (eine zweite Abgabe ist eine berichtigte Anmeldung)."""
    from belegwerk.tax import filings
    from belegwerk.tax.periods import parse_period
    from belegwerk.tax.ustva import parse_manual

    try:
        parsed = parse_period(period)
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            row = filings.mark_filed(
                session,
                tenant_id,
                parsed,
                confirm_warnings=confirm,
                manual=parse_manual(_manual(kz)),
                actor="cli",
            )
            corrected = row.corrected
    except BelegwerkError as exc:
        _fail(exc)
    suffix = " (berichtigt, Kz 10)" if corrected else ""
    console.print(f"UStVA {parsed.label()} als abgegeben vermerkt{suffix}.")


@tax_app.command("special-prepayment")
def special_prepayment(
    year: Annotated[int, typer.Option("--year")],
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Festgesetzter Betrag; leer = 1/11 aus den Büchern"),
    ] = None,
    tenant: TenantOpt = None,
) -> None:
    """Sondervorauszahlung eines Jahres (Dauerfristverlängerung) erfassen."""
    from belegwerk.tax import filings

    try:
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            row = filings.record_special_prepayment(session, tenant_id, year, amount, actor="cli")
            value = row.amount
    except BelegwerkError as exc:
        _fail(exc)
    console.print(f"Sondervorauszahlung {year}: {value} EUR")


@tax_app.command("deadlines")
def deadlines(
    year: Annotated[int | None, typer.Option("--year")] = None,
    as_json: JsonOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Steuerfristen eines Jahres (verschoben auf den nächsten Werktag)."""
    from belegwerk.core.dates import today
    from belegwerk.tax import deadlines as dl

    try:
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            items = dl.calendar(session, tenant_id, year or today().year)
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        _print_json(
            [
                {"due": d.due, "kind": d.kind, "label": d.label, "period": d.period, "done": d.done}
                for d in items
            ]
        )
        return
    table = Table(title="Fristen")
    for col in ("Fällig", "Was", "Erledigt"):
        table.add_column(col)
    for d in items:
        table.add_row(
            d.due.strftime("%d.%m.%Y"),
            d.label,
            "ja" if d.done else ("überfällig" if d.overdue else ""),
        )
    console.print(table)


@tax_app.command("monitor")
def monitor(
    year: Annotated[int | None, typer.Option("--year")] = None,
    as_json: JsonOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Kleinunternehmer-Monitor: Umsatz des Jahres gegen die Grenzen des § 19 UStG."""
    from belegwerk.tax.monitor import small_business_monitor

    try:
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            m = small_business_monitor(session, tenant_id, year)
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    data = {
        "year": m.year,
        "turnover": m.turnover,
        "prior_year_turnover": m.prior_year_turnover,
        "limit_prior_year": m.limit_prior,
        "limit_current_year": m.limit_current,
        "status": m.status,
        "crossing": m.crossing.__dict__ if m.crossing else None,
    }
    if as_json:
        _print_json(data)
        return
    console.print(
        f"Umsatz {m.year}: {m.turnover} EUR von {m.limit_current} EUR "
        f"(Vorjahr {m.prior_year_turnover} von {m.limit_prior}) – {m.status}"
    )
    if m.crossing:
        c = m.crossing
        console.print(
            f"Grenze überschritten am {c.day:%d.%m.%Y} durch {c.voucher} ({c.amount} EUR)"
        )
