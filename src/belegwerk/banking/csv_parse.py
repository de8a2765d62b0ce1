"""Read a bank CSV with a :class:`CsvTemplate` into a :class:`ParsedStatement`.

Pure and fast: Python's csv module does the splitting, and values are typed column by column
(:class:`_RowReader`): each distinct date string is parsed once, a column of amounts in the
usual shapes is read in cents without a loop, and no regular expression runs per cell unless a
template asks for one. The result is a :class:`TransactionColumns`, not an object per line. A
row that cannot be read becomes a :class:`RejectedRow` with its physical line number; rows
ignored on purpose (pending, info rows) count as ``skipped``. A broken quotation mark spoils
only its own line: the lines of a record with an odd number of quote characters are re-read one
by one.
"""

from __future__ import annotations

import codecs
import csv
import gc
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import add, and_, is_, itemgetter, mul
from string import ascii_letters
from typing import Any

from belegwerk.banking.csv_template import ColumnRef, CsvTemplate
from belegwerk.banking.statement import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ColumnRows,
    ParsedStatement,
    RawLayout,
    RejectedRow,
    TransactionColumns,
)
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

MAX_AMOUNT = Decimal("9999999999.99")
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


def make_amount_column_parser(
    decimal: str, thousands: str
) -> Callable[[Sequence[str]], list[int] | None]:
    """A whole column at once, in cents, when every value has the common shape: optional
    sign, at most ten digits (in groups of three when thousands separators are used), up to
    two decimals.

    Each value's shape (its digits written as 9: ``-9.999,99``) is checked with a regular
    expression once per distinct shape, and the cents are read with ``int`` after removing
    the separators, scaled by the shape's decimals: no Python loop, no Decimal per value.
    The result equals :func:`make_amount_parser`'s for each value (in cents). Returns None
    when a value needs the single-value parser (blanks, currency signs, trailing minus,
    errors).
    """
    d = re.escape(decimal)
    whole = r"9{1,10}"
    if thousands:
        t = re.escape(thousands)
        whole = rf"9{{1,3}}(?:{t}999){{1,2}}|9(?:{t}999){{3}}|{whole}"
    common = re.compile(rf"[+-]?(?:{whole})(?:{d}(9{{1,2}}))?").fullmatch
    nines = str.maketrans("0123456789", "9999999999")
    drop: dict[int, str | None] = {ord(decimal): None}
    if thousands:
        drop[ord(thousands)] = None
    scale = {None: 100, "9": 10, "99": 1}

    def parse_column(values: Sequence[str]) -> list[int] | None:
        joined = "\n".join(values)
        shapes = joined.translate(nines).split("\n")
        if len(shapes) != len(values):  # a value with a line break of its own
            return None
        factor: dict[str, int] = {}
        for shape in set(shapes):
            match = common(shape)
            if match is None:
                return None
            factor[shape] = scale[match.group(1)]
        digits = map(int, joined.translate(drop).split("\n"))
        return list(map(mul, digits, map(factor.__getitem__, shapes)))

    return parse_column


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
_TEXT_POS = {name: i for i, name in enumerate(_TEXT_FIELDS)}
_NAME, _IBAN, _PURPOSE = (
    _TEXT_POS[n] for n in ("counterparty_name", "counterparty_iban", "purpose")
)


# --------------------------------------------------------------------------- records


@dataclass
class _Records:
    """The CSV records of a file's data lines, each with the physical line it starts on."""

    cells: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # 1-based
    sources: list[str] = field(default_factory=list)  # the record's text, kept as raw data
    multiline: set[int] = field(default_factory=set)  # lines of records with line breaks
    rejected: list[RejectedRow] = field(default_factory=list)  # malformed quotes

    def add(self, cells: list[str], lines: list[str], first: int, end: int) -> None:
        self.cells.append(cells)
        self.lines.append(first + 1)
        self.sources.append("\n".join(lines[first:end]).removesuffix("\r"))
        if end - first > 1:
            self.multiline.add(first + 1)


def _reader(lines: Iterable[str], template: CsvTemplate) -> Any:
    """csv.reader over physical lines, each fed with its line break (as RawLayout reads)."""
    return csv.reader(
        map(add, lines, repeat("\n")), delimiter=template.delimiter, quotechar=template.quotechar
    )


def split_records(lines: list[str], start: int, end: int, layout: Layout) -> _Records:
    """Lines ``start``..``end`` (0-based, end exclusive) as CSV records."""
    return _split_clean(lines, start, end, layout.template) or _split_careful(
        lines, start, end, layout
    )


def _split_clean(lines: list[str], start: int, end: int, template: CsvTemplate) -> _Records | None:
    """The common case in one pass: when no line has an odd number of quote characters and the
    reader yields one record per line, record k is line ``start + k``. Else None."""
    segment = lines[start:end]
    if any(map(and_, map(str.count, segment, repeat(template.quotechar)), repeat(1))):
        return None
    try:
        cells = list(_reader(segment, template))
    except csv.Error:
        return None
    if len(cells) != len(segment):
        return None
    return _Records(
        cells,
        list(range(start + 1, end + 1)),
        list(map(str.removesuffix, segment, repeat("\r"))),
    )


def _split_careful(lines: list[str], start: int, end: int, layout: Layout) -> _Records:
    """Record by record: a broken quotation mark spoils only its own line. The lines of a
    record with an odd number of quote characters are re-read one by one."""
    template, width = layout.template, layout.width
    q = template.quotechar
    out = _Records()
    offset = start
    while offset < end:
        reader = _reader((lines[i] for i in range(offset, end)), template)
        consumed = 0
        broken_at: int | None = None
        try:
            for record in reader:
                first = offset + consumed  # 0-based index of the record's first line
                consumed = reader.line_num
                last = offset + consumed
                if last - first == 1:
                    if lines[first].count(q) & 1 and any(c.endswith(q) for c in record):
                        # An unquoted cell ending in a quote: DKB's ``;Firma";``.
                        out.rejected.append(_quote_message(first + 1))
                    else:
                        out.add(record, lines, first, last)
                elif len(record) == width and not (
                    sum(lines[i].count(q) for i in range(first, last)) & 1
                ):
                    out.add(record, lines, first, last)  # a legitimate multi-line cell
                else:
                    broken_at = first
                    break
        except csv.Error:  # e.g. a runaway quote beyond the field size limit
            broken_at = offset + consumed
        if broken_at is None:
            break
        # Re-read the damaged record line by line: only the broken line is lost.
        if lines[broken_at].count(q) & 1:
            out.rejected.append(_quote_message(broken_at + 1))
        else:
            out.add(
                next(_reader([lines[broken_at]], template), []), lines, broken_at, broken_at + 1
            )
        offset = broken_at + 1
    return out


# --------------------------------------------------------------------------- typing


def _has_none(values: list[Any]) -> bool:
    """``None in values`` by identity (comparing Decimals with None is slow)."""
    return any(map(is_, values, repeat(None)))


def _pick(values: Sequence[Any], positions: Sequence[int]) -> list[Any]:
    return [values[k] for k in positions]


class _Rows:
    """The records still in play, with what has been typed of them so far; every list is
    aligned with ``cells``. Rows that fail a step leave all lists at once."""

    def __init__(self, records: _Records) -> None:
        self.cells = records.cells
        self.lines = records.lines
        self.sources = records.sources
        self.typed: dict[str, list[Any]] = {}
        # The cells column by column, made on first use when all rows are equally wide (one
        # transposition instead of one pass over the rows per column).
        self._columns: list[Sequence[str]] | None = None

    def __len__(self) -> int:
        return len(self.cells)

    def column(self, i: int) -> Sequence[str]:
        if self._columns is None and len(set(map(len, self.cells))) == 1:
            self._columns = list(zip(*self.cells, strict=True))
        if self._columns is not None:
            return self._columns[i]
        return list(map(itemgetter(i), self.cells))

    def stripped(self, i: int) -> list[str]:
        return list(map(str.strip, self.column(i)))

    def keep(self, positions: Sequence[int]) -> None:
        if len(positions) == len(self.cells):
            return
        self.cells = _pick(self.cells, positions)
        self.lines = _pick(self.lines, positions)
        self.sources = _pick(self.sources, positions)
        for name, values in self.typed.items():
            self.typed[name] = _pick(values, positions)
        if self._columns is not None:
            self._columns = [_pick(values, positions) for values in self._columns]

    def drop(self, positions: Iterable[int]) -> None:
        gone = set(positions)
        if gone:
            self.keep([k for k in range(len(self.cells)) if k not in gone])


class _RowReader:
    """A layout compiled for reading: typed columns from CSV records.

    Values are typed column by column, each distinct string once (dates and purposes repeat,
    100,000 rows have a few thousand days); per-row Python runs only for template features
    that need it. The steps run in a fixed order and a row leaves at the first step that
    refuses it, so every refused row is reported once, with the first problem it has.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.template = t = layout.template
        self.rejected: list[RejectedRow] = []
        self.skipped = 0
        self.account_iban: str | None = None
        self.raw_layout = RawLayout(tuple(_raw_keys(layout.cells)), t.delimiter, t.quotechar)
        self.columns = _empty_columns(self.raw_layout)
        idx = layout.indices

        def one(name: str) -> int | None:
            found = idx.get(name)
            return found[0] if found else None

        self.i_date, self.i_value_date = one("booking_date"), one("value_date")
        self.i_amount, self.i_debit, self.i_credit = one("amount"), one("debit"), one("credit")
        self.i_fee, self.i_balance, self.i_sign = one("fee"), one("balance_after"), one("sign")
        self.i_currency, self.i_account = one("currency"), one("account_iban")
        self.i_payer, self.i_payee = one("payer_name"), one("payee_name")
        self.text_columns = [-1] * len(_TEXT_FIELDS)  # -1: not in this file
        self.joins: list[tuple[int, list[int]]] = []
        for pos, name in enumerate(_TEXT_FIELDS):
            if name in idx:
                if isinstance(t.columns[name], list):  # type: ignore[index]
                    self.joins.append((pos, idx[name]))
                else:
                    self.text_columns[pos] = idx[name][0]
        width = layout.width
        needed = max((i for v in idx.values() for i in v), default=0) + 1
        self.skip_rules: list[tuple[int, frozenset[str], tuple[str, ...]]] = []
        norm = [normalize_header(c) for c in layout.cells] if t.header else None
        for rule in t.skip:
            at = resolve(rule.column, norm, width) if rule.column else one(rule.field or "")
            if at is not None:
                self.skip_rules.append(
                    (
                        at,
                        frozenset(v.casefold() for v in rule.equals),
                        tuple(v.casefold() for v in rule.startswith),
                    )
                )
        self.needed = max([needed, *(pos + 1 for pos, _e, _s in self.skip_rules)])
        self.stop_at = tuple(s.casefold() for s in t.stop_at)
        self.debit_marks = frozenset(v.casefold() for v in t.sign.debit)
        self.credit_marks = frozenset(v.casefold() for v in t.sign.credit)
        self.extract = [(_TEXT_POS[r.field], re.compile(r.pattern)) for r in t.extract]
        self.parse_amount = make_amount_parser(t.decimal, t.thousands)
        self.parse_amounts = make_amount_column_parser(t.decimal, t.thousands)
        self.parse_date = make_date_parser(t.date_formats)

    def label(self, i: int) -> str:
        """A column as named in messages: its header, or its number without a header."""
        if self.template.header and i < len(self.layout.cells) and self.layout.cells[i].strip():
            return self.layout.cells[i].strip()
        return _("column {n}").format(n=i + 1)

    def _bad_date(self, line: int, value: str, i: int) -> RejectedRow:
        return RejectedRow(
            line,
            _('Line {line}: "{value}" in column "{column}" is not a valid date.').format(
                line=line, value=value.strip(), column=self.label(i)
            ),
            "bank.invalid_date",
        )

    def _bad_amount(self, line: int, value: str, i: int) -> RejectedRow:
        return RejectedRow(
            line,
            _('Line {line}: "{value}" in column "{column}" is not a valid amount.').format(
                line=line, value=value.strip(), column=self.label(i)
            ),
            "bank.invalid_amount",
        )

    # ----------------------------------------------------------------- the steps

    def read(self, records: _Records) -> None:
        rows = _Rows(records)
        self.rejected.extend(records.rejected)
        stop = self._shape(rows)
        if stop is not None:
            self.rejected = [r for r in self.rejected if r.line < stop]
        self._skip(rows)
        self._values(rows)
        if not len(rows):
            self.rejected.sort(key=lambda r: r.line)
            return
        texts = self._texts(rows, records.multiline)
        self.rejected.sort(key=lambda r: r.line)
        self.columns = self._columns(rows, texts)

    def _refuse(
        self, rows: _Rows, refused: dict[int, RejectedRow], passed_over: Iterable[int] = ()
    ) -> None:
        """Report the refused rows and take them (and those passed over) out of play."""
        self.rejected.extend(refused.values())
        rows.drop([*refused, *passed_over])

    def _shape(self, rows: _Rows) -> int | None:
        """Blank lines, wrong field counts and the end marker (``stop_at``); returns the line
        the data ends on when a marker ends it early."""
        width, needed, stop_at = self.layout.width, self.needed, self.stop_at
        cells = rows.cells
        if not stop_at and all(n == width for n in map(len, cells)):
            return None
        keep: list[int] = []
        stop: int | None = None
        for k, row in enumerate(cells):
            n = len(row)
            if n != width:
                if n <= 1 and not (row and row[0].strip()):
                    continue  # blank line
                if n > width and any(c.strip() for c in row[width:]):
                    self.rejected.append(_fields_message(rows.lines[k], n, width))
                    continue
                if n < needed:
                    if stop_at and row[0].strip().casefold().startswith(stop_at):
                        stop = rows.lines[k]
                        break
                    if any(c.strip() for c in row):
                        self.rejected.append(_fields_message(rows.lines[k], n, width))
                    continue
            if stop_at and row[0].strip().casefold().startswith(stop_at):
                stop = rows.lines[k]
                break
            keep.append(k)
        rows.keep(keep)
        return stop

    def _skip(self, rows: _Rows) -> None:
        """Rows ignored on purpose (pending, info rows) count as skipped."""
        for pos, equals, starts in self.skip_rules:
            column = rows.column(pos)
            marked = set()
            for value in set(column):  # a status column has a handful of values
                mark = value.strip().casefold()
                if mark in equals or (starts and mark.startswith(starts)):
                    marked.add(value)
            if marked:
                hits = [k for k, value in enumerate(column) if value in marked]
                self.skipped += len(hits)
                rows.drop(hits)

    def _dates(self, rows: _Rows, i: int) -> list[date | None]:
        """Each distinct string parsed once; a row with an impossible date is refused."""
        column = rows.column(i)
        parse, cache = self.parse_date, self.parse_date.cache
        bad: set[str] = set()
        for value in set(column).difference(cache):
            try:
                parse(value)
            except ValueError:
                bad.add(value)
        found: list[date | None] = list(map(cache.get, column))
        if bad:
            self._refuse(
                rows,
                {
                    k: self._bad_date(rows.lines[k], value, i)
                    for k, value in enumerate(column)
                    if value in bad
                },
            )
            found = [d for d, value in zip(found, column, strict=True) if value not in bad]
        return found

    def _money(self, rows: _Rows, i: int) -> list[int | None]:
        """Like :meth:`_dates`, for amounts (in cents)."""
        column = rows.column(i)
        at_once = self.parse_amounts(column)
        if at_once is not None:
            return list[int | None](at_once)
        parse = self.parse_amount
        parsed: dict[str, int | None] = {}
        bad: set[str] = set()
        for value in set(column):
            try:
                parsed[value] = _cents(parse(value))
            except ValueError:
                bad.add(value)
        if bad:
            self._refuse(
                rows,
                {
                    k: self._bad_amount(rows.lines[k], value, i)
                    for k, value in enumerate(column)
                    if value in bad
                },
            )
            column = [value for value in column if value not in bad]
        return list(map(parsed.__getitem__, column))

    def _values(self, rows: _Rows) -> None:
        """Dates and amounts, in the order a row is checked (see the class docstring)."""
        typed = rows.typed
        i_date, i_amount = self.i_date, self.i_amount
        typed["booking_date"] = (
            self._dates(rows, i_date) if i_date is not None else [None] * len(rows)
        )
        typed["amount"] = (
            self._money(rows, i_amount) if i_amount is not None else [None] * len(rows)
        )
        if (self.i_debit is not None or self.i_credit is not None) and _has_none(typed["amount"]):
            self._debit_credit(rows)
        self._missing(rows)
        if self.i_sign is not None:
            self._sign(rows)
        if self.template.invert_amounts:
            typed["amount"] = [-a for a in typed["amount"]]
        if self.template.skip_zero_amounts:
            zero = [k for k, amount in enumerate(typed["amount"]) if not amount]
            self.skipped += len(zero)
            rows.drop(zero)
        if self.i_account is not None:
            self._account(rows)
        for name, i, step in (
            ("value_date", self.i_value_date, self._dates),
            ("balance_after", self.i_balance, self._money),
            ("fee", self.i_fee, self._money),
        ):
            typed[name] = step(rows, i) if i is not None else [None] * len(rows)

    def _debit_credit(self, rows: _Rows) -> None:
        """Separate debit and credit columns, for rows without an amount."""
        parse = self.parse_amount
        amounts = rows.typed["amount"]
        refused: dict[int, RejectedRow] = {}
        for k, row in enumerate(rows.cells):
            if amounts[k] is not None:
                continue
            values: list[int | None] = []
            for i in (self.i_debit, self.i_credit):
                if i is None:
                    values.append(None)
                    continue
                try:
                    values.append(_cents(parse(row[i])))
                except ValueError:
                    refused[k] = self._bad_amount(rows.lines[k], row[i], i)
                    break
            if k in refused:
                continue
            debit, credit = values
            if debit is not None or credit is not None:
                amounts[k] = abs(credit or 0) - abs(debit or 0)
        self._refuse(rows, refused)

    def _missing(self, rows: _Rows) -> None:
        """A row without booking date or amount: blank ones are passed over, others refused."""
        typed = rows.typed
        bookings, amounts = typed["booking_date"], typed["amount"]
        if not (_has_none(bookings) or _has_none(amounts)):
            return
        refused: dict[int, RejectedRow] = {}
        blank: list[int] = []
        for k, (booking, amount) in enumerate(zip(bookings, amounts, strict=True)):
            if booking is not None and amount is not None:
                continue
            if not any(c.strip() for c in rows.cells[k]):
                blank.append(k)
                continue
            line = rows.lines[k]
            what = _("booking date") if booking is None else _("amount")
            refused[k] = RejectedRow(
                line,
                _("Line {line}: the {what} is missing.").format(line=line, what=what),
                "bank.missing_value",
            )
        self._refuse(rows, refused, blank)

    def _sign(self, rows: _Rows) -> None:
        """An ``S``/``H`` (debit/credit) column decides the sign."""
        i = self.i_sign
        assert i is not None
        amounts = rows.typed["amount"]
        refused: dict[int, RejectedRow] = {}
        for k, mark in enumerate(map(str.casefold, rows.stripped(i))):
            if mark in self.debit_marks:
                amounts[k] = -abs(amounts[k])
            elif mark in self.credit_marks:
                amounts[k] = abs(amounts[k])
            else:
                line = rows.lines[k]
                refused[k] = RejectedRow(
                    line,
                    _(
                        'Line {line}: "{value}" in column "{column}" is neither a '
                        "debit nor a credit mark."
                    ).format(line=line, value=rows.cells[k][i].strip(), column=self.label(i)),
                    "bank.invalid_sign",
                )
        self._refuse(rows, refused)

    def _account(self, rows: _Rows) -> None:
        """A column naming the account: the first IBAN found is the file's; rows of another
        account are refused."""
        i = self.i_account
        assert i is not None
        column = rows.column(i)
        owners = {value: iban_in(value) for value in set(column)}
        refused: dict[int, RejectedRow] = {}
        for k, value in enumerate(column):
            own = owners[value]
            if not own:
                continue
            if self.account_iban is None:
                self.account_iban = own
            elif own != self.account_iban:
                line = rows.lines[k]
                refused[k] = RejectedRow(
                    line,
                    _(
                        "Line {line}: the row belongs to the account {iban}, the "
                        "file to {expected}; it was not read."
                    ).format(line=line, iban=own, expected=self.account_iban),
                    "bank.other_account",
                )
        self._refuse(rows, refused)

    def _texts(self, rows: _Rows, multiline: set[int]) -> list[list[str]]:
        """The text fields in ParsedTransaction's order (see ``_TEXT_FIELDS``)."""
        n = len(rows)
        texts = [rows.stripped(i) if i >= 0 else [""] * n for i in self.text_columns]
        separator = self.template.join_separator
        for pos, positions in self.joins:
            texts[pos] = [_joined(row, positions, separator) for row in rows.cells]
        if self.i_payer is not None or self.i_payee is not None:
            self._by_sign(rows, texts)
        if self.template.sepa_tags:
            for k, purpose in enumerate(texts[_PURPOSE]):
                if "+" in purpose:
                    for name, value in split_sepa_tags(purpose).items():
                        texts[_TEXT_POS[name]][k] = value
        for pos, pattern in self.extract:
            for k, text in enumerate(texts[pos]):
                match = pattern.search(text)
                if match:
                    for name, value in match.groupdict().items():
                        if value is not None:
                            texts[_TEXT_POS[name]][k] = value.strip()
        if multiline:  # cells with line breaks: one line each, as other formats give them
            for k in (k for k, line in enumerate(rows.lines) if line in multiline):
                for values in texts:
                    if "\n" in values[k]:
                        parts = values[k].splitlines()
                        values[k] = " ".join(p.strip() for p in parts if p.strip())
        ibans = texts[_IBAN]
        clean = {value: _clean_iban(value) for value in set(ibans)}
        texts[_IBAN] = list(map(clean.__getitem__, ibans))
        return texts

    def _by_sign(self, rows: _Rows, texts: list[list[str]]) -> None:
        """No counterparty column: the payer for money received, else the payee."""
        names = texts[_NAME]
        payees = rows.stripped(self.i_payee) if self.i_payee is not None else [""] * len(rows)
        if self.i_payer is None:
            texts[_NAME] = [name or payee for name, payee in zip(names, payees, strict=True)]
            return
        payers = rows.stripped(self.i_payer)
        texts[_NAME] = [
            name or (payer if amount > 0 else payee)
            for name, amount, payer, payee in zip(
                names, rows.typed["amount"], payers, payees, strict=True
            )
        ]

    def _columns(self, rows: _Rows, texts: list[list[str]]) -> TransactionColumns:
        typed, n = rows.typed, len(rows)
        default = self.template.currency
        if self.i_currency is not None:
            column = rows.column(self.i_currency)
            codes = {value: value.strip().upper() or default for value in set(column)}
            currency = list(map(codes.__getitem__, column))
        else:
            currency = [default] * n
        text_columns: dict[str, Any] = dict(zip(_TEXT_FIELDS, texts, strict=True))
        columns = TransactionColumns(
            line_no=rows.lines,
            booking_date=typed["booking_date"],
            cents=typed["amount"],
            value_date=typed["value_date"],
            currency=currency,
            **text_columns,
            balance_cents=typed["balance_after"],
            raw=rows.sources,
            fee_of=[None] * n,
            raw_layout=self.raw_layout,
        )
        if any(typed["fee"]):
            return self._with_fees(columns, typed["fee"])
        return columns

    def _with_fees(self, columns: TransactionColumns, fees: list[int | None]) -> TransactionColumns:
        """PayPal: a fee becomes its own line after its payment, pointing at it; the
        payment's balance is the one before the fee."""
        rule = self.template.fee
        assert rule is not None
        out = _empty_columns(self.raw_layout)
        for k, fee in enumerate(fees):
            _copy_line(columns, k, out)
            if not fee:
                continue
            balance = columns.balance_cents[k]
            out.balance_cents[-1] = balance - fee if balance is not None else None
            ref = columns.end_to_end_ref[k]
            _copy_line(columns, k, out)
            for name in _TEXT_FIELDS:
                getattr(out, name)[-1] = ""
            out.cents[-1] = fee
            out.counterparty_name[-1] = rule.counterparty_name
            out.booking_text[-1] = rule.booking_text
            out.purpose[-1] = " ".join(p for p in (rule.purpose, ref) if p)
            out.end_to_end_ref[-1] = ref
            out.balance_cents[-1] = balance
            out.fee_of[-1] = len(out) - 2
        return out


def _cents(amount: Decimal | None) -> int | None:
    """An amount of the single-value parser (two places) in cents."""
    return None if amount is None else int(amount.scaleb(2))


def _joined(row: list[str], positions: list[int], separator: str) -> str:
    parts: list[str] = []
    for i in positions:
        part = row[i].strip()
        if part and part not in parts:
            parts.append(part)
    return separator.join(parts)


def _clean_iban(value: str) -> str:
    if not value or (value.isalnum() and value.isupper()):
        return value
    return value.strip("'\"").replace(" ", "").upper()


_COLUMN_FIELDS = tuple(f.name for f in fields(TransactionColumns) if f.name != "raw_layout")


def _empty_columns(layout: RawLayout) -> TransactionColumns:
    lists: dict[str, Any] = {name: [] for name in _COLUMN_FIELDS}
    return TransactionColumns(**lists, raw_layout=layout)


def _copy_line(source: TransactionColumns, k: int, target: TransactionColumns) -> None:
    for name in _COLUMN_FIELDS:
        getattr(target, name).append(getattr(source, name)[k])


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

    ``limit`` stops after that many lines (detection samples the head of the file only).
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
    # 100,000 rows make a million acyclic objects; the cyclic collector would only slow
    # that down.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        rows.read(split_records(lines, start, end, layout))
    finally:
        if paused:
            gc.enable()
    return rows


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
    found = rows.columns
    currency = found.currency[0] if len(found) else template.currency
    return ParsedStatement(
        format="csv",
        template_key=template.key,
        template_name=template.name,
        score=score,
        transactions=ColumnRows(found),
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
    good = len(set(rows.columns.line_no)) + rows.skipped
    return good, good + len(rows.rejected)
