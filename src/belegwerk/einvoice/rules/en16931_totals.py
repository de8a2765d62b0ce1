"""EN 16931 BR-CO-10 … BR-CO-16: the document totals add up.

Each rule follows the official UBL and CII bindings of CEN schematron 1.3.16, including their
differences: UBL compares ``BT-109 = BT-106`` exactly when there are no document allowances or
charges while CII rounds; CII treats a paid amount (BT-113) or rounding amount (BT-114) of zero
like an absent one in BR-CO-16 and compares without rounding; BR-CO-15 in CII also accepts
``BT-112 = BT-109`` without a VAT total.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from belegwerk.core.i18n import _, format_money
from belegwerk.einvoice.detect import Syntax
from belegwerk.einvoice.model import AllowanceCharge, Totals
from belegwerk.einvoice.parse_ubl import NS as UBL_NS
from belegwerk.einvoice.rules.registry import Hit, RuleContext, rule
from belegwerk.einvoice.rules.xpath import is_true, nonzero, number, round2, total
from belegwerk.einvoice.xmlnode import Node


def _money(value: Decimal | None) -> str:
    return "–" if value is None else format_money(value, currency=False)


@rule("BR-CO-10", bt="BT-106")
def line_net_sum(ctx: RuleContext) -> Iterator[Hit]:
    totals = ctx.totals
    if totals is None:
        return
    stated = number(totals.line_net)
    if stated is None:
        yield Hit(totals.source, _("The sum of line net amounts (BT-106) is missing."))
        return
    expected = round2(total(line.net_amount for line in ctx.invoice.lines))
    if stated != expected:
        yield Hit(
            totals.line_net.source if totals.line_net else totals.source,
            _(
                "The sum of line net amounts (BT-106) is {stated}, but the invoice lines "
                "(BT-131) add up to {expected}."
            ).format(stated=_money(stated), expected=_money(expected)),
        )


def _sum_rule(
    ctx: RuleContext, charge: bool, stated_amount_of: str, message_missing: str, message: str
) -> Iterator[Hit]:
    totals = ctx.totals
    if totals is None:
        return
    stated_amount = getattr(totals, stated_amount_of)
    # The filter [ChargeIndicator = true()/false()] reads every indicator first.
    parts = [ac for ac in ctx.invoice.allowances_charges if _is(ac, charge)]
    if stated_amount is None:
        if parts:
            yield Hit(totals.source, message_missing)
        return
    stated = stated_amount.require()
    expected = round2(total(ac.amount for ac in parts))
    if stated != expected:
        yield Hit(
            stated_amount.source,
            message.format(stated=_money(stated), expected=_money(expected)),
        )


def _is(ac: AllowanceCharge, charge: bool) -> bool:
    return is_true(ac.indicator, charge)


@rule("BR-CO-11", bt="BT-107")
def allowance_sum(ctx: RuleContext) -> Iterator[Hit]:
    yield from _sum_rule(
        ctx,
        False,
        "allowances",
        _("The invoice has document level allowances (BG-20) but no sum of allowances (BT-107)."),
        _(
            "The sum of allowances on document level (BT-107) is {stated}, but the allowances "
            "(BT-92) add up to {expected}."
        ),
    )


@rule("BR-CO-12", bt="BT-108")
def charge_sum(ctx: RuleContext) -> Iterator[Hit]:
    yield from _sum_rule(
        ctx,
        True,
        "charges",
        _("The invoice has document level charges (BG-21) but no sum of charges (BT-108)."),
        _(
            "The sum of charges on document level (BT-108) is {stated}, but the charges "
            "(BT-99) add up to {expected}."
        ),
    )


@rule("BR-CO-13", bt="BT-109")
def total_without_vat_sum(ctx: RuleContext) -> Iterator[Hit]:
    totals = ctx.totals
    if totals is None:
        return
    stated = number(totals.tax_exclusive)
    lines = number(totals.line_net)
    allowances = number(totals.allowances)
    charges = number(totals.charges)
    expected: Decimal | None = None
    if lines is not None:
        raw = lines - (allowances or 0) + (charges or 0)
        exact = ctx.syntax is Syntax.UBL and allowances is None and charges is None
        expected = raw if exact else round2(raw)
    if stated is None or expected is None or stated != expected:
        yield Hit(
            totals.tax_exclusive.source if totals.tax_exclusive else totals.source,
            _(
                "The total without VAT (BT-109) is {stated}, but line net sum (BT-106) minus "
                "allowances (BT-107) plus charges (BT-108) is {expected}."
            ).format(stated=_money(stated), expected=_money(expected)),
        )


@rule("BR-CO-14", bt="BT-110")
def vat_total_sum(ctx: RuleContext) -> Iterator[Hit]:
    message = _(
        "The invoice total VAT amount (BT-110) is {stated}, but the VAT breakdown (BT-117) "
        "adds up to {expected}."
    )
    if ctx.syntax is Syntax.UBL:
        # Per cac:TaxTotal that has subtotals: its TaxAmount equals their sum.
        for tax_total in _tax_totals(ctx):
            subtotals = [s.amount("cbc:TaxAmount") for s in tax_total.children("cac:TaxSubtotal")]
            if not subtotals:
                continue
            amount = tax_total.amount("cbc:TaxAmount")
            stated = number(amount)
            expected = round2(total(subtotals))
            if stated != expected:
                where = amount.source if amount else tax_total.location
                yield Hit(where, message.format(stated=_money(stated), expected=_money(expected)))
        return
    totals = ctx.totals
    currency = ctx.invoice.currency
    if totals is None or currency is None:
        return
    breakdown = round2(total(v.tax_amount for v in ctx.invoice.vat_breakdown))
    for amount in totals.vat_totals:
        if amount.currency == currency.value and amount.require() != breakdown:
            yield Hit(
                amount.source,
                message.format(stated=_money(amount.value), expected=_money(breakdown)),
            )


def _tax_totals(ctx: RuleContext) -> list[Node]:
    """The UBL ``cac:TaxTotal`` groups, without indexing the whole (possibly huge) document."""
    found = list(ctx.root.iterchildren(f"{{{UBL_NS['cac']}}}TaxTotal"))
    base = ctx.invoice.source.xpath + "/cac:TaxTotal"
    if len(found) == 1:
        return [Node(found[0], base, UBL_NS)]
    return [Node(el, f"{base}[{i}]", UBL_NS) for i, el in enumerate(found, 1)]


@rule("BR-CO-15", bt="BT-112")
def total_with_vat_sum(ctx: RuleContext) -> Iterator[Hit]:
    inv = ctx.invoice
    if inv.currency is None:
        return  # "every $Currency in …" over no currency holds
    amounts = inv.totals.vat_totals if inv.totals else []
    in_currency = [a for a in amounts if a.currency == inv.currency.value]
    for amount in in_currency:
        amount.require()
    declared = ctx.totals
    with_vat = number(declared.tax_inclusive) if declared else None
    without_vat = number(declared.tax_exclusive) if declared else None
    vat = in_currency[0].value if len(in_currency) == 1 else None
    ok = (
        len(in_currency) == 1
        and with_vat is not None
        and without_vat is not None
        and vat is not None
        and with_vat == round2(without_vat + vat)
    )
    if not ok and ctx.syntax is Syntax.CII:
        ok = with_vat is not None and with_vat == without_vat
    if not ok:
        expected = (
            round2(without_vat + vat) if without_vat is not None and vat is not None else None
        )
        yield Hit(
            declared.tax_inclusive.source if declared and declared.tax_inclusive else inv.source,
            _(
                "The total with VAT (BT-112) is {stated}, but the total without VAT (BT-109) "
                "plus exactly one total VAT amount in the invoice currency (BT-110) is "
                "{expected}."
            ).format(stated=_money(with_vat), expected=_money(expected)),
        )


@rule("BR-CO-16", bt="BT-115")
def amount_due_sum(ctx: RuleContext) -> Iterator[Hit]:
    totals = ctx.totals
    if totals is None:
        return
    payable = number(totals.payable)
    with_vat = number(totals.tax_inclusive)
    if ctx.syntax is Syntax.UBL:
        ok = _ubl_amount_due(totals, payable, with_vat)
    else:
        ok = _cii_amount_due(totals, payable, with_vat)
    if not ok:
        prepaid = number(totals.prepaid) or 0
        rounding = number(totals.rounding) or 0
        expected = with_vat - prepaid + rounding if with_vat is not None else None
        yield Hit(
            totals.payable.source if totals.payable else totals.source,
            _(
                "The amount due (BT-115) is {stated}, but total with VAT (BT-112) minus paid "
                "amount (BT-113) plus rounding amount (BT-114) is {expected}."
            ).format(stated=_money(payable), expected=_money(expected)),
        )


def _ubl_amount_due(totals: Totals, payable: Decimal | None, with_vat: Decimal | None) -> bool:
    prepaid = number(totals.prepaid)
    target = with_vat if prepaid is None or with_vat is None else round2(with_vat - prepaid)
    if payable is None or target is None:
        return False
    rounding = number(totals.rounding)
    if rounding is None:
        return payable == target
    return round2(payable - rounding) == target


def _cii_amount_due(totals: Totals, payable: Decimal | None, with_vat: Decimal | None) -> bool:
    prepaid = number(totals.prepaid)
    rounding = number(totals.rounding)
    if payable is None or with_vat is None:
        return False
    if prepaid is not None and rounding is not None and payable == with_vat - prepaid + rounding:
        return True
    no_prepaid = not nonzero(totals.prepaid)
    no_rounding = not nonzero(totals.rounding)
    if rounding is not None and no_prepaid and payable == with_vat + rounding:
        return True
    if prepaid is not None and no_rounding and payable == with_vat - prepaid:
        return True
    return no_prepaid and no_rounding and payable == with_vat
