"""VAT treatment of a business transaction: EN 16931 category code + direction + country.

The stored code on invoice lines, cash entries and categorised bank lines is the EN 16931 VAT
category (UNCL5305), because e-invoices carry exactly these. Together with the direction (sale or
purchase) and the other party's country it decides the *treatment* written on the postings
(``Posting.vat_treatment``), and the treatment decides the UStVA boxes
(``belegwerk.tax.ustva``), the revenue account (DATEV automatic accounts) and the DATEV
BU-Schlüssel of self-assessed tax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from belegwerk.core import params
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _

STANDARD = "S"
ZERO_RATED = "Z"
EXEMPT = "E"
REVERSE_CHARGE = "AE"
INTRA_COMMUNITY = "K"
EXPORT = "G"
OUT_OF_SCOPE = "O"
CANARY = "L"
CEUTA_MELILLA = "M"
CODES = (STANDARD, ZERO_RATED, EXEMPT, REVERSE_CHARGE, INTRA_COMMUNITY, EXPORT, OUT_OF_SCOPE)
# L and M (Canary Islands IGIC, Ceuta/Melilla IPSI) are accepted from e-invoices but not offered.
ALL_CODES = (*CODES, CANARY, CEUTA_MELILLA)
CASH_CODES = (STANDARD, ZERO_RATED, EXEMPT, OUT_OF_SCOPE)
BANK_CODES = (STANDARD, ZERO_RATED, EXEMPT, REVERSE_CHARGE, OUT_OF_SCOPE)

# Member states of the EU VAT area besides Germany (ISO 3166 alpha-2; VAT ids of Greece start
# with "EL", its country code is GR). Northern Ireland (XI) counts for goods.
EU_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE"),
        *("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI"),
    }
)
HOME = "DE"

# Posting treatments (``Posting.vat_treatment``).
OUT_STANDARD = "out_standard"  # Kz 81 / 86 / 35+36
OUT_ZERO = "out_zero"  # Kz 87 (0 % rate, § 12 Abs. 3 UStG)
OUT_EXEMPT = "out_exempt"  # Kz 48 (§ 4 Nr. 8–29 UStG)
OUT_SMALL_BUSINESS = "out_small_business"  # § 19 UStG turnover
OUT_IC_SUPPLY = "out_ic_supply"  # Kz 41 + ZM
OUT_EXPORT = "out_export"  # Kz 43
OUT_EU_SERVICE = "out_eu_service"  # Kz 21 + ZM (§ 3a Abs. 2, § 18b)
OUT_RC_DOMESTIC = "out_rc_domestic"  # Kz 60 (customer owes the tax, § 13b Abs. 2)
OUT_NON_TAXABLE = "out_non_taxable"  # Kz 45
IN_STANDARD = "in_standard"  # Kz 66
IN_RC_EU = "in_rc_eu"  # Kz 46 / 47 + 67
IN_RC_OTHER = "in_rc_other"  # Kz 84 / 85 + 67
IN_IC_ACQUISITION = "in_ic_acquisition"  # Kz 89 / 93 / 95+98 + 61
SELF_ASSESSED = frozenset({IN_RC_EU, IN_RC_OTHER, IN_IC_ACQUISITION})
ZM_TREATMENTS = frozenset({OUT_IC_SUPPLY, OUT_EU_SERVICE})

# BT-120 / BT-121 defaults where the law asks for a note on the invoice (§ 14a UStG); German
# document text, not UI. VATEX codes from the CEF VAT exemption reason code list.
DEFAULT_REASONS: dict[str, tuple[str, str]] = {
    REVERSE_CHARGE: ("VATEX-EU-AE", "Steuerschuldnerschaft des Leistungsempfängers"),
    INTRA_COMMUNITY: ("VATEX-EU-IC", "Steuerfreie innergemeinschaftliche Lieferung"),
    EXPORT: ("VATEX-EU-G", "Steuerfreie Ausfuhrlieferung"),
    OUT_OF_SCOPE: ("VATEX-EU-O", "Nicht im Inland steuerbarer Umsatz"),
}
SMALL_BUSINESS_REASON = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
REASON_REQUIRED = frozenset({EXEMPT, REVERSE_CHARGE, INTRA_COMMUNITY, EXPORT, OUT_OF_SCOPE})
REASON_MAX = 300
REASON_CODE_MAX = 30

# DATEV BU-Schlüssel for self-assessed tax on an ordinary (non-automatic) expense account:
# (treatment, rate, deductible) → key. Source: DATEV key list as documented by
# BuchhaltungsButler ("Logik der Steuerschlüssel": 94 = § 13b 19 % USt/VSt, 95 = § 13b 19 % USt
# without VSt, 19/18 = i.g.E. 19/7 % USt/VSt, 13/12 = i.g.E. 19/7 % without VSt). The 7 % § 13b
# keys are not in that list and are left for the tax advisor ([unverified]).
DATEV_TAX_KEYS: dict[tuple[str, int, bool], str] = {
    (IN_RC_EU, 19, True): "94",
    (IN_RC_EU, 19, False): "95",
    (IN_RC_OTHER, 19, True): "94",
    (IN_RC_OTHER, 19, False): "95",
    (IN_IC_ACQUISITION, 19, True): "19",
    (IN_IC_ACQUISITION, 19, False): "13",
    (IN_IC_ACQUISITION, 7, True): "18",
    (IN_IC_ACQUISITION, 7, False): "12",
}

# Revenue categories (DATEV automatic revenue accounts) per outgoing treatment.
REVENUE_CATEGORY = {
    OUT_IC_SUPPLY: "revenue_ic_supply",
    OUT_EXPORT: "revenue_export",
    OUT_EU_SERVICE: "revenue_eu_service",
    OUT_RC_DOMESTIC: "revenue_rc_domestic",
}
NON_TAXABLE_REVENUE = {"eu": "revenue_non_taxable_eu", "third": "revenue_non_taxable_third"}


def label(code: str) -> str:
    """German name of a category code for forms and pages."""
    names = {
        STANDARD: _("Taxable (standard)"),
        ZERO_RATED: _("Zero rate (§ 12 para. 3 UStG)"),
        EXEMPT: _("Tax-exempt"),
        REVERSE_CHARGE: _("Reverse charge"),
        INTRA_COMMUNITY: _("Intra-community supply / acquisition"),
        EXPORT: _("Export (third country)"),
        OUT_OF_SCOPE: _("Not taxable in Germany"),
        CANARY: _("Canary Islands (IGIC)"),
        CEUTA_MELILLA: _("Ceuta / Melilla (IPSI)"),
    }
    return names.get(code, code)


def choices(codes: tuple[str, ...] = CODES) -> list[tuple[str, str]]:
    return [(c, label(c)) for c in codes]


def normalize_code(
    value: object, field: str = "vat_category", allowed: tuple[str, ...] = ALL_CODES
) -> str:
    code = str(value or "").strip().upper()
    if code not in allowed:
        raise ValidationFailed(
            "vat.unknown_category",
            _("Unknown VAT treatment {code}. Allowed: {allowed}.").format(
                code=value, allowed=", ".join(allowed)
            ),
            [{"field": field, "value": str(value)}],
        )
    return code


def default_code(rate: Decimal, *, small_business: bool) -> str:
    """What a line without an explicit code means: VAT charged → S, no VAT → E."""
    if small_business:
        return EXEMPT
    return STANDARD if rate > 0 else EXEMPT


def check_rate_fits(code: str, rate: Decimal, field: str) -> None:
    """S needs a positive rate; every other category carries no VAT on the invoice."""
    if code == STANDARD and rate <= 0:
        raise ValidationFailed(
            "vat.standard_needs_rate",
            _("A taxable line (S) needs a VAT rate above 0 %; use E, Z or O for 0 %."),
            [{"field": field, "value": str(rate)}],
        )
    if code != STANDARD and rate != 0:
        raise ValidationFailed(
            "vat.category_needs_zero_rate",
            _(
                "With the VAT treatment {label} the invoice carries no VAT: the rate must be 0 %."
            ).format(label=label(code)),
            [{"field": field, "value": str(rate)}],
        )


def country_of(value: str | None) -> str:
    return (value or HOME).strip().upper() or HOME


def is_eu(country: str) -> bool:
    return country in EU_COUNTRIES


@dataclass(frozen=True)
class Resolved:
    """What a code means for one transaction."""

    treatment: str
    self_assessed: bool = False


def resolve(
    direction: str, code: str, country: str, *, small_business: bool, field: str = "vat_category"
) -> Resolved:
    """Treatment of a sale (``out``) or purchase (``in``) from code and the party's country.

    Raises for combinations the law does not have: an intra-community supply or acquisition
    needs a party in another EU member state.
    """
    country = country_of(country)
    if direction == "out":
        if small_business:
            return Resolved(OUT_SMALL_BUSINESS)
        if code == STANDARD:
            return Resolved(OUT_STANDARD)
        if code == ZERO_RATED:
            return Resolved(OUT_ZERO)
        if code == EXEMPT:
            return Resolved(OUT_EXEMPT)
        if code == INTRA_COMMUNITY:
            if not is_eu(country):
                raise ValidationFailed(
                    "vat.ic_needs_eu_party",
                    _("An intra-community supply (K) needs a customer in another EU member state."),
                    [{"field": field, "value": code, "country": country}],
                )
            return Resolved(OUT_IC_SUPPLY)
        if code == EXPORT:
            return Resolved(OUT_EXPORT)
        if code == REVERSE_CHARGE:
            if country == HOME:
                return Resolved(OUT_RC_DOMESTIC)
            return Resolved(OUT_EU_SERVICE if is_eu(country) else OUT_NON_TAXABLE)
        return Resolved(OUT_NON_TAXABLE)  # O, L, M
    if code == REVERSE_CHARGE:
        return Resolved(IN_RC_EU if is_eu(country) else IN_RC_OTHER, self_assessed=True)
    if code == INTRA_COMMUNITY:
        if not is_eu(country):
            raise ValidationFailed(
                "vat.ic_needs_eu_party",
                _(
                    "An intra-community acquisition (K) needs a supplier in another EU member "
                    "state."
                ),
                [{"field": field, "value": code, "country": country}],
            )
        return Resolved(IN_IC_ACQUISITION, self_assessed=True)
    return Resolved(IN_STANDARD)


def self_assessment_rate(category_rate: Decimal, supply: date) -> Decimal:
    """The rate the recipient applies to a reverse-charge or acquisition line: the reduced rate
    for categories that carry it (goods at 7 %), else the standard rate of the supply date."""
    reduced = params.decimal("vat_reduced_rate", supply)
    standard = params.decimal("vat_standard_rate", supply)
    return reduced if category_rate in (reduced, Decimal(7), Decimal(5)) else standard


def datev_tax_key(treatment: str, rate: Decimal, deductible: bool) -> str:
    """BU-Schlüssel of a self-assessed base posting; 16 % (2020) is treated like 19 %."""
    nominal = 19 if rate >= 16 else 7
    return DATEV_TAX_KEYS.get((treatment, nominal, deductible), "")


def revenue_category_key(treatment: str, country: str) -> str | None:
    """The dedicated revenue category of a tax-free or non-taxable sale, if any."""
    if treatment == OUT_NON_TAXABLE:
        return NON_TAXABLE_REVENUE["eu" if is_eu(country_of(country)) else "third"]
    return REVENUE_CATEGORY.get(treatment)


def exemption(
    code: str, reason: str, reason_code: str, *, small_business: bool, field: str
) -> tuple[str, str]:
    """BT-120 / BT-121 for a VAT breakdown group: given values, else the legal default; an
    exempt (E) group of a regular business needs the user to name the exemption."""
    reason = (reason or "").strip()
    reason_code = (reason_code or "").strip().upper()
    if len(reason) > REASON_MAX or len(reason_code) > REASON_CODE_MAX:
        raise ValidationFailed(
            "vat.exemption_reason_too_long",
            _("The exemption reason is too long."),
            [{"field": field}],
        )
    if code not in REASON_REQUIRED:
        return reason, reason_code
    if small_business and code == EXEMPT:
        return reason or SMALL_BUSINESS_REASON, reason_code
    if not reason and not reason_code:
        if code not in DEFAULT_REASONS:
            raise ValidationFailed(
                "vat.exemption_reason_missing",
                _(
                    "A tax-exempt invoice must name the exemption (e.g. § 4 Nr. 14 UStG); "
                    "enter the exemption reason."
                ),
                [{"field": field, "value": code}],
            )
        default_code_, default_text = DEFAULT_REASONS[code]
        return default_text, default_code_
    return reason, reason_code
