"""The asset register (Anlagenverzeichnis): entries, disposals, the Sammelposten choice, the AfA
of a year for the Anlage EÜR, and the purchases booked as investments still to be entered.

Every write is validated first (German message, error code, nothing stored on bad input) and
recorded in the audit log; assets and disposals are immutable records.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.books.models import Category, Invoice, Posting
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future, require_reason
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _, format_date
from belegwerk.core.money import ZERO, parse_money
from belegwerk.core.types import utcnow
from belegwerk.tax import depreciation as dep
from belegwerk.tax.asset_models import Asset, AssetDisposal, AssetPoolYear

NAME_MAX = 200
MAX_LIFE_MONTHS = 100 * 12
ASSET_KIND = "asset"  # category kind of purchases that are capitalised (Investitionen)
INVOICE_SOURCE = "invoice"


@dataclass(frozen=True)
class AssetInput:
    """What a user enters for an asset; money already parsed or as text (parsed here)."""

    name: str
    acquisition_date: date
    net_cost: Decimal | str
    useful_life_months: int | None = None
    asset_type: str = ""
    asset_group: str | None = None
    treatment: str = "auto"
    posting_id: int | None = None
    invoice_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Notice:
    code: str
    message: str


@dataclass
class Created:
    asset: Asset
    warnings: list[Notice] = field(default_factory=list)


def _fail(code: str, message: str, field_name: str, value: object = None) -> ValidationFailed:
    detail: dict[str, Any] = {"field": field_name}
    if value is not None:
        detail["value"] = str(value)
    return ValidationFailed(code, message, [detail])


def facts(asset: Asset, disposal: AssetDisposal | None) -> dep.AssetFacts:
    return dep.AssetFacts(
        id=asset.id,
        name=asset.name,
        group=asset.asset_group,
        acquisition_date=asset.acquisition_date,
        net_cost=asset.net_cost,
        useful_life_months=asset.useful_life_months,
        treatment=asset.treatment,
        disposal=None
        if disposal is None
        else dep.Disposal(disposal.disposal_date, disposal.kind, disposal.proceeds),
    )


def _snapshot(asset: Asset) -> dict[str, Any]:
    return {
        "name": asset.name,
        "asset_type": asset.asset_type,
        "asset_group": asset.asset_group,
        "acquisition_date": asset.acquisition_date,
        "net_cost": asset.net_cost,
        "useful_life_months": asset.useful_life_months,
        "treatment": asset.treatment,
        "posting_id": asset.posting_id,
        "invoice_id": asset.invoice_id,
        "note": asset.note,
    }


# --------------------------------------------------------------------------- validation


def _check_link(
    session: Session, tenant_id: int, data: AssetInput
) -> tuple[int | None, int | None]:
    """The purchase posting (an Investitionen category) and its invoice, if given."""
    posting_id, invoice_id = data.posting_id, data.invoice_id
    if posting_id is not None:
        row = session.execute(
            select(Posting.source_type, Posting.source_id, Category.kind)
            .outerjoin(Category, Category.id == Posting.category_id)
            .where(Posting.tenant_id == tenant_id, Posting.id == posting_id)
        ).first()
        if row is None:
            raise _fail(
                "asset.posting_not_found",
                _("Posting {id} not found.").format(id=posting_id),
                "posting_id",
                posting_id,
            )
        if row.kind != ASSET_KIND:
            raise _fail(
                "asset.posting_not_investment",
                _("Only purchases booked as investments can be entered into the register."),
                "posting_id",
                posting_id,
            )
        if row.source_type == INVOICE_SOURCE and invoice_id is None:
            invoice_id = row.source_id
    if invoice_id is not None:
        found = session.scalar(
            select(Invoice.id).where(Invoice.tenant_id == tenant_id, Invoice.id == invoice_id)
        )
        if found is None:
            raise _fail(
                "invoice.not_found",
                _("Invoice {id} not found.").format(id=invoice_id),
                "invoice_id",
                invoice_id,
            )
    return posting_id, invoice_id


def _clean(
    session: Session, tenant_id: int, data: AssetInput
) -> tuple[dict[str, Any], list[Notice]]:
    warnings: list[Notice] = []
    name = (data.name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise _fail(
            "asset.name",
            _("Give the asset a name of at most {n} characters.").format(n=NAME_MAX),
            "name",
        )
    check_not_far_future(data.acquisition_date, "acquisition_date")
    cost = parse_money(data.net_cost, "net_cost")
    if cost <= 0:
        raise _fail(
            "asset.cost_not_positive",
            _("The acquisition cost must be greater than zero."),
            "net_cost",
            cost,
        )
    types = dep.asset_types()
    kind = types.get(data.asset_type) if data.asset_type else None
    if data.asset_type and kind is None:
        raise _fail(
            "asset.unknown_type",
            _("Unknown asset type {key}.").format(key=data.asset_type),
            "asset_type",
            data.asset_type,
        )
    group = data.asset_group or (kind.group if kind else "movable")
    if group not in dep.GROUPS:
        raise _fail(
            "asset.unknown_group",
            _("The asset group must be movable, intangible or immovable."),
            "asset_group",
            group,
        )
    if data.treatment not in dep.TREATMENTS:
        raise _fail(
            "asset.unknown_treatment",
            _("Unknown depreciation choice {value}.").format(value=data.treatment),
            "treatment",
            data.treatment,
        )
    life = data.useful_life_months
    if data.treatment == "digital":
        if kind is None or not kind.digital:
            raise _fail(
                "asset.not_digital",
                _("A useful life of one year is allowed only for computer hardware and software."),
                "treatment",
                data.treatment,
            )
        life = 12
    if life is None:
        life = kind.months if kind else None
    if life is None:
        raise _fail(
            "asset.useful_life_missing",
            _("Enter the useful life (months or years) or choose an asset type."),
            "useful_life_months",
        )
    if not 1 <= life <= MAX_LIFE_MONTHS:
        raise _fail(
            "asset.useful_life_range",
            _("The useful life must lie between 1 month and {years} years.").format(
                years=MAX_LIFE_MONTHS // 12
            ),
            "useful_life_months",
            life,
        )
    if kind is not None and data.treatment != "digital" and life < kind.months:
        warnings.append(
            Notice(
                "asset.shorter_than_table",
                _(
                    "The useful life of {months} months is shorter than the official AfA table's "
                    "{table} months for {type}; keep the reason with your records."
                ).format(months=life, table=kind.months, type=kind.name_de),
            )
        )
    posting_id, invoice_id = _check_link(session, tenant_id, data)
    values = {
        "name": name,
        "asset_type": data.asset_type or "",
        "asset_group": group,
        "acquisition_date": data.acquisition_date,
        "net_cost": cost,
        "useful_life_months": life,
        "treatment": data.treatment,
        "posting_id": posting_id,
        "invoice_id": invoice_id,
        "note": (data.note or "").strip(),
    }
    return values, warnings


# --------------------------------------------------------------------------- writes


def create_asset(
    session: Session, tenant_id: int, data: AssetInput, actor: str = "local"
) -> Created:
    """Enter an asset; returns it with warnings (e.g. a life shorter than the AfA table's)."""
    values, warnings = _clean(session, tenant_id, data)
    asset = Asset(tenant_id=tenant_id, created_at=utcnow(), created_by=actor, **values)
    session.add(asset)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "create", "asset", asset.id, after=_snapshot(asset)
    )
    return Created(asset=asset, warnings=warnings)


def get_asset(session: Session, tenant_id: int, asset_id: int) -> Asset:
    return owned_row(
        session,
        Asset,
        tenant_id,
        asset_id,
        code="asset.not_found",
        message=_("Asset {id} not found.").format(id=asset_id),
        field="asset_id",
    )


def disposal_of(session: Session, tenant_id: int, asset_id: int) -> AssetDisposal | None:
    return session.scalar(
        select(AssetDisposal).where(
            AssetDisposal.tenant_id == tenant_id, AssetDisposal.asset_id == asset_id
        )
    )


def dispose_asset(
    session: Session,
    tenant_id: int,
    asset_id: int,
    kind: str,
    disposal_date: date,
    proceeds: Decimal | str = ZERO,
    reason: str = "",
    actor: str = "local",
) -> AssetDisposal:
    """Sale, withdrawal (``proceeds`` = net Teilwert), scrapping, or voiding a wrong entry."""
    asset = get_asset(session, tenant_id, asset_id)
    if kind not in dep.DISPOSAL_KINDS:
        raise _fail(
            "asset.unknown_disposal",
            _("Unknown kind of disposal {kind}; use sale, withdrawal, scrapped or void.").format(
                kind=kind
            ),
            "kind",
            kind,
        )
    check_not_far_future(disposal_date, "disposal_date")
    if disposal_date < asset.acquisition_date:
        raise _fail(
            "asset.disposal_before_acquisition",
            _("The asset cannot leave before it was acquired ({date}).").format(
                date=format_date(asset.acquisition_date)
            ),
            "disposal_date",
            disposal_date.isoformat(),
        )
    amount = parse_money(proceeds if proceeds not in (None, "") else ZERO, "proceeds")
    if kind in ("scrapped", "void") and amount:
        raise _fail(
            "asset.proceeds_not_allowed",
            _("A scrapped or voided asset has no proceeds."),
            "proceeds",
            amount,
        )
    text = require_reason(reason) if kind == "void" else (reason or "").strip()
    existing = disposal_of(session, tenant_id, asset.id)
    if existing is not None:
        raise Conflict(
            "asset.already_disposed",
            _("The asset {name} has already left the register on {date}.").format(
                name=asset.name, date=format_date(existing.disposal_date)
            ),
            [{"field": "asset_id", "value": asset.id}],
        )
    disposal = AssetDisposal(
        tenant_id=tenant_id,
        asset_id=asset.id,
        disposal_date=disposal_date,
        kind=kind,
        proceeds=amount,
        reason=text,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(disposal)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "void" if kind == "void" else "dispose",
        "asset",
        asset.id,
        before=_snapshot(asset),
        after={"kind": kind, "disposal_date": disposal_date, "proceeds": amount},
        reason=text or None,
    )
    return disposal


def check_year(year: int, field_name: str = "year") -> int:
    if not 1990 <= year <= 2200:
        raise _fail(
            "year.invalid",
            _("{year} is not a valid year.").format(year=year),
            field_name,
            year,
        )
    return year


def set_pool_choice(
    session: Session, tenant_id: int, year: int, pooled: bool, actor: str = "local"
) -> AssetPoolYear:
    """Choose the Sammelposten for every asset of ``year`` in its range (or undo the choice)."""
    check_year(year)
    row = session.scalar(
        select(AssetPoolYear).where(
            AssetPoolYear.tenant_id == tenant_id, AssetPoolYear.year == year
        )
    )
    before = None if row is None else {"pooled": row.pooled}
    if row is None:
        row = AssetPoolYear(tenant_id=tenant_id, year=year, pooled=pooled)
        session.add(row)
    row.pooled = pooled
    row.updated_at = utcnow()
    session.flush()
    if before != {"pooled": pooled}:
        audit_writer(session, tenant_id, actor).record(
            "update", "asset_pool_year", year, before=before, after={"pooled": pooled}
        )
    return row


def pool_choices(session: Session, tenant_id: int) -> dict[int, bool]:
    return {
        year: pooled
        for year, pooled in session.execute(
            select(AssetPoolYear.year, AssetPoolYear.pooled).where(
                AssetPoolYear.tenant_id == tenant_id
            )
        ).all()
    }


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RegisterRow:
    """An asset as the register shows it for one year."""

    asset: Asset
    disposal: AssetDisposal | None
    method: str
    year: YearView


@dataclass(frozen=True)
class YearView:
    year: int
    opening: Decimal
    afa: Decimal
    book_value_out: Decimal
    closing: Decimal
    kz: str
    withdrawal: Decimal


def _rows(session: Session, tenant_id: int) -> list[tuple[Asset, AssetDisposal | None]]:
    return [
        (a, d)
        for a, d in session.execute(
            select(Asset, AssetDisposal)
            .outerjoin(
                AssetDisposal,
                (AssetDisposal.asset_id == Asset.id) & (AssetDisposal.tenant_id == tenant_id),
            )
            .where(Asset.tenant_id == tenant_id)
            .order_by(Asset.acquisition_date, Asset.id)
        ).all()
    ]


def plan_of(
    session: Session, tenant_id: int, asset_id: int
) -> tuple[Asset, AssetDisposal | None, str, list[dep.YearAfa]]:
    """An asset, its disposal, its method and its whole AfA plan."""
    asset = get_asset(session, tenant_id, asset_id)
    disposal = disposal_of(session, tenant_id, asset.id)
    pooled = pool_choices(session, tenant_id).get(asset.acquisition_date.year, False)
    f = facts(asset, disposal)
    return asset, disposal, dep.method_for(f, pooled), dep.plan(f, pooled)


def register(session: Session, tenant_id: int, year: int) -> list[RegisterRow]:
    """Every asset acquired by the end of ``year`` and not gone before it, with that year."""
    check_year(year)
    pools = pool_choices(session, tenant_id)
    out = []
    for asset, disposal in _rows(session, tenant_id):
        if asset.acquisition_date.year > year:
            continue
        if disposal is not None and disposal.kind == "void":
            continue
        pooled = pools.get(asset.acquisition_date.year, False)
        f = facts(asset, disposal)
        method = dep.method_for(f, pooled)
        row = dep.in_year(f, pooled, year)
        if row is None:
            if disposal is not None and disposal.disposal_date.year < year:
                continue
            closing = dep.book_value(f, pooled, year)
            if closing == 0 and method != "pool":
                continue
            view = YearView(year, closing, ZERO, ZERO, closing, "", ZERO)
        else:
            view = YearView(
                year, row.opening, row.afa, row.book_value_out, row.closing, row.kz, row.withdrawal
            )
        out.append(RegisterRow(asset=asset, disposal=disposal, method=method, year=view))
    return out


@dataclass
class AfaYear:
    """What the register gives the Anlage EÜR of one year: amounts per Kennzahl and the rows."""

    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    rows: dict[str, list[tuple[Asset, Decimal]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kz: str, asset: Asset, amount: Decimal) -> None:
        if amount:
            self.totals[kz] += amount
            self.rows[kz].append((asset, amount))


def afa_for_year(session: Session, tenant_id: int, year: int) -> AfaYear:
    """AfA (by method), Restbuchwert of assets gone and withdrawals, per EÜR Kennzahl."""
    out = AfaYear()
    for row in register(session, tenant_id, year):
        view = row.year
        if view.afa:
            out.add(view.kz, row.asset, view.afa)
        if view.book_value_out:
            out.add(dep.KZ_BOOK_VALUE, row.asset, view.book_value_out)
        if view.withdrawal:
            out.add(dep.KZ_WITHDRAWAL, row.asset, view.withdrawal)
    return out


def first_asset_year(session: Session, tenant_id: int) -> int | None:
    first = session.scalar(
        select(Asset.acquisition_date)
        .where(Asset.tenant_id == tenant_id)
        .order_by(Asset.acquisition_date)
        .limit(1)
    )
    return first.year if first else None


# --------------------------------------------------------------------------- offers


@dataclass(frozen=True)
class Offer:
    """A purchase booked as an investment that is not in the register yet."""

    posting_id: int
    posting_date: date
    voucher: str
    text: str
    net_amount: Decimal
    invoice_id: int | None


def offers(session: Session, tenant_id: int) -> list[Offer]:
    """Postings of Investitionen categories, neither reversed nor reversals, with no asset."""
    # Uncorrelated sets, evaluated once: a correlated NOT EXISTS on postings.reverses_id (no
    # index) would scan the journal once per posting.
    reversed_ids = select(Posting.reverses_id).where(
        Posting.tenant_id == tenant_id, Posting.reverses_id.is_not(None)
    )
    linked_ids = select(Asset.posting_id).where(
        Asset.tenant_id == tenant_id, Asset.posting_id.is_not(None)
    )
    rows = session.execute(
        select(Posting)
        .join(Category, Category.id == Posting.category_id)
        .where(
            Posting.tenant_id == tenant_id,
            Category.kind == ASSET_KIND,
            Posting.reverses_id.is_(None),
            Posting.id.not_in(reversed_ids),
            Posting.id.not_in(linked_ids),
        )
        .order_by(Posting.posting_date, Posting.id)
    ).scalars()
    return [
        Offer(
            posting_id=p.id,
            posting_date=p.posting_date,
            voucher=p.voucher,
            text=p.text,
            net_amount=p.net_amount,
            invoice_id=p.source_id if p.source_type == INVOICE_SOURCE else None,
        )
        for p in rows
    ]


def describe_method(method: str) -> str:
    """The method as the register shows it."""
    return {
        "linear": _("linear by month"),
        "gwg": _("low-value asset (written off at once)"),
        "pool": _("pool (Sammelposten)"),
        "digital": _("computer hardware/software, 1 year"),
    }[method]


def gain_or_loss(asset: Asset, disposal: AssetDisposal, pooled: bool) -> Decimal | None:
    """Proceeds less the Restbuchwert for a sale or withdrawal (None otherwise)."""
    if disposal.kind not in ("sale", "withdrawal"):
        return None
    f = facts(asset, disposal)
    row = dep.in_year(f, pooled, disposal.disposal_date.year)
    book = row.book_value_out if row is not None else ZERO
    return disposal.proceeds - book
