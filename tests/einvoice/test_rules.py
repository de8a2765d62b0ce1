"""Layers 2 and 3: XSD findings, the rule registry and the first tranche of EN 16931 rules
(BR-01 … BR-16, BR-CO-10 … BR-CO-16) in both syntaxes, strictness, KoSIT severity levels."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from belegwerk.core.i18n import current_locale
from belegwerk.einvoice.detect import Syntax
from belegwerk.einvoice.findings import Finding, Layer, Severity, Strictness, Verdict
from belegwerk.einvoice.rules.levels import apply_levels
from belegwerk.einvoice.rules.registry import REGISTRY, Hit, RuleContext, RuleSet, rule
from belegwerk.einvoice.validate import validate_file
from tests.einvoice.helpers import CII, UBL, changed, fixture, remove, set_attr, set_text


@pytest.fixture(autouse=True)
def german() -> None:
    current_locale.set("de")


def rules_fired(name: str, change: Callable[[Any], None] | None = None) -> set[str]:
    content = changed(name, change) if change else fixture(name)
    report = validate_file(content, name)
    return report.verdict.rule_ids() - {"XSD"}


@pytest.mark.parametrize("name", [UBL, CII])
def test_fixtures_are_valid(name: str) -> None:
    report = validate_file(fixture(name), name)
    assert report.verdict.findings == []
    assert report.verdict.valid and report.verdict.accepted


UBL_CASES = [
    ("BR-01", remove("/ubl:Invoice/cbc:CustomizationID")),
    ("BR-02", set_text("/ubl:Invoice/cbc:ID", " ")),
    ("BR-03", remove("/ubl:Invoice/cbc:IssueDate")),
    ("BR-04", remove("/ubl:Invoice/cbc:InvoiceTypeCode")),
    ("BR-05", set_text("/ubl:Invoice/cbc:DocumentCurrencyCode", "")),
    ("BR-06", remove("//cac:AccountingSupplierParty//cbc:RegistrationName")),
    ("BR-07", remove("//cac:AccountingCustomerParty//cbc:RegistrationName")),
    ("BR-09", remove("//cac:AccountingSupplierParty//cac:Country")),
    ("BR-11", set_text("//cac:AccountingCustomerParty//cbc:IdentificationCode", "")),
    ("BR-12", remove("//cac:LegalMonetaryTotal/cbc:LineExtensionAmount")),
    ("BR-13", remove("//cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount")),
    ("BR-14", remove("//cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount")),
    ("BR-15", remove("//cac:LegalMonetaryTotal/cbc:PayableAmount")),
    ("BR-CO-10", set_text("//cac:InvoiceLine[1]/cbc:LineExtensionAmount", "1.00")),
    ("BR-CO-11", set_text("//cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount", "11.00")),
    ("BR-CO-12", remove("//cac:LegalMonetaryTotal/cbc:ChargeTotalAmount")),
    ("BR-CO-13", set_text("//cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "1.00")),
    ("BR-CO-14", set_text("/ubl:Invoice/cac:TaxTotal/cbc:TaxAmount", "1.00")),
    ("BR-CO-16", set_text("//cac:LegalMonetaryTotal/cbc:PayableAmount", "1.00")),
]
CII_CASES = [
    ("BR-01", set_text("//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", "")),
    ("BR-02", remove("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID")),
    ("BR-03", set_attr("//ram:IssueDateTime/udt:DateTimeString", "format", "610")),
    ("BR-04", set_text("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode", "")),
    ("BR-05", remove("//ram:InvoiceCurrencyCode")),
    ("BR-06", remove("//ram:SellerTradeParty/ram:Name")),
    ("BR-07", remove("//ram:BuyerTradeParty/ram:Name")),
    ("BR-12", remove("//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount")),
    ("BR-13", remove("//ram:TaxBasisTotalAmount")),
    ("BR-14", remove("//ram:GrandTotalAmount")),
    ("BR-15", remove("//ram:DuePayableAmount")),
    (
        "BR-CO-10",
        set_text(
            "(//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount)[1]", "1.00"
        ),
    ),
    ("BR-CO-11", remove("//ram:AllowanceTotalAmount")),
    ("BR-CO-12", set_text("//ram:ChargeTotalAmount", "6.00")),
    ("BR-CO-13", set_text("//ram:TaxBasisTotalAmount", "2.00")),
    (
        "BR-CO-14",
        set_text(
            "(//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount)[1]",
            "0.01",
        ),
    ),
    ("BR-CO-16", set_text("//ram:DuePayableAmount", "1.00")),
]


@pytest.mark.parametrize(("rule_id", "change"), UBL_CASES, ids=[c[0] for c in UBL_CASES])
def test_ubl_rule_fires(rule_id: str, change: Callable[[Any], None]) -> None:
    assert rule_id in rules_fired(UBL, change)


@pytest.mark.parametrize(("rule_id", "change"), CII_CASES, ids=[c[0] for c in CII_CASES])
def test_cii_rule_fires(rule_id: str, change: Callable[[Any], None]) -> None:
    assert rule_id in rules_fired(CII, change)


def both(*changes: Callable[[Any], None]) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        for one in changes:
            one(root)

    return change


def test_missing_addresses_and_lines_ubl() -> None:
    fired = rules_fired(
        UBL,
        both(
            remove("//cac:AccountingSupplierParty/cac:Party/cac:PostalAddress"),
            remove("//cac:AccountingCustomerParty/cac:Party/cac:PostalAddress"),
            remove("//cac:InvoiceLine"),
        ),
    )
    # UBL checks the country code only inside an address
    assert {"BR-08", "BR-10", "BR-16"} <= fired
    assert not {"BR-09", "BR-11"} & fired


def test_missing_addresses_and_lines_cii() -> None:
    fired = rules_fired(
        CII,
        both(
            remove("//ram:SellerTradeParty/ram:PostalTradeAddress"),
            remove("//ram:BuyerTradeParty/ram:PostalTradeAddress"),
            remove("//ram:IncludedSupplyChainTradeLineItem"),
        ),
    )
    # CII checks the country code from the root, so it fires without an address too
    assert {"BR-08", "BR-09", "BR-10", "BR-11", "BR-16"} <= fired


def test_totals_messages_name_the_amounts_and_the_place() -> None:
    content = changed(UBL, set_text("//cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "99.99"))
    report = validate_file(content, "x.xml")
    [finding] = [f for f in report.verdict.errors if f.rule == "BR-CO-15"]
    assert finding.bt == "BT-112" and finding.severity is Severity.ERROR
    assert "99,99" in finding.message and "Bruttobetrag (BT-112)" in finding.message
    assert finding.location is not None
    assert finding.location.xpath == "/ubl:Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"
    assert finding.location.line is not None
    assert "BR-CO-16" in report.verdict.rule_ids()  # BT-115 no longer matches BT-112 either


def test_cii_accepts_total_with_vat_equal_to_without_vat_when_there_is_no_vat_total() -> None:
    def no_vat(root: Any) -> None:
        remove("//ram:TaxTotalAmount")(root)
        basis = root.xpath("//ram:TaxBasisTotalAmount", namespaces=root.nsmap)[0].text
        set_text("//ram:GrandTotalAmount", basis)(root)
        set_text("//ram:DuePayableAmount", basis)(root)

    assert "BR-CO-15" not in rules_fired(CII, no_vat)


def test_a_malformed_amount_stops_the_rule_layer_like_the_official_schematron() -> None:
    content = changed(CII, set_text("//ram:DuePayableAmount", ""))
    report = validate_file(content, "x.xml")
    assert report.verdict.rule_ids() == {"CEN-EXCEPTION", "XSD"}
    [finding] = [f for f in report.verdict.errors if f.rule == "CEN-EXCEPTION"]
    assert finding.location is not None and "DuePayableAmount" in finding.location.xpath


def test_xsd_findings_point_at_the_line() -> None:
    content = changed(UBL, set_text("/ubl:Invoice/cbc:IssueDate", "02.03.2026"))
    report = validate_file(content, "x.xml")
    [xsd] = [f for f in report.verdict.errors if f.rule == "XSD"]
    assert xsd.location is not None and xsd.location.line == 6
    assert "cbc:IssueDate" in xsd.message and "XML-Schema UBL 2.1 Invoice" in xsd.message


def test_registry_rejects_a_second_rule_with_the_same_id() -> None:
    with pytest.raises(ValueError, match="BR-01"):
        rule("BR-01", bt="BT-24")(lambda ctx: [])
    assert len({r.id for r in REGISTRY[RuleSet.EN16931]}) == 23


def test_strictness() -> None:
    warning = Finding("BR-DE-21", Severity.WARNING, "…", Layer.CIUS, "BT-24")
    for strictness, accepted in (
        (Strictness.STRICT, False),
        (Strictness.STANDARD, True),
        (Strictness.FLEXIBLE, True),
    ):
        assert Verdict([warning], strictness).accepted is accepted
    error = replace(warning, severity=Severity.ERROR)
    assert not Verdict([error], Strictness.STANDARD).accepted
    assert Verdict([error], Strictness.FLEXIBLE).accepted
    assert not Verdict([error], Strictness.FLEXIBLE).valid
    info = replace(warning, severity=Severity.INFO)
    assert Verdict([info], Strictness.STRICT).accepted


def test_kosit_levels_for_the_xrechnung_extension() -> None:
    spec = (
        "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0#conformant#"
        "urn:xeinkauf.de:kosit:extension:xrechnung_3.0"
    )

    def extension_with_prepaid_payment(root: Any) -> None:
        set_text("/ubl:Invoice/cbc:CustomizationID", spec)(root)
        set_text("//cac:LegalMonetaryTotal/cbc:PayableAmount", "1.00")(root)

    report = validate_file(changed(UBL, extension_with_prepaid_payment), "x.xml")
    assert report.verdict.valid
    assert [f.rule for f in report.verdict.infos] == ["BR-CO-16"]
    assert report.detection is not None
    assert apply_levels(report.verdict.infos, report.detection) == report.verdict.infos


def test_a_rule_can_be_limited_to_one_syntax() -> None:
    """Like the official UBL-SR-*/CII-SR-* rules: registered for UBL, never run on CII."""

    def check(ctx: RuleContext) -> Iterator[Hit]:
        yield Hit(ctx.invoice.source, "nur UBL")

    rule("TEST-UBL-ONLY", bt=None, syntax=Syntax.UBL)(check)
    try:
        assert "TEST-UBL-ONLY" in rules_fired(UBL)
        assert "TEST-UBL-ONLY" not in rules_fired(CII)
    finally:
        REGISTRY[RuleSet.EN16931][:] = [
            r for r in REGISTRY[RuleSet.EN16931] if r.id != "TEST-UBL-ONLY"
        ]
