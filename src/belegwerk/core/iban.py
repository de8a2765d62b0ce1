"""IBAN/BIC checks with schwifty, answered in German."""

from __future__ import annotations

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _


def normalize_iban(value: str, field: str = "iban") -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        return str(IBAN(value).compact)
    except (SchwiftyException, ValueError):
        raise ValidationFailed(
            "iban.invalid",
            _("The IBAN {value} is not valid.").format(value=value),
            [{"field": field, "value": value}],
        ) from None


def normalize_bic(value: str, field: str = "bic") -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        return str(BIC(value).compact)
    except (SchwiftyException, ValueError):
        raise ValidationFailed(
            "bic.invalid",
            _("The BIC {value} is not valid.").format(value=value),
            [{"field": field, "value": value}],
        ) from None
