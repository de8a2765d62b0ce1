"""`belegwerk eks --from 2026-01 --to 2026-06 --kind provisional|final [...]`.

Exit codes: 0 done; 1 the input cannot be used (German message on stderr, nothing written: no
entries saved, no file created); 2 wrong usage (Typer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from belegwerk.banking.cli import JsonOpt, TenantOpt, _fail, _print_json, _session, _tenant_id
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _, format_money

eks_app = typer.Typer(
    help="Anlage EKS für das Jobcenter (Einkommen aus selbständiger Tätigkeit).",
    invoke_without_command=True,
)
console = Console()
INPUT_MAX_BYTES = 1024 * 1024


def _read_input(path: Path) -> Any:
    if not path.is_file():
        raise ValidationFailed(
            "eks.input_missing",
            _("The file {name} does not exist.").format(name=str(path)),
            [{"field": "input", "value": str(path)}],
        )
    if path.stat().st_size > INPUT_MAX_BYTES:
        raise ValidationFailed(
            "eks.input_too_large",
            _("The input file is larger than 1 MB."),
            [{"field": "input", "size": path.stat().st_size}],
        )
    try:
        return json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise ValidationFailed(
            "eks.input_not_json",
            _("The input file is not valid JSON (line {line}).").format(line=line or 1),
            [{"field": "input", "line": line or 1}],
        ) from None


def _check_target(path: Path | None, option: str) -> None:
    """Refuse an output path whose folder does not exist before anything is saved."""
    if path is not None and not path.resolve().parent.is_dir():
        raise ValidationFailed(
            "eks.output_folder_missing",
            _("The folder for {name} does not exist.").format(name=str(path)),
            [{"field": option, "value": str(path)}],
        )


def _summary(report: Any) -> None:
    months = report.months
    table = Table(
        "Zeile",
        "Bezeichnung",
        *[f"{m:%m.%Y}" for m in months],
        "Summe",
        title=f"Anlage EKS {report.period.start:%m.%Y}–{report.period.end:%m.%Y} "
        f"({'vorläufig' if report.kind == 'provisional' else 'abschließend'})",
    )
    for line in report.form.lines:
        row = report.tables.row(line.code)
        if line.is_figure and not any(row.values):
            continue
        label = line.label_de if len(line.label_de) <= 45 else line.label_de[:44] + "…"
        style = "bold" if not line.is_figure else ""
        table.add_row(
            line.number,
            escape(label),
            *[format_money(v, currency=False) for v in row.values],
            format_money(row.total, currency=False),
            style=style,
        )
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]Hinweis[/yellow] {escape(warning.message)}")


@eks_app.callback()
def eks(
    start: Annotated[str, typer.Option("--from", help="erster Monat (JJJJ-MM)")],
    end: Annotated[str, typer.Option("--to", help="letzter Monat (JJJJ-MM), höchstens 12 Monate")],
    kind: Annotated[str, typer.Option("--kind", help="provisional (vorläufig) | final")],
    as_json: JsonOpt = False,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="ausgefülltes Formular als PDF")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Tabellen als CSV")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Tabellen als Excel-Datei")] = None,
    input_file: Annotated[
        Path | None,
        typer.Option("--input", help="Eingaben (JSON wie GET /api/v1/tax/eks/input) speichern"),
    ] = None,
    tenant: TenantOpt = None,
) -> None:
    """Anlage EKS aus der Buchführung: Tabellen A, B und C, Gewinn, Hinweise."""
    from belegwerk.tax.eks import exports, inputs
    from belegwerk.tax.eks.form import form_for
    from belegwerk.tax.eks.pdf import render_pdf
    from belegwerk.tax.eks.period import parse_kind, parse_period
    from belegwerk.tax.eks.service import build_report

    try:
        period, kind = parse_period(start, end), parse_kind(kind)
        for path, option in ((pdf, "pdf"), (csv_file, "csv"), (xlsx, "xlsx")):
            _check_target(path, option)
        raw = _read_input(input_file) if input_file else None
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            if raw is not None:
                form = form_for(period.start)
                mask = inputs.parse_mask(form, period, raw)
                inputs.save_mask(session, tenant_id, period, kind, mask, form, "cli")
            report = build_report(session, tenant_id, period, kind)
            files: list[tuple[Path, bytes]] = []
            if pdf:
                files.append((pdf, render_pdf(report)))
            if csv_file:
                files.append((csv_file, exports.to_csv(report)))
            if xlsx:
                files.append((xlsx, exports.to_xlsx(report)))
            data = exports.to_json(report) if as_json else None
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    for path, content in files:
        path.write_bytes(content)
        if not as_json:
            console.print(f"Geschrieben: {escape(str(path))}")
    if data is not None:
        _print_json(data)
    elif not files:
        _summary(report)
