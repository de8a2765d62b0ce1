"""Customers and suppliers (a party may be both) with DATEV-compatible numbers.

Customer numbers come from the DATEV Debitoren range 10000–69999 and supplier numbers from the
Kreditoren range 70000–99999, so a later DATEV export can use them as Personenkonten unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from belegwerk.books.models import Party
from belegwerk.books.numbers import next_number
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.iban import normalize_bic, normalize_iban
from belegwerk.core.types import utcnow
from belegwerk.tenancy.validation import leitweg_id_valid, normalize_vat_id

ROLES = ("customer", "supplier")
# role -> (number column, number series, first number, last number)
NUMBER_RANGES: dict[str, tuple[str, str, int, int]] = {
    "customer": ("customer_number", "customer", 10000, 69999),
    "supplier": ("supplier_number", "supplier", 70000, 99999),
}
MAX_LENGTHS = {
    "name": 200,
    "street": 200,
    "postal_code": 10,
    "city": 100,
    "email": 200,
    "leitweg_id": 50,
}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
PAGE_SIZE_MAX = 200


@dataclass
class PartyData:
    """Input for a new party; numbers are assigned automatically when left ``None``."""

    name: str
    is_customer: bool = False
    is_supplier: bool = False
    customer_number: int | None = None
    supplier_number: int | None = None
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"
    email: str = ""
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    public_authority: bool = False
    leitweg_id: str = ""


PARTY_FIELDS = tuple(f.name for f in fields(PartyData))


def _too_long(field: str, limit: int) -> ValidationFailed:
    return ValidationFailed(
        "party.field_too_long",
        _("{field} may have at most {n} characters.").format(field=field, n=limit),
        [{"field": field, "max_length": limit}],
    )


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a (partial) set of party fields; raises on the first problem."""
    out = dict(values)
    for key in (*MAX_LENGTHS, "country", "vat_id"):
        if key in out:
            out[key] = str(out[key] or "").strip()
    if "name" in out and not out["name"]:
        raise ValidationFailed(
            "party.name_required", _("The name is missing."), [{"field": "name"}]
        )
    for key, limit in MAX_LENGTHS.items():
        if key in out and len(out[key]) > limit:
            raise _too_long(key, limit)
    if "email" in out and out["email"] and not EMAIL_PATTERN.match(out["email"]):
        raise ValidationFailed(
            "party.invalid_email",
            _("The e-mail address {value} is not valid.").format(value=out["email"]),
            [{"field": "email", "value": out["email"]}],
        )
    if "country" in out:
        out["country"] = out["country"].upper() or "DE"
        if not COUNTRY_PATTERN.match(out["country"]):
            raise ValidationFailed(
                "party.invalid_country",
                _("The country must be a two-letter ISO code such as DE."),
                [{"field": "country", "value": out["country"]}],
            )
    if "vat_id" in out:
        out["vat_id"] = normalize_vat_id(out["vat_id"])
    if "public_authority" in out:
        out["public_authority"] = bool(out["public_authority"])
    if "iban" in out:
        out["iban"] = normalize_iban(str(out["iban"] or ""))
    if "bic" in out:
        out["bic"] = normalize_bic(str(out["bic"] or ""))
    for role, (column, _series, first, last) in NUMBER_RANGES.items():
        number = out.get(column)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int) or not first <= number <= last:
            raise ValidationFailed(
                "party.number_out_of_range",
                _("A {role} number must lie between {first} and {last}.").format(
                    role=_("customer") if role == "customer" else _("supplier"),
                    first=first,
                    last=last,
                ),
                [{"field": column, "value": number, "min": first, "max": last}],
            )
    return out


def _check_leitweg_id(party: Party) -> None:
    """A public authority is invoiced with its Leitweg-ID (E-Rechnungsverordnung); other
    customers may give any buyer reference there."""
    if not party.public_authority:
        return
    if not party.leitweg_id:
        raise ValidationFailed(
            "party.leitweg_id_required",
            _(
                "A public authority needs its Leitweg-ID (e.g. 04011000-12345-03); invoices to "
                "it are addressed with it."
            ),
            [{"field": "leitweg_id"}],
        )
    if not leitweg_id_valid(party.leitweg_id):
        raise ValidationFailed(
            "party.invalid_leitweg_id",
            _(
                "The Leitweg-ID {value} is not valid: it consists of the coarse address "
                "(2–12 digits), an optional fine address (up to 30 letters or digits) and two "
                "check digits, separated by hyphens, e.g. 04011000-12345-03."
            ).format(value=party.leitweg_id),
            [{"field": "leitweg_id", "value": party.leitweg_id}],
        )


def _snapshot(party: Party) -> dict[str, Any]:
    return {f: getattr(party, f) for f in PARTY_FIELDS}


def _number_taken(
    session: Session, tenant_id: int, column: str, number: int, exclude_id: int | None = None
) -> bool:
    attr: InstrumentedAttribute[int | None] = getattr(Party, column)
    query = select(Party.id).where(Party.tenant_id == tenant_id, attr == number)
    if exclude_id is not None:
        query = query.where(Party.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def _taken_error(column: str, number: int) -> Conflict:
    return Conflict(
        "party.number_taken",
        _("The number {number} is already used by another party.").format(number=number),
        [{"field": column, "value": number}],
    )


def _assign_number(session: Session, tenant_id: int, role: str) -> int:
    """Next free number of the role's range; numbers given by hand are skipped."""
    column, series, first, last = NUMBER_RANGES[role]
    while True:
        number = first + next_number(session, tenant_id, series) - 1
        if number > last:
            raise Conflict(
                "party.numbers_exhausted",
                _("No free {role} number is left.").format(
                    role=_("customer") if role == "customer" else _("supplier")
                ),
                [{"field": column}],
            )
        if not _number_taken(session, tenant_id, column, number):
            return number


def _apply_numbers(session: Session, tenant_id: int, party: Party, values: dict[str, Any]) -> None:
    """Check hand-given numbers for duplicates and assign missing ones for the party's roles."""
    for role, (column, *_rest) in NUMBER_RANGES.items():
        has_role = party.is_customer if role == "customer" else party.is_supplier
        given = values.get(column)
        if given is not None:
            if not has_role:
                raise ValidationFailed(
                    "party.number_without_role",
                    _("A {role} number needs the {role} role.").format(
                        role=_("customer") if role == "customer" else _("supplier")
                    ),
                    [{"field": column, "value": given}],
                )
            if given != getattr(party, column) and _number_taken(
                session, tenant_id, column, given, exclude_id=party.id
            ):
                raise _taken_error(column, given)
            setattr(party, column, given)
        elif has_role and getattr(party, column) is None:
            setattr(party, column, _assign_number(session, tenant_id, role))


def _flush(session: Session, party: Party) -> None:
    try:
        session.flush()
    except IntegrityError:
        # A concurrent request took the same number between our check and the insert.
        number = party.customer_number or party.supplier_number or 0
        raise _taken_error("number", number) from None


def _require_role(party: Party) -> None:
    if not (party.is_customer or party.is_supplier):
        raise ValidationFailed(
            "party.no_role",
            _("A party must be a customer, a supplier or both."),
            [{"field": "is_customer"}, {"field": "is_supplier"}],
        )


def create_party(session: Session, tenant_id: int, data: PartyData, actor: str = "local") -> Party:
    values = _validate({f: getattr(data, f) for f in PARTY_FIELDS})
    party = Party(tenant_id=tenant_id)
    for key in PARTY_FIELDS:
        if key not in ("customer_number", "supplier_number"):
            setattr(party, key, values[key])
    _require_role(party)
    _check_leitweg_id(party)
    now = utcnow()
    party.created_at = now
    party.updated_at = now
    _apply_numbers(session, tenant_id, party, values)
    session.add(party)
    _flush(session, party)
    audit_writer(session, tenant_id, actor).record(
        "create", "party", party.id, after=_snapshot(party)
    )
    session.flush()
    return party


def update_party(
    session: Session, tenant_id: int, party_id: int, changes: dict[str, Any], actor: str = "local"
) -> Party:
    """Change some fields; audited with the changed fields before and after."""
    party = get_party(session, tenant_id, party_id)
    unknown = set(changes) - set(PARTY_FIELDS)
    if unknown:
        raise ValidationFailed(
            "party.unknown_field",
            _("Unknown field: {field}").format(field=", ".join(sorted(unknown))),
            [{"field": f} for f in sorted(unknown)],
        )
    values = _validate(changes)
    before = _snapshot(party)
    for key, value in values.items():
        if key in ("customer_number", "supplier_number"):
            continue
        if key in ("is_customer", "is_supplier"):
            value = bool(value)
        setattr(party, key, value)
    _require_role(party)
    _check_leitweg_id(party)
    _apply_numbers(session, tenant_id, party, values)
    after = _snapshot(party)
    changed = [k for k in PARTY_FIELDS if before[k] != after[k]]
    if changed:
        party.updated_at = utcnow()
        _flush(session, party)
        audit_writer(session, tenant_id, actor).record(
            "update",
            "party",
            party.id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    session.flush()
    return party


def get_party(session: Session, tenant_id: int, party_id: int) -> Party:
    return owned_row(
        session,
        Party,
        tenant_id,
        party_id,
        code="party.not_found",
        message=_("Unknown customer or supplier: {id}").format(id=party_id),
        field="party_id",
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(tenant_id: int, role: str | None, q: str | None) -> Select[Any]:
    query = select(Party).where(Party.tenant_id == tenant_id)
    if role is not None:
        if role not in ROLES:
            raise ValidationFailed(
                "party.invalid_role",
                _("Unknown role: {role}. Allowed: {allowed}.").format(
                    role=role, allowed=", ".join(ROLES)
                ),
                [{"field": "role", "value": role}],
            )
        query = query.where(Party.is_customer if role == "customer" else Party.is_supplier)
    text = (q or "").strip()
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        conditions: list[ColumnElement[bool]] = [func.lower(Party.name).like(pattern, escape="\\")]
        if text.isdigit() and len(text) <= 9:
            number = int(text)
            conditions += [Party.customer_number == number, Party.supplier_number == number]
        query = query.where(or_(*conditions))
    return query


def list_parties(
    session: Session,
    tenant_id: int,
    *,
    role: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Party], int]:
    """One page of parties ordered by name; ``q`` matches part of the name or a whole number."""
    page = max(page, 1)
    page_size = min(max(page_size, 1), PAGE_SIZE_MAX)
    query = _filtered(tenant_id, role, q)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows: list[Party] = list(
        session.scalars(
            query.order_by(func.lower(Party.name), Party.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    return rows, total


def _find_by(
    session: Session,
    tenant_id: int,
    column: InstrumentedAttribute[str],
    normalize: Callable[[str], str],
    value: str,
) -> list[Party]:
    """Parties whose identifier equals ``value`` once normalised; invalid input matches none."""
    try:
        normalized = normalize(value)
    except ValidationFailed:
        return []
    if not normalized:
        return []
    return list(
        session.scalars(
            select(Party)
            .where(Party.tenant_id == tenant_id, column == normalized)
            .order_by(Party.id)
        )
    )


def find_by_vat_id(session: Session, tenant_id: int, vat_id: str) -> list[Party]:
    """Parties with this USt-IdNr (any spelling)."""
    return _find_by(session, tenant_id, Party.vat_id, normalize_vat_id, vat_id)


def find_by_iban(session: Session, tenant_id: int, iban: str) -> list[Party]:
    """Parties with this IBAN (spaces and case ignored)."""
    return _find_by(session, tenant_id, Party.iban, normalize_iban, iban)


def find_by_name(session: Session, tenant_id: int, name: str) -> list[Party]:
    """Parties whose name equals ``name`` ignoring case and surrounding blanks."""
    text = name.strip().lower()
    if not text:
        return []
    return list(
        session.scalars(
            select(Party)
            .where(Party.tenant_id == tenant_id, func.lower(Party.name) == text)
            .order_by(Party.id)
        )
    )
