"""Zusammenfassende Meldung (§ 18a UStG): lines per customer VAT id and kind, the BZSt CSV,
and the reconciliation with Kz 41 and Kz 21 of the UStVA."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from belegwerk.books.invoices import reverse_invoice
from belegwerk.tax import zm
from belegwerk.tax.periods import parse_period
from tests.tax.test_ustva import boxes, invoice

D = Decimal
AT, FR, NL = "ATU13585627", "FR40303265045", "NL859048288B01"


def test_zm_lines_csv_and_reconciliation(session: Session, tenant_id: int) -> None:
    """§ 18a Abs. 7 UStG: per customer and kind the sum of the bases. Q1 2026: services to an
    Austrian customer 800,50 + 199,75 = 1.000,25 (S, 1.000 €); supplies to France 1.500,00 plus
    300,00 cancelled in the quarter (L, 1.500 €); to the Netherlands 250,40 (L, 250 €). A service
    to an Austrian customer without VAT id (100,00) is in Kz 21 but cannot be reported.
    Kz 41 = 1.750 (1.750,40 = L), Kz 21 = 1.100 (1.100,25 = S + 100,00)."""
    invoice(session, tenant_id, [("800.50", "0", "AE", None)], country="AT", vat_id=AT,
            day=date(2026, 1, 10))  # fmt: skip
    invoice(session, tenant_id, [("199.75", "0", "AE", None)], country="AT", vat_id=AT,
            day=date(2026, 2, 10))  # fmt: skip
    invoice(session, tenant_id, [("1500.00", "0", "K", None)], country="FR", vat_id=FR,
            day=date(2026, 3, 3))  # fmt: skip
    wrong = invoice(session, tenant_id, [("300.00", "0", "K", None)], country="FR", vat_id=FR,
                    day=date(2026, 3, 4))  # fmt: skip
    reverse_invoice(session, tenant_id, wrong, "falscher Kunde", reversal_date=date(2026, 3, 9))
    invoice(session, tenant_id, [("250.40", "0", "K", None)], country="NL", vat_id=NL,
            day=date(2026, 1, 20))  # fmt: skip
    invoice(session, tenant_id, [("100.00", "0", "AE", None)], country="AT",
            day=date(2026, 2, 1))  # fmt: skip
    result = zm.compute(session, tenant_id, parse_period("2026-Q1"))
    assert [(ln.vat_id, ln.kind, ln.amount, ln.euros) for ln in result.lines] == [
        (AT, "S", D("1000.25"), 1000),
        (FR, "L", D("1500.00"), 1500),
        (NL, "L", D("250.40"), 250),
    ]
    assert result.total("L") == result.ustva["41"] == D("1750.40")
    assert result.total("S") + result.unreported_total("S") == result.ustva["21"]
    assert all(row["agrees"] for row in result.reconciliation())
    (missing,) = result.unreported
    assert (missing.kind, missing.amount) == ("S", D("100.00"))
    assert [c.code for c in result.checks] == ["zm.vat_id_missing"]
    quarter = boxes(session, tenant_id, "2026-Q1")
    assert (quarter["41"], quarter["21"]) == ("1750", "1100")
    assert zm.to_csv(result) == (
        b"#v3.0\r\n"
        b"USt-IdNr.,Betrag (EUR),Art der Leistung\r\n"
        b"ATU13585627,1000,S\r\n"
        b"FR40303265045,1500,L\r\n"
        b"NL859048288B01,250,L\r\n"
    )
    data = result.as_json()
    assert data["totals"] == {"L": "1750.40", "D": "0.00", "S": "1000.25"}
    assert data["lines"][0] == {
        "vat_id": AT,
        "country": "AT",
        "kind": "S",
        "amount": 1000,
        "exact": "1000.25",
        "customer": "P AT",
    }


def test_zm_periods_and_corrections(session: Session, tenant_id: int) -> None:
    """§ 18a Abs. 8 UStG: supplies in the period of the invoice, at the latest the month after
    the supply (delivered 28 Feb, invoiced 10 May → March); a supply of January cancelled in
    April is a negative line in April (§ 18a Abs. 7 with § 17)."""
    invoice(session, tenant_id, [("2000.00", "0", "K", None)], country="FR", vat_id=FR,
            day=date(2026, 5, 10), supply_date=date(2026, 2, 28))  # fmt: skip
    early = invoice(session, tenant_id, [("300.00", "0", "K", None)], country="NL", vat_id=NL,
                    day=date(2026, 1, 15))  # fmt: skip
    reverse_invoice(session, tenant_id, early, "Rücksendung", reversal_date=date(2026, 4, 2))
    march = zm.compute(session, tenant_id, parse_period("2026-03"))
    assert [(ln.vat_id, ln.euros) for ln in march.lines] == [(FR, 2000)]
    assert zm.compute(session, tenant_id, parse_period("2026-05")).lines == []
    april = zm.compute(session, tenant_id, parse_period("2026-04"))
    assert [(ln.vat_id, ln.kind, ln.euros) for ln in april.lines] == [(NL, "L", -300)]
    assert zm.to_csv(april).endswith(b"NL859048288B01,-300,L\r\n")
    assert april.ustva["41"] == D("-300.00")


def test_quarterly_zm_above_the_limit_is_flagged(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    """§ 18a Abs. 1 UStG: more than 50.000 € of intra-community supplies in a quarter → monthly."""
    tid = make_tenant(chart="skr04")
    session.info["tenant_id"] = tid
    invoice(session, tid, [("50000.01", "0", "K", None)], country="FR", vat_id=FR,
            day=date(2026, 2, 3))  # fmt: skip
    codes = [c.code for c in zm.compute(session, tid, parse_period("2026-Q1")).checks]
    assert codes == ["zm.monthly_required"]
    assert zm.compute(session, tid, parse_period("2026-02")).checks == []
