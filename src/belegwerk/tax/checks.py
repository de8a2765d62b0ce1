"""Checks before a UStVA goes out: errors block, warnings need the user's confirmation."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from belegwerk.banking.models import BankAccount, BankTransaction, Classification, PaymentMatch
from belegwerk.books import vat_treatment as vt
from belegwerk.books.models import Invoice, Party, Posting
from belegwerk.core.dates import today
from belegwerk.core.i18n import _, format_date
from belegwerk.core.money import ZERO
from belegwerk.tax.forms import Form
from belegwerk.tax.periods import Period
from belegwerk.tax.ustva import SELF_ASSESSED_BOXES_KZ, Check
from belegwerk.tenancy.models import Company

OUTPUT_VAT_BOXES = ("81", "86", "35", "36")


def run(
    session: Session,
    tenant_id: int,
    company: Company,
    period: Period,
    form: Form,
    raw: Mapping[str, Decimal],
    basis: str,
) -> list[Check]:
    from belegwerk.tax import filings

    found: list[Check] = []
    small = company.vat_regime == "small_business"
    if small and any(raw.get(k, ZERO) for k in OUTPUT_VAT_BOXES):
        found.append(
            Check(
                "ustva.small_business_vat",
                "error",
                _(
                    "Bookings charge VAT although the company is a small business (§ 19 UStG); "
                    "correct them (Storno) or change the VAT regime."
                ),
            )
        )
    if small and not any(raw.get(k, ZERO) for k in SELF_ASSESSED_BOXES_KZ):
        found.append(
            Check(
                "ustva.small_business_no_return",
                "warning",
                _(
                    "As a small business you normally file no UStVA; this period has no "
                    "reverse-charge tax (§ 13b) either."
                ),
            )
        )
    # The allocation of invoices to payments comes from branch euer (tax/cash_basis.py).
    if basis == "cash" and importlib.util.find_spec("belegwerk.tax.cash_basis") is None:
        found.append(
            Check(
                "ustva.cash_basis_pending",
                "error",
                _(
                    "Cash accounting (Ist-Versteuerung): allocating invoices to their "
                    "payments is not available yet; the UStVA would follow invoice dates."
                ),
            )
        )
    uncategorised = _uncategorised_bank_lines(session, tenant_id, period)
    if uncategorised:
        found.append(
            Check(
                "ustva.uncategorised",
                "warning",
                _("{n} bank transactions of the period are not categorised yet.").format(
                    n=uncategorised
                ),
                [{"count": uncategorised, "link": "/bank/transactions?state=open"}],
            )
        )
    drafts = session.scalar(
        select(func.count(Invoice.id)).where(
            Invoice.tenant_id == tenant_id,
            Invoice.status == "draft",
            Invoice.issue_date >= period.start,
            Invoice.issue_date <= period.end,
        )
    )
    if drafts:
        found.append(
            Check(
                "ustva.draft_invoices",
                "warning",
                _("{n} invoices of the period are drafts and not booked.").format(n=drafts),
                [{"count": drafts, "link": "/invoices?status=draft"}],
            )
        )
    missing = _eu_sales_without_vat_id(session, tenant_id, period)
    if missing:
        found.append(
            Check(
                "ustva.eu_vat_id_missing",
                "warning",
                _(
                    "EU business sales without the customer's VAT id (needed for Kz 21/41 and "
                    "the Zusammenfassende Meldung): {numbers}"
                ).format(numbers=", ".join(missing)),
                [{"voucher": v} for v in missing],
            )
        )
    filed = filings.latest_filing(session, tenant_id, period)
    if filed is not None:
        found.append(
            Check(
                "ustva.already_filed",
                "warning",
                _(
                    "This period was marked as filed on {date}; a new filing is a corrected "
                    "return (Kz 10)."
                ).format(date=format_date(filed.filed_at.date())),
            )
        )
    if period.end >= today():
        found.append(
            Check(
                "ustva.period_open",
                "warning",
                _("The period is not over yet; later bookings will change the figures."),
            )
        )
    if (
        company.filing_extension
        and company.ustva_period == "monthly"
        and period.is_last_of_year
        and filings.current_special_prepayment(session, tenant_id, period.year) is None
    ):
        found.append(
            Check(
                "ustva.special_prepayment_missing",
                "warning",
                _(
                    "Dauerfristverlängerung: no Sondervorauszahlung is recorded for {year}, so "
                    "Kz 39 stays empty."
                ).format(year=period.year),
            )
        )
    return found


def _uncategorised_bank_lines(session: Session, tenant_id: int, period: Period) -> int:
    confirmed = exists().where(
        Classification.tenant_id == tenant_id,
        Classification.transaction_id == BankTransaction.id,
        Classification.confirmed.is_(True),
        ~and_(Classification.usage == "business", Classification.category_id.is_(None)),
    )
    linked = exists().where(
        PaymentMatch.tenant_id == tenant_id,
        PaymentMatch.transaction_id == BankTransaction.id,
        PaymentMatch.status == "linked",
    )
    return int(
        session.scalar(
            select(func.count(BankTransaction.id))
            .join(BankAccount, BankAccount.id == BankTransaction.account_id)
            .where(
                BankTransaction.tenant_id == tenant_id,
                BankAccount.account_type != "private",
                BankTransaction.booking_date >= period.start,
                BankTransaction.booking_date <= period.end,
                ~confirmed,
                ~linked,
            )
        )
        or 0
    )


def _eu_sales_without_vat_id(session: Session, tenant_id: int, period: Period) -> list[str]:
    rows = session.execute(
        select(Posting.voucher)
        .join(
            Invoice,
            and_(
                Posting.source_type == "invoice",
                Invoice.id == Posting.source_id,
                Invoice.tenant_id == tenant_id,
            ),
        )
        .outerjoin(Party, Party.id == Invoice.party_id)
        .where(
            Posting.tenant_id == tenant_id,
            Posting.posting_date >= period.start,
            Posting.posting_date <= period.end,
            Posting.vat_treatment.in_(sorted(vt.ZM_TREATMENTS)),
            func.coalesce(Party.vat_id, "") == "",
        )
        .distinct()
        .order_by(Posting.voucher)
    )
    return [v for (v,) in rows]
