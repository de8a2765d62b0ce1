"""REST routes of banking: one router per concept, assembled here.

Modules written alongside each other are included when present, so the API starts even while
one of them is still missing.
"""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter

ROUTE_MODULES = ("accounts", "imports", "templates", "rules", "classify", "matching", "overview")

router = APIRouter()
for _name in ROUTE_MODULES:
    _module_name = f"belegwerk.banking.routes.{_name}"
    try:
        _module = import_module(_module_name)
    except ModuleNotFoundError as exc:
        if exc.name == _module_name:
            continue
        raise
    router.include_router(_module.router)
