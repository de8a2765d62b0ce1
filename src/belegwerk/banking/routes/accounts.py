"""REST routes of bank and PayPal accounts."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from belegwerk.banking import accounts as service
from belegwerk.banking.models import BankAccount
from belegwerk.banking.schemas import AccountIn, AccountOut, AccountUpdate
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["bank-accounts"])


def account_out(session: Session, tenant_id: int, account: BankAccount) -> AccountOut:
    return AccountOut.model_validate(
        {
            **{c: getattr(account, c) for c in AccountOut.model_fields if c != "posting_account"},
            "posting_account": service.ledger_account(session, tenant_id, account),
        }
    )


@router.get("/bank/accounts", response_model=list[AccountOut])
def list_accounts(ctx: CtxDep) -> list[AccountOut]:
    return [
        account_out(ctx.session, ctx.tenant_id, a)
        for a in service.list_accounts(ctx.session, ctx.tenant_id)
    ]


@router.post("/bank/accounts", response_model=AccountOut, status_code=201)
def create_account(body: AccountIn, ctx: CtxDep) -> AccountOut:
    values = body.model_dump()
    if values["opening_balance"] is None:
        values["opening_balance"] = "0"
    account = service.create_account(
        ctx.session, ctx.tenant_id, service.AccountData(**values), actor=ctx.actor
    )
    return account_out(ctx.session, ctx.tenant_id, account)


@router.get("/bank/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: int, ctx: CtxDep) -> AccountOut:
    account = service.get_account(ctx.session, ctx.tenant_id, account_id)
    return account_out(ctx.session, ctx.tenant_id, account)


@router.put("/bank/accounts/{account_id}", response_model=AccountOut)
def update_account(account_id: int, body: AccountUpdate, ctx: CtxDep) -> AccountOut:
    # null means "leave as is", except for the one field that may be empty (opening date).
    changes = {
        k: v
        for k, v in body.model_dump(exclude_unset=True).items()
        if v is not None or k == "opening_date"
    }
    account = service.update_account(
        ctx.session, ctx.tenant_id, account_id, changes, actor=ctx.actor
    )
    return account_out(ctx.session, ctx.tenant_id, account)
