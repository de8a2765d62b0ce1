"""Rules without the database: the form file against the real form, periods, allowances."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from belegwerk.core.errors import ValidationFailed
from belegwerk.tax.eks.allowance import allowance_month, allowance_view
from belegwerk.tax.eks.form import form_for, forms
from belegwerk.tax.eks.inputs import Deduction
from belegwerk.tax.eks.period import parse_kind, parse_period
from tests.conftest import corpus_path

D = Decimal
FORM_HTML = ("bank", "RechnungsPilot", "vorlagen", "steuern", "anlage-eks.html")


def _form_text() -> str:
    raw = corpus_path(*FORM_HTML).read_text("utf-8")
    text = re.sub(r"<style.*?</style>|<[^>]+>", " ", raw, flags=re.S)
    return " ".join(html.unescape(text).split())


@pytest.mark.corpus
def test_every_line_of_the_form_file_is_on_the_real_form() -> None:
    """The line numbers and texts of tables A, B and C are the official ones (Jobcenter-EKS
    04/2025, read from the form as HTML)."""
    text = _form_text()
    form = form_for(date(2026, 1, 1))
    assert form.name in text
    for line in form.lines:
        label = " ".join(line.label_de.split())
        assert label in text, line.code
        if line.number:
            assert f"{line.number} {label}" in text, line.code
    for kind in form.deductions:
        assert kind.label_de in text, kind.key
    for field in form.fields:
        if field.type != "textarea":  # the remarks' label names its table, the form does not
            label = field.label_de.replace("(m²)", "(m 2 )")  # a superscript in the HTML
            assert f"{field.no} {label}" in text, field.no


def test_form_structure() -> None:
    form = form_for(date(2026, 1, 1))
    assert [t.key for t in form.tables] == ["A", "B1", "B2", "B3"]
    assert [line.code for line in form.lines if line.vat] == ["A5.1", "A5.2", "A5.3", "B17", "B18"]
    assert form.line("B18").inflow == "A5.3"
    assert [f.no for f in form.fields] == sorted(f.no for f in form.fields)
    assert len(form.deductions) == 10
    # the form in force on a day: the only version is used for earlier periods as well
    assert form_for(date(2020, 1, 1)) is forms()[0]


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [("2026-01", "2026-06", 6), ("2026-07", "2027-06", 12), ("2026-03", "2026-03", 1)],
)
def test_periods(start: str, end: str, months: int) -> None:
    period = parse_period(start, end)
    assert period.length == months
    assert period.start.day == 1
    assert period.end.month == int(end[5:])
    assert (period.end + timedelta(days=1)).day == 1  # the last day of its month


def test_period_ends_on_the_last_day_and_german_months_are_read() -> None:
    period = parse_period("02.2028", "2028-02")
    assert (period.start, period.end) == (date(2028, 2, 1), date(2028, 2, 29))
    assert parse_period("2026-07", "2026-12").previous_months(6) == parse_period(
        "2026-01", "2026-06"
    )


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("2026-01", "2027-01", "eks.period_too_long"),
        ("2026-06", "2026-05", "eks.period_reversed"),
        ("2026-00", "2026-05", "eks.invalid_month"),
        ("2026-1x", "2026-05", "eks.invalid_month"),
        ("", "2026-05", "eks.invalid_month"),
        ("2026-01", "13.2026", "eks.invalid_month"),
    ],
)
def test_bad_periods(start: str, end: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_period(start, end)
    assert err.value.code == code


def test_kinds() -> None:
    assert parse_kind("final") == "final"
    assert parse_kind("vorläufig") == "provisional"
    with pytest.raises(ValidationFailed) as err:
        parse_kind("draft")
    assert err.value.code == "eks.invalid_kind"


# --------------------------------------------------------------------------- allowances


@pytest.mark.parametrize(
    ("income", "counted"),
    [
        # the worked examples of RechnungsFee docs/04 §6.6, law from July 2023:
        ("400.00", "240.00"),  # 100 + 20 % of 300 = 160 free
        ("750.00", "497.00"),  # 100 + 20 % of 420 + 30 % of 230 = 253 free
        ("1100.00", "762.00"),  # 100 + 84 + 30 % of 480 + 10 % of 100 = 338 free
        ("80.00", "0.00"),  # under the basic allowance nothing counts
        ("0.00", "0.00"),
        ("-50.00", "0.00"),  # a loss counts as nothing
    ],
)
def test_allowance_tiers_since_july_2023(income: str, counted: str) -> None:
    """§ 11b Abs. 2 and 3 SGB II: basic allowance 100 €, then 20 % (100–520 €), 30 %
    (520–1,000 €) and 10 % (1,000–1,200 €) of the earned income are not counted."""
    month = allowance_month(date(2026, 1, 1), D(income))
    assert month.counted == D(counted)


def test_the_july_2023_change() -> None:
    """Bürgergeld-Gesetz: from 1 July 2023 the part between 520 and 1,000 € is 30 % free
    (before: 20 % from 100 to 1,000 €). 750 € in June 2023: 100 + 20 % of 650 = 230 free."""
    june = allowance_month(date(2023, 6, 1), D("750.00"))
    july = allowance_month(date(2023, 7, 1), D("750.00"))
    assert (june.counted, july.counted) == (D("520.00"), D("497.00"))
    assert [t.share for t in june.tiers] == [D("0.20"), D("0.10")]
    assert [t.share for t in july.tiers] == [D("0.20"), D("0.30"), D("0.10")]
    # one period across the change: each month uses the law of that month
    form = form_for(date(2023, 5, 1))
    months = [date(2023, m, 1) for m in range(5, 11)]
    view = allowance_view(form, months, D("4500.00"), [], False)
    assert [m.counted for m in view.months] == [D("520.00")] * 2 + [D("497.00")] * 4
    assert view.counted_total == D("3028.00")


def test_higher_limit_with_a_minor_child() -> None:
    """§ 11b Abs. 3 Satz 3 SGB II: with a minor child the 10 % tier reaches 1,500 €."""
    alone = allowance_month(date(2026, 1, 1), D("1400.00"))
    child = allowance_month(date(2026, 1, 1), D("1400.00"), has_minor_child=True)
    # 100 + 84 + 144 + 10 % of 200 (alone) / of 400 (child)
    assert (alone.counted, child.counted) == (D("1052.00"), D("1032.00"))


def test_deductions_of_table_c() -> None:
    """Taxes and compulsory contributions come off on top; insurances (Nr. 3) replace the basic
    allowance only above 400 € a month and when higher (with the 30 € flat rate)."""
    form = form_for(date(2026, 1, 1))
    months = [date(2026, m, 1) for m in range(1, 7)]
    deductions = [
        Deduction("income_tax", D("300.00"), "quarterly"),  # 100 a month
        Deduction("compulsory_insurance", D("50.00"), "monthly"),
        Deduction("private_health", D("120.00"), "monthly"),
    ]
    view = allowance_view(form, months, D("6000.00"), deductions, False)
    first = view.months[0]
    assert first.income == D("1000.00")
    assert (first.taxes, first.compulsory) == (D("100.00"), D("50.00"))
    assert (first.other_deductions, first.basic, first.basic_proven) == (
        D("150.00"),
        D("150.00"),
        True,
    )
    # 1,000 - 100 - 50 - 150 - (84 + 144) = 472
    assert first.counted == D("472.00")
    low = allowance_view(form, months, D("2100.00"), deductions, False).months[0]
    assert (low.income, low.basic, low.basic_proven) == (D("350.00"), D("100.00"), False)
