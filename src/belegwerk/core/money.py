"""Money is Decimal with two places, rounded half-up (kaufmännisch), as German tax law expects."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("9999999999.99")  # DATEV allows 10 integer digits


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value: object, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """Validate an amount at the edge: a number, at most two places, within DATEV's range."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(" ", "")) if value is not None else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationFailed(
            "money.not_a_number",
            _("The amount is not a number."),
            [{"field": field, "value": str(value)}],
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(CENT):
        raise ValidationFailed(
            "money.too_many_decimals",
            _("Amounts may have at most two decimal places."),
            [{"field": field, "value": str(value)}],
        )
    if amount < 0 and not allow_negative:
        raise ValidationFailed(
            "money.negative",
            _("The amount must not be negative."),
            [{"field": field, "value": str(value)}],
        )
    if abs(amount) > MAX_AMOUNT:
        raise ValidationFailed(
            "money.too_large",
            _("The amount is too large."),
            [{"field": field, "value": str(value)}],
        )
    return amount.quantize(CENT)


def vat_from_net(net: Decimal, rate: Decimal) -> Decimal:
    """VAT on a net amount; ``rate`` in percent (19, 7, 0)."""
    return round_money(net * rate / HUNDRED)


def split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net and VAT contained in a gross amount; net + VAT == gross exactly."""
    net = round_money(gross * HUNDRED / (HUNDRED + rate))
    return net, gross - net


def distribute_cents(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` cents over ``weights`` in proportion, summing exactly to ``total``.

    Largest-remainder (Hamilton) method in integers; ties go to the earlier weight. Signed
    weights work (discount lines): the floors always leave 0..n-1 cents to hand out. A zero sum
    of weights gives everything to the first.
    """
    if len(weights) < 2:
        return [total] if weights else []
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    if whole < 0:
        whole, weights = -whole, [-w for w in weights]
    parts = [divmod(total * w, whole) for w in weights]
    shares = [q for q, _r in parts]
    left = total - sum(shares)
    if left:
        order = sorted(range(len(parts)), key=lambda i: (-parts[i][1], i))
        for i in order[:left]:
            shares[i] += 1
    return shares


def to_cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)  # exact, two places; much cheaper than divide + quantize
