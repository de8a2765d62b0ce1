"""The arithmetic of the official schematron (XPath 2.0), reproduced on Decimal.

The CEN rules compare amounts after ``round(x * 10 * 10) div 100``; XPath ``round`` rounds
half towards positive infinity (``round(-2.5) = -2``), which is not Python's half-even nor the
commercial half-up for negative numbers. Money in the books uses ``core.money`` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

from belegwerk.einvoice.values import Amount, Flag, Text

HALF = Decimal("0.5")
HUNDRED = Decimal(100)


def xpath_round(value: Decimal) -> Decimal:
    return (value + HALF).to_integral_value(rounding=ROUND_FLOOR)


def round2(value: Decimal) -> Decimal:
    """``round(value * 10 * 10) div 100``."""
    return xpath_round(value * HUNDRED) / HUNDRED


def blank(value: Text | None) -> bool:
    """``normalize-space(x) = ''`` (also true when the element is absent)."""
    return value is None or not value.value


def number(amount: Amount | None) -> Decimal | None:
    """``xs:decimal(x)``: None for an absent element; MalformedValue for a non-number."""
    return None if amount is None else amount.require()


def total(amounts: Iterable[Amount | None]) -> Decimal:
    """``sum(xs:decimal(x))`` over the present amounts."""
    return sum((a.require() for a in amounts if a is not None), Decimal(0))


def is_true(flag: Flag | None, expected: bool) -> bool:
    """``x = true()`` / ``x = false()``: false for an absent element, MalformedValue for a
    value that is no xs:boolean."""
    return flag is not None and flag.require() is expected


def nonzero(amount: Amount | None) -> bool:
    """The effective boolean value of ``xs:decimal(x)``: absent or zero is false."""
    value = number(amount)
    return value is not None and value != 0
