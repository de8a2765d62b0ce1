"""The one shape every statement parser (CSV template, MT940, CAMT) produces.

Parsers turn bytes into a :class:`ParsedStatement`; the importer persists it. Parsers never
touch the database, so detection, preview and ``--dry-run`` are pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

# Hard limits at the edge (README documents them).
MAX_FILE_BYTES = 50 * 1024 * 1024  # a 100 MB file is refused with bank.too_large
MAX_ROWS = 500_000


@dataclass
class ParsedTransaction:
    """One statement line, normalised; ``amount`` is signed (money in positive)."""

    line_no: int  # 1-based line (CSV) or entry number (MT940/CAMT) for messages
    booking_date: date
    amount: Decimal
    value_date: date | None = None
    currency: str = "EUR"
    counterparty_name: str = ""
    counterparty_iban: str = ""
    counterparty_bic: str = ""
    purpose: str = ""
    booking_text: str = ""
    end_to_end_ref: str = ""
    mandate_ref: str = ""
    creditor_id: str = ""
    gv_code: str = ""
    balance_after: Decimal | None = None
    raw: dict[str, str] = field(default_factory=dict)
    # PayPal: a fee is its own transaction; this is the index (in the list) of the payment
    # it belongs to.
    fee_of: int | None = None


@dataclass
class RejectedRow:
    """A row that could not be read: reported with its line and reason, never dropped silently."""

    line: int
    message: str  # German, through gettext
    code: str = "bank.row_invalid"


@dataclass
class Candidate:
    """A template (or format) that could read the file, with its detection score 0..1."""

    key: str
    name: str
    score: Decimal


@dataclass
class ParsedStatement:
    format: str  # csv | mt940 | camt
    template_key: str  # CSV template key, or "mt940" / "camt053" …
    template_name: str  # shown to the user: "Sparkasse (CSV-CAMT V2)"
    score: Decimal
    transactions: list[ParsedTransaction]
    rejected: list[RejectedRow] = field(default_factory=list)
    account_iban: str | None = None  # when the statement names its own account
    currency: str = "EUR"
    candidates: list[Candidate] = field(default_factory=list)  # best first
    ambiguous: bool = False  # two templates tie: the user must choose
    skipped: int = 0  # rows ignored on purpose (pending/"vorgemerkt", totals), not errors
