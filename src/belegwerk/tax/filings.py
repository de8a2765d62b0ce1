"""Filed UStVA returns ("als abgegeben markieren") and the Sondervorauszahlung of a year."""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.core import params
from belegwerk.core.audit import audit_writer
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import CENT, ZERO, parse_money
from belegwerk.tax.models import SpecialPrepayment, UstvaFiling
from belegwerk.tax.periods import Period, check_year
from belegwerk.tenancy.models import Company


def latest_filing(session: Session, tenant_id: int, period: Period) -> UstvaFiling | None:
    return session.scalar(
        select(UstvaFiling)
        .where(
            UstvaFiling.tenant_id == tenant_id,
            UstvaFiling.year == period.year,
            UstvaFiling.period == period.code,
        )
        .order_by(UstvaFiling.id.desc())
        .limit(1)
    )


def filings_of(session: Session, tenant_id: int, year: int | None = None) -> list[UstvaFiling]:
    query = select(UstvaFiling).where(UstvaFiling.tenant_id == tenant_id)
    if year is not None:
        query = query.where(UstvaFiling.year == year)
    return list(
        session.scalars(query.order_by(UstvaFiling.year, UstvaFiling.period, UstvaFiling.id))
    )


def mark_filed(
    session: Session,
    tenant_id: int,
    period: Period,
    *,
    confirm_warnings: bool = False,
    manual: dict[str, Decimal] | None = None,
    note: str = "",
    actor: str = "local",
) -> UstvaFiling:
    """Record the UStVA of a period as filed; errors block, warnings must be confirmed.

    A period filed before gets a corrected return (Kz 10) as a new record.
    """
    from belegwerk.tax.ustva import boxes_json, compute

    ustva = compute(session, tenant_id, period, manual=manual)
    if ustva.errors:
        raise ValidationFailed(
            "ustva.has_errors",
            _("The UStVA has errors that must be fixed first: {errors}").format(
                errors="; ".join(c.message for c in ustva.errors)
            ),
            [{"code": c.code, "message": c.message} for c in ustva.errors],
        )
    if ustva.warnings and not confirm_warnings:
        raise Conflict(
            "ustva.warnings_unconfirmed",
            _("Please confirm the warnings before marking the UStVA as filed."),
            [{"code": c.code, "message": c.message} for c in ustva.warnings],
        )
    filing = UstvaFiling(
        tenant_id=tenant_id,
        year=period.year,
        period=period.code,
        corrected=ustva.corrected,
        boxes=boxes_json(ustva),
        result=ustva.result,
        basis=ustva.basis,
        note=note.strip()[:500],
        filed_by=actor,
    )
    session.add(filing)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "file",
        "ustva",
        filing.id,
        after={
            "period": period.key,
            "corrected": filing.corrected,
            "boxes": json.loads(filing.boxes),
        },
    )
    return filing


# --------------------------------------------------------------------------- Sondervorauszahlung


def current_special_prepayment(
    session: Session, tenant_id: int, year: int
) -> SpecialPrepayment | None:
    return session.scalar(
        select(SpecialPrepayment)
        .where(SpecialPrepayment.tenant_id == tenant_id, SpecialPrepayment.year == year)
        .order_by(SpecialPrepayment.id.desc())
        .limit(1)
    )


def prepayments_of_year(session: Session, tenant_id: int, year: int) -> Decimal:
    """Sum of the year's Vorauszahlungen from the filed returns (latest filing per period),
    before the deduction of that year's Sondervorauszahlung (§ 47 Abs. 1 UStDV)."""
    latest: dict[str, UstvaFiling] = {}
    for f in filings_of(session, tenant_id, year):
        latest[f.period] = f
    total = ZERO
    for f in latest.values():
        total += f.result
        boxes = json.loads(f.boxes)
        if "39" in boxes:
            total += Decimal(boxes["39"])
    return total


def suggested_special_prepayment(session: Session, tenant_id: int, year: int) -> Decimal:
    """1/11 of the prior year's prepayments, in cents rounded down."""
    share = params.fraction("special_prepayment_fraction", date(year, 1, 1))
    base = prepayments_of_year(session, tenant_id, year - 1)
    if base <= 0:
        return ZERO
    value = base * share.numerator / share.denominator
    return Decimal(value).quantize(CENT, rounding=ROUND_DOWN)


def record_special_prepayment(
    session: Session,
    tenant_id: int,
    year: int,
    amount: object | None = None,
    actor: str = "local",
) -> SpecialPrepayment:
    """Enter the Sondervorauszahlung of a year (as fixed by the Finanzamt), or take the
    1/11 computed from last year's filed returns when no amount is given."""
    check_year(year)
    if amount is None or amount == "":
        value, source = suggested_special_prepayment(session, tenant_id, year), "books"
    else:
        value, source = parse_money(amount, "amount"), "entered"
    row = SpecialPrepayment(
        tenant_id=tenant_id, year=year, amount=value, source=source, created_by=actor
    )
    session.add(row)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "create",
        "special_prepayment",
        row.id,
        after={"year": year, "amount": value, "source": source},
    )
    return row


def special_prepayment_credit(
    session: Session, tenant_id: int, company: Company, period: Period
) -> Decimal:
    """Kz 39: the Sondervorauszahlung is credited in the last return of the year of a monthly
    filer with Dauerfristverlängerung (quarterly filers pay none, § 47 UStDV)."""
    if not (company.filing_extension and company.ustva_period == "monthly"):
        return ZERO
    if not period.is_last_of_year:
        return ZERO
    row = current_special_prepayment(session, tenant_id, period.year)
    return row.amount if row is not None else ZERO
