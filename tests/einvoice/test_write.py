"""Writing e-invoices out of the books: round trips, VAT cases, refusals, archive, API, CLI, page.

Round trip = book an invoice → write → our validator (every layer on main) finds no error →
parse the written file → the same amounts, parties, lines and VAT breakdown as the books.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from belegwerk.books.invoice_documents import invoice_documents
from belegwerk.books.invoices import (
    InvoiceInput,
    create_draft,
    invoice_lines,
    reverse_invoice,
    tax_totals,
)
from belegwerk.books.models import Party
from belegwerk.books.parties import PartyData, create_party
from belegwerk.core.db import session_factory
from belegwerk.core.errors import BelegwerkError, Conflict, ValidationFailed
from belegwerk.einvoice.carrier import open_carrier
from belegwerk.einvoice.model import Invoice as Model
from belegwerk.einvoice.validate import validate_file
from belegwerk.einvoice.write.service import render, write_einvoice
from belegwerk.einvoice.write.source import Target
from belegwerk.tenancy.service import update_company
from tests.einvoice.writing import (
    DAY,
    SELLER,
    booked_out,
    customer,
    line,
    official_failures,
    seller_tenant,
)

ALL = list(Target)


@pytest.fixture
def seller(make_tenant: Callable[..., int]) -> int:
    return seller_tenant(make_tenant)


@pytest.fixture
def db(engine: Engine, seller: int) -> Any:
    s = session_factory(engine)()
    s.info["tenant_id"] = seller
    yield s
    s.rollback()
    s.close()


def written_model(content: bytes, name: str) -> Model:
    report = validate_file(content, name)
    assert report.error is None
    errors = [(f.rule, f.message) for f in report.verdict.errors]
    assert errors == [], errors
    assert report.invoice is not None
    return report.invoice


def amount(value: Any) -> D:
    assert value is not None and value.value is not None
    return D(value.value)


def assert_matches_books(model: Model, session: Session, tenant_id: int, invoice_id: int) -> None:
    """Amounts, parties, lines and VAT breakdown of the written file equal the books."""
    from belegwerk.books.invoices import get_invoice

    inv = get_invoice(session, tenant_id, invoice_id)
    lines = invoice_lines(session, tenant_id, invoice_id)
    totals = model.totals
    assert totals is not None
    assert amount(totals.line_net) == inv.net_total
    assert amount(totals.tax_exclusive) == inv.net_total
    assert amount(totals.vat_total_in("EUR")) == inv.vat_total
    assert amount(totals.tax_inclusive) == inv.gross_total
    assert amount(totals.payable) == inv.gross_total
    assert model.number is not None and model.number.value == inv.number
    assert model.issue_date is not None and model.issue_date.value == inv.issue_date
    assert model.seller is not None and model.seller.name is not None
    assert model.seller.name.value == SELLER["name"]
    party = session.get(Party, inv.party_id)
    assert party is not None
    assert model.buyer is not None and model.buyer.name is not None
    assert model.buyer.name.value == party.name
    assert len(model.lines) == len(lines)
    for written, booked in zip(model.lines, lines, strict=True):
        assert amount(written.net_amount) == booked.net
        assert written.vat_category is not None
        assert written.vat_category.value == booked.vat_category
        assert written.item_name is not None and written.item_name.value == booked.description
        quantity = amount(written.quantity)
        price = amount(written.net_price)
        assert abs(quantity * price - booked.net) <= D("0.02")  # PEPPOL-EN16931-R120
    breakdown = {
        (b.category.value if b.category else "", amount(b.rate)): b for b in model.vat_breakdown
    }
    books = tax_totals(session, tenant_id, invoice_id)
    assert len(breakdown) == len(books)
    for total in books:
        group = breakdown[(total.vat_category, total.vat_rate)]
        assert amount(group.taxable_amount) == total.net
        assert amount(group.tax_amount) == total.vat


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("target", ALL)
def test_round_trip_mixed_rates(db: Session, seller: int, target: Target) -> None:
    party = customer(db, seller)
    inv = booked_out(
        db,
        seller,
        party,
        [
            line("Beratung Datenschutz", "3.5", "119.99", unit="HUR"),
            line("Fachbuch", "3", "19.95", "7"),
            line("Treuerabatt", "1", "-10.00"),
        ],
        due_date=DAY.replace(month=4),
    )
    written = write_einvoice(db, seller, inv.id, target)
    model = written_model(written.content, written.file_name)
    assert_matches_books(model, db, seller, inv.id)
    assert model.due_date is not None and model.due_date.value == DAY.replace(month=4)
    assert model.buyer_reference is not None and model.buyer_reference.value
    if target.xrechnung:
        assert model.spec_id is not None
        assert model.spec_id.value.endswith("xrechnung_3.0")
    payment = model.payments[0]
    assert payment.means_code is not None and payment.means_code.value == "58"
    account = payment.credit_transfers[0].account_id
    assert account is not None and account.value == SELLER["iban"]


@pytest.mark.parametrize("target", ALL)
def test_round_trip_gross_prices(db: Session, seller: int, target: Target) -> None:
    party = customer(db, seller)
    inv = booked_out(
        db,
        seller,
        party,
        [line("Workshop", "7", "99.99"), line("Getränke", "13", "2.49", "7")],
        price_mode="gross",
    )
    written = write_einvoice(db, seller, inv.id, target)
    assert_matches_books(written_model(written.content, written.file_name), db, seller, inv.id)


def test_written_files_are_archived_and_reissued_unchanged(db: Session, seller: int) -> None:
    party = customer(db, seller)
    inv = booked_out(db, seller, party, [line("Wartung", "1", "250.00")])
    first = {t: write_einvoice(db, seller, inv.id, t) for t in ALL}
    archived = invoice_documents(db, seller, inv.id)
    assert sorted(role for role, _doc in archived) == ["pdf", "xml", "xml"]
    assert {doc.file_name for _role, doc in archived} == {w.file_name for w in first.values()}
    assert all(not w.archived_before for w in first.values())
    # the company moves: an issued invoice stays as it was sent
    update_company(db, seller, {"street": "Neue Straße 9"})
    again = write_einvoice(db, seller, inv.id, Target.ZUGFERD)
    assert again.archived_before and again.content == first[Target.ZUGFERD].content
    assert len(invoice_documents(db, seller, inv.id)) == 3


# --------------------------------------------------------------------------- VAT cases


def test_small_business_invoice(make_tenant: Callable[..., int], engine: Engine) -> None:
    tenant = seller_tenant(make_tenant, vat_regime="small_business", vat_id="")
    s = session_factory(engine)()
    s.info["tenant_id"] = tenant
    try:
        party = customer(s, tenant)
        inv = booked_out(s, tenant, party, [line("Logo-Entwurf", "1", "480.00", "0")])
        for target in ALL:
            written = write_einvoice(s, tenant, inv.id, target)
            model = written_model(written.content, written.file_name)
            assert_matches_books(model, s, tenant, inv.id)
            assert [(b.category.value, amount(b.tax_amount)) for b in model.vat_breakdown] == [
                ("E", D("0.00"))
            ]
            reason = model.vat_breakdown[0].exemption_reason
            assert reason is not None and "§ 19 UStG" in reason.value
            assert any(n.text and "§ 19 UStG" in n.text.value for n in model.notes)
            assert model.seller is not None and model.seller.vat_id is None
            # BR-CO-26: without a VAT id the tax number identifies the seller
            assert [i.value for i in model.seller.identifiers] == [SELLER["tax_number"]]
    finally:
        s.rollback()
        s.close()


def test_reverse_charge_to_eu_customer(db: Session, seller: int) -> None:
    party = customer(db, seller, name="Client SARL", country="FR", vat_id="FR40303265045")
    inv = booked_out(db, seller, party, [line("Softwareentwicklung", "10", "95.00", "0", "AE")])
    for target in ALL:
        written = write_einvoice(db, seller, inv.id, target)
        model = written_model(written.content, written.file_name)
        assert_matches_books(model, db, seller, inv.id)
        group = model.vat_breakdown[0]
        assert group.category is not None and group.category.value == "AE"
        assert group.exemption_reason_code is not None
        assert group.exemption_reason_code.value == "VATEX-EU-AE"
        assert model.buyer is not None and model.buyer.vat_id is not None
        assert model.buyer.vat_id.value == "FR40303265045"


def test_intra_community_supply_names_the_country_of_delivery(db: Session, seller: int) -> None:
    party = customer(db, seller, name="Kunde BV", country="NL", vat_id="NL004495445B01")
    inv = booked_out(db, seller, party, [line("Maschine", "2", "1500.00", "0", "K")])
    for target in ALL:
        written = write_einvoice(db, seller, inv.id, target)
        model = written_model(written.content, written.file_name)
        assert_matches_books(model, db, seller, inv.id)
        assert model.delivery is not None and model.delivery.address is not None
        country = model.delivery.address.country
        assert country is not None and country.value == "NL"  # BR-IC-12
        assert model.delivery.date is not None and model.delivery.date.value == DAY  # BR-IC-11


def test_reverse_charge_without_customer_vat_id_is_refused(db: Session, seller: int) -> None:
    party = customer(db, seller, name="Bau GmbH")
    inv = booked_out(db, seller, party, [line("Trockenbau", "1", "900.00", "0", "AE")])
    with pytest.raises(ValidationFailed) as err:
        write_einvoice(db, seller, inv.id, Target.XRECHNUNG_UBL)
    assert err.value.code == "einvoice.buyer_vat_id_missing"
    assert "USt-IdNr" in err.value.message or "VAT ID" in err.value.message


def test_not_taxable_lines_cannot_be_mixed(db: Session, seller: int) -> None:
    party = customer(db, seller, name="Customer Inc.", country="US")
    inv = booked_out(
        db, seller, party, [line("Beratung", "1", "100", "0", "O"), line("X", "1", "10", "19")]
    )
    with pytest.raises(ValidationFailed) as err:
        write_einvoice(db, seller, inv.id, Target.ZUGFERD)
    assert err.value.code == "einvoice.not_taxable_mixed"


def test_not_taxable_invoice_carries_no_vat_ids(db: Session, seller: int) -> None:
    party = customer(db, seller, name="Customer Inc.", country="US")
    inv = booked_out(db, seller, party, [line("Beratung", "2", "300", "0", "O")])
    for target in ALL:
        written = write_einvoice(db, seller, inv.id, target)
        model = written_model(written.content, written.file_name)
        assert model.seller is not None and model.seller.vat_id is None  # BR-O-2
        assert model.lines[0].vat_rate is None  # BR-O-5


# --------------------------------------------------------------------------- credit notes


def test_storno_is_written_as_credit_note_with_preceding_invoice(db: Session, seller: int) -> None:
    party = customer(db, seller)
    inv = booked_out(db, seller, party, [line("Lizenz", "1", "1200.00")])
    rev = reverse_invoice(db, seller, inv.id, "Doppelt berechnet", reversal_date=DAY)
    for target in ALL:
        written = write_einvoice(db, seller, rev.id, target)
        model = written_model(written.content, written.file_name)
        assert_matches_books(model, db, seller, rev.id)
        assert model.is_credit_note and model.type_code is not None
        assert model.type_code.value == "381"
        assert [(p.number.value, p.date.value) for p in model.preceding_invoices] == [  # type: ignore[union-attr]
            (inv.number, inv.issue_date)
        ]
    ubl = write_einvoice(db, seller, rev.id, Target.XRECHNUNG_UBL).content
    assert etree.fromstring(ubl).tag.endswith("}CreditNote")


# --------------------------------------------------------------------------- refusals


def test_public_authority_without_leitweg_id_is_refused(db: Session, seller: int) -> None:
    # the party form refuses it …
    with pytest.raises(ValidationFailed) as err:
        create_party(
            db,
            seller,
            PartyData(name="Stadt Musterhausen", is_customer=True, public_authority=True),
        )
    assert err.value.code == "party.leitweg_id_required"
    assert "Leitweg-ID" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        create_party(
            db,
            seller,
            PartyData(
                name="Stadt",
                is_customer=True,
                public_authority=True,
                leitweg_id="04011000-12345-34",
            ),
        )
    assert err.value.code == "party.invalid_leitweg_id"
    # … and a party stored before (or written around the form) cannot receive an e-invoice
    party = Party(
        tenant_id=seller,
        name="Landratsamt",
        is_customer=True,
        customer_number=10999,
        postal_code="91522",
        city="Ansbach",
        public_authority=True,
    )
    db.add(party)
    db.flush()
    inv = booked_out(db, seller, party.id, [line("Gutachten", "1", "800")])
    for target in ALL:
        with pytest.raises(ValidationFailed) as err:
            write_einvoice(db, seller, inv.id, target)
        assert err.value.code == "einvoice.leitweg_id_missing"
        assert "Leitweg-ID" in err.value.message and "Landratsamt" in err.value.message
    assert invoice_documents(db, seller, inv.id) == []


def test_public_authority_gets_leitweg_id_as_buyer_reference_and_address(
    db: Session, seller: int
) -> None:
    party = customer(
        db, seller, name="Landesamt", public_authority=True, leitweg_id="04011000-12345-03"
    )
    inv = booked_out(db, seller, party, [line("Schulung", "2", "450")])
    for target in ALL:
        written = write_einvoice(db, seller, inv.id, target)
        model = written_model(written.content, written.file_name)
        assert model.buyer_reference is not None
        assert model.buyer_reference.value == "04011000-12345-03"
        address = model.buyer.electronic_address  # type: ignore[union-attr]
        assert address is not None and (address.value, address.scheme) == (
            "04011000-12345-03",
            "0204",
        )


def test_xrechnung_needs_the_seller_contact(
    make_tenant: Callable[..., int], engine: Engine
) -> None:
    tenant = seller_tenant(make_tenant, phone="", contact_name="")
    s = session_factory(engine)()
    s.info["tenant_id"] = tenant
    try:
        inv = booked_out(s, tenant, customer(s, tenant), [line("Beratung", "1", "100")])
        with pytest.raises(ValidationFailed) as err:
            write_einvoice(s, tenant, inv.id, Target.XRECHNUNG_CII)
        assert err.value.code == "einvoice.data_missing"
        assert {d["field"] for d in err.value.details} == {"contact_name", "phone"}
        # ZUGFeRD has no such rule: the PDF is written
        assert write_einvoice(s, tenant, inv.id, Target.ZUGFERD).content.startswith(b"%PDF-")
    finally:
        s.rollback()
        s.close()


def test_drafts_and_incoming_invoices_are_refused(db: Session, seller: int) -> None:
    party = customer(db, seller)
    draft = create_draft(
        db,
        seller,
        InvoiceInput(direction="out", issue_date=DAY, party_id=party, lines=[line("A", "1", "1")]),
    )
    with pytest.raises(Conflict) as conflict:
        write_einvoice(db, seller, draft.id, Target.XRECHNUNG_UBL)
    assert conflict.value.code == "einvoice.not_booked"
    incoming = create_draft(
        db,
        seller,
        InvoiceInput(direction="in", issue_date=DAY, party_id=party, lines=[line("B", "1", "1")]),
    )
    with pytest.raises(BelegwerkError) as err:
        write_einvoice(db, seller, incoming.id, Target.ZUGFERD)
    assert err.value.code in ("einvoice.not_outgoing", "einvoice.not_booked")


# --------------------------------------------------------------------------- the official rules


SCENARIOS: dict[str, dict[str, Any]] = {
    "standard": {
        "lines": [line("Beratung", "3.5", "119.99", unit="HUR"), line("Buch", "2", "9.9", "7")]
    },
    "gross": {
        "lines": [line("Kurs", "7", "99.99"), line("Snack", "13", "2.49", "7")],
        "price_mode": "gross",
    },
    "discount": {"lines": [line("Paket", "1", "500"), line("Rabatt", "1", "-50")]},
    "reverse_charge": {
        "party": {"name": "Client SARL", "country": "FR", "vat_id": "FR40303265045"},
        "lines": [line("Entwicklung", "10", "95", "0", "AE")],
    },
    "intra_community": {
        "party": {"name": "Kunde BV", "country": "NL", "vat_id": "NL004495445B01"},
        "lines": [line("Maschine", "2", "1500", "0", "K")],
    },
    "export": {
        "party": {"name": "Customer Ltd", "country": "CH"},
        "lines": [line("Ersatzteile", "4", "80", "0", "G")],
    },
    "exempt": {
        "lines": [line("Heilbehandlung", "1", "120", "0", "E")],
        "exemptions": {"E": ("VATEX-EU-132-1C", "Steuerfrei nach § 4 Nr. 14 UStG")},
    },
    "not_taxable": {
        "party": {"name": "Customer Inc.", "country": "US"},
        "lines": [line("Beratung", "2", "300", "0", "O")],
    },
    "storno": {"lines": [line("Lizenz", "1", "1200")], "reverse": True},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_official_cen_and_factur_x_schematron_accept_the_output(
    engine: Engine, make_tenant: Callable[..., int], scenario: str
) -> None:
    """The official EN 16931 schematron 1.3.16 (UBL) and the Factur-X EN 16931 schematron (CEN
    rules for CII plus the profile rules) report no failed assertion on what we write."""
    spec = SCENARIOS[scenario]
    tenant = seller_tenant(make_tenant)
    s = session_factory(engine)()
    s.info["tenant_id"] = tenant
    try:
        party = customer(s, tenant, **spec.get("party", {}))
        extra = {k: v for k, v in spec.items() if k in ("price_mode", "exemptions")}
        inv = booked_out(s, tenant, party, spec["lines"], **extra)
        if spec.get("reverse"):
            inv = reverse_invoice(s, tenant, inv.id, "Storno", reversal_date=DAY)
        ubl = render(s, tenant, inv.id, Target.XRECHNUNG_UBL)
        assert official_failures(ubl, "ubl") == []
        cii = render(s, tenant, inv.id, Target.XRECHNUNG_CII)
        # the Factur-X profile rules (FX-SCH-*) want a Factur-X guideline id, not XRechnung's
        assert [f for f in official_failures(cii, "cii") if not f.rule.startswith("FX-")] == []
        pdf = render(s, tenant, inv.id, Target.ZUGFERD)
        embedded = open_carrier(pdf, "zugferd.pdf")
        assert embedded.xml_name == "factur-x.xml" and embedded.xml is not None
        assert official_failures(embedded.xml, "cii") == []
    finally:
        s.rollback()
        s.close()
