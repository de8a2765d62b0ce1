"""What an outgoing e-invoice says, taken from the books and checked before any XML is written.

A booked outgoing invoice, the company (seller) and the customer (buyer) are read once into
plain values in EN 16931 terms. Everything the chosen format needs and the books may lack —
the seller contact XRechnung asks for, a Leitweg-ID for a public buyer, the customer's VAT id
for reverse charge — is checked here, so the user gets one German message naming what to fill
in instead of an invalid file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy.orm import Session

from belegwerk.books import vat_treatment as vt
from belegwerk.books.invoices import get_invoice, invoice_lines, tax_totals
from belegwerk.books.models import Invoice, InvoiceLine, InvoiceTaxTotal, Party
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO
from belegwerk.tenancy.models import Company
from belegwerk.tenancy.service import get_company

CURRENCY = "EUR"
INVOICE = "380"  # UNTDID 1001 commercial invoice
CREDIT_NOTE = "381"  # credit note: the Stornorechnung
SEPA_CREDIT_TRANSFER = "58"
CLEARING = "97"  # UNTDID 4461 clearing between partners: a Storno settles against its invoice
EAS_EMAIL = "EM"
EAS_LEITWEG_ID = "0204"  # CEF EAS code of the German Leitweg-ID
PRICE_PLACES_MAX = 10
_PLACES = {n: Decimal(1).scaleb(-n) for n in range(PRICE_PLACES_MAX + 1)}
HALF_CENT = Decimal("0.005")
_NO_EXEMPTION_REASON = frozenset({vt.STANDARD, vt.ZERO_RATED})


class Target(StrEnum):
    """The three formats Belegwerk writes."""

    XRECHNUNG_UBL = "xrechnung-ubl"
    XRECHNUNG_CII = "xrechnung-cii"
    ZUGFERD = "zugferd"

    @property
    def xrechnung(self) -> bool:
        return self is not Target.ZUGFERD


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    postcode: str
    city: str
    country: str


@dataclass(frozen=True, slots=True)
class Seller:
    """BG-4 with BG-5 address and BG-6 contact."""

    name: str
    address: Address
    vat_id: str  # BT-31 ("" when none or not allowed, see BR-O-2)
    tax_number: str  # BT-32 (Steuernummer, scheme FC)
    identifier: str  # BT-29: the tax number when there is no VAT id (BR-CO-26)
    contact_name: str  # BT-41
    phone: str  # BT-42
    email: str  # BT-43 and BT-34 (scheme EM)
    iban: str
    bic: str
    bank_name: str


@dataclass(frozen=True, slots=True)
class Buyer:
    """BG-7 with BG-8 address."""

    name: str
    address: Address
    vat_id: str  # BT-48
    email: str
    electronic_address: str  # BT-49
    electronic_scheme: str  # EAS: EM or 0204 (Leitweg-ID)
    customer_number: int | None
    public_authority: bool


@dataclass(frozen=True, slots=True)
class Line:
    """BG-25. ``quantity`` and ``net_price`` are written as they are (the price carries up to
    ten places in gross price mode, so quantity × price meets the line net within a cent)."""

    id: str
    name: str
    quantity: Decimal
    unit: str
    net_price: Decimal
    net_amount: Decimal
    vat_category: str
    vat_rate: Decimal


@dataclass(frozen=True, slots=True)
class VatGroup:
    """BG-23: one VAT category and rate."""

    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_reason: str
    exemption_code: str


@dataclass(frozen=True, slots=True)
class Preceding:
    """BG-3: the invoice a Stornorechnung reverses."""

    number: str
    issue_date: date


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One outgoing e-invoice in EN 16931 terms."""

    invoice_id: int
    number: str  # BT-1
    issue_date: date  # BT-2
    type_code: str  # BT-3
    due_date: date | None  # BT-9
    delivery_date: date  # BT-72
    buyer_reference: str  # BT-10
    notes: tuple[str, ...]  # BT-22
    payment_terms: str  # BT-20
    payment_means: str  # BT-81
    remittance: str  # BT-83
    preceding: Preceding | None
    seller: Seller
    buyer: Buyer
    lines: tuple[Line, ...]
    groups: tuple[VatGroup, ...]
    line_total: Decimal  # BT-106 = BT-109
    tax_total: Decimal  # BT-110
    gross_total: Decimal  # BT-112 = BT-115
    small_business: bool
    currency: str = CURRENCY

    @property
    def credit_note(self) -> bool:
        return self.type_code == CREDIT_NOTE

    @property
    def categories(self) -> set[str]:
        return {g.category for g in self.groups} | {ln.vat_category for ln in self.lines}

    @property
    def deliver_to(self) -> bool:
        """BG-13/BG-15 deliver-to country: needed for intra-community supplies (BR-IC-12)."""
        return vt.INTRA_COMMUNITY in self.categories


def _missing(target: Target, fields: list[str], labels: list[str], where: str) -> ValidationFailed:
    return ValidationFailed(
        "einvoice.data_missing",
        _("The {format} cannot be written: {what} missing ({where}).").format(
            format=format_name(target), what=", ".join(labels), where=where
        ),
        [{"field": name} for name in fields],
    )


def format_name(target: Target) -> str:
    return {
        Target.XRECHNUNG_UBL: "XRechnung (UBL)",
        Target.XRECHNUNG_CII: "XRechnung (CII)",
        Target.ZUGFERD: "ZUGFeRD-PDF",
    }[target]


def load_outgoing(session: Session, tenant_id: int, invoice_id: int, target: Target) -> Outgoing:
    """The e-invoice content of a booked outgoing invoice; ValidationFailed/Conflict with a
    German message when the books cannot say what the format requires."""
    inv = get_invoice(session, tenant_id, invoice_id)
    if inv.direction != "out":
        raise ValidationFailed(
            "einvoice.not_outgoing",
            _("Only outgoing invoices can be written as e-invoices."),
            [{"field": "invoice_id", "value": invoice_id}],
        )
    if inv.status != "booked" or not inv.number:
        raise Conflict(
            "einvoice.not_booked",
            _("Invoice {id} is a draft; book it first, then write the e-invoice.").format(
                id=invoice_id
            ),
            [{"field": "invoice_id", "value": invoice_id}],
        )
    party = session.get(Party, inv.party_id) if inv.party_id is not None else None
    if party is None or party.tenant_id != tenant_id:
        raise ValidationFailed(
            "einvoice.no_customer",
            _("The invoice has no customer."),
            [{"field": "party_id"}],
        )
    company = get_company(session, tenant_id)
    gross_mode = inv.price_mode == "gross"
    lines = [_line(ln, gross_mode) for ln in invoice_lines(session, tenant_id, inv.id)]
    groups = [
        VatGroup(t.vat_category, t.vat_rate, t.net, t.vat, *_exemption(t))
        for t in tax_totals(session, tenant_id, inv.id)
    ]
    categories = {g.category for g in groups}
    _check_categories(categories, company, party, target)
    not_taxable = vt.OUT_OF_SCOPE in categories  # BR-O-2: no VAT ids on such an invoice
    seller = _seller(company, target, keep_vat_id=not not_taxable)
    buyer = _buyer(party, target, keep_vat_id=not not_taxable)
    preceding = _preceding(session, tenant_id, inv)
    return Outgoing(
        invoice_id=inv.id,
        number=inv.number,
        issue_date=inv.issue_date,
        type_code=CREDIT_NOTE if preceding else INVOICE,
        due_date=None if preceding else inv.due_date,
        delivery_date=inv.supply_date or inv.issue_date,
        buyer_reference=_buyer_reference(party, inv),
        notes=tuple(n for n in (inv.note.strip(),) if n),
        payment_terms=_payment_terms(inv, preceding),
        payment_means=CLEARING if preceding else SEPA_CREDIT_TRANSFER,
        remittance=inv.number,
        preceding=preceding,
        seller=seller,
        buyer=buyer,
        lines=tuple(lines),
        groups=tuple(groups),
        line_total=sum((ln.net_amount for ln in lines), ZERO),
        tax_total=inv.vat_total,
        gross_total=inv.gross_total,
        small_business=inv.small_business,
    )


def _exemption(total: InvoiceTaxTotal) -> tuple[str, str]:
    """BT-120/121; a taxed or zero-rated group must not carry one (BR-S-10, BR-Z-10)."""
    if total.vat_category in _NO_EXEMPTION_REASON:
        return "", ""
    return total.exemption_reason, total.exemption_reason_code


def _line(ln: InvoiceLine, gross_mode: bool) -> Line:
    quantity, net = ln.quantity, ln.net
    price = _net_price(quantity, net, ln.unit_price, ln.vat_rate) if gross_mode else ln.unit_price
    if price < 0:  # BR-27: the price is never negative; a discount line has a negative quantity
        quantity, price = -quantity, -price
    return Line(
        id=str(ln.position),
        name=ln.description,
        quantity=quantity,
        unit=ln.unit,
        net_price=price,
        net_amount=net,
        vat_category=ln.vat_category,
        vat_rate=ln.vat_rate,
    )


def _net_price(quantity: Decimal, net: Decimal, gross_price: Decimal, rate: Decimal) -> Decimal:
    """Net price per unit (BT-146) of a line entered with gross prices: the line net spread
    over the quantity with as many places as it takes to meet the net within half a cent
    (PEPPOL-EN16931-R120 allows two)."""
    if quantity == 0:
        return (gross_price / (1 + rate / 100)).quantize(_PLACES[4], rounding=ROUND_HALF_UP)
    exact = net / quantity
    for places in range(4, PRICE_PLACES_MAX + 1):
        price = exact.quantize(_PLACES[places], rounding=ROUND_HALF_UP)
        if abs(price * quantity - net) <= HALF_CENT:
            return price
    return exact.quantize(_PLACES[PRICE_PLACES_MAX], rounding=ROUND_HALF_UP)


def _check_categories(categories: set[str], company: Company, party: Party, target: Target) -> None:
    """The VAT category rules of EN 16931 that depend on master data the books may lack."""
    if vt.OUT_OF_SCOPE in categories and len(categories) > 1:
        raise ValidationFailed(
            "einvoice.not_taxable_mixed",
            _(
                "An invoice with lines not taxable in Germany (O) cannot contain other VAT "
                "treatments (EN 16931, BR-O-11); split it into two invoices."
            ),
            [{"field": "vat_category", "value": vt.OUT_OF_SCOPE}],
        )
    needs_vat_id = categories & {vt.INTRA_COMMUNITY, vt.EXPORT}
    if needs_vat_id and not company.vat_id:
        raise ValidationFailed(
            "einvoice.seller_vat_id_missing",
            _(
                "Intra-community supplies and exports need your own VAT ID (USt-IdNr) on the "
                "invoice (EN 16931 BR-IC-2, BR-G-2); enter it in the settings."
            ),
            [{"field": "vat_id"}],
        )
    if categories - {vt.OUT_OF_SCOPE} and not (company.vat_id or company.tax_number):
        raise ValidationFailed(
            "einvoice.seller_tax_id_missing",
            _(
                "An invoice must name your VAT ID or your tax number (§ 14 UStG, EN 16931 "
                "BR-S-2); enter one in the settings."
            ),
            [{"field": "vat_id"}, {"field": "tax_number"}],
        )
    if categories & {vt.REVERSE_CHARGE, vt.INTRA_COMMUNITY} and not party.vat_id:
        raise ValidationFailed(
            "einvoice.buyer_vat_id_missing",
            _(
                "With reverse charge or an intra-community supply the invoice must name the "
                "customer's VAT ID (EN 16931 BR-AE-2, BR-IC-2); enter it for {name}."
            ).format(name=party.name),
            [{"field": "party.vat_id", "party_id": party.id}],
        )


def _seller(company: Company, target: Target, *, keep_vat_id: bool) -> Seller:
    required = {
        "name": company.name,
        "street": company.street,
        "postal_code": company.postal_code,
        "city": company.city,
    }
    if target.xrechnung:  # BR-DE-2/5/6/7 seller contact, PEPPOL-EN16931-R020 BT-34, BR-DE-1
        required |= {
            "contact_name": company.contact_name,
            "phone": company.phone,
            "email": company.email,
            "iban": company.iban,
        }
    missing = [name for name, value in required.items() if not (value or "").strip()]
    if missing:
        raise _missing(target, missing, [_company_label(m) for m in missing], _("settings"))
    vat_id = company.vat_id if keep_vat_id else ""
    return Seller(
        name=company.name,
        address=Address(company.street, company.postal_code, company.city, company.country),
        vat_id=vat_id,
        tax_number=company.tax_number,
        identifier="" if vat_id else company.tax_number,
        contact_name=company.contact_name,
        phone=company.phone,
        email=company.email,
        iban=company.iban,
        bic=company.bic,
        bank_name=company.bank_name,
    )


def _company_label(field: str) -> str:
    labels = {
        "name": _("company name"),
        "street": _("street"),
        "postal_code": _("postal code"),
        "city": _("city"),
        "contact_name": _("contact person"),
        "phone": _("telephone"),
        "email": _("e-mail address"),
        "iban": _("IBAN"),
    }
    return labels[field]


def _buyer(party: Party, target: Target, *, keep_vat_id: bool) -> Buyer:
    if party.public_authority and not party.leitweg_id:
        raise ValidationFailed(
            "einvoice.leitweg_id_missing",
            _(
                "{name} is a public authority: invoices to it need its Leitweg-ID (BT-10). "
                "Enter the Leitweg-ID for the customer."
            ).format(name=party.name),
            [{"field": "party.leitweg_id", "party_id": party.id}],
        )
    if party.public_authority:
        address, scheme = party.leitweg_id, EAS_LEITWEG_ID
    else:
        address, scheme = party.email, EAS_EMAIL
    required = {"postal_code": party.postal_code, "city": party.city}  # BR-DE-8/9
    if target.xrechnung:
        required["email"] = address  # PEPPOL-EN16931-R010: buyer electronic address
    missing = [name for name, value in required.items() if not (value or "").strip()]
    if missing:
        labels = {"postal_code": _("postal code"), "city": _("city"), "email": _("e-mail address")}
        raise _missing(
            target,
            [f"party.{m}" for m in missing],
            [labels[m] for m in missing],
            _("customer {name}").format(name=party.name),
        )
    return Buyer(
        name=party.name,
        address=Address(party.street, party.postal_code, party.city, party.country or "DE"),
        vat_id=party.vat_id if keep_vat_id else "",
        email=party.email,
        electronic_address=address,
        electronic_scheme=scheme,
        customer_number=party.customer_number,
        public_authority=party.public_authority,
    )


def _buyer_reference(party: Party, inv: Invoice) -> str:
    """BT-10: the Leitweg-ID (or the buyer's own reference); without one, our customer number,
    since XRechnung requires the element (BR-DE-15)."""
    if party.leitweg_id:
        return party.leitweg_id
    return str(party.customer_number) if party.customer_number else str(inv.number)


def _preceding(session: Session, tenant_id: int, inv: Invoice) -> Preceding | None:
    if inv.kind != "reversal" or inv.reverses_id is None:
        return None
    original = get_invoice(session, tenant_id, inv.reverses_id)
    return Preceding(number=original.number or "", issue_date=original.issue_date)


def _payment_terms(inv: Invoice, preceding: Preceding | None) -> str:
    """BT-20 in German (document text, not UI): BR-CO-25 wants terms or a due date."""
    if preceding is not None:
        return (
            f"Gutschrift (Storno) zu Rechnung {preceding.number} vom "
            f"{preceding.issue_date:%d.%m.%Y}; wird mit dieser Rechnung verrechnet."
        )
    if inv.due_date is not None:
        return f"Zahlbar ohne Abzug bis {inv.due_date:%d.%m.%Y}."
    return "Zahlbar sofort ohne Abzug."
