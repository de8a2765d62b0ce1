"""The import pipeline: preview a statement file, then store it as one batch without duplicates.

Duplicates
----------
Every transaction gets a ``fingerprint``: the first 32 hex digits (128 bits) of the SHA-256 of
the UTF-8 text made of these fields joined by the unit separator ``\\x1f``, in this order:

1. the account id (decimal),
2. the booking date (ISO ``YYYY-MM-DD``),
3. the amount in cents (signed integer, money in positive),
4. the counterparty IBAN without spaces, upper case (empty when none),
5. the purpose, normalised: case-folded, every character that is neither a letter, a digit, an
   underscore nor whitespace removed, whitespace runs collapsed to one space, stripped,
6. the SEPA end-to-end reference, stripped (empty when none or ``NOTPROVIDED``).

``occurrence`` is k for the k-th transaction with the same fingerprint within one file. A
transaction is new when its (fingerprint, occurrence) is not yet stored for the account, i.e.
when its occurrence exceeds the highest stored one of its fingerprint. So re-importing a file
or an overlapping export adds nothing, while two genuine identical payments that the bank
lists twice in one file (two coffees on one day) are both kept.

The whole import is one transaction of the caller's session: the original file (archived with
its SHA-256), the batch record, the new transactions and one audit record are stored together
or not at all.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, insert, or_, select
from sqlalchemy.orm import Session

from belegwerk.banking.accounts import get_account
from belegwerk.banking.models import BankAccount, BankTransaction, ImportBatch
from belegwerk.banking.statement import (
    MAX_ROWS,
    ParsedStatement,
    ParsedTransaction,
    RejectedRow,
)
from belegwerk.core import bulk
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import owned_row
from belegwerk.core.documents import store_document
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.iban import normalize_iban
from belegwerk.core.money import MAX_AMOUNT
from belegwerk.core.types import utcnow

SEPARATOR = "\x1f"
IN_CHUNK = 900  # bound parameters per IN list (SQLite's historic limit is 999)
IN_LIST_MAX = 2000  # above this many fingerprints, read the file's date range instead
PAGE_SIZE_MAX = 500
_NOT_WORD = re.compile(r"[^\w\s]+")
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# --------------------------------------------------------------------------- fingerprints


# 128 bits of SHA-256 are plenty to tell statement lines apart and keep the unique index small.
FINGERPRINT_HEX = 32


def _to_cents(amount: Decimal) -> int:
    """Exact for amounts with at most two places (all parsers deliver those), rounded else."""
    scaled = amount.scaleb(2)
    cents = int(scaled)
    if cents != scaled:
        cents = int(scaled.to_integral_value(rounding=ROUND_HALF_UP))
    return cents


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk loops.

    A parsed 100,000-row statement keeps over a million objects alive; the loops here
    allocate millions more (none cyclic), and every collection they trigger walks all of
    them — twice the time of the loops themselves. Reference counting still frees memory.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def normalise_purpose(text: str) -> str:
    """Purpose as compared for duplicates (see the module docstring, field 5)."""
    return " ".join(_NOT_WORD.sub("", text.casefold()).split())


def _end_to_end(value: str) -> str:
    value = value.strip()
    return "" if value.upper() == "NOTPROVIDED" else value


def fingerprint(
    account_id: int,
    booking_date: date,
    cents: int,
    counterparty_iban: str,
    purpose: str,
    end_to_end_ref: str,
) -> str:
    """The duplicate fingerprint of one transaction (see the module docstring)."""
    text = SEPARATOR.join(
        (
            str(account_id),
            booking_date.isoformat(),
            str(cents),
            counterparty_iban.replace(" ", "").upper(),
            normalise_purpose(purpose),
            _end_to_end(end_to_end_ref),
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_HEX]


def fingerprints(
    account_id: int, transactions: Sequence[ParsedTransaction]
) -> list[tuple[str, int]]:
    """(fingerprint, occurrence within the file) for every transaction, in order."""
    prefix = f"{account_id}{SEPARATOR}"
    sha = hashlib.sha256
    sub = _NOT_WORD.sub
    seen: dict[str, int] = {}
    purposes: dict[str, str] = {}  # statements repeat purposes ("Kaffee"): normalise once
    keys: list[tuple[str, int]] = []
    append = keys.append
    for t in transactions:
        e2e = t.end_to_end_ref.strip()
        if e2e and e2e.upper() == "NOTPROVIDED":
            e2e = ""
        purpose = purposes.get(t.purpose)
        if purpose is None:
            purpose = purposes[t.purpose] = " ".join(sub("", t.purpose.casefold()).split())
        text = SEPARATOR.join(
            (
                prefix + t.booking_date.isoformat(),
                str(_to_cents(t.amount)),
                t.counterparty_iban.replace(" ", "").upper(),
                purpose,
                e2e,
            )
        )
        digest = sha(text.encode("utf-8")).hexdigest()[:FINGERPRINT_HEX]
        occurrence = seen.get(digest, 0) + 1
        seen[digest] = occurrence
        append((digest, occurrence))
    return keys


# --------------------------------------------------------------------------- preview


def preview(
    content: bytes,
    file_name: str,
    *,
    user_templates: Iterable[Any] = (),
    template_key: str | None = None,
) -> ParsedStatement:
    """Detect the format and parse the file; pure, nothing is stored."""
    from belegwerk.banking.detect import parse_file

    with gc_paused():
        statement: ParsedStatement = parse_file(
            content, file_name, user_templates=tuple(user_templates), template_key=template_key
        )
    return statement


def user_templates(session: Session, tenant_id: int) -> list[Any]:
    """The tenant's own CSV templates (they take priority in detection); a stored definition
    that no longer validates is left out rather than blocking every import."""
    from belegwerk.banking.csv_template import load_template_json
    from belegwerk.banking.models import UserTemplate

    query = (
        select(UserTemplate.definition)
        .where(UserTemplate.tenant_id == tenant_id)
        .order_by(UserTemplate.id)
    )
    found = []
    for definition in session.scalars(query):
        try:
            found.append(load_template_json(definition))
        except ValidationFailed:
            continue
    return found


# --------------------------------------------------------------------------- checks


def statement_iban(statement: ParsedStatement) -> str:
    """The statement's own IBAN when it names a valid one; else empty."""
    if not statement.account_iban:
        return ""
    try:
        return normalize_iban(statement.account_iban)
    except ValidationFailed:
        return ""


def same_account(statement_iban: str, account_iban: str) -> bool:
    """Equal IBANs, or for German IBANs the same bank code and account number.

    MT940 files of some banks name the account as BLZ/account number; the IBAN derived from that
    with the plain rule can differ from the real one in its check digits (a few banks have
    special IBAN rules), so German accounts compare by bank code and account number.
    """
    if statement_iban == account_iban:
        return True
    both_german = statement_iban[:2] == account_iban[:2] == "DE"
    if not both_german or len(statement_iban) != 22 or len(account_iban) != 22:
        return False
    return statement_iban[4:12] == account_iban[4:12] and statement_iban[12:].lstrip(
        "0"
    ) == account_iban[12:].lstrip("0")


def check_importable(account: BankAccount, statement: ParsedStatement) -> None:
    """Refuse what must never be stored: private accounts and another account's statement."""
    if account.account_type == "private":
        raise Conflict(
            "bank.private_account",
            _("{name} is a private account; private accounts are not imported.").format(
                name=account.name
            ),
            [{"field": "account_id", "value": account.id}],
        )
    own = statement_iban(statement)
    if own and not same_account(own, account.iban or ""):
        raise Conflict(
            "bank.account_mismatch",
            _(
                "The statement belongs to the account {statement_iban}, but the chosen "
                "account is {account_iban}."
            ).format(statement_iban=own, account_iban=account.iban or account.email),
            [
                {"field": "account_id", "value": account.id},
                {"statement_iban": own, "account_iban": account.iban or ""},
            ],
        )
    too_large = next((t for t in statement.transactions if abs(t.amount) > MAX_AMOUNT), None)
    if too_large is not None:
        raise ValidationFailed(
            "bank.amount_too_large",
            _("Line {line}: the amount {amount} is too large.").format(
                line=too_large.line_no, amount=too_large.amount
            ),
            [{"line": too_large.line_no, "value": str(too_large.amount)}],
        )
    if len(statement.transactions) > MAX_ROWS:
        raise ValidationFailed(
            "bank.too_many_rows",
            _("The file has more than {n} rows; please split it.").format(n=MAX_ROWS),
            [{"rows": len(statement.transactions), "max": MAX_ROWS}],
        )


def rejected_details(rejected: Sequence[RejectedRow]) -> list[dict[str, Any]]:
    return [{"line": r.line, "message": r.message} for r in rejected]


def check_rejected(statement: ParsedStatement, accept_rejected: bool) -> None:
    """Unreadable rows are never dropped silently: the user decides whether to import the rest."""
    if statement.rejected and not accept_rejected:
        raise ValidationFailed(
            "bank.rows_rejected",
            _(
                "{n} rows could not be read; check them, or import the other rows "
                "knowingly without them."
            ).format(n=len(statement.rejected)),
            rejected_details(statement.rejected),
        )
    if not statement.transactions:
        raise ValidationFailed(
            "bank.no_transactions",
            _("The file contains no transactions to import."),
            rejected_details(statement.rejected),
        )


# --------------------------------------------------------------------------- dedupe


def _existing_max(
    session: Session,
    tenant_id: int,
    account_id: int,
    keys: Sequence[tuple[str, int]],
    transactions: Sequence[ParsedTransaction],
) -> dict[str, int]:
    """Highest stored occurrence per fingerprint of the file, read set-based.

    Few fingerprints: IN lists of at most 900. Many: every stored row of the file's date range
    (a duplicate has the same booking date, so it must lie inside the range).
    """
    wanted = {fp for fp, _occ in keys}
    found: dict[str, int] = {}
    if not wanted:
        return found
    base = (BankTransaction.tenant_id == tenant_id, BankTransaction.account_id == account_id)
    if len(wanted) <= IN_LIST_MAX:
        ordered = sorted(wanted)
        for start in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[start : start + IN_CHUNK]
            query = (
                select(BankTransaction.fingerprint, func.max(BankTransaction.occurrence))
                .where(*base, BankTransaction.fingerprint.in_(chunk))
                .group_by(BankTransaction.fingerprint)
            )
            found.update({fp: occ for fp, occ in session.execute(query)})
        return found
    first = min(t.booking_date for t in transactions)
    last = max(t.booking_date for t in transactions)
    query = select(BankTransaction.fingerprint, BankTransaction.occurrence).where(
        *base, BankTransaction.booking_date >= first, BankTransaction.booking_date <= last
    )
    get = found.get
    for fp, occ in session.execute(query):
        if fp in wanted and occ > get(fp, 0):
            found[fp] = occ
    return found


@dataclass
class Plan:
    """Which rows of a statement are new for an account."""

    keys: list[tuple[str, int]]
    new: list[int]  # indices into statement.transactions

    @property
    def duplicates(self) -> int:
        return len(self.keys) - len(self.new)


def plan_import(
    session: Session, tenant_id: int, account_id: int, statement: ParsedStatement
) -> Plan:
    """Fingerprints and the new rows; reads only (used by ``--dry-run`` as well)."""
    txs = statement.transactions
    with gc_paused():
        keys = fingerprints(account_id, txs)
        existing = _existing_max(session, tenant_id, account_id, keys, txs)
        get = existing.get
        new = [i for i, (fp, occ) in enumerate(keys) if occ > get(fp, 0)]
    return Plan(keys, new)


# --------------------------------------------------------------------------- persist


_MEDIA_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".sta": "text/plain",
    ".mta": "text/plain",
    ".940": "text/plain",
    ".xml": "application/xml",
    ".zip": "application/zip",
}


def _media_type(file_name: str, fmt: str) -> str:
    suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix in _MEDIA_TYPES:
        return _MEDIA_TYPES[suffix]
    return {"csv": "text/csv", "camt": "application/xml"}.get(fmt, "text/plain")


COLUMNS = (
    "tenant_id",
    "account_id",
    "batch_id",
    "line_no",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "counterparty_bic",
    "purpose",
    "booking_text",
    "end_to_end_ref",
    "mandate_ref",
    "creditor_id",
    "gv_code",
    "balance_after",
    "fee_of_id",
    "raw",
    "fingerprint",
    "occurrence",
    "created_at",
)
_DATE_COLUMNS = (COLUMNS.index("booking_date"), COLUMNS.index("value_date"))
_MONEY_COLUMNS = (COLUMNS.index("amount"), COLUMNS.index("balance_after"))
_FEE_COLUMN = COLUMNS.index("fee_of_id")


def _values(
    tenant_id: int,
    account: BankAccount,
    batch_id: int,
    statement: ParsedStatement,
    plan: Plan,
    indices: Sequence[int],
) -> list[list[Any]]:
    """One list of column values (in ``COLUMNS`` order) per new row: no ORM object per row."""
    now = utcnow()
    txs = statement.transactions
    keys = plan.keys
    default_currency = (statement.currency or account.currency or "EUR")[:3]
    dumps = _DUMPS
    account_id = account.id
    rows: list[list[Any]] = []
    append = rows.append
    for i in indices:
        t = txs[i]
        fp, occ = keys[i]
        append(
            [
                tenant_id,
                account_id,
                batch_id,
                t.line_no,
                t.booking_date,
                t.value_date,
                t.amount,
                (t.currency or default_currency)[:3],
                t.counterparty_name[:200],
                t.counterparty_iban.replace(" ", "").upper()[:34],
                t.counterparty_bic[:11],
                t.purpose,
                t.booking_text[:200],
                t.end_to_end_ref[:100],
                t.mandate_ref[:100],
                t.creditor_id[:50],
                t.gv_code[:10],
                t.balance_after,
                None,
                dumps(t.raw),
                fp,
                occ,
                now,
            ]
        )
    return rows


def _cents(rows: list[list[Any]]) -> None:
    """Money columns to integer cents in place (what the Money type stores)."""
    a_col, bal_col = _MONEY_COLUMNS
    for r in rows:
        r[a_col] = _to_cents(r[a_col])
        if r[bal_col] is not None:
            r[bal_col] = _to_cents(r[bal_col])


def _write(session: Session, rows: list[list[Any]]) -> None:
    """Insert the rows with one executemany, values converted once here.

    The rows go straight to the driver (SQLite's executemany, psycopg's pipeline): SQLAlchemy's
    per-row typed processing costs more than the insert itself at 100,000 rows (on
    PostgreSQL ten times as much). Dates and the time stamp go through the column types' own
    converters for the dialect, money becomes cents as the Money type stores it. Row-level
    security and the constraints apply as to any insert (COPY is not allowed under RLS).
    """
    if not rows:
        return
    table = cast(Table, BankTransaction.__table__)
    to_date = bulk.binder(session, table, "booking_date")
    stamp = bulk.binder(session, table, "created_at")(rows[0][-1])
    _cents(rows)
    b_col, v_col = _DATE_COLUMNS
    dates: dict[date, Any] = {}  # a statement has few distinct days: convert each once
    for r in rows:
        for col in (b_col, v_col):
            day = r[col]
            if day is not None:
                text = dates.get(day)
                if text is None:
                    text = dates[day] = to_date(day)
                r[col] = text
        r[-1] = stamp
    bulk.insert_tuples(session, table, COLUMNS, [tuple(r) for r in rows])


def _insert(
    session: Session,
    tenant_id: int,
    account: BankAccount,
    batch_id: int,
    statement: ParsedStatement,
    plan: Plan,
) -> None:
    """One executemany insert; PayPal fees in a second one, pointing at their payment."""
    txs = statement.transactions
    # In fingerprint order: the unique index then grows page by page instead of at random
    # places (a third less insert time on SQLite). File order stays in line_no.
    ordered = sorted(plan.new, key=plan.keys.__getitem__)
    fees = [i for i in ordered if txs[i].fee_of is not None]
    if not fees:
        _write(session, _values(tenant_id, account, batch_id, statement, plan, ordered))
        return
    fee_set = set(fees)
    parents = [i for i in ordered if i not in fee_set]
    ids: dict[tuple[str, int], int] = {}
    rows = _values(tenant_id, account, batch_id, statement, plan, parents)
    if rows:
        returned = session.execute(
            insert(BankTransaction).returning(
                BankTransaction.id,
                BankTransaction.fingerprint,
                BankTransaction.occurrence,
                sort_by_parameter_order=True,
            ),
            [dict(zip(COLUMNS, r, strict=True)) for r in rows],
        )
        ids = {(fp, occ): row_id for row_id, fp, occ in returned}
    missing = {plan.keys[p] for i in fees if (p := txs[i].fee_of) is not None} - set(ids)
    if missing:  # the payment was stored by an earlier import
        ids.update(_ids_of(session, tenant_id, account.id, missing))
    fee_rows = _values(tenant_id, account, batch_id, statement, plan, fees)
    for row, i in zip(fee_rows, fees, strict=True):
        parent = txs[i].fee_of
        if parent is not None and 0 <= parent < len(txs):
            row[_FEE_COLUMN] = ids.get(plan.keys[parent])
    _write(session, fee_rows)


def _ids_of(
    session: Session, tenant_id: int, account_id: int, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    wanted = sorted(keys)
    ids: dict[tuple[str, int], int] = {}
    for start in range(0, len(wanted), IN_CHUNK // 2):
        chunk = wanted[start : start + IN_CHUNK // 2]
        condition: ColumnElement[bool] = or_(
            *(
                and_(BankTransaction.fingerprint == fp, BankTransaction.occurrence == occ)
                for fp, occ in chunk
            )
        )
        query = select(
            BankTransaction.id, BankTransaction.fingerprint, BankTransaction.occurrence
        ).where(
            BankTransaction.tenant_id == tenant_id,
            BankTransaction.account_id == account_id,
            condition,
        )
        ids.update({(fp, occ): row_id for row_id, fp, occ in session.execute(query)})
    return ids


def _classifier() -> Callable[[Session, int, int], Any] | None:
    """The classifier's hook, when that module is installed (it is optional here)."""
    try:
        module = importlib.import_module("belegwerk.banking.classify")
    except ModuleNotFoundError as exc:
        if exc.name in ("belegwerk.banking.classify", "belegwerk.banking"):
            return None
        raise
    hook = getattr(module, "suggest_for_batch", None)
    return hook if callable(hook) else None


def same_file_imported(
    session: Session, tenant_id: int, account_id: int, sha256: str, before_id: int | None = None
) -> bool:
    """Whether this very file (same SHA-256) was imported into the account before."""
    query = select(ImportBatch.id).where(
        ImportBatch.tenant_id == tenant_id,
        ImportBatch.account_id == account_id,
        ImportBatch.file_sha256 == sha256,
    )
    if before_id is not None:
        query = query.where(ImportBatch.id < before_id)
    return session.scalar(query.limit(1)) is not None


def import_statement(
    session: Session,
    tenant_id: int,
    account_id: int,
    statement: ParsedStatement,
    content: bytes,
    file_name: str,
    *,
    actor: str = "local",
    accept_rejected: bool = False,
    classify: bool = True,
    timings: dict[str, float] | None = None,
) -> ImportBatch:
    """Store a parsed statement as one batch; duplicates are counted, not stored again.

    Refuses private accounts (bank.private_account), another account's statement
    (bank.account_mismatch) and, unless ``accept_rejected``, files with unreadable rows
    (bank.rows_rejected) — in each case nothing is stored. ``timings`` (optional) receives
    the seconds spent in dedupe, persist and classify.
    """
    clock = time.perf_counter
    account = get_account(session, tenant_id, account_id)
    check_importable(account, statement)
    check_rejected(statement, accept_rejected)

    started = clock()
    plan = plan_import(session, tenant_id, account.id, statement)
    deduped = clock()

    document, _new = store_document(
        session,
        tenant_id,
        content,
        file_name,
        _media_type(file_name, statement.format),
        actor=actor,
    )
    rejected = rejected_details(statement.rejected)
    batch = ImportBatch(
        tenant_id=tenant_id,
        account_id=account.id,
        document_id=document.id,
        file_name=file_name[:255],
        file_sha256=document.sha256,
        format=statement.format[:10],
        template_key=statement.template_key[:80],
        score=Decimal(statement.score).quantize(Decimal("0.0001")),
        rows=len(statement.transactions) + len(rejected),
        imported=len(plan.new),
        duplicates=plan.duplicates,
        rejected=len(rejected),
        rejected_rows=json.dumps(rejected, ensure_ascii=False),
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    with gc_paused():
        _insert(session, tenant_id, account, batch.id, statement, plan)
    audit_writer(session, tenant_id, actor).record(
        "import",
        "bank_import_batch",
        batch.id,
        after={
            "account_id": account.id,
            "file_name": batch.file_name,
            "file_sha256": batch.file_sha256,
            "format": batch.format,
            "template_key": batch.template_key,
            "rows": batch.rows,
            "imported": batch.imported,
            "duplicates": batch.duplicates,
            "rejected": batch.rejected,
        },
    )
    session.flush()
    persisted = clock()

    hook = _classifier() if classify and batch.imported else None
    if hook is not None:
        with gc_paused():
            hook(session, tenant_id, batch.id)
            session.flush()
    if timings is not None:
        timings["dedupe"] = deduped - started
        timings["persist"] = persisted - deduped
        timings["classify"] = clock() - persisted
    return batch


# --------------------------------------------------------------------------- reading


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int


def _page_bounds(page: int, page_size: int) -> tuple[int, int]:
    page = max(1, int(page))
    page_size = min(max(1, int(page_size)), PAGE_SIZE_MAX)
    return page, page_size


def list_transactions(
    session: Session,
    tenant_id: int,
    account_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    search: str | None = None,
    direction: str | None = None,
    page: int = 1,
    page_size: int = 50,
    batch_id: int | None = None,
) -> Page:
    """Transactions newest first, filtered in SQL, with the total count for paging."""
    page, page_size = _page_bounds(page, page_size)
    conditions: list[ColumnElement[bool]] = [BankTransaction.tenant_id == tenant_id]
    if account_id is not None:
        conditions.append(BankTransaction.account_id == account_id)
    if batch_id is not None:
        conditions.append(BankTransaction.batch_id == batch_id)
    if date_from is not None:
        conditions.append(BankTransaction.booking_date >= date_from)
    if date_to is not None:
        conditions.append(BankTransaction.booking_date <= date_to)
    if direction in ("in", "out"):
        conditions.append(
            BankTransaction.amount > 0 if direction == "in" else BankTransaction.amount < 0
        )
    elif direction:
        raise ValidationFailed(
            "bank.invalid_direction",
            _("The direction must be in or out."),
            [{"field": "direction", "value": direction}],
        )
    text = (search or "").strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                BankTransaction.counterparty_name.ilike(pattern, escape="\\"),
                BankTransaction.purpose.ilike(pattern, escape="\\"),
                BankTransaction.counterparty_iban.ilike(pattern.replace(" ", ""), escape="\\"),
                BankTransaction.end_to_end_ref.ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count(BankTransaction.id)).where(*conditions)) or 0
    query = (
        select(BankTransaction)
        .where(*conditions)
        .order_by(
            BankTransaction.booking_date.desc(),
            BankTransaction.batch_id.desc(),
            BankTransaction.line_no,
        )
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return Page(list(session.scalars(query)), total, page, page_size)


def get_transaction(session: Session, tenant_id: int, transaction_id: int) -> BankTransaction:
    return owned_row(
        session,
        BankTransaction,
        tenant_id,
        transaction_id,
        code="bank.transaction_not_found",
        message=_("Bank transaction not found."),
        field="transaction_id",
    )


def list_batches(
    session: Session,
    tenant_id: int,
    account_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page:
    page, page_size = _page_bounds(page, page_size)
    conditions: list[ColumnElement[bool]] = [ImportBatch.tenant_id == tenant_id]
    if account_id is not None:
        conditions.append(ImportBatch.account_id == account_id)
    total = session.scalar(select(func.count(ImportBatch.id)).where(*conditions)) or 0
    query = (
        select(ImportBatch)
        .where(*conditions)
        .order_by(ImportBatch.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return Page(list(session.scalars(query)), total, page, page_size)


def get_batch(session: Session, tenant_id: int, batch_id: int) -> ImportBatch:
    return owned_row(
        session,
        ImportBatch,
        tenant_id,
        batch_id,
        code="bank.import_not_found",
        message=_("Import not found."),
        field="batch_id",
    )


def batch_rejected(batch: ImportBatch) -> list[dict[str, Any]]:
    try:
        rows = json.loads(batch.rejected_rows or "[]")
    except ValueError:
        return []
    return rows if isinstance(rows, list) else []
