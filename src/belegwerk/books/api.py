"""REST routes of the books: one router per concept, assembled here."""

from __future__ import annotations

from fastapi import APIRouter

from belegwerk.books.routes import cash, categories, invoices, journal, parties

router = APIRouter()
for _module in (categories, parties, invoices, cash, journal):
    router.include_router(_module.router)
