"""The input mask: kept per period and kind, pre-filled next time; and the warnings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from belegwerk.core.errors import ValidationFailed
from belegwerk.tax.eks import inputs
from belegwerk.tax.eks.form import form_for
from belegwerk.tax.eks.period import Period, parse_period
from belegwerk.tax.eks.service import build_report
from belegwerk.tenancy.service import update_company
from tests.books.test_invoices import booked, ln
from tests.tax.eks_scenario import book_scenario, final_mask

D = Decimal
FIRST = parse_period("2026-01", "2026-06")
NEXT = parse_period("2026-07", "2026-12")
FORM = form_for(FIRST.start)


def save(session: Session, tenant_id: int, period: Period, kind: str, raw: object) -> None:
    mask = inputs.parse_mask(FORM, period, raw)
    inputs.save_mask(session, tenant_id, period, kind, mask, FORM)


def test_first_mask_comes_from_the_company(session: Session, tenant_id: int) -> None:
    update_company(
        session,
        tenant_id,
        {"street": "Hauptstraße 12a", "postal_code": "10115", "city": "Berlin"},
    )
    loaded = inputs.load_mask(session, tenant_id, FORM, FIRST, "provisional")
    assert loaded.source == "company"
    answers = loaded.mask.answers
    assert (answers["street"], answers["house_number"]) == ("Hauptstraße", "12a")
    assert (answers["postal_code"], answers["city"]) == ("10115", "Berlin")
    assert answers["company_name"] == "Testfirma GmbH"
    assert loaded.mask.vat_liable is True


def test_next_period_is_prefilled_from_the_last(session: Session, tenant_id: int) -> None:
    """The answers, table C, the vehicle and VAT settings carry over; euro figures do not
    (they belong to their period); the km become the last period's monthly average for a
    provisional declaration."""
    raw = final_mask() | {"figures": {"A2": {"2026-03": "12.50"}}}
    raw["km"] = {
        "2026-01": {"business": "300", "private": "100"},
        "2026-02": {"business": "500", "private": "200"},
    }
    save(session, tenant_id, FIRST, "final", raw)
    loaded = inputs.load_mask(session, tenant_id, FORM, NEXT, "provisional")
    assert loaded.source == "earlier_period"
    assert (loaded.source_period, loaded.source_kind) == (FIRST, "final")
    mask = loaded.mask
    assert mask.answers["applicant_last_name"] == "Lindqvist"
    assert mask.answers["applicant_birth_date"] == date(1988, 4, 17)
    assert mask.answers["home_area"] == D("14.50")
    assert mask.deductions == [
        inputs.Deduction("private_health", D("215.40"), "monthly"),
        inputs.Deduction("car_liability", D("264.00"), "yearly"),
    ]
    assert mask.car_use == "business"
    assert mask.figures == {}
    # (300 + 500) / 2 and (100 + 200) / 2 for every month of the new period
    assert mask.km == {m: {"business": D("400.00"), "private": D("150.00")} for m in NEXT.months}
    # a final declaration of another period gets no guessed kilometres
    assert inputs.load_mask(session, tenant_id, FORM, NEXT, "final").mask.km == {}


def test_final_is_prefilled_from_the_provisional_of_the_same_period(
    session: Session, tenant_id: int
) -> None:
    raw = {"car_use": "private", "km": {"2026-03": {"business": "250"}}}
    raw |= {"figures": {"A1": {"2026-03": "900"}}, "answers": {"activity": "Übersetzungen"}}
    save(session, tenant_id, FIRST, "provisional", raw)
    save(session, tenant_id, NEXT, "provisional", {"answers": {"activity": "später"}})
    loaded = inputs.load_mask(session, tenant_id, FORM, FIRST, "final")
    assert loaded.source == "same_period"
    assert loaded.mask.answers["activity"] == "Übersetzungen"
    assert loaded.mask.km == {date(2026, 3, 1): {"business": D("250.00")}}
    assert loaded.mask.figures == {}


def test_saving_again_replaces_and_is_audited(session: Session, tenant_id: int) -> None:
    save(session, tenant_id, FIRST, "final", final_mask())
    save(session, tenant_id, FIRST, "final", final_mask() | {"deductions": []})
    saved = inputs.load_mask(session, tenant_id, FORM, FIRST, "final")
    assert saved.source == "saved" and saved.mask.deductions == []
    assert saved.mask.km[date(2026, 2, 1)]["private"] == D("150.00")


def test_follow_up_questions_apply_only_after_yes(session: Session, tenant_id: int) -> None:
    """Field 24/25 (rooms, m²) belong to 23 "yes"; 36–41 to 35 "yes"."""
    raw = {"answers": {"home_used": "nein", "home_rooms": "2", "loan": "no", "loan_amount": "5"}}
    mask = inputs.parse_mask(FORM, FIRST, raw)
    assert mask.answers == {"home_used": False, "loan": False}


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ({"km": {"2026-01": {"private": "-1"}}}, "km.2026-01.private", "eks.negative_km"),
        ({"km": {"2026-01": {"private": "x"}}}, "km.2026-01.private", "eks.not_a_number"),
        ({"km": {"2026-13": {"private": "1"}}}, "km.2026-13", "eks.invalid_month"),
        (
            {"answers": {"home_rooms": "-2", "home_used": True}},
            "answers.home_rooms",
            "eks.negative_number",
        ),
        (
            {"answers": {"applicant_birth_date": "31.02.1990"}},
            "answers.applicant_birth_date",
            "eks.invalid_date",
        ),
        ({"answers": {"start_month": "13.2020"}}, "answers.start_month", "eks.invalid_month"),
        (
            {"answers": {"loan": "ja", "loan_amount": "12,345"}},
            "answers.loan_amount",
            "money.not_a_number",
        ),
        ({"basis_months": 13}, "basis_months", "eks.invalid_basis_months"),
        ({"car_use": "bike"}, "car_use", "eks.invalid_choice"),
        (
            {"figures": {"A1": {"2026-01": "1.005"}}},
            "figures.A1.2026-01",
            "money.too_many_decimals",
        ),
        ({"figures": {"B6.5": {"2026-01": "1"}}}, "figures.B6.5", "eks.unknown_line"),
        (
            {"deductions": [{"kind": "lottery", "amount": "1"}]},
            "deductions.0.kind",
            "eks.unknown_deduction",
        ),
        ({"deductions": "all"}, "deductions", "eks.invalid_shape"),
        ({"unknown": 1}, "unknown", "eks.unknown_field"),
    ],
)
def test_bad_input_is_named_by_field(raw: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        inputs.parse_mask(FORM, FIRST, raw)
    assert {d["field"]: d["code"] for d in err.value.details}[field] == code
    assert all(d["message"] for d in err.value.details)


def test_table_c_monthly_amounts() -> None:
    assert inputs.Deduction("pension", D("300.00"), "quarterly").monthly(6) == D("100.00")
    assert inputs.Deduction("pension", D("100.00"), "yearly").monthly(6) == D("8.33")
    assert inputs.Deduction("pension", D("100.00"), "once").monthly(6) == D("16.67")


# --------------------------------------------------------------------------- warnings


def codes(session: Session, tenant_id: int, period: Period, kind: str) -> dict[str, object]:
    report = build_report(session, tenant_id, period, kind)
    return {w.code: w for w in report.warnings}


def test_warnings_of_the_final_scenario(session: Session, tenant_id: int) -> None:
    book_scenario(session, tenant_id)
    save(session, tenant_id, FIRST, "final", final_mask() | {"deductions": []})
    found = codes(session, tenant_id, FIRST, "final")
    # March has no income and May only the VAT refund of 80 €: under 100 € a month
    low = found["eks.low_income"]
    assert [d["month"] for d in low.details] == ["2026-03", "2026-05"]  # type: ignore[attr-defined]
    assert "eks.no_health_insurance" in found
    # the laptop: the Jobcenter wants to agree investments beforehand
    assert found["eks.investment_approval"].details == [  # type: ignore[attr-defined]
        {"line": "B8", "month": "2026-03", "amount": "1200.00"}
    ]
    # A5.1/B17 against the UStVA of the same quarters (the test company files quarterly, Soll):
    # Q1 invoiced 380 + 35 but received 190 + 190; Q2 invoiced 95 but received 190 + 95.
    # The input VAT agrees: each purchase was paid in the quarter it was booked.
    vat = found["eks.vat_mismatch"]
    assert "Umsatzsteuer-Voranmeldung (UStVA)" in vat.message  # type: ignore[attr-defined]
    assert vat.details == [  # type: ignore[attr-defined]
        {"line": "A5.1", "period": "1. Quartal 2026", "eks": "380.00", "vat_return": "415.00"},
        {"line": "A5.1", "period": "2. Quartal 2026", "eks": "285.00", "vat_return": "95.00"},
    ]
    # withdrawals of 1,500 € stay under the profit of 2,139.20 €
    assert "eks.withdrawals_above_profit" not in found
    assert "eks.empty_month" not in found


def test_withdrawals_above_profit_and_empty_months(session: Session, tenant_id: int) -> None:
    book_scenario(session, tenant_id)
    period = parse_period("2026-03", "2026-05")  # profit: -1,428 + 990 + 80 = -358
    save(session, tenant_id, period, "final", {"car_use": "business"})
    found = codes(session, tenant_id, period, "final")
    assert found["eks.withdrawals_above_profit"].details == [  # type: ignore[attr-defined]
        {"withdrawals": "1500.00", "profit": "-358.00"}
    ]
    quiet = parse_period("2026-09", "2026-10")
    found = codes(session, tenant_id, quiet, "final")
    assert [d["month"] for d in found["eks.empty_month"].details] == [  # type: ignore[attr-defined]
        "2026-09",
        "2026-10",
    ]


def test_car_costs_without_a_car_in_the_mask(session: Session, tenant_id: int) -> None:
    book_scenario(session, tenant_id)
    found = codes(session, tenant_id, FIRST, "final")
    assert "eks.car_use_missing" in found


def test_own_figures_in_a_final_declaration_are_pointed_out(
    session: Session, tenant_id: int
) -> None:
    book_scenario(session, tenant_id)
    save(
        session, tenant_id, FIRST, "final", final_mask() | {"figures": {"B2.3": {"2026-01": "450"}}}
    )
    found = codes(session, tenant_id, FIRST, "final")
    assert found["eks.manual_figures"].details == [  # type: ignore[attr-defined]
        {"line": "B2.3", "month": "2026-01"}
    ]


def test_forecast_without_books_asks_for_figures(session: Session, tenant_id: int) -> None:
    found = codes(session, tenant_id, NEXT, "provisional")
    assert "eks.empty_basis" in found


def test_vat_lines_against_a_monthly_ustva(session: Session, tenant_id: int) -> None:
    """A monthly filer: every month of the period is compared with its own UStVA."""
    book_scenario(session, tenant_id)
    update_company(session, tenant_id, {"ustva_period": "monthly"})
    save(session, tenant_id, FIRST, "final", final_mask())
    vat = codes(session, tenant_id, FIRST, "final")["eks.vat_mismatch"]
    assert [(d["period"], d["eks"], d["vat_return"]) for d in vat.details] == [  # type: ignore[attr-defined]
        ("01/2026", "190.00", "0.00"),  # the December invoice, paid in January
        ("02/2026", "190.00", "380.00"),  # invoiced in full, half paid
        ("03/2026", "0.00", "35.00"),  # invoiced, paid in July
        ("04/2026", "190.00", "0.00"),  # the second half
    ]


def test_vat_lines_without_a_ustva_form_use_the_books(session: Session, tenant_id: int) -> None:
    """Belegwerk has UStVA forms from 2025 on; for 2024 the VAT sums of the books stand in."""
    period = parse_period("2024-01", "2024-03")
    booked(session, tenant_id, [ln("100.00")], issue=date(2024, 2, 1))
    vat = codes(session, tenant_id, period, "final")["eks.vat_mismatch"]
    assert "den Umsatzsteuersummen der Buchungen (Für 2024 gibt es kein UStVA-Formular" in (
        vat.message  # type: ignore[attr-defined]
    )
    assert vat.details == [  # type: ignore[attr-defined]
        {"line": "A5.1", "period": "02/2024", "eks": "0.00", "vat_return": "19.00"}
    ]


def test_small_business_has_no_vat_comparison(
    session: Session, make_tenant: Callable[..., int]
) -> None:
    tenant_id = make_tenant(vat_regime="small_business", chart="skr04")
    session.info["tenant_id"] = tenant_id
    booked(session, tenant_id, [ln("100.00", "0")], issue=date(2026, 2, 1))
    assert "eks.vat_mismatch" not in codes(session, tenant_id, FIRST, "final")


def test_forecast_from_partly_empty_months_is_pointed_out(session: Session, tenant_id: int) -> None:
    """The scenario's books start in December 2025: a forecast for 04–09/2026 from the six
    months before has October and November 2025 without any booking."""
    book_scenario(session, tenant_id)
    found = codes(session, tenant_id, parse_period("2026-04", "2026-09"), "provisional")
    assert [d["month"] for d in found["eks.thin_basis"].details] == [  # type: ignore[attr-defined]
        "2025-10",
        "2025-11",
        "2025-12",
    ]
