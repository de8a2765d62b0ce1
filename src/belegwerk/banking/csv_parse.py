"""Read a bank CSV with a :class:`CsvTemplate` into a :class:`ParsedStatement`.

Pure and fast: Python's csv module does the splitting, values are typed with per-template
closures (dates cached per distinct string, amounts via ``str.translate`` + ``Decimal``), and no
regular expression runs per cell unless a template asks for one. A row that cannot be read
becomes a :class:`RejectedRow` with its physical line number; rows ignored on purpose (pending,
info rows) count as ``skipped``. A broken quotation mark spoils only its own line: the lines of a
record with an odd number of quote characters are re-read one by one.
"""

from __future__ import annotations

import codecs
import csv
import gc
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from string import ascii_letters

from belegwerk.banking.csv_template import ColumnRef, CsvTemplate
from belegwerk.banking.statement import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ParsedStatement,
    ParsedTransaction,
    RejectedRow,
)
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

MAX_AMOUNT = Decimal("9999999999.99")
_ZERO = Decimal(0)
_IBAN_LIKE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")

FAMILY = {
    "utf-8": "utf8",
    "utf-8-sig": "utf8",
    "cp1252": "latin",
    "iso-8859-1": "latin",
    "iso-8859-15": "latin",
}

# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class Decoded:
    """The file's text and what its bytes turned out to be."""

    text: str
    encoding: str  # codec used: utf-8-sig, utf-8, cp1252, iso-8859-1, utf-16
    family: str  # ascii | utf8 | latin | utf16


def sniff_encoding(content: bytes) -> Decoded:
    """BOM first, then strict UTF-8, else Windows-1252 (Latin-1 if even that fails)."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return Decoded(content.decode("utf-8-sig"), "utf-8-sig", "utf8")
        except UnicodeDecodeError:
            return Decoded(content[3:].decode("cp1252", "replace"), "cp1252", "latin")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(content.decode("utf-16", "replace"), "utf-16", "utf16")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Decoded(text, "utf-8", "ascii" if text.isascii() else "utf8")
    try:
        return Decoded(content.decode("cp1252"), "cp1252", "latin")
    except UnicodeDecodeError:
        return Decoded(content.decode("iso-8859-1"), "iso-8859-1", "latin")


def _encoding_label(family: str) -> str:
    return {"utf8": "UTF-8", "latin": "Windows-1252/ISO-8859", "utf16": "UTF-16"}.get(
        family, family
    )


def encoding_mismatch(template: CsvTemplate, actual_family: str) -> ValidationFailed:
    expected = _encoding_label(FAMILY[template.encoding])
    actual = _encoding_label(actual_family)
    return ValidationFailed(
        "bank.encoding_mismatch",
        _(
            'The file is encoded as {actual}, but the template "{name}" expects {expected}. '
            "Export the file again as {expected} or allow the fallback in the template."
        ).format(actual=actual, name=template.name, expected=expected),
        [{"field": "encoding", "expected": template.encoding, "actual": actual_family}],
    )


def encoding_fits(template: CsvTemplate, decoded: Decoded) -> bool:
    return decoded.family in ("ascii", FAMILY[template.encoding])


def decode_for(content: bytes, template: CsvTemplate, decoded: Decoded | None = None) -> Decoded:
    """Text in the template's encoding; the file's own encoding if the template allows it."""
    decoded = decoded or sniff_encoding(content)
    if not encoding_fits(template, decoded):
        if template.encoding_fallback:
            return decoded
        raise encoding_mismatch(template, decoded.family)
    if decoded.family == "latin" and template.encoding == "iso-8859-15":
        # The one Latin encoding that differs in letters (€ at 0xA4); cp1252 covers the rest.
        return Decoded(content.decode("iso-8859-15"), "iso-8859-15", "latin")
    return decoded


def split_lines(text: str) -> list[str]:
    """Physical lines (the numbering of every message); CR-only files are split on CR."""
    if "\n" not in text and "\r" in text:
        return text.split("\r")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --------------------------------------------------------------------------- values


def make_amount_parser(decimal: str, thousands: str) -> Callable[[str], Decimal | None]:
    """``1.234,56-``, ``-1.234,56``, ``1,234.56``, ``+5``, ``12,30 €``, ``7,00 EUR``; blank → None.

    Returns two decimal places. Raises ValueError for anything else, including misplaced
    thousands separators (``12.50`` with a decimal comma is refused, not read as 1250) and
    more than two non-zero decimals.
    """
    table: dict[int, str | None] = {ord(" "): None, ord("\xa0"): None, ord("€"): None}
    if thousands:
        table[ord(thousands)] = None
    if decimal != ".":
        table[ord(decimal)] = "."
    grouped = None
    if thousands:
        t, d = re.escape(thousands), re.escape(decimal)
        grouped = re.compile(rf"^[+-]?\s*\d{{1,3}}({t}\d{{3}})+({d}\d*)?$").match
    letters = ascii_letters + " \xa0"
    pad = ("00", "0", "")

    def slow(value: str) -> Decimal | None:
        s = value.strip()
        if not s:
            return None
        negative = False
        if not s[-1].isdigit():
            s = s.rstrip(letters).rstrip("€").rstrip()
            if s.endswith("-"):  # 1.234,56- (trailing minus)
                negative = True
                s = s[:-1].rstrip()
            if not s:
                raise ValueError(value)
        if grouped is not None and thousands in s and not grouped(s.lstrip("€ ")):
            raise ValueError(value)
        digits = s.translate(table)
        body = digits[1:] if digits[:1] in ("-", "+") else digits
        if not body.replace(".", "", 1).isdigit():
            raise ValueError(value)
        dot = body.find(".")
        if dot < 0:
            digits += ".00"
        else:
            places = len(body) - dot - 1
            if places > 2:
                trimmed = digits.rstrip("0")
                places = len(trimmed) - trimmed.find(".") - 1
                if places > 2:
                    raise ValueError(value)
                digits = trimmed
            digits += pad[places]
        amount = Decimal(digits)
        if amount > MAX_AMOUNT or amount < -MAX_AMOUNT:
            raise ValueError(value)
        return -amount if negative else amount

    # The common shapes (-1.234,56 / 200 / -62,3) in one regex call, the rest the long way.
    int_part = rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+" if thousands else r"\d+"
    fast = re.compile(rf"([+-]?)({int_part})(?:{re.escape(decimal)}(\d{{1,2}}))?").fullmatch
    cents = {None: "00", "": "00"}

    def parse(value: str) -> Decimal | None:
        match = fast(value)
        if match is None:
            return slow(value)
        sign, whole, frac = match.groups()
        if thousands:
            whole = whole.replace(thousands, "")
        if len(whole) > 10:
            raise ValueError(value)
        frac = cents.get(frac) or (frac if len(frac) == 2 else frac + "0")
        return Decimal(f"{sign}{whole}.{frac}")

    return parse


class DateParser:
    """strptime with the template's formats, cached per distinct string; blank → None.

    ``cache`` is public so the hot loop can look a string up without a call.
    """

    def __init__(self, formats: Iterable[str]) -> None:
        self.formats = tuple(formats)
        self.cache: dict[str, date] = {}

    def __call__(self, value: str) -> date | None:
        found = self.cache.get(value)
        if found is not None:
            return found
        s = value.strip()
        if not s:
            return None
        for candidate in (s, s.split()[0] if " " in s else ""):  # "01.02.2024 Neu"
            if not candidate:
                continue
            for fmt in self.formats:
                try:
                    found = datetime.strptime(candidate, fmt).date()
                except ValueError:
                    continue
                self.cache[value] = found
                return found
        raise ValueError(value)


def make_date_parser(formats: Iterable[str]) -> DateParser:
    return DateParser(formats)


_SEPA_TAG = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|COAM|OAMT|SVWZ|ABWA|ABWE|BREF|RREF|PURP)\+")
_SEPA_FIELDS = {"EREF": "end_to_end_ref", "MREF": "mandate_ref", "CRED": "creditor_id"}


def split_sepa_tags(text: str) -> dict[str, str]:
    """``EREF+x MREF+y CRED+z SVWZ+purpose`` → fields; purpose stays whole without SVWZ+."""
    parts = _SEPA_TAG.split(text)
    if len(parts) < 3:
        return {}
    found: dict[str, str] = {}
    for tag, value in zip(parts[1::2], parts[2::2], strict=True):
        value = value.strip()
        if tag == "SVWZ":
            found["purpose"] = value
        elif tag in _SEPA_FIELDS and value:
            found[_SEPA_FIELDS[tag]] = value
    return found


def normalize_header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split()).casefold()


def iban_in(cell: str) -> str | None:
    """An IBAN-looking value in a preamble or account cell (``DE12 3456 …``, ``'DE…'``)."""
    value = cell.strip().strip("'\"").split(" / ")[0].replace(" ", "").upper()
    return value if _IBAN_LIKE.match(value) else None


# --------------------------------------------------------------------------- layout


def parse_line(line: str, template: CsvTemplate) -> list[str]:
    return next(csv.reader([line], delimiter=template.delimiter, quotechar=template.quotechar), [])


def resolve(ref: ColumnRef, header: list[str] | None, width: int) -> int | None:
    """The 0-based column of a reference in this file, or None when absent."""
    if header is not None and ref.names:
        for name in ref.names:
            key = normalize_header(name)
            positions = [i for i, cell in enumerate(header) if cell == key]
            k = ref.occurrence - 1 if ref.occurrence > 0 else ref.occurrence
            if positions and -len(positions) <= k < len(positions):
                return positions[k]
    if ref.index is not None and ref.index < width:
        return ref.index
    return None


@dataclass
class Layout:
    """A template resolved against one file: where the header is and which column is what."""

    template: CsvTemplate
    data_start: int  # 0-based index of the first line after the header
    header_line: int | None  # 1-based line of the header row (None: no header)
    cells: list[str]  # header cells as written (or "1", "2", … without header)
    indices: dict[str, list[int]]
    required_found: float = 1.0  # share of the required fields found (detection)
    account_iban: str | None = None  # found in the preamble

    @property
    def width(self) -> int:
        return len(self.cells)


def _indices(template: CsvTemplate, norm: list[str] | None, width: int) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for name in template.columns:
        positions = [resolve(r, norm, width) for r in template.refs(name)]
        present = [p for p in positions if p is not None]
        if present:
            found[name] = present
    return found


def find_layout(lines: list[str], template: CsvTemplate) -> Layout | None:
    """Locate the header (or the first data row) and resolve every mapped column.

    Returns the best partial layout (``required_found`` < 1) when the required columns are not
    all present, so detection can tell "almost" from "not at all"; None when nothing fits.
    """
    if not template.header:
        start = template.skip_lines
        first = next((i for i in range(start, len(lines)) if lines[i].strip()), None)
        if first is None:
            return None
        width = template.column_count or len(parse_line(lines[first], template))
        indices = _indices(template, None, width)
        cells = [str(i + 1) for i in range(width)]
        return Layout(template, start, None, cells, indices)
    required = template.required_fields()
    best: Layout | None = None
    limit = min(len(lines), template.max_preamble_lines + 1)
    for i in range(limit):
        if not lines[i].strip():
            continue
        cells = parse_line(lines[i], template)
        if len(cells) < 2:
            continue
        norm = [normalize_header(c) for c in cells]
        indices = _indices(template, norm, len(cells))
        share = sum(1 for f in required if f in indices) / len(required)
        if best is not None and share <= best.required_found:
            continue
        best = Layout(template, i + 1, i + 1, cells, indices, share)
        if share == 1.0:
            break
    if best is None or best.required_found == 0:
        return None
    if best.required_found == 1.0 and best.header_line is not None:
        for line in lines[: best.header_line - 1]:
            iban = next(filter(None, map(iban_in, parse_line(line, template))), None)
            if iban:
                best.account_iban = iban
                break
    return best


# --------------------------------------------------------------------------- rows


def _fields_message(line: int, found: int, expected: int) -> RejectedRow:
    return RejectedRow(
        line,
        _("Line {line}: {found} fields instead of {expected}; the row was not read.").format(
            line=line, found=found, expected=expected
        ),
        "bank.field_count",
    )


def _quote_message(line: int) -> RejectedRow:
    return RejectedRow(
        line,
        _(
            "Line {line}: a quotation mark is missing or superfluous; the row was not read. "
            "Correct it in the file and import it again."
        ).format(line=line),
        "bank.malformed_quote",
    )


class _Reject(Exception):
    """A row that cannot be read, with the message for the user."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ParsedTransaction is built positionally in the hot loop (no kwargs dict per row): its
# fields, in order. Checked at import, so a change in statement.py fails loudly, not silently.
_TEXT_FIELDS = (
    "counterparty_name",
    "counterparty_iban",
    "counterparty_bic",
    "purpose",
    "booking_text",
    "end_to_end_ref",
    "mandate_ref",
    "creditor_id",
    "gv_code",
)
_POSITIONAL: tuple[str, ...] = (
    *("line_no", "booking_date", "amount", "value_date", "currency"),
    *_TEXT_FIELDS,
    *("balance_after", "raw"),
)
if tuple(f.name for f in fields(ParsedTransaction))[: len(_POSITIONAL)] != _POSITIONAL:
    raise ImportError("ParsedTransaction's fields changed; update csv_parse._POSITIONAL")
_TEXT_POS = {name: i for i, name in enumerate(_TEXT_FIELDS)}
_NAME, _IBAN, _PURPOSE = (
    _TEXT_POS[n] for n in ("counterparty_name", "counterparty_iban", "purpose")
)


class _RowReader:
    """Compiled form of a layout: typed transactions from CSV records.

    ``row`` is built once per file as a closure over plain locals — the hot loop of a
    100,000-row import — so the common case does no attribute lookups and no regex.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.template = layout.template
        self.transactions: list[ParsedTransaction] = []
        self.rejected: list[RejectedRow] = []
        self.skipped = 0
        self.account_iban: str | None = None
        self.stopped = False
        self.row = self._compile()

    def label(self, i: int) -> str:
        """A column as named in messages: its header, or its number without a header."""
        if self.template.header and i < len(self.layout.cells) and self.layout.cells[i].strip():
            return self.layout.cells[i].strip()
        return _("column {n}").format(n=i + 1)

    def _bad_date(self, line: int, value: str, i: int) -> _Reject:
        return _Reject(
            _('Line {line}: "{value}" in column "{column}" is not a valid date.').format(
                line=line, value=value.strip(), column=self.label(i)
            ),
            "bank.invalid_date",
        )

    def _bad_amount(self, line: int, value: str, i: int) -> _Reject:
        return _Reject(
            _('Line {line}: "{value}" in column "{column}" is not a valid amount.').format(
                line=line, value=value.strip(), column=self.label(i)
            ),
            "bank.invalid_amount",
        )

    def _compile(self) -> Callable[[list[str], int, bool], None]:
        layout, t = self.layout, self.template
        idx = layout.indices

        def one(name: str) -> int | None:
            found = idx.get(name)
            return found[0] if found else None

        i_date, i_value_date = one("booking_date"), one("value_date")
        i_amount, i_debit, i_credit = one("amount"), one("debit"), one("credit")
        i_fee, i_balance, i_sign = one("fee"), one("balance_after"), one("sign")
        i_currency, i_account = one("currency"), one("account_iban")
        i_payer, i_payee = one("payer_name"), one("payee_name")
        text_columns = [-1] * len(_TEXT_FIELDS)  # -1: not in this file
        joins: list[tuple[int, list[int]]] = []
        for pos, name in enumerate(_TEXT_FIELDS):
            if name in idx:
                if isinstance(t.columns[name], list):  # type: ignore[index]
                    joins.append((pos, idx[name]))
                else:
                    text_columns[pos] = idx[name][0]
        width = layout.width
        needed = max((i for v in idx.values() for i in v), default=0) + 1
        skip_rules: list[tuple[int, frozenset[str], tuple[str, ...]]] = []
        norm = [normalize_header(c) for c in layout.cells] if t.header else None
        for rule in t.skip:
            at = resolve(rule.column, norm, width) if rule.column else one(rule.field or "")
            if at is not None:
                skip_rules.append(
                    (
                        at,
                        frozenset(v.casefold() for v in rule.equals),
                        tuple(v.casefold() for v in rule.startswith),
                    )
                )
        needed = max([needed, *(pos + 1 for pos, _e, _s in skip_rules)])
        stop_at = tuple(s.casefold() for s in t.stop_at)
        debit_marks = frozenset(v.casefold() for v in t.sign.debit)
        credit_marks = frozenset(v.casefold() for v in t.sign.credit)
        extract = [(_TEXT_POS[r.field], re.compile(r.pattern)) for r in t.extract]
        parse_amount = make_amount_parser(t.decimal, t.thousands)
        parse_date = make_date_parser(t.date_formats)
        dates = parse_date.cache
        sepa, invert, skip_zero = t.sepa_tags, t.invert_amounts, t.skip_zero_amounts
        default_currency, separator = t.currency, t.join_separator
        raw_keys = _raw_keys(layout.cells)
        by_sign = i_payer is not None or i_payee is not None
        transactions, rejected = self.transactions, self.rejected
        append = transactions.append
        new: Callable[..., ParsedTransaction] = ParsedTransaction  # positional, see above
        zero = _ZERO

        def fields_message(line: int, n: int) -> None:
            rejected.append(_fields_message(line, n, width))

        def money(row: list[str], i: int, line: int) -> Decimal | None:
            try:
                return parse_amount(row[i])
            except ValueError:
                raise self._bad_amount(line, row[i], i) from None

        def day(row: list[str], i: int, line: int) -> date | None:
            try:
                return parse_date(row[i])
            except ValueError:
                raise self._bad_date(line, row[i], i) from None

        def handle(row: list[str], line: int, multiline: bool = False) -> None:
            n = len(row)
            if n != width:
                if n <= 1 and not (row and row[0].strip()):
                    return  # blank line
                if n > width and any(c.strip() for c in row[width:]):
                    return fields_message(line, n)
                if n < needed:
                    if stop_at and row[0].strip().casefold().startswith(stop_at):
                        self.stopped = True
                    elif any(c.strip() for c in row):
                        fields_message(line, n)
                    return
            if stop_at and row[0].strip().casefold().startswith(stop_at):
                self.stopped = True
                return
            for pos, equals, starts in skip_rules:
                mark = row[pos].strip().casefold()
                if mark in equals or (starts and mark.startswith(starts)):
                    self.skipped += 1
                    return
            try:
                booking = None
                if i_date is not None:
                    booking = dates.get(row[i_date]) or day(row, i_date, line)
                amount = None
                if i_amount is not None:
                    try:
                        amount = parse_amount(row[i_amount])
                    except ValueError:
                        raise self._bad_amount(line, row[i_amount], i_amount) from None
                if amount is None and (i_debit is not None or i_credit is not None):
                    debit = money(row, i_debit, line) if i_debit is not None else None
                    credit = money(row, i_credit, line) if i_credit is not None else None
                    if debit is not None or credit is not None:
                        amount = abs(credit or zero) - abs(debit or zero)
                if booking is None or amount is None:
                    if not any(c.strip() for c in row):
                        return
                    what = _("booking date") if booking is None else _("amount")
                    raise _Reject(
                        _("Line {line}: the {what} is missing.").format(line=line, what=what),
                        "bank.missing_value",
                    )
                if i_sign is not None:
                    mark = row[i_sign].strip().casefold()
                    if mark in debit_marks:
                        amount = -abs(amount)
                    elif mark in credit_marks:
                        amount = abs(amount)
                    else:
                        raise _Reject(
                            _(
                                'Line {line}: "{value}" in column "{column}" is neither a '
                                "debit nor a credit mark."
                            ).format(
                                line=line, value=row[i_sign].strip(), column=self.label(i_sign)
                            ),
                            "bank.invalid_sign",
                        )
                if invert:
                    amount = -amount
                if skip_zero and not amount:
                    self.skipped += 1
                    return
                if i_account is not None:
                    own = iban_in(row[i_account])
                    if own:
                        if self.account_iban is None:
                            self.account_iban = own
                        elif own != self.account_iban:
                            raise _Reject(
                                _(
                                    "Line {line}: the row belongs to the account {iban}, the "
                                    "file to {expected}; it was not read."
                                ).format(line=line, iban=own, expected=self.account_iban),
                                "bank.other_account",
                            )
                value_date = None
                if i_value_date is not None:
                    value_date = dates.get(row[i_value_date]) or day(row, i_value_date, line)
                balance = money(row, i_balance, line) if i_balance is not None else None
                fee = money(row, i_fee, line) if i_fee is not None else None
            except _Reject as exc:
                rejected.append(RejectedRow(line, exc.message, exc.code))
                return
            # Text fields in ParsedTransaction's order (see _TEXT_FIELDS): a list, no dicts.
            texts = [row[i].strip() if i >= 0 else "" for i in text_columns]
            for pos, positions in joins:
                parts: list[str] = []
                for i in positions:
                    part = row[i].strip()
                    if part and part not in parts:
                        parts.append(part)
                texts[pos] = separator.join(parts)
            if by_sign and not texts[_NAME]:
                if i_payer is not None and amount > 0:
                    texts[_NAME] = row[i_payer].strip()
                elif i_payee is not None:
                    texts[_NAME] = row[i_payee].strip()
            if sepa and "+" in texts[_PURPOSE]:
                for name, value in split_sepa_tags(texts[_PURPOSE]).items():
                    texts[_TEXT_POS[name]] = value
            for pos, pattern in extract:
                match = pattern.search(texts[pos])
                if match:
                    for name, value in match.groupdict().items():
                        if value is not None:
                            texts[_TEXT_POS[name]] = value.strip()
            if multiline:  # cells with line breaks: one line each, as other formats give them
                for pos, value in enumerate(texts):
                    if "\n" in value:
                        texts[pos] = " ".join(p.strip() for p in value.splitlines() if p.strip())
            iban = texts[_IBAN]
            if iban and not (iban.isalnum() and iban.isupper()):
                texts[_IBAN] = iban.strip("'\"").replace(" ", "").upper()
            currency = default_currency
            if i_currency is not None:
                currency = row[i_currency].strip().upper() or default_currency
            raw = dict(zip(raw_keys, row, strict=False))
            if fee:
                payment_balance = balance - fee if balance is not None else None
                append(
                    new(line, booking, amount, value_date, currency, *texts, payment_balance, raw)
                )
                append(self._fee(line, booking, fee, value_date, currency, balance, texts, raw))
                return
            append(new(line, booking, amount, value_date, currency, *texts, balance, raw))

        return handle

    def _fee(
        self,
        line: int,
        booking: date,
        fee: Decimal,
        value_date: date | None,
        currency: str,
        balance: Decimal | None,
        texts: list[str],
        raw: dict[str, str],
    ) -> ParsedTransaction:
        """PayPal: the fee as its own transaction, pointing at the payment before it."""
        rule = self.template.fee
        ref = texts[_TEXT_POS["end_to_end_ref"]]
        return ParsedTransaction(
            line_no=line,
            booking_date=booking,
            amount=fee,
            value_date=value_date,
            currency=currency,
            counterparty_name=rule.counterparty_name,
            booking_text=rule.booking_text,
            purpose=" ".join(p for p in (rule.purpose, ref) if p),
            end_to_end_ref=ref,
            balance_after=balance,
            raw=raw,
            fee_of=len(self.transactions) - 1,
        )


def _raw_keys(cells: list[str]) -> list[str]:
    """Unique keys for the raw row (ING repeats "Währung"; headerless files get numbers)."""
    seen: dict[str, int] = {}
    keys = []
    for i, cell in enumerate(cells):
        name = cell.strip().replace("\ufeff", "") or str(i + 1)
        n = seen.get(name, 0) + 1
        seen[name] = n
        keys.append(name if n == 1 else f"{name} ({n})")
    return keys


def read_rows(lines: list[str], layout: Layout, *, limit: int | None = None) -> _RowReader:
    """Run every record after the header through the template.

    ``limit`` stops after that many records (detection samples the first rows only).
    """
    rows = _RowReader(layout)
    start = layout.data_start
    end = len(lines) if limit is None else min(len(lines), start + limit)
    if end - start > MAX_ROWS:
        raise ValidationFailed(
            "bank.too_many_rows",
            _("The file has more than {n} rows; please split it.").format(n=MAX_ROWS),
            [{"rows": end - start, "max": MAX_ROWS}],
        )
    # 100,000 rows make 200,000 acyclic objects; the cyclic collector would only slow that down.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        _read_records(lines, rows, start, end)
    finally:
        if paused:
            gc.enable()
    return rows


def _read_records(lines: list[str], rows: _RowReader, start: int, end: int) -> None:
    t = rows.template
    q, delimiter, width = t.quotechar, t.delimiter, rows.layout.width
    handle, rejected = rows.row, rows.rejected
    offset = start
    while offset < end and not rows.stopped:
        source = (lines[i] + "\n" for i in range(offset, end))
        reader = csv.reader(source, delimiter=delimiter, quotechar=q)
        consumed = 0
        broken_at: int | None = None
        try:
            for record in reader:
                first = offset + consumed  # 0-based index of the record's first line
                consumed = reader.line_num
                if consumed + offset - first == 1:
                    if lines[first].count(q) & 1 and any(c.endswith(q) for c in record):
                        # An unquoted cell ending in a quote: DKB's ``;Firma";``.
                        rejected.append(_quote_message(first + 1))
                    else:
                        handle(record, first + 1, False)
                elif len(record) == width and not (
                    sum(lines[i].count(q) for i in range(first, offset + consumed)) & 1
                ):
                    handle(record, first + 1, True)  # a legitimate multi-line cell
                else:
                    broken_at = first
                    break
                if rows.stopped:
                    break
        except csv.Error:  # e.g. a runaway quote beyond the field size limit
            broken_at = offset + consumed
        if broken_at is None:
            break
        # Re-read the damaged record line by line: only the broken line is lost.
        line = lines[broken_at]
        if line.count(q) & 1:
            rejected.append(_quote_message(broken_at + 1))
        else:
            handle(parse_line(line, t), broken_at + 1, False)
        offset = broken_at + 1


def parse_text(
    text: str,
    template: CsvTemplate,
    *,
    score: Decimal = Decimal(1),
    lines: list[str] | None = None,
    layout: Layout | None = None,
) -> ParsedStatement:
    """Parse decoded text with one template (the caller has chosen it)."""
    lines = split_lines(text) if lines is None else lines
    layout = layout or find_layout(lines, template)
    if layout is None or layout.required_found < 1:
        columns = [c.strip() for c in layout.cells] if layout else []
        missing = [
            template.refs(f)[0].label()
            for f in template.required_fields()
            if layout is None or f not in layout.indices
        ]
        raise ValidationFailed(
            "bank.template_mismatch",
            _('The file does not fit the template "{name}": missing columns {missing}.').format(
                name=template.name, missing=", ".join(missing)
            ),
            [{"template": template.key, "missing": missing, "columns": columns}],
        )
    rows = read_rows(lines, layout)
    account = rows.account_iban or layout.account_iban
    currency = rows.transactions[0].currency if rows.transactions else template.currency
    return ParsedStatement(
        format="csv",
        template_key=template.key,
        template_name=template.name,
        score=score,
        transactions=rows.transactions,
        rejected=rows.rejected,
        account_iban=account,
        currency=currency,
        skipped=rows.skipped,
    )


def parse_with_template(
    content: bytes, template: CsvTemplate, *, score: Decimal = Decimal(1)
) -> ParsedStatement:
    """Bytes → statement with a given template; checks size and encoding first."""
    if len(content) > MAX_FILE_BYTES:
        raise file_too_large(len(content))
    decoded = decode_for(content, template)
    return parse_text(decoded.text, template, score=score)


def file_too_large(size: int) -> ValidationFailed:
    return ValidationFailed(
        "bank.too_large",
        _("The file is {size} MB; at most {limit} MB can be imported.").format(
            size=round(size / 1024 / 1024, 1), limit=MAX_FILE_BYTES // 1024 // 1024
        ),
        [{"size": size, "max": MAX_FILE_BYTES}],
    )


def sample_rows(lines: list[str], layout: Layout, n: int = 25) -> tuple[int, int]:
    """(records read fine or skipped on purpose, records in the sample) for detection."""
    rows = read_rows(lines, layout, limit=n)
    good = len({t.line_no for t in rows.transactions}) + rows.skipped
    return good, good + len(rows.rejected)
