"""Gap-free number ranges (Nummernkreise), advanced under a row lock in the booking transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.models import NumberSequence


def next_numbers(session: Session, tenant_id: int, series: str, count: int = 1) -> list[int]:
    """Reserve ``count`` consecutive numbers; a rollback gives them back, so no gaps arise."""
    seq = session.scalar(
        select(NumberSequence)
        .where(NumberSequence.tenant_id == tenant_id, NumberSequence.series == series)
        .with_for_update()
    )
    if seq is None:
        seq = NumberSequence(tenant_id=tenant_id, series=series, last_value=0)
        session.add(seq)
        session.flush()
    first = seq.last_value + 1
    seq.last_value += count
    session.flush()
    return list(range(first, first + count))


def next_number(session: Session, tenant_id: int, series: str) -> int:
    return next_numbers(session, tenant_id, series, 1)[0]
