"""UN/CEFACT Cross Industry Invoice (D16B): XRechnung 3.0 CII and ZUGFeRD 2.3 / Factur-X EN 16931.

The two differ only in the specification identifier (BT-24) and the business process (BT-23,
which XRechnung asks for); the Factur-X EN 16931 profile schema is a strict subset of CII, so
only elements of that profile are written. Element order follows the schema.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from belegwerk.books import vat_treatment as vt
from belegwerk.einvoice.write.source import SEPA_CREDIT_TRANSFER, Address, Outgoing, Target
from belegwerk.einvoice.write.ubl import PEPPOL_BILLING, XRECHNUNG_ID
from belegwerk.einvoice.write.xmltext import amount, date_102, number, serialize, sub

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
EN16931_ID = "urn:cen.eu:en16931:2017"  # ZUGFeRD 2.3 / Factur-X profile EN 16931 (COMFORT)


def _ram(parent: Any, name: str, text: str | None = None, **attrib: str) -> Any:
    return sub(parent, f"{{{RAM}}}{name}", text, **attrib)


def _date(parent: Any, name: str, value: Any, namespace: str = UDT) -> None:
    sub(_ram(parent, name), f"{{{namespace}}}DateTimeString", date_102(value), format="102")


def to_cii(doc: Outgoing, target: Target) -> bytes:
    """The invoice as CII: XRechnung 3.0 or the ZUGFeRD/Factur-X EN 16931 profile."""
    root = etree.Element(
        f"{{{RSM}}}CrossIndustryInvoice",
        nsmap={"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT},
    )
    context = sub(root, f"{{{RSM}}}ExchangedDocumentContext")
    if target.xrechnung:
        process = _ram(context, "BusinessProcessSpecifiedDocumentContextParameter")
        _ram(process, "ID", PEPPOL_BILLING)
    guideline = XRECHNUNG_ID if target.xrechnung else EN16931_ID
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", guideline)

    header = sub(root, f"{{{RSM}}}ExchangedDocument")
    _ram(header, "ID", doc.number)
    _ram(header, "TypeCode", doc.type_code)
    _date(header, "IssueDateTime", doc.issue_date)
    for note in doc.notes:
        _ram(_ram(header, "IncludedNote"), "Content", note)

    transaction = sub(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(transaction, line)
    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    _ram(agreement, "BuyerReference", doc.buyer_reference)
    _seller(_ram(agreement, "SellerTradeParty"), doc)
    _buyer(_ram(agreement, "BuyerTradeParty"), doc)

    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")
    if doc.deliver_to:
        _address(_ram(_ram(delivery, "ShipToTradeParty"), "PostalTradeAddress"), doc.buyer.address)
    _date(_ram(delivery, "ActualDeliverySupplyChainEvent"), "OccurrenceDateTime", doc.delivery_date)

    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    _ram(settlement, "PaymentReference", doc.remittance)
    _ram(settlement, "InvoiceCurrencyCode", doc.currency)
    _payment(settlement, doc)
    for group in doc.groups:
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", amount(group.tax))
        _ram(tax, "TypeCode", "VAT")
        if group.exemption_reason:
            _ram(tax, "ExemptionReason", group.exemption_reason)
        _ram(tax, "BasisAmount", amount(group.taxable))
        _ram(tax, "CategoryCode", group.category)
        if group.exemption_code:
            _ram(tax, "ExemptionReasonCode", group.exemption_code)
        _ram(tax, "RateApplicablePercent", number(group.rate))  # BR-DE-14, also for O
    terms = _ram(settlement, "SpecifiedTradePaymentTerms")
    _ram(terms, "Description", doc.payment_terms)
    if doc.due_date is not None:
        _date(terms, "DueDateDateTime", doc.due_date)
    totals = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(totals, "LineTotalAmount", amount(doc.line_total))
    _ram(totals, "TaxBasisTotalAmount", amount(doc.line_total))
    _ram(totals, "TaxTotalAmount", amount(doc.tax_total), currencyID=doc.currency)
    _ram(totals, "GrandTotalAmount", amount(doc.gross_total))
    _ram(totals, "DuePayableAmount", amount(doc.gross_total))
    if doc.preceding is not None:
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _ram(reference, "IssuerAssignedID", doc.preceding.number)
        _date(reference, "FormattedIssueDateTime", doc.preceding.issue_date, QDT)
    return serialize(root)


def _line(transaction: Any, line: Any) -> None:
    item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
    _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", line.id)
    _ram(_ram(item, "SpecifiedTradeProduct"), "Name", line.name)
    price = _ram(_ram(item, "SpecifiedLineTradeAgreement"), "NetPriceProductTradePrice")
    _ram(price, "ChargeAmount", number(line.net_price))
    delivery = _ram(item, "SpecifiedLineTradeDelivery")
    _ram(delivery, "BilledQuantity", number(line.quantity), unitCode=line.unit)
    settlement = _ram(item, "SpecifiedLineTradeSettlement")
    tax = _ram(settlement, "ApplicableTradeTax")
    _ram(tax, "TypeCode", "VAT")
    _ram(tax, "CategoryCode", line.vat_category)
    if line.vat_category != vt.OUT_OF_SCOPE:  # BR-O-5: no rate on a non-taxable line
        _ram(tax, "RateApplicablePercent", number(line.vat_rate))
    summation = _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _ram(summation, "LineTotalAmount", amount(line.net_amount))


def _address(element: Any, address: Address) -> None:
    if address.postcode:
        _ram(element, "PostcodeCode", address.postcode)
    if address.street:
        _ram(element, "LineOne", address.street)
    if address.city:
        _ram(element, "CityName", address.city)
    _ram(element, "CountryID", address.country)


def _seller(party: Any, doc: Outgoing) -> None:
    seller = doc.seller
    if seller.identifier:
        _ram(party, "ID", seller.identifier)
    _ram(party, "Name", seller.name)
    if seller.contact_name or seller.phone or seller.email:
        contact = _ram(party, "DefinedTradeContact")
        if seller.contact_name:
            _ram(contact, "PersonName", seller.contact_name)
        if seller.phone:
            _ram(_ram(contact, "TelephoneUniversalCommunication"), "CompleteNumber", seller.phone)
        if seller.email:
            _ram(_ram(contact, "EmailURIUniversalCommunication"), "URIID", seller.email)
    _address(_ram(party, "PostalTradeAddress"), seller.address)
    if seller.email:
        _ram(_ram(party, "URIUniversalCommunication"), "URIID", seller.email, schemeID="EM")
    if seller.vat_id:
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", seller.vat_id, schemeID="VA")
    if seller.tax_number:
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", seller.tax_number, schemeID="FC")


def _buyer(party: Any, doc: Outgoing) -> None:
    buyer = doc.buyer
    _ram(party, "Name", buyer.name)
    _address(_ram(party, "PostalTradeAddress"), buyer.address)
    if buyer.electronic_address:
        communication = _ram(party, "URIUniversalCommunication")
        _ram(communication, "URIID", buyer.electronic_address, schemeID=buyer.electronic_scheme)
    if buyer.vat_id:
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", buyer.vat_id, schemeID="VA")


def _payment(settlement: Any, doc: Outgoing) -> None:
    seller = doc.seller
    if doc.payment_means == SEPA_CREDIT_TRANSFER and not seller.iban:
        return  # ZUGFeRD without a company IBAN: the terms alone say how to pay
    means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
    _ram(means, "TypeCode", doc.payment_means)
    if doc.payment_means == SEPA_CREDIT_TRANSFER:
        account = _ram(means, "PayeePartyCreditorFinancialAccount")
        _ram(account, "IBANID", seller.iban)
        _ram(account, "AccountName", seller.name)
        if seller.bic:
            _ram(_ram(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", seller.bic)
