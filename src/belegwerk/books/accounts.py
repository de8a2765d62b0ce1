"""Money and tax accounts of the DATEV standard charts SKR03 and SKR04."""

from __future__ import annotations

from decimal import Decimal

ACCOUNTS: dict[str, dict[str, str]] = {
    "skr03": {
        "cash": "1000",
        "bank": "1200",
        "transit": "1360",  # Geldtransit (card, PayPal until settled)
        "receivables": "1400",
        "payables": "1600",
        "input_vat_7": "1571",
        "input_vat_19": "1576",
        "output_vat_7": "1771",
        "output_vat_19": "1776",
    },
    "skr04": {
        "cash": "1600",
        "bank": "1800",
        "transit": "1460",
        "receivables": "1200",
        "payables": "3300",
        "input_vat_7": "1401",
        "input_vat_19": "1406",
        "output_vat_7": "3801",
        "output_vat_19": "3806",
    },
}

# Where money of a payment method lands.
METHOD_ACCOUNT = {"cash": "cash", "bank": "bank", "card": "transit", "paypal": "transit"}


def account(chart: str, role: str) -> str:
    return ACCOUNTS[chart][role]


def vat_account(chart: str, rate: Decimal, *, output: bool) -> str | None:
    """The tax account for a rate; None for 0 % (no tax to book)."""
    if rate == 0:
        return None
    suffix = "19" if rate >= 16 else "7"
    return ACCOUNTS[chart][f"{'output' if output else 'input'}_vat_{suffix}"]
