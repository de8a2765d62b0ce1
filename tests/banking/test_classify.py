"""Business or private: suggestions (keywords, rules, memory, classifier), accept-all, decisions
with audit, and the REST routes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking import learn
from belegwerk.banking.classify import (
    accept_all,
    decide,
    normalize_name,
    suggest,
    suggest_for_batch,
)
from belegwerk.banking.models import Classification, ImportBatch
from belegwerk.banking.rules import RuleInput, create_rule
from belegwerk.core.audit import verify_chain
from belegwerk.core.db import session_factory
from belegwerk.core.errors import NotFound, ValidationFailed
from tests.banking.classify_helpers import (
    add_many,
    add_tx,
    audit_actions,
    cat,
    classification,
    make_account,
    make_batch,
    postings,
    tx_row,
    with_bank_routes,
)

D = Decimal

GROCERS = ["Rewe", "Edeka", "Aldi Sued", "Lidl", "Penny", "Netto", "Kaufland", "Tegut"]
SOFTWARE = ["Adobe", "Jetbrains", "Github", "Atlassian", "Dropbox", "Hetzner", "Ionos", "Zoom"]


def _mixed_batch(session: Session, tenant_id: int) -> ImportBatch:
    return make_batch(session, tenant_id, make_account(session, tenant_id, "mixed"))


def _history(session: Session, tenant_id: int, batch: ImportBatch, n: int = 40) -> None:
    """n confirmed decisions: half private groceries, half business software (office)."""
    office = cat(session, "office_supplies")
    for i in range(n):
        if i % 2 == 0:
            shop = GROCERS[i // 2 % len(GROCERS)]
            tx = add_tx(
                session,
                tenant_id,
                batch,
                f"-{20 + i}.35",
                f"{shop} Filiale {i}",
                "Einkauf Lebensmittel Supermarkt Kartenzahlung",
            )
            decide(session, tenant_id, tx.id, "private")
        else:
            vendor = SOFTWARE[i // 2 % len(SOFTWARE)]
            tx = add_tx(
                session,
                tenant_id,
                batch,
                f"-{30 + i}.00",
                f"{vendor} Ltd {i}",
                "Software Lizenz Abo Cloud Rechnung",
            )
            decide(session, tenant_id, tx.id, "business", office)


# --------------------------------------------------------------------------- keywords


def test_keywords(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    out = add_tx(session, tenant_id, batch, "-500.00", "Max Muster", "Privatentnahme Mai")
    dep = add_tx(session, tenant_id, batch, "300.00", "Max Muster", "PRIVATEINLAGE")
    bare = add_tx(session, tenant_id, batch, "200.00", "Max Muster", "Einlage Kapital")
    word = add_tx(session, tenant_id, batch, "-80.00", "", "", booking_text="Privat-Entnahme")
    flipped = add_tx(session, tenant_id, batch, "40.00", "Max Muster", "Rueckbuchung Entnahme")
    savings = add_tx(session, tenant_id, batch, "-1000.00", "Tagesgeld", "Spareinlage")
    atm = add_tx(session, tenant_id, batch, "-50.00", "", "Barentnahme Automat")
    assert suggest_for_batch(session, tenant_id, batch.id) == 5

    def got(tx_id: int) -> tuple[str, str, Decimal] | None:
        c = classification(session, tenant_id, tx_id)
        return (c.usage, c.source, c.confidence) if c else None

    assert got(out.id) == ("private_withdrawal", "keyword", D("0.95"))
    assert got(dep.id) == ("private_deposit", "keyword", D("0.95"))
    assert got(bare.id) == ("private_deposit", "keyword", D("0.80"))
    assert got(word.id) == ("private_withdrawal", "keyword", D("0.95"))
    # Private money coming back in is a deposit whatever the word says.
    assert got(flipped.id) == ("private_deposit", "keyword", D("0.80"))
    # Words inside other words do not count; on a mixed account nothing else is known.
    assert got(savings.id) is None
    assert got(atm.id) is None
    c = classification(session, tenant_id, out.id)
    assert c is not None and c.confirmed is False and c.category_id is None


def test_keywords_among_many_lines(session: Session, tenant_id: int) -> None:
    """Keywords are looked for in all lines at once; letters a case-insensitive search takes
    for others (dotless ı, İ, long ſ) are found as before."""
    batch = _mixed_batch(session, tenant_id)
    add_many(
        session,
        [
            tx_row(tenant_id, batch, "-10.00", "Laden", f"Einkauf {i} Kundenkonto")
            for i in range(400)
        ],
    )
    dotless = add_tx(session, tenant_id, batch, "100.00", "Max Muster", "Privateınlage")
    dotted = add_tx(session, tenant_id, batch, "-100.00", "Max Muster", "PRİVAT-ENTNAHME")
    fee = add_tx(session, tenant_id, batch, "-9.90", "Bank", "Rechnungsabſchluss 03/2025")
    word = add_tx(session, tenant_id, batch, "-5.00", "Bank", "Entgelte fuer\tdas Konto")
    assert suggest_for_batch(session, tenant_id, batch.id) == 4
    usage = {
        tx.id: classification(session, tenant_id, tx.id) for tx in (dotless, dotted, fee, word)
    }
    assert usage[dotless.id] is not None and usage[dotless.id].usage == "private_deposit"
    assert usage[dotted.id] is not None and usage[dotted.id].usage == "private_withdrawal"
    fees = cat(session, "bank_fees")
    for line in (fee, word):
        found = usage[line.id]
        assert found is not None and (found.source, found.category_id) == ("keyword", fees)


def test_business_account_default_and_withdrawal(session: Session, tenant_id: int) -> None:
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    plain = add_tx(session, tenant_id, batch, "-12.00", "Telekom", "Rechnung 4711")
    out = add_tx(session, tenant_id, batch, "-900.00", "Ich", "Privatentnahme")
    fee = add_tx(session, tenant_id, batch, "-7.90", "", "Kontoführungsentgelt 04/2025")
    create_rule(
        session,
        tenant_id,
        RuleInput(name="Supermarkt", counterparty_pattern="rewe", usage="private"),
    )
    shop = add_tx(session, tenant_id, batch, "-31.20", "REWE Markt", "Einkauf")
    assert suggest_for_batch(session, tenant_id, batch.id) == 4
    c = classification(session, tenant_id, plain.id)
    assert c is not None and (c.usage, c.source, c.category_id) == ("business", "default", None)
    c = classification(session, tenant_id, out.id)
    assert c is not None and (c.usage, c.source) == ("private_withdrawal", "keyword")
    c = classification(session, tenant_id, fee.id)
    assert c is not None
    assert (c.usage, c.source, c.category_id) == ("business", "keyword", cat(session, "bank_fees"))
    # "private" on a business account: the money left the business, a withdrawal.
    c = classification(session, tenant_id, shop.id)
    assert c is not None and (c.usage, c.source) == ("private_withdrawal", "rule")


def test_rule_sets_usage_and_category(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    telecom = cat(session, "telecom")
    rule = create_rule(
        session,
        tenant_id,
        RuleInput(name="Telekom", counterparty_pattern="telekom", category_id=telecom),
    )
    tx = add_tx(session, tenant_id, batch, "-39.99", "Telekom Deutschland GmbH", "Rechnung")
    # Explicit words beat rules.
    word = add_tx(session, tenant_id, batch, "-39.99", "Telekom", "Privatentnahme")
    suggest_for_batch(session, tenant_id, batch.id)
    c = classification(session, tenant_id, tx.id)
    assert c is not None
    assert (c.usage, c.category_id, c.source, c.rule_id, c.confidence) == (
        "business",
        telecom,
        "rule",
        rule.id,
        D("1.0000"),
    )
    c = classification(session, tenant_id, word.id)
    assert c is not None and c.source == "keyword"


# --------------------------------------------------------------------------- memory


def test_memory_per_counterparty(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    insurance = cat(session, "insurance")
    first = add_tx(
        session, tenant_id, batch, "-80.00", "Allianz AG", "Beitrag", iban="DE02100100100006820101"
    )
    decide(session, tenant_id, first.id, "business", insurance)
    by_name = add_tx(session, tenant_id, batch, "-25.00", "Café Krümel", "Kaffee")
    decide(session, tenant_id, by_name.id, "private")

    batch2 = make_batch(session, tenant_id, make_account(session, tenant_id, "mixed"))
    same_iban = add_tx(
        session,
        tenant_id,
        batch2,
        "-80.00",
        "ALLIANZ VERSICHERUNG",
        "Beitrag 06",
        iban="DE02100100100006820101",
    )
    same_name = add_tx(session, tenant_id, batch2, "-9.00", "CAFE KRÜMEL", "Kaffee 2")
    other = add_tx(session, tenant_id, batch2, "-9.00", "Café Krümelmonster", "x")
    assert suggest_for_batch(session, tenant_id, batch2.id) == 2
    c = classification(session, tenant_id, same_iban.id)
    assert c is not None
    assert (c.usage, c.category_id, c.source, c.confidence) == (
        "business",
        insurance,
        "memory",
        D("0.9"),
    )
    c = classification(session, tenant_id, same_name.id)
    assert c is not None and (c.usage, c.source) == ("private", "memory")
    assert classification(session, tenant_id, other.id) is None
    assert normalize_name(" Café-Krümel ") == normalize_name("CAFÉ KRÜMEL")


def test_memory_takes_the_last_decision_and_its_share(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    decisions = ["private", "business", "business", "private"]
    for usage in decisions:
        tx = add_tx(session, tenant_id, batch, "-10.00", "Amazon EU", "Bestellung")
        decide(session, tenant_id, tx.id, usage)
    new = add_tx(session, tenant_id, batch, "-10.00", "Amazon EU", "Bestellung")
    suggest(session, tenant_id, [new.id])
    c = classification(session, tenant_id, new.id)
    assert c is not None and (c.usage, c.source, c.confidence) == ("private", "memory", D("0.45"))


def test_memory_beats_the_classifier(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    _history(session, tenant_id, batch)
    office = cat(session, "office_supplies")
    # This grocer's lines are business for this user (canteen supplies), although they read
    # like the private groceries the classifier learned.
    known = add_tx(
        session,
        tenant_id,
        batch,
        "-44.10",
        "Metro Cash",
        "Einkauf Lebensmittel Supermarkt Kartenzahlung",
        iban="DE89370400440532013000",
    )
    decide(session, tenant_id, known.id, "business", office)
    new = add_tx(
        session,
        tenant_id,
        batch,
        "-51.00",
        "Metro Cash",
        "Einkauf Lebensmittel Supermarkt Kartenzahlung",
        iban="DE89370400440532013000",
    )
    stranger = add_tx(
        session,
        tenant_id,
        batch,
        "-51.00",
        "Markthalle Nord",
        "Einkauf Lebensmittel Supermarkt Kartenzahlung",
    )
    assert suggest(session, tenant_id, [new.id, stranger.id]) == 2
    c = classification(session, tenant_id, new.id)
    assert c is not None and (c.usage, c.category_id, c.source) == ("business", office, "memory")
    c = classification(session, tenant_id, stranger.id)
    assert c is not None and (c.usage, c.source) == ("private", "classifier")


# --------------------------------------------------------------------------- classifier


def test_classifier_learns_from_history(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    _history(session, tenant_id, batch, 40)
    office = cat(session, "office_supplies")
    batch2 = make_batch(session, tenant_id, make_account(session, tenant_id, "mixed"))
    food = add_tx(
        session, tenant_id, batch2, "-27.80", "Frischemarkt Sonnenschein", "Supermarkt Einkauf"
    )
    tool = add_tx(
        session, tenant_id, batch2, "-49.00", "Notion Labs Inc", "Cloud Abo Lizenz Software"
    )
    assert suggest_for_batch(session, tenant_id, batch2.id) == 2
    c = classification(session, tenant_id, food.id)
    assert c is not None and (c.usage, c.category_id, c.source) == ("private", None, "classifier")
    assert c.confidence >= D("0.5")
    c = classification(session, tenant_id, tool.id)
    assert c is not None
    assert (c.usage, c.category_id, c.source) == ("business", office, "classifier")
    assert c.confidence >= D("0.5")


def test_classifier_needs_enough_examples(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    _history(session, tenant_id, batch, 18)
    assert learn.model_for(session, tenant_id) is None
    new = add_tx(session, tenant_id, batch, "-27.80", "Frischemarkt", "Supermarkt Einkauf")
    assert suggest(session, tenant_id, [new.id]) == 0
    # Two more decisions make 20: now a model exists, and the cached one is replaced.
    _history_more = add_tx(session, tenant_id, batch, "-3.00", "Kiosk", "Zeitung")
    decide(session, tenant_id, _history_more.id, "private")
    other = add_tx(session, tenant_id, batch, "-3.00", "Kiosk 2", "Zeitschrift")
    decide(session, tenant_id, other.id, "private")
    model = learn.model_for(session, tenant_id)
    assert model is not None and model.examples == 20
    assert learn.model_for(session, tenant_id) is model  # cached while nothing changed


def test_classifier_only_adds_categories_on_business_accounts(
    session: Session, tenant_id: int
) -> None:
    mixed = _mixed_batch(session, tenant_id)
    _history(session, tenant_id, mixed, 40)
    batch = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    food = add_tx(session, tenant_id, batch, "-27.80", "Frischemarkt", "Supermarkt Einkauf")
    tool = add_tx(session, tenant_id, batch, "-49.00", "Notion Labs", "Cloud Abo Lizenz Software")
    suggest_for_batch(session, tenant_id, batch.id)
    c = classification(session, tenant_id, food.id)
    assert c is not None and (c.usage, c.source) == ("business", "default")
    c = classification(session, tenant_id, tool.id)
    assert c is not None and (c.usage, c.source) == ("business", "classifier")


# --------------------------------------------------------------------------- decisions


def test_suggest_leaves_existing_classifications(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-500.00", "Ich", "Privatentnahme")
    decide(session, tenant_id, tx.id, "business", cat(session, "rent"))
    assert suggest_for_batch(session, tenant_id, batch.id) == 0
    c = classification(session, tenant_id, tx.id)
    assert c is not None and (c.usage, c.source, c.confirmed) == ("business", "user", True)


def test_accept_all(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    other_batch = _mixed_batch(session, tenant_id)
    out = add_tx(session, tenant_id, batch, "-500.00", "Ich", "Privatentnahme")
    weak = add_tx(session, tenant_id, batch, "200.00", "Ich", "Einlage")
    foreign = add_tx(session, tenant_id, batch, "-20.00", "Ich", "Privatentnahme", currency="USD")
    elsewhere = add_tx(session, tenant_id, other_batch, "-100.00", "Ich", "Privatentnahme")
    suggest_for_batch(session, tenant_id, batch.id)
    suggest_for_batch(session, tenant_id, other_batch.id)

    result = accept_all(session, tenant_id, batch_id=batch.id, min_confidence="0.9")
    assert result.accepted == 1
    assert [s["transaction_id"] for s in result.skipped] == [foreign.id]
    assert result.skipped[0]["code"] == "bank.currency_not_supported"
    states = {
        t.id: (c.confirmed if (c := classification(session, tenant_id, t.id)) else None)
        for t in (out, weak, foreign, elsewhere)
    }
    assert states == {out.id: True, weak.id: False, foreign.id: False, elsewhere.id: False}
    assert len(postings(session, tenant_id, out.id)) == 1

    result = accept_all(session, tenant_id, batch_id=batch.id)
    assert result.accepted == 1  # the weak one; the foreign line stays a suggestion
    assert len(postings(session, tenant_id, weak.id)) == 1
    assert accept_all(session, tenant_id).accepted == 1  # the other batch
    accepted = audit_actions(session, tenant_id, "bank_classification")
    accepts = [a for a in accepted if a.action == "accept"]
    assert len(accepts) == 3
    assert '"confirmed":false' in (accepts[0].before or "")
    assert '"confirmed":true' in (accepts[0].after or "")
    assert verify_chain(session, tenant_id) == []

    with pytest.raises(ValidationFailed) as err:
        accept_all(session, tenant_id, min_confidence="1.5")
    assert err.value.code == "bank.invalid_confidence"
    with pytest.raises(NotFound):
        accept_all(session, tenant_id, batch_id=999_999_999)


def test_decide_audits_and_validates(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    tx = add_tx(session, tenant_id, batch, "-119.00", "Telekom", "Rechnung")
    income = add_tx(session, tenant_id, batch, "50.00", "Kunde", "Zahlung")
    telecom = cat(session, "telecom")
    suggest_for_batch(session, tenant_id, batch.id)
    decide(session, tenant_id, tx.id, "business", telecom, actor="anna")
    decide(session, tenant_id, tx.id, "business", telecom, actor="anna")  # no change
    decide(session, tenant_id, tx.id, "private", actor="bert")
    entries = [
        e for e in audit_actions(session, tenant_id, "bank_classification") if e.action != "suggest"
    ]
    assert [(e.action, e.actor) for e in entries] == [("decide", "anna"), ("change", "bert")]
    assert entries[0].before is None
    assert '"usage":"business"' in (entries[1].before or "")
    assert '"usage":"private"' in (entries[1].after or "")

    def fails(code: str, tx_id: int, usage: str, category: int | None = None) -> None:
        with pytest.raises((ValidationFailed, NotFound)) as err:
            decide(session, tenant_id, tx_id, usage, category)
        assert err.value.code == code, err.value.message

    fails("bank.invalid_usage", tx.id, "privat")
    fails("bank.category_not_business", tx.id, "private", telecom)
    fails("bank.category_is_private", tx.id, "business", cat(session, "private_withdrawal"))
    fails("category.not_found", tx.id, "business", 999_999)
    fails("bank.withdrawal_not_outgoing", income.id, "private_withdrawal")
    fails("bank.deposit_not_incoming", tx.id, "private_deposit")
    fails("bank.transaction_not_found", 999_999_999, "business")
    business = make_batch(session, tenant_id, make_account(session, tenant_id, "business"))
    own = add_tx(session, tenant_id, business, "-10.00", "Kino", "")
    fails("bank.private_on_business_account", own.id, "private")


def test_other_tenants_lines_are_not_found(
    engine: Any, session: Session, make_tenant: Callable[..., int]
) -> None:
    other = make_tenant(chart="skr03")
    s = session_factory(engine)()
    s.info["tenant_id"] = other
    try:
        batch = _mixed_batch(s, other)
        tx = add_tx(s, other, batch, "-5.00", "X", "Privatentnahme")
        s.commit()
        tx_id = tx.id
    finally:
        s.close()
    tenant = session.info["tenant_id"]
    with pytest.raises(NotFound):
        decide(session, tenant, tx_id, "private")
    assert suggest(session, tenant, [tx_id]) == 0


# --------------------------------------------------------------------------- bulk


def test_suggest_many_lines(session: Session, tenant_id: int) -> None:
    batch = _mixed_batch(session, tenant_id)
    create_rule(session, tenant_id, RuleInput(name="Miete", purpose_pattern="miete*"))
    rows = [tx_row(tenant_id, batch, "-700.00", "Vermieter", f"Miete {i}") for i in range(300)] + [
        tx_row(tenant_id, batch, "-10.00", "Unbekannt", f"x {i}") for i in range(200)
    ]
    add_many(session, rows)
    assert suggest_for_batch(session, tenant_id, batch.id) == 300
    count = session.scalar(
        select(Classification.id)
        .where(Classification.tenant_id == tenant_id, Classification.source == "rule")
        .limit(1)
    )
    assert count is not None
    assert accept_all(session, tenant_id, batch_id=batch.id).accepted == 300


# --------------------------------------------------------------------------- REST


def test_api_flow(session: Session, tenant_id: int, client: Any) -> None:
    c = with_bank_routes(client)
    batch = _mixed_batch(session, tenant_id)
    out = add_tx(session, tenant_id, batch, "-500.00", "Ich", "Privatentnahme")
    fee = add_tx(session, tenant_id, batch, "-9.90", "Bank", "Entgelt")
    session.commit()

    r = c.post("/api/v1/bank/classifications/suggest", json={"batch_id": batch.id})
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 1}
    r = c.get("/api/v1/bank/classifications", params={"batch_id": batch.id, "confirmed": False})
    body = r.json()
    assert body["total"] == 2
    by_tx = {i["transaction_id"]: i for i in body["items"]}
    assert by_tx[out.id]["usage"] == "private_withdrawal"
    assert by_tx[out.id]["confidence"] == "0.9500"
    assert by_tx[fee.id]["usage"] is None

    r = c.post("/api/v1/bank/classifications/accept-all", json={"batch_id": batch.id})
    assert r.json() == {"accepted": 1, "skipped": []}

    fees = cat(session, "bank_fees")
    r = c.put(
        f"/api/v1/bank/transactions/{fee.id}/classification",
        json={"usage": "business", "category_id": fees},
    )
    assert r.status_code == 200, r.text
    assert r.json()["postings"] == 1 and r.json()["source"] == "user"
    r = c.get("/api/v1/bank/classifications", params={"confirmed": True})
    assert r.json()["total"] == 2

    r = c.put(f"/api/v1/bank/transactions/{fee.id}/classification", json={"usage": "egal"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bank.invalid_usage"
    r = c.put("/api/v1/bank/transactions/999999999/classification", json={"usage": "private"})
    assert r.status_code == 404
    r = c.post("/api/v1/bank/classifications/suggest", json={"batch_id": 999999999})
    assert r.status_code == 404 and r.json()["error"]["code"] == "bank.batch_not_found"
    r = c.post("/api/v1/bank/classifications/accept-all", json={"min_confidence": "7"})
    assert r.status_code == 422
