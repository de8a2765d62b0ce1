"""Bank and PayPal accounts: validation, uniqueness, audit, the posting account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from belegwerk.banking import accounts
from belegwerk.banking.accounts import AccountData
from belegwerk.core.audit import AuditEntry
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed

IBAN = "DE89370400440532013000"  # Commerzbank
IBAN_SPACED = "de89 3704 0044 0532 0130 00"


def test_create_normalises_iban_and_derives_bank(session: Session, tenant_id: int) -> None:
    account = accounts.create_account(
        session, tenant_id, AccountData(iban=IBAN_SPACED, account_type="mixed")
    )
    assert account.iban == IBAN
    assert account.kind == "bank"
    assert account.bank_name == "Commerzbank"
    assert account.bic == "COBADEFFXXX"
    assert account.name == "Commerzbank …3000"
    assert account.account_type == "mixed"
    assert account.opening_balance == Decimal("0.00")
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "bank_account"
        )
    ).all()
    assert [(e.action, e.entity_id) for e in entries] == [("create", str(account.id))]


def test_opening_balance_may_be_negative(session: Session, tenant_id: int) -> None:
    account = accounts.create_account(
        session,
        tenant_id,
        AccountData(
            iban=IBAN,
            name="Geschäftskonto",
            bic="COBADEFF",
            opening_balance="-120.50",
            opening_date=date(2025, 1, 1),
        ),
    )
    assert account.opening_balance == Decimal("-120.50")
    assert account.opening_date == date(2025, 1, 1)
    assert account.bic == "COBADEFF"
    assert account.name == "Geschäftskonto"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (AccountData(iban="DE89370400440532013001"), "iban.invalid"),
        (AccountData(iban="kein iban"), "iban.invalid"),
        (AccountData(iban=""), "bank.iban_required"),
        (AccountData(iban=IBAN, bic="XYZ"), "bic.invalid"),
        (AccountData(iban=IBAN, account_type="privat"), "bank.invalid_account_type"),
        (AccountData(iban=IBAN, kind="cash"), "bank.invalid_kind"),
        (AccountData(iban=IBAN, opening_balance="1.234"), "money.too_many_decimals"),
        (AccountData(iban=IBAN, opening_balance="abc"), "money.not_a_number"),
        (AccountData(iban=IBAN, currency="EURO"), "bank.invalid_currency"),
        (AccountData(iban=IBAN, ledger_account="12a"), "bank.invalid_ledger_account"),
        (AccountData(iban=IBAN, opening_date=date(2200, 1, 1)), "date.too_far_in_future"),
        (AccountData(kind="paypal", email=""), "bank.email_required"),
        (AccountData(kind="paypal", email="kein-at"), "bank.invalid_email"),
        (AccountData(kind="paypal", email="a@b.de", iban=IBAN), "bank.paypal_without_iban"),
    ],
)
def test_invalid_input_is_refused(
    session: Session, tenant_id: int, data: AccountData, code: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        accounts.create_account(session, tenant_id, data)
    assert exc.value.code == code
    assert accounts.list_accounts(session, tenant_id) == []


def test_iban_is_unique_per_tenant(
    session: Session, tenant_id: int, make_tenant: Callable[..., int]
) -> None:
    accounts.create_account(session, tenant_id, AccountData(iban=IBAN))
    with pytest.raises(Conflict) as exc:
        accounts.create_account(session, tenant_id, AccountData(iban=IBAN_SPACED))
    assert exc.value.code == "bank.account_exists"
    assert IBAN in exc.value.message
    session.commit()
    other = make_tenant()
    session.info["tenant_id"] = other
    session.commit()  # the next transaction runs as the other tenant (RLS on PostgreSQL)
    assert accounts.create_account(session, other, AccountData(iban=IBAN)).iban == IBAN


def test_paypal_account_by_email(session: Session, tenant_id: int) -> None:
    paypal = accounts.create_account(
        session, tenant_id, AccountData(kind="paypal", email="Shop@Example.de")
    )
    assert paypal.iban is None
    assert paypal.email == "shop@example.de"
    assert paypal.name == "PayPal shop@example.de"
    assert paypal.bank_name == "PayPal"
    # Several PayPal accounts (NULL IBAN) may exist, but not the same e-mail twice.
    accounts.create_account(session, tenant_id, AccountData(kind="paypal", email="b@example.de"))
    with pytest.raises(Conflict) as exc:
        accounts.create_account(
            session, tenant_id, AccountData(kind="paypal", email="shop@example.de")
        )
    assert exc.value.code == "bank.account_exists"
    assert accounts.find_account(session, tenant_id, "SHOP@example.de").id == paypal.id


def test_posting_account_per_chart(session: Session, make_tenant: Callable[..., int]) -> None:
    for chart, bank, paypal in (("skr03", "1200", "1210"), ("skr04", "1800", "1810")):
        tid = make_tenant(chart=chart)
        session.info["tenant_id"] = tid
        session.commit()
        a = accounts.create_account(session, tid, AccountData(iban=IBAN))
        p = accounts.create_account(session, tid, AccountData(kind="paypal", email="p@x.de"))
        own = accounts.create_account(
            session, tid, AccountData(iban="DE02120300000000202051", ledger_account="1210")
        )
        assert accounts.ledger_account(session, tid, a) == bank
        assert accounts.ledger_account(session, tid, p) == paypal
        assert accounts.ledger_account(session, tid, own) == "1210"
        session.commit()


def test_update_is_audited_and_checked(session: Session, tenant_id: int) -> None:
    account = accounts.create_account(session, tenant_id, AccountData(iban=IBAN))
    other = accounts.create_account(session, tenant_id, AccountData(iban="DE02120300000000202051"))
    changed = accounts.update_account(
        session,
        tenant_id,
        account.id,
        {"name": "Hauptkonto", "account_type": "mixed", "opening_balance": "10.00"},
    )
    assert (changed.name, changed.account_type) == ("Hauptkonto", "mixed")
    assert changed.opening_balance == Decimal("10.00")
    update = session.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id, AuditEntry.action == "update")
    ).one()
    assert '"name":"Hauptkonto"' in (update.after or "")
    assert '"name":"Commerzbank' in (update.before or "")
    with pytest.raises(Conflict) as exc:
        accounts.update_account(session, tenant_id, other.id, {"iban": IBAN_SPACED})
    assert exc.value.code == "bank.account_exists"
    with pytest.raises(ValidationFailed) as bad:
        accounts.update_account(session, tenant_id, account.id, {"balance": "1"})
    assert bad.value.code == "bank.unknown_field"
    with pytest.raises(NotFound):
        accounts.update_account(session, tenant_id, 10**6, {"name": "x"})


def test_accounts_of_other_tenants_are_invisible(
    session: Session, tenant_id: int, make_tenant: Callable[..., int]
) -> None:
    account = accounts.create_account(session, tenant_id, AccountData(iban=IBAN))
    session.commit()
    other = make_tenant()
    session.info["tenant_id"] = other
    session.commit()
    with pytest.raises(NotFound) as exc:
        accounts.get_account(session, other, account.id)
    assert exc.value.code == "bank.account_not_found"
    assert accounts.list_accounts(session, other) == []
    with pytest.raises(NotFound):
        accounts.find_account(session, other, IBAN)
