"""Payments against booked invoices, and cash payments that wait for the user's confirmation.

A bank, card or PayPal payment is stored and posted at once (money account ↔ receivables or
payables). A cash payment first becomes a :class:`CashProposal`: only when the user confirms it
do the Payment and the Kassenbuch entry appear (the cash entry carries the posting), so the cash
book never shows money nobody counted. Payments are immutable; a reversal is a new Payment row
with ``reverses_id`` that counts negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from belegwerk.books import accounts, journal
from belegwerk.books.cash import CashEntryInput, create_cash_entry, reverse_cash_entry
from belegwerk.books.invoices import (
    CategoryResolver,
    get_invoice,
    invoice_lines,
    paid_amount,
    pending_cash,
    reversal_of,
    tax_totals,
)
from belegwerk.books.models import CashEntry, CashProposal, Invoice, Party, Payment
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future, require_reason, today
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import ZERO, parse_money
from belegwerk.core.types import utcnow
from belegwerk.tenancy.service import get_company

METHODS = ("cash", "bank", "card", "paypal")
PROPOSAL_STATUSES = ("proposed", "confirmed", "rejected")
REFERENCE_MAX = 200
SOURCE_TYPE = "payment"


def _snapshot(p: Payment) -> dict[str, object]:
    return {
        "invoice_id": p.invoice_id,
        "payment_date": p.payment_date,
        "amount": p.amount,
        "method": p.method,
        "reference": p.reference,
        "reverses_id": p.reverses_id,
    }


def _proposal_snapshot(p: CashProposal) -> dict[str, object]:
    return {
        "invoice_id": p.invoice_id,
        "proposal_date": p.proposal_date,
        "amount": p.amount,
        "status": p.status,
        "payment_id": p.payment_id,
        "cash_entry_id": p.cash_entry_id,
    }


def _payable_invoice(session: Session, tenant_id: int, invoice_id: int) -> Invoice:
    """The invoice, locked; only booked, not reversed, ordinary invoices take payments."""
    inv = get_invoice(session, tenant_id, invoice_id, for_update=True)
    detail = [{"field": "invoice_id", "value": invoice_id}]
    if inv.status != "booked":
        raise Conflict(
            "payment.invoice_not_booked",
            _("Only a booked invoice can be paid; book the draft first."),
            detail,
        )
    if inv.kind == "reversal":
        raise Conflict(
            "payment.invoice_is_reversal", _("A reversal invoice takes no payments."), detail
        )
    if reversal_of(session, tenant_id, invoice_id) is not None:
        raise Conflict(
            "payment.invoice_reversed",
            _("Invoice {number} has been reversed and takes no payments.").format(
                number=inv.number
            ),
            detail,
        )
    return inv


def _overpaid(amount: Decimal, open_amount: Decimal, pending: Decimal) -> ValidationFailed:
    return ValidationFailed(
        "payment.overpaid",
        _("The payment of {amount} exceeds the open amount of {open}.").format(
            amount=format_money(amount), open=format_money(open_amount)
        ),
        [
            {
                "field": "amount",
                "value": str(amount),
                "open_amount": str(open_amount),
                "pending_cash": str(pending),
            }
        ],
    )


def settlement_line(
    chart: str, direction: str, number: str | None, money_account: str, day: date, amount: Decimal
) -> journal.Line:
    """The posting of a payment: money against receivables (outgoing invoice) or payables
    against money (incoming invoice); no tax, that was booked with the invoice."""
    if direction == "out":
        debit, credit = money_account, accounts.account(chart, "receivables")
    else:
        debit, credit = accounts.account(chart, "payables"), money_account
    return journal.transfer_line(
        posting_date=day,
        debit_account=debit,
        credit_account=credit,
        amount=amount,
        voucher=number or "",
        text=payment_text(number),
    )


def payment_text(number: str | None) -> str:
    """Booking text of a payment (German: part of the records, not of the UI)."""
    return f"Zahlung {number}"


def add_payment(
    session: Session,
    tenant_id: int,
    invoice_id: int,
    payment_date: date,
    amount: Decimal | str | int | float,
    method: str,
    reference: str = "",
    actor: str = "local",
    *,
    money_account: str | None = None,
) -> Payment | CashProposal:
    """Record a payment; cash returns a :class:`CashProposal` for the user to confirm.

    The amount may not exceed the open amount less cash proposals still pending, so confirming
    every proposal can never overpay the invoice either. ``money_account`` names the ledger
    account the money moved through (a bank account's own Finanzkonto, e.g. 1210 for a second
    account); by default the method's account (bank 1200/1800, transit for card and PayPal).
    Cash ignores it: the cash book always posts to the cash account.
    """
    if method not in METHODS:
        raise ValidationFailed(
            "payment.unknown_method",
            _("Unknown payment method {method}; use cash, bank, card or PayPal.").format(
                method=method
            ),
            [{"field": "method", "value": method}],
        )
    value = parse_money(amount, "amount")
    if value <= 0:
        raise ValidationFailed(
            "payment.not_positive",
            _("The payment amount must be greater than zero."),
            [{"field": "amount", "value": str(value)}],
        )
    check_not_far_future(payment_date, "payment_date")
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_MAX:
        raise ValidationFailed(
            "payment.reference_too_long",
            _("The reference may have at most {n} characters.").format(n=REFERENCE_MAX),
            [{"field": "reference"}],
        )
    inv = _payable_invoice(session, tenant_id, invoice_id)
    paid = paid_amount(session, tenant_id, inv.id)
    pending = pending_cash(session, tenant_id, inv.id)
    open_amount = inv.gross_total - paid
    if value > open_amount - pending:
        raise _overpaid(value, open_amount, pending)
    writer = audit_writer(session, tenant_id, actor)

    if method == "cash":
        proposal = CashProposal(
            tenant_id=tenant_id,
            invoice_id=inv.id,
            proposal_date=payment_date,
            amount=value,
            status="proposed",
            created_at=utcnow(),
        )
        session.add(proposal)
        session.flush()
        writer.record("propose", "cash_proposal", proposal.id, after=_proposal_snapshot(proposal))
        return proposal

    payment = Payment(
        tenant_id=tenant_id,
        invoice_id=inv.id,
        payment_date=payment_date,
        amount=value,
        method=method,
        reference=reference,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(payment)
    session.flush()
    chart = journal.chart_of(session, tenant_id)
    money = money_account or accounts.account(chart, accounts.METHOD_ACCOUNT[method])
    line = settlement_line(chart, inv.direction, inv.number, money, payment_date, value)
    journal.post(session, tenant_id, SOURCE_TYPE, payment.id, [line])
    session.flush()
    writer.record("create", "payment", payment.id, after=_snapshot(payment))
    return payment


# --------------------------------------------------------------------------- cash proposals


def get_cash_proposal(
    session: Session, tenant_id: int, proposal_id: int, *, for_update: bool = False
) -> CashProposal:
    return owned_row(
        session,
        CashProposal,
        tenant_id,
        proposal_id,
        code="cash_proposal.not_found",
        message=_("Cash proposal {id} not found.").format(id=proposal_id),
        field="proposal_id",
        for_update=for_update,
    )


def _require_proposed(proposal: CashProposal) -> None:
    if proposal.status != "proposed":
        raise Conflict(
            "cash_proposal.already_decided",
            _("This cash proposal has already been {status}.").format(
                status=_("confirmed") if proposal.status == "confirmed" else _("rejected")
            ),
            [{"field": "proposal_id", "value": proposal.id, "status": proposal.status}],
        )


def _cash_entry_terms(
    session: Session, tenant_id: int, inv: Invoice, small_business: bool
) -> tuple[int, Decimal]:
    """Category and VAT rate the Kassenbuch row shows for an invoice payment.

    The posting itself is cash ↔ receivables/payables without tax (the invoice booked the VAT);
    category and rate only describe the row: the category of the invoice's largest line and
    the invoice's rate when it has exactly one (0 % for mixed rates and for §19 tenants).
    """
    lines = invoice_lines(session, tenant_id, inv.id)
    cats = CategoryResolver(session, tenant_id, journal.chart_of(session, tenant_id))
    main = max(lines, key=lambda ln: abs(ln.gross))
    category = cats.resolve(
        main.category_id, main.vat_rate, inv.direction, small_business and inv.direction == "out"
    )
    rates = {t.vat_rate for t in tax_totals(session, tenant_id, inv.id)}
    rate = rates.pop() if len(rates) == 1 and not small_business else ZERO
    return category.id, rate


def confirm_cash_proposal(
    session: Session,
    tenant_id: int,
    proposal_id: int,
    actor: str = "local",
    *,
    entry_date: date | None = None,
) -> CashProposal:
    """Turn a proposal into a Payment plus a cash-book entry (which posts cash ↔ receivables).

    ``entry_date`` overrides the proposed date, e.g. when that day is already closed.
    """
    proposal = get_cash_proposal(session, tenant_id, proposal_id, for_update=True)
    _require_proposed(proposal)
    inv = _payable_invoice(session, tenant_id, proposal.invoice_id)
    day = entry_date or proposal.proposal_date
    check_not_far_future(day, "entry_date")
    open_amount = inv.gross_total - paid_amount(session, tenant_id, inv.id)
    if proposal.amount > open_amount:
        raise _overpaid(proposal.amount, open_amount, ZERO)
    company = get_company(session, tenant_id)
    small = company.vat_regime == "small_business"
    category_id, rate = _cash_entry_terms(session, tenant_id, inv, small)
    payment = Payment(
        tenant_id=tenant_id,
        invoice_id=inv.id,
        payment_date=day,
        amount=proposal.amount,
        method="cash",
        reference="",
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(payment)
    session.flush()
    party = (
        session.scalar(
            select(Party.name).where(Party.id == inv.party_id, Party.tenant_id == tenant_id)
        )
        or ""
    )
    counter = accounts.account(
        company.chart, "receivables" if inv.direction == "out" else "payables"
    )
    entry = create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=day,
            description=f"{payment_text(inv.number)} {party}".strip(),
            category_id=category_id,
            direction="income" if inv.direction == "out" else "expense",
            amount=proposal.amount,
            amount_mode="gross",
            vat_rate=rate,
            input_vat_deductible=inv.direction == "in" and not small,
            payment_method="cash",
        ),
        actor=actor,
        invoice_id=inv.id,
        payment_id=payment.id,
        counter_account=counter,
    )
    before = _proposal_snapshot(proposal)
    proposal.status = "confirmed"
    proposal.payment_id = payment.id
    proposal.cash_entry_id = entry.id
    proposal.decided_at = utcnow()
    session.flush()
    writer = audit_writer(session, tenant_id, actor)
    writer.record("create", "payment", payment.id, after=_snapshot(payment))
    writer.record(
        "confirm", "cash_proposal", proposal.id, before=before, after=_proposal_snapshot(proposal)
    )
    return proposal


def reject_cash_proposal(
    session: Session, tenant_id: int, proposal_id: int, actor: str = "local"
) -> CashProposal:
    proposal = get_cash_proposal(session, tenant_id, proposal_id, for_update=True)
    _require_proposed(proposal)
    before = _proposal_snapshot(proposal)
    proposal.status = "rejected"
    proposal.decided_at = utcnow()
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "reject", "cash_proposal", proposal.id, before=before, after=_proposal_snapshot(proposal)
    )
    return proposal


def list_cash_proposals(
    session: Session,
    tenant_id: int,
    status: str | None = "proposed",
    invoice_id: int | None = None,
) -> list[CashProposal]:
    if status is not None and status not in PROPOSAL_STATUSES:
        raise ValidationFailed(
            "request.invalid_filter",
            _("Invalid filter {name}: {value}").format(name="status", value=status),
            [{"field": "status", "value": status, "allowed": list(PROPOSAL_STATUSES)}],
        )
    query = select(CashProposal).where(CashProposal.tenant_id == tenant_id)
    if status is not None:
        query = query.where(CashProposal.status == status)
    if invoice_id is not None:
        query = query.where(CashProposal.invoice_id == invoice_id)
    return list(session.scalars(query.order_by(CashProposal.proposal_date, CashProposal.id)))


# --------------------------------------------------------------------------- listing, reversal


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    reversed_by_id: int | None
    cash_entry_id: int | None


def list_payments(session: Session, tenant_id: int, invoice_id: int) -> list[PaymentRow]:
    """An invoice's payments and payment reversals in order, with their links."""
    get_invoice(session, tenant_id, invoice_id)
    rev = aliased(Payment)
    rows = session.execute(
        select(Payment, rev.id, CashEntry.id)
        .outerjoin(rev, (rev.reverses_id == Payment.id) & (rev.tenant_id == tenant_id))
        .outerjoin(
            CashEntry,
            (CashEntry.payment_id == Payment.id)
            & (CashEntry.tenant_id == tenant_id)
            & CashEntry.reverses_id.is_(None),
        )
        .where(Payment.tenant_id == tenant_id, Payment.invoice_id == invoice_id)
        .order_by(Payment.payment_date, Payment.id)
    ).all()
    return [PaymentRow(payment=p, reversed_by_id=r, cash_entry_id=c) for p, r, c in rows]


def get_payment(session: Session, tenant_id: int, payment_id: int) -> Payment:
    return owned_row(
        session,
        Payment,
        tenant_id,
        payment_id,
        code="payment.not_found",
        message=_("Payment {id} not found.").format(id=payment_id),
        field="payment_id",
    )


def reverse_payment(
    session: Session,
    tenant_id: int,
    payment_id: int,
    reason: str | None,
    actor: str = "local",
    *,
    reversal_date: date | None = None,
) -> Payment:
    """Storno of a payment: a negative-counting Payment row and mirrored postings.

    For cash, the linked Kassenbuch entry is reversed through the cash book (which refuses if
    the cash balance would become negative) and carries the mirrored posting.
    """
    reason_text = require_reason(reason)
    original = get_payment(session, tenant_id, payment_id)
    get_invoice(session, tenant_id, original.invoice_id, for_update=True)  # serialise per invoice
    detail = [{"field": "payment_id", "value": payment_id}]
    if original.reverses_id is not None:
        raise Conflict(
            "payment.is_reversal", _("A payment reversal cannot be reversed itself."), detail
        )
    existing = session.scalar(
        select(Payment.id).where(Payment.tenant_id == tenant_id, Payment.reverses_id == payment_id)
    )
    if existing is not None:
        raise Conflict(
            "payment.already_reversed",
            _("This payment has already been reversed."),
            [*detail, {"reversal_id": existing}],
        )
    day = check_not_far_future(reversal_date or today(), "reversal_date")
    if day < original.payment_date:
        raise ValidationFailed(
            "payment.reversal_before_original",
            _("The reversal cannot be dated before the payment."),
            [{"field": "reversal_date", "value": day.isoformat()}],
        )
    if original.method == "cash":
        entry_id = session.scalar(
            select(CashEntry.id).where(
                CashEntry.tenant_id == tenant_id,
                CashEntry.payment_id == original.id,
                CashEntry.reverses_id.is_(None),
            )
        )
        if entry_id is not None:
            reverse_cash_entry(
                session, tenant_id, entry_id, reason_text, actor=actor, on=day, with_payment=True
            )
    reversal = Payment(
        tenant_id=tenant_id,
        invoice_id=original.invoice_id,
        payment_date=day,
        amount=original.amount,
        method=original.method,
        reference=original.reference,
        reverses_id=original.id,
        reversal_reason=reason_text,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(reversal)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent reversal won the UNIQUE on reverses_id
        raise Conflict(
            "payment.already_reversed", _("This payment has already been reversed."), detail
        ) from exc
    inv = get_invoice(session, tenant_id, original.invoice_id)
    journal.reverse(
        session,
        tenant_id,
        SOURCE_TYPE,
        original.id,
        reversal_type=SOURCE_TYPE,
        reversal_id=reversal.id,
        posting_date=day,
        voucher=inv.number or "",
    )
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "reverse",
        "payment",
        original.id,
        before=_snapshot(original),
        after={"reversal_id": reversal.id, **_snapshot(reversal)},
        reason=reason_text,
    )
    return reversal
