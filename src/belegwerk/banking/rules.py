"""User rules for bank lines: which lines are business, private, withdrawals or deposits, and
which category a business line gets.

A rule has conditions (all given ones must hold) and a result (usage and, for business, an
optional category). Active rules are tried in ``priority`` order (lower first, then by id); the
first that matches wins.

Conditions:

* ``counterparty_pattern`` — tested against the counterparty name.
* ``purpose_pattern`` — tested against the purpose (Verwendungszweck) and, separately, against
  the booking text (Buchungstext); either may match.
* Patterns ignore case (``ß`` equals ``ss``) and runs of spaces. Without wildcards a pattern
  matches anywhere in the text (``telekom`` finds ``Telekom Deutschland GmbH``). With wildcards
  it must match the whole text: ``*`` stands for any characters, ``?`` for exactly one
  (``amazon*`` finds names that start with Amazon, ``*miete ??/2025*`` a rent of any month).
* ``iban`` — the counterparty's IBAN, exactly (spaces and case do not matter).
* ``amount_min`` / ``amount_max`` — bounds on the amount without its sign, both inclusive.
* ``direction`` — ``in`` (money received), ``out`` (money paid) or empty for both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from belegwerk.banking.models import Classification, Rule
from belegwerk.books.categories import get_category
from belegwerk.books.models import Category
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import owned_row
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.iban import normalize_iban
from belegwerk.core.money import parse_money, to_cents

USAGES = ("business", "private", "private_withdrawal", "private_deposit")
DIRECTIONS = ("", "in", "out")
# Private money has its own usages; as a category on a business line it would book twice.
PRIVATE_CATEGORY_KEYS = frozenset({"private_withdrawal", "private_deposit"})
NAME_MAX = 100
PATTERN_MAX = 200
PRIORITY_STEP = 10
PRIORITY_MAX = 1_000_000


@dataclass(frozen=True)
class RuleInput:
    """A rule as entered; ``priority`` None puts a new rule last (on change: keeps it)."""

    name: str
    usage: str = "business"
    category_id: int | None = None
    counterparty_pattern: str = ""
    purpose_pattern: str = ""
    iban: str = ""
    amount_min: Decimal | str | int | None = None
    amount_max: Decimal | str | int | None = None
    direction: str = ""
    active: bool = True
    priority: int | None = None


# --------------------------------------------------------------------------- text matching


def normalize_text(value: str) -> str:
    """Case- and space-insensitive form of a text, the form patterns are compared in."""
    return " ".join(value.split()).casefold()


def _wildcard_regex(normal: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in normal)


def _has_wildcard(normal: str) -> bool:
    return "*" in normal or "?" in normal


def compile_pattern(pattern: str) -> Callable[[str], bool] | None:
    """A test on normalised text; None for an empty pattern (no condition)."""
    p = normalize_text(pattern)
    if not p:
        return None
    if _has_wildcard(p):
        compiled = re.compile(_wildcard_regex(p), re.DOTALL)
        return lambda text: compiled.fullmatch(text) is not None
    return lambda text: p in text


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to test many lines: patterns compiled, bounds in cents."""

    id: int
    usage: str
    category_id: int | None
    counterparty: Callable[[str], bool] | None
    purpose: Callable[[str], bool] | None
    iban: str
    min_cents: int | None
    max_cents: int | None
    direction: str
    counterparty_text: str = ""  # the patterns as entered, for the pre-test of RuleSet
    purpose_text: str = ""

    def amount_fits(self, cents: int) -> bool:
        """Direction and amount range, on the signed amount in cents."""
        if self.direction == "in" and cents <= 0:
            return False
        if self.direction == "out" and cents >= 0:
            return False
        size = -cents if cents < 0 else cents
        if self.min_cents is not None and size < self.min_cents:
            return False
        return self.max_cents is None or size <= self.max_cents

    def matches(self, line: LineText) -> bool:
        if not self.amount_fits(line.cents):
            return False
        if self.iban and line.iban != self.iban:
            return False
        if self.counterparty is not None and not self.counterparty(line.name):
            return False
        return not (
            self.purpose is not None
            and not self.purpose(line.purpose)
            and not self.purpose(line.booking_text)
        )


class LineText:
    """The fields of a bank line that rules test, normalised once and only when asked for."""

    __slots__ = (
        "_booking",
        "_name",
        "_purpose",
        "cents",
        "iban",
        "raw_booking",
        "raw_name",
        "raw_purpose",
    )

    def __init__(self, cents: int, iban: str, name: str, purpose: str, booking_text: str) -> None:
        self.cents = cents
        self.iban = iban
        self.raw_name = name
        self.raw_purpose = purpose
        self.raw_booking = booking_text
        self._name: str | None = None
        self._purpose: str | None = None
        self._booking: str | None = None

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = normalize_text(self.raw_name)
        return self._name

    @property
    def purpose(self) -> str:
        if self._purpose is None:
            self._purpose = normalize_text(self.raw_purpose)
        return self._purpose

    @property
    def booking_text(self) -> str:
        if self._booking is None:
            self._booking = normalize_text(self.raw_booking)
        return self._booking


def compact_iban(value: str) -> str:
    """IBAN as stored by importers may carry spaces or lower case; compare the compact form."""
    return "".join(value.split()).upper()


def compile_rule(rule: Rule) -> CompiledRule:
    return CompiledRule(
        id=rule.id,
        usage=rule.usage,
        category_id=rule.category_id,
        counterparty=compile_pattern(rule.counterparty_pattern),
        purpose=compile_pattern(rule.purpose_pattern),
        iban=compact_iban(rule.iban),
        min_cents=to_cents(rule.amount_min) if rule.amount_min is not None else None,
        max_cents=to_cents(rule.amount_max) if rule.amount_max is not None else None,
        direction=rule.direction,
        counterparty_text=rule.counterparty_pattern,
        purpose_text=rule.purpose_pattern,
    )


def active_rules(session: Session, tenant_id: int) -> list[CompiledRule]:
    """The tenant's active rules in the order they are tried."""
    rows = session.scalars(
        select(Rule)
        .where(Rule.tenant_id == tenant_id, Rule.active.is_(True))
        .order_by(Rule.priority, Rule.id)
    )
    return [compile_rule(r) for r in rows]


def first_match(rules: Sequence[CompiledRule], line: LineText) -> CompiledRule | None:
    """The first rule matching one line (the plain definition; :class:`RuleSet` is the fast
    path for many lines and gives the same answers)."""
    for rule in rules:
        if rule.matches(line):
            return rule
    return None


def _any_pattern(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex that finds a match when any of the patterns matches (a cheap pre-test)."""
    parts = []
    for pattern in patterns:
        p = normalize_text(pattern)
        parts.append(f"^(?:{_wildcard_regex(p)})$" if _has_wildcard(p) else re.escape(p))
    return re.compile("|".join(parts), re.DOTALL) if parts else None


class RuleSet:
    """The active rules prepared for many lines at once.

    Rule *i* (in priority order) is bit *i*. A line's candidates are the bits whose IBAN,
    counterparty and purpose conditions hold, found by dictionary look-ups and masks cached per
    distinct name and booking text (both repeat a lot); amount and direction are checked on the
    remaining candidates, lowest bit first. The answer equals :func:`first_match`.
    """

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = list(rules)
        everything = (1 << len(self.rules)) - 1
        self._no_iban = everything
        self._iban: dict[str, int] = {}
        self._no_name = everything
        self._name_tests: list[tuple[int, Callable[[str], bool]]] = []
        self._no_purpose = everything
        self._purpose_tests: list[tuple[int, Callable[[str], bool]]] = []
        for i, rule in enumerate(self.rules):
            bit = 1 << i
            if rule.iban:
                self._no_iban &= ~bit
                self._iban[rule.iban] = self._iban.get(rule.iban, 0) | bit
            if rule.counterparty is not None:
                self._no_name &= ~bit
                self._name_tests.append((bit, rule.counterparty))
            if rule.purpose is not None:
                self._no_purpose &= ~bit
                self._purpose_tests.append((bit, rule.purpose))
        self._name_any = _any_pattern(
            [r.counterparty_text for r in self.rules if r.counterparty is not None]
        )
        self._purpose_any = _any_pattern(
            [r.purpose_text for r in self.rules if r.purpose is not None]
        )
        self._names: dict[str, int] = {}
        self._texts: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self.rules)

    def _name_mask(self, raw: str) -> int:
        mask = self._names.get(raw)
        if mask is None:
            name = normalize_text(raw)
            mask = self._no_name
            if self._name_any is None or self._name_any.search(name) is not None:
                for bit, test in self._name_tests:
                    if test(name):
                        mask |= bit
            self._names[raw] = mask
        return mask

    def _text_hits(self, raw: str) -> int:
        """Bits of the rules whose purpose pattern matches this text."""
        text = normalize_text(raw)
        if self._purpose_any is not None and self._purpose_any.search(text) is None:
            return 0
        hits = 0
        for bit, test in self._purpose_tests:
            if test(text):
                hits |= bit
        return hits

    def _purpose_mask(self, purpose: str, booking_text: str) -> int:
        if not self._purpose_tests:
            return self._no_purpose
        booked = self._texts.get(booking_text)
        if booked is None:
            booked = self._texts[booking_text] = self._text_hits(booking_text)
        return self._no_purpose | booked | self._text_hits(purpose)

    def first(
        self, cents: int, iban: str, name: str, purpose: str, booking_text: str
    ) -> CompiledRule | None:
        if not self.rules:
            return None
        mask = self._no_iban | self._iban.get(iban, 0) if self._iban else self._no_iban
        mask &= self._name_mask(name)
        if mask:
            mask &= self._purpose_mask(purpose, booking_text)
        while mask:
            low = mask & -mask
            rule = self.rules[low.bit_length() - 1]
            if rule.amount_fits(cents):
                return rule
            mask ^= low
        return None


def rule_set(session: Session, tenant_id: int) -> RuleSet:
    """The tenant's active rules, prepared for a run over many lines."""
    return RuleSet(active_rules(session, tenant_id))


# --------------------------------------------------------------------------- validation


def _fail(code: str, message: str, field: str, value: object = None) -> ValidationFailed:
    detail: dict[str, Any] = {"field": field}
    if value is not None:
        detail["value"] = str(value)
    return ValidationFailed(code, message, [detail])


def check_usage(usage: str, field: str = "usage") -> str:
    if usage not in USAGES:
        raise _fail(
            "bank.invalid_usage",
            _(
                "Unknown usage {usage}. Allowed: business, private, private_withdrawal, "
                "private_deposit."
            ).format(usage=usage),
            field,
            usage,
        )
    return usage


def check_category_for_usage(
    session: Session, usage: str, category_id: int | None, field: str = "category_id"
) -> Category | None:
    """A category belongs only to business lines; private money is said by the usage."""
    if category_id is None:
        return None
    category = get_category(session, category_id)
    if usage != "business":
        raise _fail(
            "bank.category_not_business",
            _("Only business transactions get a category."),
            field,
            category_id,
        )
    if category.key in PRIVATE_CATEGORY_KEYS:
        raise _fail(
            "bank.category_is_private",
            _("Private withdrawals and deposits are marked by their usage, not by a category."),
            field,
            category_id,
        )
    return category


def _clean(data: RuleInput, session: Session) -> dict[str, Any]:
    name = (data.name or "").strip()
    if not name:
        raise _fail("bank.rule_name_missing", _("Please give the rule a name."), "name")
    if len(name) > NAME_MAX:
        raise _fail(
            "bank.rule_name_too_long",
            _("The name may have at most {n} characters.").format(n=NAME_MAX),
            "name",
        )
    patterns: dict[str, str] = {}
    for field in ("counterparty_pattern", "purpose_pattern"):
        value = " ".join((getattr(data, field) or "").split())
        if len(value) > PATTERN_MAX:
            raise _fail(
                "bank.rule_pattern_too_long",
                _("A pattern may have at most {n} characters.").format(n=PATTERN_MAX),
                field,
            )
        if value and not value.strip("*?"):
            raise _fail(
                "bank.rule_pattern_only_wildcards",
                _("A pattern of wildcards alone matches everything; leave it empty instead."),
                field,
                value,
            )
        patterns[field] = value
    iban = normalize_iban(data.iban or "", "iban")
    bounds: dict[str, Decimal | None] = {}
    for field in ("amount_min", "amount_max"):
        value = getattr(data, field)
        bounds[field] = None if value is None or value == "" else parse_money(value, field)
    low, high = bounds["amount_min"], bounds["amount_max"]
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            "bank.rule_amount_range",
            _("The lowest amount must not be above the highest amount."),
            [{"field": "amount_min", "value": str(low), "amount_max": str(high)}],
        )
    direction = data.direction or ""
    if direction not in DIRECTIONS:
        raise _fail(
            "bank.rule_invalid_direction",
            _("The direction must be in (money received), out (money paid) or empty."),
            "direction",
            direction,
        )
    usage = check_usage(data.usage)
    if (usage == "private_withdrawal" and direction == "in") or (
        usage == "private_deposit" and direction == "out"
    ):
        raise _fail(
            "bank.rule_usage_direction",
            _("A private withdrawal is money paid out, a private deposit money received."),
            "direction",
            direction,
        )
    check_category_for_usage(session, usage, data.category_id)
    has_condition = any(patterns.values()) or iban or low is not None or high is not None
    if not has_condition and not direction:
        raise _fail(
            "bank.rule_without_condition",
            _("A rule needs at least one condition (name, purpose, IBAN, amount or direction)."),
            "counterparty_pattern",
        )
    if data.priority is not None and not 0 <= data.priority <= PRIORITY_MAX:
        raise _fail(
            "bank.rule_invalid_priority",
            _("The priority must be a whole number from 0 to {max}.").format(max=PRIORITY_MAX),
            "priority",
            data.priority,
        )
    return {
        "name": name,
        **patterns,
        "iban": iban,
        "amount_min": low,
        "amount_max": high,
        "direction": direction,
        "usage": usage,
        "category_id": data.category_id,
        "active": bool(data.active),
    }


def snapshot(rule: Rule) -> dict[str, Any]:
    return {
        "priority": rule.priority,
        "name": rule.name,
        "counterparty_pattern": rule.counterparty_pattern,
        "purpose_pattern": rule.purpose_pattern,
        "iban": rule.iban,
        "amount_min": rule.amount_min,
        "amount_max": rule.amount_max,
        "direction": rule.direction,
        "usage": rule.usage,
        "category_id": rule.category_id,
        "active": rule.active,
    }


# --------------------------------------------------------------------------- CRUD


def list_rules(session: Session, tenant_id: int) -> list[Rule]:
    return list(
        session.scalars(
            select(Rule).where(Rule.tenant_id == tenant_id).order_by(Rule.priority, Rule.id)
        )
    )


def get_rule(session: Session, tenant_id: int, rule_id: int, *, for_update: bool = False) -> Rule:
    return owned_row(
        session,
        Rule,
        tenant_id,
        rule_id,
        code="bank.rule_not_found",
        message=_("Rule {id} not found.").format(id=rule_id),
        field="rule_id",
        for_update=for_update,
    )


def _next_priority(session: Session, tenant_id: int) -> int:
    highest = session.scalar(select(func.max(Rule.priority)).where(Rule.tenant_id == tenant_id))
    return min((highest or 0) + PRIORITY_STEP, PRIORITY_MAX)


def create_rule(session: Session, tenant_id: int, data: RuleInput, actor: str = "local") -> Rule:
    values = _clean(data, session)
    priority = data.priority if data.priority is not None else _next_priority(session, tenant_id)
    rule = Rule(tenant_id=tenant_id, priority=priority, **values)
    session.add(rule)
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "create", "bank_rule", rule.id, after=snapshot(rule)
    )
    return rule


def update_rule(
    session: Session, tenant_id: int, rule_id: int, data: RuleInput, actor: str = "local"
) -> Rule:
    """Replace a rule's conditions and result; suggestions already made stay as they are."""
    rule = get_rule(session, tenant_id, rule_id, for_update=True)
    values = _clean(data, session)
    if data.priority is not None:
        values["priority"] = data.priority
    before = snapshot(rule)
    for key, value in values.items():
        setattr(rule, key, value)
    after = snapshot(rule)
    if after != before:
        session.flush()
        audit_writer(session, tenant_id, actor).record(
            "update", "bank_rule", rule.id, before=before, after=after
        )
    return rule


def delete_rule(session: Session, tenant_id: int, rule_id: int, actor: str = "local") -> None:
    """Remove a rule; classifications it suggested keep their answer but lose the link."""
    rule = get_rule(session, tenant_id, rule_id, for_update=True)
    session.execute(
        update(Classification)
        .where(Classification.tenant_id == tenant_id, Classification.rule_id == rule.id)
        .values(rule_id=None)
    )
    audit_writer(session, tenant_id, actor).record(
        "delete", "bank_rule", rule.id, before=snapshot(rule)
    )
    session.delete(rule)
    session.flush()


def reorder_rules(
    session: Session, tenant_id: int, ids: Sequence[int], actor: str = "local"
) -> list[Rule]:
    """Put the rules in the given order (first is tried first); ``ids`` names every rule once."""
    rules = {r.id: r for r in list_rules(session, tenant_id)}
    given = list(ids)
    if len(set(given)) != len(given):
        raise _fail("bank.rule_order_duplicate", _("A rule appears twice in the order."), "ids")
    unknown = [i for i in given if i not in rules]
    if unknown:
        raise ValidationFailed(
            "bank.rule_not_found",
            _("Rule {id} not found.").format(id=unknown[0]),
            [{"field": "ids", "value": i} for i in unknown],
        )
    missing = sorted(set(rules) - set(given))
    if missing:
        raise ValidationFailed(
            "bank.rule_order_incomplete",
            _("The new order must list every rule; missing: {ids}.").format(
                ids=", ".join(str(i) for i in missing)
            ),
            [{"field": "ids", "value": i} for i in missing],
        )
    before = {str(r.id): r.priority for r in rules.values()}
    for position, rule_id in enumerate(given, start=1):
        rules[rule_id].priority = position * PRIORITY_STEP
    after = {str(r.id): r.priority for r in rules.values()}
    if after != before:
        session.flush()
        audit_writer(session, tenant_id, actor).record(
            "reorder", "bank_rule", "order", before=before, after=after
        )
    return [rules[i] for i in given]
