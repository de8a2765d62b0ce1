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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import compress, count, repeat
from operator import eq, gt, itemgetter, methodcaller
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.orm import Session

from belegwerk.banking.accounts import get_account
from belegwerk.banking.models import BankAccount, BankTransaction, ImportBatch
from belegwerk.banking.statement import (
    MAX_ROWS,
    ParsedStatement,
    ParsedTransaction,
    RejectedRow,
    TransactionColumns,
)
from belegwerk.core import bulk
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import owned_row
from belegwerk.core.documents import store_document
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.iban import normalize_iban
from belegwerk.core.money import MAX_AMOUNT, from_cents, to_cents
from belegwerk.core.types import utcnow

SEPARATOR = "\x1f"
MAX_CENTS = to_cents(MAX_AMOUNT)
IN_CHUNK = 900  # bound parameters per IN list (SQLite's historic limit is 999)
IN_LIST_MAX = 2000  # above this many fingerprints, read the file's date range instead
PAGE_SIZE_MAX = 500
_NOT_WORD = re.compile(r"[^\w\s]+")
_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# --------------------------------------------------------------------------- fingerprints


# 128 bits of SHA-256 are plenty to tell statement lines apart and keep the unique index small.
FINGERPRINT_HEX = 32
_HEXDIGEST = methodcaller("hexdigest")
_FINGERPRINT_PART = itemgetter(slice(0, FINGERPRINT_HEX))


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


_ASCII_NOT_WORD = [c for c in map(chr, range(1, 128)) if _NOT_WORD.match(c)]
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def normalise_purposes(texts: Iterable[str]) -> dict[str, str]:
    """:func:`normalise_purpose` of each distinct text, all in one go.

    Case folding, removing characters and collapsing spaces each act character by character,
    so they run once over the texts joined by NUL instead of three calls per text: each
    character to remove (ASCII punctuation present, non-ASCII ones found) goes with one
    ``str.replace``; a text holding NUL itself is normalised on its own.
    """
    distinct = list(set(texts))
    joined = "\x00".join(distinct)
    if not distinct or joined.count("\x00") != len(distinct) - 1:
        return {text: normalise_purpose(text) for text in distinct}
    folded = joined.casefold()
    removed = [char for char in _ASCII_NOT_WORD if char in folded]
    if not folded.isascii():
        others = set("".join(_NON_ASCII.findall(folded)))
        removed += [char for char in others if _NOT_WORD.match(char)]
    for char in removed:
        folded = folded.replace(char, "")
    parts = " ".join(folded.split()).split("\x00")
    return dict(zip(distinct, map(str.strip, parts, repeat(" ")), strict=True))


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
    account_id: int, transactions: TransactionColumns | Sequence[ParsedTransaction]
) -> list[tuple[str, int]]:
    """(fingerprint, occurrence within the file) for every transaction, in order."""
    columns = (
        transactions
        if isinstance(transactions, TransactionColumns)
        else TransactionColumns.from_transactions(transactions)
    )
    digests, occurrences = _fingerprint_columns(account_id, columns)
    return list(zip(digests, occurrences, strict=True))


def _fingerprint_columns(
    account_id: int, columns: TransactionColumns
) -> tuple[list[str], list[int]]:
    """The fingerprints column by column: each distinct date, IBAN, purpose and reference is
    normalised once (statements repeat them), the texts are joined and hashed without a
    Python loop; only the occurrence count walks the rows."""
    prefix = f"{account_id}{SEPARATOR}"
    days = {day: prefix + day.isoformat() for day in set(columns.booking_date)}
    ibans = {iban: iban.replace(" ", "").upper() for iban in set(columns.counterparty_iban)}
    purposes = normalise_purposes(columns.purpose)
    refs = {ref: _end_to_end(ref) for ref in set(columns.end_to_end_ref)}
    texts = map(
        SEPARATOR.join,
        zip(
            map(days.__getitem__, columns.booking_date),
            map(str, columns.cents),
            _mapped(columns.counterparty_iban, ibans),
            map(purposes.__getitem__, columns.purpose),
            _mapped(columns.end_to_end_ref, refs),
            strict=True,
        ),
    )
    hashes = map(hashlib.sha256, map(str.encode, texts))
    digests = list(map(_FINGERPRINT_PART, map(_HEXDIGEST, hashes)))
    return digests, _occurrences(digests)


def _mapped(values: list[str], mapping: dict[str, str]) -> Iterable[str]:
    """``values`` through ``mapping``; as they are when it changes none of them."""
    if all(map(eq, mapping, mapping.values())):
        return values
    return map(mapping.__getitem__, values)


def _occurrences(digests: list[str]) -> list[int]:
    """k for the k-th line with the same fingerprint; only repeated ones are counted."""
    occurrences = [1] * len(digests)
    repeated = {digest for digest, n in Counter(digests).items() if n > 1}
    if repeated:
        seen: dict[str, int] = {}
        for k in [k for k, digest in enumerate(digests) if digest in repeated]:
            occurrences[k] = seen[digests[k]] = seen.get(digests[k], 0) + 1
    return occurrences


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
    columns = statement.columns()
    cents = columns.cents
    if cents and max(map(abs, cents)) > MAX_CENTS:
        k = next(k for k, value in enumerate(cents) if abs(value) > MAX_CENTS)
        line, amount = columns.line_no[k], from_cents(cents[k])
        raise ValidationFailed(
            "bank.amount_too_large",
            _("Line {line}: the amount {amount} is too large.").format(line=line, amount=amount),
            [{"line": line, "value": str(amount)}],
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
    digests: Sequence[str],
    booking_dates: Sequence[date],
) -> dict[str, int]:
    """Highest stored occurrence per fingerprint of the file, read set-based.

    Few fingerprints: IN lists of at most 900. Many: every stored row of the file's date range
    (a duplicate has the same booking date, so it must lie inside the range).
    """
    wanted = set(digests)
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
    query = select(BankTransaction.fingerprint, BankTransaction.occurrence).where(
        *base,
        BankTransaction.booking_date >= min(booking_dates),
        BankTransaction.booking_date <= max(booking_dates),
    )
    get = found.get
    for fp, occ in session.connection().execute(query).all():  # Core rows, fetched at once
        if occ > get(fp, 0):
            found[fp] = occ
    return found


@dataclass
class Plan:
    """Which lines of a statement are new for an account, with what their storing reuses."""

    columns: TransactionColumns
    digests: list[str]  # the fingerprints
    occurrences: list[int]
    new: list[int]  # positions of the new lines

    @property
    def duplicates(self) -> int:
        return len(self.digests) - len(self.new)

    def key(self, k: int) -> tuple[str, int]:
        return self.digests[k], self.occurrences[k]


def plan_import(
    session: Session, tenant_id: int, account_id: int, statement: ParsedStatement
) -> Plan:
    """Fingerprints and the new lines; reads only (used by ``--dry-run`` as well)."""
    columns = statement.columns()
    with gc_paused():
        digests, occurrences = _fingerprint_columns(account_id, columns)
        existing = _existing_max(session, tenant_id, account_id, digests, columns.booking_date)
        stored = map(existing.get, digests, repeat(0))
        new = list(compress(count(), map(gt, occurrences, stored)))
    return Plan(columns, digests, occurrences, new)


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


# The columns of a stored line that vary from line to line (tenant, account and batch are the
# same for all lines of an import and go into the statement once, see bulk.insert_tuples).
COLUMNS = (
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
    "raw",
    "fingerprint",
    "occurrence",
    "created_at",
)
_TABLE = cast(Table, BankTransaction.__table__)
_AT = {name: k for k, name in enumerate(COLUMNS)}


def _picker(positions: Sequence[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """``values -> [values[k] for k in positions]`` without a Python loop."""
    if len(positions) < 2:
        return lambda values: [values[k] for k in positions]
    return itemgetter(*positions)


def _cut(width: int) -> Callable[[str], str]:
    return itemgetter(slice(0, width))


def _rows(
    session: Session,
    plan: Plan,
    currency: str,
    positions: Sequence[int],
    fee_of_ids: Sequence[int | None] | None = None,
) -> list[Sequence[Any]]:
    """The lines at ``positions`` column by column in ``COLUMNS`` order (and their payment's
    id, for PayPal fees), converted to what the driver receives: dates and the time stamp
    through the column types' own converters, money as the cents the Money type stores,
    each distinct value converted once."""
    c = plan.columns
    pick = _picker(positions)
    to_date = bulk.binder(session, _TABLE, "booking_date")
    stamp = bulk.binder(session, _TABLE, "created_at")(utcnow())
    booking, value = pick(c.booking_date), pick(c.value_date)
    days = {day: None if day is None else to_date(day) for day in {*booking, *value}}
    currencies = pick(c.currency)
    codes = {code: (code or currency)[:3] for code in set(currencies)}
    ibans = pick(c.counterparty_iban)
    clean = {iban: iban.replace(" ", "").upper()[:34] for iban in set(ibans)}
    columns: list[Sequence[Any]] = [
        pick(c.line_no),
        list(map(days.__getitem__, booking)),
        list(map(days.__getitem__, value)),
        pick(c.cents),
        list(map(codes.__getitem__, currencies)),
        list(map(_cut(200), pick(c.counterparty_name))),
        list(map(clean.__getitem__, ibans)),
        list(map(_cut(11), pick(c.counterparty_bic))),
        pick(c.purpose),
        list(map(_cut(200), pick(c.booking_text))),
        list(map(_cut(100), pick(c.end_to_end_ref))),
        list(map(_cut(100), pick(c.mandate_ref))),
        list(map(_cut(50), pick(c.creditor_id))),
        list(map(_cut(10), pick(c.gv_code))),
        pick(c.balance_cents),
        pick(c.raw),
        pick(plan.digests),
        pick(plan.occurrences),
        [stamp] * len(positions),
    ]
    if fee_of_ids is not None:
        columns.append(fee_of_ids)
    return columns


def _insert(
    session: Session,
    tenant_id: int,
    account: BankAccount,
    batch_id: int,
    plan: Plan,
    currency: str,
) -> list[Sequence[Any]]:
    """The new lines with one executemany (PayPal fees with a second one, pointing at their
    payment); returns the stored values column by column (``COLUMNS``), in the order stored.

    The rows go straight to the driver (SQLite's executemany, psycopg's pipeline):
    SQLAlchemy's per-row typed processing costs more than the insert itself at 100,000 rows
    (on PostgreSQL ten times as much). Row-level security and the constraints apply as to
    any insert (COPY is not allowed under RLS).
    """
    # In fingerprint order: the unique index then grows page by page instead of at random
    # places (a third less insert time on SQLite). File order stays in line_no.
    order = sorted(plan.new, key=plan.digests.__getitem__)
    fixed = {"tenant_id": tenant_id, "account_id": account.id, "batch_id": batch_id}
    fee_of = plan.columns.fee_of
    fees = [k for k in order if fee_of[k] is not None]
    fee_set = set(fees)
    columns = _rows(session, plan, currency, [k for k in order if k not in fee_set])
    rows = list(zip(*columns, strict=True))
    bulk.insert_tuples(session, _TABLE, COLUMNS, rows, fixed={**fixed, "fee_of_id": None})
    if not fees:
        return columns
    # The payment of a fee is in this file; it may have been stored by an earlier import.
    count = len(fee_of)
    wanted = {plan.key(p) for k in fees if (p := fee_of[k]) is not None and 0 <= p < count}
    ids = _ids_of(session, tenant_id, account.id, wanted)
    fee_ids = [
        ids.get(plan.key(p)) if (p := fee_of[k]) is not None and 0 <= p < count else None
        for k in fees
    ]
    fee_columns = _rows(session, plan, currency, fees, fee_ids)
    fee_rows = list(zip(*fee_columns, strict=True))
    bulk.insert_tuples(session, _TABLE, (*COLUMNS, "fee_of_id"), fee_rows, fixed=fixed)
    return [[*a, *b] for a, b in zip(columns, fee_columns, strict=False)]


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


def _suggestion_lines(account_id: int, columns: list[Sequence[Any]]) -> Any:
    """The stored lines as the classifier reads them (``classify.Lines``), in the order they
    were stored; a line's provisional id is its position."""
    from belegwerk.banking.classify import Lines

    n = len(columns[0])
    return Lines(
        range(n),
        [account_id] * n,
        columns[_AT["amount"]],
        columns[_AT["counterparty_iban"]],
        columns[_AT["counterparty_name"]],
        columns[_AT["purpose"]],
        columns[_AT["booking_text"]],
    )


def _stored_ids(
    session: Session, tenant_id: int, batch_id: int, columns: list[Sequence[Any]]
) -> Callable[[list[int]], list[int]]:
    """Ids of stored lines by position (as in ``columns``), read when asked for."""
    digests, occurrences = columns[_AT["fingerprint"]], columns[_AT["occurrence"]]

    def ids(positions: list[int]) -> list[int]:
        query = select(
            BankTransaction.id, BankTransaction.fingerprint, BankTransaction.occurrence
        ).where(BankTransaction.tenant_id == tenant_id, BankTransaction.batch_id == batch_id)
        stored = session.connection().execute(query).all()  # Core rows, fetched at once
        by_key = {(fp, occ): row_id for row_id, fp, occ in stored}
        return [by_key[digests[k], occurrences[k]] for k in positions]

    return ids


def _classifier() -> Callable[..., Any] | None:
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
    # One pause of the cyclic collector for the whole import: its temporaries (tens of
    # thousands of row tuples) are gone when _import returns, so the collection that follows
    # the pause has nothing big left to walk.
    with gc_paused():
        return _import(
            session,
            tenant_id,
            account_id,
            statement,
            content,
            file_name,
            actor=actor,
            accept_rejected=accept_rejected,
            classify=classify,
            timings=timings,
        )


def _import(
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
    """The import itself (see :func:`import_statement`)."""
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
    layout = plan.columns.raw_layout
    batch = ImportBatch(
        tenant_id=tenant_id,
        account_id=account.id,
        document_id=document.id,
        file_name=file_name[:255],
        file_sha256=document.sha256,
        format=statement.format[:10],
        template_key=statement.template_key[:80],
        score=Decimal(statement.score).quantize(Decimal("0.0001")),
        rows=len(plan.columns) + len(rejected),
        imported=len(plan.new),
        duplicates=plan.duplicates,
        rejected=len(rejected),
        rejected_rows=json.dumps(rejected, ensure_ascii=False),
        raw_layout=layout.to_json() if layout is not None else None,
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    currency = (statement.currency or account.currency or "EUR")[:3]
    stored = _insert(session, tenant_id, account, batch.id, plan, currency)
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
        ids = _stored_ids(session, tenant_id, batch.id, stored)
        lines = _suggestion_lines(account.id, stored)
        hook(session, tenant_id, batch.id, lines=lines, ids=ids)
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
