"""The Anlage EÜR form of a year as data: Kennzahlen, ELSTER field names, line numbers, rules.

Each ``tax/data/euer_*.toml`` describes the form of the years it names (see the comments there).
Adding next year's form is adding such a file. A year newer than every file uses the newest form
and says so; a year older than every file has no form.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

SECTIONS = ("income", "expense", "result", "extra")


@dataclass(frozen=True)
class FormLine:
    """One field of the form."""

    kz: str
    section: str
    elster: str  # ELSTER XML path; its last part is the field name (E6000401 …)
    label: str
    zeile: int | None = None
    counted: bool = True
    source: str | None = None  # output_tax | input_tax: the VAT of the other lines
    negative_to: str | None = None
    deductible_share: str | None = None  # name of a tax parameter
    rest_kz: str | None = None
    sum: str | None = None  # income | expense
    profit: bool = False
    flow: str | None = None  # in | out, for the private money lines

    @property
    def field(self) -> str:
        return self.elster.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Form:
    years: tuple[int, ...]
    title: str
    lines: tuple[FormLine, ...]

    def line(self, kz: str) -> FormLine | None:
        return self.by_kz.get(kz)

    @cached_property
    def by_kz(self) -> dict[str, FormLine]:
        return {ln.kz: ln for ln in self.lines}


@cache
def forms() -> dict[int, Form]:
    """Every year with a form file, mapped to its form."""
    out: dict[int, Form] = {}
    for entry in sorted(files("belegwerk.tax").joinpath("data").iterdir(), key=lambda p: p.name):
        if not (entry.name.startswith("euer_") and entry.name.endswith(".toml")):
            continue
        raw = tomllib.loads(entry.read_text("utf-8"))
        form = Form(
            years=tuple(raw["years"]),
            title=raw["title"],
            lines=tuple(FormLine(**line) for line in raw["line"]),
        )
        for year in form.years:
            out[year] = form
    return out


def form_for(year: int) -> tuple[Form, int]:
    """The form for ``year`` and the year it was made for (older for a year not yet known)."""
    known = forms()
    if year in known:
        return known[year], year
    newer = [y for y in known if y < year]
    if not newer:
        raise ValidationFailed(
            "euer.form_missing",
            _("There is no Anlage EÜR form for {year}; the earliest is {first}.").format(
                year=year, first=min(known)
            ),
            [{"field": "year", "value": year}],
        )
    latest = max(newer)
    return known[latest], latest
