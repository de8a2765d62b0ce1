"""GDPdU / Beschreibungsstandard export (Datenüberlassung Z3, § 147 Abs. 6 AO) of a fiscal year.

A folder or ZIP with ``index.xml`` and one CSV file per table: company master data, accounts,
categories, business partners, the journal, invoices with lines and tax totals, the cash book
with its daily closings, bank accounts and bank transactions. ``index.xml`` follows the
Beschreibungsstandard's DTD ``gdpdu-01-08-2002.dtd`` (referenced by name; the file itself is
published by the tax administration and belongs next to ``index.xml`` for the auditor).

Format choices, made for the auditors' import software (IDEA, Audicon), whose known
limitations kivitendo documents in ``SL/GoBD.pm``: Windows-1252 (``<ANSI/>``), ``;`` between
columns, CR LF between records, text in double quotes, decimal comma, dates ``DD.MM.YYYY``,
account numbers as text (leading zeros stay), one line of column names (skipped through
``<Range><From>2``). Text values carry no line breaks, quotes, semicolons or ``!`` and at most
512 characters. Every table's description names the SHA-256 of its file, so the checksum of
``index.xml`` (in the export log) covers the whole delivery.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from sqlalchemy import BigInteger, and_, select, type_coerce
from sqlalchemy.orm import Session

from belegwerk import __version__
from belegwerk.banking.accounts import ledger_account
from belegwerk.banking.importer import gc_paused
from belegwerk.banking.models import BankAccount, BankTransaction, Classification
from belegwerk.books import accounts as chart_accounts
from belegwerk.books.categories import list_categories
from belegwerk.books.models import (
    CashBook,
    CashEntry,
    DailyClosing,
    Invoice,
    InvoiceLine,
    InvoiceTaxTotal,
    Party,
    Posting,
)
from belegwerk.core.documents import sha256_of
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.exports.chart import chart_context
from belegwerk.exports.datev_format import ENCODING, cp1252_text
from belegwerk.exports.period import Period, fiscal_year
from belegwerk.exports.service import ExportFile, record_export
from belegwerk.tenancy.service import get_company

DTD = "gdpdu-01-08-2002.dtd"
DATE_FORMAT = "DD.MM.YYYY"
MAX_TEXT = 512
Kind = Literal["text", "flag", "stamp", "int", "cents", "amount", "scaled4", "date"]
_UNSAFE = str.maketrans({"\r": " ", "\n": " ", "\t": " ", '"': "'", ";": ",", "!": "."})


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    description: str = ""


@dataclass
class Table:
    url: str
    name: str
    description: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]]
    primary_key: int = 0  # how many leading columns form the primary key
    foreign_keys: Sequence[tuple[str, str]] = ()  # (column, referenced table)
    dated: bool = False  # transactions of the period (Validity) rather than master data


def _text(value: Any) -> str:
    text = cp1252_text(str(value)).translate(_UNSAFE).strip()
    return '"' + text[:MAX_TEXT] + '"'


def _fixed(value: int, places: int) -> str:
    """An integer count of hundredths (or ten-thousandths) with a decimal comma: 123456 with
    two places is ``1234,56`` (string slicing: this runs for every amount of the year)."""
    if value < 0:
        return "-" + _fixed(-value, places)
    digits = str(value).rjust(places + 1, "0")
    return digits[:-places] + "," + digits[-places:]


def _formatter(kind: Kind) -> Callable[[Any], str]:
    """How one column's values are written; chosen once per column, not per value."""
    if kind == "text":
        seen: dict[Any, str] = {}

        def text(value: Any) -> str:
            if value is None or value == "":
                return '""'
            out = seen.get(value)
            if out is None:
                out = _text(value)
                if len(seen) < 10_000:  # repeated values (keys, accounts) written once
                    seen[value] = out
            return out

        return text
    formatters: dict[str, Callable[[Any], str]] = {
        "flag": lambda v: '"ja"' if v else '"nein"',
        "stamp": lambda v: _text(v.isoformat(timespec="seconds")),
        "date": lambda v: f"{v.day:02d}.{v.month:02d}.{v.year:04d}",
        "int": lambda v: str(int(v)),
        "cents": lambda v: _fixed(int(v), 2),
        "scaled4": lambda v: _fixed(int(v), 4),
        "amount": lambda v: _fixed(int((Decimal(v) * 100).to_integral_value(ROUND_HALF_UP)), 2),
    }
    write = formatters[kind]
    empty = '""' if kind in ("flag", "stamp") else ""
    return lambda v: empty if v is None or v == "" else write(v)


def render_table(table: Table) -> bytes:
    writers = [_formatter(c.kind) for c in table.columns]
    lines = [";".join(_text(c.name) for c in table.columns)]
    for row in table.rows:
        lines.append(";".join([w(v) for w, v in zip(writers, row, strict=True)]))
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING, "belegwerk-cp1252")


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _column(parent: etree._Element, tag: str, column: Column) -> None:
    element = _sub(parent, tag)
    _sub(element, "Name", column.name)
    if column.description:
        _sub(element, "Description", column.description)
    if column.kind in ("text", "flag", "stamp"):
        _sub(element, "AlphaNumeric")
    elif column.kind == "date":
        _sub(_sub(element, "Date"), "Format", DATE_FORMAT)
    else:
        numeric = _sub(element, "Numeric")
        if column.kind != "int":
            _sub(numeric, "Accuracy", "4" if column.kind == "scaled4" else "2")


def index_xml(
    tables: Sequence[tuple[Table, bytes]], supplier: tuple[str, str, str], period: Period
) -> bytes:
    """``index.xml`` describing every table, valid against the Beschreibungsstandard's DTD."""
    root = etree.Element("DataSet")
    _sub(root, "Version", "1.0")
    data_supplier = _sub(root, "DataSupplier")
    for tag, text in zip(("Name", "Location", "Comment"), supplier, strict=True):
        _sub(data_supplier, tag, text)
    media = _sub(root, "Media")
    _sub(media, "Name", f"Belegwerk GDPdU {period.start:%d.%m.%Y}-{period.end:%d.%m.%Y}")
    for table, content in tables:
        element = _sub(media, "Table")
        _sub(element, "URL", table.url)
        _sub(element, "Name", table.name)
        _sub(element, "Description", f"{table.description} (SHA-256: {sha256_of(content)})")
        if table.dated:
            validity = _sub(element, "Validity")
            span = _sub(validity, "Range")
            _sub(span, "From", period.start.strftime("%d.%m.%Y"))
            _sub(span, "To", period.end.strftime("%d.%m.%Y"))
            _sub(validity, "Format", DATE_FORMAT)
        _sub(element, "ANSI")
        _sub(element, "DecimalSymbol", ",")
        _sub(element, "DigitGroupingSymbol", ".")
        _sub(_sub(element, "Range"), "From", "2")
        variable = _sub(element, "VariableLength")
        _sub(variable, "ColumnDelimiter", ";")
        _sub(variable, "RecordDelimiter", "\r\n")
        _sub(variable, "TextEncapsulator", '"')
        for n, column in enumerate(table.columns):
            _column(
                variable,
                "VariablePrimaryKey" if n < table.primary_key else "VariableColumn",
                column,
            )
        for key, references in table.foreign_keys:
            foreign = _sub(variable, "ForeignKey")
            _sub(foreign, "Name", key)
            _sub(foreign, "References", references)
    xml: bytes = etree.tostring(
        root,
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
        doctype=f'<!DOCTYPE DataSet SYSTEM "{DTD}">',
    )
    return xml


# --------------------------------------------------------------------------- tables

_KINDS: dict[str, Kind] = {
    "": "text",
    "b": "flag",
    "t": "stamp",
    "n": "int",
    "c": "cents",
    "a": "amount",
    "q": "scaled4",
    "d": "date",
}


def _int(column: Any) -> Any:
    """Money, rates and scaled numbers as the stored integers (cents, basis points, 1/10000):
    exact and much faster to write than Decimals."""
    return type_coerce(column, BigInteger)


def _columns(*spec: str) -> list[Column]:
    """``"Betrag:c"``: a column name and its kind: text (none), b yes/no, t time stamp, n whole
    number, c hundredths stored as integer (money in cents, rates in basis points), a Decimal
    amount, q ten-thousandths as integer (quantities, unit prices), d date."""
    out = []
    for item in spec:
        name, _sep, kind = item.partition(":")
        out.append(Column(name, _KINDS[kind]))
    return out


def _company_table(session: Session, tenant_id: int) -> Table:
    c = get_company(session, tenant_id)
    book = session.scalar(select(CashBook).where(CashBook.tenant_id == tenant_id))
    return Table(
        "unternehmen.csv",
        "Unternehmen",
        "Stammdaten des Unternehmens",
        _columns(
            "Name",
            "Strasse",
            "PLZ",
            "Ort",
            "Land",
            "Steuernummer",
            "USt-IdNr",
            "Besteuerung",
            "Versteuerung",
            "Taetigkeit",
            "Kontenrahmen",
            "WJ-Beginn Monat:n",
            "DATEV-Beraternummer",
            "DATEV-Mandantennummer",
            "Kassenanfangsbestand:a",
            "Kassenanfangsbestand Datum:d",
        ),
        [
            (
                c.name,
                c.street,
                c.postal_code,
                c.city,
                c.country,
                c.tax_number,
                c.vat_id,
                c.vat_regime,
                c.vat_accounting,
                c.activity,
                c.chart.upper(),
                c.fiscal_year_start_month,
                c.advisor_number,
                c.client_number,
                book.opening_balance if book else None,
                book.opening_date if book else None,
            )
        ],
    )


def _account_tables(session: Session, tenant_id: int, period: Period) -> tuple[Table, Table]:
    company = get_company(session, tenant_id)
    ctx = chart_context(session, tenant_id, company.chart)
    views = list_categories(session, tenant_id)
    names: dict[str, tuple[str, str]] = {}
    for role, label in (
        ("cash", "Kasse"),
        ("bank", "Bank"),
        ("transit", "Geldtransit"),
        ("receivables", "Forderungen aus Lieferungen und Leistungen"),
        ("payables", "Verbindlichkeiten aus Lieferungen und Leistungen"),
        ("input_vat_7", "Vorsteuer 7 %"),
        ("input_vat_19", "Vorsteuer 19 %"),
        ("output_vat_7", "Umsatzsteuer 7 %"),
        ("output_vat_19", "Umsatzsteuer 19 %"),
    ):
        names[chart_accounts.account(company.chart, role)] = (label, "Geld-/Steuerkonto")
    for bank in session.scalars(select(BankAccount).where(BankAccount.tenant_id == tenant_id)):
        names.setdefault(ledger_account(session, tenant_id, bank), (bank.name, "Finanzkonto"))
    for view in views:
        if view.account:
            names.setdefault(view.account, (view.category.name_de, "Kategorie"))
    used = session.execute(
        select(Posting.debit_account, Posting.credit_account).where(
            Posting.tenant_id == tenant_id, Posting.posting_date.between(period.start, period.end)
        )
    ).all()
    for debit, credit in used:
        for account in (debit, credit):
            names.setdefault(account, ("", "unbekannt" if not ctx.known(account) else "sonstiges"))
    accounts_table = Table(
        "konten.csv",
        "Konten",
        f"Sachkonten ({company.chart.upper()}) der Kategorien, Geld- und Steuerkonten",
        _columns("Konto", "Bezeichnung", "Art"),
        [(number, label, kind) for number, (label, kind) in sorted(names.items())],
        primary_key=1,
    )
    categories = Table(
        "kategorien.csv",
        "Kategorien",
        "Kategorien (Buchungstexte) mit Konten, EÜR-Kennzahl, EKS-Zeile und Umsatzsteuer",
        _columns(
            "Schluessel",
            "Bezeichnung",
            "Art",
            "Konto SKR03",
            "Konto SKR04",
            "Konto",
            "EUER-Kennzahl",
            "EKS-Zeile",
            "USt-Satz:a",
            "Vorsteuerabzug:b",
        ),
        [
            (
                v.category.key,
                v.category.name_de,
                v.category.kind,
                v.effective_skr03,
                v.effective_skr04,
                v.account,
                v.category.euer_kz,
                v.category.eks_line,
                v.category.default_vat_rate,
                v.category.input_vat_deductible,
            )
            for v in views
        ],
        primary_key=1,
    )
    return accounts_table, categories


def _parties_table(session: Session, tenant_id: int) -> Table:
    rows = session.execute(
        select(
            Party.id,
            Party.name,
            Party.is_customer,
            Party.is_supplier,
            Party.customer_number,
            Party.supplier_number,
            Party.street,
            Party.postal_code,
            Party.city,
            Party.country,
            Party.vat_id,
            Party.iban,
            Party.bic,
        )
        .where(Party.tenant_id == tenant_id)
        .order_by(Party.id)
    ).all()
    return Table(
        "partner.csv",
        "Geschaeftspartner",
        "Kunden und Lieferanten (Kundennummer = Debitor, Lieferantennummer = Kreditor)",
        _columns(
            "Partner-ID:n",
            "Name",
            "Kunde:b",
            "Lieferant:b",
            "Kundennummer:n",
            "Lieferantennummer:n",
            "Strasse",
            "PLZ",
            "Ort",
            "Land",
            "USt-IdNr",
            "IBAN",
            "BIC",
        ),
        [tuple(r) for r in rows],
        primary_key=1,
    )


def _journal_table(session: Session, tenant_id: int, period: Period) -> Table:
    keys = {c.category.id: c.category.key for c in list_categories(session, tenant_id)}
    p = Posting
    rows = session.execute(
        select(
            p.id,
            p.posting_date,
            p.debit_account,
            p.credit_account,
            _int(p.amount),
            _int(p.net_amount),
            _int(p.tax_amount),
            _int(p.tax_rate),
            p.tax_account,
            p.tax_key,
            p.voucher,
            p.text,
            p.category_id,
            p.source_type,
            p.source_id,
            p.reverses_id,
            p.created_at,
            p.vat_treatment,
            p.self_assessed,
        )
        .where(p.tenant_id == tenant_id, p.posting_date.between(period.start, period.end))
        .order_by(p.posting_date, p.id)
    ).all()
    return Table(
        "journal.csv",
        "Buchungsjournal",
        "Alle Buchungen (Soll an Haben, Bruttobetrag mit Netto/Steuer); Stornos verweisen auf "
        "die stornierte Buchung; USt-Behandlung entscheidet die UStVA-Kennzahlen, selbst "
        "geschuldete Steuer (§ 13b, innergemeinschaftlicher Erwerb) ist eine eigene Buchung",
        _columns(
            "Buchungs-ID:n",
            "Buchungsdatum:d",
            "Sollkonto",
            "Habenkonto",
            "Betrag brutto:c",
            "Netto:c",
            "Steuer:c",
            "Steuersatz:c",
            "Steuerkonto",
            "BU-Schluessel",
            "Belegnummer",
            "Buchungstext",
            "Kategorie",
            "Herkunft",
            "Herkunft-ID:n",
            "Storno von:n",
            "Erfasst am:t",
            "USt-Behandlung",
            "Selbst geschuldete Steuer:b",
        ),
        [(*r[:12], keys.get(r[12]), *r[13:]) for r in rows],
        primary_key=1,
        foreign_keys=(("Kategorie", "Kategorien"), ("Sollkonto", "Konten")),
        dated=True,
    )


def _invoice_tables(session: Session, tenant_id: int, period: Period) -> list[Table]:
    keys = {c.category.id: c.category.key for c in list_categories(session, tenant_id)}
    i, ln, t = Invoice, InvoiceLine, InvoiceTaxTotal
    in_year = and_(
        i.tenant_id == tenant_id,
        i.status == "booked",
        i.issue_date.between(period.start, period.end),
    )
    ids = select(i.id).where(in_year)
    direction = {"out": "Ausgang", "in": "Eingang"}
    kind = {"invoice": "Rechnung", "reversal": "Storno"}
    invoices = session.execute(
        select(
            i.id,
            i.number,
            i.direction,
            i.kind,
            i.issue_date,
            i.supply_date,
            i.due_date,
            i.party_id,
            i.external_number,
            _int(i.net_total),
            _int(i.vat_total),
            _int(i.gross_total),
            i.small_business,
            i.reverses_id,
            i.reversal_reason,
            i.replaces_id,
            i.booked_at,
        )
        .where(in_year)
        .order_by(i.issue_date, i.id)
    ).all()
    lines = session.execute(
        select(
            ln.id,
            ln.invoice_id,
            ln.position,
            ln.description,
            _int(ln.quantity),
            ln.unit,
            _int(ln.unit_price),
            _int(ln.vat_rate),
            ln.category_id,
            _int(ln.net),
            _int(ln.vat),
            _int(ln.gross),
        )
        .where(ln.tenant_id == tenant_id, ln.invoice_id.in_(ids))
        .order_by(ln.invoice_id, ln.position)
    ).all()
    totals = session.execute(
        select(t.id, t.invoice_id, _int(t.vat_rate), _int(t.net), _int(t.vat), _int(t.gross))
        .where(t.tenant_id == tenant_id, t.invoice_id.in_(ids))
        .order_by(t.invoice_id, t.vat_rate)
    ).all()
    return [
        Table(
            "rechnungen.csv",
            "Rechnungen",
            "Gebuchte Ausgangs- und Eingangsrechnungen mit Stornorechnungen",
            _columns(
                "Rechnungs-ID:n",
                "Nummer",
                "Richtung",
                "Art",
                "Rechnungsdatum:d",
                "Leistungsdatum:d",
                "Faelligkeit:d",
                "Partner-ID:n",
                "Fremdbelegnummer",
                "Netto:c",
                "USt:c",
                "Brutto:c",
                "Kleinunternehmer:b",
                "Storno von:n",
                "Storno-Grund",
                "Ersetzt:n",
                "Gebucht am:t",
            ),
            [(r[0], r[1], direction[r[2]], kind.get(r[3], r[3]), *r[4:]) for r in invoices],
            primary_key=1,
            foreign_keys=(("Partner-ID", "Geschaeftspartner"),),
            dated=True,
        ),
        Table(
            "rechnungspositionen.csv",
            "Rechnungspositionen",
            "Positionen der Rechnungen",
            _columns(
                "Positions-ID:n",
                "Rechnungs-ID:n",
                "Position:n",
                "Beschreibung",
                "Menge:q",
                "Einheit",
                "Einzelpreis:q",
                "USt-Satz:c",
                "Kategorie",
                "Netto:c",
                "USt:c",
                "Brutto:c",
            ),
            [(*r[:8], keys.get(r[8]), *r[9:]) for r in lines],
            primary_key=1,
            foreign_keys=(("Rechnungs-ID", "Rechnungen"),),
            dated=True,
        ),
        Table(
            "rechnungssteuern.csv",
            "Rechnungssteuern",
            "Summen je Steuersatz der Rechnungen (Umsatzsteuer je Satz gerundet)",
            _columns("ID:n", "Rechnungs-ID:n", "USt-Satz:c", "Netto:c", "USt:c", "Brutto:c"),
            [tuple(r) for r in totals],
            primary_key=1,
            foreign_keys=(("Rechnungs-ID", "Rechnungen"),),
            dated=True,
        ),
    ]


def _cash_tables(session: Session, tenant_id: int, period: Period) -> list[Table]:
    keys = {c.category.id: c.category.key for c in list_categories(session, tenant_id)}
    e, c = CashEntry, DailyClosing
    entries = session.execute(
        select(
            e.id,
            e.voucher_number,
            e.entry_date,
            e.description,
            e.category_id,
            e.payment_method,
            e.direction,
            _int(e.net),
            _int(e.vat_rate),
            _int(e.vat),
            _int(e.gross),
            e.input_vat_deductible,
            e.reverses_id,
            e.reversal_reason,
            e.invoice_id,
            e.created_at,
            e.created_by,
        )
        .where(e.tenant_id == tenant_id, e.entry_date.between(period.start, period.end))
        .order_by(e.entry_date, e.voucher_number)
    ).all()
    closings = session.execute(
        select(
            c.closing_date,
            _int(c.expected),
            _int(c.counted),
            _int(c.difference),
            c.counts,
            c.reason,
            c.treatment,
            c.signature,
            c.prev_signature,
            c.created_at,
        )
        .where(c.tenant_id == tenant_id, c.closing_date.between(period.start, period.end))
        .order_by(c.closing_date)
    ).all()
    direction = {"income": "Einnahme", "expense": "Ausgabe"}
    return [
        Table(
            "kassenbuch.csv",
            "Kassenbuch",
            "Einträge des Kassenbuchs mit lückenlosen Belegnummern; Stornos verweisen auf den "
            "stornierten Eintrag",
            _columns(
                "Eintrags-ID:n",
                "Belegnummer:n",
                "Datum:d",
                "Beschreibung",
                "Kategorie",
                "Zahlungsart",
                "Richtung",
                "Netto:c",
                "USt-Satz:c",
                "USt:c",
                "Brutto:c",
                "Vorsteuerabzug:b",
                "Storno von:n",
                "Storno-Grund",
                "Rechnungs-ID:n",
                "Erfasst am:t",
                "Erfasst von",
            ),
            [(*r[:4], keys.get(r[4]), r[5], direction[r[6]], *r[7:]) for r in entries],
            primary_key=1,
            foreign_keys=(("Kategorie", "Kategorien"),),
            dated=True,
        ),
        Table(
            "kassenabschluesse.csv",
            "Kassenabschluesse",
            "Tagesabschlüsse mit Soll- und Ist-Bestand, Zählprotokoll und Signatur",
            _columns(
                "Datum:d",
                "Soll-Bestand:c",
                "Ist-Bestand:c",
                "Differenz:c",
                "Zaehlprotokoll",
                "Grund",
                "Behandlung",
                "Signatur",
                "Vorherige Signatur",
                "Erfasst am:t",
            ),
            [tuple(r) for r in closings],
            primary_key=1,
            dated=True,
        ),
    ]


def _bank_tables(session: Session, tenant_id: int, period: Period) -> list[Table]:
    keys = {c.category.id: c.category.key for c in list_categories(session, tenant_id)}
    banks = session.scalars(
        select(BankAccount).where(BankAccount.tenant_id == tenant_id).order_by(BankAccount.id)
    ).all()
    tx = BankTransaction
    lines = session.execute(
        select(
            tx.id,
            tx.account_id,
            tx.booking_date,
            tx.value_date,
            _int(tx.amount),
            tx.currency,
            tx.counterparty_name,
            tx.counterparty_iban,
            tx.purpose,
            tx.booking_text,
            tx.end_to_end_ref,
            tx.mandate_ref,
            tx.creditor_id,
            Classification.usage,
            Classification.category_id,
            Classification.confirmed,
        )
        .outerjoin(Classification, Classification.transaction_id == tx.id)
        .where(tx.tenant_id == tenant_id, tx.booking_date.between(period.start, period.end))
        .order_by(tx.account_id, tx.booking_date, tx.id)
    ).all()
    usage = {
        "business": "geschäftlich",
        "private": "privat",
        "private_withdrawal": "Privatentnahme",
        "private_deposit": "Privateinlage",
    }
    return [
        Table(
            "bankkonten.csv",
            "Bankkonten",
            "Bank- und PayPal-Konten mit ihrem Sachkonto",
            _columns(
                "Bankkonto-ID:n",
                "Name",
                "IBAN",
                "BIC",
                "Bank",
                "Art",
                "Sachkonto",
                "Anfangssaldo:a",
                "Anfangsdatum:d",
            ),
            [
                (
                    b.id,
                    b.name,
                    b.iban or b.email,
                    b.bic,
                    b.bank_name,
                    b.account_type,
                    ledger_account(session, tenant_id, b),
                    b.opening_balance,
                    b.opening_date,
                )
                for b in banks
            ],
            primary_key=1,
        ),
        Table(
            "bankumsaetze.csv",
            "Bankumsaetze",
            "Umsätze der Kontoauszüge, wie die Bank sie geliefert hat, mit ihrer Zuordnung",
            _columns(
                "Umsatz-ID:n",
                "Bankkonto-ID:n",
                "Buchungstag:d",
                "Valuta:d",
                "Betrag:c",
                "Waehrung",
                "Name Gegenseite",
                "IBAN Gegenseite",
                "Verwendungszweck",
                "Buchungstext",
                "End-to-End-Referenz",
                "Mandatsreferenz",
                "Glaeubiger-ID",
                "Verwendung",
                "Kategorie",
                "Bestaetigt:b",
            ),
            [
                (*r[:13], usage.get(r.usage or "", ""), keys.get(r.category_id or 0), r.confirmed)
                for r in lines
            ],
            primary_key=1,
            foreign_keys=(("Bankkonto-ID", "Bankkonten"),),
            dated=True,
        ),
    ]


TABLES: Sequence[Callable[[Session, int, Period], Iterable[Table]]] = (
    lambda s, t, p: [_company_table(s, t)],
    lambda s, t, p: _account_tables(s, t, p),
    lambda s, t, p: [_parties_table(s, t)],
    lambda s, t, p: [_journal_table(s, t, p)],
    _invoice_tables,
    _cash_tables,
    _bank_tables,
)


@dataclass(frozen=True)
class Delivery:
    period: Period
    files: dict[str, bytes]  # name → content, index.xml first
    records: int


def build(session: Session, tenant_id: int, year: int) -> Delivery:
    """All tables of the fiscal year that begins in ``year``, with their ``index.xml``."""
    company = get_company(session, tenant_id)
    period = fiscal_year(year, company.fiscal_year_start_month)
    tables = [table for make in TABLES for table in make(session, tenant_id, period)]
    with gc_paused():  # hundreds of thousands of short-lived strings and tuples
        rendered = [(table, render_table(table)) for table in tables]
    address = ", ".join(
        p for p in (company.street, f"{company.postal_code} {company.city}".strip()) if p
    )
    supplier = (
        company.name,
        address or company.country,
        f"Belegwerk {__version__}, Datenüberlassung nach § 147 Abs. 6 AO, Wirtschaftsjahr "
        f"{period.start:%d.%m.%Y} bis {period.end:%d.%m.%Y}",
    )
    files = {"index.xml": index_xml(rendered, supplier, period)}
    files |= {table.url: content for table, content in rendered}
    records = sum(len(table.rows) for table in tables)
    return Delivery(period, files, records)


def export_gdpdu(
    session: Session, tenant_id: int, year: int, *, actor: str = "local", as_zip: bool = True
) -> tuple[ExportFile, Delivery]:
    """Build and log the delivery; the caller writes it as a ZIP or into a folder."""
    delivery = build(session, tenant_id, year)
    zipped = zip_delivery(delivery) if as_zip else b""
    name = f"GDPdU_{delivery.period.start:%Y%m%d}-{delivery.period.end:%Y%m%d}"
    index = delivery.files["index.xml"]
    entry = record_export(
        session,
        tenant_id,
        kind="gdpdu",
        period=(delivery.period.start, delivery.period.end),
        records=delivery.records,
        file_name=name + (".zip" if as_zip else "/"),
        content=zipped or index,
        locked=False,
        findings=[],
        actor=actor,
        sha256=sha256_of(index),
    )
    export = ExportFile(name + ".zip", "application/zip", zipped, delivery.records, entry.id, [])
    return export, delivery


def zip_delivery(delivery: Delivery) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in delivery.files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_folder(delivery: Delivery, folder: Path) -> None:
    """Write the files into an empty (or new) folder; refuses to mix with other files."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValidationFailed(
            "gdpdu.folder_not_empty",
            _("The folder {folder} is not empty; choose a new or empty folder.").format(
                folder=str(folder)
            ),
            [{"field": "output", "value": str(folder)}],
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in delivery.files.items():
        (folder / name).write_bytes(content)
