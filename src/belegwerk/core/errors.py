"""Domain errors: a stable code, a German message, optional details; mapped to 4xx at the edge."""

from __future__ import annotations

from typing import Any


class BelegwerkError(Exception):
    """Raised for anything the user can fix; never a 500."""

    status_code = 400

    def __init__(
        self, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(BelegwerkError):
    status_code = 422


class NotFound(BelegwerkError):
    status_code = 404


class Conflict(BelegwerkError):
    status_code = 409
