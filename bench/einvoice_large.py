"""A large, valid XRechnung 3.0 invoice (UBL and CII) and the time to validate it.

``make_xrechnung(lines, syntax)`` writes an invoice with ``lines`` lines at 19 % and 7 %, a
document allowance and charge, VAT breakdown and totals that add up; the golden tests use small
ones, this script times a 4,000-line one (target: under 1 s; the official XSLTs through Saxon
need about 3.5 s here).

Run: .venv/bin/python bench/einvoice_large.py [lines]  (best of three runs)
"""

from __future__ import annotations

import sys
import time
from decimal import ROUND_HALF_UP, Decimal

from belegwerk.einvoice.validate import validate_file

XR_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
UNCEFACT = "urn:un:unece:uncefact:data:standard"
CENT = Decimal("0.01")
RATES = (Decimal("19"), Decimal("7"))


def _lines(count: int) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """(number, quantity, price, rate) per line; deterministic."""
    return [
        (i, Decimal(1 + i % 7), Decimal(f"{3 + (i * 37) % 500}.{(i * 13) % 100:02d}"), RATES[i % 2])
        for i in range(1, count + 1)
    ]


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _sums(
    count: int,
) -> tuple[list[tuple[int, Decimal, Decimal, Decimal, Decimal]], dict[Decimal, Decimal]]:
    rows = []
    basis: dict[Decimal, Decimal] = dict.fromkeys(RATES, Decimal(0))
    for number, quantity, price, rate in _lines(count):
        net = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
        basis[rate] += net
        rows.append((number, quantity, price, rate, net))
    return rows, basis


ALLOWANCE = Decimal("10.00")  # at 19 %
CHARGE = Decimal("5.00")  # at 7 %


def make_xrechnung(count: int, syntax: str = "UBL") -> bytes:
    rows, basis = _sums(count)
    line_total = sum(basis.values(), Decimal(0))
    basis[Decimal("19")] -= ALLOWANCE
    basis[Decimal("7")] += CHARGE
    taxes = {
        rate: (b * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP) for rate, b in basis.items()
    }
    without_vat = line_total - ALLOWANCE + CHARGE
    vat = sum(taxes.values(), Decimal(0))
    with_vat = without_vat + vat
    if syntax == "UBL":
        return _ubl(rows, basis, taxes, line_total, without_vat, vat, with_vat).encode()
    return _cii(rows, basis, taxes, line_total, without_vat, vat, with_vat).encode()


def _ubl(rows, basis, taxes, line_total, without_vat, vat, with_vat) -> str:  # type: ignore[no-untyped-def]
    cur = 'currencyID="EUR"'
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<ubl:Invoice xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
        ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
        ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">',
        f"<cbc:CustomizationID>{XR_ID}</cbc:CustomizationID>",
        f"<cbc:ProfileID>{PEPPOL}</cbc:ProfileID>",
        "<cbc:ID>RE-2026-00042</cbc:ID><cbc:IssueDate>2026-03-02</cbc:IssueDate>",
        "<cbc:DueDate>2026-04-01</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        "<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>",
        "<cbc:BuyerReference>04011000-12345-67</cbc:BuyerReference>",
        "<cac:AccountingSupplierParty><cac:Party>"
        '<cbc:EndpointID schemeID="EM">rechnung@muster-gmbh.de</cbc:EndpointID>'
        "<cac:PostalAddress><cbc:StreetName>Hauptstraße 1</cbc:StreetName>"
        "<cbc:CityName>Berlin</cbc:CityName><cbc:PostalZone>10115</cbc:PostalZone>"
        "<cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>"
        "</cac:PostalAddress><cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID>"
        "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        "<cac:PartyLegalEntity><cbc:RegistrationName>Muster GmbH</cbc:RegistrationName>"
        "</cac:PartyLegalEntity><cac:Contact><cbc:Name>Erika Muster</cbc:Name>"
        "<cbc:Telephone>030 123456</cbc:Telephone>"
        "<cbc:ElectronicMail>erika@muster-gmbh.de</cbc:ElectronicMail></cac:Contact>"
        "</cac:Party></cac:AccountingSupplierParty>",
        "<cac:AccountingCustomerParty><cac:Party>"
        '<cbc:EndpointID schemeID="EM">rechnung@amt.example</cbc:EndpointID>'
        "<cac:PostalAddress><cbc:StreetName>Amtsweg 2</cbc:StreetName>"
        "<cbc:CityName>Potsdam</cbc:CityName><cbc:PostalZone>14467</cbc:PostalZone>"
        "<cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>"
        "</cac:PostalAddress><cac:PartyLegalEntity>"
        "<cbc:RegistrationName>Landesamt Beispiel</cbc:RegistrationName>"
        "</cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>",
        "<cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>"
        "<cac:PayeeFinancialAccount><cbc:ID>DE02120300000000202051</cbc:ID>"
        "</cac:PayeeFinancialAccount></cac:PaymentMeans>",
        "<cac:PaymentTerms><cbc:Note>Zahlbar bis 01.04.2026 ohne Abzug.</cbc:Note>"
        "</cac:PaymentTerms>",
        f"<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
        f"<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>"
        f"<cbc:AllowanceChargeReason>Rabatt</cbc:AllowanceChargeReason>"
        f"<cbc:Amount {cur}>{ALLOWANCE}</cbc:Amount><cac:TaxCategory><cbc:ID>S</cbc:ID>"
        f"<cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        f"</cac:TaxCategory></cac:AllowanceCharge>",
        f"<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator>"
        f"<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>"
        f"<cbc:AllowanceChargeReason>Fracht</cbc:AllowanceChargeReason>"
        f"<cbc:Amount {cur}>{CHARGE}</cbc:Amount><cac:TaxCategory><cbc:ID>S</cbc:ID>"
        f"<cbc:Percent>7</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        f"</cac:TaxCategory></cac:AllowanceCharge>",
        f"<cac:TaxTotal><cbc:TaxAmount {cur}>{_money(vat)}</cbc:TaxAmount>",
    ]
    for rate in RATES:
        parts.append(
            f"<cac:TaxSubtotal><cbc:TaxableAmount {cur}>{_money(basis[rate])}</cbc:TaxableAmount>"
            f"<cbc:TaxAmount {cur}>{_money(taxes[rate])}</cbc:TaxAmount><cac:TaxCategory>"
            f"<cbc:ID>S</cbc:ID><cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme>"
            f"<cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"
        )
    parts.append(
        f"</cac:TaxTotal><cac:LegalMonetaryTotal>"
        f"<cbc:LineExtensionAmount {cur}>{_money(line_total)}</cbc:LineExtensionAmount>"
        f"<cbc:TaxExclusiveAmount {cur}>{_money(without_vat)}</cbc:TaxExclusiveAmount>"
        f"<cbc:TaxInclusiveAmount {cur}>{_money(with_vat)}</cbc:TaxInclusiveAmount>"
        f"<cbc:AllowanceTotalAmount {cur}>{ALLOWANCE}</cbc:AllowanceTotalAmount>"
        f"<cbc:ChargeTotalAmount {cur}>{CHARGE}</cbc:ChargeTotalAmount>"
        f"<cbc:PayableAmount {cur}>{_money(with_vat)}</cbc:PayableAmount>"
        f"</cac:LegalMonetaryTotal>"
    )
    for number, quantity, price, rate, net in rows:
        parts.append(
            f"<cac:InvoiceLine><cbc:ID>{number}</cbc:ID>"
            f'<cbc:InvoicedQuantity unitCode="H87">{quantity}</cbc:InvoicedQuantity>'
            f"<cbc:LineExtensionAmount {cur}>{net}</cbc:LineExtensionAmount>"
            f"<cac:Item><cbc:Name>Artikel {number}</cbc:Name>"
            f"<cac:SellersItemIdentification><cbc:ID>A-{number:05d}</cbc:ID>"
            f"</cac:SellersItemIdentification><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID>"
            f"<cbc:Percent>{rate}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID>"
            f"</cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>"
            f"<cac:Price><cbc:PriceAmount {cur}>{price}</cbc:PriceAmount></cac:Price>"
            f"</cac:InvoiceLine>"
        )
    parts.append("</ubl:Invoice>")
    return "\n".join(parts)


def _cii(rows, basis, taxes, line_total, without_vat, vat, with_vat) -> str:  # type: ignore[no-untyped-def]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rsm:CrossIndustryInvoice xmlns:rsm="{UNCEFACT}:CrossIndustryInvoice:100"'
        f' xmlns:ram="{UNCEFACT}:ReusableAggregateBusinessInformationEntity:100"'
        f' xmlns:udt="{UNCEFACT}:UnqualifiedDataType:100">',
        "<rsm:ExchangedDocumentContext><ram:BusinessProcessSpecifiedDocumentContextParameter>"
        f"<ram:ID>{PEPPOL}</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>"
        f"<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{XR_ID}</ram:ID>"
        "</ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>",
        "<rsm:ExchangedDocument><ram:ID>RE-2026-00042</ram:ID><ram:TypeCode>380</ram:TypeCode>"
        '<ram:IssueDateTime><udt:DateTimeString format="102">20260302</udt:DateTimeString>'
        "</ram:IssueDateTime></rsm:ExchangedDocument>",
        "<rsm:SupplyChainTradeTransaction>",
    ]
    for number, quantity, price, rate, net in rows:
        parts.append(
            f"<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>"
            f"<ram:LineID>{number}</ram:LineID></ram:AssociatedDocumentLineDocument>"
            f"<ram:SpecifiedTradeProduct><ram:SellerAssignedID>A-{number:05d}</ram:SellerAssignedID>"
            f"<ram:Name>Artikel {number}</ram:Name></ram:SpecifiedTradeProduct>"
            f"<ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>"
            f"<ram:ChargeAmount>{price}</ram:ChargeAmount></ram:NetPriceProductTradePrice>"
            f"</ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeDelivery>"
            f'<ram:BilledQuantity unitCode="H87">{quantity}</ram:BilledQuantity>'
            f"</ram:SpecifiedLineTradeDelivery><ram:SpecifiedLineTradeSettlement>"
            f"<ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>"
            f"<ram:CategoryCode>S</ram:CategoryCode>"
            f"<ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent>"
            f"</ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"<ram:LineTotalAmount>{net}</ram:LineTotalAmount>"
            f"</ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
        )
    parts.append(
        "<ram:ApplicableHeaderTradeAgreement><ram:BuyerReference>04011000-12345-67"
        "</ram:BuyerReference><ram:SellerTradeParty><ram:Name>Muster GmbH</ram:Name>"
        "<ram:DefinedTradeContact><ram:PersonName>Erika Muster</ram:PersonName>"
        "<ram:TelephoneUniversalCommunication><ram:CompleteNumber>030 123456"
        "</ram:CompleteNumber></ram:TelephoneUniversalCommunication>"
        "<ram:EmailURIUniversalCommunication><ram:URIID>erika@muster-gmbh.de</ram:URIID>"
        "</ram:EmailURIUniversalCommunication></ram:DefinedTradeContact>"
        "<ram:PostalTradeAddress><ram:PostcodeCode>10115</ram:PostcodeCode>"
        "<ram:LineOne>Hauptstraße 1</ram:LineOne><ram:CityName>Berlin</ram:CityName>"
        "<ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>"
        '<ram:URIUniversalCommunication><ram:URIID schemeID="EM">rechnung@muster-gmbh.de'
        "</ram:URIID></ram:URIUniversalCommunication><ram:SpecifiedTaxRegistration>"
        '<ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>'
        "</ram:SellerTradeParty><ram:BuyerTradeParty><ram:Name>Landesamt Beispiel</ram:Name>"
        "<ram:PostalTradeAddress><ram:PostcodeCode>14467</ram:PostcodeCode>"
        "<ram:LineOne>Amtsweg 2</ram:LineOne><ram:CityName>Potsdam</ram:CityName>"
        "<ram:CountryID>DE</ram:CountryID></ram:PostalTradeAddress>"
        '<ram:URIUniversalCommunication><ram:URIID schemeID="EM">rechnung@amt.example'
        "</ram:URIID></ram:URIUniversalCommunication></ram:BuyerTradeParty>"
        "</ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeDelivery/>"
        "<ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>"
        "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>"
        "<ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE02120300000000202051</ram:IBANID>"
        "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
    )
    for rate in RATES:
        parts.append(
            f"<ram:ApplicableTradeTax><ram:CalculatedAmount>{_money(taxes[rate])}</ram:CalculatedAmount>"
            f"<ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>{_money(basis[rate])}</ram:BasisAmount>"
            f"<ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>{rate}"
            f"</ram:RateApplicablePercent></ram:ApplicableTradeTax>"
        )
    for charge, amount, rate, code, reason in (
        ("false", ALLOWANCE, "19", "95", "Rabatt"),
        ("true", CHARGE, "7", "FC", "Fracht"),
    ):
        parts.append(
            f"<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>{charge}"
            f"</udt:Indicator></ram:ChargeIndicator><ram:ActualAmount>{amount}</ram:ActualAmount>"
            f"<ram:ReasonCode>{code}</ram:ReasonCode><ram:Reason>{reason}</ram:Reason>"
            f"<ram:CategoryTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S"
            f"</ram:CategoryCode><ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent>"
            f"</ram:CategoryTradeTax></ram:SpecifiedTradeAllowanceCharge>"
        )
    parts.append(
        "<ram:SpecifiedTradePaymentTerms><ram:Description>Zahlbar bis 01.04.2026 ohne Abzug."
        '</ram:Description><ram:DueDateDateTime><udt:DateTimeString format="102">20260401'
        "</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>"
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        f"<ram:LineTotalAmount>{_money(line_total)}</ram:LineTotalAmount>"
        f"<ram:ChargeTotalAmount>{CHARGE}</ram:ChargeTotalAmount>"
        f"<ram:AllowanceTotalAmount>{ALLOWANCE}</ram:AllowanceTotalAmount>"
        f"<ram:TaxBasisTotalAmount>{_money(without_vat)}</ram:TaxBasisTotalAmount>"
        f'<ram:TaxTotalAmount currencyID="EUR">{_money(vat)}</ram:TaxTotalAmount>'
        f"<ram:GrandTotalAmount>{_money(with_vat)}</ram:GrandTotalAmount>"
        f"<ram:DuePayableAmount>{_money(with_vat)}</ram:DuePayableAmount>"
        "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        "</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>"
        "</rsm:CrossIndustryInvoice>"
    )
    return "\n".join(parts)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    for syntax in ("UBL", "CII"):
        content = make_xrechnung(count, syntax)
        best = float("inf")
        report = None
        for _ in range(3):
            start = time.perf_counter()
            report = validate_file(content, f"gross.{syntax.lower()}.xml")
            best = min(best, time.perf_counter() - start)
        assert report is not None
        problems = [f"{f.rule}: {f.message}" for f in report.verdict.findings]
        print(
            f"{syntax}: {count} lines, {len(content) / 1e6:.1f} MB: validated in {best:.3f} s "
            f"(best of 3); valid={report.verdict.valid} {problems[:3]}"
        )


if __name__ == "__main__":
    main()
