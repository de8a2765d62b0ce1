"""Layer 1 and the carrier: hostile XML, broken and protected PDFs, files that are no e-invoice.

Each case gets a clear German message with a code (and a line where there is one); none crashes.
"""

from __future__ import annotations

import pytest

from belegwerk.core.i18n import current_locale
from belegwerk.einvoice.carrier import MAX_FILE_BYTES, Container
from belegwerk.einvoice.validate import validate_file
from tests.einvoice.helpers import CII, UBL, fixture, pdf


@pytest.fixture(autouse=True)
def german() -> None:
    current_locale.set("de")


def errors(content: bytes, name: str = "rechnung.xml") -> list[tuple[str, int | None]]:
    report = validate_file(content, name)
    assert report.readable, report.error
    return [(f.rule, f.location.line if f.location else None) for f in report.verdict.errors]


def test_doctype_with_external_entity_is_refused_without_reading_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "geheim.txt"
    secret.write_text("streng geheim")
    content = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&x;</Invoice>'
    ).encode()
    report = validate_file(content, "xxe.xml")
    assert [(f.rule, f.location.line) for f in report.verdict.errors] == [("XML-DOCTYPE", 2)]  # type: ignore[union-attr]
    message = report.verdict.errors[0].message
    assert "DOCTYPE" in message and "Sicherheitsgründen" in message
    assert "geheim" not in message


def test_entity_expansion_bomb_is_refused() -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    content = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">{lol}]><lolz>&l9;</lolz>'
    ).encode("utf-16")
    assert errors(content) == [("XML-DOCTYPE", 1)]


def test_truncated_xml_names_the_line() -> None:
    content = fixture(UBL)[:2000]
    [(rule, line)] = errors(content)
    assert rule == "XML-NOT-WELLFORMED"
    assert line is not None and line > 40
    report = validate_file(content, "abgeschnitten.xml")
    assert "kein wohlgeformtes XML" in report.verdict.errors[0].message


def test_too_deep_xml() -> None:
    content = b"<a>" * 80 + b"</a>" * 80
    assert errors(content) == [("XML-TOO-DEEP", None)]


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "scan.png", "einvoice.unsupported_type"),
        (b"Rechnungsnummer;Betrag\n1;2\n", "rechnung.csv", "einvoice.unsupported_type"),
        (b"", "leer.xml", "einvoice.empty_file"),
        (b" \r\n", "leer.pdf", "einvoice.empty_file"),
        (b"<" + b" " * MAX_FILE_BYTES, "riesig.xml", "einvoice.too_large"),
    ],
)
def test_files_that_are_no_einvoice_cannot_be_read(content: bytes, name: str, code: str) -> None:
    report = validate_file(content, name)
    assert report.error is not None
    assert report.error.code == code
    assert report.error.details[0]["file"] == name
    assert report.detection is None and report.verdict.findings == []


def test_binary_named_xml_is_not_wellformed_xml() -> None:
    """As the official verdict for KoSIT's bin001.xml: judged as (broken) XML."""
    assert errors(b"BM6\x03\x00\x00\x00\x00", "bild.xml") == [("XML-NOT-WELLFORMED", 1)]


def test_xml_that_is_no_invoice() -> None:
    order = (
        b'<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="urn:un:unece:uncefact:data:'
        b'SCRDMCCBDACIOMessageStructure:100"/>'
    )
    report = validate_file(order, "bestellung.xml")
    assert report.error is not None and report.error.code == "einvoice.unknown_document"
    assert "SCRDMCCBDACIOMessageStructure" in report.error.message


def test_pdf_with_embedded_invoice() -> None:
    report = validate_file(pdf({"factur-x.xml": fixture(CII)}), "rechnung.pdf")
    assert report.container is Container.PDF
    assert report.verdict.valid, report.verdict.findings
    assert report.invoice is not None and report.invoice.number is not None
    assert report.invoice.number.value == "RE-2026-00042"


def test_zugferd1_name_is_found_case_insensitively() -> None:
    report = validate_file(pdf({"ZUGFeRD-invoice.xml": fixture(CII)}), "alt.pdf")
    assert report.detection is not None and report.verdict.valid


def test_plain_pdf_is_for_manual_entry() -> None:
    report = validate_file(pdf(), "scan.pdf")
    assert report.readable and report.container is Container.PDF
    assert [f.rule for f in report.verdict.errors] == ["PDF-NO-XML"]
    assert any("manuell" in note for note in report.notes)


def test_two_disagreeing_invoice_xmls_in_one_pdf() -> None:
    content = pdf({"factur-x.xml": fixture(CII), "xrechnung.xml": fixture(UBL)})
    report = validate_file(content, "doppelt.pdf")
    assert [f.rule for f in report.verdict.errors] == ["PDF-XML-CONFLICT"]
    assert "factur-x.xml" in report.verdict.errors[0].message
    same = validate_file(
        pdf({"factur-x.xml": fixture(CII), "zugferd-invoice.xml": fixture(CII)}), "gleich.pdf"
    )
    assert same.verdict.valid


def test_password_protected_pdf() -> None:
    report = validate_file(pdf({"factur-x.xml": fixture(CII)}, password="geheim"), "zu.pdf")
    assert report.error is not None and report.error.code == "einvoice.pdf_encrypted"
    assert "Passwort" in report.error.message


def test_pdf_with_owner_password_only_is_read() -> None:
    report = validate_file(pdf({"factur-x.xml": fixture(CII)}, password=""), "offen.pdf")
    assert report.readable and report.verdict.valid


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_truncated_or_corrupt_pdf(cut: float) -> None:
    content = pdf({"factur-x.xml": fixture(CII)})
    broken = content[: int(len(content) * cut)]
    report = validate_file(broken, "kaputt.pdf")
    # pypdf repairs what it can; either the file is refused or it lost its XML, never a crash
    if report.error is not None:
        assert report.error.code == "einvoice.pdf_corrupt"
        assert "beschädigt" in report.error.message
    else:
        assert report.verdict.errors


def test_garbage_after_pdf_header() -> None:
    report = validate_file(b"%PDF-1.7\n" + bytes(range(256)) * 40, "muell.pdf")
    assert report.error is not None and report.error.code == "einvoice.pdf_corrupt"
