"""The user's classification rules: list, create, change, delete, reorder."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from belegwerk.banking import rules as service
from belegwerk.banking.models import Rule
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["bank-rules"])


class RuleIn(BaseModel):
    """Conditions (all given ones must hold) and the result; see the rules module for patterns:
    case-insensitive substring, or with ``*``/``?`` a wildcard over the whole text."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Telekom"])
    usage: str = Field(default="business", examples=["business"])
    category_id: int | None = None
    counterparty_pattern: str = Field(default="", examples=["telekom*"])
    purpose_pattern: str = ""
    iban: str = ""
    amount_min: str | int | float | None = Field(
        default=None, description='Decimal string, e.g. "10.00".'
    )
    amount_max: str | int | float | None = None
    direction: str = Field(default="", description='"in", "out" or "" for both.')
    active: bool = True
    priority: int | None = Field(default=None, description="Lower first; empty: last.")

    def to_input(self) -> service.RuleInput:
        return service.RuleInput(**self.model_dump())


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    priority: int
    name: str
    counterparty_pattern: str
    purpose_pattern: str
    iban: str
    amount_min: Decimal | None
    amount_max: Decimal | None
    direction: str
    usage: str
    category_id: int | None
    active: bool


class ReorderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int]


def _out(rule: Rule) -> RuleOut:
    return RuleOut.model_validate(rule)


@router.get("/bank/rules", response_model=list[RuleOut])
def list_rules(ctx: CtxDep) -> list[RuleOut]:
    return [_out(r) for r in service.list_rules(ctx.session, ctx.tenant_id)]


@router.post("/bank/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, ctx: CtxDep) -> RuleOut:
    return _out(service.create_rule(ctx.session, ctx.tenant_id, body.to_input(), ctx.actor))


@router.post("/bank/rules/reorder", response_model=list[RuleOut])
def reorder_rules(body: ReorderIn, ctx: CtxDep) -> list[RuleOut]:
    return [_out(r) for r in service.reorder_rules(ctx.session, ctx.tenant_id, body.ids, ctx.actor)]


@router.get("/bank/rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, ctx: CtxDep) -> RuleOut:
    return _out(service.get_rule(ctx.session, ctx.tenant_id, rule_id))


@router.put("/bank/rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: int, body: RuleIn, ctx: CtxDep) -> RuleOut:
    return _out(
        service.update_rule(ctx.session, ctx.tenant_id, rule_id, body.to_input(), ctx.actor)
    )


@router.delete("/bank/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, ctx: CtxDep) -> None:
    service.delete_rule(ctx.session, ctx.tenant_id, rule_id, ctx.actor)
