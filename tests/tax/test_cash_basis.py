"""The cash-basis view of the journal (§ 11 EStG Zufluss/Abfluss, § 20 UStG Ist-Versteuerung):
invoice postings realised by their payments, cent-exact; direct postings on their own date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking.classify import decide
from belegwerk.books.cash import CashEntryInput, create_cash_entry, set_opening_balance
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import reverse_invoice
from belegwerk.books.models import Invoice, Payment, Posting
from belegwerk.books.payments import add_payment, confirm_cash_proposal, reverse_payment
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.money import distribute_cents
from belegwerk.tax.cash_basis import CashItem, cash_items, cash_totals
from tests.banking.classify_helpers import add_tx, make_account, make_batch
from tests.books.test_invoices import booked, ln

D = Decimal
YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))
YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))


def cat(session: Session, key: str) -> int:
    return category_by_key(session, key).id


def pay(session: Session, tenant_id: int, inv: Invoice, day: date, amount: str) -> Payment:
    payment = add_payment(session, tenant_id, inv.id, day, amount, "bank")
    assert isinstance(payment, Payment)
    return payment


def of_invoice(items: Sequence[CashItem], inv: Invoice) -> list[CashItem]:
    return [i for i in items if i.invoice_id == inv.id]


def invoice_postings(session: Session, tenant_id: int, inv: Invoice) -> list[Posting]:
    return list(
        session.scalars(
            select(Posting)
            .where(
                Posting.tenant_id == tenant_id,
                Posting.source_type == "invoice",
                Posting.source_id == inv.id,
            )
            .order_by(Posting.id)
        )
    )


def mixed_invoice(session: Session, tenant_id: int, issue: date) -> Invoice:
    """1,000.00 at 19 % and 333.33 at 7 %: gross 1,190.00 + 356.66 = 1,546.66."""
    return booked(
        session,
        tenant_id,
        [ln("1000.00", "19"), ln("333.33", "7", desc="Buch")],
        issue=issue,
    )


def test_invoice_flows_on_the_payment_date_not_the_invoice_date(
    session: Session, tenant_id: int
) -> None:
    """§ 11 EStG: an invoice of December 2025 paid in January 2026 is income of 2026."""
    inv = booked(session, tenant_id, [ln("100.00")], issue=date(2025, 12, 15))
    pay(session, tenant_id, inv, date(2026, 1, 12), "119.00")
    assert of_invoice(cash_items(session, tenant_id, *YEAR_2025), inv) == []
    (item,) = of_invoice(cash_items(session, tenant_id, *YEAR_2026), inv)
    assert item.flow_date == date(2026, 1, 12)
    assert (item.amount, item.net_amount, item.tax_amount) == (D("119.00"), D("100.00"), D("19.00"))
    (posting,) = invoice_postings(session, tenant_id, inv)
    assert item.posting_id == posting.id
    assert (item.debit_account, item.credit_account) == ("1400", "8400")
    assert item.posting_date == date(2025, 12, 15)


def test_partial_payments_across_the_year_end_are_cent_exact(
    session: Session, tenant_id: int
) -> None:
    """Two payments of a mixed-rate invoice: each payment's shares add up to the payment, and
    the shares of each posting over both payments add up to the posting (net and tax too)."""
    inv = mixed_invoice(session, tenant_id, date(2025, 11, 20))
    assert inv.gross_total == D("1546.66")
    first = pay(session, tenant_id, inv, date(2025, 12, 30), "500.00")
    second = pay(session, tenant_id, inv, date(2026, 2, 3), "1046.66")
    in_2025 = of_invoice(cash_items(session, tenant_id, *YEAR_2025), inv)
    in_2026 = of_invoice(cash_items(session, tenant_id, *YEAR_2026), inv)
    assert {i.payment_id for i in in_2025} == {first.id}
    assert {i.payment_id for i in in_2026} == {second.id}
    assert sum(i.amount for i in in_2025) == D("500.00")
    assert sum(i.amount for i in in_2026) == D("1046.66")
    # hand-computed: 500.00 × 1190.00 / 1546.66 = 384.699…, 500.00 × 356.66 / 1546.66 = 115.300…
    # floors 384.69 + 115.30 leave one cent, which goes to the larger remainder (384.699…)
    by_posting = {i.posting_id: i for i in in_2025}
    p19, p7 = invoice_postings(session, tenant_id, inv)
    assert by_posting[p19.id].amount == D("384.70")
    assert by_posting[p7.id].amount == D("115.30")
    assert by_posting[p19.id].tax_amount == D("61.42")  # 384.70 × 190.00 / 1190.00 = 61.42…
    assert by_posting[p7.id].tax_amount == D("7.54")  # 115.30 × 23.33 / 356.66 = 7.54…
    for posting in (p19, p7):
        shares = [i for i in in_2025 + in_2026 if i.posting_id == posting.id]
        assert sum(i.amount for i in shares) == posting.amount
        assert sum(i.tax_amount for i in shares) == posting.tax_amount
        assert sum(i.net_amount for i in shares) == posting.net_amount
    for item in in_2025 + in_2026:
        assert item.net_amount + item.tax_amount == item.amount


def test_reversed_payment_flows_back_on_its_own_date(session: Session, tenant_id: int) -> None:
    """A payment reversed in January: +119 in December, -119 in January (storno, not edit)."""
    inv = booked(session, tenant_id, [ln("100.00")], issue=date(2025, 12, 1))
    payment = pay(session, tenant_id, inv, date(2025, 12, 20), "119.00")
    reverse_payment(
        session, tenant_id, payment.id, "Rücklastschrift", reversal_date=date(2026, 1, 8)
    )
    (dec,) = of_invoice(cash_items(session, tenant_id, *YEAR_2025), inv)
    (jan,) = of_invoice(cash_items(session, tenant_id, *YEAR_2026), inv)
    assert dec.amount == D("119.00")
    assert (jan.flow_date, jan.amount, jan.tax_amount) == (
        date(2026, 1, 8),
        D("-119.00"),
        D("-19.00"),
    )
    assert jan.payment_id != payment.id


def test_reversal_invoice_never_flows(session: Session, tenant_id: int) -> None:
    """A Stornorechnung cancels a claim; without payments neither invoice moves money."""
    inv = booked(session, tenant_id, [ln("100.00")], issue=date(2026, 3, 1))
    paid = pay(session, tenant_id, inv, date(2026, 3, 5), "50.00")
    reverse_payment(
        session, tenant_id, paid.id, "falsch zugeordnet", reversal_date=date(2026, 3, 6)
    )
    rev = reverse_invoice(session, tenant_id, inv.id, "Fehler", reversal_date=date(2026, 3, 7))
    items = cash_items(session, tenant_id, *YEAR_2026)
    assert sum(i.amount for i in of_invoice(items, inv)) == D("0.00")
    assert of_invoice(items, rev) == []


def test_incoming_invoice_with_a_discount_group(session: Session, tenant_id: int) -> None:
    """An incoming invoice whose discount line has its own category posts that group the other
    way round; its shares carry the opposite sign of the weight and still add up."""
    inv = booked(
        session,
        tenant_id,
        [
            LineInput("Ware", D(1), D("500.00"), D(19), category_id=cat(session, "goods_purchase")),
            LineInput(
                "Rabatt", D(1), D("-50.00"), D(19), category_id=cat(session, "other_expense")
            ),
        ],
        direction="in",
        issue=date(2026, 4, 1),
    )
    assert inv.gross_total == D("535.50")
    pay(session, tenant_id, inv, date(2026, 4, 10), "200.00")
    items = of_invoice(cash_items(session, tenant_id, *YEAR_2026), inv)
    goods, discount = invoice_postings(session, tenant_id, inv)
    assert discount.debit_account == "1600"  # the discount group runs payable → expense
    share = {i.posting_id: i.amount for i in items}
    # 200 × 595 / 535.50 = 222.22…; 200 × -59.50 / 535.50 = -22.22…
    assert share == {goods.id: D("222.22"), discount.id: D("22.22")}
    assert share[goods.id] - share[discount.id] == D("200.00")


def test_direct_postings_pass_through_and_settlements_do_not(
    session: Session, tenant_id: int
) -> None:
    """Cash entries and categorised bank lines are money on their own date; the posting of a
    cash payment of an invoice is a settlement and counted only through the invoice."""
    set_opening_balance(session, tenant_id, date(2026, 1, 1), D("500.00"))
    entry = create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=date(2026, 2, 2),
            description="Briefmarken",
            category_id=cat(session, "postage"),
            direction="expense",
            amount=D("8.50"),
        ),
    )
    inv = booked(session, tenant_id, [ln("100.00")], issue=date(2026, 2, 1))
    proposal = add_payment(session, tenant_id, inv.id, date(2026, 2, 3), "119.00", "cash")
    confirm_cash_proposal(session, tenant_id, proposal.id)
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    tx = add_tx(session, tenant_id, batch, "-59.50", "Telekom", "Rechnung", day=date(2026, 2, 4))
    decide(session, tenant_id, tx.id, "business", cat(session, "telecom"))
    items = cash_items(session, tenant_id, *YEAR_2026)
    assert [(i.source_type, i.flow_date, i.amount) for i in items] == [
        ("cash_entry", date(2026, 2, 2), D("8.50")),
        ("invoice", date(2026, 2, 3), D("119.00")),
        ("bank_tx", date(2026, 2, 4), D("59.50")),
    ]
    assert items[0].source_id == entry.id and items[0].payment_id is None
    assert items[2].tax_amount == D("9.50") and items[2].category_id == cat(session, "telecom")


def test_payments_outside_the_period_still_count_for_the_split(
    session: Session, tenant_id: int
) -> None:
    """The items of a later payment continue the split where the earlier payments left it."""
    inv = booked(session, tenant_id, [ln("0.10", qty="3")], issue=date(2026, 1, 5))  # 0.36 gross
    for day in (date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)):
        pay(session, tenant_id, inv, day, "0.12")
    march = of_invoice(cash_items(session, tenant_id, date(2026, 3, 1), date(2026, 3, 31)), inv)
    whole = of_invoice(cash_items(session, tenant_id, *YEAR_2026), inv)
    assert [i.flow_date for i in march] == [date(2026, 3, 10)]
    assert sum(i.tax_amount for i in whole) == D("0.06")
    assert march[0].tax_amount == whole[-1].tax_amount


def test_items_carry_every_posting_column(session: Session, tenant_id: int) -> None:
    inv = booked(session, tenant_id, [ln("100.00")], issue=date(2026, 5, 1))
    pay(session, tenant_id, inv, date(2026, 5, 2), "119.00")
    (item,) = of_invoice(cash_items(session, tenant_id, *YEAR_2026), inv)
    columns = {c.name for c in Posting.__table__.columns}
    assert set(item.columns) == columns
    assert item.tax_account == "1776" and item.voucher == inv.number
    assert item.created_at is not None  # any column reads as an attribute
    with pytest.raises(AttributeError):
        _ = item.no_such_column


def test_a_period_that_ends_before_it_starts_is_refused(session: Session, tenant_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        cash_items(session, tenant_id, date(2026, 2, 1), date(2026, 1, 1))
    assert exc.value.code == "period.invalid"


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=-50_000, max_value=500_000), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=5),
)
def test_cumulative_split_is_exact(weights: list[int], cuts: list[int]) -> None:
    """The allocation rule itself: differences of cumulative splits add up per payment and,
    at the full amount, to every weight."""
    gross = sum(weights)
    if gross <= 0:
        return
    paid = [*sorted(min(c, gross) for c in cuts), gross]
    before = [0] * len(weights)
    totals: dict[int, int] = defaultdict(int)
    last = 0
    for cumulative in paid:
        now = distribute_cents(cumulative, weights)
        assert sum(a - b for a, b in zip(now, before, strict=True)) == cumulative - last
        for i, (a, b) in enumerate(zip(now, before, strict=True)):
            totals[i] += a - b
        before, last = now, cumulative
    assert [totals[i] for i in range(len(weights))] == weights


@pytest.mark.parametrize(
    "period",
    [
        YEAR_2025,
        YEAR_2026,
        (date(2025, 12, 1), date(2026, 1, 31)),
        (date(2026, 1, 1), date(2026, 1, 1)),
    ],
)
def test_totals_are_the_sums_of_the_items(
    session: Session, tenant_id: int, period: tuple[date, date]
) -> None:
    """cash_totals (set-based) equals summing cash_items, for invoices settled inside the
    period, partly paid across its edges, reversed payments and direct postings."""
    set_opening_balance(session, tenant_id, date(2025, 1, 1), D("100.00"))
    full = mixed_invoice(session, tenant_id, date(2025, 12, 1))
    pay(session, tenant_id, full, date(2025, 12, 5), "1546.66")
    straddling = mixed_invoice(session, tenant_id, date(2025, 12, 10))
    pay(session, tenant_id, straddling, date(2025, 12, 28), "700.00")
    pay(session, tenant_id, straddling, date(2026, 1, 1), "846.66")
    reversed_ = booked(session, tenant_id, [ln("80.00", "7")], issue=date(2025, 12, 20))
    paid = pay(session, tenant_id, reversed_, date(2025, 12, 21), "85.60")
    reverse_payment(session, tenant_id, paid.id, "Rückbuchung", reversal_date=date(2026, 1, 1))
    incoming = booked(
        session,
        tenant_id,
        [ln("40.00", category_id=cat(session, "telecom"))],
        direction="in",
        issue=date(2025, 11, 30),
    )
    pay(session, tenant_id, incoming, date(2026, 1, 1), "20.00")
    create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=date(2026, 1, 1),
            description="Bareinnahme",
            category_id=cat(session, "revenue_19"),
            direction="income",
            amount=D("11.90"),
        ),
    )
    by = ("category_id", "debit_account", "credit_account", "tax_rate")
    expected: dict[tuple[object, ...], list[Decimal]] = defaultdict(lambda: [D(0)] * 3)
    for item in cash_items(session, tenant_id, *period):
        sums = expected[tuple(item.columns[name] for name in by)]
        sums[0] += item.amount
        sums[1] += item.net_amount
        sums[2] += item.tax_amount
    totals = cash_totals(session, tenant_id, *period, by=by)
    got = {k: [t.amount, t.net_amount, t.tax_amount] for k, t in totals.items()}
    assert got == {k: v for k, v in expected.items()}
    assert expected  # every period above has money in it
