"""What the DATEV exports need to know about the tenant's chart of accounts.

* **Automatic accounts** (Automatikkonten, DATEV functions AM/AV): DATEV derives the VAT from
  the account itself, so a booking on them carries no BU-Schlüssel (DATEV refuses one). SKR03
  numbers are those kivitendo's DATEV chart marks ``datevautomatik``
  (``kivitendo-erp:sql/Germany-DATEV-SKR03EU-chart.sql``); SKR04 has the same functions on the
  accounts the categories name as automatic (4400/4300, 5400/5300) and the tax-free revenue
  accounts. Intra-community acquisitions compute both taxes on their own ("special").
* **BU-Schlüssel** for postings with VAT on other accounts: the classic keys 3/2 (output VAT
  at the standard / reduced rate) and 9/8 (input VAT); DATEV takes the rate of the day from
  the Belegdatum, so 16 %/5 % bookings of the second half of 2020 use the same keys.
  A posting without VAT on an automatic account gets 40 ("Aufhebung der Automatik").
* **Sides**: DATEV books the gross amount from "Konto" to "Gegenkonto"; the money account
  (or the Personenkonto) is written as Konto, the category's account as Gegenkonto, as in
  DATEV's examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking.accounts import PAYPAL_LEDGER, ledger_account
from belegwerk.banking.models import BankAccount
from belegwerk.books import accounts
from belegwerk.books.categories import list_categories

Side = Literal["output", "input", "free", "special"]
RateClass = Literal["standard", "reduced"] | None


@dataclass(frozen=True)
class Automatic:
    side: Side
    rate: RateClass = None


_OUT_STD = Automatic("output", "standard")
_OUT_RED = Automatic("output", "reduced")
_IN_STD = Automatic("input", "standard")
_IN_RED = Automatic("input", "reduced")
_FREE = Automatic("free")
_SPECIAL = Automatic("special")

AUTOMATIC: dict[str, dict[str, Automatic]] = {
    "skr03": {
        "8400": _OUT_STD,
        "8300": _OUT_RED,
        "8310": _OUT_RED,
        "8315": _OUT_STD,
        "8591": _OUT_RED,
        "8595": _OUT_STD,
        "8820": _OUT_STD,
        "8910": _OUT_STD,
        "8915": _OUT_RED,
        "8925": _OUT_STD,
        "8930": _OUT_RED,
        "8935": _OUT_STD,
        "8731": _OUT_RED,
        "8750": _OUT_RED,
        "8760": _OUT_STD,
        "8780": _OUT_RED,
        "8790": _OUT_STD,
        "3400": _IN_STD,
        "3300": _IN_RED,
        "3731": _IN_RED,
        "3735": _IN_STD,
        "3750": _IN_RED,
        "3760": _IN_STD,
        "3780": _IN_RED,
        "3790": _IN_STD,
        "8100": _FREE,
        "8110": _FREE,
        "8120": _FREE,
        "8125": _FREE,
        "8130": _FREE,
        "8135": _FREE,
        "8150": _FREE,
        "3420": _SPECIAL,
        "3425": _SPECIAL,
        "3440": _SPECIAL,
        # Revenue accounts of the categories for EU services and domestic § 13b sales.
        "8336": _FREE,
        "8337": _FREE,
    },
    "skr04": {
        "4400": _OUT_STD,
        "4300": _OUT_RED,
        "5400": _IN_STD,
        "5300": _IN_RED,
        "4100": _FREE,
        "4120": _FREE,
        "4125": _FREE,
        "5420": _SPECIAL,
        "5425": _SPECIAL,
        "4336": _FREE,
        "4337": _FREE,
    },
}

STANDARD_KEYS = {("output", "standard"): "3", ("output", "reduced"): "2"}
STANDARD_KEYS |= {("input", "standard"): "9", ("input", "reduced"): "8"}
CANCEL_AUTOMATIC = "40"
# Personenkonten: one digit longer than the Sachkonten; Debitoren 1…, Kreditoren 7… .
SACHKONTO_LENGTH = 4


def rate_class(rate: Decimal) -> RateClass:
    """Standard (19 %, 16 % in H2 2020) or reduced (7 %, 5 %) rate; None for anything else."""
    if rate in (Decimal(19), Decimal(16)):
        return "standard"
    if rate in (Decimal(7), Decimal(5)):
        return "reduced"
    return None


def is_person_account(account: str) -> bool:
    return account.isdigit() and len(account) == SACHKONTO_LENGTH + 1


@dataclass
class ChartContext:
    """The tenant's accounts, sorted by what DATEV needs to know about them."""

    chart: str
    money: set[str]
    receivables: str
    payables: str
    output_tax: set[str]
    input_tax: set[str]
    self_assessed_tax: set[str] = field(default_factory=set)  # § 13b and acquisitions
    category_accounts: dict[str, int] = field(default_factory=dict)
    category_keys: dict[int, str] = field(default_factory=dict)
    category_by_key: dict[str, int] = field(default_factory=dict)

    @property
    def automatic(self) -> dict[str, Automatic]:
        return AUTOMATIC.get(self.chart, {})

    def known(self, account: str) -> bool:
        """An account Belegwerk knows in this chart: money, tax, category, automatic account or
        a Personenkonto."""
        return (
            account in self.money
            or account in (self.receivables, self.payables)
            or account in self.output_tax
            or account in self.input_tax
            or account in self.self_assessed_tax
            or account in self.category_accounts
            or account in self.automatic
            or is_person_account(account)
        )

    def rank(self, account: str) -> int:
        """0 money, 1 receivable/payable or Personenkonto, 2 anything else: the lower rank is
        written as Konto."""
        if account in self.money:
            return 0
        if account in (self.receivables, self.payables) or is_person_account(account):
            return 1
        return 2

    def tax_side(self, tax_account: str | None) -> Side | None:
        if tax_account in self.output_tax:
            return "output"
        if tax_account in self.input_tax:
            return "input"
        return None


def chart_context(session: Session, tenant_id: int, chart: str) -> ChartContext:
    money = {accounts.account(chart, role) for role in ("cash", "bank", "transit")}
    money.add(PAYPAL_LEDGER[chart])
    for bank in session.scalars(select(BankAccount).where(BankAccount.tenant_id == tenant_id)):
        money.add(ledger_account(session, tenant_id, bank))
    table = accounts.ACCOUNTS[chart]
    ctx = ChartContext(
        chart=chart,
        money=money,
        receivables=table["receivables"],
        payables=table["payables"],
        output_tax={table["output_vat_7"], table["output_vat_19"]},
        input_tax={table["input_vat_7"], table["input_vat_19"]},
        self_assessed_tax={v for k, v in table.items() if k.startswith(("rc_", "ic_"))},
    )
    for view in list_categories(session, tenant_id):
        category = view.category
        ctx.category_keys[category.id] = category.key
        ctx.category_by_key[category.key] = category.id
        account = view.account
        if account and account not in money:
            ctx.category_accounts.setdefault(account, category.id)
    return ctx


@dataclass(frozen=True)
class KeyDecision:
    """The BU-Schlüssel of a posting, or why none fits (``problem``)."""

    key: str
    problem: str = ""  # "" | "rate_mismatch" | "no_tax_side" | "odd_rate" | "key_on_automatic"


def bu_key(
    ctx: ChartContext,
    *,
    konto: str,
    gegenkonto: str,
    tax_key: str,
    tax_amount_cents: int,
    tax_rate: Decimal,
    tax_account: str | None,
) -> KeyDecision:
    """The BU-Schlüssel DATEV needs to book the posting's VAT exactly as the journal has it.

    A key set on the posting (special VAT cases) is passed through unchanged.
    """
    auto = ctx.automatic.get(gegenkonto) or ctx.automatic.get(konto)
    if tax_key:
        if auto is not None and not tax_key.startswith("4"):
            return KeyDecision(tax_key, "key_on_automatic")
        return KeyDecision(tax_key)
    if auto is None:
        if tax_amount_cents == 0:
            return KeyDecision("")
        side = ctx.tax_side(tax_account)
        if side is None:
            return KeyDecision("", "no_tax_side")
        klass = rate_class(tax_rate)
        if klass is None:
            return KeyDecision("", "odd_rate")
        return KeyDecision(STANDARD_KEYS[(side, klass)])
    if auto.side == "special":
        return KeyDecision("")
    if tax_amount_cents == 0:
        return KeyDecision("" if auto.side == "free" else CANCEL_AUTOMATIC)
    if auto.side == "free" or auto.rate != rate_class(tax_rate):
        return KeyDecision("", "rate_mismatch")
    return KeyDecision("")
