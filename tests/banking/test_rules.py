"""User rules: every condition, priority order, validation, audit, REST."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from belegwerk.banking.classify import suggest
from belegwerk.banking.models import BankTransaction, ImportBatch, Rule
from belegwerk.banking.rules import (
    LineText,
    RuleInput,
    RuleSet,
    active_rules,
    compile_pattern,
    compile_rule,
    create_rule,
    delete_rule,
    first_match,
    list_rules,
    reorder_rules,
    rule_set,
    update_rule,
)
from belegwerk.core.errors import NotFound, ValidationFailed
from tests.banking.classify_helpers import (
    add_tx,
    audit_actions,
    cat,
    classification,
    make_account,
    make_batch,
    with_bank_routes,
)

D = Decimal
IBAN = "DE89370400440532013000"


def _batch(session: Session, tenant_id: int) -> ImportBatch:
    return make_batch(session, tenant_id, make_account(session, tenant_id, "mixed"))


def _line(tx: BankTransaction) -> LineText:
    return LineText(
        int(tx.amount * 100),
        tx.counterparty_iban,
        tx.counterparty_name,
        tx.purpose,
        tx.booking_text,
    )


def _winner(session: Session, tenant_id: int, tx: BankTransaction) -> int | None:
    rule = first_match(active_rules(session, tenant_id), _line(tx))
    fast = rule_set(session, tenant_id).first(
        int(tx.amount * 100),
        tx.counterparty_iban,
        tx.counterparty_name,
        tx.purpose,
        tx.booking_text,
    )
    assert (fast.id if fast else None) == (rule.id if rule else None)
    return rule.id if rule else None


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("telekom", "telekom deutschland gmbh", True),
        ("TELEKOM  Deutschland", "telekom deutschland gmbh", True),
        ("straße", "hauptstrasse 1", True),
        ("telekom*", "telekom deutschland gmbh", True),
        ("*gmbh", "telekom deutschland gmbh", True),
        ("telekom*", "die telekom", False),
        ("miete ??/2025", "miete 05/2025", True),
        ("miete ??/2025", "miete 5/2025", False),
        ("a.b", "axb", False),
        ("", "anything", None),
    ],
)
def test_patterns(pattern: str, text: str, expected: bool | None) -> None:
    test = compile_pattern(pattern)
    if expected is None:
        assert test is None
    else:
        assert test is not None and test(text) is expected


def test_each_condition(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)

    def rule(**kw: Any) -> int:
        return create_rule(session, tenant_id, RuleInput(name="r", **kw)).id

    by_name = rule(counterparty_pattern="stadtwerke*")
    by_purpose = rule(purpose_pattern="beitrag ihk")
    by_iban = rule(iban="de89 3704 0044 0532 0130 00")
    by_range = rule(amount_min="100", amount_max="200", direction="out")
    by_in = rule(direction="in", amount_min="5000")

    def line(amount: str, name: str = "", purpose: str = "", **kw: Any) -> BankTransaction:
        return add_tx(session, tenant_id, batch, amount, name, purpose, **kw)

    assert _winner(session, tenant_id, line("-50", "Stadtwerke Köln", "Strom")) == by_name
    assert _winner(session, tenant_id, line("-50", "Die Stadtwerke", "Strom")) is None
    assert _winner(session, tenant_id, line("-50", "IHK", "Beitrag  IHK 2025")) == by_purpose
    # The purpose pattern also looks at the booking text.
    assert _winner(session, tenant_id, line("-50", "X", "", booking_text="BEITRAG IHK")) == (
        by_purpose
    )
    assert _winner(session, tenant_id, line("-50", "Y", "z", iban=IBAN)) == by_iban
    assert _winner(session, tenant_id, line("-100.00", "Y")) == by_range
    assert _winner(session, tenant_id, line("-200.00", "Y")) == by_range
    assert _winner(session, tenant_id, line("-200.01", "Y")) is None
    assert _winner(session, tenant_id, line("-99.99", "Y")) is None
    assert _winner(session, tenant_id, line("150.00", "Y")) is None  # wrong direction
    assert _winner(session, tenant_id, line("5000.00", "Y")) == by_in
    assert _winner(session, tenant_id, line("-5000.00", "Y")) is None


def test_all_conditions_must_hold(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    both = create_rule(
        session,
        tenant_id,
        RuleInput(name="r", counterparty_pattern="hetzner", amount_max="50", direction="out"),
    ).id
    ok = add_tx(session, tenant_id, batch, "-49.00", "Hetzner Online", "Server")
    big = add_tx(session, tenant_id, batch, "-51.00", "Hetzner Online", "Server")
    assert _winner(session, tenant_id, ok) == both
    assert _winner(session, tenant_id, big) is None


def test_priority_first_match_and_reorder(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    telecom, office = cat(session, "telecom"), cat(session, "office_supplies")
    broad = create_rule(
        session, tenant_id, RuleInput(name="Amazon", counterparty_pattern="amazon", usage="private")
    )
    narrow = create_rule(
        session,
        tenant_id,
        RuleInput(
            name="AWS", counterparty_pattern="amazon", purpose_pattern="aws", category_id=telecom
        ),
    )
    inactive = create_rule(
        session,
        tenant_id,
        RuleInput(name="off", counterparty_pattern="amazon", category_id=office, active=False),
    )
    assert [r.priority for r in list_rules(session, tenant_id)] == [10, 20, 30]
    tx = add_tx(session, tenant_id, batch, "-30.00", "Amazon Web Services", "AWS invoice")
    assert _winner(session, tenant_id, tx) == broad.id
    reorder_rules(session, tenant_id, [inactive.id, narrow.id, broad.id])
    assert [r.id for r in list_rules(session, tenant_id)] == [inactive.id, narrow.id, broad.id]
    assert _winner(session, tenant_id, tx) == narrow.id  # the inactive one is skipped
    suggest(session, tenant_id, [tx.id])
    c = classification(session, tenant_id, tx.id)
    assert c is not None
    assert (c.usage, c.category_id, c.rule_id) == ("business", telecom, narrow.id)

    with pytest.raises(ValidationFailed) as err:
        reorder_rules(session, tenant_id, [narrow.id, broad.id])
    assert err.value.code == "bank.rule_order_incomplete"
    with pytest.raises(ValidationFailed) as err:
        reorder_rules(session, tenant_id, [narrow.id, narrow.id, broad.id, inactive.id])
    assert err.value.code == "bank.rule_order_duplicate"
    with pytest.raises(ValidationFailed) as err:
        reorder_rules(session, tenant_id, [narrow.id, broad.id, inactive.id, 999_999])
    assert err.value.code == "bank.rule_not_found"


def test_update_delete_and_audit(session: Session, tenant_id: int) -> None:
    batch = _batch(session, tenant_id)
    rule = create_rule(session, tenant_id, RuleInput(name="Miete", purpose_pattern="miete"))
    tx = add_tx(session, tenant_id, batch, "-700.00", "Vermieter", "Miete Mai")
    suggest(session, tenant_id, [tx.id])
    update_rule(
        session,
        tenant_id,
        rule.id,
        RuleInput(name="Miete Büro", purpose_pattern="miete", category_id=cat(session, "rent")),
    )
    assert rule.priority == 10 and rule.category_id == cat(session, "rent")
    delete_rule(session, tenant_id, rule.id)
    assert list_rules(session, tenant_id) == []
    c = classification(session, tenant_id, tx.id)
    assert c is not None and c.rule_id is None and c.source == "rule"
    actions = [e.action for e in audit_actions(session, tenant_id, "bank_rule")]
    assert actions == ["create", "update", "delete"]
    with pytest.raises(NotFound):
        delete_rule(session, tenant_id, rule.id)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": " "}, "bank.rule_name_missing"),
        ({"name": "x" * 101}, "bank.rule_name_too_long"),
        ({"counterparty_pattern": ""}, "bank.rule_without_condition"),
        ({"counterparty_pattern": "**"}, "bank.rule_pattern_only_wildcards"),
        ({"purpose_pattern": "x" * 201}, "bank.rule_pattern_too_long"),
        ({"usage": "privat"}, "bank.invalid_usage"),
        ({"direction": "both"}, "bank.rule_invalid_direction"),
        ({"usage": "private_withdrawal", "direction": "in"}, "bank.rule_usage_direction"),
        ({"usage": "private_deposit", "direction": "out"}, "bank.rule_usage_direction"),
        ({"amount_min": "20", "amount_max": "10"}, "bank.rule_amount_range"),
        ({"amount_min": "1.234"}, "money.too_many_decimals"),
        ({"amount_max": "-5"}, "money.negative"),
        ({"amount_max": "viel"}, "money.not_a_number"),
        ({"iban": "DE00 1234"}, "iban.invalid"),
        ({"priority": -1}, "bank.rule_invalid_priority"),
        ({"usage": "private", "category_key": "telecom"}, "bank.category_not_business"),
        ({"category_key": "private_deposit"}, "bank.category_is_private"),
    ],
)
def test_invalid_rules(session: Session, tenant_id: int, fields: dict[str, Any], code: str) -> None:
    values: dict[str, Any] = {"name": "Regel", "counterparty_pattern": "x", **fields}
    key = values.pop("category_key", None)
    if key:
        values["category_id"] = cat(session, key)
    with pytest.raises(ValidationFailed) as err:
        create_rule(session, tenant_id, RuleInput(**values))
    assert err.value.code == code
    assert list_rules(session, tenant_id) == []


def test_api_roundtrip(session: Session, tenant_id: int, client: Any) -> None:
    c = with_bank_routes(client)
    rent = cat(session, "rent")
    r = c.post(
        "/api/v1/bank/rules",
        json={"name": "Miete", "purpose_pattern": "miete*", "category_id": rent, "amount_min": 500},
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["amount_min"] == "500.00" and first["priority"] == 10
    second = c.post(
        "/api/v1/bank/rules", json={"name": "Privat", "iban": IBAN, "usage": "private"}
    ).json()
    assert [x["id"] for x in c.get("/api/v1/bank/rules").json()] == [first["id"], second["id"]]

    r = c.post("/api/v1/bank/rules/reorder", json={"ids": [second["id"], first["id"]]})
    assert r.status_code == 200 and [x["priority"] for x in r.json()] == [10, 20]
    r = c.put(
        f"/api/v1/bank/rules/{first['id']}",
        json={"name": "Miete Büro", "purpose_pattern": "miete*", "active": False},
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["category_id"] is None and r.json()["priority"] == 20
    assert c.get(f"/api/v1/bank/rules/{first['id']}").json()["name"] == "Miete Büro"

    r = c.post("/api/v1/bank/rules", json={"name": "leer"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "bank.rule_without_condition"
    assert r.json()["error"]["details"][0]["field"] == "counterparty_pattern"
    r = c.post("/api/v1/bank/rules", json={"name": "x", "direction": "rein"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bank.rule_invalid_direction"
    r = c.post("/api/v1/bank/rules", json={"name": "x", "iban": IBAN, "foo": 1})
    assert r.status_code == 422
    r = c.post("/api/v1/bank/rules/reorder", json={"ids": [first["id"]]})
    assert r.status_code == 422

    assert c.delete(f"/api/v1/bank/rules/{first['id']}").status_code == 204
    assert c.delete(f"/api/v1/bank/rules/{first['id']}").status_code == 404
    assert c.put(f"/api/v1/bank/rules/{first['id']}", json={"name": "x"}).status_code == 404
    assert [x["id"] for x in c.get("/api/v1/bank/rules").json()] == [second["id"]]


def test_rule_set_agrees_with_the_plain_definition() -> None:
    """The fast path (bit masks, caches, pre-tests) answers like trying rule after rule."""
    rnd = random.Random(3)
    words = ["miete", "telekom", "amazon", "rewe", "gmbh", "büro", "strasse", "abo", "05/2025"]
    ibans = ["DE89370400440532013000", "DE02100100100006820101", ""]

    def pattern() -> str:
        if rnd.random() < 0.5:
            return ""
        word = rnd.choice(words)
        return rnd.choice([word, f"{word}*", f"*{word}*", f"*{word}", word.upper()])

    sources = []
    for i in range(12):
        low = rnd.choice([None, D(rnd.randint(0, 50))])
        sources.append(
            Rule(
                id=i + 1,
                priority=i,
                name=f"r{i}",
                counterparty_pattern=pattern(),
                purpose_pattern=pattern(),
                iban=rnd.choice([*ibans, "", ""]),
                amount_min=low,
                amount_max=rnd.choice([None, (low or D(0)) + rnd.randint(0, 80)]),
                direction=rnd.choice(["", "", "in", "out"]),
                usage="business",
            )
        )
    compiled = [compile_rule(r) for r in sources]
    fast = RuleSet(compiled)
    hits = 0
    for _ in range(3000):
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 3)))
        line = LineText(
            rnd.randint(-10000, 10000),
            rnd.choice(ibans),
            rnd.choice([text, text.title(), "Strasse " + text, "Büro  " + text]),
            rnd.choice([text, "", "Miete 05/2025"]),
            rnd.choice(["", "ABO", "Dauerauftrag"]),
        )
        expected = first_match(compiled, line)
        got = fast.first(line.cents, line.iban, line.raw_name, line.raw_purpose, line.raw_booking)
        assert got is expected
        hits += expected is not None
    assert hits > 300
