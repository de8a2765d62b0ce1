"""VAT treatments in the books: EN 16931 category code + direction + country decide the
posting treatment, the revenue account, the DATEV BU-Schlüssel and the self-assessed tax."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking.bank_postings import open_postings
from belegwerk.banking.classify import decide
from belegwerk.books import vat_treatment as vt
from belegwerk.books.cash import CashEntryInput, create_cash_entry, set_opening_balance
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import (
    InvoiceInput,
    book_invoice,
    create_draft,
    reverse_invoice,
    tax_totals,
)
from belegwerk.books.models import Category, InvoiceLine, Party, Posting
from belegwerk.core.db import session_factory
from belegwerk.core.errors import ValidationFailed
from tests.banking.classify_helpers import add_tx, cat, make_account, make_batch

D = Decimal
DAY = date(2026, 3, 10)


def party(session: Session, tenant_id: int, country: str = "DE", vat_id: str = "") -> int:
    p = Party(
        tenant_id=tenant_id,
        name=f"Partner {country}",
        is_customer=True,
        is_supplier=True,
        country=country,
        vat_id=vat_id,
    )
    session.add(p)
    session.flush()
    return p.id


def line(
    code: str, price: str = "100.00", rate: str = "0", category_id: int | None = None
) -> LineInput:
    return LineInput(
        description="Leistung",
        quantity=D(1),
        unit_price=D(price),
        vat_rate=D(rate),
        category_id=category_id,
        vat_category=code,
    )


def booked(
    session: Session,
    tenant_id: int,
    lines: list[LineInput],
    *,
    direction: str = "out",
    party_id: int | None = None,
    **kw: Any,
) -> int:
    inv = create_draft(
        session,
        tenant_id,
        InvoiceInput(direction=direction, issue_date=DAY, lines=lines, party_id=party_id, **kw),
    )
    book_invoice(session, tenant_id, inv.id)
    return inv.id


def rows(session: Session, tenant_id: int, source_id: int) -> list[Posting]:
    return list(
        session.scalars(
            select(Posting)
            .where(
                Posting.tenant_id == tenant_id,
                Posting.source_type == "invoice",
                Posting.source_id == source_id,
            )
            .order_by(Posting.id)
        )
    )


def shape(p: Posting) -> tuple[Any, ...]:
    return (
        p.debit_account,
        p.credit_account,
        p.amount,
        p.tax_amount,
        p.tax_account,
        p.tax_key,
        p.vat_treatment,
        p.self_assessed,
    )


@pytest.mark.parametrize(
    ("code", "country", "vat_id", "account", "treatment", "reason_code"),
    [
        # § 4 Nr. 1b UStG: tax-free intra-community supply → DATEV 8125, UStVA Kz 41, ZM
        ("K", "FR", "FR40303265045", "8125", vt.OUT_IC_SUPPLY, "VATEX-EU-IC"),
        # § 3a Abs. 2 UStG: B2B service to an EU customer, place of supply abroad → 8336, Kz 21
        ("AE", "AT", "ATU13585627", "8336", vt.OUT_EU_SERVICE, "VATEX-EU-AE"),
        # § 13b Abs. 2 UStG domestic: the German customer owes the tax → 8337, Kz 60
        ("AE", "DE", "", "8337", vt.OUT_RC_DOMESTIC, "VATEX-EU-AE"),
        # § 4 Nr. 1a UStG export → 8120, Kz 43
        ("G", "US", "", "8120", vt.OUT_EXPORT, "VATEX-EU-G"),
        # service to a non-EU business, not taxable in Germany → 8338, Kz 45
        ("O", "CH", "", "8338", vt.OUT_NON_TAXABLE, "VATEX-EU-O"),
    ],
)
def test_tax_free_sales_go_to_their_automatic_revenue_account(
    session: Session,
    tenant_id: int,
    code: str,
    country: str,
    vat_id: str,
    account: str,
    treatment: str,
    reason_code: str,
) -> None:
    pid = party(session, tenant_id, country, vat_id)
    inv_id = booked(session, tenant_id, [line(code)], party_id=pid)
    (p,) = rows(session, tenant_id, inv_id)
    assert shape(p) == ("1400", account, D("100.00"), D("0.00"), None, "", treatment, False)
    (total,) = tax_totals(session, tenant_id, inv_id)
    assert (total.vat_category, total.exemption_reason_code) == (code, reason_code)
    assert total.exemption_reason  # BT-120 printed on the invoice
    stored = session.scalar(select(InvoiceLine).where(InvoiceLine.invoice_id == inv_id))
    assert stored is not None and stored.vat_category == code


def test_standard_sale_keeps_the_rate_boxes(session: Session, tenant_id: int) -> None:
    pid = party(session, tenant_id)
    inv_id = booked(
        session, tenant_id, [line("", "100.00", "19"), line("S", "50.00", "7")], party_id=pid
    )
    got = {
        (p.credit_account, p.vat_treatment, p.tax_amount) for p in rows(session, tenant_id, inv_id)
    }
    assert got == {("8400", vt.OUT_STANDARD, D("19.00")), ("8300", vt.OUT_STANDARD, D("3.50"))}
    assert {(t.vat_category, t.vat_rate) for t in tax_totals(session, tenant_id, inv_id)} == {
        ("S", D("19.00")),
        ("S", D("7.00")),
    }


@pytest.mark.parametrize(
    ("lines", "country", "vat_id", "code"),
    [
        ([line("AE", rate="19")], "AT", "ATU13585627", "vat.category_needs_zero_rate"),
        ([line("S", rate="0")], "DE", "", "vat.standard_needs_rate"),
        ([line("K")], "FR", "", "vat.ic_needs_vat_id"),  # § 6a Abs. 1 Nr. 2 UStG
        ([line("K")], "DE", "DE123456789", "vat.ic_needs_eu_party"),
        ([line("X")], "DE", "", "vat.unknown_category"),
        ([line("E")], "DE", "", "vat.exemption_reason_missing"),  # § 14 Abs. 4 Nr. 8 UStG
    ],
)
def test_bad_treatments_are_refused_in_german(
    session: Session,
    tenant_id: int,
    lines: list[LineInput],
    country: str,
    vat_id: str,
    code: str,
) -> None:
    pid = party(session, tenant_id, country, vat_id)
    with pytest.raises(ValidationFailed) as err:
        create_draft(
            session,
            tenant_id,
            InvoiceInput(direction="out", issue_date=DAY, lines=lines, party_id=pid),
        )
    assert err.value.code == code
    field = str(err.value.details[0].get("field", "")) if err.value.details else ""
    assert field.startswith(("lines[0]", "exemptions."))


def test_exempt_sale_with_reason(session: Session, tenant_id: int) -> None:
    pid = party(session, tenant_id)
    inv_id = booked(
        session,
        tenant_id,
        [line("E")],
        party_id=pid,
        exemptions={"E": ("VATEX-EU-132-1C", "Steuerfrei nach § 4 Nr. 14 UStG")},
    )
    (p,) = rows(session, tenant_id, inv_id)
    assert (p.credit_account, p.vat_treatment) == ("8100", vt.OUT_EXEMPT)
    (t,) = tax_totals(session, tenant_id, inv_id)
    assert (t.exemption_reason, t.exemption_reason_code) == (
        "Steuerfrei nach § 4 Nr. 14 UStG",
        "VATEX-EU-132-1C",
    )


def test_reverse_charge_purchase_from_an_eu_supplier(session: Session, tenant_id: int) -> None:
    """§ 13b Abs. 1 UStG: the recipient owes 19 % on the net and deducts it as input VAT
    (§ 15 Abs. 1 Nr. 4); DATEV gets the net amount with BU-Schlüssel 94 on the expense account
    and computes both taxes itself."""
    pid = party(session, tenant_id, "IE", "IE6388047V")
    ads = cat(session, "advertising")
    inv_id = booked(
        session, tenant_id, [line("AE", "250.00", category_id=ads)], direction="in", party_id=pid
    )
    base, tax = rows(session, tenant_id, inv_id)
    assert shape(base) == ("4600", "1600", D("250.00"), D("0.00"), None, "94", vt.IN_RC_EU, False)
    assert base.tax_rate == D("19.00")
    assert shape(tax) == ("1577", "1787", D("47.50"), D("47.50"), "1577", "", vt.IN_RC_EU, True)


def test_reverse_charge_purchase_from_outside_the_eu(session: Session, tenant_id: int) -> None:
    """§ 13b Abs. 2 Nr. 1 UStG (supplier abroad, outside the EU): UStVA Kz 84/85."""
    pid = party(session, tenant_id, "US")
    inv_id = booked(
        session,
        tenant_id,
        [line("AE", "100.00", category_id=cat(session, "telecom"))],
        direction="in",
        party_id=pid,
    )
    base, tax = rows(session, tenant_id, inv_id)
    assert (base.vat_treatment, tax.vat_treatment, tax.amount) == (
        vt.IN_RC_OTHER,
        vt.IN_RC_OTHER,
        D("19.00"),
    )


def test_intra_community_acquisition_at_the_reduced_rate(session: Session, tenant_id: int) -> None:
    """§ 1a UStG: goods from an EU supplier; the category's 7 % applies (Kz 93 + Kz 61)."""
    pid = party(session, tenant_id, "NL", "NL859048288B01")
    goods = cat(session, "goods_purchase_7")
    inv_id = booked(
        session, tenant_id, [line("K", "1000.00", category_id=goods)], direction="in", party_id=pid
    )
    base, tax = rows(session, tenant_id, inv_id)
    assert shape(base) == (
        "3300",
        "1600",
        D("1000.00"),
        D("0.00"),
        None,
        "18",
        vt.IN_IC_ACQUISITION,
        False,
    )
    assert shape(tax) == (
        "1572",
        "1772",
        D("70.00"),
        D("70.00"),
        "1572",
        "",
        vt.IN_IC_ACQUISITION,
        True,
    )


def test_small_business_owes_reverse_charge_without_deduction(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    """A Kleinunternehmer still owes § 13b tax (§ 13b Abs. 8 UStG) but may not deduct it
    (§ 19 Abs. 1 Satz 4 UStG): the tax is an expense, BU-Schlüssel 95."""
    tid = make_tenant(chart="skr03", vat_regime="small_business")
    session.info["tenant_id"] = tid
    pid = party(session, tid, "IE")
    inv_id = booked(
        session,
        tid,
        [line("AE", "100.00", category_id=cat(session, "advertising"))],
        direction="in",
        party_id=pid,
    )
    base, tax = rows(session, tid, inv_id)
    assert base.tax_key == "95"
    assert shape(tax) == ("4600", "1787", D("19.00"), D("19.00"), None, "", vt.IN_RC_EU, True)


def test_small_business_sales_are_exempt(session: Session, make_tenant: Callable[..., int]) -> None:
    tid = make_tenant(chart="skr03", vat_regime="small_business")
    session.info["tenant_id"] = tid
    pid = party(session, tid)
    inv_id = booked(session, tid, [line("")], party_id=pid)
    (p,) = rows(session, tid, inv_id)
    assert (p.credit_account, p.vat_treatment) == ("8195", vt.OUT_SMALL_BUSINESS)
    (t,) = tax_totals(session, tid, inv_id)
    assert (t.vat_category, t.exemption_reason) == ("E", vt.SMALL_BUSINESS_REASON)
    with pytest.raises(ValidationFailed) as err:
        create_draft(
            session,
            tid,
            InvoiceInput(direction="out", issue_date=DAY, lines=[line("AE")], party_id=pid),
        )
    assert err.value.code == "vat.small_business_exempt"


def test_reversal_mirrors_the_self_assessed_tax(session: Session, tenant_id: int) -> None:
    pid = party(session, tenant_id, "IE")
    inv_id = booked(
        session,
        tenant_id,
        [line("AE", "100.00", category_id=cat(session, "advertising"))],
        direction="in",
        party_id=pid,
    )
    rev = reverse_invoice(session, tenant_id, inv_id, "falsch erfasst")
    got = [shape(p) for p in rows(session, tenant_id, rev.id)]
    assert got == [
        ("1600", "4600", D("100.00"), D("0.00"), None, "94", vt.IN_RC_EU, False),
        ("1787", "1577", D("19.00"), D("19.00"), "1577", "", vt.IN_RC_EU, True),
    ]
    assert {t.vat_category for t in tax_totals(session, tenant_id, rev.id)} == {"AE"}


def test_bank_line_paid_to_a_foreign_supplier_is_reverse_charge(
    session: Session, tenant_id: int
) -> None:
    """Google Ads paid by direct debit without an invoice in the books: AE on the bank line;
    the supplier's country comes from its IBAN."""
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    tx = add_tx(
        session,
        tenant_id,
        batch,
        "-300.00",
        "Google Ireland Ltd",
        "Ads",
        iban="IE29AIBK93115212345678",
    )
    decide(session, tenant_id, tx.id, "business", cat(session, "advertising"), vat_category="AE")
    base, tax = open_postings(session, tenant_id, tx.id)
    assert shape(base) == ("4600", "1200", D("300.00"), D("0.00"), None, "94", vt.IN_RC_EU, False)
    assert shape(tax) == ("1577", "1787", D("57.00"), D("57.00"), "1577", "", vt.IN_RC_EU, True)
    # the decision changes back to an ordinary domestic expense: storno plus new posting
    decide(session, tenant_id, tx.id, "business", cat(session, "advertising"), vat_category="S")
    (only,) = open_postings(session, tenant_id, tx.id)
    assert (only.vat_treatment, only.tax_amount) == (vt.IN_STANDARD, D("47.90"))


def test_bank_line_rejects_unknown_codes(session: Session, tenant_id: int) -> None:
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    tx = add_tx(session, tenant_id, batch, "-10.00", "X", "Y")
    with pytest.raises(ValidationFailed) as err:
        decide(session, tenant_id, tx.id, "business", cat(session, "advertising"), vat_category="K")
    assert err.value.code == "vat.unknown_category"


def test_cash_entry_not_taxable(session: Session, tenant_id: int) -> None:
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("500.00"))
    entry = create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=DAY,
            description="Parkgebühr Ausland",
            category_id=cat(session, "travel_transport"),
            direction="expense",
            amount=D("12.00"),
            vat_rate=D(0),
            vat_category="O",
        ),
    )
    assert entry.vat_category == "O"
    with pytest.raises(ValidationFailed) as err:
        create_cash_entry(
            session,
            tenant_id,
            CashEntryInput(
                entry_date=DAY,
                description="x",
                category_id=cat(session, "travel_transport"),
                direction="expense",
                amount=D("12.00"),
                vat_category="AE",
            ),
        )
    assert err.value.code == "vat.unknown_category"


def test_api_lines_carry_the_category(client: Any, engine: Any, tenant_id: int) -> None:
    with session_factory(engine)() as s:
        s.info["tenant_id"] = tenant_id
        pid = party(s, tenant_id, "AT", "ATU13585627")
        s.commit()
    body = {
        "direction": "out",
        "issue_date": "2026-03-10",
        "party_id": pid,
        "lines": [
            {"description": "Beratung", "unit_price": "500", "vat_rate": "0", "vat_category": "AE"}
        ],
    }
    res = client.post("/api/v1/invoices", json=body)
    assert res.status_code == 201, res.text
    data = res.json()
    assert data["lines"][0]["vat_category"] == "AE"
    assert data["tax_totals"][0]["exemption_reason_code"] == "VATEX-EU-AE"
    bad = client.post(
        "/api/v1/invoices",
        json={**body, "lines": [{**body["lines"][0], "vat_rate": "19"}]},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "vat.category_needs_zero_rate"
    assert "0 %" in bad.json()["error"]["message"]


def test_new_revenue_categories_have_both_accounts(session: Session) -> None:
    for key in vt.REVENUE_CATEGORY.values():
        c: Category = category_by_key(session, key)
        assert c.skr03_account and c.skr04_account and c.euer_kz == "103"
