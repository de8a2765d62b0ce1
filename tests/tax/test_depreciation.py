"""Depreciation of one asset, hand-computed, each case naming the rule it checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from belegwerk.tax.depreciation import AssetFacts, Disposal, method_for, plan

D = Decimal


def asset(
    cost: str,
    acquired: date,
    months: int = 36,
    *,
    group: str = "movable",
    treatment: str = "auto",
    disposal: Disposal | None = None,
) -> AssetFacts:
    return AssetFacts(
        id=1,
        name="x",
        group=group,
        acquisition_date=acquired,
        net_cost=D(cost),
        useful_life_months=months,
        treatment=treatment,
        disposal=disposal,
    )


def afa(facts: AssetFacts, pooled: bool = False) -> dict[int, Decimal]:
    return {row.year: row.afa for row in plan(facts, pooled)}


def test_linear_by_month_counts_the_month_of_acquisition() -> None:
    """§ 7 Abs. 1 Satz 4 EStG: a notebook for 1,500.00 bought 15 July 2025, 3 years:
    2025 six months (Jul–Dec) = 250.00, then 500.00, 500.00, and six months 250.00."""
    laptop = asset("1500.00", date(2025, 7, 15))
    assert method_for(laptop, pooled=False) == "linear"
    assert afa(laptop) == {
        2025: D("250.00"),
        2026: D("500.00"),
        2027: D("500.00"),
        2028: D("250.00"),
    }
    rows = plan(laptop, pooled=False)
    assert [r.kz for r in rows] == ["130"] * 4
    assert rows[0].opening == D("1500.00") and rows[-1].closing == D("0.00")


def test_linear_years_add_up_to_the_cent() -> None:
    """1,000.00 over 36 months from March: cumulative 277.78 / 611.11 / 944.44 / 1,000.00."""
    rows = afa(asset("1000.00", date(2025, 3, 31)))
    assert rows == {
        2025: D("277.78"),
        2026: D("333.33"),
        2027: D("333.33"),
        2028: D("55.56"),
    }
    assert sum(rows.values()) == D("1000.00")


def test_gwg_up_to_the_limit_is_written_off_at_once() -> None:
    """§ 6 Abs. 2 EStG: up to 800 € net in the year of acquisition (Kz 132); a cent more is
    depreciated over its life."""
    at_limit = asset("800.00", date(2025, 11, 3))
    assert method_for(at_limit, pooled=False) == "gwg"
    (row,) = plan(at_limit, pooled=False)
    assert (row.year, row.afa, row.kz) == (2025, D("800.00"), "132")
    above = asset("800.01", date(2025, 11, 3))
    assert method_for(above, pooled=False) == "linear"
    assert afa(above)[2025] == D("44.45")  # 800.01 × 2 / 36
    assert method_for(asset("500.00", date(2025, 1, 1), treatment="linear"), False) == "linear"


def test_gwg_limit_follows_the_date() -> None:
    """Until 2017 the GWG limit was 410 €: a 500 € chair of 2017 is depreciated."""
    assert method_for(asset("500.00", date(2017, 6, 1)), pooled=False) == "linear"
    assert method_for(asset("500.00", date(2018, 1, 1)), pooled=False) == "gwg"


def test_sammelposten_takes_every_asset_of_the_year_in_its_range() -> None:
    """§ 6 Abs. 2a EStG: in a pooled year everything above 250 € up to 1,000 € goes into the
    pool, a fifth a year without months (Kz 137); up to 250 € stays immediate, above 1,000 €
    linear."""
    july = date(2025, 7, 1)
    assert method_for(asset("250.00", july), pooled=True) == "gwg"
    assert method_for(asset("250.01", july), pooled=True) == "pool"
    assert method_for(asset("900.00", july), pooled=True) == "pool"  # above the GWG limit
    assert method_for(asset("1000.01", july), pooled=True) == "linear"
    rows = plan(asset("900.00", july), pooled=True)
    assert [(r.year, r.afa, r.kz) for r in rows] == [
        (2025, D("180.00"), "137"),
        (2026, D("180.00"), "137"),
        (2027, D("180.00"), "137"),
        (2028, D("180.00"), "137"),
        (2029, D("180.00"), "137"),
    ]
    odd = afa(asset("333.33", july), pooled=True)
    assert odd == {
        2025: D("66.67"),
        2026: D("66.66"),
        2027: D("66.67"),
        2028: D("66.66"),
        2029: D("66.67"),
    }


def test_a_disposal_does_not_change_the_pool() -> None:
    """§ 6 Abs. 2a Satz 3 EStG: the pool keeps its five fifths when an item leaves it."""
    sold = asset("500.00", date(2025, 2, 1), disposal=Disposal(date(2026, 5, 5), "sale", D("100")))
    assert afa(sold, pooled=True) == {y: D("100.00") for y in range(2025, 2030)}


def test_sale_ends_linear_afa_with_the_month_of_disposal() -> None:
    """R 7.4 Abs. 8 EStR: AfA up to the month of the sale (Jul 2025 – Mar 2026 = 9 months,
    375.00 in total), the rest is the Restbuchwert (Kz 135)."""
    sold = asset(
        "1500.00",
        date(2025, 7, 15),
        disposal=Disposal(date(2026, 3, 10), "sale", D("900.00")),
    )
    rows = plan(sold, pooled=False)
    assert [(r.year, r.afa, r.book_value_out, r.closing) for r in rows] == [
        (2025, D("250.00"), D("0.00"), D("1250.00")),
        (2026, D("125.00"), D("1125.00"), D("0.00")),
    ]


def test_withdrawal_carries_its_value_and_void_removes_the_asset() -> None:
    taken = asset(
        "1200.00",
        date(2024, 1, 1),
        12,
        disposal=Disposal(date(2024, 6, 30), "withdrawal", D("700")),
    )
    (row,) = plan(taken, pooled=False)
    assert (row.afa, row.book_value_out, row.withdrawal) == (D("600.00"), D("600.00"), D("700.00"))
    void = asset("1200.00", date(2024, 1, 1), disposal=Disposal(date(2024, 1, 2), "void", D(0)))
    assert plan(void, pooled=False) == []


def test_digital_assets_in_full_in_the_year_of_acquisition() -> None:
    """BMF 26.02.2021 / 22.02.2022: computer hardware and software with one year of life."""
    pc = asset("2400.00", date(2025, 12, 20), 12, treatment="digital")
    assert method_for(pc, pooled=False) == "digital"
    assert [(r.year, r.afa, r.kz) for r in plan(pc, pooled=False)] == [(2025, D("2400.00"), "130")]
    software = asset("1800.00", date(2025, 4, 1), 12, group="intangible", treatment="digital")
    assert [(r.year, r.kz) for r in plan(software, pooled=False)] == [(2025, "131")]


def test_fully_written_off_asset_sold_later_shows_only_the_sale_year() -> None:
    old = asset("600.00", date(2019, 1, 1), 12, disposal=Disposal(date(2023, 5, 1), "sale", D(50)))
    rows = plan(old, pooled=False)
    assert [(r.year, r.afa, r.book_value_out) for r in rows] == [
        (2019, D("600.00"), D("0.00")),
        (2023, D("0.00"), D("0.00")),
    ]
