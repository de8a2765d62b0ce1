from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books import invoices
from belegwerk.books.invoice_calc import (
    LineInput,
    compute,
    distribute,
    parse_scaled,
)
from belegwerk.books.invoices import (
    SMALL_BUSINESS_NOTE,
    InvoiceInput,
    book_invoice,
    book_invoices_bulk,
    correct_invoice,
    create_draft,
    delete_draft,
    list_invoices,
    reverse_invoice,
    update_draft,
)
from belegwerk.books.models import Invoice, InvoiceLine, InvoiceTaxTotal, Party, Posting
from belegwerk.books.vat import parse_rate
from belegwerk.core.audit import verify_chain
from belegwerk.core.db import session_factory, tenant_session
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed

D = Decimal
DAY = date(2026, 3, 10)


def ln(
    price: str = "100.00",
    rate: str = "19",
    qty: str = "1",
    desc: str = "Beratung",
    category_id: int | None = None,
    unit: str = "C62",
) -> LineInput:
    return LineInput(
        description=desc,
        quantity=D(qty),
        unit_price=D(price),
        vat_rate=D(rate),
        unit=unit,
        category_id=category_id,
    )


def make_party(session: Session, tenant_id: int, name: str = "Kunde GmbH") -> int:
    party = Party(tenant_id=tenant_id, name=name, is_customer=True, is_supplier=True)
    session.add(party)
    session.flush()
    return party.id


def inp(
    lines: Sequence[LineInput],
    *,
    direction: str = "out",
    party_id: int | None = None,
    issue: date = DAY,
    **kw: Any,
) -> InvoiceInput:
    return InvoiceInput(
        direction=direction, issue_date=issue, lines=list(lines), party_id=party_id, **kw
    )


def postings(session: Session, tenant_id: int, source_id: int) -> list[Posting]:
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


def booked(session: Session, tenant_id: int, lines: Sequence[LineInput], **kw: Any) -> Invoice:
    if kw.get("direction", "out") == "out" and "party_id" not in kw:
        kw["party_id"] = make_party(session, tenant_id)
    inv = create_draft(session, tenant_id, inp(lines, **kw))
    return book_invoice(session, tenant_id, inv.id)


def acct(session: Session, key: str, chart: str = "skr03") -> str:
    """A master category's account (the category table is maintained elsewhere)."""
    from belegwerk.books.categories import category_by_key

    return str(getattr(category_by_key(session, key), f"{chart}_account"))


# --------------------------------------------------------------------------- pure arithmetic


def test_vat_is_rounded_once_per_rate_not_per_line() -> None:
    # the brief's example: 3 × 0.10 net at 19 % → 0.06 VAT for the rate
    result = compute([ln("0.10"), ln("0.10"), ln("0.10")])
    assert [(r.rate, r.net, r.vat, r.gross) for r in result.rates] == [
        (D("19.00"), D("0.30"), D("0.06"), D("0.36"))
    ]
    # where per-line rounding would differ: 3 × 0.10 at 7 % is 0.021 → 0.02 (per line: 0.03)
    result = compute([ln("0.10", "7")] * 3)
    assert result.vat == D("0.02")
    assert [x.vat for x in result.lines] == [D("0.01"), D("0.01"), D("0.00")]
    assert sum(x.gross for x in result.lines) == result.gross == D("0.32")
    # 3 × 0.02 at 19 %: 0.0114 → 0.01 (per line: 0.00)
    assert compute([ln("0.02")] * 3).vat == D("0.01")


def test_gross_mode_splits_per_rate() -> None:
    result = compute([ln("119.00")], "gross")
    assert (result.net, result.vat, result.gross) == (D("100.00"), D("19.00"), D("119.00"))
    result = compute([ln("10.00")] * 3, "gross")  # 30.00 gross → 25.21 + 4.79
    assert (result.net, result.vat, result.gross) == (D("25.21"), D("4.79"), D("30.00"))
    assert sum(x.net for x in result.lines) == D("25.21")


def test_mixed_rates_have_per_rate_totals() -> None:
    result = compute([ln("100.00", "19"), ln("50.00", "7"), ln("10.00", "0"), ln("0.99", "7")])
    assert [(r.rate, r.net, r.vat, r.gross) for r in result.rates] == [
        (D("19.00"), D("100.00"), D("19.00"), D("119.00")),
        (D("7.00"), D("50.99"), D("3.57"), D("54.56")),
        (D("0.00"), D("10.00"), D("0.00"), D("10.00")),
    ]
    assert (result.net, result.vat, result.gross) == (D("160.99"), D("22.57"), D("183.56"))


def test_quantity_and_unit_price_with_four_places() -> None:
    result = compute([ln("0.1234", qty="2.5")])  # 0.3085 → 0.31
    assert result.net == D("0.31")
    assert result.vat == D("0.06")


def test_distribute_is_exact_with_signed_weights() -> None:
    assert distribute(D("0.02"), [D("0.10")] * 3) == [D("0.01"), D("0.01"), D("0.00")]
    shares = distribute(D("1.90"), [D("20.00"), D("-10.00")])
    assert sum(shares) == D("1.90")
    assert shares == [D("3.80"), D("-1.90")]


def test_parsing_quantities_and_rates() -> None:
    assert parse_scaled("1.2345", "q") == D("1.2345")
    assert parse_scaled(2, "q") == D("2.0000")
    with pytest.raises(ValidationFailed) as exc:
        parse_scaled("1.23456", "lines[0].quantity")
    assert exc.value.code == "money.too_many_decimals"
    assert exc.value.details[0]["field"] == "lines[0].quantity"
    with pytest.raises(ValidationFailed) as exc:
        parse_scaled("zwei", "q")
    assert exc.value.code == "money.not_a_number"
    with pytest.raises(ValidationFailed) as exc:
        parse_rate("neunzehn")
    assert exc.value.code == "vat.unknown_rate"


# --------------------------------------------------------------------------- drafts and booking


@pytest.mark.parametrize(
    ("chart", "receivables", "revenue", "output_vat"),
    [("skr03", "1400", "8400", "1776"), ("skr04", "1200", "4400", "3806")],
)
def test_book_outgoing_invoice_posts_receivable_to_revenue(
    make_tenant: Callable[..., int],
    engine: Engine,
    chart: str,
    receivables: str,
    revenue: str,
    output_vat: str,
) -> None:
    tenant_id = make_tenant(chart=chart)
    with tenant_session(tenant_id, engine) as session:
        party = make_party(session, tenant_id)
        draft = create_draft(session, tenant_id, inp([ln("100.00")], party_id=party))
        assert draft.status == "draft" and draft.number is None
        inv = book_invoice(session, tenant_id, draft.id)
        assert inv.status == "booked" and inv.booked_at is not None
        assert inv.number == "RE-2026-00001"
        rows = postings(session, tenant_id, inv.id)
        assert [
            (p.debit_account, p.credit_account, p.amount, p.net_amount, p.tax_amount) for p in rows
        ] == [(receivables, revenue, D("119.00"), D("100.00"), D("19.00"))]
        assert rows[0].tax_account == output_vat
        assert rows[0].posting_date == DAY
        assert rows[0].voucher == "RE-2026-00001"
        assert verify_chain(session, tenant_id) == []


@pytest.mark.parametrize(
    ("chart", "payables", "input_vat"),
    [("skr03", "1600", "1576"), ("skr04", "3300", "1406")],
)
def test_book_incoming_invoice_posts_expense_to_payables(
    make_tenant: Callable[..., int],
    engine: Engine,
    chart: str,
    payables: str,
    input_vat: str,
) -> None:
    tenant_id = make_tenant(chart=chart)
    with tenant_session(tenant_id, engine) as session:
        expense = acct(session, "other_expense", chart)
        draft = create_draft(
            session,
            tenant_id,
            inp([ln("50.00")], direction="in", external_number="L-4711"),
        )
        inv = book_invoice(session, tenant_id, draft.id)
        assert inv.number == "ER-2026-00001"
        assert inv.external_number == "L-4711"
        (p,) = postings(session, tenant_id, inv.id)
        assert (p.debit_account, p.credit_account, p.amount, p.tax_amount, p.tax_account) == (
            expense,
            payables,
            D("59.50"),
            D("9.50"),
            input_vat,
        )


def test_mixed_rates_post_one_line_per_category_and_rate(session: Session, tenant_id: int) -> None:
    inv = booked(session, tenant_id, [ln("100.00", "19"), ln("20.00", "7"), ln("5.00", "7")])
    assert (inv.net_total, inv.vat_total, inv.gross_total) == (D("125.00"), D("20.75"), D("145.75"))
    rows = postings(session, tenant_id, inv.id)
    assert sorted((p.credit_account, p.amount, p.tax_amount, p.tax_account) for p in rows) == [
        ("8300", D("26.75"), D("1.75"), "1771"),
        ("8400", D("119.00"), D("19.00"), "1776"),
    ]
    totals = invoices.tax_totals(session, tenant_id, inv.id)
    assert [(t.vat_rate, t.net, t.vat, t.gross) for t in totals] == [
        (D("19.00"), D("100.00"), D("19.00"), D("119.00")),
        (D("7.00"), D("25.00"), D("1.75"), D("26.75")),
    ]
    lines = invoices.invoice_lines(session, tenant_id, inv.id)
    assert [(x.position, x.unit, x.quantity) for x in lines] == [
        (1, "C62", D("1.0000")),
        (2, "C62", D("1.0000")),
        (3, "C62", D("1.0000")),
    ]


def test_gross_mode_invoice(session: Session, tenant_id: int) -> None:
    inv = booked(session, tenant_id, [ln("119.00")], price_mode="gross")
    assert (inv.net_total, inv.vat_total, inv.gross_total) == (D("100.00"), D("19.00"), D("119.00"))
    (line,) = invoices.invoice_lines(session, tenant_id, inv.id)
    assert (line.net, line.vat, line.gross) == (D("100.00"), D("19.00"), D("119.00"))


def test_explicit_category_and_discount_line(session: Session, tenant_id: int) -> None:
    from belegwerk.books.categories import category_by_key

    other = category_by_key(session, "other_income").id
    inv = booked(
        session,
        tenant_id,
        [
            ln("100.00"),
            ln("30.00", category_id=other),
            ln("-10.00", desc="Rabatt", category_id=other),
        ],
    )
    assert inv.gross_total == D("142.80")
    rows = postings(session, tenant_id, inv.id)
    assert sum(p.amount for p in rows) == D("142.80")
    assert {p.credit_account for p in rows} == {"8400", acct(session, "other_income")}


def test_numbers_are_gap_free_per_direction_and_year(session: Session, tenant_id: int) -> None:
    numbers = [booked(session, tenant_id, [ln()]).number for _ in range(3)]
    numbers.append(booked(session, tenant_id, [ln()], issue=date(2025, 12, 31)).number)
    numbers.append(booked(session, tenant_id, [ln()], direction="in").number)
    assert numbers == [
        "RE-2026-00001",
        "RE-2026-00002",
        "RE-2026-00003",
        "RE-2025-00001",
        "ER-2026-00001",
    ]


def test_update_and_delete_draft(session: Session, tenant_id: int) -> None:
    party = make_party(session, tenant_id)
    draft = create_draft(session, tenant_id, inp([ln("10.00")], party_id=party))
    update_draft(session, tenant_id, draft.id, inp([ln("20.00"), ln("5.00", "7")], party_id=party))
    assert draft.gross_total == D("29.15")
    assert len(invoices.invoice_lines(session, tenant_id, draft.id)) == 2
    delete_draft(session, tenant_id, draft.id)
    with pytest.raises(NotFound):
        invoices.get_invoice(session, tenant_id, draft.id)
    assert (
        session.scalar(
            select(func.count()).select_from(InvoiceLine).where(InvoiceLine.invoice_id == draft.id)
        )
        == 0
    )
    assert verify_chain(session, tenant_id) == []


def test_booked_invoice_is_immutable_in_the_service(session: Session, tenant_id: int) -> None:
    inv = booked(session, tenant_id, [ln()])
    for call in (
        lambda: update_draft(session, tenant_id, inv.id, inp([ln("1.00")], party_id=inv.party_id)),
        lambda: delete_draft(session, tenant_id, inv.id),
        lambda: book_invoice(session, tenant_id, inv.id),
    ):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "invoice.booked_immutable"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoices SET note = 'x' WHERE id = :id",
        "DELETE FROM invoices WHERE id = :id",
        "UPDATE invoice_lines SET net = 1 WHERE invoice_id = :id",
        "DELETE FROM invoice_lines WHERE invoice_id = :id",
        "UPDATE invoice_tax_totals SET vat = 1 WHERE invoice_id = :id",
        "INSERT INTO invoice_lines (tenant_id, invoice_id, position, description, quantity, unit,"
        " unit_price, vat_rate, net, vat, gross) SELECT tenant_id, id, 9, 'x', 1, 'C62', 1, 0, 1,"
        " 0, 1 FROM invoices WHERE id = :id",
    ],
)
def test_database_refuses_changes_of_booked_invoice(
    engine: Engine, tenant_id: int, sql: str
) -> None:
    with tenant_session(tenant_id, engine) as s:
        inv_id = booked(s, tenant_id, [ln()]).id
    session = session_factory(engine)()
    session.info["tenant_id"] = tenant_id
    try:
        with pytest.raises(DBAPIError):
            session.execute(text(sql), {"id": inv_id})
            session.flush()
    finally:
        session.rollback()
        session.close()


# --------------------------------------------------------------------------- §19 small business


def test_small_business_outgoing_invoice(make_tenant: Callable[..., int], engine: Engine) -> None:
    tenant_id = make_tenant(vat_regime="small_business", chart="skr03")
    with tenant_session(tenant_id, engine) as session:
        party = make_party(session, tenant_id)
        with pytest.raises(ValidationFailed) as exc:
            create_draft(session, tenant_id, inp([ln("100.00", "19")], party_id=party))
        assert exc.value.code == "vat.small_business_no_vat"
        assert exc.value.details[0]["field"] == "lines[0].vat_rate"
        draft = create_draft(
            session, tenant_id, inp([ln("100.00", "0")], party_id=party, note="Danke!")
        )
        inv = book_invoice(session, tenant_id, draft.id)
        assert inv.small_business is True
        assert inv.note == f"Danke!\n{SMALL_BUSINESS_NOTE}"
        assert SMALL_BUSINESS_NOTE == "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
        (p,) = postings(session, tenant_id, inv.id)
        assert (p.debit_account, p.credit_account, p.amount, p.tax_amount, p.tax_account) == (
            "1400",
            acct(session, "revenue_small_business"),
            D("100.00"),
            D("0.00"),
            None,
        )


def test_small_business_incoming_invoice_has_no_input_vat(
    make_tenant: Callable[..., int], engine: Engine
) -> None:
    tenant_id = make_tenant(vat_regime="small_business", chart="skr04")
    with tenant_session(tenant_id, engine) as session:
        draft = create_draft(session, tenant_id, inp([ln("100.00", "19")], direction="in"))
        inv = book_invoice(session, tenant_id, draft.id)
        assert inv.vat_total == D("19.00")  # the supplier's VAT stays visible
        assert inv.small_business is False and inv.note == ""
        (p,) = postings(session, tenant_id, inv.id)
        assert (p.debit_account, p.credit_account, p.amount, p.net_amount, p.tax_amount) == (
            acct(session, "other_expense", "skr04"),
            "3300",
            D("119.00"),
            D("119.00"),
            D("0.00"),
        )
        assert p.tax_account is None


# --------------------------------------------------------------------------- bad input


def _refused(session: Session, tenant_id: int, data: InvoiceInput) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as exc:
        create_draft(session, tenant_id, data)
    assert (
        session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.tenant_id == tenant_id)
        )
        == 0
    )
    return exc.value


def test_bad_input_is_refused_with_codes(session: Session, tenant_id: int) -> None:
    cases: list[tuple[InvoiceInput, str, str]] = [
        (inp([ln("1.00", "16")]), "vat.unknown_rate", "lines[0].vat_rate"),
        (inp([ln("1.00", "12")]), "vat.unknown_rate", "lines[0].vat_rate"),
        (inp([ln("1.00", qty="1.00001")]), "money.too_many_decimals", "lines[0].quantity"),
        (inp([ln("1.123456")]), "money.too_many_decimals", "lines[0].unit_price"),
        (
            inp([ln()], expected_net=D("100.00"), expected_vat=D("19.00"), expected_gross=D("120")),
            "money.inconsistent",
            "gross_total",
        ),
        (inp([ln()], expected_gross=D("118.00")), "money.inconsistent", "gross_total"),
        (inp([ln()], expected_vat=D("1.234")), "money.too_many_decimals", "vat_total"),
        (inp([ln()], party_id=999999), "party.not_found", "party_id"),
        (
            inp([ln()], issue=date.today() + timedelta(days=4000)),
            "date.too_far_in_future",
            "issue_date",
        ),
        (inp([ln()], direction="sideways"), "invoice.invalid_direction", "direction"),
        (inp([ln()], price_mode="brutto"), "invoice.invalid_price_mode", "price_mode"),
        (inp([ln(desc=" ")]), "invoice.line_description", "lines[0].description"),
        (inp([ln(unit="Stück")]), "invoice.invalid_unit", "lines[0].unit"),
        (inp([ln(category_id=999999)]), "category.not_found", "lines[0].category_id"),
        (inp([ln("999999999", qty="100")]), "money.too_large", "lines[0]"),
        (inp([ln("99999999", "0", qty="100")] * 2), "money.too_large", "net_total"),
        (
            inp([ln("999999999", qty="999999999"), ln("-999999999", qty="999999999")]),
            "money.too_large",
            "lines[0]",
        ),
        (inp([ln("1e12")]), "money.too_large", "lines[0].unit_price"),
    ]
    for data, code, field in cases:
        err = _refused(session, tenant_id, data)
        assert (err.code, err.details[0]["field"]) == (code, field), data


def test_expected_totals_within_a_cent_are_accepted(session: Session, tenant_id: int) -> None:
    data = inp(
        [ln()],
        expected_net=D("100.00"),
        expected_vat=D("19.00"),
        expected_gross=D("119.01"),
        party_id=make_party(session, tenant_id),
    )
    assert create_draft(session, tenant_id, data).gross_total == D("119.00")


def test_temporary_2020_rates_by_supply_date(session: Session, tenant_id: int) -> None:
    party = make_party(session, tenant_id)
    inv = create_draft(
        session,
        tenant_id,
        inp(
            [ln("100.00", "16"), ln("100.00", "5")],
            party_id=party,
            issue=date(2021, 1, 5),
            supply_date=date(2020, 12, 20),
        ),
    )
    assert inv.vat_total == D("21.00")
    book_invoice(session, tenant_id, inv.id)
    rows = postings(session, tenant_id, inv.id)
    assert sorted((p.credit_account, p.tax_account) for p in rows) == [
        ("8300", "1771"),
        ("8400", "1776"),
    ]
    with pytest.raises(ValidationFailed) as exc:
        create_draft(session, tenant_id, inp([ln("1.00", "16")], issue=date(2021, 1, 5)))
    assert exc.value.code == "vat.unknown_rate"


def test_wrong_category_kind_is_refused(session: Session, tenant_id: int) -> None:
    from belegwerk.books.categories import category_by_key

    rent = category_by_key(session, "rent").id
    err = _refused(session, tenant_id, inp([ln(category_id=rent)]))
    assert err.code == "category.wrong_kind"


def test_booking_needs_customer_lines_and_positive_total(session: Session, tenant_id: int) -> None:
    draft = create_draft(session, tenant_id, inp([ln()]))
    with pytest.raises(ValidationFailed) as exc:
        book_invoice(session, tenant_id, draft.id)
    assert exc.value.code == "invoice.party_required"
    party = make_party(session, tenant_id)
    empty = create_draft(session, tenant_id, inp([], party_id=party))
    with pytest.raises(ValidationFailed) as exc:
        book_invoice(session, tenant_id, empty.id)
    assert exc.value.code == "invoice.no_lines"
    negative = create_draft(session, tenant_id, inp([ln("-5.00")], party_id=party))
    with pytest.raises(ValidationFailed) as exc:
        book_invoice(session, tenant_id, negative.id)
    assert exc.value.code == "invoice.not_positive"


# --------------------------------------------------------------------------- reversal


def test_reverse_invoice_mirrors_postings(session: Session, tenant_id: int) -> None:
    inv = booked(session, tenant_id, [ln("100.00"), ln("10.00", "7")])
    with pytest.raises(ValidationFailed) as exc:
        reverse_invoice(session, tenant_id, inv.id, "  ")
    assert exc.value.code == "reason.missing"
    rev = reverse_invoice(session, tenant_id, inv.id, "Falscher Betrag", reversal_date=DAY)
    assert (rev.kind, rev.status, rev.reverses_id) == ("reversal", "booked", inv.id)
    assert rev.number == "RE-2026-00002"
    assert rev.reversal_reason == "Falscher Betrag"
    assert rev.gross_total == inv.gross_total == D("129.70")
    assert "RE-2026-00001" in rev.note
    assert len(invoices.invoice_lines(session, tenant_id, rev.id)) == 2
    original = {
        (p.debit_account, p.credit_account, p.amount) for p in postings(session, tenant_id, inv.id)
    }
    mirrored = postings(session, tenant_id, rev.id)
    assert {(p.credit_account, p.debit_account, p.amount) for p in mirrored} == original
    assert all(p.reverses_id is not None for p in mirrored)
    with pytest.raises(Conflict) as conflict:
        reverse_invoice(session, tenant_id, inv.id, "nochmal")
    assert conflict.value.code == "invoice.already_reversed"
    with pytest.raises(Conflict) as conflict:
        reverse_invoice(session, tenant_id, rev.id, "Storno vom Storno")
    assert conflict.value.code == "invoice.is_reversal"
    page = list_invoices(session, tenant_id)
    status = {r.id: (r.status, r.payment_status, r.reversed_by_id) for r in page.items}
    assert status[inv.id] == ("reversed", None, rev.id)
    assert status[rev.id] == ("reversal", None, None)
    assert verify_chain(session, tenant_id) == []


def test_reverse_draft_is_refused(session: Session, tenant_id: int) -> None:
    draft = create_draft(session, tenant_id, inp([ln()]))
    with pytest.raises(Conflict) as exc:
        reverse_invoice(session, tenant_id, draft.id, "Grund")
    assert exc.value.code == "invoice.not_booked"


def test_correct_invoice_reverses_and_returns_a_linked_draft(
    session: Session, tenant_id: int
) -> None:
    inv = booked(session, tenant_id, [ln("100.00")], supply_date=date(2026, 3, 1))
    draft = correct_invoice(session, tenant_id, inv.id, "Preis falsch", reversal_date=DAY)
    assert (draft.status, draft.replaces_id, draft.party_id) == ("draft", inv.id, inv.party_id)
    assert draft.supply_date == date(2026, 3, 1)
    assert invoices.reversal_of(session, tenant_id, inv.id) is not None
    update_draft(
        session,
        tenant_id,
        draft.id,
        inp([ln("90.00")], party_id=inv.party_id, issue=DAY),
    )
    fixed = book_invoice(session, tenant_id, draft.id)
    assert fixed.number == "RE-2026-00003" and fixed.gross_total == D("107.10")
    assert fixed.replaces_id == inv.id


# --------------------------------------------------------------------------- listing


def test_list_invoices_filters_and_pages(session: Session, tenant_id: int) -> None:
    acme = make_party(session, tenant_id, "ACME 100% AG")
    other = make_party(session, tenant_id, "Beta KG")
    a = booked(session, tenant_id, [ln("100.00")], party_id=acme, issue=date(2026, 1, 5))
    booked(session, tenant_id, [ln("50.00")], party_id=other, issue=date(2026, 2, 5))
    booked(
        session,
        tenant_id,
        [ln("20.00")],
        direction="in",
        issue=date(2026, 2, 6),
        external_number="X-77",
    )
    create_draft(session, tenant_id, inp([ln("1.00")], party_id=other, issue=date(2026, 3, 1)))

    page = list_invoices(session, tenant_id)
    assert page.total == 4
    assert [r.issue_date for r in page.items] == sorted(
        (r.issue_date for r in page.items), reverse=True
    )
    assert list_invoices(session, tenant_id, direction="in").total == 1
    assert list_invoices(session, tenant_id, status="draft").total == 1
    assert list_invoices(session, tenant_id, status="booked").total == 3
    assert list_invoices(session, tenant_id, party_id=acme).items[0].id == a.id
    assert list_invoices(session, tenant_id, search="100%").items[0].party_name == "ACME 100% AG"
    assert list_invoices(session, tenant_id, search="x-77").total == 1
    assert list_invoices(session, tenant_id, search="RE-2026-0000").total == 2
    assert (
        list_invoices(
            session, tenant_id, date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)
        ).total
        == 2
    )
    assert list_invoices(session, tenant_id, payment_status="open").total == 3
    assert list_invoices(session, tenant_id, payment_status="paid").total == 0
    second = list_invoices(session, tenant_id, page=2, page_size=3)
    assert (second.total, len(second.items)) == (4, 1)
    row = list_invoices(session, tenant_id, party_id=acme).items[0]
    assert (row.gross_total, row.paid, row.open_amount, row.payment_status) == (
        D("119.00"),
        D("0.00"),
        D("119.00"),
        "open",
    )
    with pytest.raises(ValidationFailed):
        list_invoices(session, tenant_id, status="bogus")


def test_tenants_do_not_see_each_others_invoices(
    make_tenant: Callable[..., int], engine: Engine
) -> None:
    t1, t2 = make_tenant(), make_tenant()
    with tenant_session(t1, engine) as s:
        inv_id = booked(s, t1, [ln()]).id
    with tenant_session(t2, engine) as s:
        assert list_invoices(s, t2).total == 0
        with pytest.raises(NotFound):
            invoices.get_invoice(s, t2, inv_id)


# --------------------------------------------------------------------------- bulk


def test_bulk_booking_matches_single_path(session: Session, tenant_id: int) -> None:
    party = make_party(session, tenant_id)
    drafts = [
        inp([ln("10.00"), ln("5.55", "7", qty="3")], party_id=party, issue=date(2026, 1, 1 + i))
        for i in range(20)
    ] + [inp([ln("119.00")], direction="in", price_mode="gross", issue=date(2025, 12, 1))]
    assert book_invoices_bulk(session, tenant_id, drafts) == 21
    page = list_invoices(session, tenant_id, page_size=100)
    assert page.total == 21
    numbers = sorted(r.number or "" for r in page.items if r.direction == "out")
    assert numbers == [f"RE-2026-{n:05d}" for n in range(1, 21)]
    assert {r.status for r in page.items} == {"booked"}
    single = booked(session, tenant_id, [ln("10.00"), ln("5.55", "7", qty="3")], party_id=party)
    bulk_row = next(r for r in page.items if r.number == "RE-2026-00001")
    assert (bulk_row.net_total, bulk_row.vat_total, bulk_row.gross_total) == (
        single.net_total,
        single.vat_total,
        single.gross_total,
    )
    bulk_postings = {
        (p.debit_account, p.credit_account, p.amount, p.tax_amount)
        for p in postings(session, tenant_id, bulk_row.id)
    }
    single_postings = {
        (p.debit_account, p.credit_account, p.amount, p.tax_amount)
        for p in postings(session, tenant_id, single.id)
    }
    assert bulk_postings == single_postings
    n_lines = session.scalar(
        select(func.count()).select_from(InvoiceLine).where(InvoiceLine.tenant_id == tenant_id)
    )
    n_taxes = session.scalar(
        select(func.count())
        .select_from(InvoiceTaxTotal)
        .where(InvoiceTaxTotal.tenant_id == tenant_id)
    )
    assert (n_lines, n_taxes) == (21 * 2 - 1 + 2, 21 * 2 - 1 + 2)
    assert verify_chain(session, tenant_id) == []


def test_bulk_booking_refuses_bad_item_with_index(session: Session, tenant_id: int) -> None:
    party = make_party(session, tenant_id)
    drafts = [inp([ln()], party_id=party), inp([ln("1.00", "12")], party_id=party)]
    with pytest.raises(ValidationFailed) as exc:
        book_invoices_bulk(session, tenant_id, drafts)
    assert exc.value.code == "vat.unknown_rate"
    assert exc.value.details[0]["invoice_index"] == 1


def test_revenue_category_follows_the_line_rate(session: Session, tenant_id: int) -> None:
    """A 7 % line filed under "Betriebseinnahmen 19 %" is booked on the 7 % automatic account."""
    from belegwerk.books.categories import category_by_key
    from belegwerk.books.invoices import InvoiceInput, book_invoice, create_draft, invoice_lines
    from belegwerk.books.models import Posting
    from belegwerk.books.parties import PartyData, create_party

    customer = create_party(session, tenant_id, PartyData(name="Kunde", is_customer=True)).id
    wrong = category_by_key(session, "revenue_19").id
    draft = create_draft(
        session,
        tenant_id,
        InvoiceInput(
            direction="out",
            issue_date=date.today(),
            party_id=customer,
            lines=[
                LineInput(
                    description="Fachbuch",
                    quantity=Decimal(1),
                    unit_price=Decimal("10.00"),
                    vat_rate=Decimal(7),
                    category_id=wrong,
                )
            ],
        ),
    )
    book_invoice(session, tenant_id, draft.id)
    (line,) = invoice_lines(session, tenant_id, draft.id)
    assert line.category_id == category_by_key(session, "revenue_7").id
    credit = session.scalars(
        select(Posting.credit_account).where(
            Posting.tenant_id == tenant_id,
            Posting.source_type == "invoice",
            Posting.source_id == draft.id,
        )
    ).all()
    assert credit == ["8300"]
