"""The cash book (Kassenbuch): opening balance, immutable entries, reversals, running balance.

Rules kept here (GoBD and common sense of a cash register book):

* The opening balance is set once; no entry may lie before it.
* Entries get a gap-free voucher number per tenant (series ``cash``); in the journal their
  voucher text is ``K-`` plus the number padded to six digits (``K-000123``), see
  :func:`voucher_text`.
* The cash balance may never be negative at the end of any day, also not on later days when an
  expense is back-dated. The check uses daily sums in SQL (a window over days), not a loop over
  rows.
* Days covered by a daily closing are closed: nothing can be entered on or before them.
* Corrections are reversals: a new entry in the opposite direction that references the original.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, case, func, insert, literal, select, type_coerce, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from belegwerk.books import accounts, journal, numbers
from belegwerk.books import vat_treatment as vt
from belegwerk.books.categories import account_for, get_category, revenue_category_for_rate
from belegwerk.books.models import CashBook, CashEntry, Category, DailyClosing
from belegwerk.books.vat import check_rate, parse_rate
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future, require_reason, today
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed
from belegwerk.core.i18n import _, format_date, format_money
from belegwerk.core.money import ZERO, from_cents, parse_money, split_gross, to_cents, vat_from_net
from belegwerk.core.types import utcnow
from belegwerk.tenancy.service import get_company

SERIES = "cash"
SOURCE_TYPE = "cash_entry"
DIRECTIONS = ("income", "expense")
AMOUNT_MODES = ("gross", "net")
TOLERANCE = Decimal("0.01")
DESCRIPTION_MAX = 300


def voucher_text(number: int) -> str:
    """The voucher reference of a cash entry in the journal and DATEV (Belegfeld 1)."""
    return f"K-{number:06d}"


@dataclass(frozen=True)
class CashEntryInput:
    """One cash entry as entered. ``amount`` is gross or net per ``amount_mode``.

    ``net``/``vat``/``gross`` may be given instead (or in addition) as printed on the receipt;
    when all three are given they must agree within one cent. ``vat_rate`` and
    ``input_vat_deductible`` default to the category's values.
    """

    entry_date: date
    description: str
    category_id: int
    direction: str
    amount: Decimal | str | None = None
    amount_mode: str = "gross"
    vat_rate: Decimal | str | int | None = None
    input_vat_deductible: bool | None = None
    payment_method: str = "cash"
    net: Decimal | str | None = None
    vat: Decimal | str | None = None
    gross: Decimal | str | None = None
    vat_category: str | None = None  # EN 16931 code: S, Z, E or O; default from the rate


@dataclass(frozen=True)
class CashEntryRow:
    """A listed entry with the running balance after it (ordered by date, voucher number)."""

    entry: CashEntry
    balance: Decimal
    reversed_by_id: int | None


@dataclass(frozen=True)
class CashEntryPage:
    items: list[CashEntryRow]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class _Context:
    """What validating entries of one tenant needs, loaded once per call."""

    tenant_id: int
    chart: str
    small_business: bool
    opening: CashBook
    closed_until: date | None


@dataclass(frozen=True)
class _Prepared:
    values: dict[str, Any]
    category: Category
    private: bool


# --------------------------------------------------------------------------- opening balance


def get_opening(session: Session, tenant_id: int) -> CashBook | None:
    return session.scalar(select(CashBook).where(CashBook.tenant_id == tenant_id))


def set_opening_balance(
    session: Session,
    tenant_id: int,
    opening_date: date,
    amount: Decimal | str,
    *,
    actor: str = "local",
) -> CashBook:
    """Kassenanfangsbestand: set once; it is not a journal posting (it is a balance carried in)."""
    value = parse_money(amount, "amount")
    check_not_far_future(opening_date, "opening_date")
    if get_opening(session, tenant_id) is not None:
        raise Conflict(
            "cash.opening_exists",
            _("The opening balance of the cash book has already been set."),
            [{"field": "opening_date"}],
        )
    book = CashBook(
        tenant_id=tenant_id, opening_date=opening_date, opening_balance=value, created_at=utcnow()
    )
    session.add(book)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "create",
        "cash_book",
        book.id,
        after={"opening_date": opening_date, "opening_balance": value},
    )
    return book


def require_opening(session: Session, tenant_id: int, *, lock: bool = False) -> CashBook:
    query = select(CashBook).where(CashBook.tenant_id == tenant_id)
    if lock:
        # Serialises cash writes of one tenant on PostgreSQL, so two concurrent expenses
        # cannot both pass the balance check. SELECT ... FOR UPDATE fires no UPDATE trigger.
        query = query.with_for_update()
    book = session.scalar(query)
    if book is None:
        raise ValidationFailed(
            "cash.no_opening_balance",
            _("Please set the opening balance of the cash book first."),
            [{"field": "opening_balance"}],
        )
    return book


def last_closing_date(session: Session, tenant_id: int) -> date | None:
    return session.scalar(
        select(func.max(DailyClosing.closing_date)).where(DailyClosing.tenant_id == tenant_id)
    )


def _context(session: Session, tenant_id: int) -> _Context:
    """Locks the cash book first, so the closing date and balances read after it are current."""
    company = get_company(session, tenant_id)
    opening = require_opening(session, tenant_id, lock=True)
    return _Context(
        tenant_id=tenant_id,
        chart=company.chart,
        small_business=company.vat_regime == "small_business",
        opening=opening,
        closed_until=last_closing_date(session, tenant_id),
    )


# --------------------------------------------------------------------------- validation


def _fail(code: str, message: str, field: str, value: object = None) -> ValidationFailed:
    detail: dict[str, Any] = {"field": field}
    if value is not None:
        detail["value"] = str(value)
    return ValidationFailed(code, message, [detail])


def _check_date(ctx: _Context, day: date, field: str = "entry_date") -> None:
    check_not_far_future(day, field)
    if day < ctx.opening.opening_date:
        raise _fail(
            "cash.before_opening",
            _("The date {date} lies before the opening of the cash book ({opening}).").format(
                date=format_date(day), opening=format_date(ctx.opening.opening_date)
            ),
            field,
            day.isoformat(),
        )
    if ctx.closed_until is not None and day <= ctx.closed_until:
        raise _fail(
            "cash.day_closed",
            _("The day {date} is already closed (daily closing up to {closed}).").format(
                date=format_date(day), closed=format_date(ctx.closed_until)
            ),
            field,
            day.isoformat(),
        )


def _amounts(
    data: CashEntryInput, rate: Decimal, small_business: bool
) -> tuple[Decimal, Decimal, Decimal]:
    """Net, VAT and gross from what was entered; net + VAT == gross exactly."""
    net_in = parse_money(data.net, "net") if data.net is not None else None
    vat_in = parse_money(data.vat, "vat") if data.vat is not None else None
    gross_in = parse_money(data.gross, "gross") if data.gross is not None else None
    if small_business and vat_in:
        raise _fail(
            "vat.small_business_no_vat",
            _("A small business (§ 19 UStG) must not show VAT."),
            "vat",
            vat_in,
        )
    if data.amount_mode not in AMOUNT_MODES:
        raise _fail(
            "cash.invalid_amount_mode",
            _("The amount must be entered as gross or net."),
            "amount_mode",
            data.amount_mode,
        )
    if net_in is not None and vat_in is not None and gross_in is not None:
        if abs(net_in + vat_in - gross_in) > TOLERANCE:
            raise ValidationFailed(
                "money.inconsistent",
                _("Net plus VAT does not equal gross ({net} + {vat} ≠ {gross}).").format(
                    net=format_money(net_in), vat=format_money(vat_in), gross=format_money(gross_in)
                ),
                [
                    {
                        "field": "gross",
                        "net": str(net_in),
                        "vat": str(vat_in),
                        "gross": str(gross_in),
                    }
                ],
            )
        expected_vat = split_gross(gross_in, rate)[1]
        if abs(vat_in - expected_vat) > TOLERANCE:
            raise ValidationFailed(
                "money.inconsistent",
                _("The VAT {vat} does not match the rate {rate} % (expected {expected}).").format(
                    vat=format_money(vat_in), rate=rate, expected=format_money(expected_vat)
                ),
                [{"field": "vat", "value": str(vat_in), "expected": str(expected_vat)}],
            )
        # The receipt's VAT wins (it may be rounded per item); gross is the cash that moved.
        return gross_in - vat_in, vat_in, gross_in

    mode = data.amount_mode
    amount: Decimal | None
    if data.amount is not None:
        amount = parse_money(data.amount, "amount")
    elif gross_in is not None:
        amount, mode = gross_in, "gross"
    elif net_in is not None:
        amount, mode = net_in, "net"
    else:
        amount = None
    if amount is None:
        raise _fail("cash.amount_missing", _("Please enter an amount."), "amount")
    if mode == "gross":
        net, vat = split_gross(amount, rate)
        gross = amount
    else:
        net = amount
        vat = vat_from_net(net, rate)
        gross = net + vat
    for name, given, computed in (("gross", gross_in, gross), ("net", net_in, net)):
        if given is not None and abs(given - computed) > TOLERANCE:
            raise ValidationFailed(
                "money.inconsistent",
                _("The amounts do not fit together ({given} vs. {computed}).").format(
                    given=format_money(given), computed=format_money(computed)
                ),
                [{"field": name, "value": str(given), "expected": str(computed)}],
            )
    return net, vat, gross


def _check_category(category: Category, direction: str, *, settles_invoice: bool) -> bool:
    """Whether the category suits the direction; returns True for private money movements."""
    # Private money and cash in transit to the bank move money without VAT or profit effect.
    private = category.kind in ("private", "transfer")
    if settles_invoice:
        return False
    allowed = {
        "income": ("revenue", "private", "transfer"),
        "expense": ("expense", "asset", "private", "transfer"),
    }[direction]
    wrong_private = (category.key == "private_withdrawal" and direction != "expense") or (
        category.key == "private_deposit" and direction != "income"
    )
    if category.kind not in allowed or wrong_private:
        raise _fail(
            "cash.category_direction",
            _("The category {category} does not fit a cash {direction}.").format(
                category=category.name_de,
                direction=_("income") if direction == "income" else _("expense"),
            ),
            "category_id",
            category.id,
        )
    return private


def _prepare(
    session: Session,
    ctx: _Context,
    data: CashEntryInput,
    *,
    category: Category | None = None,
    settles_invoice: bool = False,
) -> _Prepared:
    """Validate one entry without touching the database beyond reads; returns the row values."""
    if data.direction not in DIRECTIONS:
        raise _fail(
            "cash.invalid_direction",
            _("A cash entry is either income or expense."),
            "direction",
            data.direction,
        )
    if data.payment_method != "cash":
        raise _fail(
            "cash.not_cash",
            _(
                "Only cash belongs in the cash book; card, bank and PayPal payments are "
                "recorded with the invoice or the bank account."
            ),
            "payment_method",
            data.payment_method,
        )
    description = (data.description or "").strip()
    if not description:
        raise _fail("cash.description_missing", _("Please enter a description."), "description")
    if len(description) > DESCRIPTION_MAX:
        raise _fail(
            "cash.description_too_long",
            _("The description may have at most {n} characters.").format(n=DESCRIPTION_MAX),
            "description",
        )
    _check_date(ctx, data.entry_date)
    if category is None:
        category = get_category(session, data.category_id)
    private = _check_category(category, data.direction, settles_invoice=settles_invoice)

    if data.vat_rate is not None:
        rate = parse_rate(data.vat_rate)
    else:
        rate = ZERO if (ctx.small_business or private) else category.default_vat_rate
    if ctx.small_business and rate != 0:
        raise _fail(
            "vat.small_business_no_vat",
            _("A small business (§ 19 UStG) charges no VAT; the VAT rate must be 0 %."),
            "vat_rate",
            rate,
        )
    if private and rate != 0:
        raise _fail(
            "cash.private_no_vat",
            _("Private money and cash in transit carry no VAT; the VAT rate must be 0 %."),
            "vat_rate",
            rate,
        )
    rate = check_rate(rate, data.entry_date)
    code_default = vt.default_code(rate, small_business=ctx.small_business and not private)
    code = (
        vt.normalize_code(data.vat_category, "vat_category", vt.CASH_CODES)
        if data.vat_category
        else code_default
    )
    if private:
        code = vt.OUT_OF_SCOPE if code == vt.EXEMPT and not data.vat_category else code
    vt.check_rate_fits(code, rate, "vat_rate")
    if ctx.small_business and data.direction == "income" and not private and code != vt.EXEMPT:
        raise _fail(
            "vat.small_business_exempt",
            _("Sales of a small business (§ 19 UStG) are tax-exempt: use the VAT treatment E."),
            "vat_category",
            code,
        )
    if data.direction == "income" and not private and not settles_invoice:
        category = revenue_category_for_rate(session, category, rate, ctx.small_business)
    net, vat, gross = _amounts(data, rate, ctx.small_business)
    if gross <= 0:
        raise _fail("cash.amount_zero", _("The amount must be greater than zero."), "amount")

    deductible = data.input_vat_deductible
    if deductible is None:
        deductible = category.input_vat_deductible
    deductible = bool(
        deductible and data.direction == "expense" and not ctx.small_business and vat != 0
    )
    values: dict[str, Any] = {
        "tenant_id": ctx.tenant_id,
        "entry_date": data.entry_date,
        "description": description,
        "category_id": category.id,
        "payment_method": "cash",
        "direction": data.direction,
        "net": net,
        "vat_rate": rate,
        "vat": vat,
        "gross": gross,
        "input_vat_deductible": deductible,
        "vat_category": code,
    }
    return _Prepared(values=values, category=category, private=private)


def _lines(
    session: Session,
    ctx: _Context,
    prepared: _Prepared,
    voucher: str,
    *,
    counter_account: str | None = None,
    account_cache: dict[int, str | None] | None = None,
) -> list[journal.Line]:
    """The postings of a cash entry: cash against revenue, expense, private or a counter account."""
    v = prepared.values
    cash = accounts.account(ctx.chart, "cash")
    income = v["direction"] == "income"
    text = str(v["description"])
    if counter_account is not None:
        debit, credit = (cash, counter_account) if income else (counter_account, cash)
        return [
            journal.transfer_line(
                posting_date=v["entry_date"],
                debit_account=debit,
                credit_account=credit,
                amount=v["gross"],
                voucher=voucher,
                text=text,
                category_id=v["category_id"],
            )
        ]
    category = prepared.category
    if account_cache is not None and category.id in account_cache:
        account = account_cache[category.id]
    else:
        account = account_for(session, ctx.tenant_id, category, ctx.chart)
        if account_cache is not None:
            account_cache[category.id] = account
    if not account:
        raise _fail(
            "category.no_account",
            _("The category {category} has no account in {chart}.").format(
                category=category.name_de, chart=ctx.chart.upper()
            ),
            "category_id",
            category.id,
        )
    if prepared.private:
        debit, credit = (cash, account) if income else (account, cash)
        return [
            journal.transfer_line(
                posting_date=v["entry_date"],
                debit_account=debit,
                credit_account=credit,
                amount=v["gross"],
                voucher=voucher,
                text=text,
                category_id=category.id,
            )
        ]
    treatment = vt.resolve(
        "out" if income else "in",
        v["vat_category"],
        vt.HOME,
        small_business=ctx.small_business and income,
    ).treatment
    if income:
        return [
            journal.sale_line(
                ctx.chart,
                posting_date=v["entry_date"],
                money_account=cash,
                revenue_account=account,
                gross=v["gross"],
                net=v["net"],
                vat=v["vat"],
                rate=v["vat_rate"],
                voucher=voucher,
                text=text,
                category_id=category.id,
                vat_treatment=treatment,
            )
        ]
    return [
        journal.purchase_line(
            ctx.chart,
            posting_date=v["entry_date"],
            money_account=cash,
            expense_account=account,
            gross=v["gross"],
            net=v["net"],
            vat=v["vat"],
            rate=v["vat_rate"],
            deductible=v["input_vat_deductible"],
            voucher=voucher,
            text=text,
            category_id=category.id,
            vat_treatment=treatment,
        )
    ]


# --------------------------------------------------------------------------- balance


def _signed_cents() -> ColumnElement[int]:
    """Income positive, expense negative, in integer cents (exact on SQLite too)."""
    cents = type_coerce(CashEntry.gross, BigInteger)
    return case((CashEntry.direction == "income", cents), else_=-cents)


def _sum_cents(session: Session, tenant_id: int, *conditions: ColumnElement[bool]) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(_signed_cents()), 0)).where(
            CashEntry.tenant_id == tenant_id, *conditions
        )
    )
    return int(total or 0)


def cash_balance(session: Session, tenant_id: int, on_date: date) -> Decimal:
    """Opening balance plus income minus expenses up to and including ``on_date``."""
    book = get_opening(session, tenant_id)
    if book is None or on_date < book.opening_date:
        return ZERO
    cents = _sum_cents(session, tenant_id, CashEntry.entry_date <= on_date)
    return book.opening_balance + from_cents(cents)


def _lowest_balance_from(
    session: Session, tenant_id: int, opening: CashBook, day: date
) -> tuple[int, date]:
    """The lowest end-of-day balance (cents) on ``day`` or any later day, and that day.

    One query over daily sums with a running window; ``day`` itself is always included.
    """
    before = to_cents(opening.opening_balance) + _sum_cents(
        session, tenant_id, CashEntry.entry_date < day
    )
    daily = (
        select(
            CashEntry.entry_date.label("day"),
            func.sum(_signed_cents()).label("amount"),
        )
        .where(CashEntry.tenant_id == tenant_id, CashEntry.entry_date >= day)
        .group_by(CashEntry.entry_date)
    )
    start = select(literal(day, Date).label("day"), literal(0, BigInteger).label("amount"))
    days = union_all(daily, start).subquery()
    running = select(
        days.c.day, func.sum(days.c.amount).over(order_by=days.c.day).label("run")
    ).subquery()
    row = session.execute(
        select(running.c.run, running.c.day).order_by(running.c.run, running.c.day).limit(1)
    ).one()
    low_day = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
    return before + int(row.run), low_day


def _negative_balance(day: date, balance_cents: int) -> ValidationFailed:
    balance = from_cents(balance_cents)
    return ValidationFailed(
        "cash.negative_balance",
        _("The cash balance would become negative: {balance} on {date}.").format(
            balance=format_money(balance), date=format_date(day)
        ),
        [{"field": "amount", "date": day.isoformat(), "balance": str(balance)}],
    )


def _check_balance(
    session: Session, tenant_id: int, opening: CashBook, day: date, direction: str, gross: Decimal
) -> None:
    """An expense lowers every end-of-day balance from its date on; none may drop below zero."""
    if direction == "income":
        return
    low, low_day = _lowest_balance_from(session, tenant_id, opening, day)
    if low - to_cents(gross) < 0:
        raise _negative_balance(low_day, low - to_cents(gross))


# --------------------------------------------------------------------------- create


def snapshot(entry: CashEntry) -> dict[str, Any]:
    return {
        "voucher_number": entry.voucher_number,
        "entry_date": entry.entry_date,
        "description": entry.description,
        "category_id": entry.category_id,
        "payment_method": entry.payment_method,
        "direction": entry.direction,
        "net": entry.net,
        "vat_rate": entry.vat_rate,
        "vat": entry.vat,
        "gross": entry.gross,
        "input_vat_deductible": entry.input_vat_deductible,
        "vat_category": entry.vat_category,
        "reverses_id": entry.reverses_id,
        "invoice_id": entry.invoice_id,
        "payment_id": entry.payment_id,
    }


def create_cash_entry(
    session: Session,
    tenant_id: int,
    data: CashEntryInput,
    *,
    actor: str = "local",
    invoice_id: int | None = None,
    payment_id: int | None = None,
    counter_account: str | None = None,
) -> CashEntry:
    """Book one cash entry with its postings and audit record.

    ``counter_account`` (used when cash settles an invoice) books cash against that account
    (receivables/payables) instead of revenue/expense, because the invoice already did that.
    """
    ctx = _context(session, tenant_id)
    prepared = _prepare(session, ctx, data, settles_invoice=counter_account is not None)
    values = prepared.values
    _check_balance(
        session, tenant_id, ctx.opening, values["entry_date"], values["direction"], values["gross"]
    )
    number = numbers.next_number(session, tenant_id, SERIES)
    voucher = voucher_text(number)
    lines = _lines(session, ctx, prepared, voucher, counter_account=counter_account)
    entry = CashEntry(
        **values,
        voucher_number=number,
        invoice_id=invoice_id,
        payment_id=payment_id,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(entry)
    session.flush()
    journal.post(session, tenant_id, SOURCE_TYPE, entry.id, lines)
    audit_writer(session, tenant_id, actor).record(
        "create", "cash_entry", entry.id, after=snapshot(entry)
    )
    session.flush()
    return entry


def create_cash_entries(
    session: Session, tenant_id: int, items: Sequence[CashEntryInput], actor: str = "local"
) -> int:
    """Bulk booking (imports, demo data, benchmark): same rules, few statements.

    Everything is validated first, the balance invariant is checked once over the merged daily
    sums of the database and the batch, then numbers, entries, postings and audit records are
    written in bulk.
    """
    if not items:
        return 0
    ctx = _context(session, tenant_id)
    categories = {c.id: c for c in session.scalars(select(Category))}
    prepared: list[_Prepared] = []
    for index, data in enumerate(items):
        category = categories.get(data.category_id)
        try:
            if category is None:
                get_category(session, data.category_id)  # raises NotFound
            prepared.append(_prepare(session, ctx, data, category=category))
        except (ValidationFailed, NotFound) as exc:
            for detail in exc.details:
                detail.setdefault("index", index)
            raise

    _check_batch_balance(session, tenant_id, ctx.opening, prepared)

    numbers_ = numbers.next_numbers(session, tenant_id, SERIES, len(prepared))
    now = utcnow()
    rows = [
        {
            **p.values,
            "voucher_number": n,
            "created_at": now,
            "created_by": actor,
            "reverses_id": None,
            "reversal_reason": None,
            "invoice_id": None,
            "payment_id": None,
        }
        for p, n in zip(prepared, numbers_, strict=True)
    ]
    ids = list(
        session.scalars(
            insert(CashEntry).returning(CashEntry.id, sort_by_parameter_order=True), rows
        )
    )
    account_cache: dict[int, str | None] = {}
    posting_rows: list[dict[str, object]] = []
    for p, n, entry_id in zip(prepared, numbers_, ids, strict=True):
        for line in _lines(session, ctx, p, voucher_text(n), account_cache=account_cache):
            posting_rows.append(journal.posting_row(tenant_id, SOURCE_TYPE, entry_id, line))
    journal.post_many(session, posting_rows)
    writer = audit_writer(session, tenant_id, actor)
    for row, entry_id in zip(rows, ids, strict=True):
        after = {k: row[k] for k in _AUDIT_KEYS}
        writer.record("create", "cash_entry", entry_id, after=after)
    session.flush()
    return len(ids)


_AUDIT_KEYS = (
    "voucher_number",
    "entry_date",
    "description",
    "category_id",
    "payment_method",
    "direction",
    "net",
    "vat_rate",
    "vat",
    "gross",
    "input_vat_deductible",
    "vat_category",
    "reverses_id",
    "invoice_id",
    "payment_id",
)


def _check_batch_balance(
    session: Session, tenant_id: int, opening: CashBook, prepared: Sequence[_Prepared]
) -> None:
    """Merge the batch's daily sums into the stored ones; every end-of-day balance stays >= 0."""
    delta: dict[date, int] = defaultdict(int)
    for p in prepared:
        cents = to_cents(p.values["gross"])
        delta[p.values["entry_date"]] += cents if p.values["direction"] == "income" else -cents
    first = min(delta)
    balance = to_cents(opening.opening_balance) + _sum_cents(
        session, tenant_id, CashEntry.entry_date < first
    )
    stored = session.execute(
        select(CashEntry.entry_date, func.sum(_signed_cents()))
        .where(CashEntry.tenant_id == tenant_id, CashEntry.entry_date >= first)
        .group_by(CashEntry.entry_date)
    ).all()
    for day, cents in stored:
        delta[day] += int(cents)
    for day in sorted(delta):
        balance += delta[day]
        if balance < 0:
            raise _negative_balance(day, balance)


# --------------------------------------------------------------------------- reversal


def get_cash_entry(session: Session, tenant_id: int, entry_id: int) -> CashEntry:
    return owned_row(
        session,
        CashEntry,
        tenant_id,
        entry_id,
        code="cash.not_found",
        message=_("Unknown cash entry: {id}").format(id=entry_id),
        field="id",
    )


def reversal_of(session: Session, tenant_id: int, entry_id: int) -> CashEntry | None:
    return session.scalar(
        select(CashEntry).where(CashEntry.tenant_id == tenant_id, CashEntry.reverses_id == entry_id)
    )


def reverse_cash_entry(
    session: Session,
    tenant_id: int,
    entry_id: int,
    reason: str | None,
    *,
    actor: str = "local",
    on: date | None = None,
    with_payment: bool = False,
) -> CashEntry:
    """Storno: a new entry in the opposite direction with the same amounts, referencing the
    original; its postings mirror the original's.

    An entry that settles an invoice is reversed together with its payment (payments module,
    ``with_payment=True``); reversing it alone would leave the invoice marked as paid.
    """
    text = require_reason(reason)
    original = get_cash_entry(session, tenant_id, entry_id)
    if original.payment_id is not None and not with_payment:
        raise Conflict(
            "cash.reverse_via_payment",
            _("This entry pays an invoice; reverse the payment on the invoice instead."),
            [{"field": "id", "value": entry_id, "invoice_id": original.invoice_id}],
        )
    if original.reverses_id is not None:
        raise Conflict(
            "cash.reversal_of_reversal",
            _("A reversal cannot be reversed; enter the entry again instead."),
            [{"field": "id", "value": entry_id}],
        )
    existing = reversal_of(session, tenant_id, entry_id)
    if existing is not None:
        raise Conflict(
            "cash.already_reversed",
            _("Cash entry {voucher} has already been reversed ({reversal}).").format(
                voucher=voucher_text(original.voucher_number),
                reversal=voucher_text(existing.voucher_number),
            ),
            [{"field": "id", "value": entry_id, "reversal_id": existing.id}],
        )
    day = on or today()
    ctx = _context(session, tenant_id)
    _check_date(ctx, day, "on")
    if day < original.entry_date:
        raise _fail(
            "cash.reversal_before_original",
            _("The reversal cannot be dated before the entry it reverses ({date}).").format(
                date=format_date(original.entry_date)
            ),
            "on",
            day.isoformat(),
        )
    direction = "expense" if original.direction == "income" else "income"
    _check_balance(session, tenant_id, ctx.opening, day, direction, original.gross)
    number = numbers.next_number(session, tenant_id, SERIES)
    description = f"Storno {voucher_text(original.voucher_number)}: {original.description}"
    reversal = CashEntry(
        tenant_id=tenant_id,
        voucher_number=number,
        entry_date=day,
        description=description[:DESCRIPTION_MAX],
        category_id=original.category_id,
        payment_method=original.payment_method,
        direction=direction,
        net=original.net,
        vat_rate=original.vat_rate,
        vat=original.vat,
        gross=original.gross,
        input_vat_deductible=original.input_vat_deductible,
        vat_category=original.vat_category,
        reverses_id=original.id,
        reversal_reason=text,
        invoice_id=original.invoice_id,
        payment_id=original.payment_id,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(reversal)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent reversal won the UNIQUE on reverses_id
        raise Conflict(
            "cash.already_reversed",
            _("Cash entry {voucher} has already been reversed.").format(
                voucher=voucher_text(original.voucher_number)
            ),
            [{"field": "id", "value": entry_id}],
        ) from exc
    journal.reverse(
        session,
        tenant_id,
        SOURCE_TYPE,
        original.id,
        reversal_type=SOURCE_TYPE,
        reversal_id=reversal.id,
        posting_date=day,
        voucher=voucher_text(number),
    )
    audit_writer(session, tenant_id, actor).record(
        "reverse",
        "cash_entry",
        original.id,
        before=snapshot(original),
        after={"reversal_id": reversal.id, **snapshot(reversal)},
        reason=text,
    )
    session.flush()
    return reversal


# --------------------------------------------------------------------------- listing


def list_cash_entries(
    session: Session,
    tenant_id: int,
    *,
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> CashEntryPage:
    """Entries ordered by date then voucher number, each with the balance after it.

    The running balance is a window sum over all of the tenant's entries, so filtering and
    paging do not change it.
    """
    page = max(page, 1)
    page_size = max(min(page_size, 1000), 1)
    book = get_opening(session, tenant_id)
    opening_cents = to_cents(book.opening_balance) if book else 0
    run = (
        func.sum(_signed_cents())
        .over(order_by=(CashEntry.entry_date, CashEntry.voucher_number))
        .label("run")
    )
    running = select(CashEntry.id.label("id"), run).where(CashEntry.tenant_id == tenant_id)
    running_sq = running.subquery()
    reversal = aliased(CashEntry)
    filters: list[ColumnElement[bool]] = [CashEntry.tenant_id == tenant_id]
    if start is not None:
        filters.append(CashEntry.entry_date >= start)
    if end is not None:
        filters.append(CashEntry.entry_date <= end)
    total = int(session.scalar(select(func.count(CashEntry.id)).where(*filters)) or 0)
    query = (
        select(CashEntry, running_sq.c.run, reversal.id)
        .join(running_sq, running_sq.c.id == CashEntry.id)
        .outerjoin(
            reversal,
            (reversal.reverses_id == CashEntry.id) & (reversal.tenant_id == tenant_id),
        )
        .where(*filters)
        .order_by(CashEntry.entry_date, CashEntry.voucher_number)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    items = [
        CashEntryRow(entry=e, balance=from_cents(opening_cents + int(r)), reversed_by_id=rev)
        for e, r, rev in session.execute(query)
    ]
    return CashEntryPage(items=items, total=total, page=page, page_size=page_size)
