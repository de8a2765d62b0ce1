"""Health and service endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from belegwerk import __version__
from belegwerk.web.deps import engine_of

router = APIRouter(tags=["system"])


@router.get("/health")
def health(request: Request) -> dict[str, str]:
    """Answers as soon as the database answers."""
    with engine_of(request).connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
