"""Pieces shared by the structured statement parsers (MT940, CAMT).

A file may hold several statements (one per day, per page or per account). Each is read into
a :class:`StatementPart`; :func:`combine` joins them into the one :class:`ParsedStatement` the
importer consumes and refuses files that mix accounts, because importing them into one bank
account would put another account's money into the books.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from belegwerk.banking.statement import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    Candidate,
    ParsedStatement,
    ParsedTransaction,
    RejectedRow,
)
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import parse_money

# Column widths of bank_transactions (models.py); longer bank text is cut, the raw keeps it all.
FIELD_WIDTHS = {
    "counterparty_name": 200,
    "booking_text": 200,
    "end_to_end_ref": 100,
    "mandate_ref": 100,
    "creditor_id": 50,
    "gv_code": 10,
}

_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}")
_BIC_SHAPE = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


def check_size(content: bytes, file_name: str) -> None:
    """Refuse an empty or oversized file before anything is parsed."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationFailed(
            "bank.too_large",
            _("The file {name} is larger than {limit} MB.").format(
                name=file_name, limit=MAX_FILE_BYTES // (1024 * 1024)
            ),
            [{"file": file_name, "bytes": len(content), "limit": MAX_FILE_BYTES}],
        )
    if not content.strip(b" \t\r\n\x00\x01\x03\x1a\xef\xbb\xbf"):
        raise ValidationFailed(
            "bank.empty_file",
            _("The file {name} is empty.").format(name=file_name),
            [{"file": file_name}],
        )


def money(text: str) -> Decimal:
    """A bank amount as Decimal with two places; raises ValidationFailed with a German message.

    ``8.850`` is accepted as 8.85 (trailing zeros carry no value); ``8.853`` is refused: the
    books hold cents, and rounding a bank's amount silently would break the balance check.
    """
    return parse_money(text.strip().replace(",", "."), allow_negative=True)


def clip(value: str | None, width: int) -> str:
    """Collapse whitespace and cut to the column width."""
    if not value:
        return ""
    return " ".join(value.split())[:width]


def iban_or_empty(value: str | None) -> str:
    """The value as compact IBAN when it looks like one (as delivered, checksum not enforced)."""
    compact = re.sub(r"\s+", "", value or "").upper()
    return compact if _IBAN_SHAPE.fullmatch(compact) else ""


def bic_or_empty(value: str | None) -> str:
    compact = re.sub(r"\s+", "", value or "").upper()
    return compact if _BIC_SHAPE.fullmatch(compact) else ""


def fill_widths(tx: ParsedTransaction) -> ParsedTransaction:
    """Cut text fields to the database widths; a cut value is kept whole in ``raw``."""
    for name, width in FIELD_WIDTHS.items():
        value = " ".join(str(getattr(tx, name)).split())
        if len(value) > width:
            tx.raw[f"{name}_full"] = value
        setattr(tx, name, value[:width])
    tx.purpose = " ".join(tx.purpose.split())
    return tx


@dataclass
class StatementPart:
    """One statement (MT940 ``:20:`` block, CAMT ``Stmt``/``Rpt``/``Ntfctn``) before joining."""

    label: str  # for messages: statement reference, CAMT Id, ZIP member
    account: str = ""  # as the bank wrote it, "" when absent
    account_iban: str | None = None
    currency: str | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    transactions: list[ParsedTransaction] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    lost_entries: int = 0  # entries that could not be read (balances cannot be trusted then)
    skipped: int = 0


def apply_running_balance(part: StatementPart) -> None:
    """Fill ``balance_after`` from the opening balance, but only when the sums check out.

    The statement's closing balance, when given, must equal opening + entries; otherwise (or
    when an entry was rejected, or currencies are mixed) no balance is derived at all.
    """
    if part.opening_balance is None or part.lost_entries or not part.transactions:
        return
    currencies = {tx.currency for tx in part.transactions}
    if part.currency and currencies != {part.currency}:
        return
    running = part.opening_balance
    balances = []
    for tx in part.transactions:
        running += tx.amount
        balances.append(running)
    if part.closing_balance is not None and running != part.closing_balance:
        return
    for tx, balance in zip(part.transactions, balances, strict=True):
        tx.balance_after = balance


def _identity(part: StatementPart) -> str:
    return part.account_iban or re.sub(r"\s+", "", part.account).upper()


def to_statement(
    parts: list[StatementPart],
    *,
    fmt: str,
    template_key: str,
    template_name: str,
    file_name: str,
) -> ParsedStatement:
    """Join the statements of one file; refuse a file that mixes several accounts."""
    accounts: dict[str, StatementPart] = {}
    for part in parts:
        identity = _identity(part)
        if identity:
            accounts.setdefault(identity, part)
    if len(accounts) > 1:
        names = sorted(accounts)
        raise ValidationFailed(
            "bank.multiple_accounts",
            _(
                "The file {name} contains statements of several accounts ({accounts}). "
                "Please export each account into its own file."
            ).format(name=file_name, accounts=", ".join(names)),
            [{"file": file_name, "accounts": names}],
        )
    transactions = [tx for part in parts for tx in part.transactions]
    if len(transactions) > MAX_ROWS:
        raise ValidationFailed(
            "bank.too_many_rows",
            _("The file {name} has more than {limit} entries.").format(
                name=file_name, limit=MAX_ROWS
            ),
            [{"file": file_name, "rows": len(transactions), "limit": MAX_ROWS}],
        )
    ibans = [part.account_iban for part in parts if part.account_iban]
    currency = next((part.currency for part in parts if part.currency), None)
    if currency is None:
        currency = transactions[0].currency if transactions else "EUR"
    return ParsedStatement(
        format=fmt,
        template_key=template_key,
        template_name=template_name,
        score=Decimal(1),
        transactions=transactions,
        rejected=[row for part in parts for row in part.rejected],
        account_iban=ibans[0] if ibans else None,
        currency=currency,
        candidates=[Candidate(key=template_key, name=template_name, score=Decimal(1))],
        skipped=sum(part.skipped for part in parts),
    )
