"""The input mask: what the books cannot know, checked at the edge and kept per period and kind.

One JSON-like shape serves the API, the CLI (``--input FILE``) and the web form::

    {"basis": "books", "basis_months": 6, "vat_liable": true, "car_use": "business",
     "has_minor_child": false,
     "answers": {"applicant_first_name": "Anna", "home_used": true, "home_rooms": 1, ...},
     "deductions": [{"kind": "private_health", "amount": "210.50", "rhythm": "monthly"}],
     "km": {"2026-01": {"business": "400", "private": "250"}},
     "figures": {"A1": {"2026-01": "1200.00"}}}

Every problem is collected (German message, code, the field's path) and raised together, so a
form shows all of them at once and nothing is stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from belegwerk.core.audit import audit_writer
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import parse_money
from belegwerk.core.types import utcnow
from belegwerk.tax.eks.form import Field, Form
from belegwerk.tax.eks.models import EksDeclaration, EksDeduction, EksMonthValue
from belegwerk.tax.eks.period import Period, parse_month
from belegwerk.tenancy.service import get_company

BASES = ("books", "manual")
CAR_USES = ("none", "business", "private")
RHYTHMS = ("monthly", "quarterly", "half_yearly", "yearly", "once")
# Months a payment of each rhythm covers (a one-off payment is spread over the period).
RHYTHM_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
KM_KINDS = ("business", "private")
TEXT_MAX = 200
TEXTAREA_MAX = 2000
KM_MAX = Decimal(100_000)
_STREET = re.compile(r"^(.*?)\s+(\d+\s*[a-zA-Z]?(?:\s*[-/]\s*\d+\s*[a-zA-Z]?)?)$")


def rhythm_labels() -> dict[str, str]:
    return {
        "monthly": _("monthly"),
        "quarterly": _("quarterly"),
        "half_yearly": _("half-yearly"),
        "yearly": _("yearly"),
        "once": _("once in the period"),
    }


def car_use_labels() -> dict[str, str]:
    return {
        "none": _("no vehicle used for the business"),
        "business": _("business vehicle (used at least 50 % for the business)"),
        "private": _("private vehicle (business trips only)"),
    }


def basis_labels() -> dict[str, str]:
    return {
        "books": _("average of the last months of the books, corrected by my figures"),
        "manual": _("only my own figures"),
    }


@dataclass(frozen=True)
class Deduction:
    """A line of table C."""

    kind: str
    amount: Decimal
    rhythm: str
    description: str = ""

    def monthly(self, months: int) -> Decimal:
        """The amount per month: a quarterly 300 € is 100 € a month; a one-off payment is
        spread over the period's ``months``."""
        divisor = RHYTHM_MONTHS.get(self.rhythm, months)
        return (self.amount / divisor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Mask:
    """The state of the input mask for one period and kind."""

    basis: str = "books"
    basis_months: int = 6
    vat_liable: bool = True
    car_use: str = "none"
    has_minor_child: bool = False
    answers: dict[str, Any] = field(default_factory=dict)
    deductions: list[Deduction] = field(default_factory=list)
    km: dict[date, dict[str, Decimal]] = field(default_factory=dict)
    figures: dict[str, dict[date, Decimal]] = field(default_factory=dict)

    def km_of(self, month: date, kind: str) -> Decimal | None:
        return self.km.get(month, {}).get(kind)

    def km_total(self, kind: str) -> Decimal:
        return sum((v.get(kind, Decimal(0)) for v in self.km.values()), Decimal(0))


# --------------------------------------------------------------------------- to and from JSON


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_data(mask: Mask) -> dict[str, Any]:
    """The mask in the JSON shape the edges accept (so the output can be fed back in)."""
    return {
        "basis": mask.basis,
        "basis_months": mask.basis_months,
        "vat_liable": mask.vat_liable,
        "car_use": mask.car_use,
        "has_minor_child": mask.has_minor_child,
        "answers": {k: _plain(v) for k, v in sorted(mask.answers.items()) if v is not None},
        "deductions": [
            {
                "kind": d.kind,
                "amount": str(d.amount),
                "rhythm": d.rhythm,
                "description": d.description,
            }
            for d in mask.deductions
        ],
        "km": {
            f"{m:%Y-%m}": {k: str(v) for k, v in sorted(values.items())}
            for m, values in sorted(mask.km.items())
        },
        "figures": {
            line: {f"{m:%Y-%m}": str(v) for m, v in sorted(months.items())}
            for line, months in sorted(mask.figures.items())
            if months
        },
    }


class _Problems:
    """Collects every problem of one submission; raises them together."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, code: str, message: str, path: str, value: object = None) -> None:
        detail: dict[str, Any] = {"field": path, "code": code, "message": message}
        if value is not None:
            detail["value"] = str(value)
        self.items.append(detail)

    def catch(self, path: str, exc: BelegwerkError) -> None:
        self.add(
            exc.code, exc.message, path, (exc.details[0].get("value") if exc.details else None)
        )

    def raise_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        message = (
            first["message"]
            if len(self.items) == 1
            else _("{count} entries are not valid; the first: {message}").format(
                count=len(self.items), message=first["message"]
            )
        )
        raise ValidationFailed(first["code"], message, self.items)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _yesno(value: object) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "none", "null"):
        return None
    if text in ("1", "yes", "ja", "true", "on", "y", "j"):
        return True
    if text in ("0", "no", "nein", "false", "off", "n"):
        return False
    return "invalid"


def _date(value: object) -> date | None:
    text = str(value).strip()
    try:
        if "." in text:
            day, month, year = text.split(".")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _answer(spec: Field, raw: object, problems: _Problems) -> Any:
    """One numbered field, converted to its type; None when empty."""
    path = f"answers.{spec.key}"
    if spec.type == "yesno":
        flag = _yesno(raw)
        if flag == "invalid":
            problems.add("eks.invalid_choice", _("Please answer yes or no."), path, raw)
            return None
        return flag
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.type in ("text", "textarea"):
        text = str(raw).strip()
        limit = TEXT_MAX if spec.type == "text" else TEXTAREA_MAX
        if len(text) > limit:
            problems.add(
                "eks.text_too_long",
                _("At most {limit} characters, please.").format(limit=limit),
                path,
            )
            return None
        return text
    if spec.type == "date":
        day = _date(raw)
        if day is None or not 1900 <= day.year <= 2100:
            problems.add(
                "eks.invalid_date",
                _("{value} is not a valid date.").format(value=raw),
                path,
                raw,
            )
            return None
        return day
    if spec.type == "month":
        try:
            first = parse_month(str(raw), path)
        except BelegwerkError as exc:
            problems.catch(path, exc)
            return None
        return f"{first:%m.%Y}"
    if spec.type == "money":
        try:
            return parse_money(raw, path)
        except BelegwerkError as exc:
            problems.catch(path, exc)
            return None
    number = _decimal(raw)
    if number is None:
        problems.add("eks.not_a_number", _("Please enter a number."), path, raw)
        return None
    if number < 0:
        problems.add("eks.negative_number", _("The number must not be negative."), path, raw)
        return None
    if spec.type == "count":
        if number != number.to_integral_value() or (spec.max is not None and number > spec.max):
            message = (
                _("Please enter a whole number from 0 to {max}.").format(max=spec.max)
                if spec.max is not None
                else _("Please enter a whole number.")
            )
            problems.add("eks.invalid_count", message, path, raw)
            return None
        return int(number)
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _answers(form: Form, raw: object, problems: _Problems) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add("eks.invalid_shape", _("The answers must be an object."), "answers")
        return {}
    known = {f.key: f for f in form.fields}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        spec = known.get(key)
        if spec is None:
            problems.add(
                "eks.unknown_field",
                _("Unknown field: {field}").format(field=key),
                f"answers.{key}",
            )
            continue
        out[key] = _answer(spec, value, problems)
    # A follow-up question applies only when its yes/no question is answered "yes".
    for spec in form.fields:
        if spec.requires and out.get(spec.requires) is not True:
            out.pop(spec.key, None)
    return {k: v for k, v in out.items() if v is not None}


def _month_in(period: Period, text: str, path: str, problems: _Problems) -> date | None:
    try:
        month = parse_month(text, path)
    except BelegwerkError as exc:
        problems.catch(path, exc)
        return None
    if month not in period.months:
        problems.add(
            "eks.month_outside_period",
            _("The month {month} is not part of the period.").format(month=f"{month:%m.%Y}"),
            path,
            text,
        )
        return None
    return month


def _km(period: Period, raw: object, problems: _Problems) -> dict[date, dict[str, Decimal]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        problems.add("eks.invalid_shape", _("The kilometres must be given per month."), "km")
        return {}
    out: dict[date, dict[str, Decimal]] = {}
    for key, values in raw.items():
        month = _month_in(period, str(key), f"km.{key}", problems)
        if month is None:
            continue
        if not isinstance(values, dict):
            problems.add(
                "eks.invalid_shape", _("The kilometres must be given per month."), f"km.{key}"
            )
            continue
        for kind, value in values.items():
            path = f"km.{key}.{kind}"
            if kind not in KM_KINDS:
                problems.add(
                    "eks.unknown_field", _("Unknown field: {field}").format(field=kind), path
                )
                continue
            if value is None or str(value).strip() == "":
                continue
            number = _decimal(value)
            if number is None:
                problems.add("eks.not_a_number", _("Please enter a number."), path, value)
            elif number < 0:
                problems.add("eks.negative_km", _("Kilometres must not be negative."), path, value)
            elif number > KM_MAX:
                problems.add(
                    "eks.km_too_large",
                    _("More than {max} km in one month is not plausible.").format(max=KM_MAX),
                    path,
                    value,
                )
            else:
                out.setdefault(month, {})[kind] = number.quantize(Decimal("0.01"))
    return out


def _figures(
    form: Form, period: Period, raw: object, problems: _Problems
) -> dict[str, dict[date, Decimal]]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        problems.add("eks.invalid_shape", _("The figures must be given per line."), "figures")
        return {}
    allowed = set(form.input_codes)
    out: dict[str, dict[date, Decimal]] = {}
    for line, months in raw.items():
        if line not in allowed:
            problems.add(
                "eks.unknown_line",
                _("{line} is not a line of the form one can enter figures for.").format(line=line),
                f"figures.{line}",
            )
            continue
        if not isinstance(months, dict):
            problems.add(
                "eks.invalid_shape",
                _("The figures must be given per line."),
                f"figures.{line}",
            )
            continue
        for key, value in months.items():
            path = f"figures.{line}.{key}"
            month = _month_in(period, str(key), path, problems)
            if month is None or value is None or str(value).strip() == "":
                continue
            try:
                out.setdefault(line, {})[month] = parse_money(value, path, allow_negative=True)
            except BelegwerkError as exc:
                problems.catch(path, exc)
    return out


def _deductions(form: Form, raw: object, problems: _Problems) -> list[Deduction]:
    if not raw:
        return []
    if not isinstance(raw, list):
        problems.add("eks.invalid_shape", _("Table C must be a list."), "deductions")
        return []
    kinds = {d.key for d in form.deductions}
    out = []
    for index, item in enumerate(raw):
        path = f"deductions.{index}"
        if not isinstance(item, dict):
            problems.add("eks.invalid_shape", _("Table C must be a list."), path)
            continue
        kind = str(item.get("kind") or "")
        rhythm = str(item.get("rhythm") or "monthly")
        description = str(item.get("description") or "").strip()
        ok = True
        if kind not in kinds:
            problems.add(
                "eks.unknown_deduction",
                _("Unknown kind of deduction: {kind}").format(kind=kind),
                f"{path}.kind",
            )
            ok = False
        if rhythm not in RHYTHMS:
            problems.add(
                "eks.invalid_rhythm",
                _("Unknown payment rhythm: {rhythm}").format(rhythm=rhythm),
                f"{path}.rhythm",
            )
            ok = False
        if len(description) > TEXT_MAX:
            problems.add(
                "eks.text_too_long",
                _("At most {limit} characters, please.").format(limit=TEXT_MAX),
                f"{path}.description",
            )
            ok = False
        try:
            amount = parse_money(item.get("amount"), f"{path}.amount")
        except BelegwerkError as exc:
            problems.catch(f"{path}.amount", exc)
            ok = False
        if ok:
            out.append(Deduction(kind, amount, rhythm, description))
    return out


def _choice(
    raw: dict[str, Any], key: str, allowed: tuple[str, ...], default: str, p: _Problems
) -> str:
    value = str(raw.get(key) if raw.get(key) is not None else default)
    if value not in allowed:
        p.add(
            "eks.invalid_choice",
            _("{value} is not allowed here; allowed: {allowed}.").format(
                value=value, allowed=", ".join(allowed)
            ),
            key,
            value,
        )
        return default
    return value


def _flag(raw: dict[str, Any], key: str, default: bool, problems: _Problems) -> bool:
    flag = _yesno(raw.get(key))
    if flag is None:
        return default
    if flag == "invalid":
        problems.add("eks.invalid_choice", _("Please answer yes or no."), key, raw.get(key))
        return default
    return bool(flag)


def parse_mask(form: Form, period: Period, raw: object) -> Mask:
    """Check a submitted mask; raises one :class:`ValidationFailed` listing every problem."""
    problems = _Problems()
    if not isinstance(raw, dict):
        problems.add("eks.invalid_shape", _("The input must be a JSON object."), "")
        problems.raise_any()
        raise AssertionError  # pragma: no cover - raise_any raised
    known = {"basis", "basis_months", "vat_liable", "car_use", "has_minor_child"}
    known |= {"answers", "deductions", "km", "figures"}
    for key in sorted(set(raw) - known):
        problems.add("eks.unknown_field", _("Unknown field: {field}").format(field=key), key)
    months = _decimal(raw.get("basis_months", 6))
    if months is None or months != months.to_integral_value() or not 1 <= months <= 12:
        problems.add(
            "eks.invalid_basis_months",
            _("The forecast is based on 1 to 12 months of the books."),
            "basis_months",
            raw.get("basis_months"),
        )
        months = Decimal(6)
    mask = Mask(
        basis=_choice(raw, "basis", BASES, "books", problems),
        basis_months=int(months),
        vat_liable=_flag(raw, "vat_liable", True, problems),
        car_use=_choice(raw, "car_use", CAR_USES, "none", problems),
        has_minor_child=_flag(raw, "has_minor_child", False, problems),
        answers=_answers(form, raw.get("answers"), problems),
        deductions=_deductions(form, raw.get("deductions"), problems),
        km=_km(period, raw.get("km"), problems),
        figures=_figures(form, period, raw.get("figures"), problems),
    )
    problems.raise_any()
    return mask


# --------------------------------------------------------------------------- storage


def find_declaration(
    session: Session, tenant_id: int, period: Period, kind: str
) -> EksDeclaration | None:
    return session.scalar(
        select(EksDeclaration).where(
            EksDeclaration.tenant_id == tenant_id,
            EksDeclaration.period_start == period.start,
            EksDeclaration.period_end == period.end,
            EksDeclaration.kind == kind,
        )
    )


def _answers_from_json(form: Form, text: str) -> dict[str, Any]:
    """Stored answers back to their types (dates and amounts are kept as text in JSON)."""
    raw = json.loads(text or "{}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            spec = form.field(key)
        except KeyError:
            continue  # a field of an older form version: not shown any more
        if spec.type == "date":
            out[key] = date.fromisoformat(value)
        elif spec.type in ("money", "decimal"):
            out[key] = Decimal(value)
        else:
            out[key] = value
    return out


def _mask_of(session: Session, form: Form, declaration: EksDeclaration) -> Mask:
    mask = Mask(
        basis=declaration.basis,
        basis_months=declaration.basis_months,
        vat_liable=declaration.vat_liable,
        car_use=declaration.car_use,
        has_minor_child=declaration.has_minor_child,
        answers=_answers_from_json(form, declaration.answers),
    )
    deductions = session.scalars(
        select(EksDeduction)
        .where(EksDeduction.declaration_id == declaration.id)
        .order_by(EksDeduction.position)
    )
    mask.deductions = [Deduction(d.kind, d.amount, d.rhythm, d.description) for d in deductions]
    values = session.scalars(
        select(EksMonthValue).where(EksMonthValue.declaration_id == declaration.id)
    )
    for row in values:
        if row.line.startswith("km_"):
            mask.km.setdefault(row.month, {})[row.line[3:]] = row.value
        else:
            mask.figures.setdefault(row.line, {})[row.month] = row.value
    return mask


@dataclass(frozen=True)
class LoadedMask:
    mask: Mask
    source: str  # saved | same_period | earlier_period | company
    source_period: Period | None = None
    source_kind: str | None = None


def _company_defaults(session: Session, tenant_id: int) -> Mask:
    company = get_company(session, tenant_id)
    street, number = company.street.strip(), ""
    if match := _STREET.match(street):
        street, number = match.group(1), match.group(2)
    answers = {
        "company_name": company.name,
        "street": street,
        "house_number": number,
        "postal_code": company.postal_code,
        "city": company.city,
    }
    return Mask(
        vat_liable=company.vat_regime != "small_business",
        answers={k: v for k, v in answers.items() if v},
    )


def _average_km(source: Mask, period: Period) -> dict[date, dict[str, Decimal]]:
    """The source period's kilometres per month, as the forecast for each new month."""
    if not source.km:
        return {}
    count = Decimal(len(source.km))
    average = {
        kind: (source.km_total(kind) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        for kind in KM_KINDS
    }
    return {m: dict(average) for m in period.months}


def load_mask(
    session: Session, tenant_id: int, form: Form, period: Period, kind: str
) -> LoadedMask:
    """The saved mask, or one pre-filled from the last declaration (the same period's other
    kind first, else the latest other period), or from the company's master data."""
    saved = find_declaration(session, tenant_id, period, kind)
    if saved is not None:
        return LoadedMask(_mask_of(session, form, saved), "saved")
    others = session.scalars(
        select(EksDeclaration)
        .where(EksDeclaration.tenant_id == tenant_id)
        .order_by(EksDeclaration.period_start.desc(), EksDeclaration.updated_at.desc())
    ).all()
    same = [d for d in others if (d.period_start, d.period_end) == (period.start, period.end)]
    source = same[0] if same else (others[0] if others else None)
    if source is None:
        return LoadedMask(_company_defaults(session, tenant_id), "company")
    previous = _mask_of(session, form, source)
    source_period = Period(source.period_start, source.period_end)
    # Euro figures are forecasts or corrections of their own period: never carried over.
    mask = replace(previous, figures={})
    if same:
        mask.km = {m: v for m, v in previous.km.items() if m in period.months}
        return LoadedMask(mask, "same_period", source_period, source.kind)
    # A final declaration states the kilometres actually driven: no guess from another period.
    mask.km = _average_km(previous, period) if kind == "provisional" else {}
    return LoadedMask(mask, "earlier_period", source_period, source.kind)


def save_mask(
    session: Session,
    tenant_id: int,
    period: Period,
    kind: str,
    mask: Mask,
    form: Form,
    actor: str = "local",
) -> EksDeclaration:
    """Store the mask (replacing the period's earlier one) and audit before and after."""
    writer = audit_writer(session, tenant_id, actor)
    declaration = find_declaration(session, tenant_id, period, kind)
    before = to_data(_mask_of(session, form, declaration)) if declaration else None
    now = utcnow()
    if declaration is None:
        declaration = EksDeclaration(
            tenant_id=tenant_id,
            period_start=period.start,
            period_end=period.end,
            kind=kind,
            created_at=now,
            created_by=actor,
        )
        session.add(declaration)
    declaration.basis = mask.basis
    declaration.basis_months = mask.basis_months
    declaration.vat_liable = mask.vat_liable
    declaration.car_use = mask.car_use
    declaration.has_minor_child = mask.has_minor_child
    declaration.answers = json.dumps(
        {k: _plain(v) for k, v in sorted(mask.answers.items())}, ensure_ascii=False
    )
    declaration.updated_at = now
    declaration.updated_by = actor
    session.flush()
    for model in (EksDeduction, EksMonthValue):
        session.execute(delete(model).where(model.declaration_id == declaration.id))
    session.add_all(
        EksDeduction(
            tenant_id=tenant_id,
            declaration_id=declaration.id,
            position=i,
            kind=d.kind,
            description=d.description,
            amount=d.amount,
            rhythm=d.rhythm,
        )
        for i, d in enumerate(mask.deductions)
    )
    values = [
        (f"km_{kind_}", month, value)
        for month, kinds in mask.km.items()
        for kind_, value in kinds.items()
    ] + [
        (line, month, value)
        for line, months in mask.figures.items()
        for month, value in months.items()
    ]
    session.add_all(
        EksMonthValue(
            tenant_id=tenant_id, declaration_id=declaration.id, month=m, line=line, value=v
        )
        for line, m, v in values
    )
    after = to_data(mask)
    if before != after:
        writer.record(
            "create" if before is None else "update",
            "eks_declaration",
            f"{period.key}/{kind}",
            before=before,
            after=after,
        )
    session.flush()
    return declaration
