"""UBL 2.1 Invoice and CreditNote → the EN 16931 model (binding of CEN/TS 16931-3-2).

The reader is lax on purpose: it reads what is there and leaves judging to XSD and rules, so a
broken invoice still yields a model whose findings point at the right places.
"""

from __future__ import annotations

import re
from typing import Any

from belegwerk.einvoice.detect import UBL_CREDIT_NOTE, UBL_INVOICE
from belegwerk.einvoice.model import (
    Address,
    AllowanceCharge,
    Attachment,
    Contact,
    CreditTransfer,
    Delivery,
    Invoice,
    ItemAttribute,
    Line,
    Note,
    Party,
    Payment,
    Period,
    PrecedingInvoice,
    Totals,
    VatBreakdown,
)
from belegwerk.einvoice.values import Day, Text
from belegwerk.einvoice.xmlnode import Node

NS = {
    "ubl": UBL_INVOICE,
    "cn": UBL_CREDIT_NOTE,
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_NOTE_SUBJECT = re.compile(r"#([A-Z]{3})#(.*)", re.DOTALL)


def parse_ubl(root: Any, credit_note: bool) -> Invoice:
    doc = Node(root, "/cn:CreditNote" if credit_note else "/ubl:Invoice", NS)
    inv = Invoice(source=doc.location, is_credit_note_document=credit_note)
    inv.number = doc.text("cbc:ID")
    inv.issue_date = _day(doc, "cbc:IssueDate")
    inv.type_code = doc.text("cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode")
    inv.currency = doc.text("cbc:DocumentCurrencyCode")
    inv.tax_currency = doc.text("cbc:TaxCurrencyCode")
    inv.tax_point_date = _day(doc, "cbc:TaxPointDate")
    inv.due_date = _day(doc, "cbc:DueDate")
    inv.buyer_reference = doc.text("cbc:BuyerReference")
    inv.buyer_accounting_ref = doc.text("cbc:AccountingCost")
    inv.process_id = doc.text("cbc:ProfileID")
    inv.spec_id = doc.text("cbc:CustomizationID")
    inv.project_ref = _ref(doc, "cac:ProjectReference")
    inv.contract_ref = _ref(doc, "cac:ContractDocumentReference")
    order = doc.child("cac:OrderReference")
    if order is not None:
        inv.order_ref = order.text("cbc:ID")
        inv.sales_order_ref = order.text("cbc:SalesOrderID")
    inv.receiving_advice_ref = _ref(doc, "cac:ReceiptDocumentReference")
    inv.despatch_advice_ref = _ref(doc, "cac:DespatchDocumentReference")
    inv.tender_ref = _ref(doc, "cac:OriginatorDocumentReference")
    inv.notes = [_note(n) for n in doc.children("cbc:Note")]
    for terms in doc.children("cac:PaymentTerms"):
        inv.payment_terms.extend(terms.texts("cbc:Note"))
    for billing in doc.children("cac:BillingReference"):
        ref = billing.child("cac:InvoiceDocumentReference")
        if ref is not None:
            inv.preceding_invoices.append(
                PrecedingInvoice(ref.location, ref.text("cbc:ID"), _day(ref, "cbc:IssueDate"))
            )
    for ref in doc.children("cac:AdditionalDocumentReference"):
        type_code = ref.text("cbc:DocumentTypeCode")
        if type_code is not None and type_code.value == "130":
            inv.invoiced_object_id = ref.text("cbc:ID", "schemeID")
        elif type_code is not None and type_code.value == "50" and credit_note:
            inv.tender_ref = ref.text("cbc:ID")
        else:
            inv.attachments.append(_attachment(ref, type_code))
    supplier = doc.path_to("cac:AccountingSupplierParty", "cac:Party")
    inv.seller = _party(supplier) if supplier is not None else None
    customer = doc.path_to("cac:AccountingCustomerParty", "cac:Party")
    inv.buyer = _party(customer) if customer is not None else None
    payee = doc.child("cac:PayeeParty")
    inv.payee = _party(payee) if payee is not None else None
    representative = doc.child("cac:TaxRepresentativeParty")
    inv.tax_representative = _party(representative) if representative is not None else None
    delivery = doc.child("cac:Delivery")
    inv.delivery = _delivery(delivery) if delivery is not None else None
    period = doc.child("cac:InvoicePeriod")
    if period is not None:
        inv.period = _period(period)
        inv.tax_point_code = period.text("cbc:DescriptionCode")
    creditor_id = _sepa_creditor_id(supplier, payee)
    for means in doc.children("cac:PaymentMeans"):
        inv.payments.append(_payment(means, creditor_id))
        if credit_note and inv.due_date is None:
            inv.due_date = _day(means, "cbc:PaymentDueDate")
    inv.allowances_charges = [_allowance_charge(n) for n in doc.children("cac:AllowanceCharge")]
    inv.totals = _totals(doc)
    for total in doc.children("cac:TaxTotal"):
        inv.vat_breakdown.extend(_vat(sub) for sub in total.children("cac:TaxSubtotal"))
    # The CEN rules count both line kinds in either document (BR-16, BR-CO-10).
    inv.lines = [_line(n, False) for n in doc.children("cac:InvoiceLine")]
    inv.lines += [_line(n, True) for n in doc.children("cac:CreditNoteLine")]
    return inv


def _day(node: Node, name: str) -> Day | None:
    child = node.child(name)
    return None if child is None else child.as_day()


def _ref(node: Node, name: str) -> Text | None:
    child = node.child(name)
    return None if child is None else child.text("cbc:ID")


def _note(node: Node) -> Note:
    text = node.as_text()
    match = _NOTE_SUBJECT.fullmatch(text.value)
    if match is None:
        return Note(node.location, text)
    subject = Text(match.group(1), text.source)
    return Note(node.location, Text(match.group(2).strip(), text.source), subject)


def _address(node: Node) -> Address:
    return Address(
        node.location,
        line1=node.text("cbc:StreetName"),
        line2=node.text("cbc:AdditionalStreetName"),
        line3=node.text("cac:AddressLine/cbc:Line"),
        city=node.text("cbc:CityName"),
        postcode=node.text("cbc:PostalZone"),
        subdivision=node.text("cbc:CountrySubentity"),
        country=node.text("cac:Country/cbc:IdentificationCode"),
    )


def _party(node: Node) -> Party:
    party = Party(node.location)
    legal = node.child("cac:PartyLegalEntity")
    if legal is not None:
        party.name = legal.text("cbc:RegistrationName")
        party.legal_id = legal.text("cbc:CompanyID", "schemeID")
        party.legal_info = legal.text("cbc:CompanyLegalForm")
    party.trading_name = node.text("cac:PartyName/cbc:Name")
    if party.name is None:  # payee and tax representative name their party here
        party.name = party.trading_name
    for ident in node.children("cac:PartyIdentification"):
        value = ident.text("cbc:ID", "schemeID")
        if value is not None:
            party.identifiers.append(value)
    for scheme in node.children("cac:PartyTaxScheme"):
        company_id = scheme.text("cbc:CompanyID")
        scheme_id = scheme.text("cac:TaxScheme/cbc:ID")
        if scheme_id is not None and scheme_id.value == "VAT":
            party.vat_id = party.vat_id or company_id
        else:
            party.tax_number = party.tax_number or company_id
    party.electronic_address = node.text("cbc:EndpointID", "schemeID")
    address = node.child("cac:PostalAddress")
    party.address = _address(address) if address is not None else None
    contact = node.child("cac:Contact")
    if contact is not None:
        party.contact = Contact(
            contact.location,
            contact.text("cbc:Name"),
            contact.text("cbc:Telephone"),
            contact.text("cbc:ElectronicMail"),
        )
    return party


def _delivery(node: Node) -> Delivery:
    delivery = Delivery(node.location, date=_day(node, "cbc:ActualDeliveryDate"))
    location = node.child("cac:DeliveryLocation")
    if location is not None:
        delivery.location_id = location.text("cbc:ID", "schemeID")
        address = location.child("cac:Address")
        delivery.address = _address(address) if address is not None else None
    delivery.party_name = node.text("cac:DeliveryParty/cac:PartyName/cbc:Name")
    return delivery


def _period(node: Node) -> Period:
    return Period(node.location, _day(node, "cbc:StartDate"), _day(node, "cbc:EndDate"))


def _sepa_creditor_id(supplier: Node | None, payee: Node | None) -> Text | None:
    """BT-90 is a party identification with scheme SEPA (payee first, else seller)."""
    for party in (payee, supplier):
        if party is None:
            continue
        for ident in party.children("cac:PartyIdentification"):
            value = ident.text("cbc:ID", "schemeID")
            if value is not None and value.scheme == "SEPA":
                return value
    return None


def _payment(node: Node, creditor_id: Text | None) -> Payment:
    code = node.child("cbc:PaymentMeansCode")
    payment = Payment(
        node.location,
        means_code=code.as_text() if code is not None else None,
        remittance_info=node.text("cbc:PaymentID"),
    )
    name = code.attr("name") if code is not None else None
    if code is not None and name:
        payment.means_text = Text(name, code.location)
    for account in node.children("cac:PayeeFinancialAccount"):
        payment.credit_transfers.append(
            CreditTransfer(
                account.location,
                account.text("cbc:ID"),
                account.text("cbc:Name"),
                account.text("cac:FinancialInstitutionBranch/cbc:ID"),
            )
        )
    card = node.child("cac:CardAccount")
    if card is not None:
        payment.card_pan = card.text("cbc:PrimaryAccountNumberID")
        payment.card_holder = card.text("cbc:HolderName")
    mandate = node.child("cac:PaymentMandate")
    if mandate is not None:
        payment.mandate_id = mandate.text("cbc:ID")
        payment.debited_account = mandate.text("cac:PayerFinancialAccount/cbc:ID")
        payment.creditor_id = creditor_id
    return payment


def _allowance_charge(node: Node) -> AllowanceCharge:
    category = node.child("cac:TaxCategory")
    return AllowanceCharge(
        node.location,
        node.flag("cbc:ChargeIndicator"),
        amount=node.amount("cbc:Amount"),
        base_amount=node.amount("cbc:BaseAmount"),
        percent=node.quantity("cbc:MultiplierFactorNumeric", None),
        vat_category=category.text("cbc:ID") if category is not None else None,
        vat_rate=category.quantity("cbc:Percent", None) if category is not None else None,
        reason=node.text("cbc:AllowanceChargeReason"),
        reason_code=node.text("cbc:AllowanceChargeReasonCode"),
    )


def _totals(doc: Node) -> Totals | None:
    node = doc.child("cac:LegalMonetaryTotal")
    if node is None:
        totals = None
    else:
        totals = Totals(
            node.location,
            line_net=node.amount("cbc:LineExtensionAmount"),
            allowances=node.amount("cbc:AllowanceTotalAmount"),
            charges=node.amount("cbc:ChargeTotalAmount"),
            tax_exclusive=node.amount("cbc:TaxExclusiveAmount"),
            tax_inclusive=node.amount("cbc:TaxInclusiveAmount"),
            prepaid=node.amount("cbc:PrepaidAmount"),
            rounding=node.amount("cbc:PayableRoundingAmount"),
            payable=node.amount("cbc:PayableAmount"),
        )
    vat_totals = [
        amount
        for total in doc.children("cac:TaxTotal")
        if (amount := total.amount("cbc:TaxAmount")) is not None
    ]
    if totals is None and vat_totals:
        totals = Totals(doc.location, declared=False)
    if totals is not None:
        totals.vat_totals = vat_totals
    return totals


def _vat(node: Node) -> VatBreakdown:
    category = node.child("cac:TaxCategory")
    breakdown = VatBreakdown(
        node.location,
        taxable_amount=node.amount("cbc:TaxableAmount"),
        tax_amount=node.amount("cbc:TaxAmount"),
    )
    if category is not None:
        breakdown.category = category.text("cbc:ID")
        breakdown.rate = category.quantity("cbc:Percent", None)
        breakdown.exemption_reason = category.text("cbc:TaxExemptionReason")
        breakdown.exemption_reason_code = category.text("cbc:TaxExemptionReasonCode")
        scheme = category.path_to("cac:TaxScheme", "cbc:ID")
        breakdown.type_code = scheme.as_text() if scheme is not None else None
    return breakdown


def _line(node: Node, credit_line: bool) -> Line:
    line = Line(
        node.location,
        id=node.text("cbc:ID"),
        note=node.text("cbc:Note"),
        quantity=node.quantity("cbc:CreditedQuantity" if credit_line else "cbc:InvoicedQuantity"),
        net_amount=node.amount("cbc:LineExtensionAmount"),
        accounting_ref=node.text("cbc:AccountingCost"),
    )
    for ref in node.children("cac:DocumentReference"):
        type_code = ref.text("cbc:DocumentTypeCode")
        if type_code is not None and type_code.value == "130":
            line.object_id = ref.text("cbc:ID", "schemeID")
    line.order_line_ref = node.text("cac:OrderLineReference/cbc:LineID")
    period = node.child("cac:InvoicePeriod")
    line.period = _period(period) if period is not None else None
    line.allowances_charges = [_allowance_charge(n) for n in node.children("cac:AllowanceCharge")]
    price = node.child("cac:Price")
    if price is not None:
        line.net_price = price.amount("cbc:PriceAmount")
        line.price_base_quantity = price.quantity("cbc:BaseQuantity")
        discount = price.child("cac:AllowanceCharge")
        if discount is not None:
            line.price_discount = discount.amount("cbc:Amount")
            line.gross_price = discount.amount("cbc:BaseAmount")
    item = node.child("cac:Item")
    if item is not None:
        _item(item, line)
    return line


def _item(item: Node, line: Line) -> None:
    line.item_name = item.text("cbc:Name")
    line.item_description = item.text("cbc:Description")
    line.seller_item_id = item.text("cac:SellersItemIdentification/cbc:ID")
    line.buyer_item_id = item.text("cac:BuyersItemIdentification/cbc:ID")
    line.standard_item_id = item.text("cac:StandardItemIdentification/cbc:ID", "schemeID")
    for classification in item.children("cac:CommodityClassification"):
        code = classification.text("cbc:ItemClassificationCode", "listID")
        if code is not None:
            line.classifications.append(code)
    line.origin_country = item.text("cac:OriginCountry/cbc:IdentificationCode")
    category = item.child("cac:ClassifiedTaxCategory")
    if category is not None:
        line.vat_category = category.text("cbc:ID")
        line.vat_rate = category.quantity("cbc:Percent", None)
    for prop in item.children("cac:AdditionalItemProperty"):
        line.attributes.append(
            ItemAttribute(prop.location, prop.text("cbc:Name"), prop.text("cbc:Value"))
        )


def _attachment(ref: Node, type_code: Text | None) -> Attachment:
    attachment = Attachment(
        ref.location,
        id=ref.text("cbc:ID"),
        description=ref.text("cbc:DocumentDescription"),
        type_code=type_code,
    )
    carrier = ref.child("cac:Attachment")
    if carrier is not None:
        attachment.uri = carrier.text("cac:ExternalReference/cbc:URI")
        binary = carrier.child("cbc:EmbeddedDocumentBinaryObject")
        attachment.content = binary.as_binary() if binary is not None else None
    return attachment
