"""Reading DATEV-format Buchungsstapel files, tolerant of what other programs write.

Accepted: ``EXTF`` (third-party) and ``DTVF`` (DATEV's own) files, header versions 510 and
700, format versions 7 to 13 (116 to 125 columns), Windows-1252 or UTF-8 with or without BOM,
``;`` or ``,`` as separator, quoted or unquoted header and fields, CR LF or LF, amounts with
decimal comma or point and without decimals, Belegdatum TTMM (also TMM and TTMMJJJJ),
BU-Schlüssel with the Generalumkehr in the key (old style, ``2x``) or in field 118.
Refused with a German message and the line: anything that is not a DATEV-format file, other
DATEV categories (Debitoren/Kreditoren, Kontenbeschriftungen …), a cut-off file and bad rows.

DATEV reads the columns by position, and so does this parser; the column names are not
trusted (DATEV's own DTVF files abbreviate them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_date
from belegwerk.core.money import MAX_AMOUNT

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 500_000
MAX_ERRORS = 100
CATEGORY_NAMES = {
    16: "Debitoren/Kreditoren",
    20: "Kontenbeschriftungen",
    44: "Textschlüssel",
    46: "Zahlungsbedingungen",
    48: "Diverse Adressen",
    62: "Anlagenbuchführung – Filialen",
    63: "Anlagenbuchführung – Buchungssatzvorlagen",
    65: "Wiederkehrende Buchungen",
    67: "Buchungstextkonstanten",
}
# Positions (1-based) of the columns the import reads; the same in every format version.
AMOUNT, SIDE, CURRENCY, RATE, BASE, BASE_CURRENCY = 1, 2, 3, 4, 5, 6
ACCOUNT, CONTRA, KEY, DAY, VOUCHER, TEXT = 7, 8, 9, 10, 11, 14
GUID, GU = 103, 118
ZUSATZ = range(48, 88, 2)  # Zusatzinformation - Art n; the content follows


@dataclass(frozen=True)
class Header:
    marker: str
    header_version: int
    category: int
    format_name: str
    format_version: int
    advisor_number: str
    client_number: str
    fiscal_year_start: date | None
    account_length: int
    period_start: date | None
    period_end: date | None
    label: str
    chart: str  # "skr03" | "skr04" | ""
    currency: str


@dataclass(frozen=True)
class Booking:
    """One booking line as DATEV means it (Konto, S/H, Gegenkonto)."""

    line: int
    amount: Decimal
    side: str  # S | H
    account: str
    contra: str
    key: str  # as written, without the Generalumkehr digit of an old-style key
    reversal: bool
    day: date
    voucher: str
    text: str
    guid: str
    info: dict[str, str]  # Zusatzinformation: Art → Inhalt


@dataclass
class Parsed:
    header: Header
    bookings: list[Booking]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0


def _error(code: str, message: str, line: int, **detail: Any) -> ValidationFailed:
    return ValidationFailed(code, message, [{"line": line, "message": message, **detail}])


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes as such, else Windows-1252."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _delimiter(first_line: str) -> str:
    semicolons, commas = first_line.count(";"), first_line.count(",")
    return ";" if semicolons >= commas else ","


def _int(value: str, default: int = 0) -> int:
    value = value.strip()
    return int(value) if value.isdigit() else default


def _yyyymmdd(value: str) -> date | None:
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _field(row: list[str], position: int) -> str:
    return row[position - 1].strip() if len(row) >= position else ""


def parse_header(row: list[str]) -> tuple[Header, list[dict[str, Any]]]:
    """Line 1: the 31 header fields; refuses files that are not a DATEV Buchungsstapel."""
    warnings: list[dict[str, Any]] = []
    marker = _field(row, 1).upper()
    if marker not in ("EXTF", "DTVF"):
        shown = (row[0].strip()[:20] if row else "") or "–"
        raise _error(
            "datev.not_extf",
            _(
                "This is not a DATEV-format file: line 1 begins with “{start}” instead of “EXTF”."
            ).format(start=shown),
            1,
            field="DATEV-Format-KZ",
        )
    if len(row) < 16:
        raise _error(
            "datev.header_incomplete",
            _(
                "Line 1 (the DATEV header) has only {count} of 31 fields; the file is cut off or "
                "damaged."
            ).format(count=len(row)),
            1,
        )
    category, name = _int(_field(row, 3)), _field(row, 4)
    if category != 21 and name.casefold() != "buchungsstapel":
        kind = CATEGORY_NAMES.get(category, name or str(category))
        raise _error(
            "datev.not_booking_batch",
            _(
                "The file holds DATEV “{kind}” (data category {category}), not a "
                "Buchungsstapel. Only Buchungsstapel (category 21) can be imported."
            ).format(kind=kind, category=category),
            1,
            field="Datenkategorie",
            value=category,
        )
    if category != 21:
        warnings.append(
            {
                "line": 1,
                "message": _(
                    "Data category {category} instead of 21; read as Buchungsstapel because "
                    "the header names it so."
                ).format(category=category),
            }
        )
    chart = {"03": "skr03", "04": "skr04"}.get(_field(row, 27).zfill(2), "")
    header = Header(
        marker=marker,
        header_version=_int(_field(row, 2)),
        category=category,
        format_name=name,
        format_version=_int(_field(row, 5)),
        advisor_number=_field(row, 11),
        client_number=_field(row, 12),
        fiscal_year_start=_yyyymmdd(_field(row, 13)),
        account_length=_int(_field(row, 14), 4) or 4,
        period_start=_yyyymmdd(_field(row, 15)),
        period_end=_yyyymmdd(_field(row, 16)),
        label=_field(row, 17)[:60],
        chart=chart,
        currency=_field(row, 22).upper() or "EUR",
    )
    if header.currency != "EUR":
        raise _error(
            "datev.currency",
            _("The file is in {currency}; Belegwerk keeps its books in euros only.").format(
                currency=header.currency
            ),
            1,
            field="WKZ",
        )
    if header.period_start is None and header.fiscal_year_start is None:
        raise _error(
            "datev.no_year",
            _(
                "The header has neither a period nor a fiscal year start, so the year of the "
                "bookings (Belegdatum TTMM) is unknown."
            ),
            1,
        )
    fy, start = header.fiscal_year_start, header.period_start
    if fy is not None and start is not None and not (fy <= start < fy.replace(year=fy.year + 1)):
        warnings.append(
            {
                "line": 1,
                "message": _(
                    "The fiscal year start {fy} does not fit the period from {start}; the "
                    "year of the bookings is taken from the period."
                ).format(fy=format_date(fy), start=format_date(start)),
            }
        )
    return header, warnings


def parse_amount(value: str) -> Decimal | None:
    """``1234,56``; tolerated: ``1.234,56``, ``1234.56``, ``1234``, ``618,9``, a sign."""
    text = value.strip().replace(" ", "")
    if not text:
        return Decimal(0)
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def _years(header: Header) -> list[int]:
    if header.period_start and header.period_end:
        return list(range(header.period_start.year, header.period_end.year + 1))
    if header.period_start:
        return [header.period_start.year]
    assert header.fiscal_year_start is not None
    return [header.fiscal_year_start.year, header.fiscal_year_start.year + 1]


@lru_cache(maxsize=4096)
def parse_day(value: str, header: Header) -> date | None:
    """Belegdatum TTMM with the year from the header's period (or fiscal year)."""
    text = value.strip()
    if not text.isdigit():
        return None
    if len(text) == 8:  # TTMMJJJJ, written by some programs
        try:
            return date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            return None
    if len(text) not in (3, 4):
        return None
    text = text.zfill(4)
    day, month = int(text[:2]), int(text[2:])
    candidates = []
    for year in _years(header):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    lo, hi = header.period_start, header.period_end
    if lo is None and header.fiscal_year_start is not None:
        lo = header.fiscal_year_start
        hi = lo.replace(year=lo.year + 1)
    inside = [d for d in candidates if (lo is None or d >= lo) and (hi is None or d <= hi)]
    return (inside or candidates)[0]


def _in_euro(
    row: list[str],
    line: int,
    amount: Decimal,
    currency: str,
    bad: Callable[[int, str], None],
    warnings: list[dict[str, Any]],
) -> Decimal | None:
    """A foreign-currency line: its Basis-Umsatz in euros, else the amount at its Kurs."""
    base = parse_amount(_field(row, BASE))
    if base and _field(row, BASE_CURRENCY).upper() in ("", "EUR"):
        euros = base
    else:
        rate = parse_rate(_field(row, RATE))
        if rate is None:
            bad(
                CURRENCY,
                _("Line {line}: an amount in {currency} without euro amount or rate.").format(
                    line=line, currency=currency
                ),
            )
            return None
        euros = (amount / rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    warnings.append(
        {
            "line": line,
            "message": _("Line {line}: {amount} {currency} taken as {euros} EUR.").format(
                line=line, amount=amount, currency=currency, euros=euros
            ),
        }
    )
    return euros


def parse_rate(value: str) -> Decimal | None:
    try:
        rate = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return rate if rate.is_finite() and rate > 0 else None


def _booking(
    row: list[str],
    line: int,
    header: Header,
    errors: list[dict[str, Any]],
    warnings: list[dict[str, Any]],
) -> Booking | None:
    def bad(position: int, message: str) -> None:
        errors.append(
            {"line": line, "column": position, "value": _field(row, position), "message": message}
        )

    if len(row) < GU:  # older versions end earlier; DATEV reads by position
        row = row + [""] * (GU - len(row))
    amount = parse_amount(row[AMOUNT - 1])
    side = row[SIDE - 1].strip().upper() or "S"
    account, contra = row[ACCOUNT - 1].strip(), row[CONTRA - 1].strip()
    key = row[KEY - 1].strip()
    day = parse_day(row[DAY - 1].strip(), header)
    count = len(errors)
    if amount is None or abs(amount) > MAX_AMOUNT:
        bad(
            AMOUNT,
            _("Line {line}: the amount {value} is not a valid amount.").format(
                line=line, value=_field(row, AMOUNT)
            ),
        )
    if side not in ("S", "H"):
        bad(
            SIDE,
            _("Line {line}: Soll/Haben must be S or H, not {value}.").format(line=line, value=side),
        )
    for position, value in ((ACCOUNT, account), (CONTRA, contra)):
        if not value.isdigit() or len(value) > 9:
            bad(
                position,
                _("Line {line}: {value} is not an account number.").format(
                    line=line, value=value or "–"
                ),
            )
    if key and (not key.isdigit() or len(key) > 4):
        bad(KEY, _("Line {line}: {value} is not a BU-Schlüssel.").format(line=line, value=key))
    if day is None:
        bad(
            DAY,
            _("Line {line}: the Belegdatum {value} is not a date.").format(
                line=line, value=_field(row, DAY) or "–"
            ),
        )
    currency = row[CURRENCY - 1].strip().upper()
    if currency and currency != "EUR" and amount is not None:
        amount = _in_euro(row, line, amount, currency, bad, warnings)
    if len(errors) > count:
        return None
    assert amount is not None and day is not None
    if amount < 0:  # a sign instead of the other side
        amount, side = -amount, "H" if side == "S" else "S"
    reversal = row[GU - 1].strip().upper() in ("1", "G")
    if len(key) == 2 and key[0] in "23678":  # Berichtigungsschlüssel with Generalumkehr
        reversal = True
        key = {"2": "", "3": "9", "6": "1", "7": "5", "8": "4"}[key[0]] + key[1]
    if key.strip("0") == "":
        key = ""
    arts = row[ZUSATZ.start - 1 : ZUSATZ.stop : 2]
    contents = row[ZUSATZ.start : ZUSATZ.stop + 1 : 2]
    info = {a.strip(): c.strip() for a, c in zip(arts, contents, strict=False) if a.strip()}
    return Booking(
        line=line,
        amount=amount,
        side=side,
        account=account,
        contra=contra,
        key=key,
        reversal=reversal,
        day=day,
        voucher=row[VOUCHER - 1].strip(),
        text=row[TEXT - 1].strip(),
        guid=row[GUID - 1].strip().lower(),
        info=info,
    )


def parse(content: bytes) -> Parsed:
    """The header and the bookings; raises with every bad line (at most 100 listed)."""
    if not content.strip():
        raise _error("datev.empty_file", _("The file is empty."), 1)
    if len(content) > MAX_FILE_BYTES:
        raise _error(
            "datev.too_large",
            _("The file is too large; at most {limit} MB can be imported.").format(
                limit=MAX_FILE_BYTES // (1024 * 1024)
            ),
            1,
        )
    text = decode(content)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
            if len(rows) > MAX_ROWS + 2:
                raise _error(
                    "datev.too_many_rows",
                    _("The file has more than {limit} bookings.").format(limit=MAX_ROWS),
                    reader.line_num,
                )
    except csv.Error:
        line = reader.line_num
        raise _error(
            "datev.cut_off",
            _(
                "Line {line} ends inside a quoted field: the file is cut off or damaged. "
                "Nothing was imported."
            ).format(line=line),
            line,
        ) from None
    header, warnings = parse_header(rows[0][1])
    if len(rows) < 2:
        raise _error(
            "datev.cut_off",
            _("The file ends after the header: the line of column names (line 2) is missing."),
            2,
        )
    columns = len(rows[1][1])
    if columns < TEXT:
        raise _error(
            "datev.columns_missing",
            _("Line 2 names only {count} columns; this is not a complete Buchungsstapel.").format(
                count=columns
            ),
            2,
        )
    ends_cleanly = text.endswith(("\n", "\r"))
    errors: list[dict[str, Any]] = []
    bookings: list[Booking] = []
    data = [(line, row) for line, row in rows[2:] if any(v.strip() for v in row)]
    for index, (line, row) in enumerate(data):
        last = index == len(data) - 1
        if len(row) < columns:
            if last and not ends_cleanly:
                raise _error(
                    "datev.cut_off",
                    _(
                        "Line {line} has only {count} of {expected} fields and the file ends "
                        "there: it is cut off. Nothing was imported."
                    ).format(line=line, count=len(row), expected=columns),
                    line,
                )
            if len(row) < TEXT:
                errors.append(
                    {
                        "line": line,
                        "message": _("Line {line} has only {count} of {expected} fields.").format(
                            line=line, count=len(row), expected=columns
                        ),
                    }
                )
                continue
        booking = _booking(row, line, header, errors, warnings)
        if len(errors) >= MAX_ERRORS:
            break
        if booking is None:
            continue
        if booking.amount == 0:
            warnings.append(
                {
                    "line": line,
                    "message": _("Line {line} has no amount and was skipped.").format(line=line),
                }
            )
            continue
        bookings.append(booking)
    if errors:
        raise ValidationFailed(
            "datev.invalid_rows",
            _("{count} lines of the file cannot be read; nothing was imported. {first}").format(
                count=len(errors), first=errors[0]["message"]
            ),
            errors,
        )
    if not bookings:
        raise _error("datev.no_bookings", _("The file contains no bookings."), len(rows))
    return Parsed(header, bookings, warnings, len(data))
