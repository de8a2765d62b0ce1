"""Importing a DATEV Buchungsstapel into the journal: the migration path from other programs.

Each booking line becomes one posting (source type ``datev_import``, source id = the import
batch). The original file is archived byte for byte with its SHA-256; the same file twice is
refused. Everything or nothing: a file with a bad line stores nothing.

How a line becomes a posting:

* **Sides**: S books the amount from "Konto" (debit) to "Gegenkonto" (credit), H the other way
  round. A Generalumkehr line is already entered with the sides exchanged, so it is stored as
  the mirror posting it is and linked to the booking it reverses (by the "Storno zu Buchung"
  GUID Belegwerk writes, else by accounts, amount and voucher).
* **Accounts**: Sachkonten keep their number (padded to four digits); Personenkonten (one digit
  longer) go to the chart's receivables (Debitoren, 1…–6…) or payables (Kreditoren, 7…–9…).
* **VAT** the way DATEV computes it from the gross amount: the classic keys 2/3/8/9 and the
  tenant's automatic accounts split net and tax at the rate of the Belegdatum. Any other key
  is kept on the posting unchanged (so a later export writes it again) and the line is listed,
  because Belegwerk does not split its tax.
* **Category**: the key Belegwerk wrote itself ("Belegwerk-Kategorie"), else the category
  whose account the booking uses. A line with an account of no category (other than money,
  receivables, payables) stays uncategorised and is listed.
* **UStVA treatment**: standard output or input VAT where the tax was split off, the
  treatment of a dedicated revenue category (tax-free, EU, § 13b, § 19) otherwise; lines with
  other keys get none and are listed (the UStVA cannot count them without a closer look).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, aliased

from belegwerk.banking.importer import gc_paused
from belegwerk.books import accounts
from belegwerk.books import vat_treatment as vt
from belegwerk.books.models import Posting
from belegwerk.books.vat import allowed_rates
from belegwerk.core import bulk, params
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future
from belegwerk.core.documents import sha256_of, store_document
from belegwerk.core.errors import BelegwerkError, Conflict, ValidationFailed
from belegwerk.core.i18n import _, format_date
from belegwerk.core.money import ZERO, split_gross
from belegwerk.core.types import utcnow
from belegwerk.exports.chart import (
    STANDARD_KEYS,
    ChartContext,
    bu_key,
    chart_context,
)
from belegwerk.exports.datev_export import CATEGORY_INFO, REVERSAL_INFO
from belegwerk.exports.datev_parse import Booking, Parsed, parse
from belegwerk.exports.models import DatevImport
from belegwerk.tenancy.service import get_company

SOURCE_TYPE = "datev_import"
LISTED = 200  # warnings kept with the batch
_KEY_SIDES = {key: side for side, key in STANDARD_KEYS.items()}
# Revenue categories whose account alone says how the UStVA counts the sale.
_REVENUE_TREATMENTS = {key: treatment for treatment, key in vt.REVENUE_CATEGORY.items()} | {
    vt.NON_TAXABLE_REVENUE["eu"]: vt.OUT_NON_TAXABLE,
    vt.NON_TAXABLE_REVENUE["third"]: vt.OUT_NON_TAXABLE,
    "revenue_small_business": vt.OUT_SMALL_BUSINESS,
    "revenue_tax_free": vt.OUT_EXEMPT,
}


@dataclass
class ImportResult:
    batch: DatevImport
    imported: int
    warnings: list[dict[str, Any]] = field(default_factory=list)
    uncategorised: list[int] = field(default_factory=list)  # file lines


@dataclass(frozen=True)
class _TaxRule:
    rate: Decimal | None  # None: the gross amount is not split
    account: str | None
    keep: str  # the key to keep on the posting
    unknown_key: bool


@dataclass(frozen=True)
class _Tax:
    net: Decimal
    tax: Decimal
    rate: Decimal
    account: str | None
    key: str  # the key to keep on the posting ("" when the export derives it again)


def _rate(day: date, klass: str) -> Decimal:
    key = "vat_standard_rate" if klass == "standard" else "vat_reduced_rate"
    return params.decimal(key, day)


def _account(number: str, length: int, ctx: ChartContext) -> str:
    """Personenkonten to the chart's receivables/payables, Sachkonten padded."""
    digits = number.lstrip("0") or "0"
    if len(digits) == length + 1:
        return ctx.payables if digits[0] in "789" else ctx.receivables
    return digits.zfill(max(length, 4))


class _Mapper:
    """Turns parsed booking lines into posting rows for one tenant."""

    def __init__(self, ctx: ChartContext, parsed: Parsed) -> None:
        self.ctx = ctx
        self.parsed = parsed
        self.length = parsed.header.account_length
        self.warnings: list[dict[str, Any]] = list(parsed.warnings)
        self.uncategorised: list[int] = []
        self._rules: dict[tuple[str, str, str, date], _TaxRule] = {}

    def _tax(self, booking: Booking, debit: str, credit: str) -> _Tax:
        signature = (booking.key, debit, credit, booking.day)
        rule = self._rules.get(signature)
        if rule is None:
            rule = self._rules[signature] = self._rule(booking.key, debit, credit, booking.day)
        if rule.unknown_key:
            self.warnings.append(
                {
                    "line": booking.line,
                    "message": _(
                        "Line {line}: the BU-Schlüssel {key} is kept unchanged; Belegwerk does "
                        "not split its tax, check the VAT of this booking."
                    ).format(line=booking.line, key=booking.key),
                }
            )
        if rule.rate is None:
            return _Tax(booking.amount, ZERO, ZERO, None, rule.keep)
        net, tax = split_gross(booking.amount, rule.rate)
        return _Tax(net, tax, rule.rate, rule.account, rule.keep)

    def _rule(self, key: str, debit: str, credit: str, day: date) -> _TaxRule:
        """How DATEV treats the VAT of lines with these accounts, key and date."""
        auto = self.ctx.automatic.get(credit) or self.ctx.automatic.get(debit)
        rate: Decimal | None = None
        account = None
        if key in _KEY_SIDES or (not key and auto is not None and auto.rate is not None):
            side, klass = _KEY_SIDES[key] if key else (auto.side, auto.rate)  # type: ignore[union-attr]
            rate = _rate(day, str(klass))
            if rate not in allowed_rates(day):
                return _TaxRule(None, None, key, False)
            account = accounts.vat_account(self.ctx.chart, rate, output=side == "output")
        elif not (key in ("", "1") or (key.startswith("4") and len(key) == 2)):
            return _TaxRule(None, None, key, True)
        # Keep the key only where a later export would not derive the same one by itself.
        derived = bu_key(
            self.ctx,
            konto=debit,
            gegenkonto=credit,
            tax_key="",
            tax_amount_cents=1 if rate is not None else 0,
            tax_rate=rate if rate is not None else ZERO,
            tax_account=account,
        )
        keep = "" if derived.key == key and not derived.problem else key
        return _TaxRule(rate, account, keep, False)

    def _treatment(self, tax: _Tax, category_id: int | None) -> str:
        """The UStVA treatment where the file makes it plain: VAT split off as output or input
        tax, or a revenue category of its own (tax-free, EU, § 13b, § 19). Lines with other
        keys stay without one and are listed."""
        if tax.account in self.ctx.output_tax:
            return vt.OUT_STANDARD
        if tax.account in self.ctx.input_tax:
            return vt.IN_STANDARD
        key = self.ctx.category_keys.get(category_id or 0, "")
        return _REVENUE_TREATMENTS.get(key, "")

    def _category(self, booking: Booking, debit: str, credit: str) -> int | None:
        key = booking.info.get(CATEGORY_INFO)
        if key and key in self.ctx.category_by_key:
            return self.ctx.category_by_key[key]
        money = self.ctx.money | {self.ctx.receivables, self.ctx.payables}
        found = None
        others = [a for a in (credit, debit) if a not in money]
        for account in others:
            found = self.ctx.category_accounts.get(account)
            if found is not None:
                return found
        if others:
            self.uncategorised.append(booking.line)
        return None

    def row(self, booking: Booking) -> dict[str, Any]:
        """The posting of a line; ``source_id`` and an empty voucher follow with the batch."""
        konto = _account(booking.account, self.length, self.ctx)
        gegenkonto = _account(booking.contra, self.length, self.ctx)
        debit, credit = (konto, gegenkonto) if booking.side == "S" else (gegenkonto, konto)
        if len(debit) > 8 or len(credit) > 8:
            raise ValidationFailed(
                "datev.account_too_long",
                _("Line {line}: accounts with more than 8 digits cannot be stored.").format(
                    line=booking.line
                ),
                [{"line": booking.line}],
            )
        tax = self._tax(booking, debit, credit)
        category_id = self._category(booking, debit, credit)
        return {
            "posting_date": booking.day,
            "debit_account": debit,
            "credit_account": credit,
            "amount": booking.amount,
            "net_amount": tax.net,
            "tax_amount": tax.tax,
            "tax_rate": tax.rate,
            "tax_account": tax.account,
            "tax_key": tax.key,
            "voucher": booking.voucher[:36],
            "category_id": category_id,
            "vat_treatment": self._treatment(tax, category_id),
            "text": booking.text[:60],
            "source_type": SOURCE_TYPE,
            "source_id": 0,
            "reverses_id": None,
        }


def _check_dates(parsed: Parsed) -> None:
    days = [b.day for b in parsed.bookings]
    try:  # the earliest and the latest decide; only then look at every line
        check_not_far_future(min(days), "Belegdatum")
        check_not_far_future(max(days), "Belegdatum")
        return
    except BelegwerkError:
        pass
    problems = []
    for booking in parsed.bookings:
        try:
            check_not_far_future(booking.day, "Belegdatum")
        except BelegwerkError as exc:
            problems.append({"line": booking.line, "message": f"{booking.line}: {exc.message}"})
    if problems:
        raise ValidationFailed(
            "datev.invalid_dates",
            _(
                "{count} bookings have impossible dates (first: line {line}); nothing was imported."
            ).format(count=len(problems), line=problems[0]["line"]),
            problems[:100],
        )


def _find_reversed(
    session: Session, tenant_id: int, row: dict[str, Any], booking: Booking
) -> int | None:
    """The earlier posting a Generalumkehr line cancels: same amount, sides exchanged, not
    reversed yet; the same voucher preferred."""
    mirror = aliased(Posting)
    already = select(mirror.id).where(
        mirror.tenant_id == tenant_id, mirror.reverses_id == Posting.id
    )
    candidates = session.execute(
        select(Posting.id, Posting.voucher)
        .where(
            Posting.tenant_id == tenant_id,
            Posting.debit_account == row["credit_account"],
            Posting.credit_account == row["debit_account"],
            Posting.amount == row["amount"],
            Posting.reverses_id.is_(None),
            Posting.posting_date <= row["posting_date"],
            ~already.exists(),
        )
        .order_by(Posting.id.desc())
        .limit(20)
    ).all()
    for posting_id, voucher in candidates:
        if booking.voucher and voucher == booking.voucher:
            return int(posting_id)
    return int(candidates[0][0]) if candidates else None


def import_file(
    session: Session, tenant_id: int, content: bytes, file_name: str, actor: str = "local"
) -> ImportResult:
    """Parse, check and book a DATEV Buchungsstapel; refuses the same file twice."""
    digest = sha256_of(content)
    earlier = session.scalar(
        select(DatevImport).where(DatevImport.tenant_id == tenant_id, DatevImport.sha256 == digest)
    )
    if earlier is not None:
        raise Conflict(
            "datev.duplicate_file",
            _(
                "This file was already imported on {date} (import {id}); nothing was imported."
            ).format(date=format_date(earlier.created_at.date()), id=earlier.id),
            [{"field": "file", "import_id": earlier.id}],
        )
    with gc_paused():  # many short-lived objects, none cyclic (see gc_paused)
        parsed = parse(content)
    _check_dates(parsed)
    company = get_company(session, tenant_id)
    ctx = chart_context(session, tenant_id, company.chart)
    mapper = _Mapper(ctx, parsed)
    header = parsed.header
    if header.chart and header.chart != company.chart:
        mapper.warnings.append(
            {
                "line": 1,
                "message": _(
                    "The file uses {file_chart}, this company {chart}; the accounts are taken "
                    "over unchanged."
                ).format(file_chart=header.chart.upper(), chart=company.chart.upper()),
            }
        )
    with gc_paused():
        rows = [mapper.row(b) for b in parsed.bookings]
    listed = mapper.warnings[:LISTED]
    if mapper.uncategorised:
        lines = ", ".join(str(n) for n in mapper.uncategorised[:30])
        listed.append(
            {
                "line": mapper.uncategorised[0],
                "message": _(
                    "{count} bookings could not be given a category from their accounts "
                    "(lines {lines}); categorise them before the next export."
                ).format(count=len(mapper.uncategorised), lines=lines),
            }
        )
    document, _new = store_document(session, tenant_id, content, file_name, "text/csv", actor)
    # Written once and complete: the table refuses later changes.
    batch = DatevImport(
        tenant_id=tenant_id,
        document_id=document.id,
        file_name=file_name[:255],
        sha256=digest,
        marker=header.marker,
        header_version=header.header_version,
        format_version=header.format_version,
        advisor_number=header.advisor_number[:10],
        client_number=header.client_number[:10],
        fiscal_year_start=header.fiscal_year_start,
        period_start=header.period_start,
        period_end=header.period_end,
        label=header.label,
        rows=parsed.rows,
        imported=len(rows),
        skipped=parsed.rows - len(rows),
        uncategorised=len(mapper.uncategorised),
        warnings=json.dumps(listed, ensure_ascii=False),
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    for booking, row in zip(parsed.bookings, rows, strict=True):
        row["source_id"] = batch.id
        row["voucher"] = (booking.voucher or f"D{batch.id}-{booking.line}")[:36]
    imported = _insert(session, tenant_id, parsed.bookings, rows)
    audit_writer(session, tenant_id, actor).record(
        "import",
        "datev_import",
        batch.id,
        after={
            "file_name": batch.file_name,
            "sha256": digest,
            "document_id": document.id,
            "rows": parsed.rows,
            "imported": imported,
            "uncategorised": len(mapper.uncategorised),
        },
    )
    return ImportResult(batch, imported, listed, mapper.uncategorised)


_COLUMNS = (
    "tenant_id",
    "posting_date",
    "debit_account",
    "credit_account",
    "amount",
    "net_amount",
    "tax_amount",
    "tax_rate",
    "tax_account",
    "tax_key",
    "voucher",
    "category_id",
    "vat_treatment",
    "text",
    "source_type",
    "source_id",
    "reverses_id",
    "created_at",
)


def _insert(
    session: Session, tenant_id: int, bookings: list[Booking], rows: list[dict[str, Any]]
) -> int:
    """Insert in file order with the driver's executemany; a Generalumkehr line needs the id of
    the posting it reverses, so the lines before it are written (and their ids read) first."""
    table = cast(Table, Posting.__table__)
    # Dates, money, rates and time stamps go through the column types (per database);
    # the other columns are plain strings and numbers.
    typed = {"posting_date", "amount", "net_amount", "tax_amount", "tax_rate", "created_at"}
    convert = {c: bulk.binder(session, table, c) for c in _COLUMNS if c in typed}
    created = utcnow()
    ids_by_guid: dict[str, int] = {}
    pending: list[tuple[Booking, dict[str, Any]]] = []
    last_id = 0

    def flush() -> None:
        nonlocal last_id
        if not pending:
            return
        stamp = convert["created_at"](created)
        values = []
        for _booking, row in pending:
            row = {**row, "tenant_id": tenant_id}
            for column in ("posting_date", "amount", "net_amount", "tax_amount", "tax_rate"):
                row[column] = convert[column](row[column])
            row["created_at"] = stamp
            values.append(tuple(row[c] for c in _COLUMNS))
        bulk.insert_tuples(session, table, _COLUMNS, values)
        if any(b.guid for b, _row in pending):
            ids = session.scalars(
                select(Posting.id)
                .where(
                    Posting.tenant_id == tenant_id,
                    Posting.source_type == SOURCE_TYPE,
                    Posting.source_id == pending[0][1]["source_id"],
                    Posting.id > last_id,
                )
                .order_by(Posting.id)
            ).all()
            for (booking, _row), posting_id in zip(pending, ids, strict=True):
                if booking.guid:
                    ids_by_guid[booking.guid] = posting_id
            last_id = ids[-1]
        pending.clear()

    for booking, row in zip(bookings, rows, strict=True):
        if booking.reversal:
            flush()
            target = booking.info.get(REVERSAL_INFO, "").lower()
            reversed_id = ids_by_guid.get(target) if target else None
            if reversed_id is None:
                reversed_id = _find_reversed(session, tenant_id, row, booking)
            row["reverses_id"] = reversed_id
        pending.append((booking, row))
    flush()
    return len(rows)


def list_imports(session: Session, tenant_id: int, limit: int = 50) -> list[DatevImport]:
    return list(
        session.scalars(
            select(DatevImport)
            .where(DatevImport.tenant_id == tenant_id)
            .order_by(DatevImport.id.desc())
            .limit(limit)
        )
    )


def import_warnings(batch: DatevImport) -> list[dict[str, Any]]:
    value = json.loads(batch.warnings or "[]")
    return value if isinstance(value, list) else []
