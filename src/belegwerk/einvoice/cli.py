"""`belegwerk einvoice …`: validate e-invoices (XML or PDF), write them out of the books.

Exit codes of ``validate``: 0 no file has errors (under the chosen strictness nothing blocks),
1 some file has errors (strict: or warnings), 2 some file cannot be read at all. ``write``
exits 1 when the invoice cannot be written (German message on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.einvoice.carrier import MAX_FILE_BYTES, too_large
from belegwerk.einvoice.findings import Strictness, Verdict
from belegwerk.einvoice.output import report_dict, summary_lines
from belegwerk.einvoice.validate import Report, validate_file

einvoice_app = typer.Typer(
    help="E-Rechnungen (XRechnung, ZUGFeRD, Factur-X) prüfen und schreiben.", no_args_is_help=True
)
console = Console(highlight=False)


@einvoice_app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(help="XML- oder PDF-Dateien")],
    as_json: Annotated[bool, typer.Option("--json", help="Ausgabe als JSON-Liste")] = False,
    strictness: Annotated[
        Strictness,
        typer.Option(help="strict: Warnungen blockieren; standard: Fehler; flexible: nichts"),
    ] = Strictness.STANDARD,
) -> None:
    """Prüfen wie die offiziellen Validatoren: Format, Profil, XML-Schema, Geschäftsregeln."""
    reports = [_validate_path(path, strictness) for path in files]
    if as_json:
        data = [report_dict(r) for r in reports]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        for report in reports:
            for line in summary_lines(report):
                console.print(escape(line), soft_wrap=True)
        readable = [r for r in reports if r.readable]
        total = _("{files} files: {valid} valid, {invalid} invalid, {unreadable} not readable.")
        console.print(
            total.format(
                files=len(reports),
                valid=sum(r.verdict.valid for r in readable),
                invalid=sum(not r.verdict.valid for r in readable),
                unreadable=len(reports) - len(readable),
            ),
            soft_wrap=True,
        )
    if any(not r.readable for r in reports):
        raise typer.Exit(2)
    if any(not r.verdict.accepted for r in reports):
        raise typer.Exit(1)


def _validate_path(path: Path, strictness: Strictness) -> Report:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:  # refused before it is read into memory
            return Report(name, Verdict(strictness=strictness), error=too_large(name, size))
        content = path.read_bytes()
    except OSError as exc:
        error = ValidationFailed(
            "einvoice.file_unreadable",
            _("The file {name} cannot be opened: {reason}").format(
                name=name, reason=exc.strerror or exc
            ),
            [{"file": name}],
        )
        return Report(name, Verdict(strictness=strictness), error=error)
    return validate_file(content, name, strictness)


@einvoice_app.command("write")
def write(
    invoice: Annotated[str, typer.Argument(help="Rechnungsnummer (RE-2026-00001) oder Id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Zieldatei")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="xrechnung-ubl, xrechnung-cii oder zugferd"),
    ] = "xrechnung-ubl",
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Mandant (Kürzel); Standard: der erste")
    ] = None,
) -> None:
    """E-Rechnung einer gebuchten Ausgangsrechnung schreiben (geprüft und archiviert)."""
    from belegwerk.banking.cli import _fail, _session, _tenant_id
    from belegwerk.core.errors import BelegwerkError
    from belegwerk.einvoice.write.service import (
        invoice_by_reference,
        parse_target,
        write_einvoice,
    )

    try:
        target = parse_target(fmt)
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            found = invoice_by_reference(session, tenant_id, invoice)
            written = write_einvoice(session, tenant_id, found.id, target, actor="cli")
            output.write_bytes(written.content)  # a failure here leaves nothing archived
    except BelegwerkError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(
            ValidationFailed(
                "einvoice.output_unwritable",
                _("The file {name} cannot be written: {reason}").format(
                    name=str(output), reason=exc.strerror or exc
                ),
                [{"field": "output", "value": str(output)}],
            )
        )
    state = _("from the archive") if written.archived_before else _("written and archived")
    console.print(
        escape(
            _("{file}: {name} ({state}, SHA-256 {sha})").format(
                file=str(output), name=written.file_name, state=state, sha=written.sha256[:16]
            )
        ),
        soft_wrap=True,
    )
