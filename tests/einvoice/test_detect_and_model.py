"""Detection of syntax and profile from root and BT-24, and the EN 16931 model read from both
syntaxes (own fixtures: the same invoice in UBL and in CII)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from belegwerk.core.errors import ValidationFailed
from belegwerk.einvoice.detect import Dialect, Format, Profile, Syntax, detect
from belegwerk.einvoice.model import Invoice
from belegwerk.einvoice.validate import validate_file
from tests.conftest import corpus_path
from tests.einvoice.helpers import CII, UBL, changed, fixture, set_text

UBL_ROOT = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CII_ROOT = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def ubl(spec: str, root: str = "Invoice", namespace: str = UBL_ROOT) -> bytes:
    return (
        f'<{root} xmlns="{namespace}" xmlns:cbc="{CBC}">'
        f"<cbc:CustomizationID>{spec}</cbc:CustomizationID></{root}>"
    ).encode()


def cii(spec: str) -> bytes:
    return (
        f'<rsm:CrossIndustryInvoice xmlns:rsm="{CII_ROOT}" xmlns:ram="{RAM}">'
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
        f"<ram:ID> {spec} </ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>"
        "</rsm:ExchangedDocumentContext></rsm:CrossIndustryInvoice>"
    ).encode()


@pytest.mark.parametrize(
    ("content", "syntax", "profile", "version"),
    [
        (
            ubl("urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"),
            "UBL",
            "XRECHNUNG",
            "3.0",
        ),
        (
            cii("urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.0"),
            "CII",
            "XRECHNUNG",
            "2.0",
        ),
        (
            cii("urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_1.2"),
            "CII",
            "XRECHNUNG",
            "1.2",
        ),
        (cii("urn:factur-x.eu:1p0:minimum"), "CII", "MINIMUM", None),
        (cii("urn:factur-x.eu:1p0:basicwl"), "CII", "BASIC-WL", None),
        (cii("urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"), "CII", "BASIC", None),
        (cii("urn:cen.eu:en16931:2017#compliant#urn:zugferd.de:2p0:basic"), "CII", "BASIC", None),
        (cii("urn:cen.eu:en16931:2017"), "CII", "EN16931", None),
        (
            cii("urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended"),
            "CII",
            "EXTENDED",
            None,
        ),
        (
            ubl("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"),
            "UBL",
            "OTHER-CIUS",
            None,
        ),
        (ubl(""), "UBL", "NONE", None),
    ],
)
def test_profile_from_the_specification_identifier(
    content: bytes, syntax: str, profile: str, version: str | None
) -> None:
    found = detect(etree.fromstring(content), "x.xml")
    assert (found.syntax.value, found.profile.value, found.xrechnung_version) == (
        syntax,
        profile,
        version,
    )


def test_xrechnung_extension_and_credit_note() -> None:
    spec = (
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0#conformant#"
        "urn:xeinkauf.de:kosit:extension:xrechnung_3.0"
    )
    credit_note = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
    found = detect(etree.fromstring(ubl(spec, "CreditNote", credit_note)), "x.xml")
    assert found.xrechnung_extension and found.credit_note_root
    assert found.format is Format.XRECHNUNG


def test_unknown_profile_is_said_clearly() -> None:
    found = detect(etree.fromstring(cii("urn:example:my-own-cius")), "x.xml")
    assert found.profile is Profile.OTHER_CIUS
    assert found.note is not None and "urn:example:my-own-cius" in found.note


def test_unknown_root_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        detect(etree.fromstring(b'<Invoice xmlns="urn:example:invoice"/>'), "x.xml")
    assert err.value.code == "einvoice.unknown_document"
    assert err.value.details[0]["namespace"] == "urn:example:invoice"


def parsed(name: str, content: bytes | None = None) -> Invoice:
    report = validate_file(content or fixture(name), name)
    assert report.invoice is not None
    return report.invoice


@pytest.mark.parametrize("name", [UBL, CII])
def test_both_syntaxes_give_the_same_model(name: str) -> None:
    inv = parsed(name)
    assert inv.number is not None and inv.number.value == "RE-2026-00042"
    assert inv.issue_date is not None and inv.issue_date.value == date(2026, 3, 2)
    assert inv.due_date is not None and inv.due_date.value == date(2026, 4, 1)
    assert inv.type_code is not None and inv.type_code.value == "380"
    assert inv.currency is not None and inv.currency.value == "EUR"
    assert inv.buyer_reference is not None and inv.buyer_reference.value == "04011000-12345-67"
    assert inv.seller is not None and inv.seller.name is not None
    assert inv.seller.name.value == "Muster GmbH"
    assert inv.seller.vat_id is not None and inv.seller.vat_id.value == "DE123456789"
    assert inv.seller.address is not None and inv.seller.address.country is not None
    assert inv.seller.address.country.value == "DE"
    assert inv.seller.contact is not None and inv.seller.contact.email is not None
    assert inv.seller.electronic_address is not None
    assert inv.seller.electronic_address.scheme == "EM"
    assert inv.buyer is not None and inv.buyer.name is not None
    assert inv.buyer.name.value == "Landesamt Beispiel"
    [payment] = inv.payments
    assert payment.means_code is not None and payment.means_code.value == "58"
    assert payment.credit_transfers[0].account_id is not None
    assert payment.credit_transfers[0].account_id.value == "DE02120300000000202051"
    assert [t.value for t in inv.payment_terms] == ["Zahlbar bis 01.04.2026 ohne Abzug."]
    assert [
        (ac.is_charge, ac.amount.value if ac.amount else None) for ac in inv.allowances_charges
    ] == [
        (False, Decimal("10.00")),
        (True, Decimal("5.00")),
    ]
    assert [
        (v.category.value, v.rate.value) for v in inv.vat_breakdown if v.category and v.rate
    ] == [
        ("S", Decimal("19")),
        ("S", Decimal("7")),
    ]
    totals = inv.totals
    assert totals is not None and totals.payable is not None
    assert isinstance(totals.payable.value, Decimal)
    assert totals.vat_total_in("EUR") is not None
    assert len(inv.lines) == 3
    line = inv.lines[1]
    assert line.id is not None and line.id.value == "2"
    assert line.quantity is not None and line.quantity.unit == "H87"
    assert line.item_name is not None and line.item_name.value == "Artikel 2"
    assert line.seller_item_id is not None and line.seller_item_id.value == "A-00002"
    assert line.vat_category is not None and line.vat_category.value == "S"
    assert line.net_price is not None and line.net_amount is not None
    assert not inv.is_credit_note and not inv.is_correction


def test_values_remember_where_they_stood() -> None:
    inv = parsed(UBL)
    assert inv.number is not None
    assert inv.number.source.xpath == "/ubl:Invoice/cbc:ID"
    assert inv.number.source.line == 5
    second = inv.lines[1]
    assert second.net_amount is not None
    assert (
        second.net_amount.source.xpath == "/ubl:Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount"
    )
    cii_inv = parsed(CII)
    assert cii_inv.totals is not None and cii_inv.totals.payable is not None
    assert cii_inv.totals.payable.source.xpath.endswith(
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount"
    )
    assert cii_inv.totals.payable.source.line is not None


def test_a_value_that_is_no_number_keeps_its_text() -> None:
    inv = parsed(UBL, changed(UBL, set_text("//cac:LegalMonetaryTotal/cbc:PayableAmount", "12,50")))
    assert inv.totals is not None and inv.totals.payable is not None
    assert inv.totals.payable.value is None and inv.totals.payable.raw == "12,50"


def test_credit_note_by_type_code_and_preceding_invoice() -> None:
    def credit(root: etree._Element) -> None:
        doc = root.find(f"{{{CII_ROOT}}}ExchangedDocument")
        doc.find(f"{{{RAM}}}TypeCode").text = "381"
        settlement = root.find(
            f"{{{CII_ROOT}}}SupplyChainTradeTransaction/{{{RAM}}}ApplicableHeaderTradeSettlement"
        )
        ref = etree.SubElement(settlement, f"{{{RAM}}}InvoiceReferencedDocument")
        etree.SubElement(ref, f"{{{RAM}}}IssuerAssignedID").text = "RE-2026-00041"

    inv = parsed(CII, changed(CII, credit))
    assert inv.is_credit_note
    assert [p.number.value for p in inv.preceding_invoices if p.number] == ["RE-2026-00041"]


@pytest.mark.corpus
def test_zugferd_1_and_attachments_from_the_corpus() -> None:
    comfort = corpus_path("einvoice", "factur-x", "tests", "fixtures", "xml", "zugferd-comfort.xml")
    report = validate_file(comfort.read_bytes(), comfort.name)
    assert report.detection is not None and report.detection.dialect is Dialect.ZF1
    assert report.detection.syntax is Syntax.CII and report.detection.format is Format.ZUGFERD_1
    inv = report.invoice
    assert inv is not None and inv.number is not None and inv.number.value == "471102"
    assert inv.totals is not None and inv.totals.payable is not None
    assert inv.totals.payable.value == Decimal("529.87")
    assert [line.vat_rate.value for line in inv.lines if line.vat_rate][:2] == [
        Decimal("19.00"),
        Decimal("7.00"),
    ]
    assert inv.payments[0].credit_transfers[0].bic is not None
    attached = corpus_path(
        "einvoice",
        "xrechnung-testsuite",
        "2026-08-19_xr3.0.x",
        "src",
        "test",
        "business-cases",
        "standard",
        "01.15a-INVOICE_ubl.xml",
    )
    inv2 = validate_file(attached.read_bytes(), attached.name).invoice
    assert inv2 is not None
    embedded = [a.content for a in inv2.attachments if a.content is not None]
    assert embedded and all(b.content for b in embedded)
