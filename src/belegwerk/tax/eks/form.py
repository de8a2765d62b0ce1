"""The official form as data (``tax/data/eks/*.toml``): sections, numbered fields, table lines.

The code fills whatever lines the form file names; a new form version is a new data file with
its own ``valid_from``, chosen by the first day of the benefit period.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files

from belegwerk.core.i18n import current_locale


@dataclass(frozen=True)
class Labelled:
    label_de: str
    label_en: str

    @property
    def label(self) -> str:
        """The label in the UI language; the PDF always prints the German form text."""
        return self.label_de if current_locale.get() == "de" else self.label_en


@dataclass(frozen=True)
class Section(Labelled):
    key: str


@dataclass(frozen=True)
class Field(Labelled):
    no: int
    key: str
    section: str
    type: str
    requires: str | None = None
    max: int | None = None


@dataclass(frozen=True)
class Table(Labelled):
    key: str
    field: int


@dataclass(frozen=True)
class Line(Labelled):
    code: str
    table: str
    kind: str = "line"  # line | deduction | sum | carry | profit
    vat: bool = False
    car: str | None = None  # business | private
    km: str | None = None  # which kilometres price this line: business | private
    input: bool = False  # only the user can know it (no category maps here)
    inflow: str | None = None  # where money coming back in goes ("" = nowhere)
    carries: str | None = None

    @property
    def number(self) -> str:
        """The number printed on the form ("" for sums and the km deduction)."""
        return self.code if self.kind == "line" else ""

    @property
    def is_figure(self) -> bool:
        return self.kind in ("line", "deduction")


@dataclass(frozen=True)
class DeductionKind(Labelled):
    key: str
    group: str  # tax | compulsory | other (§ 11b Abs. 1 Satz 1 Nr. 1, 2, 3-5 SGB II)
    health: bool = False


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    subtitle: str
    valid_from: date
    sections: tuple[Section, ...]
    fields: tuple[Field, ...]
    tables: tuple[Table, ...]
    lines: tuple[Line, ...]
    deductions: tuple[DeductionKind, ...]

    def line(self, code: str) -> Line:
        for line in self.lines:
            if line.code == code:
                return line
        raise KeyError(code)

    def lines_of(self, table: str) -> list[Line]:
        return [line for line in self.lines if line.table == table]

    @property
    def figure_codes(self) -> list[str]:
        """Lines that hold a figure per month, in form order."""
        return [line.code for line in self.lines if line.is_figure]

    @property
    def input_codes(self) -> list[str]:
        """Lines a user may give figures for (the computed km lines are not among them)."""
        return [line.code for line in self.lines if line.kind == "line" and line.km is None]

    def field(self, key: str) -> Field:
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)

    def fields_of(self, section: str) -> list[Field]:
        return [f for f in self.fields if f.section == section]

    def deduction(self, key: str) -> DeductionKind:
        for kind in self.deductions:
            if kind.key == key:
                return kind
        raise KeyError(key)

    def section(self, key: str) -> Section:
        for item in self.sections:
            if item.key == key:
                return item
        raise KeyError(key)


def _load(text: str) -> Form:
    raw = tomllib.loads(text)
    return Form(
        name=raw["name"],
        title=raw["title"],
        subtitle=raw["subtitle"],
        valid_from=raw["valid_from"],
        sections=tuple(Section(**s) for s in raw["sections"]),
        fields=tuple(Field(**f) for f in raw["fields"]),
        tables=tuple(Table(**t) for t in raw["tables"]),
        lines=tuple(Line(**line) for line in raw["lines"]),
        deductions=tuple(DeductionKind(**d) for d in raw["deductions"]),
    )


@cache
def forms() -> tuple[Form, ...]:
    """Every shipped form version, oldest first."""
    folder = files("belegwerk.tax").joinpath("data/eks")
    loaded = [_load(p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".toml")]
    return tuple(sorted(loaded, key=lambda f: f.valid_from))


def form_for(day: date) -> Form:
    """The form version in force on ``day``; before the first known one, the oldest (the
    Jobcenter accepts the current form for earlier periods, and there is no older one here)."""
    chosen = forms()[0]
    for form in forms():
        if form.valid_from <= day:
            chosen = form
    return chosen
