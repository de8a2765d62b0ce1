"""`belegwerk euer …`: the Anlage EÜR of a year and the asset register.

``belegwerk euer --year 2026 [--json | --pdf FILE | --csv FILE | --xlsx FILE]`` prints or writes
the EÜR; ``belegwerk euer line --year 2026 --kz 112`` opens one line; ``belegwerk euer assets …``
keeps the register. Exit codes: 0 done, 1 the data is refused (German message on stderr),
2 wrong usage.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from belegwerk.banking.cli import _fail, _print_json, _session, _tenant_id
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import format_date, format_money

if TYPE_CHECKING:
    from belegwerk.tax.euer import EuerReport

euer_app = typer.Typer(
    help="Anlage EÜR und Anlagenverzeichnis.",
    invoke_without_command=True,
)
assets_app = typer.Typer(help="Anlagenverzeichnis (AfA, GWG, Sammelposten).", no_args_is_help=True)
euer_app.add_typer(assets_app, name="assets")
console = Console()

TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Mandant (Kürzel); Standard: der erste")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Ausgabe als JSON")]


@euer_app.callback()
def euer(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option("--year", help="Jahr, z. B. 2026")] = None,
    as_json: JsonOpt = False,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="PDF in diese Datei")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV in diese Datei")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Excel in diese Datei")] = None,
    tenant: TenantOpt = None,
) -> None:
    """Anlage EÜR eines Jahres anzeigen oder als JSON, PDF, CSV oder Excel ausgeben."""
    if ctx.invoked_subcommand is not None:
        return
    if year is None:
        console.print(ctx.get_help())
        raise typer.Exit(2)
    from belegwerk.tax import assets
    from belegwerk.tax.euer import euer_report
    from belegwerk.tax.euer_export import csv_bytes, pdf_bytes, report_dict, xlsx_bytes

    tenant_id = _tenant_id(tenant)
    try:
        with _session(tenant_id) as session:
            report = euer_report(session, tenant_id, year)
            rows = assets.register(session, tenant_id, report.year) if pdf or xlsx else []
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    written = []
    if pdf is not None:
        pdf.write_bytes(pdf_bytes(report, rows))
        written.append(pdf)
    if xlsx is not None:
        xlsx.write_bytes(xlsx_bytes(report, rows))
        written.append(xlsx)
    if csv_file is not None:
        csv_file.write_bytes(csv_bytes(report))
        written.append(csv_file)
    if as_json:
        _print_json(report_dict(report))
        return
    if written:
        for path in written:
            console.print(f"{escape(str(path))} geschrieben.")
        return
    _print_report(report)


def _print_report(report: EuerReport) -> None:
    table = Table("Zeile", "Kz", "ELSTER", "Bezeichnung", "Betrag", title=report.title)
    for line in report.filled():
        label = line.label if len(line.label) <= 70 else line.label[:69] + "…"
        style = "bold" if line.is_sum else None
        table.add_row(
            str(line.zeile or ""),
            line.kz,
            line.field,
            escape(label),
            format_money(line.amount),
            style=style,
        )
    console.print(table)
    for notice in report.notices:
        colour = "yellow" if notice.level == "warning" else "cyan"
        console.print(f"[{colour}]•[/{colour}] {escape(notice.message)}")


@euer_app.command("line")
def line(
    year: Annotated[int, typer.Option("--year")],
    kz: Annotated[str, typer.Option("--kz", help="Kennzahl, z. B. 112")],
    as_json: JsonOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Die Buchungen, Zahlungen und Anlagegüter hinter einer Kennzahl."""
    from belegwerk.tax.euer import line_detail

    tenant_id = _tenant_id(tenant)
    try:
        with _session(tenant_id) as session:
            detail = line_detail(session, tenant_id, year, kz)
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        _print_json(
            {
                "kz": detail.line.kz,
                "amount": str(detail.line.amount),
                "rows": [asdict(r) for r in detail.rows],
                "assets": [asdict(a) for a in detail.assets],
                "parts": {p.kz: str(p.amount) for p in detail.parts},
                "note": detail.note,
            }
        )
        return
    table = Table("Datum", "Beleg", "Text", "Kategorie", "Betrag", title=f"Kz {detail.line.kz}")
    for row in detail.rows:
        table.add_row(
            format_date(row.flow_date),
            escape(row.voucher),
            escape(row.text),
            escape(row.category),
            format_money(row.amount),
        )
    for asset in detail.assets:
        table.add_row("", "", escape(asset.name), "Anlagenverzeichnis", format_money(asset.amount))
    for part in detail.parts:
        table.add_row("", f"Kz {part.kz}", escape(part.label), "", format_money(part.amount))
    console.print(table)
    if detail.note:
        console.print(escape(detail.note))


# --------------------------------------------------------------------------- assets


@assets_app.command("list")
def list_assets(
    year: Annotated[int | None, typer.Option("--year")] = None,
    as_json: JsonOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Das Anlagenverzeichnis eines Jahres mit der AfA des Jahres."""
    from belegwerk.core.dates import today
    from belegwerk.tax import assets

    tenant_id = _tenant_id(tenant)
    try:
        with _session(tenant_id) as session:
            rows = assets.register(session, tenant_id, year or today().year)
            data = [
                {
                    "id": r.asset.id,
                    "name": r.asset.name,
                    "acquisition_date": r.asset.acquisition_date,
                    "net_cost": r.asset.net_cost,
                    "method": r.method,
                    "useful_life_months": r.asset.useful_life_months,
                    **asdict(r.year),
                }
                for r in rows
            ]
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        _print_json(data)
        return
    table = Table("Nr.", "Wirtschaftsgut", "Angeschafft", "AK", "Methode", "AfA", "Buchwert Ende")
    for item in data:
        table.add_row(
            str(item["id"]),
            escape(str(item["name"])),
            format_date(item["acquisition_date"]),
            format_money(item["net_cost"]),
            str(item["method"]),
            format_money(item["afa"]),
            format_money(item["closing"]),
        )
    console.print(table)


@assets_app.command("add")
def add_asset(
    name: str,
    acquired: Annotated[str, typer.Option("--date", help="Anschaffungsdatum JJJJ-MM-TT")],
    cost: Annotated[str, typer.Option("--cost", help="Anschaffungskosten netto")],
    asset_type: Annotated[str, typer.Option("--type", help="z. B. computer, car")] = "",
    months: Annotated[int | None, typer.Option("--months")] = None,
    years: Annotated[int | None, typer.Option("--years")] = None,
    treatment: Annotated[str, typer.Option("--treatment", help="auto | linear | digital")] = "auto",
    posting: Annotated[
        int | None, typer.Option("--posting", help="Buchung der Investition")
    ] = None,
    as_json: JsonOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Ein Wirtschaftsgut ins Anlagenverzeichnis aufnehmen."""
    from belegwerk.tax import assets
    from belegwerk.web.ui import parse_date

    tenant_id = _tenant_id(tenant)
    try:
        day = parse_date(acquired, "acquisition_date")
        assert day is not None
        with _session(tenant_id) as session:
            created = assets.create_asset(
                session,
                tenant_id,
                assets.AssetInput(
                    name=name,
                    acquisition_date=day,
                    net_cost=cost,
                    useful_life_months=months if months is not None else (years or 0) * 12 or None,
                    asset_type=asset_type,
                    treatment=treatment,
                    posting_id=posting,
                ),
                actor="cli",
            )
            asset_id = created.asset.id
            warnings = [w.message for w in created.warnings]
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        _print_json({"id": asset_id, "warnings": warnings})
        return
    console.print(f"Wirtschaftsgut Nr. {asset_id} aufgenommen.")
    for message in warnings:
        console.print(f"[yellow]Hinweis:[/yellow] {escape(message)}")


@assets_app.command("dispose")
def dispose(
    asset_id: int,
    kind: Annotated[str, typer.Option("--kind", help="sale | withdrawal | scrapped | void")],
    day: Annotated[str, typer.Option("--date", help="Datum des Abgangs")],
    proceeds: Annotated[str, typer.Option("--proceeds", help="Erlös/Teilwert netto")] = "0",
    reason: Annotated[str, typer.Option("--reason")] = "",
    tenant: TenantOpt = None,
) -> None:
    """Abgang: Verkauf, Entnahme, Verschrottung oder Storno einer falschen Erfassung."""
    from belegwerk.tax import assets
    from belegwerk.web.ui import parse_date

    tenant_id = _tenant_id(tenant)
    try:
        when = parse_date(day, "disposal_date")
        assert when is not None
        with _session(tenant_id) as session:
            assets.dispose_asset(
                session, tenant_id, asset_id, kind, when, proceeds, reason, actor="cli"
            )
    except BelegwerkError as exc:
        _fail(exc)
    console.print(f"Abgang von Nr. {asset_id} erfasst.")


@assets_app.command("pool")
def pool(
    year: int,
    pooled: Annotated[bool, typer.Option("--on/--off", help="Sammelposten für das Jahr")] = True,
    tenant: TenantOpt = None,
) -> None:
    """Sammelposten (§ 6 Abs. 2a EStG) für alle Wirtschaftsgüter eines Jahres wählen."""
    from belegwerk.tax import assets

    tenant_id = _tenant_id(tenant)
    try:
        with _session(tenant_id) as session:
            assets.set_pool_choice(session, tenant_id, year, pooled, actor="cli")
    except BelegwerkError as exc:
        _fail(exc)
    console.print(f"Sammelposten {year}: {'ja' if pooled else 'nein'}.")


@assets_app.command("offers")
def offers(as_json: JsonOpt = False, tenant: TenantOpt = None) -> None:
    """Als Investition gebuchte Anschaffungen, die noch nicht im Verzeichnis stehen."""
    from belegwerk.tax import assets

    tenant_id = _tenant_id(tenant)
    with _session(tenant_id) as session:
        found = assets.offers(session, tenant_id)
    if as_json:
        _print_json([asdict(o) for o in found])
        return
    table = Table("Buchung", "Datum", "Beleg", "Text", "Netto")
    for o in found:
        table.add_row(
            str(o.posting_id),
            format_date(o.posting_date),
            escape(o.voucher),
            escape(o.text),
            format_money(o.net_amount),
        )
    console.print(table)
