"""REST routes of the books: one router per concept, assembled here."""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter

router = APIRouter()

ROUTE_MODULES = ("categories", "parties", "invoices", "cash", "journal")

for _name in ROUTE_MODULES:
    try:
        _module = import_module(f"belegwerk.books.routes.{_name}")
    except ModuleNotFoundError as _exc:  # a concept not built yet
        if _exc.name != f"belegwerk.books.routes.{_name}":
            raise
        continue
    router.include_router(_module.router)
