"""Declarative CSV templates: how one bank's CSV export maps onto a :class:`ParsedTransaction`.

A template is plain JSON, the same for the system templates shipped in
``banking/system_templates/*.json``, for user templates stored in ``bank_templates.definition``
and for templates exported/imported by the user. Schema (version 1)::

    {
      "schema_version": 1,
      "key": "dkb_2023",                  # [a-z0-9_.-], unique among templates
      "name": "DKB (ab 2023)",            # shown to the user
      "bank": "DKB",
      "note": "",                         # free text: source of the layout, quirks

      "encoding": "utf-8-sig",            # utf-8 | utf-8-sig | cp1252 | iso-8859-1 | iso-8859-15
      "encoding_fallback": true,          # bytes in the other family (UTF-8 vs. Latin): decode
                                          #   them as what they are (true) or refuse the file
                                          #   with bank.encoding_mismatch (false)
      "delimiter": ";",
      "quotechar": "\\"",
      "decimal": ",",                     # "," or "."
      "thousands": ".",                   # "", ".", ",", " " or "'"; groups are checked
      "date_formats": ["%d.%m.%y"],       # strptime formats, tried in order (%y = 2-digit year)

      "header": true,                     # false: columns are addressed by position only
      "max_preamble_lines": 30,           # header=true: the header row is searched in these
                                          #   lines (ING/DKB put account data first); an IBAN
                                          #   found above it becomes the statement's account
      "skip_lines": 0,                    # header=false: lines before the first data row
      "column_count": 12,                 # the layout's number of columns (detection, and
                                          #   the row width when header=false)

      "columns": {                        # our field -> where it comes from
        "booking_date": {"names": ["Buchungsdatum"]},
        "amount": {"names": ["Betrag (€)", "Betrag (EUR)"]},   # aliases: first present wins
        "currency": {"names": ["Währung"], "occurrence": -1},  # the last "Währung" column
        "purpose": [{"names": ["Verwendungszweck"]}, {"index": 7}]  # a list is joined
      },
      "required": ["status"],             # more fields whose column must be in the header
                                          #   (booking_date and amount/debit/credit always are)
      "join_separator": " ",

      "sign": {"debit": ["S", "Soll"], "credit": ["H", "Haben"]},  # values of the "sign" column
      "invert_amounts": false,            # e.g. credit-card exports with charges positive
      "skip": [{"field": "status", "equals": ["Vorgemerkt"]},      # rows ignored on purpose,
               {"column": "Typ", "startswith": ["Memo"]}],         #   counted as "skipped";
                                          #   case-insensitive, on a field or any column
      "skip_zero_amounts": false,         # info rows with amount 0 (Commerzbank)
      "stop_at": ["Kontostand"],          # a row whose first cell starts so ends the table
      "sepa_tags": false,                 # split EREF+/MREF+/CRED+/SVWZ+ in the purpose
      "extract": [{"field": "purpose", "pattern": "Auftraggeber: (?P<counterparty_name>.+?) "}],
      "fee": {"counterparty_name": "PayPal", "booking_text": "Gebühr"},
      "currency": "EUR"                   # when no currency column is mapped
    }

Column references: ``{"names": [...]}`` matches a header cell by name (case-insensitive,
surrounding blanks ignored; the first alias present wins; ``occurrence`` picks the n-th column of
that name, negative counts from the end), ``{"index": n}`` by 0-based position. A bare string is
short for ``{"names": [s]}``, a bare integer for ``{"index": n}``.

Fields: booking_date, value_date, amount, debit and credit (unsigned or signed; amount wins when
it is filled), fee (PayPal: emitted as its own transaction, ``fee_of`` = the payment), currency,
counterparty_name, payer_name and payee_name (DKB: the counterparty is the payer of money coming
in and the payee of money going out), counterparty_iban, counterparty_bic, purpose, booking_text,
end_to_end_ref, mandate_ref, creditor_id, gv_code, balance_after, status (only for skip rules),
sign (S/H column, see ``sign``) and account_iban (the statement's own account, per row; a row
of another account is rejected).

Detection (:mod:`belegwerk.banking.detect`) needs the header row to contain the required fields'
columns; ``column_count`` and the sample rows that parse make up the rest of the score.

``extract`` runs a regular expression (``re.search``) on the value of a text field; its named
groups replace the fields of the same name when they matched.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

SCHEMA_VERSION: Literal[1] = 1

Encoding = Literal["utf-8", "utf-8-sig", "cp1252", "iso-8859-1", "iso-8859-15"]

FieldName = Literal[
    "booking_date",
    "value_date",
    "amount",
    "debit",
    "credit",
    "fee",
    "currency",
    "counterparty_name",
    "payer_name",
    "payee_name",
    "counterparty_iban",
    "counterparty_bic",
    "purpose",
    "booking_text",
    "end_to_end_ref",
    "mandate_ref",
    "creditor_id",
    "gv_code",
    "balance_after",
    "status",
    "sign",
    "account_iban",
]

# Fields whose value may be joined from several columns.
TEXT_FIELDS = frozenset(
    {
        "counterparty_name",
        "payer_name",
        "payee_name",
        "counterparty_iban",
        "counterparty_bic",
        "purpose",
        "booking_text",
        "end_to_end_ref",
        "mandate_ref",
        "creditor_id",
        "gv_code",
    }
)
# Fields an ``extract`` pattern may fill.
EXTRACTABLE = TEXT_FIELDS - {"payer_name", "payee_name"}

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")


class TemplateProblem(Exception):
    """A problem found across fields; escapes pydantic so it keeps its precise field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnRef(_Strict):
    """One column, by header name (with aliases) or by 0-based position."""

    names: list[str] = Field(default_factory=list)
    index: int | None = Field(default=None, ge=0, le=500)
    occurrence: int = 1

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"names": [value]}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"index": value}
        return value

    @model_validator(mode="after")
    def _check(self) -> ColumnRef:
        if not self.names and self.index is None:
            raise ValueError(_("a column needs 'names' or 'index'"))
        if any(not n.strip() for n in self.names):
            raise ValueError(_("column names must not be empty"))
        if self.occurrence == 0:
            raise ValueError(_("'occurrence' counts from 1 (or from -1 at the end)"))
        return self

    def label(self) -> str:
        """How the column is named in messages."""
        if self.names:
            return self.names[0]
        return _("column {n}").format(n=(self.index or 0) + 1)


Mapping = ColumnRef | list[ColumnRef]


class SkipRule(_Strict):
    """Rows to ignore on purpose (pending, info, totals); they count as ``skipped``."""

    field: FieldName | None = None
    column: ColumnRef | None = None
    equals: list[str] = Field(default_factory=list)
    startswith: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> SkipRule:
        if (self.field is None) == (self.column is None):
            raise ValueError(_("a skip rule needs exactly one of 'field' or 'column'"))
        if not self.equals and not self.startswith:
            raise ValueError(_("a skip rule needs 'equals' or 'startswith'"))
        return self


class SignRule(_Strict):
    """Values of the debit/credit mark column (``sign`` field), compared case-insensitively."""

    debit: list[str] = Field(default_factory=lambda: ["S", "Soll", "D", "DBIT", "Debit"])
    credit: list[str] = Field(default_factory=lambda: ["H", "Haben", "C", "CRDT", "Credit"])


class ExtractRule(_Strict):
    field: FieldName
    pattern: str

    @model_validator(mode="after")
    def _check(self) -> ExtractRule:
        if self.field not in EXTRACTABLE:
            raise ValueError(
                _("'extract' works on text fields, not on '{field}'").format(field=self.field)
            )
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                _("invalid regular expression: {problem}").format(problem=exc)
            ) from None
        bad = [g for g in compiled.groupindex if g not in EXTRACTABLE]
        if bad:
            raise ValueError(
                _("unknown field(s) in the pattern's groups: {names}").format(names=", ".join(bad))
            )
        if not compiled.groupindex:
            raise ValueError(_("the pattern needs named groups such as (?P<purpose>...)"))
        return self


class FeeRule(_Strict):
    """How the separate fee transaction (PayPal) is labelled."""

    counterparty_name: str = ""
    booking_text: str = ""
    purpose: str = ""


class CsvTemplate(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    key: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    bank: str = ""
    note: str = ""

    encoding: Encoding = "utf-8"
    encoding_fallback: bool = True
    delimiter: str = ";"
    quotechar: str = '"'
    decimal: Literal[",", "."] = ","
    thousands: Literal["", ".", ",", " ", "'"] = "."
    date_formats: list[str] = Field(default_factory=lambda: ["%d.%m.%Y"], min_length=1)

    header: bool = True
    max_preamble_lines: int = Field(default=30, ge=0, le=200)
    skip_lines: int = Field(default=0, ge=0, le=200)
    column_count: int | None = Field(default=None, ge=1, le=500)

    columns: dict[FieldName, Mapping]
    required: list[FieldName] = Field(default_factory=list)
    join_separator: str = " "

    sign: SignRule = Field(default_factory=SignRule)
    invert_amounts: bool = False
    skip: list[SkipRule] = Field(default_factory=list)
    skip_zero_amounts: bool = False
    stop_at: list[str] = Field(default_factory=list)
    sepa_tags: bool = False
    extract: list[ExtractRule] = Field(default_factory=list)
    fee: FeeRule = Field(default_factory=FeeRule)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(_("use 1-80 lower-case letters, digits, '_', '.' or '-'"))
        return value

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1 or value in "\r\n":
            raise ValueError(_("must be exactly one character (not a line break)"))
        return value

    @field_validator("date_formats")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        probe = date(2024, 11, 28)
        for fmt in value:
            try:
                text = probe.strftime(fmt)
                ok = datetime.strptime(text, fmt).date() == probe
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    _("'{format}' is not a date format with day, month and year").format(format=fmt)
                )
        return value

    @model_validator(mode="after")
    def _check(self) -> CsvTemplate:
        cols = self.columns
        if self.decimal == self.thousands:
            raise TemplateProblem("thousands", _("must differ from the decimal separator"))
        if "booking_date" not in cols:
            raise TemplateProblem("columns.booking_date", _("the booking date must be mapped"))
        if not ({"amount", "debit", "credit"} & cols.keys()):
            raise TemplateProblem(
                "columns.amount", _("the amount (or debit and credit) must be mapped")
            )
        for name, mapping in cols.items():
            refs = mapping if isinstance(mapping, list) else [mapping]
            if isinstance(mapping, list):
                if not mapping:
                    raise TemplateProblem(f"columns.{name}", _("the list of columns is empty"))
                if name not in TEXT_FIELDS:
                    raise TemplateProblem(
                        f"columns.{name}", _("only text can be joined from several columns")
                    )
            if not self.header and any(r.index is None for r in refs):
                raise TemplateProblem(
                    f"columns.{name}", _("without a header row, columns need an 'index'")
                )
        for i, rule in enumerate(self.skip):
            if rule.field is not None and rule.field not in cols:
                raise TemplateProblem(
                    f"skip.{i}.field",
                    _("'{field}' is not mapped in 'columns'").format(field=rule.field),
                )
        for f in self.required:
            if f not in cols:
                raise TemplateProblem(
                    "required", _("'{field}' is not mapped in 'columns'").format(field=f)
                )
        if not self.header and self.column_count is None:
            raise TemplateProblem(
                "column_count", _("the number of columns is needed without a header row")
            )
        return self

    def refs(self, field: str) -> list[ColumnRef]:
        mapping = self.columns.get(field)  # type: ignore[call-overload]
        if mapping is None:
            return []
        return list(mapping) if isinstance(mapping, list) else [mapping]

    def required_fields(self) -> list[str]:
        """What must be found for the template to apply at all."""
        fields = ["booking_date"]
        if "amount" in self.columns:
            fields.append("amount")
        else:
            fields += [f for f in ("debit", "credit") if f in self.columns]
        return fields + [f for f in self.required if f not in fields]


# --------------------------------------------------------------------------- JSON in/out


def _loc(loc: tuple[int | str, ...]) -> str:
    """Pydantic's location without the union branch names it inserts."""
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p == "list"))]
    return ".".join(parts) or "template"


def _problem(error: Any) -> str:
    """A pydantic error in words the German catalog can translate."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return _("this setting is missing")
    if kind == "extra_forbidden":
        return _("unknown setting")
    if kind in ("literal_error", "enum"):
        return _("allowed values: {expected}").format(expected=ctx.get("expected", ""))
    if kind in ("too_short", "string_too_short"):
        return _("must not be empty")
    if kind in ("greater_than_equal", "less_than_equal", "too_long", "string_too_long"):
        return _("is out of range")
    if kind == "string_pattern_mismatch":
        return _("has the wrong format")
    return _("has the wrong type or value")


def _invalid(details: list[dict[str, str]]) -> ValidationFailed:
    first = details[0]
    return ValidationFailed(
        "bank.template_invalid",
        _("The template is not valid: {field}: {problem}").format(
            field=first["field"], problem=first["message"]
        ),
        list(details),
    )


def template_from_dict(data: Any) -> CsvTemplate:
    """Validate a decoded definition; errors (bank.template_invalid) name the field."""
    try:
        return CsvTemplate.model_validate(data)
    except TemplateProblem as exc:
        raise _invalid([{"field": exc.field, "message": exc.message}]) from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise _invalid(
            [{"field": _loc(e["loc"]), "message": _problem(e)} for e in errors]
        ) from None


def load_template_json(text: str | bytes) -> CsvTemplate:
    """Parse and validate a template exported as JSON (or stored in bank_templates)."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "bank.template_invalid",
            _("The template is not valid JSON: {problem}").format(problem=str(exc)),
            [{"field": "template", "message": str(exc)}],
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "bank.template_invalid",
            _("The template must be a JSON object."),
            [{"field": "template", "message": "not an object"}],
        )
    return template_from_dict(data)


def template_to_json(template: CsvTemplate) -> str:
    """Canonical JSON (defaults left out) that :func:`load_template_json` reads back."""
    full = template.model_dump(mode="json")
    changed = template.model_dump(mode="json", exclude_defaults=True)
    # The settings that define the file format are always written, so a template exported
    # today keeps its meaning even if a default changes later.
    data = {k: changed.get(k, v) for k, v in full.items() if k in _ALWAYS_WRITTEN or k in changed}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


_ALWAYS_WRITTEN = frozenset(
    {
        "schema_version",
        "key",
        "name",
        "encoding",
        "encoding_fallback",
        "delimiter",
        "decimal",
        "thousands",
        "date_formats",
        "header",
        "columns",
    }
)


# --------------------------------------------------------------------------- system templates


@lru_cache(maxsize=1)
def _system_templates() -> tuple[CsvTemplate, ...]:
    folder = resources.files("belegwerk.banking") / "system_templates"
    found = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    return tuple(load_template_json(entry.read_text(encoding="utf-8")) for entry in found)


def list_system_templates() -> list[CsvTemplate]:
    """The templates shipped with Belegwerk, sorted by file name."""
    return list(_system_templates())


def get_system_template(key: str) -> CsvTemplate | None:
    return next((t for t in _system_templates() if t.key == key), None)
