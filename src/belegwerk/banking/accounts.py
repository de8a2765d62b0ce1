"""Bank and PayPal accounts: the money accounts statements are imported into.

A bank account is identified by its IBAN (validated and stored compact, unique per tenant); a
PayPal account by its e-mail address. Private accounts are listed (so the overview knows them)
but never imported. Every create and change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from belegwerk.banking.models import BankAccount, ImportBatch
from belegwerk.books import accounts as chart_accounts
from belegwerk.books.journal import chart_of
from belegwerk.core.audit import audit_writer
from belegwerk.core.dates import check_not_far_future
from belegwerk.core.db import owned_row
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.iban import normalize_bic, normalize_iban
from belegwerk.core.money import ZERO, parse_money
from belegwerk.core.types import utcnow

ACCOUNT_TYPES = ("business", "mixed", "private")
KINDS = ("bank", "paypal")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
LEDGER_PATTERN = re.compile(r"^[0-9]{4,8}$")
MAX_LENGTHS = {"name": 100, "bank_name": 100, "email": 200}

# PayPal is a money account of its own (DATEV: a Finanzkonto with "Geldkonto" function in the
# bank range), not the transit account: its statement has its own balance, and transfers
# between PayPal and the bank go through Geldtransit (1360/1460) like between two banks.
PAYPAL_LEDGER = {"skr03": "1210", "skr04": "1810"}


@dataclass
class AccountData:
    """Input for a new account; ``iban`` for banks, ``email`` for PayPal."""

    iban: str = ""
    account_type: str = "business"
    kind: str = "bank"
    name: str = ""
    bic: str = ""
    bank_name: str = ""
    email: str = ""
    currency: str = "EUR"
    opening_balance: Decimal | str | int = ZERO
    opening_date: date | None = None
    ledger_account: str = ""


ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountData))
# What a change may touch; kind and IBAN/e-mail identify the account (see update_account).
UPDATABLE = frozenset(ACCOUNT_FIELDS)


def _snapshot(account: BankAccount) -> dict[str, Any]:
    return {f: getattr(account, f) for f in ACCOUNT_FIELDS}


def _bank_from_iban(iban: str) -> tuple[str, str]:
    """Bank name and BIC from schwifty's bank registry; empty when the bank is unknown."""
    try:
        parsed = IBAN(iban)
        bic = parsed.bic
        return (parsed.bank_name or "")[:100], str(bic.compact) if bic else ""
    except (SchwiftyException, ValueError, KeyError, AttributeError):
        return "", ""


def _invalid(code: str, message: str, field: str, value: object) -> ValidationFailed:
    return ValidationFailed(code, message, [{"field": field, "value": str(value)}])


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a (partial) set of account fields; raises on the first problem."""
    out = dict(values)
    for key in ("name", "bank_name", "email", "currency", "ledger_account", "iban", "bic"):
        if key in out:
            out[key] = str(out[key] or "").strip()
    if "kind" in out and out["kind"] not in KINDS:
        raise _invalid(
            "bank.invalid_kind",
            _("The kind of account must be bank or paypal."),
            "kind",
            out["kind"],
        )
    if "account_type" in out and out["account_type"] not in ACCOUNT_TYPES:
        raise _invalid(
            "bank.invalid_account_type",
            _("The account type must be business, mixed or private."),
            "account_type",
            out["account_type"],
        )
    for key, limit in MAX_LENGTHS.items():
        if key in out and len(out[key]) > limit:
            raise ValidationFailed(
                "bank.field_too_long",
                _("{field} may have at most {n} characters.").format(field=key, n=limit),
                [{"field": key, "max_length": limit}],
            )
    if "iban" in out:
        out["iban"] = normalize_iban(out["iban"])
    if "bic" in out:
        out["bic"] = normalize_bic(out["bic"])
    if "email" in out:
        out["email"] = out["email"].lower()
        if out["email"] and not EMAIL_PATTERN.match(out["email"]):
            raise _invalid(
                "bank.invalid_email",
                _("The e-mail address {value} is not valid.").format(value=out["email"]),
                "email",
                out["email"],
            )
    if "currency" in out:
        out["currency"] = out["currency"].upper() or "EUR"
        if not CURRENCY_PATTERN.match(out["currency"]):
            raise _invalid(
                "bank.invalid_currency",
                _("The currency must be a three-letter ISO code such as EUR."),
                "currency",
                out["currency"],
            )
    if out.get("ledger_account") and not LEDGER_PATTERN.match(out["ledger_account"]):
        raise _invalid(
            "bank.invalid_ledger_account",
            _("The ledger account must have 4 to 8 digits."),
            "ledger_account",
            out["ledger_account"],
        )
    if "opening_balance" in out:
        value = out["opening_balance"]
        out["opening_balance"] = (
            ZERO
            if value is None or value == ""
            else parse_money(value, "opening_balance", allow_negative=True)
        )
    if out.get("opening_date") is not None:
        check_not_far_future(out["opening_date"], "opening_date")
    return out


def _exists_error(identity: str) -> Conflict:
    return Conflict(
        "bank.account_exists",
        _("An account {identity} already exists.").format(identity=identity),
        [{"field": "iban" if "@" not in identity else "email", "value": identity}],
    )


def _find_duplicate(
    session: Session, tenant_id: int, iban: str | None, email: str, exclude_id: int | None
) -> bool:
    query = select(BankAccount.id).where(BankAccount.tenant_id == tenant_id)
    if iban:
        query = query.where(BankAccount.iban == iban)
    else:
        query = query.where(BankAccount.kind == "paypal", BankAccount.email == email)
    if exclude_id is not None:
        query = query.where(BankAccount.id != exclude_id)
    return session.scalar(query.limit(1)) is not None


def _check_identity(values: dict[str, Any]) -> None:
    """A bank account needs an IBAN; a PayPal account an e-mail address and no IBAN."""
    if values["kind"] == "bank" and not values.get("iban"):
        raise ValidationFailed("bank.iban_required", _("The IBAN is missing."), [{"field": "iban"}])
    if values["kind"] == "paypal":
        if not values.get("email"):
            raise ValidationFailed(
                "bank.email_required",
                _("A PayPal account is identified by its e-mail address."),
                [{"field": "email"}],
            )
        if values.get("iban"):
            raise ValidationFailed(
                "bank.paypal_without_iban",
                _("A PayPal account has no IBAN."),
                [{"field": "iban"}],
            )


def _default_name(values: dict[str, Any]) -> str:
    if values["kind"] == "paypal":
        return f"PayPal {values['email']}"[:100]
    label = values.get("bank_name") or _("Bank account")
    return f"{label} …{values['iban'][-4:]}"[:100]


def _flush(session: Session, identity: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        # A concurrent request created the same IBAN between our check and the insert.
        raise _exists_error(identity) from None


def create_account(
    session: Session, tenant_id: int, data: AccountData, actor: str = "local"
) -> BankAccount:
    values = _validate({f: getattr(data, f) for f in ACCOUNT_FIELDS})
    _check_identity(values)
    if values["kind"] == "bank":
        bank_name, bic = _bank_from_iban(values["iban"])
        values["bank_name"] = values["bank_name"] or bank_name
        values["bic"] = values["bic"] or bic
    else:
        values["bank_name"] = values["bank_name"] or "PayPal"
    values["name"] = values["name"] or _default_name(values)
    identity = values["iban"] or values["email"]
    if _find_duplicate(session, tenant_id, values["iban"] or None, values["email"], None):
        raise _exists_error(identity)
    account = BankAccount(tenant_id=tenant_id, **{**values, "iban": values["iban"] or None})
    session.add(account)
    _flush(session, identity)
    audit_writer(session, tenant_id, actor).record(
        "create", "bank_account", account.id, after=_snapshot(account)
    )
    return account


def _has_imports(session: Session, tenant_id: int, account_id: int) -> bool:
    query = select(func.count(ImportBatch.id)).where(
        ImportBatch.tenant_id == tenant_id, ImportBatch.account_id == account_id
    )
    return bool(session.scalar(query))


def update_account(
    session: Session,
    tenant_id: int,
    account_id: int,
    changes: dict[str, Any],
    actor: str = "local",
) -> BankAccount:
    """Change fields of an account; its identity (kind, IBAN) is fixed once statements exist."""
    account = get_account(session, tenant_id, account_id, for_update=True)
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationFailed(
            "bank.unknown_field",
            _("Unknown field: {field}").format(field=", ".join(sorted(unknown))),
            [{"field": f} for f in sorted(unknown)],
        )
    values = _validate(changes)
    before = _snapshot(account)
    merged = {**before, **values}
    merged["iban"] = merged["iban"] or ""
    _check_identity(merged)
    identity_changed = (merged["iban"] or None) != account.iban or merged["kind"] != account.kind
    if identity_changed and _has_imports(session, tenant_id, account.id):
        raise Conflict(
            "bank.account_in_use",
            _("Statements were already imported into this account; its IBAN cannot change."),
            [{"field": "iban"}],
        )
    identity = merged["iban"] or merged["email"]
    if _find_duplicate(session, tenant_id, merged["iban"] or None, merged["email"], account.id):
        raise _exists_error(identity)
    if "name" in values and not values["name"]:
        values["name"] = _default_name(merged)
    for key, value in values.items():
        setattr(account, key, value)
    account.iban = merged["iban"] or None
    after = _snapshot(account)
    if after == before:
        return account
    account.updated_at = utcnow()
    _flush(session, identity)
    audit_writer(session, tenant_id, actor).record(
        "update", "bank_account", account.id, before=before, after=after
    )
    return account


def get_account(
    session: Session, tenant_id: int, account_id: int, *, for_update: bool = False
) -> BankAccount:
    return owned_row(
        session,
        BankAccount,
        tenant_id,
        account_id,
        code="bank.account_not_found",
        message=_("Bank account not found."),
        field="account_id",
        for_update=for_update,
    )


def list_accounts(session: Session, tenant_id: int) -> list[BankAccount]:
    query = (
        select(BankAccount)
        .where(BankAccount.tenant_id == tenant_id)
        .order_by(BankAccount.kind, BankAccount.name, BankAccount.id)
    )
    return list(session.scalars(query))


def find_account(session: Session, tenant_id: int, identity: str) -> BankAccount:
    """An account by IBAN (any spelling) or, for PayPal, by e-mail address (CLI ``--account``)."""
    identity = identity.strip()
    query = select(BankAccount).where(BankAccount.tenant_id == tenant_id)
    if "@" in identity:
        query = query.where(BankAccount.email == identity.lower())
    else:
        query = query.where(BankAccount.iban == normalize_iban(identity, "account"))
    account = session.scalar(query.limit(1))
    if account is None:
        raise NotFound(
            "bank.account_not_found",
            _("There is no account {identity}; create it first.").format(identity=identity),
            [{"field": "account", "value": identity}],
        )
    return account


def ledger_account(session: Session, tenant_id: int, account: BankAccount) -> str:
    """The chart account (Finanzkonto) this account's postings use.

    An explicit ``ledger_account`` wins; otherwise a bank account books on the chart's bank
    account (SKR03 1200 / SKR04 1800) and PayPal on its own money account in the bank range
    (SKR03 1210 / SKR04 1810), never on Geldtransit.
    """
    if account.ledger_account:
        return account.ledger_account
    chart = chart_of(session, tenant_id)
    if account.kind == "paypal":
        return PAYPAL_LEDGER[chart]
    return chart_accounts.account(chart, "bank")
