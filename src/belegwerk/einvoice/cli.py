"""`belegwerk einvoice …`: validate e-invoices (XML or PDF) from the command line.

Exit codes of ``validate``: 0 no file has errors (under the chosen strictness nothing blocks),
1 some file has errors (strict: or warnings), 2 some file cannot be read at all.
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
    help="E-Rechnungen (XRechnung, ZUGFeRD, Factur-X) prüfen.", no_args_is_help=True
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
