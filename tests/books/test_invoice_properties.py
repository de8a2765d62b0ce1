"""Property tests of the invoice arithmetic (pure functions, no database)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from belegwerk.books.invoice_calc import LineInput, compute, distribute, line_base
from belegwerk.core.money import CENT, ZERO, round_money

RATES = [Decimal(0), Decimal(7), Decimal(19)]
HALF_CENT = Decimal("0.005")

quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(100000), places=4)
cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c) / 100)

lines_strategy = st.lists(
    st.builds(
        LineInput,
        description=st.just("x"),
        quantity=quantities,
        unit_price=prices,
        vat_rate=st.sampled_from(RATES),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, mode=st.sampled_from(["net", "gross"]))
def test_totals_add_up(lines: list[LineInput], mode: str) -> None:
    result = compute(lines, mode)
    for r in result.rates:
        assert r.net + r.vat == r.gross
        assert r.net == r.net.quantize(CENT) and r.vat == r.vat.quantize(CENT)
    assert result.net == sum((r.net for r in result.rates), ZERO)
    assert result.vat == sum((r.vat for r in result.rates), ZERO)
    assert result.gross == sum((r.gross for r in result.rates), ZERO)
    assert result.net + result.vat == result.gross
    # the per-line display values add up to the per-rate totals exactly
    for r in result.rates:
        idx = [i for i, ln in enumerate(lines) if ln.vat_rate == r.rate]
        assert sum((result.lines[i].net for i in idx), ZERO) == r.net
        assert sum((result.lines[i].vat for i in idx), ZERO) == r.vat
        assert sum((result.lines[i].gross for i in idx), ZERO) == r.gross
    assert {r.rate for r in result.rates} == {ln.vat_rate for ln in lines}


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy)
def test_net_mode_vat_is_within_half_a_cent_of_the_exact_rate(lines: list[LineInput]) -> None:
    result = compute(lines, "net")
    for r in result.rates:
        base = sum(
            (line_base(ln.quantity, ln.unit_price) for ln in lines if ln.vat_rate == r.rate), ZERO
        )
        assert r.net == base
        assert abs(r.vat - r.net * r.rate / 100) <= HALF_CENT
        # rounded once per rate: never further from exact than per-line rounding could drift
        assert r.vat == round_money(base * r.rate / 100)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy)
def test_gross_mode_net_is_within_half_a_cent(lines: list[LineInput]) -> None:
    result = compute(lines, "gross")
    for r in result.rates:
        assert abs(r.net - r.gross * 100 / (100 + r.rate)) <= HALF_CENT


@settings(max_examples=500, deadline=None)
@given(net=cents, rate=st.sampled_from(RATES))
def test_net_gross_round_trip(net: Decimal, rate: Decimal) -> None:
    """Net → gross (net mode) → net (gross mode) gives back the same net and VAT."""
    there = compute([LineInput("x", Decimal(1), net, rate)], "net")
    back = compute([LineInput("x", Decimal(1), there.gross, rate)], "gross")
    assert (back.net, back.vat, back.gross) == (there.net, there.vat, there.gross)


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=-(10**8), max_value=10**8).map(lambda c: Decimal(c) / 100),
    weights=st.lists(
        st.integers(min_value=-(10**7), max_value=10**7).map(lambda c: Decimal(c) / 100),
        min_size=1,
        max_size=20,
    ),
)
def test_distribute_sums_exactly(total: Decimal, weights: list[Decimal]) -> None:
    shares = distribute(total, weights)
    assert len(shares) == len(weights)
    assert sum(shares, ZERO) == total
    whole = sum(weights, ZERO)
    if whole != 0:
        for share, w in zip(shares, weights, strict=True):
            assert abs(share - total * w / whole) < Decimal("0.01")
