"""The journal: immutable double-entry postings produced by booking invoices, payments, cash.

A posting mirrors a DATEV booking line: gross ``amount`` from ``debit_account`` to
``credit_account``; ``net_amount``/``tax_amount``/``tax_account`` say how the gross splits, so
UStVA, EÜR, EKS and DATEV read the same rows without recomputing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, aliased

from belegwerk.books import accounts
from belegwerk.books.models import Posting
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO
from belegwerk.core.types import utcnow
from belegwerk.tenancy.models import Company

TEXT_MAX = 60  # DATEV Buchungstext
VOUCHER_MAX = 36  # DATEV Belegfeld 1


@dataclass(frozen=True)
class Line:
    """One posting to be written; amounts positive, gross = net + tax."""

    posting_date: date
    debit_account: str
    credit_account: str
    amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    tax_rate: Decimal
    tax_account: str | None
    voucher: str
    text: str
    category_id: int | None = None
    tax_key: str = ""
    vat_treatment: str = ""
    self_assessed: bool = False


def chart_of(session: Session, tenant_id: int) -> str:
    chart = session.scalar(select(Company.chart).where(Company.tenant_id == tenant_id))
    return chart or "skr04"


def _row(tenant_id: int, source_type: str, source_id: int, line: Line) -> dict[str, object]:
    if line.amount <= 0 or line.net_amount + line.tax_amount != line.amount:
        raise ValidationFailed(
            "journal.unbalanced",
            _("A posting must have a positive amount equal to net plus tax."),
            [{"voucher": line.voucher, "amount": str(line.amount)}],
        )
    return {
        "tenant_id": tenant_id,
        "posting_date": line.posting_date,
        "debit_account": line.debit_account,
        "credit_account": line.credit_account,
        "amount": line.amount,
        "net_amount": line.net_amount,
        "tax_amount": line.tax_amount,
        "tax_rate": line.tax_rate,
        "tax_account": line.tax_account,
        "tax_key": line.tax_key,
        "vat_treatment": line.vat_treatment,
        "self_assessed": line.self_assessed,
        "voucher": line.voucher[:VOUCHER_MAX],
        "category_id": line.category_id,
        "text": line.text[:TEXT_MAX],
        "source_type": source_type,
        "source_id": source_id,
        "reverses_id": None,
        "created_at": utcnow(),
    }


def post(
    session: Session, tenant_id: int, source_type: str, source_id: int, lines: Sequence[Line]
) -> None:
    """Write postings in one statement; zero-amount lines are skipped."""
    rows = [_row(tenant_id, source_type, source_id, ln) for ln in lines if ln.amount != ZERO]
    if rows:
        session.execute(insert(Posting), rows)


def post_many(session: Session, rows: list[dict[str, object]]) -> None:
    """Bulk path for mass booking: ``rows`` built with :func:`posting_row`."""
    if rows:
        session.execute(insert(Posting), rows)


def posting_row(tenant_id: int, source_type: str, source_id: int, line: Line) -> dict[str, object]:
    return _row(tenant_id, source_type, source_id, line)


def reverse(
    session: Session,
    tenant_id: int,
    source_type: str,
    source_id: int,
    *,
    reversal_type: str,
    reversal_id: int,
    posting_date: date,
    voucher: str,
) -> int:
    """Storno: a mirror posting (debit and credit swapped) for each posting of the source that
    is not reversed yet, so reversing twice never cancels the same amount twice."""
    mirror = aliased(Posting)
    already = select(mirror.id).where(
        mirror.tenant_id == tenant_id, mirror.reverses_id == Posting.id
    )
    originals = session.scalars(
        select(Posting).where(
            Posting.tenant_id == tenant_id,
            Posting.source_type == source_type,
            Posting.source_id == source_id,
            Posting.reverses_id.is_(None),
            ~already.exists(),
        )
    ).all()
    rows = []
    for p in originals:
        rows.append(
            {
                "tenant_id": tenant_id,
                "posting_date": posting_date,
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
                "voucher": voucher[:VOUCHER_MAX],
                "category_id": p.category_id,
                "text": f"Storno {p.text}"[:TEXT_MAX],
                "source_type": reversal_type,
                "source_id": reversal_id,
                "reverses_id": p.id,
                "created_at": utcnow(),
            }
        )
    post_many(session, rows)
    return len(rows)


def sale_line(
    chart: str,
    *,
    posting_date: date,
    money_account: str,
    revenue_account: str,
    gross: Decimal,
    net: Decimal,
    vat: Decimal,
    rate: Decimal,
    voucher: str,
    text: str,
    category_id: int | None,
    vat_treatment: str = "out_standard",
) -> Line:
    """Money (or receivable) in, revenue and output VAT out."""
    return Line(
        posting_date=posting_date,
        debit_account=money_account,
        credit_account=revenue_account,
        amount=gross,
        net_amount=net,
        tax_amount=vat,
        tax_rate=rate,
        tax_account=accounts.vat_account(chart, rate, output=True) if vat else None,
        voucher=voucher,
        text=text,
        category_id=category_id,
        vat_treatment=vat_treatment,
    )


def purchase_line(
    chart: str,
    *,
    posting_date: date,
    money_account: str,
    expense_account: str,
    gross: Decimal,
    net: Decimal,
    vat: Decimal,
    rate: Decimal,
    deductible: bool,
    voucher: str,
    text: str,
    category_id: int | None,
    vat_treatment: str = "in_standard",
) -> Line:
    """Expense and input VAT in, money (or payable) out; non-deductible VAT stays in the cost."""
    if not deductible:
        net, vat = gross, ZERO
    return Line(
        posting_date=posting_date,
        debit_account=expense_account,
        credit_account=money_account,
        amount=gross,
        net_amount=net,
        tax_amount=vat,
        tax_rate=rate if deductible else ZERO,
        tax_account=accounts.vat_account(chart, rate, output=False) if vat else None,
        voucher=voucher,
        text=text,
        category_id=category_id,
        vat_treatment=vat_treatment,
    )


def transfer_line(
    *,
    posting_date: date,
    debit_account: str,
    credit_account: str,
    amount: Decimal,
    voucher: str,
    text: str,
    category_id: int | None = None,
) -> Line:
    """A movement without tax: payments against receivables/payables, private money."""
    return Line(
        posting_date=posting_date,
        debit_account=debit_account,
        credit_account=credit_account,
        amount=amount,
        net_amount=amount,
        tax_amount=ZERO,
        tax_rate=ZERO,
        tax_account=None,
        voucher=voucher,
        text=text,
        category_id=category_id,
    )


def self_assessed_line(
    chart: str,
    *,
    posting_date: date,
    expense_account: str,
    tax: Decimal,
    rate: Decimal,
    treatment: str,
    deductible: bool,
    voucher: str,
    text: str,
) -> Line:
    """The tax a recipient owes under § 13b or on an intra-community acquisition: input VAT
    (or, without deduction, the expense) against the matching output-VAT account."""
    kind = "ic" if treatment == "in_ic_acquisition" else "rc"
    input_account = accounts.self_assessed_account(chart, kind, rate, output=False)
    return Line(
        posting_date=posting_date,
        debit_account=input_account if deductible else expense_account,
        credit_account=accounts.self_assessed_account(chart, kind, rate, output=True),
        amount=tax,
        net_amount=ZERO,
        tax_amount=tax,
        tax_rate=rate,
        tax_account=input_account if deductible else None,
        voucher=voucher,
        text=text,
        vat_treatment=treatment,
        self_assessed=True,
    )
