"""DATEV Buchungsstapel (EXTF 700, category 21, version 13) of a period from the journal.

One posting becomes one booking line: the gross amount, the money account or Personenkonto
as "Konto" with S/H, the category's account as "Gegenkonto", the BU-Schlüssel where DATEV
needs one (:func:`belegwerk.exports.chart.bu_key`), Belegdatum TTMM, voucher in Belegfeld 1.

* Receivables and payables of invoices and their payments are written on the party's
  Personenkonto (customer numbers 10000–69999 as Debitor, supplier numbers 70000–99999 as
  Kreditor), as DATEV's open-item accounting expects; the Debitoren/Kreditoren file
  (:mod:`belegwerk.exports.datev_parties`) names them.
* A reversal (a posting with ``reverses_id``) is written the way DATEV defines a
  Generalumkehr: the booking is entered with Soll and Haben exchanged (as the journal's mirror
  posting already is) and field 118 "Generalumkehr (GU)" set to 1, so DATEV books it as a
  minus on the original side and the account totals are not inflated.
* Two "Zusatzinformation" fields carry what only Belegwerk needs back when it reads the file
  again (:mod:`belegwerk.exports.datev_import`): the category key and, for a reversal, the
  "Buchungs GUID" of the reversed booking. Every line has a stable GUID (field 103).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from belegwerk.banking.importer import gc_paused
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, PaymentMatch
from belegwerk.books.models import Invoice, Party, Payment, Posting
from belegwerk.books.vat_treatment import SELF_ASSESSED
from belegwerk.core.dates import today
from belegwerk.core.i18n import _, format_date
from belegwerk.exports import datev_format as fmt
from belegwerk.exports.chart import SACHKONTO_LENGTH, ChartContext, bu_key, chart_context
from belegwerk.exports.period import Period, check_period
from belegwerk.exports.service import (
    ExportFile,
    Findings,
    export_settings,
    record_export,
    require_clean,
)
from belegwerk.tenancy.models import Company
from belegwerk.tenancy.service import get_company

BERLIN = ZoneInfo("Europe/Berlin")
GUID_NAMESPACE = uuid.UUID("7c1e4e0a-2f7d-5b1e-9d0c-6b656c656777")
CATEGORY_INFO = "Belegwerk-Kategorie"
REVERSAL_INFO = "Storno zu Buchung"
VOUCHER_FILE_INFO = "Belegdatei"
MEDIA_TYPE = "text/csv; charset=windows-1252"


_GUID_PREFIX = GUID_NAMESPACE.bytes


def booking_guid(tenant_id: int, posting_id: int) -> str:
    """Field 103 "Buchungs GUID": a name-based UUID (version 5, as :func:`uuid.uuid5`) per
    posting, so DATEV recognises a line it has seen; computed directly, it is the hot path."""
    digest = bytearray(hashlib.sha1(_GUID_PREFIX + f"{tenant_id}:{posting_id}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    x = digest[:16].hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def check_company(company: Company, findings: Findings) -> None:
    """Berater- and Mandantennummer are required header fields (11 and 12)."""
    advisor, client = company.advisor_number.strip(), company.client_number.strip()
    if not advisor:
        findings.add(
            "error",
            "datev.advisor_missing",
            _("The DATEV advisor number (Beraternummer) is missing; enter it in the settings."),
            {"field": "advisor_number"},
        )
    elif not advisor.isdigit() or not 1001 <= int(advisor) <= 9_999_999:
        findings.add(
            "error",
            "datev.advisor_invalid",
            _(
                "The DATEV advisor number {value} is not valid: DATEV expects 1001 to 9999999."
            ).format(value=advisor),
            {"field": "advisor_number", "value": advisor},
        )
    if not client:
        findings.add(
            "error",
            "datev.client_missing",
            _("The DATEV client number (Mandantennummer) is missing; enter it in the settings."),
            {"field": "client_number"},
        )
    elif not client.isdigit() or not 1 <= int(client) <= 99_999:
        findings.add(
            "error",
            "datev.client_invalid",
            _("The DATEV client number {value} is not valid: DATEV expects 1 to 99999.").format(
                value=client
            ),
            {"field": "client_number", "value": client},
        )


def header(
    company: Company,
    *,
    category: int,
    name: str,
    version: int,
    fiscal_year_start: date,
    chart: str,
    actor: str,
    period: Period | None = None,
    lock: bool = False,
) -> str:
    """The 31-field header; fields 15–17, 19–22 only for booking data (DATEV's examples)."""
    values: dict[int, str | int] = {
        1: "EXTF",
        2: fmt.HEADER_VERSION,
        3: category,
        4: name,
        5: version,
        6: fmt.timestamp(datetime.now(BERLIN)),
        8: fmt.ORIGIN,
        9: fmt.clean_text(actor, 25),
        11: company.advisor_number.strip(),
        12: company.client_number.strip(),
        13: fmt.yyyymmdd(fiscal_year_start),
        14: SACHKONTO_LENGTH,
        27: chart.removeprefix("skr"),
        31: fmt.APPLICATION,
    }
    if period is not None:
        values |= {
            15: fmt.yyyymmdd(period.start),
            16: fmt.yyyymmdd(period.end),
            17: "Belegwerk "
            + f"{period.start:%d.%m.%y}-{period.end:%d.%m.%y}",  # max. 30 characters
            19: 1,  # Buchungstyp: Finanzbuchführung
            20: 0,  # Rechnungslegungszweck: unabhängig
            21: 1 if lock else 0,
            22: "EUR",
        }
    return fmt.header_line(values)


class Row(NamedTuple):
    """One posting as the export reads it."""

    id: int
    day: date
    debit: str
    credit: str
    cents: int
    tax_cents: int
    rate_bp: int  # VAT rate in basis points (1900 = 19 %)
    tax_account: str | None
    tax_key: str
    voucher: str
    text: str
    category_id: int | None
    source_type: str
    reverses_id: int | None
    customer_number: int | None
    supplier_number: int | None
    vat_treatment: str


def posting_rows(session: Session, tenant_id: int, period: Period) -> Iterator[Row]:
    """The period's postings in journal order, with the party behind invoices and payments."""
    P = Posting
    inv, pay, pinv, party = aliased(Invoice), aliased(Payment), aliased(Invoice), aliased(Party)
    query = (
        select(
            P.id,
            P.posting_date,
            P.debit_account,
            P.credit_account,
            type_coerce(P.amount, BigInteger),
            type_coerce(P.tax_amount, BigInteger),
            type_coerce(P.tax_rate, Integer),
            P.tax_account,
            P.tax_key,
            P.voucher,
            P.text,
            P.category_id,
            P.source_type,
            P.reverses_id,
            party.customer_number,
            party.supplier_number,
            P.vat_treatment,
        )
        .outerjoin(inv, and_(P.source_type == "invoice", inv.id == P.source_id))
        .outerjoin(pay, and_(P.source_type == "payment", pay.id == P.source_id))
        .outerjoin(pinv, pinv.id == pay.invoice_id)
        .outerjoin(party, party.id == func.coalesce(inv.party_id, pinv.party_id))
        .where(
            P.tenant_id == tenant_id,
            P.posting_date.between(period.start, period.end),
            # The tax a recipient owes under § 13b or on an acquisition: DATEV computes it
            # from the BU-Schlüssel of the base booking, so it is not exported.
            P.self_assessed.is_(False),
        )
        .order_by(P.posting_date, P.id)
    )
    for values in session.connection().execute(query).all():
        yield Row._make(values)


def _person(account: str, row: Row, ctx: ChartContext) -> str:
    """The party's Personenkonto instead of the receivables/payables collective account."""
    if account == ctx.receivables and row.customer_number:
        return str(row.customer_number)
    if account == ctx.payables and row.supplier_number:
        return str(row.supplier_number)
    return account


# Fields a booking line fills (0-based), in this order; every other field stays empty.
_FILLED = (0, 1, 6, 7, 8, 9, 10, 13, 20, 21, 47, 48, 49, 50, 102, 117)


def _line_pattern() -> str:
    """The booking line as one format string: 125 fields, the filled ones as ``{}``."""
    template = fmt.empty_row(len(fmt.BOOKING_COLUMNS), fmt.BOOKING_TEXT)
    return fmt.line(["{}" if n in _FILLED else field for n, field in enumerate(template)])


@dataclass(frozen=True)
class _Shape:
    """What every posting with the same accounts and tax data shares: worked out once."""

    swap: bool  # the credit account is written as Konto (Haben)
    key: str  # the BU-Schlüssel field, quoted
    problem: str
    too_long: tuple[str, ...]
    unknown: tuple[str, ...]
    needs_category: bool  # an account of no money, person or tax role


def _shape(ctx: ChartContext, row: Row) -> _Shape:
    swap = ctx.rank(row.credit) < ctx.rank(row.debit)
    konto, gegenkonto = (row.credit, row.debit) if swap else (row.debit, row.credit)
    decision = bu_key(
        ctx,
        konto=konto,
        gegenkonto=gegenkonto,
        tax_key=row.tax_key,
        tax_amount_cents=row.tax_cents,
        tax_rate=Decimal(row.rate_bp) / 100,
        tax_account=row.tax_account,
    )
    accounts = (row.debit, row.credit)
    too_long = tuple(a for a in accounts if not a.isdigit() or len(a) > SACHKONTO_LENGTH + 1)
    unknown = tuple(a for a in accounts if a not in too_long and not ctx.known(a))
    taxes = ctx.output_tax | ctx.input_tax
    needs_category = any(ctx.rank(a) == 2 and a not in taxes for a in accounts)
    key = fmt.quote(decision.key) if decision.key else '""'
    return _Shape(swap, key, decision.problem, too_long, unknown, needs_category)


@dataclass
class Prepared:
    """The checked booking lines of a period, ready to be written."""

    period: Period
    company: Company
    ctx: ChartContext
    lines: list[str]
    findings: Findings
    lock: bool


def prepare(
    session: Session,
    tenant_id: int,
    start: date,
    end: date,
    *,
    voucher_files: dict[str, list[str]] | None = None,
) -> Prepared:
    """Run the checks and build the booking lines (nothing is written or logged)."""
    company = get_company(session, tenant_id)
    period = check_period(start, end, company.fiscal_year_start_month, one_fiscal_year=True)
    findings = Findings()
    check_company(company, findings)
    ctx = chart_context(session, tenant_id, company.chart)
    pattern = _line_pattern()
    vouchers: dict[str, str] = {}
    category_info, reversal_info = fmt.quote(CATEGORY_INFO), fmt.quote(REVERSAL_INFO)
    file_info = fmt.quote(VOUCHER_FILE_INFO)
    quoted_keys = {cid: fmt.quote(key) for cid, key in ctx.category_keys.items()}
    now = today()
    lines: list[str] = []
    unknown: dict[str, int] = {}
    shapes: dict[tuple[object, ...], _Shape] = {}
    # Tens of thousands of short-lived tuples and strings, none cyclic: collecting garbage
    # meanwhile would walk every object the process holds, again and again.
    with gc_paused():
        for row in posting_rows(session, tenant_id, period):
            signature = (
                row.debit,
                row.credit,
                row.tax_key,
                row.tax_cents == 0,
                row.rate_bp,
                row.tax_account,
            )
            shape = shapes.get(signature)
            if shape is None:
                shape = shapes[signature] = _shape(ctx, row)
            if shape.swap:
                konto, gegenkonto, side = row.credit, row.debit, '"H"'
            else:
                konto, gegenkonto, side = row.debit, row.credit, '"S"'
            if row.customer_number or row.supplier_number:  # receivables/payables of a party
                konto, gegenkonto = _person(konto, row, ctx), _person(gegenkonto, row, ctx)
            if shape.problem or shape.too_long or shape.unknown:
                _shape_findings(findings, shape, row, (konto, gegenkonto), unknown)
            if (
                row.day > now
                or row.cents <= 0
                or (row.category_id is None and shape.needs_category)
                or (row.vat_treatment in SELF_ASSESSED and not row.tax_key)
            ):
                _row_checks(findings, row, now, shape)
            files = voucher_files.get(row.voucher) if voucher_files else None
            category = quoted_keys.get(row.category_id, '""') if row.category_id else None
            reverses = row.reverses_id is not None
            lines.append(
                pattern.format(
                    fmt.amount_cents(row.cents) if row.cents > 0 else "0,00",
                    side,
                    fmt.account_field(konto),
                    fmt.account_field(gegenkonto),
                    shape.key,
                    fmt.ddmm(row.day),
                    vouchers.get(row.voucher)
                    or vouchers.setdefault(row.voucher, fmt.quote(fmt.voucher_field(row.voucher))),
                    fmt.quote(fmt.clean_text(row.text, 60)),
                    file_info if files else '""',
                    fmt.quote(fmt.clean_text(", ".join(files), 210)) if files else '""',
                    category_info if category else '""',
                    category or '""',
                    reversal_info if reverses else '""',
                    fmt.quote(booking_guid(tenant_id, row.reverses_id or 0)) if reverses else '""',
                    fmt.quote(booking_guid(tenant_id, row.id)),
                    '"1"' if reverses else '""',
                )
            )
    if unknown:
        names = ", ".join(sorted(unknown))
        findings.add(
            "warning",
            "datev.unknown_account",
            _(
                "Bookings use accounts Belegwerk does not know in {chart}: {accounts}. Make "
                "sure your tax advisor has them."
            ).format(chart=ctx.chart.upper(), accounts=names),
            {"accounts": sorted(unknown)},
            count=sum(unknown.values()),
        )
    if not lines:
        findings.add("warning", "datev.empty", _("There are no bookings in the period."))
    bank_line_checks(session, tenant_id, period, findings)
    return Prepared(
        period, company, ctx, lines, findings, export_settings(session, tenant_id).datev_lock
    )


def _shape_findings(
    findings: Findings,
    shape: _Shape,
    row: Row,
    accounts: tuple[str, str],
    unknown: dict[str, int],
) -> None:
    if shape.problem:
        _key_problem(findings, shape.problem, row, *accounts)
    for account in shape.too_long:
        findings.add(
            "error",
            "datev.account_length",
            _(
                "Account {account} does not fit DATEV's 4-digit general ledger accounts "
                "(Personenkonten have 5 digits)."
            ).format(account=account),
            {"voucher": row.voucher, "posting_id": row.id, "account": account},
        )
    for account in shape.unknown:
        unknown[account] = unknown.get(account, 0) + 1


def _row_checks(findings: Findings, row: Row, now: date, shape: _Shape) -> None:
    detail = {"voucher": row.voucher, "date": row.day.isoformat(), "posting_id": row.id}
    if row.day > now:
        findings.add(
            "error",
            "datev.future_posting",
            _("Bookings are dated after today (first: {voucher} on {date}).").format(
                voucher=row.voucher, date=format_date(row.day)
            ),
            detail,
        )
    if row.cents <= 0:
        findings.add(
            "error",
            "datev.zero_amount",
            _("Booking {voucher} has no amount; DATEV needs a positive amount.").format(
                voucher=row.voucher
            ),
            detail,
        )
    if row.vat_treatment in SELF_ASSESSED and not row.tax_key:
        findings.add(
            "warning",
            "datev.self_assessed_without_key",
            _(
                "Reverse-charge or intra-community acquisition bookings have no BU-Schlüssel "
                "(first: {voucher} on {date}); DATEV will not compute the tax the recipient "
                "owes. Ask your tax advisor for the key."
            ).format(voucher=row.voucher, date=format_date(row.day)),
            detail,
        )
    if row.category_id is None and shape.needs_category:
        findings.add(
            "warning",
            "datev.uncategorised_postings",
            _("Bookings have no category (first: {voucher} on {date}).").format(
                voucher=row.voucher, date=format_date(row.day)
            ),
            detail,
        )


def _key_problem(findings: Findings, problem: str, row: Row, konto: str, gegenkonto: str) -> None:
    detail = {"voucher": row.voucher, "posting_id": row.id, "accounts": [konto, gegenkonto]}
    if problem == "key_on_automatic":
        findings.add(
            "warning",
            "datev.key_on_automatic",
            _(
                "Booking {voucher} has the BU-Schlüssel {key} on a DATEV automatic account "
                "({accounts}); DATEV may refuse it."
            ).format(voucher=row.voucher, key=row.tax_key, accounts=f"{konto}/{gegenkonto}"),
            detail,
        )
        return
    if problem == "rate_mismatch":
        message = _(
            "Booking {voucher} ({rate} % VAT) is on a DATEV automatic account for another rate "
            "({accounts}); DATEV would compute the wrong tax. Book it on a matching category."
        )
    else:
        message = _(
            "Booking {voucher} carries VAT ({rate} %) that no DATEV tax key describes; set its "
            "BU-Schlüssel or book it on a matching category."
        )
    findings.add(
        "error",
        f"datev.{problem}",
        message.format(
            voucher=row.voucher, rate=f"{row.rate_bp / 100:g}", accounts=f"{konto}/{gegenkonto}"
        ),
        detail,
    )


def bank_line_checks(session: Session, tenant_id: int, period: Period, findings: Findings) -> None:
    """Business bank lines of the period that are neither categorised nor linked to an invoice
    are not in the journal yet: the export would miss them."""
    tx = BankTransaction
    linked = (
        select(PaymentMatch.id)
        .where(PaymentMatch.transaction_id == tx.id, PaymentMatch.status == "linked")
        .exists()
    )
    open_line = or_(
        Classification.id.is_(None),
        Classification.confirmed.is_(False),
        and_(Classification.usage == "business", Classification.category_id.is_(None)),
    )
    rows = session.execute(
        select(tx.id, tx.booking_date, type_coerce(tx.amount, BigInteger), tx.counterparty_name)
        .join(BankAccount, BankAccount.id == tx.account_id)
        .outerjoin(Classification, Classification.transaction_id == tx.id)
        .where(
            tx.tenant_id == tenant_id,
            BankAccount.account_type != "private",
            tx.booking_date.between(period.start, period.end),
            or_(BankAccount.opening_date.is_(None), tx.booking_date >= BankAccount.opening_date),
            open_line,
            ~linked,
        )
        .order_by(tx.booking_date, tx.id)
    ).all()
    for tx_id, day, cents, name in rows:
        findings.add(
            "warning",
            "datev.uncategorised_bank_lines",
            _(
                "Bank lines of the period are not categorised yet and therefore not booked "
                "(first: {date}, {name}); the export would be incomplete."
            ).format(date=format_date(day), name=name or "–"),
            {"transaction_id": tx_id, "date": day.isoformat(), "amount": str(cents / 100)},
        )


def file_name(period: Period) -> str:
    return f"EXTF_Buchungsstapel_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"


def render(prepared: Prepared, actor: str) -> bytes:
    """The file's bytes: header, column names, booking lines; Windows-1252, CR LF."""
    head = header(
        prepared.company,
        category=fmt.BOOKING_CATEGORY,
        name=fmt.BOOKING_FORMAT,
        version=fmt.BOOKING_VERSION,
        fiscal_year_start=prepared.period.fiscal_year_start,
        chart=prepared.ctx.chart,
        actor=actor,
        period=prepared.period,
        lock=prepared.lock,
    )
    return fmt.encode([head, fmt.column_line(fmt.BOOKING_COLUMNS), *prepared.lines])


def export_datev(
    session: Session,
    tenant_id: int,
    start: date,
    end: date,
    *,
    actor: str = "local",
    confirm_warnings: bool = False,
) -> ExportFile:
    """Check, write and log the Buchungsstapel of ``start`` … ``end``."""
    prepared = prepare(session, tenant_id, start, end)
    require_clean(prepared.findings, confirm_warnings, _("DATEV export"))
    content = render(prepared, actor)
    return deliver(
        session,
        tenant_id,
        prepared,
        "datev",
        file_name(prepared.period),
        content,
        MEDIA_TYPE,
        actor,
    )


def deliver(
    session: Session,
    tenant_id: int,
    prepared: Prepared,
    kind: str,
    name: str,
    content: bytes,
    media_type: str,
    actor: str,
) -> ExportFile:
    """Log a finished period export (with the warnings the user confirmed) and hand it out."""
    entry = record_export(
        session,
        tenant_id,
        kind=kind,
        period=(prepared.period.start, prepared.period.end),
        records=len(prepared.lines),
        file_name=name,
        content=content,
        locked=prepared.lock,
        findings=prepared.findings.warnings,
        actor=actor,
    )
    return ExportFile(
        name, media_type, content, len(prepared.lines), entry.id, prepared.findings.items
    )
