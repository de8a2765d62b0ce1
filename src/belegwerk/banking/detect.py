"""Turn any uploaded statement file into a :class:`ParsedStatement`.

ZIP and XML go to the CAMT parser, MT940 (``:20:`` … ``:61:``) to the MT940 parser, everything
else is read as CSV: the encoding and delimiter are sniffed, every template (the user's first)
is scored 0..1 on the file's head — required columns present, column count, sample rows that
parse — and the best one above :data:`THRESHOLD` reads the whole file. Near-equal leaders are
reported (``ambiguous``, e.g. Sparkasse CSV-CAMT V2 vs. V8); when nothing fits, the error
``bank.unknown_layout`` carries the columns found so the template editor can start from them
(see also :func:`suggest_template`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from belegwerk.banking.csv_parse import (
    Decoded,
    Layout,
    decode_for,
    encoding_fits,
    encoding_mismatch,
    file_too_large,
    find_layout,
    normalize_header,
    parse_text,
    sample_rows,
    sniff_encoding,
    split_lines,
)
from belegwerk.banking.csv_template import CsvTemplate, list_system_templates
from belegwerk.banking.statement import MAX_FILE_BYTES, Candidate, ParsedStatement
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

THRESHOLD = 0.6  # below this a template is not used without the user choosing it
TIE_MARGIN = 0.05  # leaders closer than this are a tie the user must resolve
LISTED = 0.3  # candidates from this score on are shown
SAMPLE_ROWS = 25
HEAD_LINES = 200  # detection only looks at the head of the file
DELIMITERS = (";", ",", "\t", "|")

# A line starting with an MT940 tag (or a SWIFT block header) never occurs in a bank CSV.
_MT940 = re.compile(rb"(?:^|[\r\n])(?::(?:20|25|28C?|60[FM]|61|86):|\{1:F01)")


# --------------------------------------------------------------------------- format sniffing


def sniff_format(content: bytes) -> str:
    """csv | camt | mt940 | pdf | office, from the bytes (not the file name)."""
    if content.startswith(b"PK\x03\x04"):
        return "office" if _office_zip(content) else "camt"
    if content.startswith(b"%PDF") or content.startswith(b"\xd0\xcf\x11\xe0"):
        return "pdf" if content.startswith(b"%PDF") else "office"
    head = content[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n")
    if head.startswith((b"<?xml", b"<Document", b"<!DOCTYPE")) or (
        head.startswith(b"<") and b"camt.05" in head
    ):
        return "camt"
    if _MT940.search(head):
        return "mt940"
    return "csv"


def _office_zip(content: bytes) -> bool:
    """An Excel/Word file is a ZIP too; only its directory is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names or any(n.startswith(("xl/", "word/")) for n in names)


def _unsupported(kind: str) -> ValidationFailed:
    what = _("a PDF document") if kind == "pdf" else _("an Excel or Office document")
    return ValidationFailed(
        "bank.unsupported_format",
        _(
            "The file is {what}, not a statement export. Please export the statement from "
            "online banking as CSV, MT940 or CAMT."
        ).format(what=what),
        [{"field": "file", "format": kind}],
    )


def _empty_file() -> ValidationFailed:
    return ValidationFailed(
        "bank.empty_file",
        _("The file is empty."),
        [{"field": "file"}],
    )


# --------------------------------------------------------------------------- scoring


@dataclass
class Scored:
    template: CsvTemplate
    layout: Layout
    score: float
    order: int  # user templates come first


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _effective_width(cells: list[str]) -> int:
    """Columns without the empty ones a trailing delimiter adds (DKB, comdirect)."""
    width = len(cells)
    while width and cells[width - 1] == "":
        width -= 1
    return width


def score_layout(lines: list[str], layout: Layout) -> float:
    """0..1: required columns (a must), column count, and how many sample rows parse."""
    t = layout.template
    if layout.required_found < 1:
        return 0.3 * layout.required_found
    good, total = sample_rows(lines, layout, SAMPLE_ROWS)
    ratio = good / total if total else 1.0
    if not t.header:
        first_bad = False
        if total:
            head = sample_rows(lines, layout, 1)
            first_bad = head[1] > 0 and head[0] == 0
        return 0.9 * ratio * (0.6 if first_bad else 1.0)
    count_fit = t.column_count is None or t.column_count == _effective_width(layout.cells)
    return (0.85 + (0.15 if count_fit else 0.0)) * (0.4 + 0.6 * ratio)


def _decimal_score(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def score_templates(
    lines: list[str], decoded: Decoded, templates: Sequence[CsvTemplate]
) -> tuple[list[Scored], list[Scored]]:
    """(usable candidates best first, candidates refused for their encoding)."""
    usable: list[Scored] = []
    refused: list[Scored] = []
    for order, template in enumerate(templates):
        layout = find_layout(lines, template)
        if layout is None:
            continue
        score = score_layout(lines, layout)
        if score < LISTED:
            continue
        entry = Scored(template, layout, score, order)
        if encoding_fits(template, decoded) or template.encoding_fallback:
            usable.append(entry)
        else:
            refused.append(entry)
    usable.sort(key=lambda s: (-round(s.score, 2), s.order))
    return usable, refused


# --------------------------------------------------------------------------- entry point


def parse_file(
    content: bytes,
    file_name: str,
    *,
    user_templates: Sequence[CsvTemplate] = (),
    template_key: str | None = None,
) -> ParsedStatement:
    """Detect the format (and for CSV the template) and parse; pure, nothing is stored.

    ``template_key`` forces a CSV template (user templates first); ``user_templates`` are
    preferred over system templates on an equal score.
    """
    if len(content) > MAX_FILE_BYTES:
        raise file_too_large(len(content))
    if not content.strip(b" \t\r\n\x00\x1a").removeprefix(b"\xef\xbb\xbf").strip():
        raise _empty_file()
    kind = sniff_format(content)
    if kind in ("pdf", "office"):
        raise _unsupported(kind)
    if kind == "camt":
        from belegwerk.banking.camt import parse_camt

        return parse_camt(content, file_name)
    if kind == "mt940":
        from belegwerk.banking.mt940 import parse_mt940

        return parse_mt940(content, file_name)

    decoded = sniff_encoding(content)
    lines = split_lines(decoded.text)
    if not any(line.strip() for line in lines):
        raise _empty_file()
    templates = [*user_templates, *list_system_templates()]

    if template_key:
        template = next((t for t in templates if t.key == template_key), None)
        if template is None:
            raise ValidationFailed(
                "bank.template_unknown",
                _('There is no template "{key}".').format(key=template_key),
                [{"field": "template_key", "value": template_key}],
            )
        return _parse_forced(content, decoded, lines, template)

    head = lines[:HEAD_LINES]
    usable, refused = score_templates(head, decoded, templates)
    fitting = [s for s in usable if s.score >= THRESHOLD]
    if not fitting:
        strict = [s for s in refused if s.score >= THRESHOLD]
        if strict:
            raise encoding_mismatch(strict[0].template, decoded.family)
        raise unknown_layout(decoded, lines)
    best = fitting[0]
    statement = _parse_with(content, decoded, lines, best.template, best.layout, best.score)
    statement.candidates = [
        Candidate(s.template.key, s.template.name, _decimal_score(s.score)) for s in usable
    ]
    if len(fitting) > 1:
        runner_up = fitting[1]
        user_wins = best.order < len(user_templates) <= runner_up.order
        statement.ambiguous = best.score - runner_up.score < TIE_MARGIN and not user_wins
    return statement


def _parse_with(
    content: bytes,
    decoded: Decoded,
    lines: list[str],
    template: CsvTemplate,
    layout: Layout | None,
    score: float,
) -> ParsedStatement:
    own = decode_for(content, template, decoded)
    if own is not decoded:
        lines, layout = split_lines(own.text), None
    return parse_text(own.text, template, score=_decimal_score(score), lines=lines, layout=layout)


def _parse_forced(
    content: bytes, decoded: Decoded, lines: list[str], template: CsvTemplate
) -> ParsedStatement:
    own = decode_for(content, template, decoded)  # raises bank.encoding_mismatch if strict
    if own is not decoded:
        lines = split_lines(own.text)
    layout = find_layout(lines, template)
    score = score_layout(lines[:HEAD_LINES], layout) if layout else 0.0
    statement = parse_text(
        own.text, template, score=_decimal_score(score), lines=lines, layout=layout
    )
    statement.candidates = [Candidate(template.key, template.name, statement.score)]
    return statement


# --------------------------------------------------------------------------- unknown layouts


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that gives the most lines of one common width (≥ 2 columns)."""
    sample = [line for line in lines[:60] if line.strip()]
    best, best_key = ";", (0, 0)
    for delimiter in DELIMITERS:
        widths = Counter(len(_cells(line, delimiter)) for line in sample)
        widths.pop(1, None)
        widths.pop(0, None)
        if not widths:
            continue
        width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
        if (count, width) > best_key:
            best, best_key = delimiter, (count, width)
    return best


def _header_index(rows: list[list[str]]) -> int | None:
    """The first row of the table's common width (the header, or the first data row)."""
    widths = Counter(_effective_width(r) for r in rows if _effective_width(r) >= 2)
    if not widths:
        return None
    width = max(widths.items(), key=lambda item: (item[1], item[0]))[0]
    return next(i for i, r in enumerate(rows) if _effective_width(r) == width)


_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y")
_AMOUNT = re.compile(r"^[+-]?\s*[0-9][0-9.,' ]*-?\s*(€|EUR)?$")


def _looks_like_date(value: str) -> str | None:
    value = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            datetime.strptime(value, fmt)
        except ValueError:
            continue
        return fmt
    return None


def detected_columns(content: bytes) -> dict[str, Any]:
    """What a template editor needs to start: columns, delimiter, encoding, header line."""
    decoded = sniff_encoding(content)
    lines = split_lines(decoded.text)
    return _detected(decoded, lines)


def _detected(decoded: Decoded, lines: list[str]) -> dict[str, Any]:
    delimiter = sniff_delimiter(lines)
    rows = [_cells(line, delimiter) for line in lines[:60]]
    index = _header_index(rows)
    columns: list[str] = []
    header_line = None
    has_header = True
    if index is not None:
        columns = [c.strip() for c in rows[index][: _effective_width(rows[index])]]
        header_line = index + 1
        has_header = not any(_looks_like_date(c) for c in columns)
    encoding = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8", "iso-8859-1": "iso-8859-1"}.get(
        decoded.encoding, "cp1252" if decoded.family == "latin" else "utf-8"
    )
    return {
        "columns": columns,
        "delimiter": delimiter,
        "encoding": encoding,
        "header_line": header_line,
        "has_header": has_header,
    }


def unknown_layout(decoded: Decoded, lines: list[str]) -> ValidationFailed:
    details = _detected(decoded, lines)
    return ValidationFailed(
        "bank.unknown_layout",
        _(
            "The layout of this file is not known (columns: {columns}). Create a template for "
            "it in the template editor."
        ).format(columns=", ".join(details["columns"]) or "-"),
        [details],
    )


# Header words → our fields; exact names first, then parts of names. Order matters.
_EXACT: dict[str, str] = {
    "booking_date": "buchungstag|buchungsdatum|buchung|datum|booking date|date|transaktionsdatum",
    "value_date": "wertstellung|valuta|valutadatum|wert|wertstellungsdatum|value date"
    "|wertstellung (valuta)",
    "amount": "betrag|betrag (eur)|betrag (€)|umsatz|amount|amount (eur)|umsatz in eur"
    "|betrag in eur|brutto|betrag eur",
    "debit": "soll|debit",
    "credit": "haben|credit",
    "currency": "währung|waehrung|currency|whg|whrg",
    "purpose": "verwendungszweck|payment reference|zweck|betreff|memo|beschreibung"
    "|vorgang/verwendungszweck",
    "booking_text": "buchungstext|umsatzart|vorgang|transaction type|type|typ|umsatztyp"
    "|buchungsart",
    "payer_name": "zahlungspflichtige*r|zahlungspflichtige:r",
    "payee_name": "zahlungsempfänger*in|zahlungsempfänger:in",
    "counterparty_name": "auftraggeber/empfänger|empfänger|auftraggeber|name"
    "|begünstigter / auftraggeber|beguenstigter/zahlungspflichtiger|name zahlungsbeteiligter"
    "|partner name|payee|zahlungsempfänger|gegenseite|sender / empfänger",
    "counterparty_iban": "iban|kontonummer/iban|iban zahlungsbeteiligter|partner iban"
    "|iban / kontonummer|gegenkonto",
    "counterparty_bic": "bic|bic (swift-code)|blz|bic (swift-code) zahlungsbeteiligter",
    "end_to_end_ref": "kundenreferenz (end-to-end)|end-to-end-referenz|kundenreferenz|eref",
    "mandate_ref": "mandatsreferenz|mandat|mref",
    "creditor_id": "gläubiger-id|gläubiger id|glaeubiger id|creditor id|cred",
    "balance_after": "saldo|saldo nach buchung|kontostand|balance|guthaben",
    "status": "status|info",
    "account_iban": "auftragskonto|iban auftragskonto|iban kontoinhaber",
}
_PARTS: tuple[tuple[str, str], ...] = (
    ("account_iban", "auftragskonto|kontoinhaber"),
    ("booking_date", "buchungstag|buchungsdatum|datum|date"),
    ("value_date", "wertstellung|valuta|value"),
    ("amount", "betrag|umsatz|amount"),
    ("currency", "währung|waehrung|currency"),
    ("purpose", "verwendungszweck|zweck|reference"),
    ("counterparty_iban", "iban|kontonummer"),
    ("counterparty_bic", "bic|blz"),
    (
        "counterparty_name",
        "empfänger|auftraggeber|begünstigter|beguenstigter|zahlungspflichtig|name|payee|partner",
    ),
    ("end_to_end_ref", "end-to-end|referenz"),
    ("creditor_id", "gläubiger|glaeubiger|creditor"),
    ("balance_after", "saldo|balance"),
)


def _guess_mapping(columns: list[str]) -> dict[str, int]:
    norm = [normalize_header(c) for c in columns]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for name, words in _EXACT.items():
        for word in words.split("|"):
            if word in norm and norm.index(word) not in taken and name not in found:
                found[name] = norm.index(word)
                taken.add(found[name])
    own = ("auftragskonto", "kontoinhaber")  # the account's own IBAN/BIC, not the other side
    for name, parts in _PARTS:
        if name in found:
            continue
        for i, cell in enumerate(norm):
            if name != "account_iban" and any(o in cell for o in own):
                continue
            if i not in taken and any(p in cell for p in parts.split("|")):
                found[name] = i
                taken.add(i)
                break
    if "amount" in found and ("debit" in found) != ("credit" in found):
        found.pop("debit", None)
        found.pop("credit", None)
    return found


def suggest_template(content: bytes) -> dict[str, Any]:
    """A template definition (JSON-able) guessed from the file, for the template editor.

    Columns are mapped by their header names (Datum/Buchungstag → booking_date, Betrag →
    amount, IBAN, Verwendungszweck …); the decimal separator and date format are guessed from
    the first rows. It validates with :func:`load_template_json` when a date and an amount
    column were found; otherwise the editor asks for them.
    """
    decoded = sniff_encoding(content)
    lines = split_lines(decoded.text)
    info = _detected(decoded, lines)
    delimiter = info["delimiter"]
    rows = [_cells(line, delimiter) for line in lines[:80]]
    start = (info["header_line"] or 1) - 1
    columns: list[str] = info["columns"]
    has_header = info["has_header"]
    if has_header:
        mapping = _guess_mapping(columns)
        data = rows[start + 1 :]
    else:
        mapping = {}
        data = rows[start:]
        width = len(columns)
        for i in range(width):
            values = [r[i] for r in data if len(r) > i and r[i].strip()]
            if not values:
                continue
            if "booking_date" not in mapping and all(_looks_like_date(v) for v in values):
                mapping["booking_date"] = i
            elif "amount" not in mapping and all(_AMOUNT.match(v.strip()) for v in values):
                mapping["amount"] = i
            elif "purpose" not in mapping and not any(_looks_like_date(v) for v in values):
                mapping["purpose"] = i
    decimal = ","
    date_formats = ["%d.%m.%Y"]
    amounts = [
        r[mapping["amount"]].strip()
        for r in data
        if "amount" in mapping and len(r) > mapping["amount"] and r[mapping["amount"]].strip()
    ]
    comma = any(re.search(r",\d{1,2}-?$", a) for a in amounts)
    if not comma and any(re.search(r"\.\d{1,2}-?$", a) for a in amounts):
        decimal = "."
    dates = [
        r[mapping["booking_date"]].strip()
        for r in data
        if "booking_date" in mapping
        and len(r) > mapping["booking_date"]
        and r[mapping["booking_date"]].strip()
    ][:50]
    for fmt in _DATE_FORMATS:
        ok = True
        for value in dates:
            try:
                datetime.strptime(value, fmt)
            except ValueError:
                ok = False
                break
        if ok and dates:
            date_formats = [fmt]
            break
    definition: dict[str, Any] = {
        "schema_version": 1,
        "key": "custom",
        "name": _("My bank"),
        "bank": "",
        "encoding": info["encoding"],
        "delimiter": delimiter,
        "decimal": decimal,
        "thousands": "." if decimal == "," else ",",
        "date_formats": date_formats,
        "header": has_header,
        "column_count": len(columns) or None,
        "columns": {
            name: ({"names": [columns[i]]} if has_header else {"index": i})
            for name, i in sorted(mapping.items(), key=lambda item: item[1])
        },
    }
    if not has_header:
        definition["skip_lines"] = start
    return definition
