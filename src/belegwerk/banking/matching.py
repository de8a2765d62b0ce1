"""Payment matching (Zahlungsabgleich): bank transactions ↔ open invoices.

:func:`match_transactions` runs the rules of :mod:`belegwerk.banking.match_scoring` over stored
transactions in one set-based pass (invoices, payments and parties loaded once with a few plain
queries and indexed in dicts; each transaction scored only against the invoices some evidence
points to, never against all of them), stores proposals as
:class:`PaymentMatch` rows (status ``proposed``) and links the unambiguous, confident ones at
once. Linking books a books :class:`Payment` (money account ↔ receivables/payables, so the
invoice becomes partly or fully paid) and marks the match ``linked``; undoing reverses that
payment (Storno) and marks the match ``undone``. Every link, confirmation, rejection and undo is
audited; proposals are suggestions and are replaced on each run.

A transaction is never linked for more than its amount, an invoice never for more than its open
amount (the books refuse it). Transactions marked private, PayPal fee lines, foreign-currency
lines and lines of private accounts are not matched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from belegwerk.banking import bank_postings
from belegwerk.banking import match_scoring as rules
from belegwerk.banking.accounts import ledger_account
from belegwerk.banking.importer import get_transaction
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, PaymentMatch
from belegwerk.books import journal, payments
from belegwerk.books.invoices import get_invoice, signed_payment_amount
from belegwerk.books.models import CashProposal, Invoice, Party, Payment
from belegwerk.core import bulk
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future
from belegwerk.core.db import lock_tenant, owned_row
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import ZERO, parse_money
from belegwerk.core.types import utcnow

STATUSES = ("proposed", "linked", "rejected", "undone")
PRIVATE_USAGES = ("private", "private_withdrawal", "private_deposit")
MAX_PAGE_SIZE = 500
_CHUNK = 2000
# Core tables for the bulk path (no ORM bookkeeping per row).
_PAYMENTS = cast(Table, Payment.__table__)
_MATCHES = cast(Table, PaymentMatch.__table__)


@dataclass(frozen=True)
class MatchResult:
    """What one matching run did."""

    transactions: int  # transactions looked at (with an amount still to link)
    proposals: int  # proposal rows stored for the user to decide
    linked: int  # matches linked automatically (one per invoice)
    linked_transactions: int  # transactions linked automatically
    unmatched: int  # transactions without any candidate


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class _Tx:
    facts: rules.TransactionFacts
    account_id: int
    counterparty: str
    purpose: str
    decided: bool  # the user confirmed a category: propose, but never link on our own


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _linked_sums(
    session: Session, tenant_id: int, transaction_ids: Sequence[int] | None = None
) -> dict[int, Decimal]:
    """Per transaction the amount linked by matches whose payment still stands.

    Plain rows summed here rather than an aggregate joined into the transaction query: right
    after a bulk import the planner's statistics are stale, and PostgreSQL then re-runs a joined
    aggregate per row.
    """
    rev = aliased(Payment)
    query = (
        select(PaymentMatch.transaction_id, PaymentMatch.amount)
        .outerjoin(
            rev, and_(rev.reverses_id == PaymentMatch.payment_id, rev.tenant_id == tenant_id)
        )
        .where(
            PaymentMatch.tenant_id == tenant_id,
            PaymentMatch.status == "linked",
            rev.id.is_(None),
        )
    )
    out: dict[int, Decimal] = {}
    for q in _batched(query, PaymentMatch.transaction_id, transaction_ids):
        for tx_id, amount in session.execute(q):
            out[tx_id] = out.get(tx_id, ZERO) + amount
    return out


def _batched(query: Any, column: Any, ids: Sequence[int] | None) -> Iterable[Any]:
    if ids is None:
        return [query]
    return (query.where(column.in_(chunk)) for chunk in _chunks(sorted(set(ids))))


def _load_transactions(
    session: Session, tenant_id: int, transaction_ids: Sequence[int] | None
) -> list[_Tx]:
    linked = _linked_sums(session, tenant_id, transaction_ids)
    query = (
        select(
            BankTransaction.id,
            BankTransaction.booking_date,
            BankTransaction.amount,
            BankTransaction.counterparty_name,
            BankTransaction.counterparty_iban,
            BankTransaction.purpose,
            BankTransaction.end_to_end_ref,
            BankTransaction.account_id,
            Classification.confirmed,
            Classification.category_id,
        )
        .join(
            BankAccount,
            and_(BankAccount.id == BankTransaction.account_id, BankAccount.tenant_id == tenant_id),
        )
        .outerjoin(
            Classification,
            and_(
                Classification.transaction_id == BankTransaction.id,
                Classification.tenant_id == tenant_id,
            ),
        )
        .where(
            BankTransaction.tenant_id == tenant_id,
            BankTransaction.currency == "EUR",
            BankTransaction.fee_of_id.is_(None),
            BankTransaction.amount != ZERO,
            BankAccount.account_type != "private",
            or_(Classification.id.is_(None), Classification.usage.not_in(PRIVATE_USAGES)),
        )
    )
    out: list[_Tx] = []
    for q in _batched(query, BankTransaction.id, transaction_ids):
        for row in session.execute(q):
            tx_id, booked, amount, name, iban, purpose, e2e, account_id, confirmed, cat = row
            remaining = abs(amount) - linked.get(tx_id, ZERO)
            if remaining <= 0:
                continue
            signed = remaining if amount > 0 else -remaining
            e2e = "" if (e2e or "").upper() == "NOTPROVIDED" else e2e or ""
            facts = rules.TransactionFacts(
                id=tx_id,
                booking_date=booked,
                amount=signed,
                counterparty_name=name or "",
                counterparty_iban=iban or "",
                text=f"{purpose or ''} {e2e}",
            )
            decided = bool(confirmed) and cat is not None
            out.append(_Tx(facts, account_id, name or "", purpose or "", decided))
    out.sort(key=lambda t: (t.facts.booking_date, t.facts.id))
    return out


def _invoice_facts(
    session: Session, tenant_id: int, invoice_ids: Sequence[int] | None = None
) -> list[rules.InvoiceFacts]:
    """Booked ordinary invoices with what may still be paid: gross − payments − pending cash;
    0 for reversed ones. Four plain queries merged here (see :func:`_linked_sums`)."""
    paid: dict[int, Decimal] = {}
    pending: dict[int, Decimal] = {}
    reversed_: set[int] = set()
    queries: list[tuple[Any, Any, dict[int, Decimal] | None]] = [
        (
            select(Payment.invoice_id, signed_payment_amount()).where(
                Payment.tenant_id == tenant_id
            ),
            Payment.invoice_id,
            paid,
        ),
        (
            select(CashProposal.invoice_id, CashProposal.amount).where(
                CashProposal.tenant_id == tenant_id, CashProposal.status == "proposed"
            ),
            CashProposal.invoice_id,
            pending,
        ),
        (
            select(Invoice.reverses_id, Invoice.id).where(
                Invoice.tenant_id == tenant_id, Invoice.reverses_id.is_not(None)
            ),
            Invoice.reverses_id,
            None,
        ),
    ]
    for query, column, sums in queries:
        for q in _batched(query, column, invoice_ids):
            for inv_id, value in session.execute(q):
                if sums is None:
                    reversed_.add(inv_id)
                else:
                    sums[inv_id] = sums.get(inv_id, ZERO) + value
    main = select(
        Invoice.id,
        Invoice.direction,
        Invoice.number,
        Invoice.external_number,
        Invoice.party_id,
        Invoice.issue_date,
        Invoice.gross_total,
    ).where(Invoice.tenant_id == tenant_id, Invoice.status == "booked", Invoice.kind == "invoice")
    out = []
    for q in _batched(main, Invoice.id, invoice_ids):
        for inv_id, direction, number, external, party_id, issued, gross in session.execute(q):
            left = gross - paid.get(inv_id, ZERO) - pending.get(inv_id, ZERO)
            out.append(
                rules.InvoiceFacts(
                    id=inv_id,
                    direction=direction,
                    number=number or "",
                    external_number=external or "",
                    party_id=party_id,
                    issue_date=issued,
                    open_amount=ZERO if inv_id in reversed_ else max(left, ZERO),
                )
            )
    return out


def load_index(session: Session, tenant_id: int) -> rules.InvoiceIndex:
    """Every booked invoice of the tenant (open or not) and the parties, indexed for matching."""
    parties = [
        rules.PartyFacts(id=pid, name=name, iban=iban, customer_number=cno, supplier_number=sno)
        for pid, name, iban, cno, sno in session.execute(
            select(
                Party.id, Party.name, Party.iban, Party.customer_number, Party.supplier_number
            ).where(Party.tenant_id == tenant_id)
        )
    ]
    return rules.InvoiceIndex(_invoice_facts(session, tenant_id), parties)


def open_amounts(
    session: Session, tenant_id: int, invoice_ids: Iterable[int]
) -> dict[int, Decimal]:
    """What may still be paid on each of these invoices (0 when settled, reversed or a draft)."""
    ids = sorted(set(invoice_ids))
    found = {f.id: f.open_amount for f in _invoice_facts(session, tenant_id, ids)} if ids else {}
    return {i: found.get(i, ZERO) for i in ids}


# --------------------------------------------------------------------------- money accounts


class _MoneyAccounts:
    """Per bank account: the ledger account its money moves through and the payment method."""

    def __init__(self, session: Session, tenant_id: int, chart: str) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.chart = chart
        self._cache: dict[int, tuple[str, str]] = {}

    def get(self, account_id: int) -> tuple[str, str]:
        if account_id not in self._cache:
            account = self.session.scalar(
                select(BankAccount).where(
                    BankAccount.id == account_id, BankAccount.tenant_id == self.tenant_id
                )
            )
            assert account is not None  # transactions always belong to an account of the tenant
            method = "paypal" if account.kind == "paypal" else "bank"
            self._cache[account_id] = (
                ledger_account(self.session, self.tenant_id, account),
                method,
            )
        return self._cache[account_id]


# --------------------------------------------------------------------------- snapshots


def _reasons(match: PaymentMatch) -> list[str]:
    value = json.loads(match.reasons or "[]")
    return [str(v) for v in value] if isinstance(value, list) else []


def _match_snapshot(m: PaymentMatch | dict[str, Any]) -> dict[str, Any]:
    get = m.get if isinstance(m, dict) else lambda k: getattr(m, k)
    reasons = get("reasons")
    return {
        "transaction_id": get("transaction_id"),
        "invoice_id": get("invoice_id"),
        "amount": get("amount"),
        "payment_id": get("payment_id"),
        "confidence": get("confidence"),
        "reasons": json.loads(reasons) if isinstance(reasons, str) else reasons,
        "status": get("status"),
        "automatic": get("automatic"),
    }


def _payment_snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """Same fields as the books record for a payment made through ``add_payment``."""
    return {k: row[k] for k in ("invoice_id", "payment_date", "amount", "method", "reference")} | {
        "reverses_id": None
    }


def _reference(counterparty: str, purpose: str) -> str:
    text = (
        " ".join(f"{counterparty}: {purpose}".split())
        if counterparty
        else " ".join(purpose.split())
    )
    return text.strip(": ")[: payments.REFERENCE_MAX]


def _confidence(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


# --------------------------------------------------------------------------- the run


def match_transactions(
    session: Session,
    tenant_id: int,
    transaction_ids: Sequence[int] | None = None,
    auto_link: bool = True,
    actor: str = "local",
) -> MatchResult:
    """Propose (and, where unambiguous and confident, link) invoices for transactions.

    ``transaction_ids`` None = every transaction with an amount still to link. Earlier
    proposals of these transactions are replaced; rejected pairs are not proposed again; a pair
    the user undid is proposed but never linked automatically again.
    """
    lock_tenant(session, tenant_id)
    if transaction_ids is not None:
        _require_transactions(session, tenant_id, transaction_ids)
    txs = _load_transactions(session, tenant_id, transaction_ids)
    if not txs:
        return MatchResult(0, 0, 0, 0, 0)
    tx_ids = [t.facts.id for t in txs]
    rejected: dict[int, set[int]] = {}
    undone: dict[int, set[int]] = {}
    for chunk in _chunks(tx_ids):
        session.execute(
            delete(PaymentMatch).where(
                PaymentMatch.tenant_id == tenant_id,
                PaymentMatch.status == "proposed",
                PaymentMatch.transaction_id.in_(chunk),
            )
        )
        for tx_id, inv_id, status in session.execute(
            select(PaymentMatch.transaction_id, PaymentMatch.invoice_id, PaymentMatch.status).where(
                PaymentMatch.tenant_id == tenant_id,
                PaymentMatch.status.in_(("rejected", "undone")),
                PaymentMatch.transaction_id.in_(chunk),
            )
        ):
            (rejected if status == "rejected" else undone).setdefault(tx_id, set()).add(inv_id)

    index = load_index(session, tenant_id)
    picks: list[tuple[_Tx, rules.Candidate]] = []
    proposed: list[tuple[_Tx, rules.Candidate]] = []
    unmatched = 0
    for tx in txs:
        exclude = frozenset(rejected.get(tx.facts.id, ()))
        candidates = rules.propose(tx.facts, index, exclude)
        if not candidates:
            unmatched += 1
            continue
        pick = rules.auto_pick(candidates) if auto_link else None
        if pick is not None and _may_auto_link(tx, pick, index, undone.get(tx.facts.id, set())):
            picks.append((tx, pick))
            for alloc in pick.allocations:
                index.set_open(alloc.invoice_id, index.open[alloc.invoice_id] - alloc.amount)
            if pick.total < abs(tx.facts.amount):  # the rest may still pay other invoices
                taken = set(pick.invoice_ids)
                proposed.extend((tx, c) for c in candidates if not taken & set(c.invoice_ids))
            continue
        proposed.extend((tx, c) for c in candidates)

    linked = _book_auto_links(session, tenant_id, picks, index, actor) if picks else 0
    rows = _proposal_rows(tenant_id, proposed, index)
    _insert_matches(session, rows)
    result = MatchResult(
        transactions=len(txs),
        proposals=len(rows),
        linked=linked,
        linked_transactions=len(picks),
        unmatched=unmatched,
    )
    audit_writer(session, tenant_id, actor).record(
        "match", "bank_matching", "run", after=result.__dict__
    )
    session.flush()
    return result


def _may_auto_link(
    tx: _Tx, pick: rules.Candidate, index: rules.InvoiceIndex, undone: set[int]
) -> bool:
    if tx.decided or any(a.invoice_id in undone for a in pick.allocations):
        return False
    if any(a.amount > index.open.get(a.invoice_id, ZERO) for a in pick.allocations):
        return False
    if pick.total > abs(tx.facts.amount):
        return False
    try:
        check_not_far_future(tx.facts.booking_date, "payment_date")
    except ValidationFailed:
        return False
    return True


def _proposal_rows(
    tenant_id: int, proposed: list[tuple[_Tx, rules.Candidate]], index: rules.InvoiceIndex
) -> list[dict[str, Any]]:
    """Proposal rows; a candidate that this run's links made impossible is dropped."""
    now = utcnow()
    rows = []
    for tx, cand in proposed:
        if any(a.amount > index.open.get(a.invoice_id, ZERO) for a in cand.allocations):
            continue
        reasons = json.dumps(list(cand.reasons))
        for alloc in cand.allocations:
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "transaction_id": tx.facts.id,
                    "invoice_id": alloc.invoice_id,
                    "amount": alloc.amount,
                    "payment_id": None,
                    "confidence": _confidence(cand.confidence),
                    "reasons": reasons,
                    "status": "proposed",
                    "automatic": False,
                    "created_at": now,
                    "decided_at": None,
                }
            )
    return rows


_MATCH_COLUMNS = (
    "tenant_id",
    "transaction_id",
    "invoice_id",
    "amount",
    "payment_id",
    "confidence",
    "reasons",
    "status",
    "automatic",
    "created_at",
    "decided_at",
)


def _insert_matches(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Match rows straight to the driver (values converted by the columns' own types)."""
    if not rows:
        return
    binders = [bulk.binder(session, _MATCHES, c) for c in _MATCH_COLUMNS]
    bulk.insert_tuples(
        session,
        _MATCHES,
        _MATCH_COLUMNS,
        [
            tuple(bind(row[c]) for bind, c in zip(binders, _MATCH_COLUMNS, strict=True))
            for row in rows
        ],
    )


def _book_auto_links(
    session: Session,
    tenant_id: int,
    picks: list[tuple[_Tx, rules.Candidate]],
    index: rules.InvoiceIndex,
    actor: str,
) -> int:
    """Set-based twin of ``payments.add_payment`` for the run's automatic links: the same
    Payment rows, postings (money account ↔ receivables/payables) and audit records, in a few
    statements instead of several per link. The invoices' open amounts were loaded in this
    transaction under the tenant lock and checked in :func:`_may_auto_link`."""
    chart = journal.chart_of(session, tenant_id)
    money = _MoneyAccounts(session, tenant_id, chart)
    now = utcnow()
    pay_rows: list[dict[str, Any]] = []
    items: list[tuple[_Tx, rules.Allocation, str, Decimal, str]] = []
    for tx, cand in picks:
        ledger, method = money.get(tx.account_id)
        confidence = _confidence(cand.confidence)
        reasons = json.dumps(list(cand.reasons))
        for alloc in cand.allocations:
            pay_rows.append(
                {
                    "tenant_id": tenant_id,
                    "invoice_id": alloc.invoice_id,
                    "payment_date": tx.facts.booking_date,
                    "amount": alloc.amount,
                    "method": method,
                    "reference": _reference(tx.counterparty, tx.purpose),
                    "reverses_id": None,
                    "reversal_reason": None,
                    "created_at": now,
                    "created_by": actor,
                }
            )
            items.append((tx, alloc, ledger, confidence, reasons))
    payment_ids: list[int] = list(
        session.execute(
            insert(_PAYMENTS).returning(_PAYMENTS.c.id, sort_by_parameter_order=True), pay_rows
        ).scalars()
    )
    postings = []
    match_rows = []
    for pid, (tx, alloc, ledger, confidence, reasons) in zip(payment_ids, items, strict=True):
        inv = index.invoices[alloc.invoice_id]
        line = payments.settlement_line(
            chart, inv.direction, inv.number, ledger, tx.facts.booking_date, alloc.amount
        )
        postings.append(journal.posting_row(tenant_id, payments.SOURCE_TYPE, pid, line))
        match_rows.append(
            {
                "tenant_id": tenant_id,
                "transaction_id": tx.facts.id,
                "invoice_id": alloc.invoice_id,
                "amount": alloc.amount,
                "payment_id": pid,
                "confidence": confidence,
                "reasons": reasons,
                "status": "linked",
                "automatic": True,
                "created_at": now,
                "decided_at": now,
            }
        )
    journal.post_many(session, postings)
    _insert_matches(session, match_rows)
    # One record per link: the payment's creation (as add_payment records it) with the match
    # that caused it (found again by its payment id); half the audit rows of recording both.
    audit_writer(session, tenant_id, actor).record_many(
        "create",
        "payment",
        (
            (
                pid,
                None,
                _payment_snapshot(pay_row)
                | {
                    "bank_match": {
                        "transaction_id": tx.facts.id,
                        "confidence": confidence,
                        "reasons": json.loads(reasons),
                        "automatic": True,
                    }
                },
            )
            for pid, pay_row, (tx, _alloc, _ledger, confidence, reasons) in zip(
                payment_ids, pay_rows, items, strict=True
            )
        ),
    )
    return len(match_rows)


# --------------------------------------------------------------------------- the user's decisions


def get_match(
    session: Session, tenant_id: int, match_id: int, *, for_update: bool = False
) -> PaymentMatch:
    return owned_row(
        session,
        PaymentMatch,
        tenant_id,
        match_id,
        code="bank.match_not_found",
        message=_("Match {id} not found.").format(id=match_id),
        field="match_id",
        for_update=for_update,
    )


def _require_transactions(session: Session, tenant_id: int, ids: Sequence[int]) -> None:
    wanted = set(ids)
    found: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        found.update(
            session.scalars(
                select(BankTransaction.id).where(
                    BankTransaction.tenant_id == tenant_id, BankTransaction.id.in_(chunk)
                )
            )
        )
    missing = sorted(wanted - found)
    if missing:
        raise NotFound(
            "bank.transaction_not_found",
            _("Bank transaction {id} not found.").format(id=missing[0]),
            [{"field": "transaction_ids", "value": missing[:20]}],
        )


def linked_amount(session: Session, tenant_id: int, transaction_id: int) -> Decimal:
    return _linked_sums(session, tenant_id, [transaction_id]).get(transaction_id, ZERO)


def _check_linkable(session: Session, tenant_id: int, tx: BankTransaction, inv: Invoice) -> None:
    detail = [{"field": "invoice_id", "value": inv.id}]
    if tx.currency != "EUR":
        raise Conflict(
            "bank.match_currency",
            _("Only transactions in euro can pay invoices."),
            [{"field": "transaction_id", "value": tx.id, "currency": tx.currency}],
        )
    if tx.fee_of_id is not None:
        raise Conflict(
            "bank.match_fee",
            _("A PayPal fee line cannot pay an invoice."),
            [{"field": "transaction_id", "value": tx.id}],
        )
    usage = session.scalar(
        select(Classification.usage).where(
            Classification.tenant_id == tenant_id, Classification.transaction_id == tx.id
        )
    )
    if usage in PRIVATE_USAGES:
        raise Conflict(
            "bank.match_private",
            _("This transaction is marked as private and cannot pay an invoice."),
            [{"field": "transaction_id", "value": tx.id, "usage": usage}],
        )
    wanted = "out" if tx.amount > 0 else "in"
    if inv.direction != wanted:
        raise Conflict(
            "bank.match_wrong_direction",
            _("Money received can only pay an outgoing invoice, money paid only an incoming one."),
            detail,
        )


def _link(
    session: Session,
    tenant_id: int,
    tx: BankTransaction,
    invoice_id: int,
    amount: object,
    actor: str,
    match: PaymentMatch | None,
) -> PaymentMatch:
    """Book one link: a payment through the books, then the match row, then the audit."""
    lock_tenant(session, tenant_id)
    value = parse_money(amount, "amount")
    if value <= 0:
        raise ValidationFailed(
            "bank.match_not_positive",
            _("The amount to link must be greater than zero."),
            [{"field": "amount", "value": str(value)}],
        )
    inv = get_invoice(session, tenant_id, invoice_id)
    _check_linkable(session, tenant_id, tx, inv)
    remaining = abs(tx.amount) - linked_amount(session, tenant_id, tx.id)
    if value > remaining:
        raise ValidationFailed(
            "bank.match_exceeds_transaction",
            _("Only {remaining} of this transaction is left to link, not {amount}.").format(
                remaining=format_money(remaining), amount=format_money(value)
            ),
            [{"field": "amount", "value": str(value), "remaining": str(remaining)}],
        )
    account = session.scalar(
        select(BankAccount).where(
            BankAccount.id == tx.account_id, BankAccount.tenant_id == tenant_id
        )
    )
    assert account is not None
    payment = payments.add_payment(
        session,
        tenant_id,
        inv.id,
        payment_date=tx.booking_date,
        amount=value,
        method="paypal" if account.kind == "paypal" else "bank",
        reference=_reference(tx.counterparty_name, tx.purpose),
        actor=actor,
        money_account=ledger_account(session, tenant_id, account),
    )
    assert isinstance(payment, Payment)
    now = utcnow()
    before = _match_snapshot(match) if match is not None else None
    if match is None:
        match = PaymentMatch(
            tenant_id=tenant_id,
            transaction_id=tx.id,
            invoice_id=inv.id,
            confidence=Decimal(1),
            reasons=json.dumps([rules.MANUAL]),
            created_at=now,
        )
        session.add(match)
    match.amount = value
    match.payment_id = payment.id
    match.status = "linked"
    match.automatic = False
    match.decided_at = now
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "link", "bank_match", match.id, before=before, after=_match_snapshot(match)
    )
    _drop_stale_proposals(session, tenant_id, tx, inv.id, remaining - value)
    bank_postings.repost(session, tenant_id, tx.id)  # a categorised line books only the rest
    return match


def _drop_stale_proposals(
    session: Session, tenant_id: int, tx: BankTransaction, invoice_id: int, tx_left: Decimal
) -> None:
    """Proposals that can no longer be confirmed: of a fully linked transaction, or for an
    invoice that is now settled."""
    stale = [PaymentMatch.transaction_id == tx.id] if tx_left <= 0 else []
    if open_amounts(session, tenant_id, [invoice_id])[invoice_id] <= 0:
        stale.append(PaymentMatch.invoice_id == invoice_id)
    if stale:
        session.execute(
            delete(PaymentMatch).where(
                PaymentMatch.tenant_id == tenant_id,
                PaymentMatch.status == "proposed",
                or_(*stale),
            )
        )
        session.flush()


def _require_status(match: PaymentMatch, status: str, code: str) -> None:
    if match.status != status:
        messages = {
            "bank.match_already_decided": _("This proposal has already been decided ({status})."),
            "bank.match_not_linked": _("Only a linked match can be undone (status: {status})."),
        }
        raise Conflict(
            code,
            messages[code].format(status=match.status),
            [{"field": "match_id", "value": match.id, "status": match.status}],
        )


def link_transaction(
    session: Session,
    tenant_id: int,
    transaction_id: int,
    invoice_id: int,
    amount: object,
    actor: str = "local",
) -> PaymentMatch:
    """The user links a transaction to any open invoice with an amount of their choice."""
    tx = get_transaction(session, tenant_id, transaction_id)
    proposal = session.scalar(
        select(PaymentMatch)
        .where(
            PaymentMatch.tenant_id == tenant_id,
            PaymentMatch.transaction_id == tx.id,
            PaymentMatch.invoice_id == invoice_id,
            PaymentMatch.status == "proposed",
        )
        .limit(1)
    )
    return _link(session, tenant_id, tx, invoice_id, amount, actor, proposal)


def confirm_match(
    session: Session,
    tenant_id: int,
    match_id: int,
    amount: object | None = None,
    actor: str = "local",
) -> PaymentMatch:
    """Accept a proposal (optionally with another amount, e.g. to settle a Skonto later)."""
    lock_tenant(session, tenant_id)
    match = get_match(session, tenant_id, match_id, for_update=True)
    _require_status(match, "proposed", "bank.match_already_decided")
    tx = get_transaction(session, tenant_id, match.transaction_id)
    value = match.amount if amount is None else amount
    return _link(session, tenant_id, tx, match.invoice_id, value, actor, match)


def reject_match(
    session: Session, tenant_id: int, match_id: int, actor: str = "local"
) -> PaymentMatch:
    """Refuse a proposal; the pair is not proposed again."""
    lock_tenant(session, tenant_id)
    match = get_match(session, tenant_id, match_id, for_update=True)
    _require_status(match, "proposed", "bank.match_already_decided")
    before = _match_snapshot(match)
    match.status = "rejected"
    match.decided_at = utcnow()
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "reject", "bank_match", match.id, before=before, after=_match_snapshot(match)
    )
    return match


def undo_match(
    session: Session,
    tenant_id: int,
    match_id: int,
    reason: str | None,
    actor: str = "local",
    *,
    reversal_date: date | None = None,
) -> PaymentMatch:
    """Undo a link: the payment is reversed (Storno postings, invoice open again)."""
    lock_tenant(session, tenant_id)
    match = get_match(session, tenant_id, match_id, for_update=True)
    _require_status(match, "linked", "bank.match_not_linked")
    assert match.payment_id is not None
    reversed_id = session.scalar(
        select(Payment.id).where(
            Payment.tenant_id == tenant_id, Payment.reverses_id == match.payment_id
        )
    )
    if reversed_id is None:  # else someone reversed the payment in the books already
        payments.reverse_payment(
            session, tenant_id, match.payment_id, reason, actor, reversal_date=reversal_date
        )
    before = _match_snapshot(match)
    match.status = "undone"
    match.decided_at = utcnow()
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "undo",
        "bank_match",
        match.id,
        before=before,
        after=_match_snapshot(match),
        reason=(reason or "").strip() or None,
    )
    bank_postings.repost(session, tenant_id, match.transaction_id)
    return match


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class MatchView:
    match: PaymentMatch
    reasons: list[str]
    invoice_number: str
    invoice_direction: str
    invoice_gross: Decimal
    invoice_open: Decimal
    party_name: str | None
    booking_date: date
    transaction_amount: Decimal
    counterparty_name: str
    purpose: str


@dataclass(frozen=True)
class MatchPage:
    items: list[MatchView] = field(default_factory=list)
    total: int = 0
    page: int = 1
    page_size: int = 50


def _views(session: Session, tenant_id: int, rows: Sequence[Any]) -> list[MatchView]:
    opens = open_amounts(session, tenant_id, [r[0].invoice_id for r in rows])
    return [
        MatchView(
            match=m,
            reasons=_reasons(m),
            invoice_number=number or "",
            invoice_direction=direction,
            invoice_gross=gross,
            invoice_open=opens.get(m.invoice_id, ZERO),
            party_name=party,
            booking_date=booked,
            transaction_amount=amount,
            counterparty_name=name,
            purpose=purpose,
        )
        for m, number, direction, gross, party, booked, amount, name, purpose in rows
    ]


def _view_query(tenant_id: int) -> Any:
    return (
        select(
            PaymentMatch,
            Invoice.number,
            Invoice.direction,
            Invoice.gross_total,
            Party.name,
            BankTransaction.booking_date,
            BankTransaction.amount,
            BankTransaction.counterparty_name,
            BankTransaction.purpose,
        )
        .join(Invoice, and_(Invoice.id == PaymentMatch.invoice_id, Invoice.tenant_id == tenant_id))
        .outerjoin(Party, Party.id == Invoice.party_id)
        .join(
            BankTransaction,
            and_(
                BankTransaction.id == PaymentMatch.transaction_id,
                BankTransaction.tenant_id == tenant_id,
            ),
        )
        .where(PaymentMatch.tenant_id == tenant_id)
    )


def list_matches(
    session: Session,
    tenant_id: int,
    *,
    status: str | None = None,
    transaction_id: int | None = None,
    invoice_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> MatchPage:
    """Matches, best proposals first (then newest transactions)."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            "request.invalid_filter",
            _("Invalid filter {name}: {value}").format(name="status", value=status),
            [{"field": "status", "value": status, "allowed": list(STATUSES)}],
        )
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    where = []
    if status is not None:
        where.append(PaymentMatch.status == status)
    if transaction_id is not None:
        where.append(PaymentMatch.transaction_id == transaction_id)
    if invoice_id is not None:
        where.append(PaymentMatch.invoice_id == invoice_id)
    total = session.scalar(
        select(func.count())
        .select_from(PaymentMatch)
        .where(PaymentMatch.tenant_id == tenant_id, *where)
    )
    rows = session.execute(
        _view_query(tenant_id)
        .where(*where)
        .order_by(
            PaymentMatch.confidence.desc(),
            BankTransaction.booking_date.desc(),
            PaymentMatch.id,
        )
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return MatchPage(
        items=_views(session, tenant_id, rows),
        total=int(total or 0),
        page=page,
        page_size=page_size,
    )


def match_view(session: Session, tenant_id: int, match_id: int) -> MatchView:
    get_match(session, tenant_id, match_id)
    rows = session.execute(_view_query(tenant_id).where(PaymentMatch.id == match_id)).all()
    return _views(session, tenant_id, rows)[0]


@dataclass(frozen=True)
class TransactionMatches:
    transaction: BankTransaction
    linked: Decimal
    remaining: Decimal
    matches: list[MatchView]


def transaction_matches(
    session: Session, tenant_id: int, transaction_id: int
) -> TransactionMatches:
    """A transaction with its proposals (best first) and its links, undone and rejected ones."""
    tx = get_transaction(session, tenant_id, transaction_id)
    rows = session.execute(
        _view_query(tenant_id)
        .where(PaymentMatch.transaction_id == tx.id)
        .order_by(PaymentMatch.confidence.desc(), PaymentMatch.id)
    ).all()
    done = linked_amount(session, tenant_id, tx.id)
    return TransactionMatches(
        transaction=tx,
        linked=done,
        remaining=abs(tx.amount) - done,
        matches=_views(session, tenant_id, rows),
    )
