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
        # § 13b and intra-community acquisition (DATEV SKR03 account names checked against
        # public chart listings: 1577/1787 "... nach § 13b UStG 19 %", 1578/1785 without rate,
        # 1574/1774 "... aus innergemeinschaftlichem Erwerb 19 %", 1572/1772 without rate).
        "rc_input_19": "1577",
        "rc_input_7": "1578",
        "rc_output_19": "1787",
        "rc_output_7": "1785",
        "ic_input_19": "1574",
        "ic_input_7": "1572",
        "ic_output_19": "1774",
        "ic_output_7": "1772",
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
        # SKR04: 1407/1408 and 3837/3835 (§ 13b), 1404/1402 and 3804/3802 (acquisitions).
        "rc_input_19": "1407",
        "rc_input_7": "1408",
        "rc_output_19": "3837",
        "rc_output_7": "3835",
        "ic_input_19": "1404",
        "ic_input_7": "1402",
        "ic_output_19": "3804",
        "ic_output_7": "3802",
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


def self_assessed_account(chart: str, kind: str, rate: Decimal, *, output: bool) -> str:
    """Tax account of self-assessed VAT; ``kind`` is ``rc`` (§ 13b) or ``ic`` (acquisition)."""
    suffix = "19" if rate >= 16 else "7"
    return ACCOUNTS[chart][f"{kind}_{'output' if output else 'input'}_{suffix}"]
