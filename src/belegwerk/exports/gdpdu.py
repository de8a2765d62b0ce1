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
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from belegwerk import __version__
from belegwerk.banking.accounts import ledger_account
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
Kind = Literal["text", "int", "amount", "decimal4", "date"]
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


def _value(kind: Kind, value: Any) -> str:
    if value is None or value == "":
        return '""' if kind == "text" else ""
    if kind == "text":
        if isinstance(value, bool):
            return _text("ja" if value else "nein")
        if isinstance(value, datetime):
            return _text(value.isoformat(timespec="seconds"))
        return _text(value)
    if kind == "date":
        assert isinstance(value, date)
        return value.strftime("%d.%m.%Y")
    if kind == "int":
        return str(int(value))
    places = "0.0001" if kind == "decimal4" else "0.01"
    return str(Decimal(value).quantize(Decimal(places))).replace(".", ",")


def render_table(table: Table) -> bytes:
    kinds = [c.kind for c in table.columns]
    lines = [";".join(_text(c.name) for c in table.columns)]
    for row in table.rows:
        lines.append(";".join(_value(k, v) for k, v in zip(kinds, row, strict=True)))
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
    if column.kind == "text":
        _sub(element, "AlphaNumeric")
    elif column.kind == "date":
        _sub(_sub(element, "Date"), "Format", DATE_FORMAT)
    else:
        numeric = _sub(element, "Numeric")
        if column.kind in ("amount", "decimal4"):
            _sub(numeric, "Accuracy", "2" if column.kind == "amount" else "4")


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

_KINDS: dict[str, Kind] = {"": "text", "n": "int", "a": "amount", "q": "decimal4", "d": "date"}


def _columns(*spec: str) -> list[Column]:
    """``"Betrag:a"``: a column name and its kind (n number, a amount, q four places, d date;
    none for text)."""
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
            "Vorsteuerabzug",
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
            "Kunde",
            "Lieferant",
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
            p.amount,
            p.net_amount,
            p.tax_amount,
            p.tax_rate,
            p.tax_account,
            p.tax_key,
            p.voucher,
            p.text,
            p.category_id,
            p.source_type,
            p.source_id,
            p.reverses_id,
            p.created_at,
        )
        .where(p.tenant_id == tenant_id, p.posting_date.between(period.start, period.end))
        .order_by(p.posting_date, p.id)
    ).all()
    return Table(
        "journal.csv",
        "Buchungsjournal",
        "Alle Buchungen (Soll an Haben, Bruttobetrag mit Netto/Steuer); Stornos verweisen auf "
        "die stornierte Buchung",
        _columns(
            "Buchungs-ID:n",
            "Buchungsdatum:d",
            "Sollkonto",
            "Habenkonto",
            "Betrag brutto:a",
            "Netto:a",
            "Steuer:a",
            "Steuersatz:a",
            "Steuerkonto",
            "BU-Schluessel",
            "Belegnummer",
            "Buchungstext",
            "Kategorie",
            "Herkunft",
            "Herkunft-ID:n",
            "Storno von:n",
            "Erfasst am",
        ),
        [(*r[:12], keys.get(r.category_id) if r.category_id else None, *r[13:]) for r in rows],
        primary_key=1,
        foreign_keys=(("Kategorie", "Kategorien"), ("Sollkonto", "Konten")),
        dated=True,
    )


def _invoice_tables(session: Session, tenant_id: int, period: Period) -> list[Table]:
    keys = {c.category.id: c.category.key for c in list_categories(session, tenant_id)}
    in_year = and_(
        Invoice.tenant_id == tenant_id,
        Invoice.status == "booked",
        Invoice.issue_date.between(period.start, period.end),
    )
    invoices = session.scalars(
        select(Invoice).where(in_year).order_by(Invoice.issue_date, Invoice.id)
    ).all()
    ids = select(Invoice.id).where(in_year)
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.tenant_id == tenant_id, InvoiceLine.invoice_id.in_(ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
    ).all()
    totals = session.scalars(
        select(InvoiceTaxTotal)
        .where(InvoiceTaxTotal.tenant_id == tenant_id, InvoiceTaxTotal.invoice_id.in_(ids))
        .order_by(InvoiceTaxTotal.invoice_id, InvoiceTaxTotal.vat_rate)
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
                "Netto:a",
                "USt:a",
                "Brutto:a",
                "Kleinunternehmer",
                "Storno von:n",
                "Storno-Grund",
                "Ersetzt:n",
                "Gebucht am",
            ),
            [
                (
                    i.id,
                    i.number,
                    "Ausgang" if i.direction == "out" else "Eingang",
                    "Storno" if i.kind == "reversal" else "Rechnung",
                    i.issue_date,
                    i.supply_date,
                    i.due_date,
                    i.party_id,
                    i.external_number,
                    i.net_total,
                    i.vat_total,
                    i.gross_total,
                    i.small_business,
                    i.reverses_id,
                    i.reversal_reason,
                    i.replaces_id,
                    i.booked_at,
                )
                for i in invoices
            ],
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
                "USt-Satz:a",
                "Kategorie",
                "Netto:a",
                "USt:a",
                "Brutto:a",
            ),
            [
                (
                    ln.id,
                    ln.invoice_id,
                    ln.position,
                    ln.description,
                    ln.quantity,
                    ln.unit,
                    ln.unit_price,
                    ln.vat_rate,
                    keys.get(ln.category_id or 0),
                    ln.net,
                    ln.vat,
                    ln.gross,
                )
                for ln in lines
            ],
            primary_key=1,
            foreign_keys=(("Rechnungs-ID", "Rechnungen"),),
            dated=True,
        ),
        Table(
            "rechnungssteuern.csv",
            "Rechnungssteuern",
            "Summen je Steuersatz der Rechnungen (Umsatzsteuer je Satz gerundet)",
            _columns(
                "ID:n",
                "Rechnungs-ID:n",
                "USt-Satz:a",
                "Netto:a",
                "USt:a",
                "Brutto:a",
            ),
            [(t.id, t.invoice_id, t.vat_rate, t.net, t.vat, t.gross) for t in totals],
            primary_key=1,
            foreign_keys=(("Rechnungs-ID", "Rechnungen"),),
            dated=True,
        ),
    ]


def _cash_tables(session: Session, tenant_id: int, period: Period) -> list[Table]:
    keys = {c.category.id: c.category.key for c in list_categories(session, tenant_id)}
    entries = session.scalars(
        select(CashEntry)
        .where(
            CashEntry.tenant_id == tenant_id, CashEntry.entry_date.between(period.start, period.end)
        )
        .order_by(CashEntry.entry_date, CashEntry.voucher_number)
    ).all()
    closings = session.scalars(
        select(DailyClosing)
        .where(
            DailyClosing.tenant_id == tenant_id,
            DailyClosing.closing_date.between(period.start, period.end),
        )
        .order_by(DailyClosing.closing_date)
    ).all()
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
                "Netto:a",
                "USt-Satz:a",
                "USt:a",
                "Brutto:a",
                "Vorsteuerabzug",
                "Storno von:n",
                "Storno-Grund",
                "Rechnungs-ID:n",
                "Erfasst am",
                "Erfasst von",
            ),
            [
                (
                    e.id,
                    e.voucher_number,
                    e.entry_date,
                    e.description,
                    keys.get(e.category_id),
                    e.payment_method,
                    "Einnahme" if e.direction == "income" else "Ausgabe",
                    e.net,
                    e.vat_rate,
                    e.vat,
                    e.gross,
                    e.input_vat_deductible,
                    e.reverses_id,
                    e.reversal_reason,
                    e.invoice_id,
                    e.created_at,
                    e.created_by,
                )
                for e in entries
            ],
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
                "Soll-Bestand:a",
                "Ist-Bestand:a",
                "Differenz:a",
                "Zaehlprotokoll",
                "Grund",
                "Behandlung",
                "Signatur",
                "Vorherige Signatur",
                "Erfasst am",
            ),
            [
                (
                    c.closing_date,
                    c.expected,
                    c.counted,
                    c.difference,
                    c.counts,
                    c.reason,
                    c.treatment,
                    c.signature,
                    c.prev_signature,
                    c.created_at,
                )
                for c in closings
            ],
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
            tx.amount,
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
                "Betrag:a",
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
                "Bestaetigt",
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
