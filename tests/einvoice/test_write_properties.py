"""Property-based: over generated invoices (mixed rates and VAT categories, discounts, net and
gross prices, credit notes) every written XRechnung passes our validator and its totals and VAT
breakdown obey the EN 16931 arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import reverse_invoice, tax_totals
from belegwerk.core.db import session_factory
from belegwerk.core.errors import ValidationFailed
from belegwerk.einvoice.validate import validate_file
from belegwerk.einvoice.write.service import render
from belegwerk.einvoice.write.source import Target
from tests.einvoice.writing import DAY, booked_out, customer, seller_tenant

CENT = Decimal("0.01")
# (rate, category, customer kind): the customer decides which categories are lawful
TREATMENTS = {
    "domestic": [("19", "S"), ("7", "S"), ("0", "Z"), ("0", "E")],
    "eu": [("0", "AE")],
    "eu_goods": [("0", "K")],
    "third": [("0", "G")],
}
PARTIES = {
    "domestic": {},
    "eu": {"name": "Client SARL", "country": "FR", "vat_id": "FR40303265045"},
    "eu_goods": {"name": "Kunde BV", "country": "NL", "vat_id": "NL004495445B01"},
    "third": {"name": "Customer Ltd", "country": "CH"},
}

quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(250), places=2)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=4)


@st.composite
def invoices(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(TREATMENTS)))
    treatments = TREATMENTS[kind]
    lines = []
    for i in range(draw(st.integers(1, 6))):
        rate, category = draw(st.sampled_from(treatments))
        price = draw(prices)
        if i and draw(st.integers(0, 5)) == 0:
            price = -price / 10  # a discount line
        lines.append(
            LineInput(
                f"Position {i + 1}",
                draw(quantities),
                price.quantize(Decimal("0.0001")),
                Decimal(rate),
                vat_category=category,
            )
        )
    return {
        "kind": kind,
        "lines": lines,
        "price_mode": draw(st.sampled_from(["net", "gross"])),
        "storno": draw(st.booleans()),
    }


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _num(value: Any) -> Decimal:
    assert value is not None and value.value is not None
    return Decimal(value.value)


@pytest.mark.parametrize("target", [Target.XRECHNUNG_UBL, Target.XRECHNUNG_CII])
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=invoices())
def test_written_totals_and_vat_breakdown_add_up(
    engine: Engine, make_tenant: Callable[..., int], target: Target, data: dict[str, Any]
) -> None:
    tenant = seller_tenant(make_tenant)
    s = session_factory(engine)()
    s.info["tenant_id"] = tenant
    try:
        party = customer(s, tenant, **PARTIES[data["kind"]])
        try:
            inv = booked_out(
                s,
                tenant,
                party,
                data["lines"],
                price_mode=data["price_mode"],
                exemptions={"E": ("VATEX-EU-132-1C", "Steuerfrei nach § 4 Nr. 14 UStG")},
            )
        except ValidationFailed as exc:  # the books refuse a non-positive total
            assert exc.code == "invoice.not_positive"
            return
        if data["storno"]:
            inv = reverse_invoice(s, tenant, inv.id, "Storno", reversal_date=DAY)
        content = render(s, tenant, inv.id, target)
        report = validate_file(content, "generated.xml")
        assert [(f.rule, f.message) for f in report.verdict.errors] == []
        model = report.invoice
        assert model is not None and model.totals is not None
        totals = model.totals
        line_sum = sum((_num(ln.net_amount) for ln in model.lines), Decimal(0))
        assert _num(totals.line_net) == line_sum  # BR-CO-10
        assert _num(totals.tax_exclusive) == line_sum  # BR-CO-13 (no allowances/charges)
        vat = sum((_num(b.tax_amount) for b in model.vat_breakdown), Decimal(0))
        assert _num(totals.vat_total_in("EUR")) == vat  # BR-CO-14
        assert _num(totals.tax_inclusive) == line_sum + vat  # BR-CO-15
        assert _num(totals.payable) == _num(totals.tax_inclusive)  # BR-CO-16
        for group in model.vat_breakdown:
            category = group.category.value if group.category else ""
            rate = _num(group.rate)
            members = [
                ln
                for ln in model.lines
                if ln.vat_category is not None
                and ln.vat_category.value == category
                and (ln.vat_rate is None or _num(ln.vat_rate) == rate)
            ]
            taxable = sum((_num(ln.net_amount) for ln in members), Decimal(0))
            assert _num(group.taxable_amount) == taxable  # BR-S-8 and siblings
            expected_tax = _round(taxable * rate / 100)
            assert abs(_num(group.tax_amount) - expected_tax) <= CENT  # BR-CO-17 (gross mode)
            if category != "S":
                assert _num(group.tax_amount) == 0
        for ln in model.lines:
            assert _num(ln.net_price) >= 0  # BR-27
            assert abs(_num(ln.quantity) * _num(ln.net_price) - _num(ln.net_amount)) <= CENT
        books = {
            (t.vat_category, t.vat_rate): (t.net, t.vat) for t in tax_totals(s, tenant, inv.id)
        }
        written = {
            (b.category.value if b.category else "", _num(b.rate)): (
                _num(b.taxable_amount),
                _num(b.tax_amount),
            )
            for b in model.vat_breakdown
        }
        assert written == books
        assert model.is_credit_note is data["storno"]
    finally:
        s.rollback()
        s.close()
