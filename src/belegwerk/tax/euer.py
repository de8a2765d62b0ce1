"""The Anlage EÜR of a year: every Kennzahl of the year's form from the cash-basis view of the
journal, the category mapping and the asset register.

* **Zufluss/Abfluss** (§ 11 EStG): money counts when it flows (:mod:`belegwerk.tax.cash_basis`),
  with the ten-day rule around New Year (:mod:`belegwerk.tax.turn_of_year`).
* **Kennzahl per category**: the category's ``euer_kz``; income and expenses net, the VAT received
  on income in Kz 140, the VAT paid on expenses and investments in Kz 185 (gross method of the
  EÜR). VAT paid to the Finanzamt (category ``vat_payment``) in Kz 186, its refunds in Kz 141.
  Business meals: the deductible share in Kz 175, the rest in Kz 165 (not deductible).
* **Private money** (Privatentnahmen/-einlagen) stays out of the profit: Kz 122/123 are the
  additional information of a sole proprietor. Cash in transit and loan repayments are neither.
* **Investments** (categories of kind ``asset``) are no expense when paid; their VAT is. Their
  AfA comes from the asset register (:mod:`belegwerk.tax.assets`): Kz 130/131/136, GWG 132,
  Sammelposten 137, Restbuchwert 135; a withdrawal's value is income in Kz 102.
* **Reverse charge** (§ 13b UStG) moves no money, so it never reaches the EÜR.

Every line can be opened (:func:`line_detail`) to the postings and payments behind it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from belegwerk.banking.accounts import ledger_account
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, PaymentMatch
from belegwerk.books import accounts
from belegwerk.books.models import CashProposal, Category, CategoryOverride, Posting
from belegwerk.core import params
from belegwerk.core.dates import today
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import ZERO, round_money
from belegwerk.tax import assets as register
from belegwerk.tax import turn_of_year
from belegwerk.tax.cash_basis import CashItem, cash_items, cash_totals
from belegwerk.tax.euer_form import Form, FormLine, form_for
from belegwerk.tenancy.models import Company
from belegwerk.tenancy.service import get_company

GROUP_BY = ("category_id", "debit_account", "credit_account")
# Legal forms that keep books with a balance sheet (§ 238 HGB, § 8 KStG), recognised by name.
CORPORATION = re.compile(r"\b(GmbH|gGmbH|UG|AG|SE|KGaA|eG)\b")
INVESTMENT = "investment"  # pseudo key: net of capitalised purchases (no Kennzahl)


@dataclass(frozen=True)
class Notice:
    """A check result: ``warning`` needs a look before filing, ``info`` explains a figure."""

    code: str
    level: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    kz: str
    zeile: int | None
    field: str
    elster: str
    label: str
    section: str
    counted: bool
    amount: Decimal
    is_sum: bool


@dataclass(frozen=True)
class MoveView:
    """A payment the ten-day rule counts in another year."""

    flow_date: date
    to_year: int
    rule: str
    voucher: str
    text: str
    amount: Decimal
    posting_id: int
    payment_id: int | None


@dataclass
class EuerReport:
    year: int
    form_year: int
    title: str
    company: str
    small_business: bool
    lines: list[Line]
    investments: Decimal
    moves: list[MoveView]
    notices: list[Notice]

    def amount(self, kz: str) -> Decimal:
        for line in self.lines:
            if line.kz == kz:
                return line.amount
        return ZERO

    @property
    def income(self) -> Decimal:
        return self._sum("income")

    @property
    def expenses(self) -> Decimal:
        return self._sum("expense")

    @property
    def profit(self) -> Decimal:
        return next((ln.amount for ln in self.lines if ln.section == "result"), ZERO)

    def _sum(self, section: str) -> Decimal:
        return next((ln.amount for ln in self.lines if ln.section == section and ln.is_sum), ZERO)

    def filled(self) -> list[Line]:
        """The lines to print: those with an amount, and the sums and the profit always."""
        return [ln for ln in self.lines if ln.amount or ln.is_sum]

    def boxes(self) -> dict[str, Decimal]:
        """Amounts keyed by ELSTER field name (E6000401 …) for the filled lines."""
        return {ln.field: ln.amount for ln in self.filled()}


# --------------------------------------------------------------------------- classification


class Classifier:
    """Turns (category, debit, credit, gross, net, tax) into Kennzahl amounts for a tenant."""

    def __init__(self, session: Session, tenant_id: int, company: Company, form: Form) -> None:
        self.form = form
        self.categories = {c.id: c for c in session.scalars(select(Category))}
        chart = company.chart
        attr = f"{chart}_account"
        own = {
            o.category_id: getattr(o, attr)
            for o in session.scalars(
                select(CategoryOverride).where(CategoryOverride.tenant_id == tenant_id)
            )
        }
        self.pnl_accounts: dict[int, set[str]] = {
            cid: {a for a in (getattr(c, attr), own.get(cid)) if a}
            for cid, c in self.categories.items()
        }
        money = {accounts.account(chart, r) for r in ("cash", "bank", "transit")}
        money |= {accounts.account(chart, r) for r in ("receivables", "payables")}
        for bank in session.scalars(select(BankAccount).where(BankAccount.tenant_id == tenant_id)):
            money.add(ledger_account(session, tenant_id, bank))
        self.money_accounts = money
        self.unmapped: dict[int, Decimal] = defaultdict(lambda: ZERO)
        self.uncategorised = ZERO

    def by_key(self, key: str) -> int | None:
        return next((cid for cid, c in self.categories.items() if c.key == key), None)

    def side(self, category_id: int | None, debit: str, credit: str) -> int:
        """+1 when money came in (the category's account is credited), -1 when it went out."""
        own = self.pnl_accounts.get(category_id or 0, set())
        if credit in own:
            return 1
        if debit in own:
            return -1
        if debit in self.money_accounts:
            return 1
        if credit in self.money_accounts:
            return -1
        kind = self.categories[category_id].kind if category_id in self.categories else ""
        return 1 if kind == "revenue" else -1

    def contributions(
        self,
        category_id: int | None,
        debit: str,
        credit: str,
        amount: Decimal,
        net: Decimal,
        tax: Decimal,
    ) -> list[tuple[str, Decimal]]:
        """The Kennzahl amounts one posting (or a share of one) adds up to."""
        category = self.categories.get(category_id or 0)
        if category is None:
            self.uncategorised += amount
            return []
        s = self.side(category_id, debit, credit)
        kind, kz = category.kind, category.euer_kz
        out: list[tuple[str, Decimal]] = []
        if kind == "revenue":
            out.append(("140", s * tax))
            value = s * net
        elif kind in ("expense", "asset"):
            out.append(("185", -s * tax))
            value = -s * net
            if kind == "asset":
                return [*out, (INVESTMENT, value)]
        elif kind == "private":
            line = self.form.line(kz) if kz else None
            if line is None or line.flow is None:
                return []
            return [(kz, (s if line.flow == "in" else -s) * amount)] if kz else []
        else:
            return []  # transfers: neither income nor expense
        line = self.form.line(kz) if kz else None
        if line is None:
            self.unmapped[category.id] += value
            return out
        if line.negative_to and value < 0:
            return [*out, (line.negative_to, -value)]
        return [*out, (line.kz, value)]


# --------------------------------------------------------------------------- the report


def check_year(session: Session, tenant_id: int, year: object) -> int:
    """A year the EÜR can be made for: a number, not in the future, not before the books."""
    if isinstance(year, bool) or not isinstance(year, int):
        try:
            year = int(str(year).strip())
        except ValueError:
            raise ValidationFailed(
                "euer.invalid_year",
                _("{year} is not a year.").format(year=year),
                [{"field": "year", "value": str(year)}],
            ) from None
    register.check_year(year)
    current = today().year
    if year > current:
        raise ValidationFailed(
            "euer.future_year",
            _("The year {year} has not begun yet.").format(year=year),
            [{"field": "year", "value": year}],
        )
    first = first_year(session, tenant_id)
    if year < first:
        raise ValidationFailed(
            "euer.before_books",
            _("The books begin in {first}; there is no EÜR for {year}.").format(
                first=first, year=year
            ),
            [{"field": "year", "value": year, "first_year": first}],
        )
    return year


def first_year(session: Session, tenant_id: int) -> int:
    """The first year with a posting or an asset (the current year for empty books)."""
    first = session.scalar(
        select(func.min(Posting.posting_date)).where(Posting.tenant_id == tenant_id)
    )
    years = [d.year for d in (first,) if d is not None]
    asset_year = register.first_asset_year(session, tenant_id)
    if asset_year is not None:
        years.append(asset_year)
    return min(years) if years else today().year


def _accumulate(
    classifier: Classifier,
    totals: dict[str, Decimal],
    groups: Iterable[tuple[Any, ...]],
) -> None:
    for category_id, debit, credit, amount, net, tax, factor in groups:
        for kz, value in classifier.contributions(category_id, debit, credit, amount, net, tax):
            totals[kz] += factor * value


def _apply_rules(form: Form, totals: dict[str, Decimal], year: int) -> None:
    """Shares set by law: the deductible part stays, the rest goes to its own field."""
    for line in form.lines:
        if line.deductible_share and line.rest_kz and totals.get(line.kz):
            whole = totals[line.kz]
            kept = round_money(whole * params.decimal(line.deductible_share, date(year, 12, 31)))
            totals[line.kz] = kept
            totals[line.rest_kz] += whole - kept


def _lines(form: Form, totals: dict[str, Decimal]) -> list[Line]:
    income = sum(
        (
            totals.get(ln.kz, ZERO)
            for ln in form.lines
            if ln.section == "income" and ln.counted and not ln.sum
        ),
        ZERO,
    )
    expense = sum(
        (
            totals.get(ln.kz, ZERO)
            for ln in form.lines
            if ln.section == "expense" and ln.counted and not ln.sum
        ),
        ZERO,
    )
    out = []
    for ln in form.lines:
        if ln.sum == "income":
            amount = income
        elif ln.sum == "expense":
            amount = expense
        elif ln.profit:
            amount = income - expense
        else:
            amount = totals.get(ln.kz, ZERO)
        out.append(
            Line(
                kz=ln.kz,
                zeile=ln.zeile,
                field=ln.field,
                elster=ln.elster,
                label=ln.label,
                section=ln.section,
                counted=ln.counted,
                amount=amount,
                is_sum=bool(ln.sum or ln.profit),
            )
        )
    return out


@dataclass
class _Context:
    year: int
    company: Company
    form: Form
    form_year: int
    classifier: Classifier
    moves: list[turn_of_year.Move]
    window: list[CashItem]


def _context(session: Session, tenant_id: int, year: object) -> _Context:
    checked = check_year(session, tenant_id, year)
    company = get_company(session, tenant_id)
    form, form_year = form_for(checked)
    classifier = Classifier(session, tenant_id, company, form)
    window = turn_of_year.window_items(session, tenant_id, checked)
    moves = turn_of_year.moves_for(
        session,
        tenant_id,
        checked,
        company,
        window,
        classifier.by_key(turn_of_year.VAT_PAYMENT),
        lambda i: classifier.side(i.category_id, i.debit_account, i.credit_account) < 0,
    )
    return _Context(checked, company, form, form_year, classifier, moves, window)


def _move_factor(move: turn_of_year.Move, year: int) -> int:
    return -1 if move.item.flow_date.year == year else 1


def euer_report(session: Session, tenant_id: int, year: object) -> EuerReport:
    """The Anlage EÜR of ``year`` with its checks."""
    return _report(session, tenant_id, _context(session, tenant_id, year))


def _report(session: Session, tenant_id: int, ctx: _Context) -> EuerReport:
    year = ctx.year
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    groups = [
        (*key, t.amount, t.net_amount, t.tax_amount, 1)
        for key, t in cash_totals(
            session, tenant_id, date(year, 1, 1), date(year, 12, 31), GROUP_BY
        ).items()
    ]
    groups += [
        (
            m.item.category_id,
            m.item.debit_account,
            m.item.credit_account,
            m.item.amount,
            m.item.net_amount,
            m.item.tax_amount,
            _move_factor(m, year),
        )
        for m in ctx.moves
    ]
    _accumulate(ctx.classifier, totals, groups)
    afa = register.afa_for_year(session, tenant_id, year)
    for kz, amount in afa.totals.items():
        totals[kz] += amount
    _apply_rules(ctx.form, totals, year)
    lines = _lines(ctx.form, totals)
    report = EuerReport(
        year=year,
        form_year=ctx.form_year,
        title=f"{ctx.form.title} {year}",
        company=ctx.company.name,
        small_business=ctx.company.vat_regime == "small_business",
        lines=lines,
        investments=totals.get(INVESTMENT, ZERO),
        moves=[_move_view(m) for m in ctx.moves],
        notices=[],
    )
    report.notices = _notices(session, tenant_id, ctx, report, totals)
    return report


def _move_view(move: turn_of_year.Move) -> MoveView:
    item = move.item
    return MoveView(
        flow_date=item.flow_date,
        to_year=move.to_year,
        rule=move.rule,
        voucher=item.voucher,
        text=item.text,
        amount=item.amount,
        posting_id=item.posting_id,
        payment_id=item.payment_id,
    )


# --------------------------------------------------------------------------- checks


def _open_bank_lines(session: Session, tenant_id: int, year: int) -> int:
    """Bank lines of business and mixed accounts in the year that nothing has booked yet."""
    linked = select(PaymentMatch.id).where(
        PaymentMatch.tenant_id == tenant_id,
        PaymentMatch.transaction_id == BankTransaction.id,
        PaymentMatch.status == "linked",
    )
    decided = select(Classification.id).where(
        Classification.tenant_id == tenant_id,
        Classification.transaction_id == BankTransaction.id,
        Classification.confirmed.is_(True),
    )
    return int(
        session.scalar(
            select(func.count())
            .select_from(BankTransaction)
            .join(BankAccount, BankAccount.id == BankTransaction.account_id)
            .where(
                BankTransaction.tenant_id == tenant_id,
                BankAccount.account_type != "private",
                BankTransaction.booking_date >= date(year, 1, 1),
                BankTransaction.booking_date <= date(year, 12, 31),
                ~linked.exists(),
                ~decided.exists(),
            )
        )
        or 0
    )


def _notices(
    session: Session,
    tenant_id: int,
    ctx: _Context,
    report: EuerReport,
    totals: dict[str, Decimal],
) -> list[Notice]:
    year, out = ctx.year, []
    if ctx.form_year != year:
        out.append(
            Notice(
                "euer.form_of_earlier_year",
                "info",
                _(
                    "No form for {year} is stored yet; the Kennzahlen and ELSTER field names of "
                    "the form {form_year} are used."
                ).format(year=year, form_year=ctx.form_year),
            )
        )
    if CORPORATION.search(ctx.company.name):
        out.append(
            Notice(
                "euer.corporation",
                "warning",
                _(
                    "{name} looks like a corporation; corporations determine their profit by "
                    "balance sheet, the Anlage EÜR is for sole proprietors, freelancers and "
                    "partnerships."
                ).format(name=ctx.company.name),
            )
        )
    if ctx.company.fiscal_year_start_month != 1:
        out.append(
            Notice(
                "euer.fiscal_year",
                "warning",
                _(
                    "The EÜR is made for the calendar year; your fiscal year starts in month {m}."
                ).format(m=ctx.company.fiscal_year_start_month),
            )
        )
    classifier = ctx.classifier
    if classifier.uncategorised:
        out.append(
            Notice(
                "euer.uncategorised",
                "warning",
                _("Payments of {amount} have no category and are missing from the EÜR.").format(
                    amount=format_money(classifier.uncategorised)
                ),
            )
        )
    for category_id, amount in classifier.unmapped.items():
        name = classifier.categories[category_id].name_de
        out.append(
            Notice(
                "euer.category_without_kz",
                "warning",
                _("The category {name} has no line of the form; {amount} are missing.").format(
                    name=name, amount=format_money(amount)
                ),
                [{"category_id": category_id}],
            )
        )
    if report.small_business and totals.get("140"):
        out.append(
            Notice(
                "euer.small_business_vat",
                "warning",
                _(
                    "As a small business (§ 19 UStG) you received VAT of {amount}; "
                    "check the invoices."
                ).format(amount=format_money(totals["140"])),
            )
        )
    pending = [o for o in register.offers(session, tenant_id) if o.posting_date.year <= year]
    if pending:
        out.append(
            Notice(
                "euer.investments_not_registered",
                "warning",
                _(
                    "{n} purchases booked as investments are not in the asset register; their "
                    "depreciation is missing."
                ).format(n=len(pending)),
                [{"posting_id": o.posting_id} for o in pending],
            )
        )
    open_lines = _open_bank_lines(session, tenant_id, year)
    if open_lines:
        out.append(
            Notice(
                "euer.open_bank_lines",
                "warning",
                _(
                    "{n} bank transactions of {year} are neither categorised "
                    "nor linked to an invoice."
                ).format(n=open_lines, year=year),
            )
        )
    proposals = session.scalar(
        select(func.count())
        .select_from(CashProposal)
        .where(
            CashProposal.tenant_id == tenant_id,
            CashProposal.status == "proposed",
            CashProposal.proposal_date >= date(year, 1, 1),
            CashProposal.proposal_date <= date(year, 12, 31),
        )
    )
    if proposals:
        out.append(
            Notice(
                "euer.open_cash_proposals",
                "warning",
                _("{n} cash payments wait for confirmation in the cash book.").format(n=proposals),
            )
        )
    recurring = {
        cid for cid, c in classifier.categories.items() if c.key in turn_of_year.RECURRING_KEYS
    }
    for item in turn_of_year.recurring_hints(ctx.window, year, ctx.moves, recurring):
        out.append(
            Notice(
                "euer.recurring_payment_near_new_year",
                "info",
                _(
                    "{date}: {text} ({amount}) may be a regular payment of another year (§ 11 "
                    "EStG); link it to its invoice with the due date so the ten-day rule can "
                    "apply."
                ).format(
                    date=item.flow_date.strftime("%d.%m.%Y"),
                    text=item.text,
                    amount=format_money(item.amount),
                ),
                [{"posting_id": item.posting_id}],
            )
        )
    if report.year == today().year:
        out.append(
            Notice(
                "euer.year_not_closed",
                "info",
                _("The year {year} is not over yet; the figures are provisional.").format(
                    year=year
                ),
            )
        )
    return out


# --------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class DrillRow:
    flow_date: date
    amount: Decimal
    posting_id: int
    payment_id: int | None
    invoice_id: int | None
    source_type: str
    source_id: int
    voucher: str
    text: str
    category: str
    moved_from: int | None = None  # the year the money flowed in, when the ten-day rule moved it


@dataclass(frozen=True)
class AssetRow:
    asset_id: int
    name: str
    amount: Decimal


@dataclass
class LineDetail:
    line: Line
    rows: list[DrillRow]
    assets: list[AssetRow]
    parts: list[Line]  # the lines a sum adds up
    note: str


def line_detail(session: Session, tenant_id: int, year: object, kz: str) -> LineDetail:
    """The postings, payments and assets behind one Kennzahl of the year."""
    ctx = _context(session, tenant_id, year)
    year = ctx.year
    report = _report(session, tenant_id, ctx)
    line = next((ln for ln in report.lines if ln.kz == kz), None)
    if line is None:
        raise ValidationFailed(
            "euer.unknown_kz",
            _("The form {year} has no Kennzahl {kz}.").format(year=ctx.form_year, kz=kz),
            [{"field": "kz", "value": kz}],
        )
    if line.is_sum:
        if line.section == "result":
            parts = [ln for ln in report.lines if ln.is_sum and ln.section != "result"]
        else:
            parts = [
                ln
                for ln in report.lines
                if ln.section == line.section and ln.counted and not ln.is_sum and ln.amount
            ]
        return LineDetail(line, [], [], parts, "")
    classifier = ctx.classifier
    sources = ctx.form.by_kz
    wanted = {kz} | {k for k, ln in sources.items() if ln.rest_kz == kz}
    rows: list[DrillRow] = []
    moved = {(m.item.posting_id, m.item.payment_id): m for m in ctx.moves}
    items = cash_items(
        session,
        tenant_id,
        date(year, 1, 1),
        date(year, 12, 31),
        columns=("category_id", "voucher", "text"),
    )
    extra = [m.item for m in ctx.moves if m.to_year == year]
    for item in [*items, *extra]:
        move = moved.get((item.posting_id, item.payment_id))
        if move is not None and move.to_year != year:
            continue  # counted in the other year
        for key, value in classifier.contributions(
            item.category_id,
            item.debit_account,
            item.credit_account,
            item.amount,
            item.net_amount,
            item.tax_amount,
        ):
            if key in wanted and value:
                category = classifier.categories.get(item.category_id or 0)
                rows.append(
                    DrillRow(
                        flow_date=item.flow_date,
                        amount=value,
                        posting_id=item.posting_id,
                        payment_id=item.payment_id,
                        invoice_id=item.invoice_id,
                        source_type=item.source_type,
                        source_id=item.source_id,
                        voucher=item.voucher,
                        text=item.text,
                        category=category.name_de if category else "",
                        moved_from=item.flow_date.year if move is not None else None,
                    )
                )
    afa = register.afa_for_year(session, tenant_id, year)
    asset_rows = [AssetRow(a.id, a.name, amount) for a, amount in afa.rows.get(kz, [])]
    note = ""
    form_line: FormLine | None = sources.get(kz)
    if form_line is not None and form_line.deductible_share:
        share = params.decimal(form_line.deductible_share, date(year, 12, 31))
        note = _(
            "The postings below add up to the whole expense; {share} % of it are deductible."
        ).format(share=format(share * 100, "f").rstrip("0").rstrip("."))
    elif any(ln.rest_kz == kz for ln in sources.values()):
        note = _("The non-deductible part of the postings below.")
    return LineDetail(line, rows, asset_rows, [], note)
