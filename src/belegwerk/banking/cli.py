"""`belegwerk bank …`: accounts, statement import, CSV templates.

Exit codes: 0 done, 1 the data cannot be used (the file cannot be imported, the account is
refused …; the German message goes to stderr), 2 wrong usage (Typer).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from belegwerk.banking.statement import MAX_FILE_BYTES, ParsedStatement, ParsedTransaction
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _

bank_app = typer.Typer(help="Bankkonten und Kontoauszüge.", no_args_is_help=True)
accounts_app = typer.Typer(help="Bank- und PayPal-Konten.", no_args_is_help=True)
templates_app = typer.Typer(help="CSV-Vorlagen der Banken.", no_args_is_help=True)
bank_app.add_typer(accounts_app, name="accounts")
bank_app.add_typer(templates_app, name="templates")

console = Console()
err_console = Console(stderr=True)

TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Mandant (Kürzel); Standard: der erste")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Ausgabe als JSON")]
PREVIEW_ROWS = 20
TYPE_LABELS = {"business": "geschäftlich", "mixed": "gemischt", "private": "privat"}


# --------------------------------------------------------------------------- helpers


def _fail(
    exc: BelegwerkError, *, as_json: bool = False, extra: dict[str, Any] | None = None
) -> NoReturn:
    """German message (and details) on stderr, exit 1; with --json also the error on stdout."""
    err_console.print(f"[red]Fehler[/red] {escape(exc.code)}: {escape(exc.message)}")
    for detail in exc.details[:50]:
        if "line" in detail and "message" in detail:  # the parsers' messages name the line
            err_console.print(f"  {escape(str(detail['message']))}")
        else:
            err_console.print(f"  {escape(str(detail))}")
    if len(exc.details) > 50:
        err_console.print(f"  … und {len(exc.details) - 50} weitere")
    if as_json:
        _print_json({**(extra or {}), **exc.to_dict()})
    raise typer.Exit(1)


def _print_json(data: dict[str, Any] | list[Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _tenant_id(slug: str | None) -> int:
    """Like ``belegwerk init``: the tenant named by --tenant, or the first one."""
    from belegwerk.core.db import get_engine, system_session
    from belegwerk.tenancy import service

    _upgrade()
    with system_session(get_engine()) as session:
        tenant = (
            service.get_tenant_by_slug(session, slug)
            if slug
            else service.ensure_default_tenant(session)
        )
        return tenant.id


@contextmanager
def _session(tenant_id: int) -> Iterator[Session]:
    from belegwerk.core.db import get_engine, tenant_session

    with tenant_session(tenant_id, get_engine()) as session:
        yield session


def _working(quiet: bool, message: str) -> AbstractContextManager[Any]:
    """A spinner while a long file is read and stored (not with --json)."""
    return nullcontext() if quiet else console.status(message)


def _upgrade() -> None:
    """Every command brings the database up to date first, as ``init`` does: a fresh install
    answers ``bank templates list`` instead of failing on a missing table."""
    from belegwerk.maintenance import upgrade_database

    upgrade_database()


def _read_file(path: Path) -> bytes:
    if not path.is_file():
        raise ValidationFailed(
            "bank.file_missing",
            _("The file {name} does not exist.").format(name=str(path)),
            [{"field": "file", "value": str(path)}],
        )
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(
            "bank.too_large",
            _("The file is too large; at most {limit} MB can be imported.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            ),
            [{"field": "file", "size": path.stat().st_size, "max": MAX_FILE_BYTES}],
        )
    return path.read_bytes()


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValidationFailed(
        "date.invalid",
        _("The date {value} is not valid (expected YYYY-MM-DD or DD.MM.YYYY).").format(value=value),
        [{"field": "opening_date", "value": value}],
    )


def _tx_json(t: ParsedTransaction) -> dict[str, Any]:
    return {
        "booking_date": t.booking_date.isoformat(),
        "value_date": t.value_date.isoformat() if t.value_date else None,
        "amount": str(t.amount),
        "currency": t.currency,
        "counterparty": t.counterparty_name,
        "counterparty_iban": t.counterparty_iban,
        "purpose": t.purpose,
    }


def _rows_table(transactions: list[ParsedTransaction], title: str) -> Table:
    table = Table(
        "Zeile", "Buchung", "Betrag", "Gegenseite", "IBAN", "Verwendungszweck", title=title
    )
    for t in transactions:
        table.add_row(
            str(t.line_no),
            t.booking_date.strftime("%d.%m.%Y"),
            f"{t.amount} {t.currency}",
            escape(t.counterparty_name[:40]),
            escape(t.counterparty_iban),
            escape(t.purpose[:60]),
        )
    return table


# --------------------------------------------------------------------------- accounts


@accounts_app.command("add")
def accounts_add(
    iban: Annotated[str, typer.Argument(help="IBAN (oder die E-Mail-Adresse eines PayPal-Kontos)")],
    account_type: Annotated[
        str, typer.Option("--type", help="business | mixed | private (privat: kein Import)")
    ],
    name: Annotated[str, typer.Option("--name", help="Bezeichnung")] = "",
    bic: Annotated[str, typer.Option("--bic", help="BIC (sonst aus der IBAN)")] = "",
    opening_balance: Annotated[
        str | None, typer.Option("--opening-balance", help="Anfangssaldo, z. B. 1234.56")
    ] = None,
    opening_date: Annotated[
        str | None, typer.Option("--opening-date", help="Datum des Anfangssaldos (JJJJ-MM-TT)")
    ] = None,
    ledger_account: Annotated[
        str, typer.Option("--ledger-account", help="Finanzkonto (sonst 1200/1800)")
    ] = "",
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bankkonto anlegen (PayPal: E-Mail-Adresse statt IBAN)."""
    from belegwerk.banking import accounts

    _upgrade()
    identity = iban.strip()
    paypal = "@" in identity
    try:
        data = accounts.AccountData(
            iban="" if paypal else identity,
            email=identity if paypal else "",
            kind="paypal" if paypal else "bank",
            account_type=account_type,
            name=name,
            bic=bic,
            opening_balance=(opening_balance or "0").replace(",", "."),
            opening_date=_parse_date(opening_date),
            ledger_account=ledger_account,
        )
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            account = accounts.create_account(session, tenant_id, data)
            out = _account_json(session, tenant_id, account)
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        _print_json(out)
        return
    console.print(
        f"Konto angelegt: [bold]{escape(out['name'])}[/bold] "
        f"({escape(out['iban'] or out['email'])}, {TYPE_LABELS[out['account_type']]}, "
        f"Finanzkonto {out['posting_account']})"
    )


def _account_json(session: Session, tenant_id: int, account: Any) -> dict[str, Any]:
    from belegwerk.banking.accounts import ledger_account

    return {
        "id": account.id,
        "kind": account.kind,
        "name": account.name,
        "iban": account.iban,
        "bic": account.bic,
        "bank_name": account.bank_name,
        "email": account.email,
        "account_type": account.account_type,
        "currency": account.currency,
        "opening_balance": str(account.opening_balance),
        "opening_date": account.opening_date.isoformat() if account.opening_date else None,
        "posting_account": ledger_account(session, tenant_id, account),
    }


@accounts_app.command("list")
def accounts_list(tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """Konten auflisten."""
    from belegwerk.banking import accounts

    try:
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            rows = [
                _account_json(session, tenant_id, a)
                for a in accounts.list_accounts(session, tenant_id)
            ]
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    if as_json:
        _print_json(rows)
        return
    table = Table("ID", "Name", "IBAN / E-Mail", "Bank", "Art", "Anfangssaldo", "Finanzkonto")
    for r in rows:
        table.add_row(
            str(r["id"]),
            escape(r["name"]),
            escape(r["iban"] or r["email"]),
            escape(r["bank_name"]),
            TYPE_LABELS.get(r["account_type"], r["account_type"]),
            f"{r['opening_balance']} {r['currency']}",
            r["posting_account"],
        )
    console.print(
        table
        if rows
        else "Noch keine Konten. Anlegen mit: belegwerk bank accounts add IBAN --type business"
    )


# --------------------------------------------------------------------------- import


def _summary(
    statement: ParsedStatement, imported: int, duplicates: int, *, dry_run: bool
) -> dict[str, Any]:
    rejected = [{"line": r.line, "message": r.message} for r in statement.rejected]
    return {
        "template": statement.template_key,
        "template_name": statement.template_name,
        "format": statement.format,
        "score": str(statement.score),
        "rows": len(statement.transactions) + len(rejected),
        "imported": imported,
        "duplicates": duplicates,
        "rejected": rejected,
        "skipped": statement.skipped,
        "dry_run": dry_run,
        "batch_id": None,
        "same_file": False,
        "transactions": [_tx_json(t) for t in statement.transactions] if dry_run else [],
    }


@bank_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV, MT940 (.sta/.mta/.txt) oder CAMT (.xml/.zip)")],
    account: Annotated[
        str | None,
        typer.Option("--account", help="IBAN (oder PayPal-E-Mail) eines angelegten Kontos"),
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", help="Vorlage erzwingen (Schlüssel)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="nur lesen und zeigen, nichts speichern")
    ] = False,
    accept_rejected: Annotated[
        bool,
        typer.Option(
            "--accept-rejected", help="unlesbare Zeilen auslassen und den Rest importieren"
        ),
    ] = False,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Kontoauszug importieren, ohne Duplikate (Exit-Code 1: nicht importierbar)."""
    from belegwerk.banking import accounts, importer

    if not dry_run and not account:
        _fail(
            ValidationFailed(
                "bank.account_required",
                _("Name the account with --account IBAN (or use --dry-run)."),
                [{"field": "account"}],
            ),
            as_json=as_json,
        )
    statement: ParsedStatement | None = None
    try:
        content = _read_file(file)
        if not dry_run:
            _upgrade()
        tenant_id = _tenant_id(tenant)
        with _working(as_json, "Lese und importiere …"), _session(tenant_id) as session:
            statement = importer.preview(
                content,
                file.name,
                user_templates=importer.user_templates(session, tenant_id),
                template_key=template,
            )
            target = accounts.find_account(session, tenant_id, account) if account else None
            if dry_run:
                imported, duplicates = len(statement.transactions), 0
                if target is not None:
                    importer.check_importable(target, statement)
                    plan = importer.plan_import(session, tenant_id, target.id, statement)
                    imported, duplicates = len(plan.new), plan.duplicates
                result = _summary(statement, imported, duplicates, dry_run=True)
            else:
                assert target is not None
                batch = importer.import_statement(
                    session,
                    tenant_id,
                    target.id,
                    statement,
                    content,
                    file.name,
                    actor="cli",
                    accept_rejected=accept_rejected,
                )
                result = _summary(statement, batch.imported, batch.duplicates, dry_run=False)
                result["batch_id"] = batch.id
                result["same_file"] = importer.same_file_imported(
                    session, tenant_id, target.id, batch.file_sha256, before_id=batch.id
                )
    except BelegwerkError as exc:
        extra = _summary(statement, 0, 0, dry_run=dry_run) if statement is not None else None
        _fail(exc, as_json=as_json, extra=extra)
    if as_json:
        _print_json(result)
        return
    _print_summary(result, statement)


def _print_summary(result: dict[str, Any], statement: ParsedStatement | None) -> None:
    table = Table(
        show_header=False, title="Probelauf (nichts gespeichert)" if result["dry_run"] else "Import"
    )
    table.add_row("Bank / Format", escape(f"{result['template_name']} ({result['format']})"))
    table.add_row("Erkennung", f"{Decimal(result['score']) * 100:.0f} %")
    table.add_row("Zeilen", str(result["rows"]))
    table.add_row("neu" if result["dry_run"] else "importiert", str(result["imported"]))
    table.add_row("Duplikate", str(result["duplicates"]))
    table.add_row("abgelehnt", str(len(result["rejected"])))
    if result["skipped"]:
        table.add_row("ausgelassen (vorgemerkt, Summen)", str(result["skipped"]))
    if result["same_file"]:
        table.add_row("Hinweis", "Diese Datei wurde schon einmal importiert.")
    console.print(table)
    for r in result["rejected"][:50]:
        console.print(f"  [yellow]abgelehnt:[/yellow] {escape(r['message'])}")
    if result["dry_run"] and statement is not None:
        console.print(
            _rows_table(statement.head(PREVIEW_ROWS), "Erste Zeilen, wie sie gespeichert werden")
        )


# --------------------------------------------------------------------------- templates


@templates_app.command("list")
def templates_list(tenant: TenantOpt = None, as_json: JsonOpt = False) -> None:
    """System- und eigene Vorlagen mit Schlüssel und Name."""
    from belegwerk.banking.csv_template import list_system_templates
    from belegwerk.banking.importer import user_templates

    try:
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            own = user_templates(session, tenant_id)
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    rows = [{"key": t.key, "name": t.name, "bank": t.bank, "source": "user"} for t in own] + [
        {"key": t.key, "name": t.name, "bank": t.bank, "source": "system"}
        for t in list_system_templates()
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table("Schlüssel", "Name", "Bank", "Herkunft")
    for r in rows:
        table.add_row(
            r["key"],
            escape(r["name"]),
            escape(r["bank"]),
            "eigene" if r["source"] == "user" else "System",
        )
    console.print(table)
    console.print(
        "Außerdem ohne Vorlage: MT940/MT942 (.sta, .mta) und CAMT.052/053/054 (.xml, .zip)."
    )


@templates_app.command("test")
def templates_test(
    file: Annotated[Path, typer.Argument(help="die Datei der Bank")],
    template: Annotated[
        str | None, typer.Option("--template", help="nur diese Vorlage prüfen")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Welche Vorlagen passen (mit Punktzahl), und die ersten Zeilen, wie sie gespeichert würden."""
    from belegwerk.banking import importer

    try:
        content = _read_file(file)
        tenant_id = _tenant_id(tenant)
        with _session(tenant_id) as session:
            own = importer.user_templates(session, tenant_id)
        statement = importer.preview(content, file.name, user_templates=own, template_key=template)
    except BelegwerkError as exc:
        _fail(exc, as_json=as_json)
    result = {
        "format": statement.format,
        "template": statement.template_key,
        "template_name": statement.template_name,
        "score": str(statement.score),
        "ambiguous": statement.ambiguous,
        "account_iban": statement.account_iban,
        "candidates": [
            {"key": c.key, "name": c.name, "score": str(c.score)} for c in statement.candidates
        ],
        "rows": len(statement.transactions),
        "rejected": [{"line": r.line, "message": r.message} for r in statement.rejected],
        "skipped": statement.skipped,
        "transactions": [_tx_json(t) for t in statement.head(PREVIEW_ROWS)],
    }
    if as_json:
        _print_json(result)
        return
    table = Table("Vorlage", "Name", "Punktzahl", title="Passende Vorlagen")
    for c in statement.candidates or []:
        marker = " ←" if c.key == statement.template_key else ""
        table.add_row(escape(c.key) + marker, escape(c.name), f"{c.score * 100:.0f} %")
    if statement.candidates:
        console.print(table)
    console.print(
        f"Erkannt: [bold]{escape(statement.template_name)}[/bold] ({statement.format}), "
        f"{len(statement.transactions)} Buchungen, {len(statement.rejected)} abgelehnt, "
        f"{statement.skipped} ausgelassen"
    )
    if statement.ambiguous:
        console.print(
            "[yellow]Mehrere Vorlagen passen gleich gut – bitte mit --template wählen.[/yellow]"
        )
    for r in statement.rejected[:50]:
        console.print(f"  [yellow]abgelehnt:[/yellow] {escape(r.message)}")
    console.print(
        _rows_table(statement.head(PREVIEW_ROWS), "Erste Zeilen, wie sie gespeichert würden")
    )
