"""`belegwerk datev …`, `belegwerk agenda export`, `belegwerk gdpdu export`.

Exit codes: 0 done, 1 the export or import was refused (German message on stderr; nothing was
written), 3 warnings wait for ``--confirm``, 2 wrong usage (Typer).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from belegwerk.banking.cli import (
    TenantOpt,
    _fail,
    _read_file,
    _session,
    _tenant_id,
    console,
    err_console,
)
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.exports.period import parse_day
from belegwerk.exports.service import ExportFile, Finding, PeriodExport

datev_app = typer.Typer(
    help="DATEV: Buchungsstapel exportieren und importieren.", no_args_is_help=True
)
agenda_app = typer.Typer(help="AGENDA: Buchungsstapel mit Belegen.", no_args_is_help=True)
gdpdu_app = typer.Typer(help="GDPdU-Export für die Betriebsprüfung.", no_args_is_help=True)

FromOpt = Annotated[str, typer.Option("--from", help="erster Tag (JJJJ-MM-TT)")]
ToOpt = Annotated[str, typer.Option("--to", help="letzter Tag (JJJJ-MM-TT)")]
ConfirmOpt = Annotated[
    bool, typer.Option("--confirm", help="Warnungen gelesen: trotzdem exportieren")
]
WARNINGS_EXIT = 3


def _show_findings(findings: list[Finding]) -> None:
    for f in findings:
        colour = "red" if f.level == "error" else "yellow"
        label = "Fehler" if f.level == "error" else "Warnung"
        count = f" ({f.count}×)" if f.count > 1 else ""
        err_console.print(f"[{colour}]{label}[/{colour}] {escape(f.message)}{count}")


def _refused(exc: BelegwerkError) -> NoReturn:
    """Checks that failed: every finding, then exit 1 (errors) or 3 (warnings to confirm)."""
    if exc.code in ("export.checks_failed", "export.warnings_unconfirmed"):
        findings = [
            Finding(d["level"], d["code"], d["message"], d.get("count", 1))
            for d in exc.details
            if isinstance(d, dict) and "level" in d
        ]
        _show_findings(findings)
        if exc.code == "export.warnings_unconfirmed":
            err_console.print(
                "Nichts exportiert. Mit [bold]--confirm[/bold] bestätigen Sie die Warnungen."
            )
            raise typer.Exit(WARNINGS_EXIT)
        err_console.print("Nichts exportiert.")
        raise typer.Exit(1)
    _fail(exc)


def _write(path: Path, export: ExportFile) -> None:
    if path.is_dir():
        path = path / export.file_name
    if not path.parent.is_dir():
        raise ValidationFailed(
            "export.folder_missing",
            _("The folder {folder} does not exist.").format(folder=str(path.parent)),
            [{"field": "output", "value": str(path)}],
        )
    path.write_bytes(export.content)
    warnings = [f for f in export.findings if f.level == "warning"]
    if warnings:
        _show_findings(warnings)
    console.print(
        f"{export.records} Datensätze nach [bold]{escape(str(path))}[/bold] geschrieben "
        f"(Protokoll-Nr. {export.log_id})."
    )


def _period_command(
    export: PeriodExport,
    start: str,
    end: str,
    output: Path,
    confirm: bool,
    tenant: str | None,
    after: Callable[[Session, int], None] | None = None,
) -> None:
    """Run a period export and write its file; refused exports write nothing."""
    try:
        first, last = parse_day(start, "from"), parse_day(end, "to")
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            _write(output, export(session, tenant_id, first, last, confirm_warnings=confirm))
            if after is not None:
                after(session, tenant_id)
    except BelegwerkError as exc:
        _refused(exc)


@datev_app.command("export")
def datev_export(
    start: FromOpt,
    end: ToOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="Datei (EXTF_….csv) oder Ordner")],
    parties: Annotated[
        Path | None,
        typer.Option("--debitors-creditors", help="zusätzlich Debitoren/Kreditoren in diese Datei"),
    ] = None,
    confirm: ConfirmOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Buchungsstapel (EXTF 700, Version 13) eines Zeitraums innerhalb eines Wirtschaftsjahres."""
    from belegwerk.exports.datev_export import export_datev
    from belegwerk.exports.datev_parties import export_parties

    def also(session: Session, tenant_id: int) -> None:
        if parties is not None:
            _write(parties, export_parties(session, tenant_id))

    _period_command(export_datev, start, end, output, confirm, tenant, also)


@datev_app.command("import")
def datev_import(
    file: Annotated[Path, typer.Argument(help="DATEV-Buchungsstapel (EXTF_….csv)")],
    tenant: TenantOpt = None,
) -> None:
    """Buchungsstapel eines anderen Programms in das Journal übernehmen (alles oder nichts)."""
    from belegwerk.exports.datev_import import import_file

    try:
        content = _read_file(file)
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            result = import_file(session, tenant_id, content, file.name)
            batch_id = result.batch.id
    except BelegwerkError as exc:
        _fail(exc)
    for warning in result.warnings:
        err_console.print(f"[yellow]Hinweis[/yellow] {escape(str(warning['message']))}")
    console.print(
        f"{result.imported} Buchungen importiert (Import {batch_id}); "
        f"{len(result.uncategorised)} ohne Kategorie."
    )


@agenda_app.command("export")
def agenda_export(
    start: FromOpt,
    end: ToOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="ZIP-Datei oder Ordner")],
    confirm: ConfirmOpt = False,
    tenant: TenantOpt = None,
) -> None:
    """Buchungsstapel und Belege (PDF und XML je Rechnung) als ZIP für AGENDA."""
    from belegwerk.exports.agenda import export_agenda

    _period_command(export_agenda, start, end, output, confirm, tenant)


@gdpdu_app.command("export")
def gdpdu_export(
    year: Annotated[int, typer.Option("--year", help="Wirtschaftsjahr (das Jahr seines Beginns)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Ordner oder ….zip")],
    tenant: TenantOpt = None,
) -> None:
    """Datenüberlassung (Z3) mit index.xml nach dem Beschreibungsstandard."""
    from belegwerk.exports.gdpdu import export_gdpdu, write_folder

    as_zip = output.suffix.lower() == ".zip"
    try:
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            export, delivery = export_gdpdu(session, tenant_id, year, as_zip=as_zip)
            if as_zip:
                _write(output, export)
            else:
                write_folder(delivery, output)
                table = Table("Datei", "Bytes", title=f"GDPdU {year} in {output}")
                for name, content in delivery.files.items():
                    table.add_row(name, str(len(content)))
                console.print(table)
                console.print(f"Protokoll-Nr. {export.log_id}")
    except BelegwerkError as exc:
        _fail(exc)
