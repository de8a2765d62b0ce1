"""The cash-basis view of the journal: what flowed when, for which account and category.

The journal books an invoice on its invoice date against receivables or payables, and its
payments on their payment dates against the receivable or payable. Cash entries and categorised
bank lines post money against the profit-and-loss account directly. The EÜR (Zufluss/Abfluss,
§ 11 EStG), the UStVA of a tenant taxed on receipts (Ist-Versteuerung, § 20 UStG) and the Anlage
EKS need the money view instead; :func:`cash_items` gives it.

The interface (stable; other modules build on it):

``cash_items(session, tenant_id, start, end, *, columns=None) -> list[CashItem]``
    Every money movement with a flow date from ``start`` to ``end`` (inclusive), sorted by flow
    date, posting id and payment id. ``columns`` may name the posting columns to carry when
    only a few are needed (the allocation's own are always there); default: all.
``cash_totals(session, tenant_id, start, end, by) -> dict[key, CashTotal]``
    The same items summed per value of the posting columns ``by`` (e.g. ``("category_id",
    "tax_rate")``), computed set-based: what a return needs for a year of postings in well
    under a second. Equal to summing :func:`cash_items` by construction and by test.

Which postings become items:

* **Invoice postings** (``source_type == "invoice"``) are realised by the payments of their
  invoice. Each payment in the period yields one item per posting of the invoice, dated on the
  payment date, carrying that payment's share of the posting. The shares are cent-exact: the
  cumulative amount paid after each payment is split over the invoice's postings with the
  largest-remainder method (:func:`belegwerk.core.money.distribute_cents`), and a payment's
  share is the difference to the split before it. So the shares of one payment add up to the
  payment, and once an invoice is paid in full each posting's shares add up to the posting.
  Partial and several payments, payment reversals (a reversal row counts negative, its items
  carry negative amounts), and Skonto left open all follow from that. An invoice's tax is
  split the same way (cumulatively, rounded half up), net is gross less tax. A Stornorechnung
  takes no payments, so its postings never flow: an invoice that was paid and then reversed
  nets to zero through the reversed payment. Money beyond the invoice total is not allocated
  (the books refuse overpayments; a bank line's surplus is booked by its category).
* **Settlement postings** (``source_type == "payment"``, and cash-book entries that record a
  cash payment of an invoice) are left out: their money is the invoice items above.
* **Every other posting** (cash-book entries, categorised bank lines and their reversals,
  anything a later module books directly) is passed through on its posting date with its full
  amounts.

An item carries every column of the posting it is a share of (``item.columns``, also readable
as attributes: ``item.category_id``, ``item.debit_account`` …); money columns (type
:class:`belegwerk.core.types.Money`) hold the share, positive in the posting's own direction
(debit → credit) and negative for a reversed payment. Columns added to ``postings`` later flow
through unchanged (money columns scaled like ``tax_amount``). ``posting_id`` is the posting for
the drill-down, ``payment_id``/``invoice_id`` name the payment and invoice of a share (``None``
for direct postings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Select, Table, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from belegwerk.books import accounts, journal
from belegwerk.books.cash import SOURCE_TYPE as CASH_SOURCE
from belegwerk.books.models import CashEntry, Invoice, Payment, Posting
from belegwerk.books.payments import SOURCE_TYPE as PAYMENT_SOURCE
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_date
from belegwerk.core.money import distribute_cents, from_cents, to_cents
from belegwerk.core.types import Money

INVOICE_SOURCE = "invoice"

_TABLE: Table = Posting.__table__  # type: ignore[assignment]
_NAMES: tuple[str, ...] = tuple(c.name for c in _TABLE.columns)
MONEY_COLUMNS: tuple[str, ...] = tuple(c.name for c in _TABLE.columns if isinstance(c.type, Money))
# Scaled by the share like the tax; net is derived (gross less tax) so the three always add up.
_SCALED: tuple[str, ...] = tuple(c for c in MONEY_COLUMNS if c not in ("amount", "net_amount"))


@dataclass(frozen=True, slots=True)
class CashItem:
    """One money movement: a direct posting, or a payment's share of an invoice posting."""

    flow_date: date
    posting_id: int
    payment_id: int | None
    invoice_id: int | None
    columns: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name == "columns":  # not set yet (copy/pickle): no recursion
            raise AttributeError(name)
        try:
            return self.columns[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def amount(self) -> Decimal:
        """Gross share, signed: positive in the posting's direction."""
        return self.columns["amount"]  # type: ignore[no-any-return]

    @property
    def net_amount(self) -> Decimal:
        return self.columns["net_amount"]  # type: ignore[no-any-return]

    @property
    def tax_amount(self) -> Decimal:
        return self.columns["tax_amount"]  # type: ignore[no-any-return]

    @property
    def debit_account(self) -> str:
        return self.columns["debit_account"]  # type: ignore[no-any-return]

    @property
    def credit_account(self) -> str:
        return self.columns["credit_account"]  # type: ignore[no-any-return]

    @property
    def category_id(self) -> int | None:
        return self.columns["category_id"]  # type: ignore[no-any-return]

    @property
    def tax_rate(self) -> Decimal:
        return self.columns["tax_rate"]  # type: ignore[no-any-return]

    @property
    def tax_account(self) -> str | None:
        return self.columns["tax_account"]  # type: ignore[no-any-return]

    @property
    def tax_key(self) -> str:
        return self.columns["tax_key"]  # type: ignore[no-any-return]

    @property
    def voucher(self) -> str:
        return self.columns["voucher"]  # type: ignore[no-any-return]

    @property
    def text(self) -> str:
        return self.columns["text"]  # type: ignore[no-any-return]

    @property
    def source_type(self) -> str:
        return self.columns["source_type"]  # type: ignore[no-any-return]

    @property
    def source_id(self) -> int:
        return self.columns["source_id"]  # type: ignore[no-any-return]

    @property
    def posting_date(self) -> date:
        return self.columns["posting_date"]  # type: ignore[no-any-return]


# What the allocation itself reads; always carried.
REQUIRED_COLUMNS = (
    "id",
    "posting_date",
    "source_type",
    "source_id",
    "debit_account",
    "credit_account",
    "amount",
    "net_amount",
    "tax_amount",
)


@dataclass(frozen=True)
class _Shape:
    """The posting columns one call carries: all by default, or the caller's choice."""

    names: tuple[str, ...]
    money: tuple[str, ...]
    scaled: tuple[str, ...]

    @classmethod
    def of(cls, wanted: Sequence[str] | None) -> _Shape:
        if wanted is None:
            names = _NAMES
        else:
            unknown = set(wanted) - set(_NAMES)
            if unknown:
                raise ValueError(f"unknown posting columns: {sorted(unknown)}")
            chosen = set(wanted) | set(REQUIRED_COLUMNS)
            names = tuple(n for n in _NAMES if n in chosen)
        return cls(
            names=names,
            money=tuple(n for n in names if n in MONEY_COLUMNS),
            scaled=tuple(n for n in names if n in _SCALED),
        )

    def select(self) -> list[ColumnElement[Any]]:
        """Money as raw cents: no per-value conversion before the allocation."""
        columns = _TABLE.c
        return [
            type_coerce(columns[n], BigInteger).label(n) if n in MONEY_COLUMNS else columns[n]
            for n in self.names
        ]

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return dict(zip(self.names, values, strict=True))


def _direct_query(
    tenant_id: int, start: date, end: date, columns: Sequence[ColumnElement[Any]]
) -> Select[Any]:
    """Postings that are money on their own date: not invoices, not settlements."""
    p = _TABLE.c
    settles = CashEntry.__table__.c
    return (
        select(*columns)
        .select_from(
            _TABLE.outerjoin(
                CashEntry.__table__,
                and_(
                    p.source_type == CASH_SOURCE,
                    settles.id == p.source_id,
                    settles.tenant_id == tenant_id,
                ),
            )
        )
        .where(
            p.tenant_id == tenant_id,
            p.posting_date >= start,
            p.posting_date <= end,
            p.source_type.not_in((INVOICE_SOURCE, PAYMENT_SOURCE)),
            settles.payment_id.is_(None),
        )
    )


def _direct(
    session: Session, tenant_id: int, start: date, end: date, shape: _Shape
) -> list[CashItem]:
    query = _direct_query(tenant_id, start, end, shape.select())
    items = []
    money = shape.money
    for values in session.execute(query).all():
        columns = shape.row(values)
        for name in money:
            columns[name] = from_cents(columns[name])
        items.append(
            CashItem(
                flow_date=columns["posting_date"],
                posting_id=columns["id"],
                payment_id=None,
                invoice_id=None,
                columns=columns,
            )
        )
    return items


def _half_up(part: int, value: int, whole: int) -> int:
    """round(part × value / whole), halves up, in integers (whole > 0)."""
    return (2 * part * value + whole) // (2 * whole)


def _orientation(direction: str, row: Mapping[str, Any], receivables: str, payables: str) -> int:
    """+1 for a posting running the invoice's way (receivable → revenue, expense → payable),
    -1 for a discount group booked the other way round."""
    debit, credit = row["debit_account"], row["credit_account"]
    if direction == "out":
        return -1 if credit == receivables and debit != receivables else 1
    return -1 if debit == payables and credit != payables else 1


def _allocate(
    invoice_id: int,
    postings: Sequence[dict[str, Any]],
    signs: Sequence[int],
    payments: Sequence[tuple[int, date, int]],
    start: date,
    scaled: Sequence[str],
) -> list[CashItem]:
    """Items of one invoice for its payments from ``start`` on (see the module docstring)."""
    weights = [sign * row["amount"] for sign, row in zip(signs, postings, strict=True)]
    gross = sum(weights)
    if gross <= 0:
        return []
    before = [0] * len(postings)
    before_scaled = [dict.fromkeys(scaled, 0) for _ in postings]
    paid = 0
    out: list[CashItem] = []
    for payment_id, day, signed in payments:
        paid += signed
        shares = distribute_cents(min(max(paid, 0), gross), weights)
        for i, row in enumerate(postings):
            cum = shares[i] * signs[i]
            amount = cum - before[i]
            before[i] = cum
            whole = row["amount"]
            last = before_scaled[i]
            parts = {}
            for name in scaled:
                value = _half_up(cum, row[name], whole) if whole else 0
                parts[name] = value - last[name]
                last[name] = value
            if day < start or (amount == 0 and not any(parts.values())):
                continue
            columns = dict(row)
            columns["amount"] = from_cents(amount)
            columns["net_amount"] = from_cents(amount - parts["tax_amount"])
            for name, value in parts.items():
                columns[name] = from_cents(value)
            out.append(
                CashItem(
                    flow_date=day,
                    posting_id=row["id"],
                    payment_id=payment_id,
                    invoice_id=invoice_id,
                    columns=columns,
                )
            )
    return out


def _signed_payment_cents() -> ColumnElement[int]:
    raw = type_coerce(Payment.amount, BigInteger)
    return case((Payment.reverses_id.is_(None), raw), else_=-raw)


def _paid_in(tenant_id: int, start: date, end: date) -> Select[Any]:
    """Invoices with a payment (or payment reversal) dated in the period."""
    return select(Payment.invoice_id).where(
        Payment.tenant_id == tenant_id, Payment.payment_date >= start, Payment.payment_date <= end
    )


def _settled_in(tenant_id: int, start: date, end: date) -> Select[Any]:
    """Invoices realised completely inside the period: no payment before it, and paid in full
    by its end. Their items add up to the whole postings (see :func:`cash_totals`)."""
    paid = (
        select(
            Payment.invoice_id.label("invoice_id"),
            func.min(Payment.payment_date).label("first"),
            func.sum(_signed_payment_cents()).label("paid"),
        )
        .where(Payment.tenant_id == tenant_id, Payment.payment_date <= end)
        .group_by(Payment.invoice_id)
        .subquery()
    )
    return (
        select(Invoice.id)
        .join(paid, paid.c.invoice_id == Invoice.id)
        .where(
            Invoice.tenant_id == tenant_id,
            paid.c.first >= start,
            paid.c.paid >= type_coerce(Invoice.gross_total, BigInteger),
        )
    )


def _realised(
    session: Session,
    tenant_id: int,
    start: date,
    end: date,
    shape: _Shape,
    invoices: Select[Any],
) -> list[CashItem]:
    """The items of the selected invoices' payments in the period."""
    chart = journal.chart_of(session, tenant_id)
    receivables = accounts.account(chart, "receivables")
    payables = accounts.account(chart, "payables")
    directions: dict[int, str] = {
        invoice_id: direction
        for invoice_id, direction in session.execute(
            select(Invoice.id, Invoice.direction).where(
                Invoice.tenant_id == tenant_id, Invoice.id.in_(invoices)
            )
        ).all()
    }
    payments: dict[int, list[tuple[int, date, int]]] = defaultdict(list)
    for invoice_id, payment_id, day, cents in session.execute(
        select(Payment.invoice_id, Payment.id, Payment.payment_date, _signed_payment_cents())
        .where(
            Payment.tenant_id == tenant_id,
            Payment.invoice_id.in_(invoices),
            Payment.payment_date <= end,
        )
        .order_by(Payment.invoice_id, Payment.payment_date, Payment.id)
    ).all():
        payments[invoice_id].append((payment_id, day, cents))
    p = _TABLE.c
    postings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for values in session.execute(
        select(*shape.select())
        .where(
            p.tenant_id == tenant_id,
            p.source_type == INVOICE_SOURCE,
            p.source_id.in_(invoices),
        )
        .order_by(p.source_id, p.id)
    ).all():
        row = shape.row(values)
        postings[row["source_id"]].append(row)
    items: list[CashItem] = []
    for invoice_id, rows in postings.items():
        direction = directions.get(invoice_id, "out")
        signs = [_orientation(direction, r, receivables, payables) for r in rows]
        items.extend(
            _allocate(invoice_id, rows, signs, payments.get(invoice_id, []), start, shape.scaled)
        )
    return items


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed(
            "period.invalid",
            _("The period ends ({end}) before it starts ({start}).").format(
                start=format_date(start), end=format_date(end)
            ),
            [{"field": "end", "value": end.isoformat()}],
        )


def cash_items(
    session: Session,
    tenant_id: int,
    start: date,
    end: date,
    *,
    columns: Sequence[str] | None = None,
) -> list[CashItem]:
    """Every money movement of the tenant with a flow date from ``start`` to ``end``.

    ``columns`` limits the posting columns the items carry (besides :data:`REQUIRED_COLUMNS`)
    when a caller reads many thousand items and needs only a few; by default all are carried.
    """
    _check_period(start, end)
    shape = _Shape.of(columns)
    items = _direct(session, tenant_id, start, end, shape)
    items.extend(_realised(session, tenant_id, start, end, shape, _paid_in(tenant_id, start, end)))
    items.sort(key=lambda i: (i.flow_date, i.posting_id, i.payment_id or 0))
    return items


@dataclass(frozen=True)
class CashTotal:
    """The sums of the items that share one key (see :func:`cash_totals`)."""

    key: tuple[Any, ...]
    money: Mapping[str, Decimal]

    @property
    def amount(self) -> Decimal:
        return self.money["amount"]

    @property
    def net_amount(self) -> Decimal:
        return self.money["net_amount"]

    @property
    def tax_amount(self) -> Decimal:
        return self.money["tax_amount"]


def cash_totals(
    session: Session, tenant_id: int, start: date, end: date, by: Sequence[str]
) -> dict[tuple[Any, ...], CashTotal]:
    """The items of :func:`cash_items` summed per value of the posting columns ``by``.

    Exactly the sums of the items, computed set-based for a year of postings: direct postings
    and invoices realised completely inside the period (no payment before it, paid in full by
    its end, so their shares add up to the postings) are summed in SQL; only the invoices paid
    partly in the period go through the allocation.
    """
    _check_period(start, end)
    shape = _Shape.of(by)
    keys = [_TABLE.c[name] for name in by]
    sums = [
        func.coalesce(func.sum(type_coerce(_TABLE.c[name], BigInteger)), 0).label(name)
        for name in MONEY_COLUMNS
    ]
    cents: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(MONEY_COLUMNS))

    def add(key: tuple[Any, ...], values: Sequence[int]) -> None:
        into = cents[key]
        for i, value in enumerate(values):
            into[i] += value

    width = len(keys)
    p = _TABLE.c
    direct = _direct_query(tenant_id, start, end, [*keys, *sums]).group_by(*keys)
    settled = (
        select(*keys, *sums)
        .where(
            p.tenant_id == tenant_id,
            p.source_type == INVOICE_SOURCE,
            p.source_id.in_(_settled_in(tenant_id, start, end)),
        )
        .group_by(*keys)
    )
    for query in (direct, settled):
        for row in session.execute(query).all():
            add(tuple(row[:width]), row[width:])
    partly = _paid_in(tenant_id, start, end).where(
        Payment.invoice_id.not_in(_settled_in(tenant_id, start, end))
    )
    for item in _realised(session, tenant_id, start, end, shape, partly):
        add(
            tuple(item.columns[name] for name in by),
            [to_cents(item.columns[name]) for name in MONEY_COLUMNS],
        )
    return {
        key: CashTotal(
            key=key,
            money={name: from_cents(v) for name, v in zip(MONEY_COLUMNS, values, strict=True)},
        )
        for key, values in cents.items()
    }
