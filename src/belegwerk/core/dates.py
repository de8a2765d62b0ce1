"""Date checks shared by every edge."""

from __future__ import annotations

from datetime import date, timedelta

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _, format_date


def today() -> date:
    return date.today()


def check_not_far_future(value: date, field: str = "date", max_days: int | None = None) -> date:
    """Refuse dates too far ahead (typo guard, e.g. 2062 instead of 2026)."""
    if max_days is None:
        from belegwerk.core.settings import get_settings

        max_days = get_settings().max_future_days
    if value > today() + timedelta(days=max_days):
        raise ValidationFailed(
            "date.too_far_in_future",
            _("The date {date} lies too far in the future.").format(date=format_date(value)),
            [{"field": field, "value": value.isoformat()}],
        )
    if value.year < 1990:
        raise ValidationFailed(
            "date.too_old",
            _("The date {date} lies too far in the past.").format(date=format_date(value)),
            [{"field": field, "value": value.isoformat()}],
        )
    return value


def require_reason(reason: str | None, field: str = "reason") -> str:
    """GoBD: every reversal and correction states why."""
    text = (reason or "").strip()
    if len(text) < 3:
        raise ValidationFailed(
            "reason.missing",
            _("Please give a reason (at least 3 characters)."),
            [{"field": field}],
        )
    return text
