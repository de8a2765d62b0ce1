"""The DATEV format ("DATEV-Format", EXTF): header, columns, field rules, encoding.

Facts from DATEV's Formatbeschreibung (developer.datev.de, dtvf/formate), cross-checked with
``../shared/reference/tax-datev-gobd.md`` §1: a file is one header line of 31 fields, one line
of column names and the data lines; fields separated by ``;``, lines ended by CR LF, text fields
in double quotes (also when empty, embedded quotes doubled, no line breaks), amounts with a
decimal comma and no thousands separator, encoding Windows-1252. The Buchungsstapel (category
21, format version 13) has 125 columns, the Debitoren/Kreditoren file (category 16, version 5)
254; DATEV reads both by position.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

HEADER_VERSION = 700
BOOKING_CATEGORY = 21
BOOKING_FORMAT = "Buchungsstapel"
BOOKING_VERSION = 13
PARTIES_CATEGORY = 16
PARTIES_FORMAT = "Debitoren/Kreditoren"
PARTIES_VERSION = 5
HEADER_FIELDS = 31
# Header fields written in quotes (1-based), as DATEV's example header shows.
HEADER_TEXT = frozenset({1, 4, 8, 9, 10, 17, 18, 22, 24, 27, 30, 31})
ENCODING = "cp1252"
NEWLINE = "\r\n"
ORIGIN = "BW"  # header field 8 "Herkunft": two characters chosen by the exporting program
APPLICATION = "Belegwerk"  # header field 31 "Anwendungsinformation" (max. 16)

_BELEGINFO = [f"Beleginfo - {kind} {n}" for n in range(1, 9) for kind in ("Art", "Inhalt")]
_ZUSATZ = [
    name
    for n in range(1, 21)
    for name in (f"Zusatzinformation - Art {n}", f"Zusatzinformation- Inhalt {n}")
]
# The 125 columns of Buchungsstapel format version 13, spelled exactly as DATEV spells them.
BOOKING_COLUMNS: tuple[str, ...] = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *_BELEGINFO,
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *_ZUSATZ,
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)


def _ranges(*spans: tuple[int, int]) -> frozenset[int]:
    return frozenset(n for start, end in spans for n in range(start, end + 1))


# Text columns of the Buchungsstapel (1-based): always in quotes.
BOOKING_TEXT = _ranges(
    (2, 3), (6, 6), (9, 9), (11, 12), (14, 14), (16, 16), (20, 38), (40, 40), (42, 42),
    (48, 87), (91, 91), (95, 96), (98, 98), (102, 103), (105, 105), (107, 107), (109, 110),
    (112, 112), (118, 118), (120, 121), (123, 123),
)  # fmt: skip
# Maximum lengths of the text columns we fill (DATEV Formatbeschreibung / Prüfprogramm).
BOOKING_MAX_LENGTH = {
    2: 1, 3: 3, 9: 4, 11: 36, 12: 12, 14: 60, 20: 210, 103: 36, 118: 1,
    **{n: 20 for n in range(21, 36, 2)}, **{n: 210 for n in range(22, 37, 2)},
    **{n: 20 for n in range(48, 87, 2)}, **{n: 210 for n in range(49, 88, 2)},
}  # fmt: skip


def _bank_block(numbers: range) -> list[str]:
    out = []
    for n in numbers:
        out += [
            f"Bankleitzahl {n}",
            f"Bankbezeichnung {n}",
            f"Bankkonto-Nummer {n}",
            f"Länderkennzeichen {n}",
            f"IBAN {n}",
            "Leerfeld",
            f"SWIFT-Code {n}",
            f"Abw. Kontoinhaber {n}",
            f"Kennz. Haupt-Bankverb. {n}",
            f"Bankverb. {n} Gültig von",
            f"Bankverb. {n} Gültig bis",
        ]
    return out


def _party_columns() -> tuple[str, ...]:
    bank, more_bank = _bank_block(range(1, 6)), _bank_block(range(6, 11))
    return (
        "Konto",
        "Name (Adressattyp Unternehmen)",
        "Unternehmensgegenstand",
        "Name (Adressattyp natürl. Person)",
        "Vorname (Adressattyp natürl. Person)",
        "Name (Adressattyp keine Angabe)",
        "Adressattyp",
        "Kurzbezeichnung",
        "EU-Land",
        "EU-UStID",
        "Anrede",
        "Titel/Akad. Grad",
        "Adelstitel",
        "Namensvorsatz",
        "Adressart",
        "Straße",
        "Postfach",
        "Postleitzahl",
        "Ort",
        "Land",
        "Versandzusatz",
        "Adresszusatz",
        "Abweichende Anrede",
        "Abw. Zustellbezeichnung 1",
        "Abw. Zustellbezeichnung 2",
        "Kennz. Korrespondenzadresse",
        "Adresse Gültig von",
        "Adresse Gültig bis",
        "Telefon",
        "Bemerkung (Telefon)",
        "Telefon Geschäftsleitung",
        "Bemerkung (Telefon GL)",
        "E-Mail",
        "Bemerkung (E-Mail)",
        "Internet",
        "Bemerkung (Internet)",
        "Fax",
        "Bemerkung (Fax)",
        "Sonstige",
        "Bemerkung (Sonstige)",
        *bank,
        "Leerfeld",
        "Briefanrede",
        "Grußformel",
        "Kundennummer",
        "Steuernummer",
        "Sprache",
        "Ansprechpartner",
        "Vertreter",
        "Sachbearbeiter",
        "Diverse-Konto",
        "Ausgabeziel",
        "Währungssteuerung",
        "Kreditlimit (Debitor)",
        "Zahlungsbedingung",
        "Fälligkeit in Tagen (Debitor)",
        "Skonto in Prozent (Debitor)",
        "Kreditoren-Ziel 1 (Tage)",
        "Kreditoren-Skonto 1 (%)",
        "Kreditoren-Ziel 2 (Tage)",
        "Kreditoren-Skonto 2 (%)",
        "Kreditoren-Ziel 3 Brutto (Tage)",
        "Kreditoren-Ziel 4 (Tage)",
        "Kreditoren-Skonto 4 (%)",
        "Kreditoren-Ziel 5 (Tage)",
        "Kreditoren-Skonto 5 (%)",
        "Mahnung",
        "Kontoauszug",
        "Mahntext 1",
        "Mahntext 2",
        "Mahntext 3",
        "Kontoauszugstext",
        "Mahnlimit Betrag",
        "Mahnlimit %",
        "Zinsberechnung",
        "Mahnzinssatz 1",
        "Mahnzinssatz 2",
        "Mahnzinssatz 3",
        "Lastschrift",
        "Verfahren",
        "Mandantenbank",
        "Zahlungsträger",
        *[f"Indiv. Feld {n}" for n in range(1, 16)],
        "Abweichende Anrede (Rechnungsadresse)",
        "Adressart (Rechnungsadresse)",
        "Straße (Rechnungsadresse)",
        "Postfach (Rechnungsadresse)",
        "Postleitzahl (Rechnungsadresse)",
        "Ort (Rechnungsadresse)",
        "Land (Rechnungsadresse)",
        "Versandzusatz (Rechnungsadresse)",
        "Adresszusatz (Rechnungsadresse)",
        "Abw. Zustellbezeichnung 1 (Rechnungsadresse)",
        "Abw. Zustellbezeichnung 2 (Rechnungsadresse)",
        "Adresse Gültig von (Rechnungsadresse)",
        "Adresse Gültig bis (Rechnungsadresse)",
        *more_bank,
        "Nummer Fremdsystem",
        "Insolvent",
        *[f"SEPA-Mandatsreferenz {n}" for n in range(1, 11)],
        "Verknüpftes OPOS-Konto",
        "Mahnsperre bis",
        "Lastschriftsperre bis",
        "Zahlungssperre bis",
        "Gebührenberechnung",
        "Mahngebühr 1",
        "Mahngebühr 2",
        "Mahngebühr 3",
        "Pauschalberechnung",
        "Verzugspauschale 1",
        "Verzugspauschale 2",
        "Verzugspauschale 3",
        "Alternativer Suchname",
        "Status",
        "Anschrift manuell geändert (Korrespondenzadresse)",
        "Anschrift individuell (Korrespondenzadresse)",
        "Anschrift manuell geändert (Rechnungsadresse)",
        "Anschrift individuell (Rechnungsadresse)",
        "Fristberechnung bei Debitor",
        "Mahnfrist 1",
        "Mahnfrist 2",
        "Mahnfrist 3",
        "Letzte Frist",
    )


# The 254 columns of Debitoren/Kreditoren format version 5 (official spellings; every
# "Leerfeld" is called just that).
PARTY_COLUMNS: tuple[str, ...] = _party_columns()
# Text columns of the Debitoren/Kreditoren file (1-based), quoted as in DATEV-format samples.
PARTY_TEXT = _ranges(
    (2, 25), (29, 48), (52, 59), (63, 70), (74, 81), (85, 92), (97, 100), (102, 104),
    (133, 134), (136, 162), (165, 172), (176, 183), (187, 194), (198, 205), (209, 216),
    (220, 220), (222, 231), (244, 244), (247, 247), (249, 249),
)  # fmt: skip
PARTY_MAX_LENGTH = {2: 50, 8: 15, 9: 2, 10: 13, 15: 3, 16: 36, 18: 10, 19: 30, 20: 2, 33: 60}
PARTY_MAX_LENGTH |= {45: 34, 47: 11, 99: 15}

# --------------------------------------------------------------------------- values

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# Letters without a Unicode decomposition to a Windows-1252 letter.
_SPELLED = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "ŀ": "l"}


def _transliterate(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: characters Windows-1252 lacks become their closest ASCII form
    (``ł`` → ``l``, ``ő`` → ``o``) or ``?``; DATEV would reject the file otherwise."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
        out.append(_SPELLED.get(char) or plain or "?")
    return "".join(out), error.end


codecs.register_error("belegwerk-cp1252", _transliterate)


def cp1252_text(value: str) -> str:
    """``value`` as it will read after a round trip through Windows-1252."""
    if value.isascii():
        return value
    return value.encode(ENCODING, "belegwerk-cp1252").decode(ENCODING)


def clean_text(value: str, max_length: int) -> str:
    """A text field's content: one line, representable in Windows-1252, cut to its length."""
    if len(value) <= max_length and value.isprintable():
        try:
            value.encode(ENCODING)
            return value.strip()
        except UnicodeEncodeError:
            pass
    value = _CONTROL.sub(" ", value).strip()
    return cp1252_text(value)[:max_length].rstrip()


def quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def amount_cents(cents: int) -> str:
    """``123456`` → ``1234,56``: DATEV's decimal comma, no thousands separator, positive."""
    if cents < 0:
        raise ValueError("DATEV amounts are positive; the side says the direction")
    return f"{cents // 100},{cents % 100:02d}"


def amount(value: Decimal) -> str:
    return amount_cents(int((value * 100).to_integral_value()))


def ddmm(day: date) -> str:
    """Belegdatum: day and month only; the year comes from the header's period."""
    return f"{day.day:02d}{day.month:02d}"


def yyyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def timestamp(moment: datetime) -> str:
    """Header field 6 "Erzeugt am": YYYYMMDDHHMMSSmmm."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


# Belegfeld 1 may hold digits, letters and $ % & * + - / only (DATEV Prüfprogramm).
_VOUCHER_DROP = re.compile(r"[^0-9A-Za-z$%&*+\-/]")


def voucher_field(value: str) -> str:
    return _VOUCHER_DROP.sub("", cp1252_text(value))[:36]


def account_field(account: str) -> str:
    """DATEV's own samples write accounts without leading zeros (``490`` for SKR03 0490)."""
    return account.lstrip("0") or "0"


# --------------------------------------------------------------------------- lines


def line(fields: Sequence[str]) -> str:
    return ";".join(fields)


def header_line(values: dict[int, str | int]) -> str:
    """The 31 header fields; ``values`` by field number, text fields quoted automatically."""
    out = []
    for n in range(1, HEADER_FIELDS + 1):
        value = values.get(n, "")
        text = str(value)
        out.append(quote(text) if n in HEADER_TEXT else text)
    return line(out)


def column_line(columns: Sequence[str]) -> str:
    """The line of column names (all plain, as DATEV's own files write them)."""
    return line(columns)


def empty_row(columns: int, text_fields: frozenset[int]) -> list[str]:
    """A data row with every field empty: ``""`` for text fields, nothing for the others."""
    return ['""' if n in text_fields else "" for n in range(1, columns + 1)]


def encode(lines: Iterable[str]) -> bytes:
    """The file: lines joined and ended with CR LF, encoded in Windows-1252."""
    text = NEWLINE.join(lines) + NEWLINE
    return text.encode(ENCODING, "belegwerk-cp1252")
