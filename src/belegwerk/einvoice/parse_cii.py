"""UN/CEFACT CII → the EN 16931 model: D16B (ZUGFeRD 2.x, Factur-X, XRechnung CII; binding of
CEN/TS 16931-3-3) and the older vocabulary of ZUGFeRD 1.0, which names the same things
differently (``HeaderExchangedDocument``, ``ApplicableSupplyChainTradeSettlement`` …).

One reader serves both: a ``Vocabulary`` names the elements that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from belegwerk.einvoice.detect import CII, RAM, RAM_ZF1, ZF1
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


@dataclass(frozen=True, slots=True)
class Vocabulary:
    ns: dict[str, str]
    root: str
    context: str
    document: str
    transaction: str
    agreement: str
    delivery: str
    settlement: str
    summation: str
    line_agreement: str
    line_delivery: str
    line_settlement: str
    line_summation: str
    rate: str
    reference_id: str  # the id of a referenced document


D16B = Vocabulary(
    ns={
        "rsm": CII,
        "ram": RAM,
        "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
        "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    },
    root="/rsm:CrossIndustryInvoice",
    context="rsm:ExchangedDocumentContext",
    document="rsm:ExchangedDocument",
    transaction="rsm:SupplyChainTradeTransaction",
    agreement="ram:ApplicableHeaderTradeAgreement",
    delivery="ram:ApplicableHeaderTradeDelivery",
    settlement="ram:ApplicableHeaderTradeSettlement",
    summation="ram:SpecifiedTradeSettlementHeaderMonetarySummation",
    line_agreement="ram:SpecifiedLineTradeAgreement",
    line_delivery="ram:SpecifiedLineTradeDelivery",
    line_settlement="ram:SpecifiedLineTradeSettlement",
    line_summation="ram:SpecifiedTradeSettlementLineMonetarySummation",
    rate="ram:RateApplicablePercent",
    reference_id="ram:IssuerAssignedID",
)
ZUGFERD1 = Vocabulary(
    ns={
        "rsm": ZF1,
        "ram": RAM_ZF1,
        "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15",
        "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:12",
    },
    root="/rsm:CrossIndustryDocument",
    context="rsm:SpecifiedExchangedDocumentContext",
    document="rsm:HeaderExchangedDocument",
    transaction="rsm:SpecifiedSupplyChainTradeTransaction",
    agreement="ram:ApplicableSupplyChainTradeAgreement",
    delivery="ram:ApplicableSupplyChainTradeDelivery",
    settlement="ram:ApplicableSupplyChainTradeSettlement",
    summation="ram:SpecifiedTradeSettlementMonetarySummation",
    line_agreement="ram:SpecifiedSupplyChainTradeAgreement",
    line_delivery="ram:SpecifiedSupplyChainTradeDelivery",
    line_settlement="ram:SpecifiedSupplyChainTradeSettlement",
    line_summation="ram:SpecifiedTradeSettlementMonetarySummation",
    rate="ram:ApplicablePercent",
    reference_id="ram:ID",
)


def parse_cii(root: Any, vocabulary: Vocabulary = D16B) -> Invoice:
    v = vocabulary
    doc = Node(root, v.root, v.ns)
    inv = Invoice(source=doc.location)
    context = doc.child(v.context)
    if context is not None:
        inv.process_id = _id_of(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
        inv.spec_id = _id_of(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    header = doc.child(v.document)
    if header is not None:
        inv.number = header.text("ram:ID")
        inv.type_code = header.text("ram:TypeCode")
        inv.issue_date = _date(header.child("ram:IssueDateTime"))
        inv.notes = [
            Note(n.location, n.text("ram:Content"), n.text("ram:SubjectCode"))
            for n in header.children("ram:IncludedNote")
        ]
    transaction = doc.child(v.transaction)
    if transaction is None:
        return inv
    agreement = transaction.child(v.agreement)
    if agreement is not None:
        _agreement(agreement, inv, v)
    delivery = transaction.child(v.delivery)
    if delivery is not None:
        inv.delivery = _delivery(delivery, inv, v)
    settlement = transaction.child(v.settlement)
    if settlement is not None:
        _settlement(settlement, inv, v)
    inv.lines = [_line(n, v) for n in transaction.children("ram:IncludedSupplyChainTradeLineItem")]
    return inv


def _id_of(node: Node, name: str) -> Text | None:
    child = node.child(name)
    return None if child is None else child.text("ram:ID")


def _date(holder: Node | None, name: str = "udt:DateTimeString") -> Day | None:
    """A CII date: ``DateTimeString`` (or ``DateString``) with its format code."""
    if holder is None:
        return None
    node = holder.child(name)
    return None if node is None else node.as_day(node.attr("format"))


def _reference(node: Node, name: str, v: Vocabulary) -> Text | None:
    child = node.child(name)
    return None if child is None else child.text(v.reference_id)


def _agreement(agreement: Node, inv: Invoice, v: Vocabulary) -> None:
    inv.buyer_reference = agreement.text("ram:BuyerReference")
    seller = agreement.child("ram:SellerTradeParty")
    inv.seller = _party(seller) if seller is not None else None
    buyer = agreement.child("ram:BuyerTradeParty")
    inv.buyer = _party(buyer) if buyer is not None else None
    representative = agreement.child("ram:SellerTaxRepresentativeTradeParty")
    inv.tax_representative = _party(representative) if representative is not None else None
    inv.sales_order_ref = _reference(agreement, "ram:SellerOrderReferencedDocument", v)
    inv.order_ref = _reference(agreement, "ram:BuyerOrderReferencedDocument", v)
    inv.contract_ref = _reference(agreement, "ram:ContractReferencedDocument", v)
    project = agreement.child("ram:SpecifiedProcuringProject")
    inv.project_ref = project.text("ram:ID") if project is not None else None
    for ref in agreement.children("ram:AdditionalReferencedDocument"):
        type_code = ref.text("ram:TypeCode")
        code = type_code.value if type_code is not None else ""
        if code == "130":
            inv.invoiced_object_id = ref.text(v.reference_id, "schemeID")
        elif code == "50":
            inv.tender_ref = ref.text(v.reference_id)
        else:
            inv.attachments.append(_attachment(ref, type_code, v))


def _address(node: Node) -> Address:
    return Address(
        node.location,
        line1=node.text("ram:LineOne"),
        line2=node.text("ram:LineTwo"),
        line3=node.text("ram:LineThree"),
        city=node.text("ram:CityName"),
        postcode=node.text("ram:PostcodeCode"),
        subdivision=node.text("ram:CountrySubDivisionName"),
        country=node.text("ram:CountryID"),
    )


def _party(node: Node) -> Party:
    party = Party(node.location, name=node.text("ram:Name"))
    party.identifiers = node.texts("ram:ID") + node.texts("ram:GlobalID", "schemeID")
    party.legal_info = node.text("ram:Description")
    legal = node.child("ram:SpecifiedLegalOrganization")
    if legal is not None:
        party.legal_id = legal.text("ram:ID", "schemeID")
        party.trading_name = legal.text("ram:TradingBusinessName")
    contact = node.child("ram:DefinedTradeContact")
    if contact is not None:
        party.contact = Contact(
            contact.location,
            contact.text("ram:PersonName") or contact.text("ram:DepartmentName"),
            contact.text("ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
            contact.text("ram:EmailURIUniversalCommunication/ram:URIID"),
        )
    address = node.child("ram:PostalTradeAddress")
    party.address = _address(address) if address is not None else None
    party.electronic_address = node.text("ram:URIUniversalCommunication/ram:URIID", "schemeID")
    for registration in node.children("ram:SpecifiedTaxRegistration"):
        ident = registration.text("ram:ID", "schemeID")
        if ident is None:
            continue
        if ident.scheme == "VA":
            party.vat_id = party.vat_id or ident
        elif ident.scheme == "FC":
            party.tax_number = party.tax_number or ident
    return party


def _delivery(node: Node, inv: Invoice, v: Vocabulary) -> Delivery:
    event = node.path_to("ram:ActualDeliverySupplyChainEvent", "ram:OccurrenceDateTime")
    delivery = Delivery(node.location, date=_date(event))
    ship_to = node.child("ram:ShipToTradeParty")
    if ship_to is not None:
        delivery.party_name = ship_to.text("ram:Name")
        delivery.location_id = ship_to.text("ram:GlobalID", "schemeID") or ship_to.text("ram:ID")
        address = ship_to.child("ram:PostalTradeAddress")
        delivery.address = _address(address) if address is not None else None
    inv.despatch_advice_ref = _reference(node, "ram:DespatchAdviceReferencedDocument", v)
    inv.receiving_advice_ref = _reference(node, "ram:ReceivingAdviceReferencedDocument", v)
    return delivery


def _settlement(node: Node, inv: Invoice, v: Vocabulary) -> None:
    inv.currency = node.text("ram:InvoiceCurrencyCode")
    inv.tax_currency = node.text("ram:TaxCurrencyCode")
    payee = node.child("ram:PayeeTradeParty")
    inv.payee = _party(payee) if payee is not None else None
    creditor_id = node.text("ram:CreditorReferenceID")
    remittance = node.text("ram:PaymentReference")
    terms = node.children("ram:SpecifiedTradePaymentTerms")
    mandate = next((m for t in terms if (m := t.text("ram:DirectDebitMandateID"))), None)
    for means in node.children("ram:SpecifiedTradeSettlementPaymentMeans"):
        inv.payments.append(_payment(means, remittance, creditor_id, mandate))
    for term in terms:
        description = term.text("ram:Description")
        if description is not None:
            inv.payment_terms.append(description)
        inv.due_date = inv.due_date or _date(term.child("ram:DueDateDateTime"))
    for tax in node.children("ram:ApplicableTradeTax"):
        inv.vat_breakdown.append(_vat(tax, v))
        inv.tax_point_date = inv.tax_point_date or _date(
            tax.child("ram:TaxPointDate"), "udt:DateString"
        )
        inv.tax_point_code = inv.tax_point_code or tax.text("ram:DueDateTypeCode")
    period = node.child("ram:BillingSpecifiedPeriod")
    inv.period = _period(period) if period is not None else None
    inv.allowances_charges = [
        _allowance_charge(n, v) for n in node.children("ram:SpecifiedTradeAllowanceCharge")
    ]
    summation = node.child(v.summation)
    if summation is not None:
        inv.totals = Totals(
            summation.location,
            line_net=summation.amount("ram:LineTotalAmount"),
            allowances=summation.amount("ram:AllowanceTotalAmount"),
            charges=summation.amount("ram:ChargeTotalAmount"),
            tax_exclusive=summation.amount("ram:TaxBasisTotalAmount"),
            vat_totals=[n.as_amount() for n in summation.children("ram:TaxTotalAmount")],
            tax_inclusive=summation.amount("ram:GrandTotalAmount"),
            prepaid=summation.amount("ram:TotalPrepaidAmount"),
            rounding=summation.amount("ram:RoundingAmount"),
            payable=summation.amount("ram:DuePayableAmount"),
        )
    for ref in node.children("ram:InvoiceReferencedDocument"):
        inv.preceding_invoices.append(
            PrecedingInvoice(
                ref.location,
                ref.text(v.reference_id),
                _date(ref.child("ram:FormattedIssueDateTime"), "qdt:DateTimeString"),
            )
        )
    inv.buyer_accounting_ref = node.text("ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID")


def _payment(
    node: Node, remittance: Text | None, creditor_id: Text | None, mandate: Text | None
) -> Payment:
    payment = Payment(
        node.location,
        means_code=node.text("ram:TypeCode"),
        means_text=node.text("ram:Information"),
        remittance_info=remittance,
    )
    bic = node.text("ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID")
    for account in node.children("ram:PayeePartyCreditorFinancialAccount"):
        payment.credit_transfers.append(
            CreditTransfer(
                account.location,
                account.text("ram:IBANID") or account.text("ram:ProprietaryID"),
                account.text("ram:AccountName"),
                bic,
            )
        )
    card = node.child("ram:ApplicableTradeSettlementFinancialCard")
    if card is not None:
        payment.card_pan = card.text("ram:ID")
        payment.card_holder = card.text("ram:CardholderName")
    debtor = node.text("ram:PayerPartyDebtorFinancialAccount/ram:IBANID")
    if debtor is not None:
        payment.debited_account = debtor
        payment.mandate_id = mandate
        payment.creditor_id = creditor_id
    return payment


def _vat(node: Node, v: Vocabulary) -> VatBreakdown:
    return VatBreakdown(
        node.location,
        taxable_amount=node.amount("ram:BasisAmount"),
        tax_amount=node.amount("ram:CalculatedAmount"),
        category=node.text("ram:CategoryCode"),
        rate=node.quantity(v.rate, None),
        exemption_reason=node.text("ram:ExemptionReason"),
        exemption_reason_code=node.text("ram:ExemptionReasonCode"),
        type_code=node.text("ram:TypeCode"),
    )


def _period(node: Node) -> Period:
    return Period(
        node.location, _date(node.child("ram:StartDateTime")), _date(node.child("ram:EndDateTime"))
    )


def _allowance_charge(node: Node, v: Vocabulary) -> AllowanceCharge:
    indicator = node.path_to("ram:ChargeIndicator", "udt:Indicator")
    tax = node.child("ram:CategoryTradeTax")
    return AllowanceCharge(
        node.location,
        indicator.as_flag() if indicator is not None else None,
        amount=node.amount("ram:ActualAmount"),
        base_amount=node.amount("ram:BasisAmount"),
        percent=node.quantity("ram:CalculationPercent", None),
        vat_category=tax.text("ram:CategoryCode") if tax is not None else None,
        vat_rate=tax.quantity(v.rate, None) if tax is not None else None,
        reason=node.text("ram:Reason"),
        reason_code=node.text("ram:ReasonCode"),
    )


def _attachment(ref: Node, type_code: Text | None, v: Vocabulary) -> Attachment:
    binary = ref.child("ram:AttachmentBinaryObject")
    return Attachment(
        ref.location,
        id=ref.text(v.reference_id),
        description=ref.text("ram:Name"),
        uri=ref.text("ram:URIID"),
        content=binary.as_binary() if binary is not None else None,
        type_code=type_code,
    )


def _line(node: Node, v: Vocabulary) -> Line:
    line = Line(node.location)
    document = node.child("ram:AssociatedDocumentLineDocument")
    if document is not None:
        line.id = document.text("ram:LineID")
        line.parent_line_id = document.text("ram:ParentLineID")
        line.note = document.text("ram:IncludedNote/ram:Content")
    product = node.child("ram:SpecifiedTradeProduct")
    if product is not None:
        _product(product, line)
    agreement = node.child(v.line_agreement)
    if agreement is not None:
        _line_agreement(agreement, line, v)
    delivery = node.child(v.line_delivery)
    if delivery is not None:
        line.quantity = delivery.quantity("ram:BilledQuantity")
    settlement = node.child(v.line_settlement)
    if settlement is not None:
        _line_settlement(settlement, line, v)
    return line


def _product(product: Node, line: Line) -> None:
    line.standard_item_id = product.text("ram:GlobalID", "schemeID")
    line.seller_item_id = product.text("ram:SellerAssignedID")
    line.buyer_item_id = product.text("ram:BuyerAssignedID")
    line.item_name = product.text("ram:Name")
    line.item_description = product.text("ram:Description")
    for characteristic in product.children("ram:ApplicableProductCharacteristic"):
        line.attributes.append(
            ItemAttribute(
                characteristic.location,
                characteristic.text("ram:Description"),
                characteristic.text("ram:Value"),
            )
        )
    for classification in product.children("ram:DesignatedProductClassification"):
        code = classification.text("ram:ClassCode", "listID")
        if code is not None:
            line.classifications.append(code)
    line.origin_country = product.text("ram:OriginTradeCountry/ram:ID")


def _line_agreement(agreement: Node, line: Line, v: Vocabulary) -> None:
    order = agreement.child("ram:BuyerOrderReferencedDocument")
    line.order_line_ref = order.text("ram:LineID") if order is not None else None
    gross = agreement.child("ram:GrossPriceProductTradePrice")
    if gross is not None:
        line.gross_price = gross.amount("ram:ChargeAmount")
        discount = gross.child("ram:AppliedTradeAllowanceCharge")
        line.price_discount = discount.amount("ram:ActualAmount") if discount is not None else None
    net = agreement.child("ram:NetPriceProductTradePrice")
    if net is not None:
        line.net_price = net.amount("ram:ChargeAmount")
        line.price_base_quantity = net.quantity("ram:BasisQuantity")


def _line_settlement(settlement: Node, line: Line, v: Vocabulary) -> None:
    tax = settlement.child("ram:ApplicableTradeTax")
    if tax is not None:
        line.vat_category = tax.text("ram:CategoryCode")
        line.vat_rate = tax.quantity(v.rate, None)
    period = settlement.child("ram:BillingSpecifiedPeriod")
    line.period = _period(period) if period is not None else None
    line.allowances_charges = [
        _allowance_charge(n, v) for n in settlement.children("ram:SpecifiedTradeAllowanceCharge")
    ]
    summation = settlement.child(v.line_summation)
    line.net_amount = summation.amount("ram:LineTotalAmount") if summation is not None else None
    for ref in settlement.children("ram:AdditionalReferencedDocument"):
        type_code = ref.text("ram:TypeCode")
        if type_code is not None and type_code.value == "130":
            line.object_id = ref.text(v.reference_id, "schemeID")
    line.accounting_ref = settlement.text("ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID")
