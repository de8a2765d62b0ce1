"""Detection: which template (with which score) reads each sample, ties, user templates,
unknown layouts, suggestions for the editor, and every kind of bad CSV input."""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from belegwerk.banking.csv_template import (
    CsvTemplate,
    get_system_template,
    load_template_json,
    template_from_dict,
)
from belegwerk.banking.detect import parse_file, sniff_format, suggest_template
from belegwerk.banking.statement import MAX_FILE_BYTES, MAX_ROWS
from belegwerk.core.errors import BelegwerkError
from tests.conftest import corpus_path

FIXTURES = Path(__file__).parent / "fixtures"
CSV_DIR = ("bank", "RechnungsPilot", "vorlagen", "bank-csv")

DKB_HEAD = (
    '"Girokonto";"DE89370400440532013000"\n""\n"Kontostand vom 09.12.2025:";"4.093,32 €"\n""\n'
    '"Buchungsdatum";"Wertstellung";"Status";"Zahlungspflichtige*r";"Zahlungsempfänger*in";'
    '"Verwendungszweck";"Umsatztyp";"IBAN";"Betrag (€)";"Gläubiger-ID";"Mandatsreferenz";'
    '"Kundenreferenz"\n'
)


def dkb_row(day: str, amount: str, payee: str = "Firma GmbH", status: str = "Gebucht") -> str:
    return (
        f'"{day}";"{day}";"{status}";"Max Mustermann";"{payee}";"Rechnung 4711";"Ausgang";'
        f'"DE02120300000000202051";"{amount}";"";"";""\n'
    )


def fail(content: bytes, **kwargs: object) -> BelegwerkError:
    with pytest.raises(BelegwerkError) as exc:
        parse_file(content, "upload.csv", **kwargs)  # type: ignore[arg-type]
    return exc.value


def system(key: str) -> CsvTemplate:
    found = get_system_template(key)
    assert found is not None
    return found


# --------------------------------------------------------------------------- every sample


DETECTED = [
    ((*CSV_DIR, "sparkasse-lzo-camt-v2.csv"), "sparkasse_csv_camt_v2", "1.0"),
    ((*CSV_DIR, "sparkasse-lzo-camt-v8.csv"), "sparkasse_csv_camt_v2", "1.0"),  # tie, see below
    ((*CSV_DIR, "sparkasse-lzo-mt940.csv"), "sparkasse_csv_mt940", "1.0"),
    ((*CSV_DIR, "dkb.csv"), "dkb_2023", "0.93"),  # one row of eight has a broken quote
    ((*CSV_DIR, "ing.csv"), "ing", "0.97"),  # one row of twenty lacks a field
    ((*CSV_DIR, "ing-mit-saldo.csv"), "ing", "0.97"),
    ((*CSV_DIR, "vr-teilhaberbank.csv"), "atruvia", "1.0"),
    ((*CSV_DIR, "paypal.csv"), "paypal", "1.0"),
    (("bank", "beancount-dkb", "dkb_girokonto_v2_2023.csv"), "dkb_2023", "1.0"),
    (("bank", "beancount-dkb", "dkb_girokonto_v1_pre2023.csv"), "dkb_legacy", "1.0"),
    (("bank", "beancount-ing", "ing_umsatzanzeige_2018.csv"), "ing", "1.0"),
    (("bank", "beancount-n26", "n26_en_2024.csv"), "n26_2024", "1.0"),
    (("bank", "beancount-n26", "n26_en_legacy.csv"), "n26_legacy", "1.0"),
    (("fixture", "deutsche_bank.csv"), "deutsche_bank", "1.0"),
    (("fixture", "deutsche_bank_2022.csv"), "deutsche_bank", "1.0"),
    (("fixture", "commerzbank.csv"), "commerzbank", "1.0"),
    (("fixture", "comdirect.csv"), "comdirect", "1.0"),
    (("fixture", "consorsbank.csv"), "consorsbank", "1.0"),
    (("fixture", "targobank.csv"), "targobank", "0.9"),  # headerless: never a full 1.0
    (("fixture", "targobank_dot.csv"), "targobank_dot", "0.9"),
    (("fixture", "vr_legacy.csv"), "vr_legacy", "1.0"),
    (("fixture", "paypal_fees.csv"), "paypal", "1.0"),
]


def read(source: tuple[str, ...]) -> bytes:
    if source[0] == "fixture":
        return (FIXTURES / source[1]).read_bytes()
    return corpus_path(*source).read_bytes()


@pytest.mark.corpus
@pytest.mark.parametrize(("source", "key", "score"), DETECTED, ids=lambda v: str(v[-1]))
def test_detection_picks_the_template(source: tuple[str, ...], key: str, score: str) -> None:
    statement = parse_file(read(source), source[-1])
    assert statement.format == "csv"
    assert statement.template_key == key
    assert statement.template_name == system(key).name
    assert statement.score == Decimal(score)
    assert statement.candidates[0].key == key
    assert statement.candidates[0].score == Decimal(score)
    assert statement.transactions
    if "camt" not in key:
        assert not statement.ambiguous
        assert all(c.score < Decimal("0.6") for c in statement.candidates[1:])


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["sparkasse-lzo-camt-v2.csv", "sparkasse-lzo-camt-v8.csv"])
def test_sparkasse_camt_v2_and_v8_tie(name: str) -> None:
    """Both exports have the identical header: detection says so and lets the user choose."""
    statement = parse_file(corpus_path(*CSV_DIR, name).read_bytes(), name)
    assert statement.ambiguous
    top = statement.candidates[:2]
    assert {c.key for c in top} == {"sparkasse_csv_camt_v2", "sparkasse_csv_camt_v8"}
    assert top[0].score == top[1].score == Decimal("1.0")
    chosen = parse_file(
        corpus_path(*CSV_DIR, name).read_bytes(), name, template_key="sparkasse_csv_camt_v8"
    )
    assert chosen.template_key == "sparkasse_csv_camt_v8"
    assert not chosen.ambiguous
    assert [c.key for c in chosen.candidates] == ["sparkasse_csv_camt_v8"]
    assert len(chosen.transactions) == len(statement.transactions) == 7


# --------------------------------------------------------------------------- user templates


def test_user_template_is_preferred_on_an_equal_score() -> None:
    mine = template_from_dict(
        {**system("dkb_2023").model_dump(mode="json"), "key": "meine_dkb", "name": "Meine DKB"}
    )
    content = (DKB_HEAD + dkb_row("01.12.25", "-10,00")).encode("utf-8-sig")
    statement = parse_file(content, "x.csv", user_templates=[mine])
    assert statement.template_key == "meine_dkb"
    assert not statement.ambiguous
    assert [c.key for c in statement.candidates] == ["meine_dkb", "dkb_2023"]


def test_user_template_for_an_unknown_bank() -> None:
    content = "Datum|Text|Wert\n01.03.2025|Miete|-500.00\n02.03.2025|Honorar|1200.50\n"
    mine = template_from_dict(
        {
            "key": "hausbank",
            "name": "Hausbank",
            "delimiter": "|",
            "decimal": ".",
            "thousands": "",
            "columns": {"booking_date": "Datum", "purpose": "Text", "amount": "Wert"},
        }
    )
    with pytest.raises(BelegwerkError):
        parse_file(content.encode(), "x.csv")
    statement = parse_file(content.encode(), "x.csv", user_templates=[mine])
    assert statement.template_key == "hausbank"
    assert [t.amount for t in statement.transactions] == [Decimal("-500.00"), Decimal("1200.50")]


def test_forced_template_that_does_not_fit() -> None:
    content = (DKB_HEAD + dkb_row("01.12.25", "-10,00")).encode("utf-8-sig")
    error = fail(content, template_key="ing")
    assert error.code == "bank.template_mismatch"
    assert "Buchung" in error.details[0]["missing"]
    assert fail(content, template_key="no_such").code == "bank.template_unknown"


# --------------------------------------------------------------------------- unknown layouts


def test_unknown_layout_reports_the_columns() -> None:
    content = b"Kontoauszug Musterbank\n\nWann,Was,Wie viel\n01.01.2025,Kaffee,-3.20\n"
    error = fail(content)
    assert error.code == "bank.unknown_layout"
    assert error.details == [
        {
            "columns": ["Wann", "Was", "Wie viel"],
            "delimiter": ",",
            "encoding": "utf-8",
            "header_line": 3,
            "has_header": True,
        }
    ]
    assert "Wann, Was, Wie viel" in error.message


def test_unknown_layout_in_cp1252() -> None:
    content = "Tag;Empfänger;Summe\n01.01.2025;Bäcker;-3,20\n".encode("cp1252")
    details = fail(content).details[0]
    assert details["encoding"] == "cp1252"
    assert details["columns"] == ["Tag", "Empfänger", "Summe"]


def test_suggest_template_maps_known_header_words() -> None:
    content = (
        "Buchungstag;Valuta;Empfänger;IBAN;Verwendungszweck;Betrag;Währung\n"
        "05.01.2025;05.01.2025;ACME GmbH;DE02120300000000202051;RE 1;-1.234,56;EUR\n"
        "06.01.2025;06.01.2025;Kunde AG;DE02100500000054540402;RE 2;2.000,00;EUR\n"
    ).encode("cp1252")
    suggestion = suggest_template(content)
    assert suggestion["delimiter"] == ";"
    assert suggestion["encoding"] == "cp1252"
    assert suggestion["decimal"] == ","
    assert suggestion["date_formats"] == ["%d.%m.%Y"]
    assert suggestion["columns"] == {
        "booking_date": {"names": ["Buchungstag"]},
        "value_date": {"names": ["Valuta"]},
        "counterparty_name": {"names": ["Empfänger"]},
        "counterparty_iban": {"names": ["IBAN"]},
        "purpose": {"names": ["Verwendungszweck"]},
        "amount": {"names": ["Betrag"]},
        "currency": {"names": ["Währung"]},
    }
    template = load_template_json(json.dumps(suggestion))
    statement = parse_file(content, "x.csv", user_templates=[template])
    assert statement.template_key == "custom"
    assert [t.amount for t in statement.transactions] == [Decimal("-1234.56"), Decimal("2000")]


@pytest.mark.corpus
def test_suggest_template_for_dkb_maps_payer_and_payee() -> None:
    content = corpus_path(*CSV_DIR, "dkb.csv").read_bytes()
    suggestion = suggest_template(content)
    assert suggestion["encoding"] == "utf-8-sig"
    assert suggestion["date_formats"] == ["%d.%m.%y"]
    columns = suggestion["columns"]
    assert columns["payer_name"] == {"names": ["Zahlungspflichtige*r"]}
    assert columns["payee_name"] == {"names": ["Zahlungsempfänger*in"]}
    assert columns["amount"] == {"names": ["Betrag (€)"]}
    assert "counterparty_name" not in columns


def test_suggest_template_without_header_and_with_decimal_point() -> None:
    content = b"2025-03-01,Miete,-500.00\n2025-03-02,Honorar,1200.50\n"
    suggestion = suggest_template(content)
    assert suggestion["header"] is False
    assert suggestion["decimal"] == "."
    assert suggestion["date_formats"] == ["%Y-%m-%d"]
    assert suggestion["columns"]["booking_date"] == {"index": 0}
    assert suggestion["columns"]["amount"] == {"index": 2}
    template = load_template_json(json.dumps(suggestion))
    statement = parse_file(content, "x.csv", user_templates=[template], template_key="custom")
    assert [t.purpose for t in statement.transactions] == ["Miete", "Honorar"]


# --------------------------------------------------------------------------- bad input


def test_empty_file() -> None:
    for content in (b"", b"\xef\xbb\xbf", b"\r\n\r\n  \n"):
        error = fail(content)
        assert error.code == "bank.empty_file"


def test_too_large_file() -> None:
    error = fail(b"x" * (MAX_FILE_BYTES + 1))
    assert error.code == "bank.too_large"
    assert error.details[0]["max"] == MAX_FILE_BYTES


def test_too_many_rows() -> None:
    content = (DKB_HEAD + "\n" * (MAX_ROWS + 1)).encode("utf-8")
    assert fail(content, template_key="dkb_2023").code == "bank.too_many_rows"


def test_impossible_date_is_rejected_with_its_line() -> None:
    content = DKB_HEAD + dkb_row("01.02.25", "-1,00") + dkb_row("30.02.25", "-2,00")
    content += dkb_row("03.02.25", "-3,00")
    statement = parse_file(content.encode("utf-8-sig"), "dkb.csv")
    assert statement.template_key == "dkb_2023"
    assert [t.amount for t in statement.transactions] == [Decimal("-1.00"), Decimal("-3.00")]
    (row,) = statement.rejected
    assert (row.line, row.code) == (7, "bank.invalid_date")
    assert "7" in row.message and "30.02.25" in row.message and "Buchungsdatum" in row.message


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("1.234,56-", "-1234.56"), ("-1.234,56", "-1234.56"), ("1.234,56", "1234.56")],
)
def test_amount_formats_in_a_file(amount: str, expected: str) -> None:
    content = (DKB_HEAD + dkb_row("01.02.25", amount)).encode("utf-8-sig")
    (tx,) = parse_file(content, "dkb.csv").transactions
    assert tx.amount == Decimal(expected)


def test_amount_in_the_wrong_format_is_rejected_not_misread() -> None:
    content = DKB_HEAD + dkb_row("01.02.25", "-5,00") + dkb_row("02.02.25", "1,234.56")
    statement = parse_file(content.encode("utf-8-sig"), "dkb.csv")
    assert len(statement.transactions) == 1
    (row,) = statement.rejected
    assert (row.line, row.code) == (7, "bank.invalid_amount")
    assert "1,234.56" in row.message


def test_amounts_with_decimal_point_and_thousands_comma() -> None:
    content = (
        b'"Booking Date","Value Date","Partner Name","Partner Iban","Type","Payment Reference",'
        b'"Account Name","Amount (EUR)","Original Amount","Original Currency","Exchange Rate"\n'
        b'"2026-06-15","2026-06-15","Edeka","","Presentment","","Main Account","-1,234.50",'
        b'"","",""\n'
    )
    (tx,) = parse_file(content, "n26.csv").transactions
    assert tx.amount == Decimal("-1234.50")


def test_malformed_quote_costs_only_its_own_line() -> None:
    """A quote opened and never closed would swallow the following lines; it must not."""
    broken = (
        '"02.02.25";"02.02.25";"Gebucht";"Max Mustermann";"Firma;"Miete";"Ausgang";'
        '"DE02120300000000202051";"-2,00";"";"";""\n'
    )
    content = DKB_HEAD + dkb_row("01.02.25", "-1,00") + broken + dkb_row("03.02.25", "-3,00")
    content += dkb_row("04.02.25", "-4,00")
    statement = parse_file(content.encode("utf-8-sig"), "dkb.csv")
    assert [t.amount for t in statement.transactions] == [
        Decimal("-1.00"),
        Decimal("-3.00"),
        Decimal("-4.00"),
    ]
    assert [(r.line, r.code) for r in statement.rejected] == [(7, "bank.malformed_quote")]


def test_quotes_inside_cells_and_multi_line_cells_are_fine() -> None:
    content = (
        DKB_HEAD
        + '"01.02.25";"01.02.25";"Gebucht";"Max";"Firma ""Sonne"" GmbH";"Zeile 1\nZeile 2";'
        '"Ausgang";"";"-1,00";"";"";""\n' + dkb_row("02.02.25", "-2,00")
    )
    statement = parse_file(content.encode("utf-8-sig"), "dkb.csv")
    first, second = statement.transactions
    assert first.counterparty_name == 'Firma "Sonne" GmbH'
    assert first.purpose == "Zeile 1 Zeile 2"
    assert (first.line_no, second.line_no) == (6, 8)
    assert statement.rejected == []


def test_row_with_extra_fields_is_rejected() -> None:
    content = DKB_HEAD + dkb_row("01.02.25", "-1,00").rstrip("\n") + ';"extra"\n'
    statement = parse_file(content.encode("utf-8-sig"), "dkb.csv", template_key="dkb_2023")
    assert [(r.line, r.code) for r in statement.rejected] == [(6, "bank.field_count")]


def test_pending_rows_are_skipped_not_rejected() -> None:
    content = DKB_HEAD + dkb_row("01.02.25", "-1,00", status="Vorgemerkt")
    content += dkb_row("02.02.25", "-2,00")
    statement = parse_file(content.encode("utf-8-sig"), "dkb.csv")
    assert statement.skipped == 1
    assert statement.rejected == []
    assert len(statement.transactions) == 1


ATRUVIA_HEAD = (
    "Bezeichnung Auftragskonto;IBAN Auftragskonto;BIC Auftragskonto;Bankname Auftragskonto;"
    "Buchungstag;Valutadatum;Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;"
    "BIC (SWIFT-Code) Zahlungsbeteiligter;Buchungstext;Verwendungszweck;Betrag;Waehrung;"
    "Saldo nach Buchung;Bemerkung;Gekennzeichneter Umsatz;Glaeubiger ID;Mandatsreferenz\n"
)


def atruvia_row(own_iban: str, amount: str) -> str:
    return (
        f"Giro;{own_iban};GENODEF1XXX;VR Bank;01.12.2025;01.12.2025;Firma;"
        f"DE02120300000000202051;BYLADEM1001;Basislastschrift;Rechnung;{amount};EUR;"
        "100,00;;;;\n"
    )


def test_row_of_another_account_is_rejected() -> None:
    content = ATRUVIA_HEAD + atruvia_row("DE89370400440532013000", "-1,00")
    content += atruvia_row("DE02100500000054540402", "-2,00")
    statement = parse_file(content.encode("utf-8-sig"), "vr.csv")
    assert statement.template_key == "atruvia"
    assert statement.account_iban == "DE89370400440532013000"
    assert [(r.line, r.code) for r in statement.rejected] == [(3, "bank.other_account")]


def test_unknown_debit_credit_mark() -> None:
    text = (FIXTURES / "vr_legacy.csv").read_bytes().decode("iso-8859-15")
    content = text.replace('"84,00";"S"', '"84,00";"X"').encode("iso-8859-15")
    statement = parse_file(content, "vr.csv")
    assert statement.template_key == "vr_legacy"
    (row,) = statement.rejected
    assert row.code == "bank.invalid_sign"
    assert "„X“" in row.message and "Spalte 13" in row.message


# --------------------------------------------------------------------------- encodings


STRICT_UTF8 = {
    "key": "strict_utf8",
    "name": "Strikt UTF-8",
    "encoding": "utf-8",
    "encoding_fallback": False,
    "columns": {"booking_date": "Tag", "counterparty_name": "Empfänger", "amount": "Summe"},
}
TEXT = "Tag;Empfänger;Summe\n01.01.2025;Bäckerei Müller;-3,20\n"


def test_encoding_mismatch_utf8_template_cp1252_file() -> None:
    strict = template_from_dict(STRICT_UTF8)
    content = TEXT.encode("cp1252")
    for kwargs in ({}, {"template_key": "strict_utf8"}):
        error = fail(content, user_templates=[strict], **kwargs)
        assert error.code == "bank.encoding_mismatch"
        assert "UTF-8" in error.message and "Strikt UTF-8" in error.message
        assert error.details == [{"field": "encoding", "expected": "utf-8", "actual": "latin"}]
    (tx,) = parse_file(TEXT.encode("utf-8"), "x.csv", user_templates=[strict]).transactions
    assert tx.counterparty_name == "Bäckerei Müller"


def test_encoding_mismatch_cp1252_template_utf8_file() -> None:
    strict = template_from_dict({**STRICT_UTF8, "key": "strict_latin", "encoding": "cp1252"})
    error = fail(TEXT.encode("utf-8"), user_templates=[strict])
    assert error.code == "bank.encoding_mismatch"
    assert error.details[0]["actual"] == "utf8"


def test_encoding_fallback_reads_the_file_as_it_is() -> None:
    lenient = template_from_dict({**STRICT_UTF8, "key": "lenient", "encoding_fallback": True})
    (tx,) = parse_file(TEXT.encode("cp1252"), "x.csv", user_templates=[lenient]).transactions
    assert tx.counterparty_name == "Bäckerei Müller"
    # The system templates fall back too: a DKB export saved as Windows-1252 still reads.
    content = (DKB_HEAD + dkb_row("01.02.25", "-1,00", payee="Bäcker Ödön")).encode("cp1252")
    statement = parse_file(content, "dkb.csv")
    assert statement.template_key == "dkb_2023"
    assert statement.transactions[0].counterparty_name == "Bäcker Ödön"


# --------------------------------------------------------------------------- other formats


def test_sniff_format() -> None:
    assert sniff_format(b"PK\x03\x04rest") == "camt"
    assert sniff_format(b'\xef\xbb\xbf<?xml version="1.0"?><Document/>') == "camt"
    assert sniff_format(b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'>") == (
        "camt"
    )
    assert sniff_format(b":20:STARTUMS\r\n:25:123/456\r\n:61:2512011201C1,00NTRF\r\n") == "mt940"
    assert sniff_format(b":61:1811261126CR30,00N062NONREF\n:86:166?00GUTSCHR.\n") == "mt940"
    assert sniff_format(b"Buchungstag;Betrag\n01.01.2025;1,00\n") == "csv"
    assert sniff_format(b"Verwendungszweck;Text :20: x\n") == "csv"


def test_pdf_and_excel_are_refused_clearly() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    for content, kind in ((b"%PDF-1.7\n...", "pdf"), (buffer.getvalue(), "office")):
        error = fail(content)
        assert error.code == "bank.unsupported_format"
        assert error.details == [{"field": "file", "format": kind}]
        assert "CSV, MT940 oder CAMT" in error.message


@pytest.mark.corpus
def test_mt940_goes_to_the_mt940_parser() -> None:
    if importlib.util.find_spec("belegwerk.banking.mt940") is None:
        pytest.skip("the MT940 parser is not there yet")
    path = corpus_path("bank", "wolph-mt940", "mt940_tests", "self-provided", "gv_codes.sta")
    statement = parse_file(path.read_bytes(), path.name)
    assert statement.format == "mt940"
    assert statement.transactions


@pytest.mark.corpus
def test_camt_goes_to_the_camt_parser() -> None:
    if importlib.util.find_spec("belegwerk.banking.camt") is None:
        pytest.skip("the CAMT parser is not there yet")
    path = corpus_path("bank", "genkgo-camt", "camt053.v2.minimal.xml")
    statement = parse_file(path.read_bytes(), path.name)
    assert statement.format == "camt"
    assert statement.transactions
