"""REST routes of banking (under /api/v1/bank): one router per concept, assembled here."""

from __future__ import annotations

from fastapi import APIRouter

from belegwerk.banking.routes import accounts, classify, imports, matching, rules, templates

router = APIRouter()
for _module in (accounts, imports, templates, rules, classify, matching):
    router.include_router(_module.router)
