"""DATEV Debitoren/Kreditoren (EXTF 700, category 16, format version 5) from the parties.

Customers become Debitoren under their customer number (10000–69999), suppliers Kreditoren
under their supplier number (70000–99999): the Personenkonten the Buchungsstapel books on.
Belegwerk does not know whether a party is a company or a person, so the name goes into
"Name (Adressattyp keine Angabe)" with Adressattyp 0.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from belegwerk.books.models import Party
from belegwerk.core.dates import today
from belegwerk.core.i18n import _
from belegwerk.exports import datev_format as fmt
from belegwerk.exports.datev_export import MEDIA_TYPE, check_company, header
from belegwerk.exports.period import fiscal_year_start
from belegwerk.exports.service import ExportFile, Findings, record_export, require_clean
from belegwerk.tenancy.service import get_company

FILE_NAME = "EXTF_Debitoren_Kreditoren.csv"


def _text(value: str, column: int) -> str:
    return fmt.quote(fmt.clean_text(value, fmt.PARTY_MAX_LENGTH.get(column, 60)))


def party_line(party: Party, number: int, template: list[str]) -> str:
    """One Personenkonto: the party's name, address, VAT id and main bank account."""
    fields = template.copy()
    fields[0] = str(number)
    fields[5] = _text(party.name, 2)  # Name (Adressattyp keine Angabe), max. 50
    fields[6] = _text("0", 7)
    fields[7] = _text(party.name, 8)  # Kurzbezeichnung, max. 15
    vat_id = party.vat_id.replace(" ", "").upper()
    if len(vat_id) > 2 and vat_id[:2].isalpha():
        fields[8] = _text(vat_id[:2], 9)  # EU-Land
        fields[9] = _text(vat_id[2:], 10)  # EU-UStID without the country
    if party.street:
        fields[14] = _text("STR", 15)
        fields[15] = _text(party.street, 16)
    fields[17] = _text(party.postal_code, 18)
    fields[18] = _text(party.city, 19)
    fields[19] = _text(party.country or "DE", 20)
    fields[32] = _text(party.email, 33)
    if party.iban:
        fields[44] = _text(party.iban, 45)
        fields[46] = _text(party.bic, 47)
        fields[48] = "1"  # Kennz. Haupt-Bankverb. 1
    return fmt.line(fields)


def export_parties(session: Session, tenant_id: int, *, actor: str = "local") -> ExportFile:
    """Check, write and log the Debitoren/Kreditoren file of every numbered party."""
    company = get_company(session, tenant_id)
    findings = Findings()
    check_company(company, findings)
    parties = list(
        session.scalars(
            select(Party)
            .where(
                Party.tenant_id == tenant_id,
                or_(Party.customer_number.is_not(None), Party.supplier_number.is_not(None)),
            )
            .order_by(Party.id)
        )
    )
    if not parties:
        findings.add("warning", "datev.no_parties", _("There are no customers or suppliers yet."))
    require_clean(findings, True, _("Debitoren/Kreditoren file"))
    template = fmt.empty_row(len(fmt.PARTY_COLUMNS), fmt.PARTY_TEXT)
    accounts: list[tuple[int, Party]] = []
    for party in parties:
        if party.is_customer and party.customer_number:
            accounts.append((party.customer_number, party))
        if party.is_supplier and party.supplier_number:
            accounts.append((party.supplier_number, party))
    accounts.sort(key=lambda item: item[0])
    fy_start: date = fiscal_year_start(today(), company.fiscal_year_start_month)
    head = header(
        company,
        category=fmt.PARTIES_CATEGORY,
        name=fmt.PARTIES_FORMAT,
        version=fmt.PARTIES_VERSION,
        fiscal_year_start=fy_start,
        chart=company.chart,
        actor=actor,
    )
    lines = [party_line(party, number, template) for number, party in accounts]
    content = fmt.encode([head, fmt.column_line(fmt.PARTY_COLUMNS), *lines])
    entry = record_export(
        session,
        tenant_id,
        kind="datev_parties",
        period=None,
        records=len(lines),
        file_name=FILE_NAME,
        content=content,
        locked=False,
        findings=findings.warnings,
        actor=actor,
    )
    return ExportFile(FILE_NAME, MEDIA_TYPE, content, len(lines), entry.id, findings.items)
