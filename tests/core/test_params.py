"""Tax parameters by date: the value on a day is the last entry that started on or before it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from belegwerk.books.vat import allowed_rates
from belegwerk.core import params
from belegwerk.core.errors import ValidationFailed


def test_vat_rates_follow_the_supply_date() -> None:
    # § 28 UStG: 16 % / 5 % for supplies from 1 Jul to 31 Dec 2020, 19 % / 7 % around them.
    assert allowed_rates(date(2020, 6, 30)) == {Decimal(0), Decimal(7), Decimal(19)}
    assert allowed_rates(date(2020, 7, 1)) == {Decimal(0), Decimal(5), Decimal(16)}
    assert allowed_rates(date(2020, 12, 31)) == {Decimal(0), Decimal(5), Decimal(16)}
    assert allowed_rates(date(2021, 1, 1)) == {Decimal(0), Decimal(7), Decimal(19)}


def test_small_business_limits_change_in_2025() -> None:
    # § 19 UStG as amended by the Jahressteuergesetz 2024.
    assert params.decimal("small_business_limit_prior_year", date(2024, 12, 31)) == 22000
    assert params.decimal("small_business_limit_prior_year", date(2025, 1, 1)) == 25000
    assert params.decimal("small_business_limit_current_year", date(2026, 6, 1)) == 100000


def test_thresholds_and_fractions() -> None:
    assert params.decimal("gwg_limit", date(2017, 12, 31)) == 410
    assert params.decimal("gwg_limit", date(2018, 1, 1)) == 800
    assert params.decimal("ustva_monthly_threshold", date(2026, 1, 1)) == 9000
    assert params.fraction("special_prepayment_fraction", date(2026, 1, 1)) == Fraction(1, 11)
    assert params.decimal("eks_km_rate", date(2026, 1, 1)) == Decimal("0.10")


def test_benefit_tiers_gain_the_30_percent_step_in_july_2023() -> None:
    before = params.value("citizen_benefit_tiers", date(2023, 6, 30))
    after = params.value("citizen_benefit_tiers", date(2023, 7, 1))
    assert [t["share"] for t in before] == ["0.20", "0.10"]
    assert [t["share"] for t in after] == ["0.20", "0.30", "0.10"]


def test_every_entry_names_its_source_and_entries_are_ordered() -> None:
    for key in params.names():
        entries = params.history(key)
        assert entries, key
        assert all(e.source for e in entries), key
        assert [e.valid_from for e in entries] == sorted(e.valid_from for e in entries)


def test_before_the_first_entry_is_a_clear_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        params.value("gwg_limit", date(1990, 1, 1))
    assert info.value.code == "tax.parameter_missing"
    with pytest.raises(KeyError):
        params.history("no_such_parameter")
