"""An independent check of a DATEV-format file against the published format rules.

Reads the raw bytes (not through our parser): Windows-1252, CR LF after every line and none
alone, 31 header fields, the official column names, the same field count on every line, text
fields in quotes with doubled inner quotes, numbers unquoted, lengths, amounts with a decimal
comma, S/H, Belegdatum TTMM inside the header's period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from belegwerk.exports import datev_format as fmt

AMOUNT = re.compile(r"^\d{1,10},\d{2}$")
ACCOUNT = re.compile(r"^\d{1,9}$")
KEY = re.compile(r'^"\d{0,4}"$')
VOUCHER = re.compile(r'^"[0-9A-Za-z$%&*+\-/]{0,36}"$')


def split_raw(line: str) -> list[str]:
    """Fields as written, quotes kept: ``;`` inside quotes does not separate."""
    fields, current, quoted = [], [], False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    assert not quoted, f"unbalanced quotes in {line[:80]!r}"
    fields.append("".join(current))
    return fields


def unquote(field: str) -> str:
    assert field.startswith('"') and field.endswith('"'), field
    inner = field[1:-1]
    assert '"' not in inner.replace('""', ""), f"inner quote not doubled: {field}"
    return inner.replace('""', '"')


@dataclass
class Checked:
    header: list[str]
    rows: list[list[str]]  # raw fields of the data lines

    def column(self, name: str) -> int:
        return fmt.BOOKING_COLUMNS.index(name)


def _ddmm_in(value: str, start: date, end: date) -> None:
    assert re.fullmatch(r"\d{4}", value), value
    day, month = int(value[:2]), int(value[2:])
    candidates = []
    for year in range(start.year, end.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    assert any(start <= d <= end for d in candidates), f"Belegdatum {value} outside period"


def check_booking_file(content: bytes) -> Checked:
    text = content.decode("cp1252")  # raises if not Windows-1252
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "a line ends without CR LF"
    assert "\r" not in text.replace("\r\n", ""), "a lone CR"
    lines = text[:-2].split("\r\n")
    header = split_raw(lines[0])
    assert len(header) == fmt.HEADER_FIELDS == 31
    assert header[0] == '"EXTF"' and header[1] == "700" and header[2] == "21"
    assert header[3] == '"Buchungsstapel"' and header[4] == "13"
    assert re.fullmatch(r"\d{17}", header[5]), header[5]
    for n in fmt.HEADER_TEXT:
        unquote(header[n - 1])
    start = date(int(header[14][:4]), int(header[14][4:6]), int(header[14][6:]))
    end = date(int(header[15][:4]), int(header[15][4:6]), int(header[15][6:]))
    assert len(unquote(header[16])) <= 30
    assert split_raw(lines[1]) == list(fmt.BOOKING_COLUMNS)
    assert len(fmt.BOOKING_COLUMNS) == 125
    rows = []
    for line in lines[2:]:
        fields = split_raw(line)
        assert len(fields) == 125, f"{len(fields)} fields"
        for n, value in enumerate(fields, start=1):
            if n in fmt.BOOKING_TEXT:
                inner = unquote(value)
                assert len(inner) <= fmt.BOOKING_MAX_LENGTH.get(n, 210), (n, inner)
            else:
                assert '"' not in value, (n, value)
        assert AMOUNT.match(fields[0]), fields[0]
        assert fields[1] in ('"S"', '"H"')
        assert ACCOUNT.match(fields[6]) and ACCOUNT.match(fields[7])
        assert KEY.match(fields[8]), fields[8]
        _ddmm_in(fields[9], start, end)
        assert VOUCHER.match(fields[10]), fields[10]
        assert fields[117] in ('""', '"1"')
        rows.append(fields)
    return Checked(header, rows)
