"""Which period a booking lands in: Soll by the period of supply, input VAT when invoice and
supply are there, Ist-Versteuerung by the payments received. Boxes computed by hand; each test
names the rule it checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from belegwerk.books.cash import CashEntryInput, create_cash_entry, set_opening_balance
from belegwerk.books.invoices import reverse_invoice
from belegwerk.books.models import Payment
from belegwerk.books.payments import add_payment, reverse_payment
from belegwerk.tax.periods import parse_period
from belegwerk.tax.ustva import compute, drilldown
from tests.banking.classify_helpers import cat
from tests.tax.test_ustva import boxes, invoice

D = Decimal


def pay(session: Session, tenant_id: int, invoice_id: int, day: date, amount: str) -> Payment:
    payment = add_payment(session, tenant_id, invoice_id, day, amount, "bank")
    assert isinstance(payment, Payment)
    return payment


# --------------------------------------------------------------------------- Soll


def test_sale_counts_in_the_month_of_supply(session: Session, tenant_id: int) -> None:
    """§ 13 Abs. 1 Nr. 1 a UStG: the tax arises when the period of the supply ends. An invoice
    dated 5 April for a supply on 20 March lands in March (Kz 81 = 1.000, tax 190,00), April
    stays empty; the drill-down of March shows it."""
    inv = invoice(
        session,
        tenant_id,
        [("1000.00", "19", "S", None)],
        day=date(2026, 4, 5),
        supply_date=date(2026, 3, 20),
    )
    march = boxes(session, tenant_id, "2026-03")
    assert (march["81"], march["83"]) == ("1000", "190.00")
    assert "81" not in boxes(session, tenant_id, "2026-04")
    (row,) = drilldown(session, tenant_id, parse_period("2026-03"), "81")
    assert (row.posting.source_id, row.amount) == (inv, D("1000.00"))
    assert (row.posting.posting_date, row.supply_date) == (date(2026, 4, 5), date(2026, 3, 20))
    assert boxes(session, tenant_id, "2026-Q1")["81"] == "1000"


def test_input_vat_needs_invoice_and_supply(session: Session, tenant_id: int) -> None:
    """§ 15 Abs. 1 Satz 1 Nr. 1 UStG: input VAT when the supply is made and the invoice is in
    hand – the later of both. Invoice of 28 March for a supply on 2 April: Kz 66 38,00 in April;
    invoice of 3 April for a supply in March: Kz 66 19,00 in April, not March."""
    invoice(
        session,
        tenant_id,
        [("200.00", "19", "S", "office_supplies")],
        direction="in",
        day=date(2026, 3, 28),
        supply_date=date(2026, 4, 2),
    )
    invoice(
        session,
        tenant_id,
        [("100.00", "19", "S", "office_supplies")],
        direction="in",
        day=date(2026, 4, 3),
        supply_date=date(2026, 3, 30),
    )
    assert "66" not in boxes(session, tenant_id, "2026-03")
    april = boxes(session, tenant_id, "2026-04")
    assert (april["66"], april["83"]) == ("57.00", "-57.00")


def test_reverse_charge_and_acquisition_timing(session: Session, tenant_id: int) -> None:
    """§ 13b Abs. 1 UStG: an EU service is taxed in the month it was performed (March, though
    invoiced in April). § 13 Abs. 1 Nr. 6 UStG: an acquisition with the invoice, at the latest
    at the end of the month after the supply – goods delivered in January, invoiced in April,
    count in February. Kz 46/47/67 in March; Kz 89/61 in February."""
    invoice(
        session,
        tenant_id,
        [("300.00", "0", "AE", "advertising")],
        direction="in",
        country="IE",
        vat_id="IE6388047V",
        day=date(2026, 4, 2),
        supply_date=date(2026, 3, 31),
    )
    invoice(
        session,
        tenant_id,
        [("500.00", "0", "K", "goods_purchase")],
        direction="in",
        country="NL",
        vat_id="NL859048288B01",
        day=date(2026, 4, 14),
        supply_date=date(2026, 1, 20),
    )
    march = boxes(session, tenant_id, "2026-03")
    assert (march["46"], march["47"], march["67"], march["83"]) == ("300", "57.00", "57.00", "0.00")
    february = boxes(session, tenant_id, "2026-02")
    assert (february["89"], february["61"]) == ("500", "95.00")
    assert not {"46", "89"} & set(boxes(session, tenant_id, "2026-04"))


def test_intra_community_supply_is_reported_with_the_invoice(
    session: Session, tenant_id: int
) -> None:
    """§ 18b Satz 2 UStG: Kz 41 in the period the invoice is issued, at the latest when the
    month after the supply ends; § 18b Satz 3: Kz 21 in the period the service was performed.
    Goods delivered on 28 February, invoiced 10 May → March; services performed in April,
    invoiced 2 May → April."""
    invoice(
        session,
        tenant_id,
        [("2000.00", "0", "K", None)],
        country="FR",
        vat_id="FR40303265045",
        day=date(2026, 5, 10),
        supply_date=date(2026, 2, 28),
    )
    invoice(
        session,
        tenant_id,
        [("750.00", "0", "AE", None)],
        country="AT",
        vat_id="ATU13585627",
        day=date(2026, 5, 2),
        supply_date=date(2026, 4, 30),
    )
    assert boxes(session, tenant_id, "2026-03")["41"] == "2000"
    assert boxes(session, tenant_id, "2026-04")["21"] == "750"
    may = boxes(session, tenant_id, "2026-05")
    assert "41" not in may and "21" not in may


def test_storno_corrects_in_its_own_period(session: Session, tenant_id: int) -> None:
    """§ 17 Abs. 1 Satz 7 UStG: a cancellation corrects the period in which it happens – an
    invoice of March reversed on 10 April: March +100, April −100 (Kz 81 = −100, tax −19,00).
    An invoice for a supply in June, cancelled before: both count in June and cancel out."""
    first = invoice(session, tenant_id, [("100.00", "19", "S", None)], day=date(2026, 3, 5))
    reverse_invoice(session, tenant_id, first, "doppelt", reversal_date=date(2026, 4, 10))
    assert boxes(session, tenant_id, "2026-03")["81"] == "100"
    april = boxes(session, tenant_id, "2026-04")
    assert (april["81"], april["83"]) == ("-100", "-19.00")
    second = invoice(
        session,
        tenant_id,
        [("40.00", "19", "S", None)],
        day=date(2026, 5, 20),
        supply_date=date(2026, 6, 15),
    )
    reverse_invoice(session, tenant_id, second, "storniert", reversal_date=date(2026, 5, 25))
    assert "81" not in boxes(session, tenant_id, "2026-05")
    assert "81" not in boxes(session, tenant_id, "2026-06")


def test_advance_payment_before_the_supply_is_flagged(session: Session, tenant_id: int) -> None:
    """§ 13 Abs. 1 Nr. 1 a Satz 4 UStG: the tax on an advance payment arises on receipt; the
    invoice for a supply in May paid in March is named in March's warnings."""
    inv = invoice(
        session,
        tenant_id,
        [("1000.00", "19", "S", None)],
        day=date(2026, 3, 2),
        supply_date=date(2026, 5, 4),
    )
    pay(session, tenant_id, inv, date(2026, 3, 10), "595.00")
    result = compute(session, tenant_id, parse_period("2026-03"))
    (warning,) = [c for c in result.warnings if c.code == "ustva.advance_payment"]
    assert warning.details[0]["voucher"].startswith("RE-2026-")
    assert "81" not in result.boxes


# --------------------------------------------------------------------------- Ist


def test_ist_partial_payment_across_a_period_boundary(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    """§ 20 UStG: taxed on the payments received. Invoice of 20 March, 1.000,00 at 19 % and
    333,33 at 7 % (gross 1.546,66); 500,00 paid on 30 March, 1.046,66 on 3 April.
    500,00 splits 384,70 (tax 61,42, net 323,28) / 115,30 (tax 7,54, net 107,76).
    March: Kz 81 = 323 (tax 61,37), Kz 86 = 107 (tax 7,49); an unpaid purchase invoice of March
    still gives input VAT (§ 16 Abs. 2, § 15): Kz 66 = 50,00 → Kz 83 = 18,86.
    April: nets 676,72 and 225,57 → Kz 81 = 676 (128,44), Kz 86 = 225 (15,75) → Kz 83 = 144,19."""
    tid = make_tenant(chart="skr03", vat_accounting="cash", ustva_period="monthly")
    session.info["tenant_id"] = tid
    inv = invoice(
        session,
        tid,
        [("1000.00", "19", "S", None), ("333.33", "7", "S", None)],
        day=date(2026, 3, 20),
    )
    invoice(
        session,
        tid,
        [("263.16", "19", "S", "office_supplies")],
        direction="in",
        day=date(2026, 3, 12),
    )
    first = pay(session, tid, inv, date(2026, 3, 30), "500.00")
    pay(session, tid, inv, date(2026, 4, 3), "1046.66")
    march = compute(session, tid, parse_period("2026-03"))
    assert march.basis == "cash" and not march.errors
    got = march.as_json()["boxes"]
    assert (got["81"], got["86"], got["66"], got["83"]) == ("323", "107", "50.00", "18.86")
    assert march.computed_tax == {"81": D("61.37"), "86": D("7.49")}
    april = boxes(session, tid, "2026-04")
    assert (april["81"], april["86"], april["83"]) == ("676", "225", "144.19")
    assert "66" not in april
    # the drill-down names the payment behind the share
    (share,) = drilldown(session, tid, parse_period("2026-03"), "81")
    assert (share.payment_id, share.payment_date, share.amount) == (
        first.id,
        date(2026, 3, 30),
        D("323.28"),
    )
    assert share.posting.source_id == inv
    # the same books taxed on invoices (Soll) put everything into March
    soll = compute(session, tid, parse_period("2026-03"), basis="accrual").as_json()["boxes"]
    assert (soll["81"], soll["86"]) == ("1000", "333")


def test_ist_payment_reversal(session: Session, make_tenant: Callable[..., int]) -> None:
    """§ 20 with § 17 Abs. 2 Nr. 1 UStG: a payment returned (Rücklastschrift) in March takes the
    tax back in March: February Kz 81 = 100 / 19,00; March Kz 81 = −100, Kz 83 = −19,00."""
    tid = make_tenant(chart="skr03", vat_accounting="cash", ustva_period="monthly")
    session.info["tenant_id"] = tid
    inv = invoice(session, tid, [("100.00", "19", "S", None)], day=date(2026, 2, 10))
    payment = pay(session, tid, inv, date(2026, 2, 20), "119.00")
    reverse_payment(session, tid, payment.id, "Rücklastschrift", reversal_date=date(2026, 3, 5))
    february = boxes(session, tid, "2026-02")
    assert (february["81"], february["83"]) == ("100", "19.00")
    march = boxes(session, tid, "2026-03")
    assert (march["81"], march["83"]) == ("-100", "-19.00")
    assert boxes(session, tid, "2026-Q1")["83"] == "0.00"
    rows = drilldown(session, tid, parse_period("2026-03"), "81")
    assert [(r.payment_date, r.amount) for r in rows] == [(date(2026, 3, 5), D("-100.00"))]


def test_ist_keeps_input_vat_self_assessed_tax_and_eu_sales_on_their_dates(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    """Ist-Versteuerung concerns the tenant's own taxable sales only: unpaid, an EU reverse-charge
    purchase (§ 13b Abs. 1: Kz 46/47/67), an intra-community supply (§ 18b: Kz 41) and a cash
    sale (paid on the spot) all count in March; the unpaid domestic sale does not."""
    tid = make_tenant(chart="skr03", vat_accounting="cash", ustva_period="monthly")
    session.info["tenant_id"] = tid
    invoice(session, tid, [("100.00", "19", "S", None)], day=date(2026, 3, 3))
    invoice(
        session,
        tid,
        [("200.00", "0", "AE", "advertising")],
        direction="in",
        country="IE",
        vat_id="IE6388047V",
        day=date(2026, 3, 4),
    )
    invoice(
        session,
        tid,
        [("900.00", "0", "K", None)],
        country="FR",
        vat_id="FR40303265045",
        day=date(2026, 3, 5),
    )
    set_opening_balance(session, tid, date(2026, 1, 1), D("100.00"))
    create_cash_entry(
        session,
        tid,
        CashEntryInput(
            entry_date=date(2026, 3, 6),
            description="Barverkauf",
            category_id=cat(session, "revenue_19"),
            direction="income",
            amount=D("59.50"),
        ),
    )
    got = boxes(session, tid, "2026-03")
    assert (got["81"], got["41"], got["46"], got["47"], got["67"]) == (
        "50",
        "900",
        "200",
        "38.00",
        "38.00",
    )
    assert got["83"] == "9.50"  # 50 × 19 % from the cash sale only
