"""One model of an invoice for every syntax: the EN 16931 semantic model (BT/BG numbers).

UBL, CII and ZUGFeRD 1.0 are read into these dataclasses; rules, the import into the books and
the writers work on them only. A value that the document lacks is ``None`` (or an empty list); a
value that is present keeps its text, its parsed form and its XPath/line (see ``values``). The
``source`` of a group is the element that holds it, so a finding about a missing term can point
at the place where it should have been.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from belegwerk.einvoice.findings import Location
from belegwerk.einvoice.values import Amount, Binary, Day, Flag, Quantity, Text

CREDIT_NOTE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
CORRECTION_CODES = frozenset({"384", "471", "472", "473"})


@dataclass(slots=True)
class Address:
    """BG-5 seller, BG-8 buyer, BG-12 tax representative, BG-15 deliver-to address."""

    source: Location
    line1: Text | None = None  # BT-35 / BT-50 / BT-64 / BT-75
    line2: Text | None = None
    line3: Text | None = None
    city: Text | None = None
    postcode: Text | None = None
    subdivision: Text | None = None
    country: Text | None = None  # BT-40 / BT-55 / BT-69 / BT-80 (ISO 3166-1 alpha-2)


@dataclass(slots=True)
class Contact:
    """BG-6 seller contact, BG-9 buyer contact."""

    source: Location
    name: Text | None = None
    phone: Text | None = None
    email: Text | None = None


@dataclass(slots=True)
class Party:
    """BG-4 seller, BG-7 buyer, BG-10 payee, BG-11 seller tax representative."""

    source: Location
    name: Text | None = None  # BT-27 / BT-44 / BT-59 / BT-62
    trading_name: Text | None = None  # BT-28 / BT-45
    identifiers: list[Text] = field(default_factory=list)  # BT-29 / BT-46 / BT-60, with scheme
    legal_id: Text | None = None  # BT-30 / BT-47 / BT-61 (commercial register), with scheme
    vat_id: Text | None = None  # BT-31 / BT-48 / BT-63 (USt-IdNr.)
    tax_number: Text | None = None  # BT-32 seller tax registration (Steuernummer, scheme FC)
    legal_info: Text | None = None  # BT-33 additional legal information
    electronic_address: Text | None = None  # BT-34 / BT-49, with scheme (EAS code)
    address: Address | None = None
    contact: Contact | None = None


@dataclass(slots=True)
class Period:
    """BG-14 invoicing period (BT-73, BT-74) or BG-26 line period (BT-134, BT-135)."""

    source: Location
    start: Day | None = None
    end: Day | None = None
    description_code: Text | None = None  # BT-8 value date code, where the syntax puts it here


@dataclass(slots=True)
class Delivery:
    """BG-13: deliver-to party and address, actual delivery date (BT-72)."""

    source: Location
    party_name: Text | None = None  # BT-70
    location_id: Text | None = None  # BT-71, with scheme
    date: Day | None = None  # BT-72
    address: Address | None = None  # BG-15


@dataclass(slots=True)
class AllowanceCharge:
    """BG-20/BG-21 on the document, BG-27/BG-28 on a line."""

    source: Location
    indicator: Flag | None  # ChargeIndicator: true = charge, false = allowance
    amount: Amount | None = None  # BT-92 / BT-99 / BT-136 / BT-141
    base_amount: Amount | None = None  # BT-93 / BT-100 / BT-137 / BT-142
    percent: Quantity | None = None  # BT-94 / BT-101 / BT-138 / BT-143
    vat_category: Text | None = None  # BT-95 / BT-102 (document level only)
    vat_rate: Quantity | None = None  # BT-96 / BT-103
    reason: Text | None = None  # BT-97 / BT-104 / BT-139 / BT-144
    reason_code: Text | None = None  # BT-98 / BT-105 / BT-140 / BT-145

    @property
    def is_charge(self) -> bool | None:
        return self.indicator.value if self.indicator else None


@dataclass(slots=True)
class VatBreakdown:
    """BG-23: one VAT category and rate with its taxable amount and tax."""

    source: Location
    taxable_amount: Amount | None = None  # BT-116
    tax_amount: Amount | None = None  # BT-117
    category: Text | None = None  # BT-118 (S, Z, E, AE, K, G, O, L, M, B)
    rate: Quantity | None = None  # BT-119 (percent)
    exemption_reason: Text | None = None  # BT-120
    exemption_reason_code: Text | None = None  # BT-121 (VATEX)
    type_code: Text | None = None  # CII TypeCode / UBL TaxScheme ID, normally "VAT"


@dataclass(slots=True)
class ItemAttribute:
    """BG-32: item attribute name (BT-160) and value (BT-161)."""

    source: Location
    name: Text | None = None
    value: Text | None = None


@dataclass(slots=True)
class Line:
    """BG-25: one invoice line with its item (BG-31), price (BG-29) and VAT (BG-30)."""

    source: Location
    id: Text | None = None  # BT-126
    note: Text | None = None  # BT-127
    object_id: Text | None = None  # BT-128, with scheme
    quantity: Quantity | None = None  # BT-129 with unit code BT-130
    net_amount: Amount | None = None  # BT-131
    order_line_ref: Text | None = None  # BT-132
    accounting_ref: Text | None = None  # BT-133 buyer accounting reference
    period: Period | None = None  # BG-26
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)  # BG-27/BG-28
    net_price: Amount | None = None  # BT-146
    price_discount: Amount | None = None  # BT-147
    gross_price: Amount | None = None  # BT-148
    price_base_quantity: Quantity | None = None  # BT-149 with unit code BT-150
    vat_category: Text | None = None  # BT-151
    vat_rate: Quantity | None = None  # BT-152
    item_name: Text | None = None  # BT-153
    item_description: Text | None = None  # BT-154
    seller_item_id: Text | None = None  # BT-155
    buyer_item_id: Text | None = None  # BT-156
    standard_item_id: Text | None = None  # BT-157, with scheme
    classifications: list[Text] = field(default_factory=list)  # BT-158, with list id
    origin_country: Text | None = None  # BT-159
    attributes: list[ItemAttribute] = field(default_factory=list)  # BG-32
    parent_line_id: Text | None = None  # sub-invoice lines (XRechnung extension, EXTENDED)


@dataclass(slots=True)
class Totals:
    """BG-22 document totals. ``vat_totals`` holds every total VAT amount with its currency:
    BT-110 is the one in the invoice currency, BT-111 the one in the VAT accounting currency."""

    source: Location
    line_net: Amount | None = None  # BT-106
    allowances: Amount | None = None  # BT-107
    charges: Amount | None = None  # BT-108
    tax_exclusive: Amount | None = None  # BT-109
    vat_totals: list[Amount] = field(default_factory=list)  # BT-110 and BT-111
    tax_inclusive: Amount | None = None  # BT-112
    prepaid: Amount | None = None  # BT-113
    rounding: Amount | None = None  # BT-114
    payable: Amount | None = None  # BT-115
    declared: bool = True  # False: no totals element, only the VAT totals (UBL TaxTotal)

    def vat_total_in(self, currency: str | None) -> Amount | None:
        """The total VAT amount stated in ``currency`` (BT-110 for the invoice currency)."""
        return next((a for a in self.vat_totals if a.currency == currency), None)


@dataclass(slots=True)
class CreditTransfer:
    """BG-17: the account to pay to."""

    source: Location
    account_id: Text | None = None  # BT-84 (IBAN or other account id)
    account_name: Text | None = None  # BT-85
    bic: Text | None = None  # BT-86


@dataclass(slots=True)
class Payment:
    """BG-16 payment instructions with card (BG-18) and direct debit (BG-19)."""

    source: Location
    means_code: Text | None = None  # BT-81 (UNTDID 4461: 58 SEPA credit transfer, 59 debit …)
    means_text: Text | None = None  # BT-82
    remittance_info: Text | None = None  # BT-83 (Verwendungszweck)
    credit_transfers: list[CreditTransfer] = field(default_factory=list)
    card_pan: Text | None = None  # BT-87
    card_holder: Text | None = None  # BT-88
    mandate_id: Text | None = None  # BT-89 SEPA mandate reference
    creditor_id: Text | None = None  # BT-90 SEPA creditor identifier
    debited_account: Text | None = None  # BT-91


@dataclass(slots=True)
class Attachment:
    """BG-24 additional supporting document; an embedded file is kept as bytes."""

    source: Location
    id: Text | None = None  # BT-122
    description: Text | None = None  # BT-123
    uri: Text | None = None  # BT-124
    content: Binary | None = None  # BT-125 with MIME code and file name
    type_code: Text | None = None  # 916 supporting document, 50 tender, 130 invoiced object


@dataclass(slots=True)
class PrecedingInvoice:
    """BG-3: the invoice a credit note or correction refers to."""

    source: Location
    number: Text | None = None  # BT-25
    date: Day | None = None  # BT-26


@dataclass(slots=True)
class Note:
    """BG-1 invoice note: subject code (BT-21, e.g. AAK, REG) and text (BT-22)."""

    source: Location
    text: Text | None = None
    subject_code: Text | None = None


@dataclass(slots=True)
class Invoice:
    """The whole document (EN 16931 semantic model). ``source`` is the root element."""

    source: Location
    number: Text | None = None  # BT-1
    issue_date: Day | None = None  # BT-2
    type_code: Text | None = None  # BT-3 (380 invoice, 381 credit note, 384 correction …)
    currency: Text | None = None  # BT-5
    tax_currency: Text | None = None  # BT-6
    tax_point_date: Day | None = None  # BT-7
    tax_point_code: Text | None = None  # BT-8
    due_date: Day | None = None  # BT-9
    buyer_reference: Text | None = None  # BT-10 (Leitweg-ID for German public buyers)
    project_ref: Text | None = None  # BT-11
    contract_ref: Text | None = None  # BT-12
    order_ref: Text | None = None  # BT-13
    sales_order_ref: Text | None = None  # BT-14
    receiving_advice_ref: Text | None = None  # BT-15
    despatch_advice_ref: Text | None = None  # BT-16
    tender_ref: Text | None = None  # BT-17
    invoiced_object_id: Text | None = None  # BT-18, with scheme
    buyer_accounting_ref: Text | None = None  # BT-19
    payment_terms: list[Text] = field(default_factory=list)  # BT-20
    notes: list[Note] = field(default_factory=list)  # BG-1
    process_id: Text | None = None  # BT-23
    spec_id: Text | None = None  # BT-24
    preceding_invoices: list[PrecedingInvoice] = field(default_factory=list)  # BG-3
    seller: Party | None = None  # BG-4
    buyer: Party | None = None  # BG-7
    payee: Party | None = None  # BG-10
    tax_representative: Party | None = None  # BG-11
    delivery: Delivery | None = None  # BG-13
    period: Period | None = None  # BG-14
    payments: list[Payment] = field(default_factory=list)  # BG-16
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)  # BG-20/BG-21
    totals: Totals | None = None  # BG-22
    vat_breakdown: list[VatBreakdown] = field(default_factory=list)  # BG-23
    attachments: list[Attachment] = field(default_factory=list)  # BG-24
    lines: list[Line] = field(default_factory=list)  # BG-25
    is_credit_note_document: bool = False  # UBL CreditNote root

    @property
    def is_credit_note(self) -> bool:
        """A credit note by its root (UBL) or by its type code (BT-3)."""
        code = self.type_code.value if self.type_code else ""
        return self.is_credit_note_document or code in CREDIT_NOTE_CODES

    @property
    def is_correction(self) -> bool:
        code = self.type_code.value if self.type_code else ""
        return code in CORRECTION_CODES

    @property
    def allowances(self) -> list[AllowanceCharge]:
        return [ac for ac in self.allowances_charges if ac.is_charge is False]

    @property
    def charges(self) -> list[AllowanceCharge]:
        return [ac for ac in self.allowances_charges if ac.is_charge is True]
