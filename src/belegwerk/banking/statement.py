"""The one shape every statement parser (CSV template, MT940, CAMT) produces.

Parsers turn bytes into a :class:`ParsedStatement`; the importer persists it. Parsers never
touch the database, so detection, preview and ``--dry-run`` are pure.

A statement holds its lines either as :class:`ParsedTransaction` objects (MT940, CAMT) or, from
the CSV parser, column by column (:class:`TransactionColumns`): 100,000 lines are then a few
lists instead of 100,000 objects, and the importer works on the columns directly. Either way
``statement.transactions`` is the sequence of :class:`ParsedTransaction`; for columns its
objects are made when read (a preview of ten lines makes ten).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, overload

from belegwerk.core.money import from_cents, to_cents

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


# --------------------------------------------------------------------------- raw rows


_RAW_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True)
class RawLayout:
    """How a CSV record, kept as the text the bank wrote, reads back into its named columns.

    The column names are kept once per import instead of in every line (ING repeats
    "Währung": the second is "Währung (2)"; files without a header have numbers).
    """

    columns: tuple[str, ...]
    delimiter: str
    quotechar: str

    def cells(self, source: str) -> list[str]:
        """The record's cells, split exactly as the parser split them."""
        lines = (line + "\n" for line in source.split("\n"))
        reader = csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar)
        return next(reader, [])

    def row(self, source: str) -> dict[str, str]:
        return dict(zip(self.columns, self.cells(source), strict=False))

    def to_json(self) -> str:
        return _RAW_JSON(
            {"columns": list(self.columns), "delimiter": self.delimiter, "quote": self.quotechar}
        )

    @classmethod
    def from_json(cls, text: str) -> RawLayout:
        data = json.loads(text)
        return cls(tuple(data["columns"]), data["delimiter"], data["quote"])


def raw_json(raw: dict[str, str]) -> str:
    """A raw row as stored when the parser keeps no source text (MT940, CAMT)."""
    return _RAW_JSON(raw)


def stored_raw(raw: str, layout: str | None) -> dict[str, str]:
    """The raw row of a stored transaction: a JSON object, or (when its import kept a
    :class:`RawLayout`) the source record. Unreadable text gives an empty row."""
    try:
        if layout:
            return RawLayout.from_json(layout).row(raw)
        value = json.loads(raw or "{}")
    except (ValueError, KeyError, TypeError, csv.Error):
        return {}
    return value if isinstance(value, dict) else {"value": value}


# --------------------------------------------------------------------------- columns


@dataclass
class TransactionColumns:
    """A statement's lines column by column: entry k of every list is line k.

    Amounts are integer cents (what the database stores; no Decimal per line). ``raw`` holds
    each line's raw data as it is stored: the source record when ``raw_layout`` is set (CSV),
    else JSON objects.
    """

    line_no: list[int]
    booking_date: list[date]
    cents: list[int]
    value_date: list[date | None]
    currency: list[str]
    counterparty_name: list[str]
    counterparty_iban: list[str]
    counterparty_bic: list[str]
    purpose: list[str]
    booking_text: list[str]
    end_to_end_ref: list[str]
    mandate_ref: list[str]
    creditor_id: list[str]
    gv_code: list[str]
    balance_cents: list[int | None]
    raw: list[str]
    fee_of: list[int | None]
    raw_layout: RawLayout | None = None

    def __len__(self) -> int:
        return len(self.line_no)

    @classmethod
    def from_transactions(cls, transactions: Sequence[ParsedTransaction]) -> TransactionColumns:
        columns: dict[str, Any] = {
            name: [getattr(t, name) for t in transactions] for name in _SHARED_COLUMNS
        }
        return cls(
            **columns,
            cents=[to_cents(t.amount) for t in transactions],
            balance_cents=[
                None if t.balance_after is None else to_cents(t.balance_after) for t in transactions
            ],
            raw=[raw_json(t.raw) for t in transactions],
        )

    def transaction(self, k: int) -> ParsedTransaction:
        values = {name: getattr(self, name)[k] for name in _SHARED_COLUMNS}
        balance = self.balance_cents[k]
        layout = self.raw_layout
        raw = layout.row(self.raw[k]) if layout is not None else json.loads(self.raw[k])
        return ParsedTransaction(
            **values,
            amount=from_cents(self.cents[k]),
            balance_after=None if balance is None else from_cents(balance),
            raw=raw,
        )


# The columns that hold what a ParsedTransaction field holds, under the same name.
_SHARED_COLUMNS = tuple(
    f.name for f in fields(ParsedTransaction) if f.name not in ("amount", "balance_after", "raw")
)


class ColumnRows(Sequence[ParsedTransaction]):
    """``TransactionColumns`` seen as a sequence of :class:`ParsedTransaction`; each object is
    made on first access and kept."""

    def __init__(self, columns: TransactionColumns) -> None:
        self.columns = columns
        self._made: dict[int, ParsedTransaction] = {}

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, index: int) -> ParsedTransaction: ...

    @overload
    def __getitem__(self, index: slice) -> list[ParsedTransaction]: ...

    def __getitem__(self, index: int | slice) -> ParsedTransaction | list[ParsedTransaction]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        k = index + len(self) if index < 0 else index
        if not 0 <= k < len(self):
            raise IndexError(index)
        made = self._made.get(k)
        if made is None:
            made = self._made[k] = self.columns.transaction(k)
        return made

    def __iter__(self) -> Iterator[ParsedTransaction]:
        return (self[k] for k in range(len(self)))


@dataclass
class ParsedStatement:
    format: str  # csv | mt940 | camt
    template_key: str  # CSV template key, or "mt940" / "camt053" …
    template_name: str  # shown to the user: "Sparkasse (CSV-CAMT V2)"
    score: Decimal
    transactions: Sequence[ParsedTransaction]  # a list, or ColumnRows from the CSV parser
    rejected: list[RejectedRow] = field(default_factory=list)
    account_iban: str | None = None  # when the statement names its own account
    currency: str = "EUR"
    candidates: list[Candidate] = field(default_factory=list)  # best first
    ambiguous: bool = False  # two templates tie: the user must choose
    skipped: int = 0  # rows ignored on purpose (pending/"vorgemerkt", totals), not errors

    def head(self, n: int) -> list[ParsedTransaction]:
        """The first ``n`` lines (a preview makes only these)."""
        return list(self.transactions[:n])

    _made: tuple[int, int, TransactionColumns] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def columns(self) -> TransactionColumns:
        """The lines column by column (what the importer works on); made once from a list."""
        transactions = self.transactions
        if isinstance(transactions, ColumnRows):
            return transactions.columns
        made = self._made
        if made is None or made[:2] != (id(transactions), len(transactions)):
            made = self._made = (
                id(transactions),
                len(transactions),
                TransactionColumns.from_transactions(transactions),
            )
        return made[2]
