"""REST routes of the books: assembled from one router per concept."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
