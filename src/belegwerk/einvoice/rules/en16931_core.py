"""EN 16931 BR-01 … BR-16: the terms every invoice must have.

Where the official UBL and CII bindings differ, the rule follows each: the CII binding checks
the seller and buyer country codes (BR-09, BR-11) from the root, so they fire even when the
whole address is missing; the UBL binding checks them inside an existing address only.
"""

from __future__ import annotations

from collections.abc import Iterator

from belegwerk.core.i18n import _
from belegwerk.einvoice.detect import Syntax
from belegwerk.einvoice.model import Party
from belegwerk.einvoice.rules.registry import Hit, RuleContext, rule
from belegwerk.einvoice.rules.xpath import blank
from belegwerk.einvoice.values import Text


@rule("BR-01", bt="BT-24")
def specification_identifier(ctx: RuleContext) -> Iterator[Hit]:
    if blank(ctx.invoice.spec_id):
        yield Hit(ctx.invoice.source, _("The invoice has no specification identifier (BT-24)."))


@rule("BR-02", bt="BT-1")
def invoice_number(ctx: RuleContext) -> Iterator[Hit]:
    if blank(ctx.invoice.number):
        yield Hit(ctx.invoice.source, _("The invoice has no invoice number (BT-1)."))


@rule("BR-03", bt="BT-2")
def issue_date(ctx: RuleContext) -> Iterator[Hit]:
    day = ctx.invoice.issue_date
    # CII: only a DateTimeString in format 102 (YYYYMMDD) is the issue date.
    if day is None or not day.raw.strip(" \t\r\n") or day.format not in (None, "102"):
        yield Hit(ctx.invoice.source, _("The invoice has no issue date (BT-2)."))


@rule("BR-04", bt="BT-3")
def type_code(ctx: RuleContext) -> Iterator[Hit]:
    if blank(ctx.invoice.type_code):
        yield Hit(ctx.invoice.source, _("The invoice has no invoice type code (BT-3)."))


@rule("BR-05", bt="BT-5")
def currency(ctx: RuleContext) -> Iterator[Hit]:
    if blank(ctx.invoice.currency):
        yield Hit(ctx.invoice.source, _("The invoice has no invoice currency code (BT-5)."))


@rule("BR-06", bt="BT-27")
def seller_name(ctx: RuleContext) -> Iterator[Hit]:
    if blank(_name(ctx.invoice.seller)):
        yield Hit(ctx.invoice.source, _("The invoice does not name the seller (BT-27)."))


@rule("BR-07", bt="BT-44")
def buyer_name(ctx: RuleContext) -> Iterator[Hit]:
    if blank(_name(ctx.invoice.buyer)):
        yield Hit(ctx.invoice.source, _("The invoice does not name the buyer (BT-44)."))


@rule("BR-08", bt="BG-5")
def seller_address(ctx: RuleContext) -> Iterator[Hit]:
    seller = ctx.invoice.seller
    if seller is None or seller.address is None:
        yield Hit(ctx.invoice.source, _("The invoice has no seller postal address (BG-5)."))


@rule("BR-09", bt="BT-40")
def seller_country(ctx: RuleContext) -> Iterator[Hit]:
    yield from _country(
        ctx, ctx.invoice.seller, _("The seller address has no country code (BT-40).")
    )


@rule("BR-10", bt="BG-8")
def buyer_address(ctx: RuleContext) -> Iterator[Hit]:
    buyer = ctx.invoice.buyer
    if buyer is None or buyer.address is None:
        yield Hit(ctx.invoice.source, _("The invoice has no buyer postal address (BG-8)."))


@rule("BR-11", bt="BT-55")
def buyer_country(ctx: RuleContext) -> Iterator[Hit]:
    message = _("The buyer address has no country code (BT-55).")
    yield from _country(ctx, ctx.invoice.buyer, message)


def _name(party: Party | None) -> Text | None:
    return None if party is None else party.name


def _country(ctx: RuleContext, party: Party | None, message: str) -> Iterator[Hit]:
    address = party.address if party is not None else None
    if address is None:
        if ctx.syntax is Syntax.CII:
            yield Hit(ctx.invoice.source, message)
    elif blank(address.country):
        yield Hit(address.source, message)


def _missing_total(ctx: RuleContext, term: str, message: str) -> Iterator[Hit]:
    totals = ctx.totals
    if totals is not None and getattr(totals, term) is None:
        yield Hit(totals.source, message)


@rule("BR-12", bt="BT-106")
def line_net_total(ctx: RuleContext) -> Iterator[Hit]:
    message = _("The totals lack the sum of line net amounts (BT-106).")
    yield from _missing_total(ctx, "line_net", message)


@rule("BR-13", bt="BT-109")
def total_without_vat(ctx: RuleContext) -> Iterator[Hit]:
    message = _("The totals lack the total amount without VAT (BT-109).")
    yield from _missing_total(ctx, "tax_exclusive", message)


@rule("BR-14", bt="BT-112")
def total_with_vat(ctx: RuleContext) -> Iterator[Hit]:
    message = _("The totals lack the total amount with VAT (BT-112).")
    yield from _missing_total(ctx, "tax_inclusive", message)


@rule("BR-15", bt="BT-115")
def amount_due(ctx: RuleContext) -> Iterator[Hit]:
    message = _("The totals lack the amount due for payment (BT-115).")
    yield from _missing_total(ctx, "payable", message)


@rule("BR-16", bt="BG-25")
def at_least_one_line(ctx: RuleContext) -> Iterator[Hit]:
    if not ctx.invoice.lines:
        yield Hit(ctx.invoice.source, _("The invoice has no invoice line (BG-25)."))
