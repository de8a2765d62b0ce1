"""Mein-ELSTER upload file of a UStVA ("Formulardaten hochladen"), no ERiC needed.

Shape since the 2021 schema: ``Anmeldungssteuern`` in the namespace
``http://finkonsens.de/elster/elsteranmeldung/ustva/v<year>`` with ``version="<year>"`` and no
``art`` attribute; ``Erstellungsdatum`` before ``DatenLieferant``; ``Steuerfall`` /
``Umsatzsteuervoranmeldung`` with ``Jahr``, ``Zeitraum`` (01–12, 41–44), ``Steuernummer`` in the
13-digit ELSTER form and one ``KzNN`` element per non-empty Kennzahl; ISO-8859-15.
(Facts: the 2021 ERiC release notes quoted in microsoft/ALAppExtensions#9905 and the 2026
namespace of OCA/l10n-germany#250.)
"""

from __future__ import annotations

from datetime import date

from lxml import etree
from stdnum.de import stnr

from belegwerk.core.dates import today
from belegwerk.core.errors import ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.tax.ustva import Ustva
from belegwerk.tenancy.models import Company

ENCODING = "ISO-8859-15"


def elster_tax_number(company: Company) -> str:
    """The Steuernummer in the 13-digit ELSTER form (regional forms are converted)."""
    value = (company.tax_number or "").strip()
    if not value:
        raise ValidationFailed(
            "ustva.tax_number_missing",
            _("The company has no Steuernummer; enter it in the settings first."),
            [{"field": "tax_number"}],
        )
    digits = stnr.compact(value)
    if len(digits) == 13:
        return digits
    try:
        return str(stnr.to_country_number(value, _region(company.state)))
    except Exception:
        raise ValidationFailed(
            "ustva.tax_number_region",
            _(
                "The Steuernummer {value} is in regional form; choose the Bundesland in the "
                "settings so it can be converted to the 13-digit ELSTER form."
            ).format(value=value),
            [{"field": "tax_number", "value": value}],
        ) from None


_REGIONS = {
    "BW": "Baden-Württemberg", "BY": "Bayern", "BE": "Berlin", "BB": "Brandenburg",
    "HB": "Bremen", "HH": "Hamburg", "HE": "Hessen", "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen", "NW": "Nordrhein-Westfalen", "RP": "Rheinland-Pfalz",
    "SL": "Saarland", "SN": "Sachsen", "ST": "Sachsen-Anhalt", "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}  # fmt: skip


def _region(state: str) -> str | None:
    return _REGIONS.get((state or "").upper())


def build(ustva: Ustva, company: Company, created: date | None = None) -> bytes:
    """The XML document (bytes in ISO-8859-15)."""
    if ustva.errors:
        raise ValidationFailed(
            "ustva.has_errors",
            _("The UStVA has errors that must be fixed first: {errors}").format(
                errors="; ".join(c.message for c in ustva.errors)
            ),
            [{"code": c.code} for c in ustva.errors],
        )
    ns = ustva.form.namespace
    root = etree.Element(f"{{{ns}}}Anmeldungssteuern", nsmap={None: ns})
    root.set("version", ustva.form.version)

    def sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        el = etree.SubElement(parent, f"{{{ns}}}{tag}")
        if text is not None:
            el.text = text
        return el

    sub(root, "Erstellungsdatum", (created or today()).strftime("%Y%m%d"))
    supplier = sub(root, "DatenLieferant")
    sub(supplier, "Name", company.name[:45])
    sub(supplier, "Strasse", company.street[:30])
    sub(supplier, "PLZ", company.postal_code[:12])
    sub(supplier, "Ort", company.city[:30])
    if company.email:
        sub(supplier, "Email", company.email[:70])
    case = sub(sub(root, "Steuerfall"), "Umsatzsteuervoranmeldung")
    sub(case, "Jahr", str(ustva.period.year))
    sub(case, "Zeitraum", ustva.period.code)
    sub(case, "Steuernummer", elster_tax_number(company))
    for kz in ustva.ordered_kz():
        text = ustva.box_text(kz)
        if text:
            sub(case, f"Kz{kz}", text)
    return bytes(etree.tostring(root, xml_declaration=True, encoding=ENCODING, pretty_print=True))
