"""XRechnung 3.0 in UBL 2.1: an ``Invoice``, or a ``CreditNote`` for a Stornorechnung.

Element order follows the UBL 2.1 schema; which element carries which business term follows
the XRechnung 3.0 syntax binding (KoSIT) of EN 16931. Elements without a value are left out
(PEPPOL-EN16931-R008, which XRechnung includes, forbids empty ones).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from lxml import etree

from belegwerk.books import vat_treatment as vt
from belegwerk.einvoice.write.source import SEPA_CREDIT_TRANSFER, Address, Outgoing
from belegwerk.einvoice.write.xmltext import amount, number, serialize, sub

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
XRECHNUNG_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _cbc(parent: Any, name: str, text: str | None = None, **attrib: str) -> Any:
    return sub(parent, f"{{{CBC}}}{name}", text, **attrib)


def _cac(parent: Any, name: str) -> Any:
    return sub(parent, f"{{{CAC}}}{name}")


def to_ubl(doc: Outgoing) -> bytes:
    """The invoice as XRechnung 3.0 UBL (UTF-8 bytes)."""
    credit = doc.credit_note
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit else 'Invoice'}",
        nsmap={None: namespace, "cac": CAC, "cbc": CBC},
    )
    money = partial(_money, currency=doc.currency)
    _cbc(root, "CustomizationID", XRECHNUNG_ID)
    _cbc(root, "ProfileID", PEPPOL_BILLING)
    _cbc(root, "ID", doc.number)
    _cbc(root, "IssueDate", doc.issue_date.isoformat())
    if doc.due_date is not None and not credit:
        _cbc(root, "DueDate", doc.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", doc.type_code)
    for note in doc.notes:
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", doc.currency)
    _cbc(root, "BuyerReference", doc.buyer_reference)
    if doc.preceding is not None:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", doc.preceding.number)
        _cbc(reference, "IssueDate", doc.preceding.issue_date.isoformat())
    _seller(_cac(_cac(root, "AccountingSupplierParty"), "Party"), doc)
    _buyer(_cac(_cac(root, "AccountingCustomerParty"), "Party"), doc)
    delivery = _cac(root, "Delivery")
    _cbc(delivery, "ActualDeliveryDate", doc.delivery_date.isoformat())
    if doc.deliver_to:
        _address(_cac(_cac(delivery, "DeliveryLocation"), "Address"), doc.buyer.address)
    _payment(root, doc)
    terms = _cac(root, "PaymentTerms")
    _cbc(terms, "Note", doc.payment_terms)
    tax_total = _cac(root, "TaxTotal")
    money(tax_total, "TaxAmount", doc.tax_total)
    for group in doc.groups:
        subtotal = _cac(tax_total, "TaxSubtotal")
        money(subtotal, "TaxableAmount", group.taxable)
        money(subtotal, "TaxAmount", group.tax)
        category = _cac(subtotal, "TaxCategory")
        _cbc(category, "ID", group.category)
        _cbc(category, "Percent", number(group.rate))  # BR-DE-14, also for O
        if group.exemption_code:
            _cbc(category, "TaxExemptionReasonCode", group.exemption_code)
        if group.exemption_reason:
            _cbc(category, "TaxExemptionReason", group.exemption_reason)
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")
    totals = _cac(root, "LegalMonetaryTotal")
    money(totals, "LineExtensionAmount", doc.line_total)
    money(totals, "TaxExclusiveAmount", doc.line_total)
    money(totals, "TaxInclusiveAmount", doc.gross_total)
    money(totals, "PayableAmount", doc.gross_total)
    for line in doc.lines:
        element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(element, "ID", line.id)
        quantity_tag = "CreditedQuantity" if credit else "InvoicedQuantity"
        _cbc(element, quantity_tag, number(line.quantity), unitCode=line.unit)
        money(element, "LineExtensionAmount", line.net_amount)
        item = _cac(element, "Item")
        _cbc(item, "Name", line.name)
        tax = _cac(item, "ClassifiedTaxCategory")
        _cbc(tax, "ID", line.vat_category)
        if line.vat_category != vt.OUT_OF_SCOPE:  # BR-O-5: no rate on a non-taxable line
            _cbc(tax, "Percent", number(line.vat_rate))
        _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
        _cbc(_cac(element, "Price"), "PriceAmount", number(line.net_price), currencyID=doc.currency)
    return serialize(root)


def _money(parent: Any, name: str, value: Any, *, currency: str) -> Any:
    return _cbc(parent, name, amount(value), currencyID=currency)


def _address(element: Any, address: Address) -> None:
    if address.street:
        _cbc(element, "StreetName", address.street)
    if address.city:
        _cbc(element, "CityName", address.city)
    if address.postcode:
        _cbc(element, "PostalZone", address.postcode)
    _cbc(_cac(element, "Country"), "IdentificationCode", address.country)


def _tax_scheme(party: Any, company_id: str, scheme: str) -> None:
    registration = _cac(party, "PartyTaxScheme")
    _cbc(registration, "CompanyID", company_id)
    _cbc(_cac(registration, "TaxScheme"), "ID", scheme)


def _seller(party: Any, doc: Outgoing) -> None:
    seller = doc.seller
    if seller.email:
        _cbc(party, "EndpointID", seller.email, schemeID="EM")
    if seller.identifier:
        _cbc(_cac(party, "PartyIdentification"), "ID", seller.identifier)
    _cbc(_cac(party, "PartyName"), "Name", seller.name)
    _address(_cac(party, "PostalAddress"), seller.address)
    if seller.vat_id:
        _tax_scheme(party, seller.vat_id, "VAT")
    if seller.tax_number:
        _tax_scheme(party, seller.tax_number, "FC")
    _cbc(_cac(party, "PartyLegalEntity"), "RegistrationName", seller.name)
    if seller.contact_name or seller.phone or seller.email:
        contact = _cac(party, "Contact")
        if seller.contact_name:
            _cbc(contact, "Name", seller.contact_name)
        if seller.phone:
            _cbc(contact, "Telephone", seller.phone)
        if seller.email:
            _cbc(contact, "ElectronicMail", seller.email)


def _buyer(party: Any, doc: Outgoing) -> None:
    buyer = doc.buyer
    if buyer.electronic_address:
        _cbc(party, "EndpointID", buyer.electronic_address, schemeID=buyer.electronic_scheme)
    _cbc(_cac(party, "PartyName"), "Name", buyer.name)
    _address(_cac(party, "PostalAddress"), buyer.address)
    if buyer.vat_id:
        _tax_scheme(party, buyer.vat_id, "VAT")
    _cbc(_cac(party, "PartyLegalEntity"), "RegistrationName", buyer.name)


def _payment(root: Any, doc: Outgoing) -> None:
    seller = doc.seller
    if doc.payment_means == SEPA_CREDIT_TRANSFER and not seller.iban:
        return  # ZUGFeRD without a company IBAN: the terms alone say how to pay
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", doc.payment_means)
    _cbc(means, "PaymentID", doc.remittance)
    if doc.payment_means == SEPA_CREDIT_TRANSFER:
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", seller.iban)
        _cbc(account, "Name", seller.name)
        if seller.bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", seller.bic)
