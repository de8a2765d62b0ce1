"""Invoice arithmetic: pure functions, no database.

VAT is rounded half-up ONCE per rate over the summed line amounts (never per line), as the
German invoice rules and DATEV expect. Per-line VAT (net mode) or net (gross mode) is only for
display: the per-rate figure is distributed over the lines in proportion to their amounts with the
largest-remainder method, so the line values add up exactly to the per-rate totals and a sum over
any subset of lines (e.g. per category for the journal) never drifts from the invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import (
    CENT,
    MAX_AMOUNT,
    ZERO,
    distribute_cents,
    from_cents,
    round_money,
    split_gross,
    to_cents,
    vat_from_net,
)

PRICE_MODES = ("net", "gross")
SCALED_PLACES = 4
MAX_SCALED = Decimal("999999999.9999")


def parse_scaled(value: object, field: str, places: int = SCALED_PLACES) -> Decimal:
    """Quantities and unit prices: a number with at most ``places`` decimals (sign allowed)."""
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(" ", "")) if value is not None else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationFailed(
            "money.not_a_number",
            _("The value is not a number."),
            [{"field": field, "value": str(value)}],
        )
    step = Decimal(1).scaleb(-places)
    if number != number.quantize(step, rounding=ROUND_DOWN):
        raise ValidationFailed(
            "money.too_many_decimals",
            _("Quantities and unit prices may have at most {places} decimal places.").format(
                places=places
            ),
            [{"field": field, "value": str(value)}],
        )
    if abs(number) > MAX_SCALED:
        raise ValidationFailed(
            "money.too_large",
            _("The value is too large."),
            [{"field": field, "value": str(value)}],
        )
    return number.quantize(step)


@dataclass(frozen=True)
class LineInput:
    """One invoice line as entered; quantity and unit price carry up to four places."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    unit: str = "C62"
    category_id: int | None = None
    vat_category: str = ""  # EN 16931 VAT category code (UNCL5305); "" = from the rate


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class RateTotal:
    """One VAT breakdown group (EN 16931 BG-23): rate and category."""

    rate: Decimal
    net: Decimal
    vat: Decimal
    gross: Decimal
    category: str = "S"


@dataclass(frozen=True)
class Computation:
    lines: tuple[LineAmounts, ...]
    rates: tuple[RateTotal, ...]  # highest rate first, then by category
    net: Decimal
    vat: Decimal
    gross: Decimal


def line_base(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """Quantity × unit price rounded half-up to cents: the line net (or gross in gross mode)."""
    return round_money(quantity * unit_price)


def distribute(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` proportionally, in cents, summing exactly to ``total``
    (largest remainder, see :func:`belegwerk.core.money.distribute_cents`)."""
    shares = distribute_cents(to_cents(total), [to_cents(w) for w in weights])
    return [from_cents(s) for s in shares]


def compute(lines: Sequence[LineInput], price_mode: str = "net") -> Computation:
    """Line, per-group and invoice totals; a group is one (VAT category, rate) pair.

    Net mode: per group, VAT = round(Σ line nets × rate); gross = net + VAT.
    Gross mode: per group, net = round(Σ line grosses / (1 + rate)); VAT = gross − net.
    """
    if price_mode not in PRICE_MODES:
        raise ValueError(price_mode)
    bases = [line_base(ln.quantity, ln.unit_price) for ln in lines]
    by_rate: dict[tuple[Decimal, str], list[int]] = {}
    for i, ln in enumerate(lines):
        by_rate.setdefault((ln.vat_rate.quantize(CENT), ln.vat_category), []).append(i)
    amounts: list[LineAmounts | None] = [None] * len(lines)
    rates: list[RateTotal] = []
    for rate, category in sorted(by_rate, key=lambda k: (-k[0], k[1])):
        idx = by_rate[(rate, category)]
        base_sum = sum((bases[i] for i in idx), ZERO)
        if price_mode == "net":
            net, vat = base_sum, vat_from_net(base_sum, rate)
            gross = net + vat
            shares = distribute(vat, [bases[i] for i in idx])
            for i, share in zip(idx, shares, strict=True):
                amounts[i] = LineAmounts(net=bases[i], vat=share, gross=bases[i] + share)
        else:
            gross = base_sum
            net, vat = split_gross(gross, rate)
            shares = distribute(net, [bases[i] for i in idx])
            for i, share in zip(idx, shares, strict=True):
                amounts[i] = LineAmounts(net=share, vat=bases[i] - share, gross=bases[i])
        rates.append(RateTotal(rate=rate, net=net, vat=vat, gross=gross, category=category))
    return Computation(
        lines=tuple(a for a in amounts if a is not None),
        rates=tuple(rates),
        net=sum((r.net for r in rates), ZERO),
        vat=sum((r.vat for r in rates), ZERO),
        gross=sum((r.gross for r in rates), ZERO),
    )


def check_totals_range(result: Computation) -> None:
    """Lines and totals must fit DATEV's amount field (10 integer digits)."""
    for i, line in enumerate(result.lines):
        if max(abs(line.net), abs(line.gross)) > MAX_AMOUNT:
            raise ValidationFailed(
                "money.too_large",
                _("The amount is too large."),
                [{"field": f"lines[{i}]", "value": str(line.gross)}],
            )
    for name in ("net", "vat", "gross"):
        value: Decimal = getattr(result, name)
        if abs(value) > MAX_AMOUNT:
            raise ValidationFailed(
                "money.too_large",
                _("The amount is too large."),
                [{"field": f"{name}_total", "value": str(value)}],
            )


def check_expected(
    result: Computation,
    net: Decimal | None,
    vat: Decimal | None,
    gross: Decimal | None,
) -> None:
    """Totals the client computed itself must agree with each other and with ours (±1 cent)."""
    if net is not None and vat is not None and gross is not None and abs(net + vat - gross) > CENT:
        raise ValidationFailed(
            "money.inconsistent",
            _("Net plus VAT does not equal gross ({net} + {vat} ≠ {gross}).").format(
                net=format_money(net), vat=format_money(vat), gross=format_money(gross)
            ),
            [{"field": "gross_total", "net": str(net), "vat": str(vat), "gross": str(gross)}],
        )
    for name, given in (("net", net), ("vat", vat), ("gross", gross)):
        ours: Decimal = getattr(result, name)
        if given is not None and abs(given - ours) > CENT:
            raise ValidationFailed(
                "money.inconsistent",
                _("The given total {given} does not match the computed {computed}.").format(
                    given=format_money(given), computed=format_money(ours)
                ),
                [{"field": f"{name}_total", "value": str(given), "computed": str(ours)}],
            )
