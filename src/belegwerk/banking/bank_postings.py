"""Journal postings of classified bank lines (source type ``bank_tx``, voucher ``B-<id>``).

Only a confirmed classification books, on the bank line's booking date, against the money
account of its bank account (:func:`belegwerk.banking.accounts.ledger_account`):

* business with a category — money in: revenue (or, for an expense category, a refund that
  lowers the expense and its input VAT); money out: expense with input VAT if deductible (or,
  for a revenue category, a refund that lowers revenue and output VAT). VAT is split from the
  gross with the category's default rate (19/7 % become 16/5 % for lines of the second half of
  2020); a small business (§ 19 UStG) books no VAT, and its revenue goes to the § 19 revenue
  category. Categories without profit effect (loan repayment, cash in transit) move the money
  without VAT.
* private withdrawal — debit the private withdrawal account, credit the bank;
  private deposit — debit the bank, credit the private deposit account.
* private, and business without category — nothing (the latter waits for a category or an
  invoice match; invoice payments book through :mod:`belegwerk.books.payments`).

Where parts of a line are linked to invoices (bank matches with status ``linked``), those parts
are booked by the payments and only the rest is booked here.

A change of decision reverses the line's open postings (mirror postings of source type
``bank_tx_rev``, dated on the booking date so the correction lands in the period of the money
movement) and books the new ones; the journal stays append-only. :func:`repost` does both and is
what the matching calls after linking or unlinking a line.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from belegwerk.banking.accounts import ledger_account
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, PaymentMatch
from belegwerk.books import journal
from belegwerk.books import vat_treatment as vt
from belegwerk.books.categories import (
    RATE_BOUND_REVENUE,
    account_for,
    category_by_key,
    get_category,
    revenue_category_for_rate,
)
from belegwerk.books.models import Category, Payment, Posting
from belegwerk.books.vat import allowed_rates
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO, split_gross, vat_from_net
from belegwerk.core.types import utcnow
from belegwerk.tenancy.service import get_company

SOURCE_TYPE = "bank_tx"
REVERSAL_TYPE = "bank_tx_rev"
CURRENCY = "EUR"
# Standard rate of a category → the rate of the temporary reduction (1 July - 31 Dec 2020).
_TEMPORARY = {Decimal(19): Decimal(16), Decimal(7): Decimal(5)}
_IN_CHUNK = 5000


def voucher(transaction_id: int) -> str:
    return f"B-{transaction_id}"


@dataclass(frozen=True)
class LineFacts:
    """What booking needs of a bank line."""

    id: int
    account_id: int
    booking_date: date
    amount: Decimal  # signed, money in positive
    currency: str
    text: str
    country: str = ""  # the counterparty's country, from its IBAN where known

    @classmethod
    def of(cls, tx: BankTransaction) -> LineFacts:
        return cls(
            id=tx.id,
            account_id=tx.account_id,
            booking_date=tx.booking_date,
            amount=tx.amount,
            currency=tx.currency,
            text=posting_text(tx.counterparty_name, tx.purpose, tx.booking_text),
            country=iban_country(tx.counterparty_iban),
        )


def iban_country(iban: str | None) -> str:
    """The country of an IBAN (its first two letters), or empty."""
    prefix = (iban or "").strip()[:2].upper()
    return prefix if prefix.isalpha() and len(prefix) == 2 else ""


def posting_text(name: str, purpose: str, booking_text: str) -> str:
    name = " ".join(name.split())
    purpose = " ".join(purpose.split())
    if name and purpose:
        return f"{name}: {purpose}"
    return name or purpose or " ".join(booking_text.split()) or "Bank"


def _rate_on(rate: Decimal, day: date) -> Decimal:
    if rate in allowed_rates(day):
        return rate
    return _TEMPORARY.get(rate, rate)


class PostingContext:
    """What booking many lines of one tenant needs, loaded once: chart, VAT regime, the money
    account of every bank account and the accounts of the categories used."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        company = get_company(session, tenant_id)
        self.chart = company.chart
        self.small_business = company.vat_regime == "small_business"
        self._money: dict[int, str] = {}
        self._categories: dict[int, Category] = {}
        self._accounts: dict[int, str] = {}
        self._by_key: dict[str, Category] = {}

    def money_account(self, account_id: int) -> str:
        if account_id not in self._money:
            account = self.session.get(BankAccount, account_id)
            assert account is not None and account.tenant_id == self.tenant_id
            self._money[account_id] = ledger_account(self.session, self.tenant_id, account)
        return self._money[account_id]

    def category(self, category_id: int) -> Category:
        if category_id not in self._categories:
            self._categories[category_id] = get_category(self.session, category_id)
        return self._categories[category_id]

    def by_key(self, key: str) -> Category:
        if key not in self._by_key:
            self._by_key[key] = category_by_key(self.session, key)
        return self._by_key[key]

    def account_of(self, category: Category) -> str:
        if category.id not in self._accounts:
            account = account_for(self.session, self.tenant_id, category, self.chart)
            if not account:
                raise ValidationFailed(
                    "category.no_account",
                    _("The category {category} has no account in {chart}.").format(
                        category=category.name_de, chart=self.chart.upper()
                    ),
                    [{"field": "category_id", "value": category.id}],
                )
            self._accounts[category.id] = account
        return self._accounts[category.id]

    # ----------------------------------------------------------------------- lines

    def lines(
        self,
        facts: LineFacts,
        usage: str,
        category_id: int | None,
        linked: Decimal = ZERO,
        vat_category: str = vt.STANDARD,
        vat_country: str = "",
    ) -> list[journal.Line]:
        """The postings a decision produces; raises when it cannot be booked.

        ``vat_category`` is the EN 16931 code of the payment: S books the category's VAT
        rate, E/Z/O book no VAT, AE books a reverse-charge purchase (the bank amount is the
        net; the tax is self-assessed) or a tax-free sale under reverse charge.
        """
        if usage == "private" or (usage == "business" and category_id is None):
            return []
        amount = abs(facts.amount) - linked
        if amount <= 0:
            return []
        if facts.currency != CURRENCY:
            raise ValidationFailed(
                "bank.currency_not_supported",
                _("Only lines in euro can be booked; this line is in {currency}.").format(
                    currency=facts.currency
                ),
                [{"field": "transaction_id", "value": facts.id, "currency": facts.currency}],
            )
        incoming = facts.amount > 0
        bank = self.money_account(facts.account_id)
        if usage in ("private_withdrawal", "private_deposit"):
            return [self._move(facts, self.by_key(usage), bank, amount, incoming)]
        assert category_id is not None
        category = self.category(category_id)
        if category.kind in ("private", "transfer"):
            return [self._move(facts, category, bank, amount, incoming)]
        code = vt.normalize_code(vat_category or vt.STANDARD, "vat_category", vt.BANK_CODES)
        country = vt.country_of(vat_country or facts.country)
        sale = category.kind == "revenue"
        rate = (
            _rate_on(category.default_vat_rate, facts.booking_date)
            if code == vt.STANDARD and not self.small_business
            else ZERO
        )
        if code == vt.STANDARD and rate == 0:
            code = vt.EXEMPT
        resolved = vt.resolve(
            "out" if sale else "in", code, country, small_business=self.small_business and sale
        )
        net, vat = split_gross(amount, rate)
        if sale:
            dedicated = vt.revenue_category_key(resolved.treatment, country)
            if dedicated is not None and category.key in RATE_BOUND_REVENUE:
                category = self.by_key(dedicated)
            else:
                category = revenue_category_for_rate(
                    self.session, category, rate, self.small_business
                )
            line = journal.sale_line(
                self.chart,
                posting_date=facts.booking_date,
                money_account=bank,
                revenue_account=self.account_of(category),
                gross=amount,
                net=net,
                vat=vat,
                rate=rate,
                voucher=voucher(facts.id),
                text=facts.text,
                category_id=category.id,
                vat_treatment=resolved.treatment,
            )
            return [line if incoming else _mirror(line)]
        if resolved.self_assessed:
            return [
                ln if not incoming else _mirror(ln)
                for ln in self._self_assessed(facts, category, bank, amount, resolved.treatment)
            ]
        deductible = category.input_vat_deductible and not self.small_business and rate > 0
        line = journal.purchase_line(
            self.chart,
            posting_date=facts.booking_date,
            money_account=bank,
            expense_account=self.account_of(category),
            gross=amount,
            net=net,
            vat=vat,
            rate=rate,
            deductible=deductible,
            voucher=voucher(facts.id),
            text=facts.text,
            category_id=category.id,
            vat_treatment=resolved.treatment,
        )
        return [_mirror(line) if incoming else line]

    def _self_assessed(
        self, facts: LineFacts, category: Category, bank: str, amount: Decimal, treatment: str
    ) -> list[journal.Line]:
        """A reverse-charge purchase paid from the bank: the paid amount is the net, the
        recipient owes the tax (and deducts it, unless a small business)."""
        rate = vt.self_assessment_rate(category.default_vat_rate, facts.booking_date)
        deductible = category.input_vat_deductible and not self.small_business
        expense = self.account_of(category)
        base = journal.purchase_line(
            self.chart,
            posting_date=facts.booking_date,
            money_account=bank,
            expense_account=expense,
            gross=amount,
            net=amount,
            vat=ZERO,
            rate=ZERO,
            deductible=deductible,
            voucher=voucher(facts.id),
            text=facts.text,
            category_id=category.id,
            vat_treatment=treatment,
        )
        base = dataclasses.replace(
            base, tax_rate=rate, tax_key=vt.datev_tax_key(treatment, rate, deductible)
        )
        tax = vat_from_net(amount, rate)
        if not tax:
            return [base]
        return [
            base,
            journal.self_assessed_line(
                self.chart,
                posting_date=facts.booking_date,
                expense_account=expense,
                tax=tax,
                rate=rate,
                treatment=treatment,
                deductible=deductible,
                voucher=voucher(facts.id),
                text=facts.text,
            ),
        ]

    def _move(
        self, facts: LineFacts, category: Category, bank: str, amount: Decimal, incoming: bool
    ) -> journal.Line:
        counter = self.account_of(category)
        return journal.transfer_line(
            posting_date=facts.booking_date,
            debit_account=bank if incoming else counter,
            credit_account=counter if incoming else bank,
            amount=amount,
            voucher=voucher(facts.id),
            text=facts.text,
            category_id=category.id,
        )


def _mirror(line: journal.Line) -> journal.Line:
    """The same booking the other way round: a refund of a sale or of a purchase."""
    return dataclasses.replace(
        line, debit_account=line.credit_account, credit_account=line.debit_account
    )


# --------------------------------------------------------------------------- reading


def linked_amounts(session: Session, tenant_id: int, ids: Iterable[int]) -> dict[int, Decimal]:
    """Per line, the part linked to invoices (booked by the payments, not here). A link whose
    payment was reversed in the books (on the invoice page) no longer counts."""
    wanted = list(ids)
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    storno = aliased(Payment)
    reversed_payment = select(storno.id).where(
        storno.tenant_id == tenant_id, storno.reverses_id == PaymentMatch.payment_id
    )
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = session.execute(
            select(PaymentMatch.transaction_id, PaymentMatch.amount).where(
                PaymentMatch.tenant_id == tenant_id,
                PaymentMatch.status == "linked",
                PaymentMatch.transaction_id.in_(chunk),
                ~reversed_payment.exists(),
            )
        )
        for tx_id, amount in rows:
            out[tx_id] += abs(amount)
    return out


def open_postings(session: Session, tenant_id: int, transaction_id: int) -> list[Posting]:
    """The line's postings not reversed yet (what the journal currently says about it)."""
    reversal = aliased(Posting)
    return list(
        session.scalars(
            select(Posting)
            .where(
                Posting.tenant_id == tenant_id,
                Posting.source_type == SOURCE_TYPE,
                Posting.source_id == transaction_id,
                Posting.reverses_id.is_(None),
                ~exists().where(
                    reversal.tenant_id == tenant_id, reversal.reverses_id == Posting.id
                ),
            )
            .order_by(Posting.id)
        )
    )


# --------------------------------------------------------------------------- writing


def reverse_open(session: Session, tenant_id: int, facts: LineFacts) -> int:
    """Storno of the line's open postings, dated on its booking date.

    Like :func:`belegwerk.books.journal.reverse`, but only for postings not reversed yet: a line
    whose decision changes twice has an earlier, already reversed generation of postings under
    the same source.
    """
    rows = []
    now = utcnow()
    for p in open_postings(session, tenant_id, facts.id):
        rows.append(
            {
                "tenant_id": tenant_id,
                "posting_date": facts.booking_date,
                "debit_account": p.credit_account,
                "credit_account": p.debit_account,
                "amount": p.amount,
                "net_amount": p.net_amount,
                "tax_amount": p.tax_amount,
                "tax_rate": p.tax_rate,
                "tax_account": p.tax_account,
                "tax_key": p.tax_key,
                "vat_treatment": p.vat_treatment,
                "self_assessed": p.self_assessed,
                "voucher": voucher(facts.id),
                "category_id": p.category_id,
                "text": f"Storno {p.text}"[: journal.TEXT_MAX],
                "source_type": REVERSAL_TYPE,
                "source_id": facts.id,
                "reverses_id": p.id,
                "created_at": now,
            }
        )
    journal.post_many(session, rows)
    return len(rows)


def post_lines(
    session: Session, tenant_id: int, transaction_id: int, lines: Sequence[journal.Line]
) -> None:
    journal.post(session, tenant_id, SOURCE_TYPE, transaction_id, lines)


def repost(
    session: Session,
    tenant_id: int,
    transaction_id: int,
    ctx: PostingContext | None = None,
) -> int:
    """Bring the journal in line with the line's current state: reverse what is booked, book
    what its confirmed classification (less linked invoice payments) asks for.

    Returns the number of postings written. Call it after a decision changed or after a link
    to an invoice was made or undone.
    """
    tx = session.scalar(
        select(BankTransaction).where(
            BankTransaction.tenant_id == tenant_id, BankTransaction.id == transaction_id
        )
    )
    if tx is None:
        return 0
    ctx = ctx or PostingContext(session, tenant_id)
    facts = LineFacts.of(tx)
    cls = session.scalar(
        select(Classification).where(
            Classification.tenant_id == tenant_id, Classification.transaction_id == tx.id
        )
    )
    lines: list[journal.Line] = []
    if cls is not None and cls.confirmed:
        linked = linked_amounts(session, tenant_id, [tx.id])[tx.id]
        lines = ctx.lines(
            facts, cls.usage, cls.category_id, linked, cls.vat_category, cls.vat_country
        )
    written = reverse_open(session, tenant_id, facts)
    post_lines(session, tenant_id, tx.id, lines)
    return written + len(lines)
