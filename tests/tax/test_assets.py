"""The asset register: entries with useful lives from the AfA table, bad input, disposals and
voids as records (GoBD), the Sammelposten choice, offers from booked investments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.core.audit import AuditEntry, verify_chain
from belegwerk.core.db import tenant_session
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed
from belegwerk.tax.asset_models import Asset, AssetDisposal
from belegwerk.tax.assets import (
    AssetInput,
    create_asset,
    dispose_asset,
    gain_or_loss,
    offers,
    plan_of,
    pool_choices,
    register,
    set_pool_choice,
)
from tests.tax.test_euer import purchase

D = Decimal
DAY = date(2026, 2, 10)


def audit(session: Session, tenant_id: int, entity: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, AuditEntry.entity == entity)
            .order_by(AuditEntry.seq)
        )
    )


def test_type_suggests_group_and_useful_life(session: Session, tenant_id: int) -> None:
    created = create_asset(
        session, tenant_id, AssetInput("Firmenwagen", DAY, "24000.00", asset_type="car")
    )
    car = created.asset
    assert (car.asset_group, car.useful_life_months, car.treatment) == ("movable", 72, "auto")
    assert created.warnings == []
    software = create_asset(
        session, tenant_id, AssetInput("ERP", DAY, "3000", asset_type="software")
    ).asset
    assert software.asset_group == "intangible"
    (entry,) = [a for a in audit(session, tenant_id, "asset") if a.entity_id == str(car.id)]
    assert entry.action == "create"


def test_a_life_shorter_than_the_table_is_kept_with_a_warning(
    session: Session, tenant_id: int
) -> None:
    created = create_asset(
        session,
        tenant_id,
        AssetInput("Schreibtisch", DAY, "1200.00", 60, asset_type="office_furniture"),
    )
    assert created.asset.useful_life_months == 60
    (warning,) = created.warnings
    assert warning.code == "asset.shorter_than_table" and "156" in warning.message


def test_digital_assets_only_for_computers_and_software(session: Session, tenant_id: int) -> None:
    pc = create_asset(
        session,
        tenant_id,
        AssetInput("Workstation", DAY, "2400", asset_type="computer", treatment="digital"),
    ).asset
    assert pc.useful_life_months == 12
    with pytest.raises(ValidationFailed) as exc:
        create_asset(
            session,
            tenant_id,
            AssetInput("Auto", DAY, "9000", asset_type="car", treatment="digital"),
        )
    assert exc.value.code == "asset.not_digital"


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (AssetInput("", DAY, "100", 12), "asset.name", "name"),
        (AssetInput("x" * 201, DAY, "100", 12), "asset.name", "name"),
        (AssetInput("Stuhl", DAY, "0", 12), "asset.cost_not_positive", "net_cost"),
        (AssetInput("Stuhl", DAY, "-5", 12), "money.negative", "net_cost"),
        (AssetInput("Stuhl", DAY, "abc", 12), "money.not_a_number", "net_cost"),
        (AssetInput("Stuhl", DAY, "1.005", 12), "money.too_many_decimals", "net_cost"),
        (AssetInput("Stuhl", DAY, "100", 0), "asset.useful_life_range", "useful_life_months"),
        (AssetInput("Stuhl", DAY, "100", 1201), "asset.useful_life_range", "useful_life_months"),
        (AssetInput("Stuhl", DAY, "100"), "asset.useful_life_missing", "useful_life_months"),
        (AssetInput("Stuhl", date(2090, 1, 1), "100", 12), "date.too_far_in_future",
         "acquisition_date"),
        (AssetInput("Stuhl", date(1950, 1, 1), "100", 12), "date.too_old", "acquisition_date"),
        (AssetInput("Stuhl", DAY, "100", 12, asset_type="rocket"), "asset.unknown_type",
         "asset_type"),
        (AssetInput("Stuhl", DAY, "100", 12, asset_group="cloud"), "asset.unknown_group",
         "asset_group"),
        (AssetInput("Stuhl", DAY, "100", 12, treatment="degressiv"), "asset.unknown_treatment",
         "treatment"),
        (AssetInput("Stuhl", DAY, "100", 12, posting_id=10**9), "asset.posting_not_found",
         "posting_id"),
        (AssetInput("Stuhl", DAY, "100", 12, invoice_id=10**9), "invoice.not_found",
         "invoice_id"),
    ],
)  # fmt: skip
def test_impossible_values_are_refused_and_nothing_is_stored(
    session: Session, tenant_id: int, data: AssetInput, code: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        create_asset(session, tenant_id, data)
    assert exc.value.code == code
    assert exc.value.details[0]["field"] == field
    assert exc.value.message
    assert session.scalars(select(Asset).where(Asset.tenant_id == tenant_id)).all() == []


def test_only_investment_postings_can_be_registered(session: Session, tenant_id: int) -> None:
    inv = purchase(session, tenant_id, "50.00", "office_supplies", DAY)
    posting = session.scalar(
        text("SELECT id FROM postings WHERE source_type = 'invoice' AND source_id = :i"),
        {"i": inv.id},
    )
    with pytest.raises(ValidationFailed) as exc:
        create_asset(session, tenant_id, AssetInput("Papier", DAY, "50", 12, posting_id=posting))
    assert exc.value.code == "asset.posting_not_investment"


def test_booked_investments_are_offered_until_registered(session: Session, tenant_id: int) -> None:
    inv = purchase(session, tenant_id, "1299.00", "investment", DAY)
    (offer,) = offers(session, tenant_id)
    assert (offer.net_amount, offer.invoice_id, offer.posting_date) == (D("1299.00"), inv.id, DAY)
    create_asset(
        session,
        tenant_id,
        AssetInput("Beamer", DAY, offer.net_amount, 84, posting_id=offer.posting_id),
    )
    assert offers(session, tenant_id) == []


def test_sale_with_gain_or_loss_and_the_plan(session: Session, tenant_id: int) -> None:
    asset = create_asset(
        session, tenant_id, AssetInput("Notebook", date(2025, 7, 15), "1500.00", 36)
    ).asset
    disposal = dispose_asset(session, tenant_id, asset.id, "sale", date(2026, 3, 10), "900.00")
    assert gain_or_loss(asset, disposal, pooled=False) == D("900.00") - D("1125.00")
    _a, _d, method, plan = plan_of(session, tenant_id, asset.id)
    assert method == "linear"
    assert [(r.year, r.afa, r.book_value_out) for r in plan] == [
        (2025, D("250.00"), D("0.00")),
        (2026, D("125.00"), D("1125.00")),
    ]
    assert [e.action for e in audit(session, tenant_id, "asset")] == ["create", "dispose"]


def test_disposal_errors(session: Session, tenant_id: int) -> None:
    asset = create_asset(session, tenant_id, AssetInput("Drucker", DAY, "300", 36)).asset
    cases = [
        ("sold", DAY, "0", "", "asset.unknown_disposal"),
        ("sale", date(2026, 2, 9), "0", "", "asset.disposal_before_acquisition"),
        ("scrapped", DAY, "10", "", "asset.proceeds_not_allowed"),
        ("void", DAY, "0", "", "reason.missing"),
        ("sale", DAY, "-1", "", "money.negative"),
    ]
    for kind, day, proceeds, reason, code in cases:
        with pytest.raises(ValidationFailed) as exc:
            dispose_asset(session, tenant_id, asset.id, kind, day, proceeds, reason)
        assert exc.value.code == code, kind
    dispose_asset(session, tenant_id, asset.id, "scrapped", DAY)
    with pytest.raises(Conflict) as twice:
        dispose_asset(session, tenant_id, asset.id, "sale", DAY, "10")
    assert twice.value.code == "asset.already_disposed"
    with pytest.raises(NotFound):
        dispose_asset(session, tenant_id, 10**9, "sale", DAY)


def test_void_takes_a_wrong_entry_out_of_the_register(session: Session, tenant_id: int) -> None:
    wrong = create_asset(session, tenant_id, AssetInput("Tippfehler", DAY, "15000", 36)).asset
    right = create_asset(session, tenant_id, AssetInput("Maschine", DAY, "1500", 36)).asset
    dispose_asset(session, tenant_id, wrong.id, "void", DAY, reason="Betrag vertippt")
    assert [r.asset.id for r in register(session, tenant_id, 2026)] == [right.id]
    void = audit(session, tenant_id, "asset")[-1]
    assert (void.action, void.reason) == ("void", "Betrag vertippt")


def test_pool_choice_is_audited_and_applies_to_the_year(session: Session, tenant_id: int) -> None:
    create_asset(session, tenant_id, AssetInput("Regal", DAY, "600", 156))
    assert [r.method for r in register(session, tenant_id, 2026)] == ["gwg"]
    set_pool_choice(session, tenant_id, 2026, True)
    set_pool_choice(session, tenant_id, 2026, True)  # no change, no second record
    assert pool_choices(session, tenant_id) == {2026: True}
    assert [r.method for r in register(session, tenant_id, 2026)] == ["pool"]
    entries = audit(session, tenant_id, "asset_pool_year")
    assert [(e.action, e.entity_id) for e in entries] == [("update", "2026")]
    with pytest.raises(ValidationFailed) as exc:
        set_pool_choice(session, tenant_id, 99999, True)
    assert exc.value.code == "year.invalid"


def test_register_rows_are_records(engine: Engine, tenant_id: int) -> None:
    """GoBD: the database refuses to change or delete an asset or a disposal."""
    with tenant_session(tenant_id, engine) as s:
        asset = create_asset(s, tenant_id, AssetInput("Kamera", DAY, "2000", 84)).asset
        dispose_asset(s, tenant_id, asset.id, "sale", DAY, "1500")
        asset_id = asset.id
    for statement in (
        "UPDATE assets SET net_cost = 1 WHERE id = :i",
        "DELETE FROM assets WHERE id = :i",
        "UPDATE asset_disposals SET proceeds = 1 WHERE asset_id = :i",
        "DELETE FROM asset_disposals WHERE asset_id = :i",
    ):
        with pytest.raises(DBAPIError), tenant_session(tenant_id, engine) as s:
            s.execute(text(statement), {"i": asset_id})
    with tenant_session(tenant_id, engine) as s:
        assert s.get(Asset, asset_id) is not None
        assert s.scalar(select(AssetDisposal).where(AssetDisposal.asset_id == asset_id))
        assert verify_chain(s, tenant_id) == []
