"""Checks for company master data: VAT id, tax number, DATEV numbers, enumerations."""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_exc
from stdnum.de import stnr
from stdnum.eu import vat as eu_vat
from stdnum.iso7064 import mod_97_10

from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

VAT_REGIMES = ("standard", "small_business")
VAT_ACCOUNTING = ("cash", "accrual")
USTVA_PERIODS = ("monthly", "quarterly", "yearly")
# Bundesländer (ISO 3166-2:DE suffixes), for the public holidays of tax deadlines.
STATES = (
    "BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH",
)  # fmt: skip
ACTIVITIES = ("freelance", "trade", "mixed")
CHARTS = ("skr03", "skr04")


def suggested_chart(activity: str) -> str:
    """Freelancers usually get SKR04, traders SKR03 (overridable)."""
    return "skr03" if activity == "trade" else "skr04"


def check_choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationFailed(
            f"company.invalid_{field}",
            _("Invalid value for {field}: {value}. Allowed: {allowed}.").format(
                field=field, value=value, allowed=", ".join(allowed)
            ),
            [{"field": field, "value": value}],
        )
    return value


def normalize_vat_id(value: str, field: str = "vat_id") -> str:
    """Format and checksum check of a USt-IdNr (any EU member state); empty is allowed."""
    value = value.strip()
    if not value:
        return ""
    try:
        return str(eu_vat.validate(value))
    except stdnum_exc.ValidationError:
        raise ValidationFailed(
            "vat_id.invalid",
            _("The VAT ID {value} is not valid (expected e.g. DE123456789).").format(value=value),
            [{"field": field, "value": value}],
        ) from None


def normalize_tax_number(value: str) -> str:
    """Steuernummer in regional or 13-digit ELSTER form; empty is allowed."""
    value = value.strip()
    if not value:
        return ""
    try:
        return str(stnr.validate(value))
    except stdnum_exc.ValidationError:
        raise ValidationFailed(
            "tax_number.invalid",
            _("The tax number {value} is not valid.").format(value=value),
            [{"field": "tax_number", "value": value}],
        ) from None


def check_digits(field: str, value: str, max_len: int) -> str:
    value = value.strip()
    if value and (not value.isdigit() or len(value) > max_len):
        raise ValidationFailed(
            f"company.invalid_{field}",
            _("{field} must consist of at most {n} digits.").format(field=field, n=max_len),
            [{"field": field, "value": value}],
        )
    return value


_LEITWEG_ID = re.compile(r"^(\d{2,12})(?:-([A-Za-z0-9]{1,30}))?-(\d{2})$")


def leitweg_id_valid(value: str) -> bool:
    """Leitweg-ID of a German public buyer (KoSIT format 2.0): coarse address, optional fine
    address, check digits after ISO/IEC 7064 MOD 97-10 over the rest without hyphens."""
    match = _LEITWEG_ID.match(value.strip())
    if match is None:
        return False
    coarse, fine, check = match.groups()
    return mod_97_10.is_valid(f"{coarse}{fine or ''}{check}".upper())
