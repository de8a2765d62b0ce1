"""Daily closing (Tagesabschluss) with cash count (Zählprotokoll).

The expected balance comes from the cash book; the counted balance from notes and coins. A
difference needs a reason and a treatment, which books it into the cash book *before* the
closing row is written (after that the day is closed). Closings are immutable, one per day,
strictly moving forward in time, and chained: each signature is SHA-256 over the closing's
canonical content plus the previous closing's signature, so an altered row breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, case, exists, func, select, type_coerce
from sqlalchemy.orm import Session

from belegwerk.books import cash
from belegwerk.books.categories import category_by_key
from belegwerk.books.models import CashEntry, DailyClosing
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import today as current_day
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _, format_date, format_money
from belegwerk.core.money import CENT, ZERO, from_cents
from belegwerk.core.types import utcnow

GENESIS = "0" * 64
NOTES = ("500", "200", "100", "50", "20", "10", "5")
COINS = ("2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01")
DENOMINATIONS: dict[str, Decimal] = {key: Decimal(key) for key in NOTES + COINS}
TREATMENTS = ("private", "other", "record_only")
MAX_COUNT = 1_000_000  # per denomination; keeps the counted sum far inside DATEV's range
WARNING_SHARE = Decimal("0.05")  # warn when more than 5 % of closed days show a difference

# (shortage?, treatment) -> (direction, category key) of the entry that books the difference
DIFFERENCE_TEXT = "Kassendifferenz Tagesabschluss {date}: {reason}"
DIFFERENCE_BOOKING = {
    (True, "private"): ("expense", "private_withdrawal"),
    (True, "other"): ("expense", "other_expense"),
    (False, "private"): ("income", "private_deposit"),
    (False, "other"): ("income", "other_income"),
}


@dataclass(frozen=True)
class ClosingProblem:
    closing_id: int
    closing_date: date
    reason: str


@dataclass(frozen=True)
class ClosingStatistics:
    start: date
    end: date
    closings: int
    days_with_difference: int
    average_abs_difference: Decimal
    share_with_difference: Decimal  # 0 … 1
    warning: bool


# --------------------------------------------------------------------------- counting


def _denomination_key(key: object) -> str:
    try:
        value = Decimal(str(key).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        value = None
    for name, denomination in DENOMINATIONS.items():
        if value is not None and value.is_finite() and value == denomination:
            return name
    raise ValidationFailed(
        "closing.unknown_denomination",
        _("Unknown denomination: {key}").format(key=key),
        [{"field": f"counts.{key}", "value": str(key)}],
    )


def _integral(value: object) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return False


def _count(name: str, value: object) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif _integral(value):
        number = int(value)  # type: ignore[call-overload]
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    if number is None:
        raise ValidationFailed(
            "closing.invalid_count",
            _("The count for {denomination} must be a whole number.").format(denomination=name),
            [{"field": f"counts.{name}", "value": str(value)}],
        )
    if number < 0:
        raise ValidationFailed(
            "closing.negative_count",
            _("The count for {denomination} must not be negative.").format(denomination=name),
            [{"field": f"counts.{name}", "value": number}],
        )
    if number > MAX_COUNT:
        raise ValidationFailed(
            "closing.count_too_large",
            _("The count for {denomination} is implausibly large.").format(denomination=name),
            [{"field": f"counts.{name}", "value": number}],
        )
    return number


def normalize_counts(counts: Mapping[str, object]) -> dict[str, int]:
    """Every denomination with its count (missing ones are 0); keys as in :data:`DENOMINATIONS`."""
    result = dict.fromkeys(DENOMINATIONS, 0)
    seen: set[str] = set()
    for key, value in counts.items():
        name = _denomination_key(key)
        if name in seen:
            raise ValidationFailed(
                "closing.duplicate_denomination",
                _("The denomination {key} is given twice.").format(key=name),
                [{"field": f"counts.{key}"}],
            )
        seen.add(name)
        result[name] = _count(name, value)
    return result


def counted_total(counts: Mapping[str, int]) -> Decimal:
    return sum((DENOMINATIONS[k] * n for k, n in counts.items()), ZERO).quantize(CENT)


def counts_of(closing: DailyClosing) -> dict[str, int]:
    """The stored count, in denomination order."""
    stored = json.loads(closing.counts)
    return {k: int(stored.get(k, 0)) for k in DENOMINATIONS}


# --------------------------------------------------------------------------- signature


def closing_signature(
    *,
    tenant_id: int,
    closing_date: date,
    expected: Decimal,
    counted: Decimal,
    difference: Decimal,
    counts: Mapping[str, int],
    reason: str | None,
    treatment: str | None,
    difference_entry_id: int | None,
    prev_signature: str,
) -> str:
    """SHA-256 over canonical JSON (sorted keys, amounts as 2-place strings) of the content."""
    content = {
        "tenant_id": tenant_id,
        "closing_date": closing_date.isoformat(),
        "expected": str(expected.quantize(CENT)),
        "counted": str(counted.quantize(CENT)),
        "difference": str(difference.quantize(CENT)),
        "counts": {k: int(v) for k, v in counts.items()},
        "reason": reason,
        "treatment": treatment,
        "difference_entry_id": difference_entry_id,
        "prev_signature": prev_signature,
    }
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def signature_of(closing: DailyClosing) -> str:
    """Recompute a stored closing's signature from its row."""
    return closing_signature(
        tenant_id=closing.tenant_id,
        closing_date=closing.closing_date,
        expected=closing.expected,
        counted=closing.counted,
        difference=closing.difference,
        counts=json.loads(closing.counts),
        reason=closing.reason,
        treatment=closing.treatment,
        difference_entry_id=closing.difference_entry_id,
        prev_signature=closing.prev_signature,
    )


# --------------------------------------------------------------------------- queries


def expected_balance(session: Session, tenant_id: int, day: date) -> Decimal:
    """Soll-Endbestand: opening balance + cash income − cash expenses up to the end of ``day``."""
    cash.require_opening(session, tenant_id)
    return cash.cash_balance(session, tenant_id, day)


def latest_closing(session: Session, tenant_id: int) -> DailyClosing | None:
    return session.scalar(
        select(DailyClosing)
        .where(DailyClosing.tenant_id == tenant_id)
        .order_by(DailyClosing.closing_date.desc())
        .limit(1)
    )


def get_closing(session: Session, tenant_id: int, day: date) -> DailyClosing | None:
    return session.scalar(
        select(DailyClosing).where(
            DailyClosing.tenant_id == tenant_id, DailyClosing.closing_date == day
        )
    )


def list_closings(
    session: Session, tenant_id: int, start: date | None = None, end: date | None = None
) -> list[DailyClosing]:
    query = select(DailyClosing).where(DailyClosing.tenant_id == tenant_id)
    if start is not None:
        query = query.where(DailyClosing.closing_date >= start)
    if end is not None:
        query = query.where(DailyClosing.closing_date <= end)
    return list(session.scalars(query.order_by(DailyClosing.closing_date)))


# --------------------------------------------------------------------------- closing a day


def _check_day(session: Session, tenant_id: int, day: date) -> DailyClosing | None:
    """Refuse future days, days before the opening, a second closing and going backwards."""
    book = cash.require_opening(session, tenant_id, lock=True)
    if day > current_day():
        raise ValidationFailed(
            "closing.future_day",
            _("A day can only be closed once it has begun ({date} lies in the future).").format(
                date=format_date(day)
            ),
            [{"field": "day", "value": day.isoformat()}],
        )
    if day < book.opening_date:
        raise ValidationFailed(
            "closing.before_opening",
            _("The date {date} lies before the opening of the cash book ({opening}).").format(
                date=format_date(day), opening=format_date(book.opening_date)
            ),
            [{"field": "day", "value": day.isoformat()}],
        )
    if get_closing(session, tenant_id, day) is not None:
        raise Conflict(
            "closing.exists",
            _("The day {date} has already been closed.").format(date=format_date(day)),
            [{"field": "day", "value": day.isoformat()}],
        )
    latest = latest_closing(session, tenant_id)
    if latest is not None and day < latest.closing_date:
        raise Conflict(
            "closing.out_of_order",
            _("The day {date} lies before the last daily closing ({last}).").format(
                date=format_date(day), last=format_date(latest.closing_date)
            ),
            [{"field": "day", "value": day.isoformat()}],
        )
    return latest


def _reason_and_treatment(
    difference: Decimal, reason: str | None, treatment: str | None
) -> tuple[str | None, str | None]:
    text = (reason or "").strip() or None
    if difference == 0:
        return text, None
    if text is None or len(text) < 3:
        raise ValidationFailed(
            "closing.reason_required",
            _(
                "The count differs from the expected balance by {difference}; please give a reason."
            ).format(difference=format_money(difference)),
            [{"field": "reason"}],
        )
    if treatment not in TREATMENTS:
        raise ValidationFailed(
            "closing.treatment_required",
            _(
                "Please choose how to treat the difference: private withdrawal/deposit, "
                "other expense/income, or record only."
            ),
            [{"field": "treatment", "value": treatment, "allowed": list(TREATMENTS)}],
        )
    return text, treatment


def close_day(
    session: Session,
    tenant_id: int,
    day: date,
    counts: Mapping[str, object],
    *,
    reason: str | None = None,
    treatment: str | None = None,
    actor: str = "local",
) -> DailyClosing:
    """Close ``day``: compare the count with the book, book a difference, sign and store."""
    latest = _check_day(session, tenant_id, day)
    normalized = normalize_counts(counts)
    counted = counted_total(normalized)
    expected = cash.cash_balance(session, tenant_id, day)
    difference = counted - expected
    reason_text, treatment_value = _reason_and_treatment(difference, reason, treatment)

    entry_id: int | None = None
    booking = DIFFERENCE_BOOKING.get((difference < 0, treatment_value or ""))
    if difference != 0 and booking is not None:
        direction, key = booking
        category = category_by_key(session, key)
        entry = cash.create_cash_entry(
            session,
            tenant_id,
            cash.CashEntryInput(
                entry_date=day,
                # Book text stays German whatever the UI language: it is part of the records.
                description=DIFFERENCE_TEXT.format(date=f"{day:%d.%m.%Y}", reason=reason_text)[
                    : cash.DESCRIPTION_MAX
                ],
                category_id=category.id,
                direction=direction,
                amount=abs(difference),
                vat_rate=ZERO,
                input_vat_deductible=False,
            ),
            actor=actor,
        )
        entry_id = entry.id

    prev = latest.signature if latest is not None else GENESIS
    signature = closing_signature(
        tenant_id=tenant_id,
        closing_date=day,
        expected=expected,
        counted=counted,
        difference=difference,
        counts=normalized,
        reason=reason_text,
        treatment=treatment_value,
        difference_entry_id=entry_id,
        prev_signature=prev,
    )
    closing = DailyClosing(
        tenant_id=tenant_id,
        closing_date=day,
        expected=expected,
        counted=counted,
        difference=difference,
        counts=json.dumps(normalized, sort_keys=True, separators=(",", ":")),
        reason=reason_text,
        treatment=treatment_value,
        difference_entry_id=entry_id,
        prev_signature=prev,
        signature=signature,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(closing)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "create",
        "daily_closing",
        closing.id,
        after={
            "closing_date": day,
            "expected": expected,
            "counted": counted,
            "difference": difference,
            "counts": normalized,
            "treatment": treatment_value,
            "difference_entry_id": entry_id,
            "signature": signature,
        },
        reason=reason_text,
    )
    session.flush()
    return closing


def verify_closings(session: Session, tenant_id: int) -> list[ClosingProblem]:
    """Walk the chain in date order; an empty list means every closing is intact."""
    problems: list[ClosingProblem] = []
    head = GENESIS
    for closing in list_closings(session, tenant_id):
        if closing.prev_signature != head:
            problems.append(
                ClosingProblem(closing.id, closing.closing_date, "prev_signature does not match")
            )
        try:
            recomputed = signature_of(closing)
            counts = counts_of(closing)
        except (ValueError, TypeError, AttributeError):
            problems.append(ClosingProblem(closing.id, closing.closing_date, "counts unreadable"))
        else:
            if recomputed != closing.signature:
                problems.append(
                    ClosingProblem(
                        closing.id, closing.closing_date, "content does not match its signature"
                    )
                )
            if counted_total(counts) != closing.counted:
                problems.append(
                    ClosingProblem(
                        closing.id, closing.closing_date, "counts do not add up to counted"
                    )
                )
        if closing.counted - closing.expected != closing.difference:
            problems.append(
                ClosingProblem(
                    closing.id, closing.closing_date, "difference is not counted − expected"
                )
            )
        head = closing.signature
    return problems


# --------------------------------------------------------------------------- reminder, statistics


def missing_closing_reminder(session: Session, tenant_id: int, today: date) -> date | None:
    """Yesterday's date when cash moved yesterday and the day was not closed; else None."""
    yesterday = today - timedelta(days=1)
    moved = session.scalar(
        select(exists().where(CashEntry.tenant_id == tenant_id, CashEntry.entry_date == yesterday))
    )
    if not moved or get_closing(session, tenant_id, yesterday) is not None:
        return None
    return yesterday


def closing_statistics(
    session: Session, tenant_id: int, start: date, end: date
) -> ClosingStatistics:
    """How often and how much the count differed from the book in a period (SQL aggregates)."""
    diff_cents = type_coerce(DailyClosing.difference, BigInteger)
    row = session.execute(
        select(
            func.count(DailyClosing.id),
            func.coalesce(func.sum(func.abs(diff_cents)), 0),
            func.coalesce(func.sum(case((diff_cents != 0, 1), else_=0)), 0),
        ).where(
            DailyClosing.tenant_id == tenant_id,
            DailyClosing.closing_date >= start,
            DailyClosing.closing_date <= end,
        )
    ).one()
    count, abs_cents, with_difference = int(row[0]), int(row[1]), int(row[2])
    average = (from_cents(abs_cents) / count).quantize(CENT) if count else ZERO
    share = (Decimal(with_difference) / count).quantize(Decimal("0.0001")) if count else ZERO
    return ClosingStatistics(
        start=start,
        end=end,
        closings=count,
        days_with_difference=with_difference,
        average_abs_difference=average,
        share_with_difference=share,
        warning=share > WARNING_SHARE,
    )


def closing_summary(closing: DailyClosing) -> dict[str, Any]:
    """A plain dict of a closing for APIs and pages."""
    return {
        "id": closing.id,
        "closing_date": closing.closing_date,
        "expected": closing.expected,
        "counted": closing.counted,
        "difference": closing.difference,
        "counts": counts_of(closing),
        "reason": closing.reason,
        "treatment": closing.treatment,
        "difference_entry_id": closing.difference_entry_id,
        "prev_signature": closing.prev_signature,
        "signature": closing.signature,
        "created_at": closing.created_at,
        "created_by": closing.created_by,
    }
