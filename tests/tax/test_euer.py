"""Anlage EÜR scenarios with hand-computed lines; each test names the rule it checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from belegwerk.banking.classify import decide
from belegwerk.books.cash import CashEntryInput, create_cash_entry, set_opening_balance
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import Invoice
from belegwerk.core.db import session_factory
from belegwerk.core.errors import ValidationFailed
from belegwerk.tax.assets import AssetInput, create_asset, dispose_asset, set_pool_choice
from belegwerk.tax.euer import EuerReport, euer_report, line_detail
from tests.banking.classify_helpers import add_tx, make_account, make_batch
from tests.books.test_invoices import booked, ln, make_party
from tests.tax.test_cash_basis import cat, mixed_invoice, pay

D = Decimal


def kz(report: EuerReport) -> dict[str, Decimal]:
    """The filled lines by Kennzahl (sums included)."""
    return {line.kz: line.amount for line in report.filled()}


def cash(
    session: Session,
    tenant_id: int,
    day: date,
    key: str,
    amount: str,
    direction: str = "expense",
    **kw: object,
) -> None:
    create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=day,
            description=key,
            category_id=cat(session, key),
            direction=direction,
            amount=D(amount),
            **kw,  # type: ignore[arg-type]
        ),
    )


def bank(session: Session, tenant_id: int, day: date, amount: str, key: str) -> None:
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    tx = add_tx(session, tenant_id, batch, amount, "Finanzamt", key, day=day)
    if key in ("private_withdrawal", "private_deposit"):  # private money is a usage
        decide(session, tenant_id, tx.id, key, None)
    else:
        decide(session, tenant_id, tx.id, "business", cat(session, key))


def purchase(
    session: Session, tenant_id: int, price: str, key: str, issue: date, **kw: object
) -> Invoice:
    return booked(
        session,
        tenant_id,
        [LineInput(key, D(1), D(price), D(19), category_id=cat(session, key))],
        direction="in",
        issue=issue,
        **kw,
    )


def test_cash_principle_not_the_invoice_date(session: Session, tenant_id: int) -> None:
    """§ 11 EStG: income when received, expenses when paid, whatever the invoice date."""
    sale = booked(session, tenant_id, [ln("100.00")], issue=date(2025, 12, 15))
    pay(session, tenant_id, sale, date(2026, 1, 12), "119.00")
    advice = purchase(session, tenant_id, "500.00", "consulting", date(2025, 11, 3))
    pay(session, tenant_id, advice, date(2025, 12, 1), "595.00")
    assert kz(euer_report(session, tenant_id, 2025)) == {
        "159": D("0.00"),
        "194": D("500.00"),
        "185": D("95.00"),
        "199": D("595.00"),
        "219": D("-595.00"),
    }
    assert kz(euer_report(session, tenant_id, 2026)) == {
        "112": D("100.00"),
        "140": D("19.00"),
        "159": D("119.00"),
        "199": D("0.00"),
        "219": D("119.00"),
    }


def test_partial_payments_across_the_year_end(session: Session, tenant_id: int) -> None:
    """§ 11 EStG per payment: 500.00 of 1,546.66 (19 % and 7 %) in 2025, the rest in 2026; net
    and VAT split in proportion, cent-exact (largest remainder)."""
    inv = mixed_invoice(session, tenant_id, date(2025, 11, 20))
    pay(session, tenant_id, inv, date(2025, 12, 30), "500.00")
    pay(session, tenant_id, inv, date(2026, 2, 3), "1046.66")
    # 2025: 384.70 gross at 19 % (61.42 VAT) and 115.30 at 7 % (7.54 VAT)
    y2025 = kz(euer_report(session, tenant_id, 2025))
    assert (y2025["112"], y2025["140"], y2025["159"]) == (D("431.04"), D("68.96"), D("500.00"))
    y2026 = kz(euer_report(session, tenant_id, 2026))
    # the rest: net 1,333.33 - 431.04, VAT 213.33 - 68.96
    assert (y2026["112"], y2026["140"], y2026["159"]) == (D("902.29"), D("144.37"), D("1046.66"))


def test_ten_day_rule_for_regular_payments(session: Session, tenant_id: int) -> None:
    """§ 11 Abs. 2 Satz 2 EStG: the monthly rent of December, due and paid on 3 January, is an
    expense of December's year; January's rent, due and paid on 30 December, one of January's.
    A one-off invoice paid in the window stays in the year of payment."""
    landlord = make_party(session, tenant_id, "Vermieter GmbH")
    months = [
        # issue, supply, due, paid
        (date(2025, 11, 1), date(2025, 11, 1), date(2025, 11, 5), date(2025, 11, 3)),
        (date(2025, 12, 1), date(2025, 12, 1), date(2026, 1, 3), date(2026, 1, 3)),
        (date(2025, 12, 27), date(2026, 1, 1), date(2025, 12, 30), date(2025, 12, 30)),
    ]
    for issue, supply, due, paid in months:
        rent = purchase(
            session,
            tenant_id,
            "1000.00",
            "rent",
            issue,
            party_id=landlord,
            supply_date=supply,
            due_date=due,
        )
        pay(session, tenant_id, rent, paid, "1190.00")
    one_off = purchase(
        session,
        tenant_id,
        "200.00",
        "repairs",
        date(2025, 12, 20),
        party_id=make_party(session, tenant_id, "Handwerker"),
        due_date=date(2026, 1, 5),
    )
    pay(session, tenant_id, one_off, date(2026, 1, 5), "238.00")
    y2025 = euer_report(session, tenant_id, 2025)
    assert (kz(y2025)["150"], kz(y2025)["185"]) == (D("2000.00"), D("380.00"))  # Nov + Dec
    assert {(m.flow_date, m.to_year) for m in y2025.moves} == {
        (date(2026, 1, 3), 2025),
        (date(2025, 12, 30), 2026),
    }
    y2026 = kz(euer_report(session, tenant_id, 2026))
    assert y2026["150"] == D("1000.00")  # January's rent, paid in December
    assert y2026["225"] == D("200.00")  # the one-off repair stays in 2026
    detail = line_detail(session, tenant_id, 2025, "150")
    assert sum(r.amount for r in detail.rows) == D("2000.00")
    assert [r.moved_from for r in detail.rows if r.moved_from] == [2026]


def test_vat_prepayment_paid_by_10_january_counts_for_the_year_before(
    session: Session, tenant_id: int
) -> None:
    """§ 11 Abs. 2 Satz 2 EStG (BFH X R 2/21): the USt-Vorauszahlung for Q4 due and paid by
    10 January is an expense of the old year (Kz 186); a refund is income (Kz 141)."""
    bank(session, tenant_id, date(2025, 10, 9), "-300.00", "vat_payment")
    bank(session, tenant_id, date(2026, 1, 9), "-450.00", "vat_payment")
    bank(session, tenant_id, date(2026, 2, 10), "-120.00", "vat_payment")
    bank(session, tenant_id, date(2026, 3, 20), "80.00", "vat_payment")
    y2025 = kz(euer_report(session, tenant_id, 2025))
    assert y2025["186"] == D("750.00")
    y2026 = kz(euer_report(session, tenant_id, 2026))
    assert (y2026["186"], y2026["141"]) == (D("120.00"), D("80.00"))


def test_private_money_stays_out_of_the_profit(session: Session, tenant_id: int) -> None:
    """§ 4 Abs. 1 EStG: Entnahmen and Einlagen are no income or expense; they are reported as
    additional information (Kz 122/123)."""
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("1000.00"))
    cash(session, tenant_id, date(2026, 2, 1), "revenue_19", "238.00", "income")
    cash(session, tenant_id, date(2026, 2, 2), "private_withdrawal", "300.00")
    bank(session, tenant_id, date(2026, 2, 3), "1500.00", "private_deposit")
    bank(session, tenant_id, date(2026, 2, 4), "-500.00", "cash_transit")
    bank(session, tenant_id, date(2026, 2, 5), "-400.00", "loan_repayment")
    lines = kz(euer_report(session, tenant_id, 2026))
    assert lines == {
        "112": D("200.00"),
        "140": D("38.00"),
        "159": D("238.00"),
        "199": D("0.00"),
        "219": D("238.00"),
        "122": D("300.00"),
        "123": D("1500.00"),
    }


def test_vat_received_and_paid_are_income_and_expense(session: Session, tenant_id: int) -> None:
    """Gross method of the EÜR: VAT received is income (Kz 140), input VAT paid and VAT paid to
    the Finanzamt are expenses (Kz 185, 186); together they leave the net profit."""
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("100.00"))
    cash(session, tenant_id, date(2026, 4, 1), "revenue_19", "119.00", "income")
    cash(
        session, tenant_id, date(2026, 4, 2), "office_supplies", "59.50", input_vat_deductible=True
    )
    bank(session, tenant_id, date(2026, 5, 10), "-9.50", "vat_payment")
    report = euer_report(session, tenant_id, 2026)
    assert kz(report) == {
        "112": D("100.00"),
        "140": D("19.00"),
        "159": D("119.00"),
        "183": D("50.00"),
        "185": D("9.50"),
        "186": D("9.50"),
        "199": D("69.00"),
        "219": D("50.00"),
    }
    assert report.profit == D("100.00") - D("50.00")


def test_business_meals_are_70_percent_deductible(session: Session, tenant_id: int) -> None:
    """§ 4 Abs. 5 Satz 1 Nr. 2 EStG: 70 % of a business meal is deductible (Kz 175), 30 % is
    not (Kz 165, outside the sum); the input VAT is deductible in full (Kz 185)."""
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("500.00"))
    cash(session, tenant_id, date(2026, 6, 1), "entertainment", "119.00", input_vat_deductible=True)
    lines = kz(euer_report(session, tenant_id, 2026))
    assert (lines["175"], lines["165"], lines["185"]) == (D("70.00"), D("30.00"), D("19.00"))
    assert lines["199"] == D("89.00")
    detail = line_detail(session, tenant_id, 2026, "165")
    assert [r.amount for r in detail.rows] == [D("100.00")] and detail.note


def test_depreciation_lines_come_from_the_register(session: Session, tenant_id: int) -> None:
    """§ 4 Abs. 3 Satz 3 EStG: paying for an investment is no expense (only its VAT is); the
    register gives linear AfA by month (Kz 130), GWG (Kz 132), the Sammelposten (Kz 137) and on
    a sale the Restbuchwert (Kz 135), while the sale price is income (Kz 102)."""
    laptop_invoice = purchase(session, tenant_id, "1500.00", "investment", date(2025, 7, 15))
    pay(session, tenant_id, laptop_invoice, date(2025, 7, 20), "1785.00")
    (offer_posting,) = [p for p in laptop_invoice_postings(session, tenant_id, laptop_invoice.id)]
    laptop = create_asset(
        session,
        tenant_id,
        AssetInput(
            "Notebook",
            date(2025, 7, 15),
            "1500.00",
            asset_type="computer",
            posting_id=offer_posting,
        ),
    ).asset
    assert laptop.invoice_id == laptop_invoice.id
    create_asset(session, tenant_id, AssetInput("Bürostuhl", date(2025, 9, 1), "700.00", 156))
    y2025 = euer_report(session, tenant_id, 2025)
    assert (kz(y2025)["130"], kz(y2025)["132"], kz(y2025)["185"]) == (
        D("250.00"),
        D("700.00"),
        D("285.00"),
    )
    assert y2025.investments == D("1500.00")
    assert kz(y2025)["199"] == D("1235.00")
    set_pool_choice(session, tenant_id, 2026, True)
    create_asset(session, tenant_id, AssetInput("Regal", date(2026, 2, 1), "500.00", 156))
    dispose_asset(session, tenant_id, laptop.id, "sale", date(2026, 3, 10), "900.00")
    bank(session, tenant_id, date(2026, 3, 10), "1071.00", "asset_sale")
    y2026 = kz(euer_report(session, tenant_id, 2026))
    assert y2026["130"] == D("125.00")  # July 2025 – March 2026: 9 of 36 months
    assert y2026["135"] == D("1125.00")
    assert y2026["137"] == D("100.00")
    assert (y2026["102"], y2026["140"]) == (D("900.00"), D("171.00"))
    detail = line_detail(session, tenant_id, 2026, "130")
    assert [(a.name, a.amount) for a in detail.assets] == [("Notebook", D("125.00"))]


def laptop_invoice_postings(session: Session, tenant_id: int, invoice_id: int) -> list[int]:
    from tests.tax.test_cash_basis import invoice_postings

    inv = session.get(Invoice, invoice_id)
    assert inv is not None
    return [p.id for p in invoice_postings(session, tenant_id, inv)]


def test_small_business_year(make_tenant: Callable[..., int], engine: Engine) -> None:
    """§ 19 UStG: a Kleinunternehmer's receipts go to Kz 111 in full, input VAT is part of the
    expense (no Kz 140/185)."""
    tenant_id = make_tenant(vat_regime="small_business", chart="skr04")
    session = session_factory(engine)()
    session.info["tenant_id"] = tenant_id
    try:
        set_opening_balance(session, tenant_id, date(2026, 1, 1), D("100.00"))
        cash(session, tenant_id, date(2026, 3, 1), "revenue_19", "1000.00", "income")
        cash(session, tenant_id, date(2026, 3, 2), "office_supplies", "119.00")
        inv = booked(session, tenant_id, [ln("400.00", "0")], issue=date(2026, 3, 5))
        pay(session, tenant_id, inv, date(2026, 3, 9), "400.00")
        report = euer_report(session, tenant_id, 2026)
        assert report.small_business
        assert kz(report) == {
            "111": D("1400.00"),
            "159": D("1400.00"),
            "183": D("119.00"),
            "199": D("119.00"),
            "219": D("1281.00"),
        }
    finally:
        session.rollback()
        session.close()


def test_drill_down_adds_up_to_every_line(session: Session, tenant_id: int) -> None:
    inv = mixed_invoice(session, tenant_id, date(2026, 1, 10))
    pay(session, tenant_id, inv, date(2026, 1, 20), "600.00")
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("100.00"))
    cash(session, tenant_id, date(2026, 1, 21), "revenue_19", "11.90", "income")
    report = euer_report(session, tenant_id, 2026)
    for line in report.filled():
        detail = line_detail(session, tenant_id, 2026, line.kz)
        if line.is_sum:
            assert detail.parts or not line.amount
            continue
        assert sum(r.amount for r in detail.rows) + sum(a.amount for a in detail.assets) == (
            line.amount
        ), line.kz
    rows = line_detail(session, tenant_id, 2026, "112").rows
    assert {r.source_type for r in rows} == {"invoice", "cash_entry"}
    assert all(r.posting_id for r in rows)


def test_checks_flag_what_is_missing(session: Session, tenant_id: int) -> None:
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("100.00"))
    cash(session, tenant_id, date(2026, 1, 5), "loan_repayment", "10.00")  # no Kz, no warning
    purchase(session, tenant_id, "900.00", "investment", date(2026, 1, 6))
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    add_tx(session, tenant_id, batch, "-12.00", "Unbekannt", "?", day=date(2026, 1, 7))
    codes = {n.code for n in euer_report(session, tenant_id, 2026).notices}
    assert {"euer.investments_not_registered", "euer.open_bank_lines"} <= codes
    assert "euer.category_without_kz" not in codes


@pytest.mark.parametrize(
    ("year", "code"),
    [
        (1800, "year.invalid"),
        ("zwanzig", "euer.invalid_year"),
        (date.today().year + 1, "euer.future_year"),
        (2024, "euer.before_books"),
    ],
)
def test_impossible_years_are_refused(
    session: Session, tenant_id: int, year: object, code: str
) -> None:
    set_opening_balance(session, tenant_id, date(2025, 1, 1), D("100.00"))
    cash(session, tenant_id, date(2025, 3, 1), "revenue_19", "10.00", "income")
    with pytest.raises(ValidationFailed) as exc:
        euer_report(session, tenant_id, year)
    assert exc.value.code == code
    assert exc.value.message


def test_a_year_without_a_form_and_a_year_after_the_last_form(
    session: Session, tenant_id: int
) -> None:
    set_opening_balance(session, tenant_id, date(2023, 1, 1), D("100.00"))
    cash(session, tenant_id, date(2023, 3, 1), "revenue_19", "10.00", "income")
    with pytest.raises(ValidationFailed) as exc:
        euer_report(session, tenant_id, 2023)
    assert exc.value.code == "euer.form_missing"
    report = euer_report(session, tenant_id, 2026)
    assert report.form_year == 2025
    assert "euer.form_of_earlier_year" in {n.code for n in report.notices}
    with pytest.raises(ValidationFailed) as unknown:
        line_detail(session, tenant_id, 2026, "999")
    assert unknown.value.code == "euer.unknown_kz"


def test_reverse_charge_moves_no_money(session: Session, tenant_id: int) -> None:
    """§ 13b UStG in the EÜR: the recipient's self-assessed VAT and its input VAT deduction move
    no money, so only the net payment to the supplier is an expense (RechnungsFee #307)."""
    from tests.books.test_vat_treatment import line, party

    supplier = party(session, tenant_id, "IE", "IE6388047V")
    ads = booked(
        session,
        tenant_id,
        [line("AE", "250.00", category_id=cat(session, "advertising"))],
        direction="in",
        party_id=supplier,
        issue=date(2026, 3, 2),
    )
    pay(session, tenant_id, ads, date(2026, 3, 9), "250.00")
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    tx = add_tx(session, tenant_id, batch, "-40.00", "Google Ireland", "Ads", day=date(2026, 3, 10))
    decide(session, tenant_id, tx.id, "business", cat(session, "advertising"), vat_category="AE")
    report = euer_report(session, tenant_id, 2026)
    assert kz(report) == {
        "159": D("0.00"),
        "224": D("290.00"),
        "199": D("290.00"),
        "219": D("-290.00"),
    }
    assert "euer.uncategorised" not in {n.code for n in report.notices}
    assert ads.gross_total == D("250.00")
    from belegwerk.tax.cash_basis import cash_items

    flows = cash_items(session, tenant_id, date(2026, 3, 1), date(2026, 3, 31))
    assert [(i.amount, i.tax_amount) for i in flows] == [
        (D("250.00"), D("0.00")),
        (D("40.00"), D("0.00")),
    ]
