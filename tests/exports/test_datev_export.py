"""DATEV Buchungsstapel export: format rules, BU-Schlüssel, Generalumkehr, Personenkonten,
checks before the export and the export log."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.banking import accounts as bank_accounts
from belegwerk.banking import importer
from belegwerk.books import journal
from belegwerk.books.categories import category_by_key
from belegwerk.core.audit import AuditEntry
from belegwerk.core.db import session_factory
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.exports import datev_format as fmt
from belegwerk.exports.datev_export import booking_guid, export_datev, prepare
from belegwerk.exports.datev_parties import export_parties
from belegwerk.exports.models import ExportLog
from belegwerk.exports.service import set_datev_lock
from belegwerk.tenancy.service import update_company
from tests.exports.books import YEAR, book_year
from tests.exports.extf import check_booking_file, split_raw, unquote

FROM, TO = date(YEAR, 1, 1), date(YEAR, 12, 31)


def _by_voucher(rows: list[list[str]], voucher: str) -> list[list[str]]:
    return [r for r in rows if unquote(r[10]) == voucher]


def test_export_follows_the_format_rules(session: Session, tenant_id: int) -> None:
    """EXTF 700/21/13: 31 header fields, 125 columns per line, cp1252, CR LF, quoting,
    decimal comma, gross amount positive with S/H on Konto, Belegdatum TTMM."""
    book_year(session, tenant_id)
    export = export_datev(session, tenant_id, FROM, TO, actor="Anna Beispiel")
    checked = check_booking_file(export.content)
    head = checked.header
    assert head[7] == '"BW"' and head[8] == '"Anna Beispiel"'
    assert head[10:16] == ["29098", "55003", "20250101", "4", "20250101", "20251231"]
    assert unquote(head[16]) == "Belegwerk 01.01.25-31.12.25"
    assert head[18:22] == ["1", "0", "0", '"EUR"']  # Buchungstyp, Zweck, Festschreibung, WKZ
    assert head[26] == '"03"'
    assert export.records == len(checked.rows) == 10
    assert export.file_name == "EXTF_Buchungsstapel_20250101-20251231.csv"

    sale = _by_voucher(checked.rows, "RE-2025-00001")[0]
    # Debitor 10000 in Soll, revenue 8400 (automatic account: no BU-Schlüssel), gross 1190.
    assert sale[:10] == ["1190,00", '"S"', '""', "", "", '""', "10000", "8400", '""', "0302"]
    assert unquote(sale[13]) == "RE-2025-00001 Müller & Söhne GmbH"
    assert sale[47:49] == ['"Belegwerk-Kategorie"', '"revenue_19"']
    office = _by_voucher(checked.rows, "ER-2025-00001")[0]
    # Kreditor 70000 in Haben, office supplies 4930 is no automatic account: BU 9 (VSt 19 %).
    assert office[:10] == ["100,00", '"H"', '""', "", "", '""', "70000", "4930", '"9"', "1202"]
    assert unquote(office[13]) == "ER-2025-00001 Bürobedarf Lukasz KG"  # Ł is not in cp1252
    goods = _by_voucher(checked.rows, "ER-2025-00002")[0]
    assert (goods[7], goods[8]) == ("3400", '""')  # automatic input-VAT account
    reduced = _by_voucher(checked.rows, "RE-2025-00002")[0]
    assert (reduced[0], reduced[7], reduced[8]) == ("214,00", "8300", '""')
    payment = _by_voucher(checked.rows, "RE-2025-00001")[-1]  # the bank payment
    assert payment[:9] == ["1190,00", '"S"', '""', "", "", '""', "1200", "10000", '""']
    assert payment[47] == '""' and sale[117] == '""'


def test_reversal_is_a_generalumkehr(session: Session, tenant_id: int) -> None:
    """DATEV's Generalumkehr: the Storno is entered with Soll/Haben exchanged and field 118
    set, so DATEV books it as a minus on the original side."""
    book_year(session, tenant_id)
    rows = check_booking_file(export_datev(session, tenant_id, FROM, TO).content).rows
    original = _by_voucher(rows, "RE-2025-00003")[0]
    storno = _by_voucher(rows, "RE-2025-00004")[0]
    assert original[1] == '"S"' and original[117] == '""'
    assert storno[1] == '"H"' and storno[117] == '"1"'
    assert (storno[0], storno[6], storno[7], storno[8]) == (
        original[0],
        original[6],
        original[7],
        original[8],
    )
    assert storno[9] == "2202"
    assert storno[49:51] == ['"Storno zu Buchung"', original[102]]
    cash_storno = _by_voucher(rows, "K-000003")[0]
    assert (cash_storno[1], cash_storno[6], cash_storno[7], cash_storno[8]) == (
        '"S"',
        "1000",
        "4930",
        '"9"',
    )
    assert cash_storno[117] == '"1"'


def test_tax_key_of_a_posting_is_passed_through(session: Session, tenant_id: int) -> None:
    """Special VAT cases carry their BU-Schlüssel on the posting (e.g. § 13b); the export
    writes it unchanged and warns when it sits on an automatic account."""
    book_year(session, tenant_id)
    day = date(YEAR, 3, 3)
    journal.post(
        session,
        tenant_id,
        "manual",
        1,
        [
            journal.Line(
                day,
                "4900",
                "1200",
                Decimal("100.00"),
                Decimal("100.00"),
                Decimal(0),
                Decimal(0),
                None,
                "RC-1",
                "Reverse Charge",
                tax_key="94",
            ),
            journal.Line(
                day,
                "1200",
                "8400",
                Decimal("10.00"),
                Decimal("10.00"),
                Decimal(0),
                Decimal(0),
                None,
                "RC-2",
                "Schlüssel auf Automatik",
                tax_key="3",
            ),
        ],
    )
    prepared = prepare(session, tenant_id, FROM, TO)
    codes = {f.code: f.level for f in prepared.findings.items}
    assert codes["datev.key_on_automatic"] == "warning"
    with pytest.raises(Conflict) as refused:
        export_datev(session, tenant_id, FROM, TO)
    assert refused.value.code == "export.warnings_unconfirmed"
    rows = check_booking_file(
        export_datev(session, tenant_id, FROM, TO, confirm_warnings=True).content
    ).rows
    rc = _by_voucher(rows, "RC-1")[0]
    assert (rc[6], rc[7], rc[8]) == ("1200", "4900", '"94"')
    assert _by_voucher(rows, "RC-2")[0][8] == '"3"'


def test_reverse_charge_base_carries_the_key_and_the_self_assessed_tax_stays_home(
    session: Session, tenant_id: int
) -> None:
    """§ 13b: the purchase is exported with its BU-Schlüssel (94 = § 13b 19 % with input VAT);
    the self-assessed tax posting is not, because DATEV computes it from that key."""
    from belegwerk.books import invoices, parties
    from belegwerk.books.invoice_calc import LineInput
    from belegwerk.books.models import Posting

    book_year(session, tenant_id)
    supplier = parties.create_party(
        session,
        tenant_id,
        parties.PartyData(
            name="Wiener Design GmbH", is_supplier=True, country="AT", vat_id="ATU13585627"
        ),
    ).id
    draft = invoices.create_draft(
        session,
        tenant_id,
        invoices.InvoiceInput(
            direction="in",
            issue_date=date(YEAR, 4, 2),
            party_id=supplier,
            external_number="W-17",
            lines=[
                LineInput(
                    description="Gestaltung",
                    quantity=Decimal(1),
                    unit_price=Decimal("1000.00"),
                    vat_rate=Decimal(0),
                    category_id=category_by_key(session, "external_services").id,
                    vat_category="AE",
                )
            ],
        ),
    )
    booked = invoices.book_invoice(session, tenant_id, draft.id)
    voucher = booked.number or ""
    assert session.scalar(
        select(Posting.id).where(Posting.voucher == voucher, Posting.self_assessed.is_(True))
    )
    rows = check_booking_file(export_datev(session, tenant_id, FROM, TO).content).rows
    lines = _by_voucher(rows, voucher)
    assert len(lines) == 1
    assert (lines[0][0], lines[0][6], lines[0][7], lines[0][8]) == (
        "1000,00",
        "70001",
        "3100",
        '"94"',
    )


def test_skr04_accounts(make_tenant: Callable[..., int], engine: Engine) -> None:
    tenant = make_tenant(chart="skr04")
    with session_factory(engine)() as session:
        session.info["tenant_id"] = tenant
        book_year(session, tenant)
        checked = check_booking_file(export_datev(session, tenant, FROM, TO).content)
        assert checked.header[26] == '"04"'
        sale = _by_voucher(checked.rows, "RE-2025-00001")[0]
        assert (sale[6], sale[7], sale[8]) == ("10000", "4400", '""')
        office = _by_voucher(checked.rows, "ER-2025-00001")[0]
        assert (office[6], office[7], office[8]) == ("70000", "6815", '"9"')
        goods = _by_voucher(checked.rows, "ER-2025-00002")[0]
        assert (goods[7], goods[8]) == ("5400", '""')
        payment = _by_voucher(checked.rows, "RE-2025-00001")[-1]
        assert (payment[6], payment[7]) == ("1800", "10000")
        session.rollback()


def test_festschreibung_follows_the_setting(session: Session, tenant_id: int) -> None:
    book_year(session, tenant_id)
    set_datev_lock(session, tenant_id, True, actor="Anna")
    export = export_datev(session, tenant_id, FROM, TO)
    assert check_booking_file(export.content).header[20] == "1"
    entry = session.get(ExportLog, export.log_id)
    assert entry is not None and entry.locked
    audited = session.scalars(
        select(AuditEntry.entity).where(AuditEntry.tenant_id == tenant_id)
    ).all()
    assert "export_settings" in audited and "export_log" in audited


def test_every_export_is_logged_and_the_log_is_immutable(session: Session, tenant_id: int) -> None:
    book_year(session, tenant_id)
    export = export_datev(session, tenant_id, FROM, TO, actor="Steuerbüro")
    entry = session.get(ExportLog, export.log_id)
    assert entry is not None
    assert (entry.kind, entry.period_start, entry.period_end) == ("datev", FROM, TO)
    assert entry.records == export.records == 10
    assert entry.sha256 == hashlib.sha256(export.content).hexdigest()
    assert entry.size == len(export.content) and entry.created_by == "Steuerbüro"
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE export_log SET records = 1 WHERE id = :i"), {"i": entry.id})
        session.flush()
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM export_log WHERE id = :i"), {"i": entry.id})
    session.rollback()


def _refused(session: Session, tenant_id: int, start: date, end: date) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        export_datev(session, tenant_id, start, end, confirm_warnings=True)
    return caught.value


def test_missing_advisor_and_client_numbers_block_the_export(
    session: Session, tenant_id: int
) -> None:
    book_year(session, tenant_id, numbers=False)
    error = _refused(session, tenant_id, FROM, TO)
    assert error.code == "export.checks_failed"
    codes = {d["code"] for d in error.details}
    assert {"datev.advisor_missing", "datev.client_missing"} <= codes
    assert "Beraternummer" in error.message
    assert session.scalar(select(ExportLog.id).where(ExportLog.tenant_id == tenant_id)) is None
    update_company(session, tenant_id, {"advisor_number": "999", "client_number": "1"})
    error = _refused(session, tenant_id, FROM, TO)
    assert {d["code"] for d in error.details} == {"datev.advisor_invalid"}


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(YEAR, 6, 1), date(YEAR + 1, 1, 31), "datev.two_fiscal_years"),
        (date(YEAR, 6, 1), date(YEAR, 5, 31), "export.period_reversed"),
        (
            date.today() + timedelta(days=3),
            date.today() + timedelta(days=9),
            "export.period_in_future",
        ),
    ],
)
def test_bad_periods_are_refused(
    session: Session, tenant_id: int, start: date, end: date, code: str
) -> None:
    book_year(session, tenant_id)
    error = _refused(session, tenant_id, start, end)
    assert error.code == code
    if code == "datev.two_fiscal_years":
        assert "zwei Wirtschaftsjahre" in error.message
        assert "31.12.2025" in error.message


def test_fiscal_year_not_starting_in_january(session: Session, tenant_id: int) -> None:
    update_company(
        session,
        tenant_id,
        {"fiscal_year_start_month": 7, "advisor_number": "1001", "client_number": "7"},
    )
    error = _refused(session, tenant_id, date(YEAR, 6, 1), date(YEAR, 7, 31))
    assert error.code == "datev.two_fiscal_years"
    prepared = prepare(session, tenant_id, date(YEAR - 1, 7, 1), date(YEAR, 6, 30))
    assert prepared.period.fiscal_year_start == date(YEAR - 1, 7, 1)


def test_postings_dated_in_the_future_block_the_export(session: Session, tenant_id: int) -> None:
    today = date.today()
    update_company(
        session,
        tenant_id,
        {"fiscal_year_start_month": today.month, "advisor_number": "1001", "client_number": "7"},
    )
    tomorrow = today + timedelta(days=1)
    journal.post(
        session,
        tenant_id,
        "manual",
        1,
        [
            journal.transfer_line(
                posting_date=tomorrow,
                debit_account="1000",
                credit_account="1200",
                amount=Decimal("50.00"),
                voucher="M-1",
                text="Bargeld",
            )
        ],
    )
    error = _refused(session, tenant_id, today.replace(day=1), tomorrow)
    assert {d["code"] for d in error.details} == {"datev.future_posting"}


def test_uncategorised_bank_lines_need_confirming(session: Session, tenant_id: int) -> None:
    """Business bank lines without category are not in the journal: the export would miss
    them, so it waits for the user to confirm."""
    book_year(session, tenant_id)
    account = bank_accounts.create_account(
        session,
        tenant_id,
        bank_accounts.AccountData(iban="DE02120300000000202051", account_type="business"),
    )
    csv = (
        "Booking Date,Value Date,Partner Name,Partner Iban,Type,Payment Reference,"
        "Account Name,Amount (EUR),Original Amount,Original Currency,Exchange Rate\n"
        f"{YEAR}-03-02,{YEAR}-03-02,Stadtwerke,DE89370400440532013000,Lastschrift,"
        "Strom Februar,Main,-80.00,,,\n"
    ).encode()
    statement = importer.preview(csv, "n26.csv")
    importer.import_statement(
        session, tenant_id, account.id, statement, csv, "n26.csv", classify=False
    )
    with pytest.raises(Conflict) as refused:
        export_datev(session, tenant_id, FROM, TO)
    assert refused.value.code == "export.warnings_unconfirmed"
    assert refused.value.details[0]["code"] == "datev.uncategorised_bank_lines"
    assert "Stadtwerke" in refused.value.details[0]["message"]
    assert session.scalar(select(ExportLog.id).where(ExportLog.tenant_id == tenant_id)) is None
    export = export_datev(session, tenant_id, FROM, TO, confirm_warnings=True)
    entry = session.get(ExportLog, export.log_id)
    assert entry is not None and "datev.uncategorised_bank_lines" in entry.warnings


def test_guid_is_stable_per_posting(session: Session, tenant_id: int) -> None:
    book_year(session, tenant_id)
    first = check_booking_file(export_datev(session, tenant_id, FROM, TO).content).rows
    second = check_booking_file(export_datev(session, tenant_id, FROM, TO).content).rows
    assert [r[102] for r in first] == [r[102] for r in second]
    assert len({r[102] for r in first}) == len(first)
    assert unquote(first[0][102]) == booking_guid(tenant_id, _first_posting_id(session, tenant_id))


def _first_posting_id(session: Session, tenant_id: int) -> int:
    from belegwerk.books.models import Posting

    return int(
        session.scalar(
            select(Posting.id)
            .where(Posting.tenant_id == tenant_id)
            .order_by(Posting.posting_date, Posting.id)
            .limit(1)
        )
        or 0
    )


def test_debitors_and_creditors_file(session: Session, tenant_id: int) -> None:
    """Category 16, format version 5: one line per Personenkonto, 254 fields each."""
    book_year(session, tenant_id)
    export = export_parties(session, tenant_id)
    text_ = export.content.decode("cp1252")
    lines = text_[:-2].split("\r\n")
    head = split_raw(lines[0])
    assert len(head) == 31
    assert head[:5] == ['"EXTF"', "700", "16", '"Debitoren/Kreditoren"', "5"]
    assert head[14:17] == ["", "", '""']  # no period for master data
    assert split_raw(lines[1]) == list(fmt.PARTY_COLUMNS) and len(fmt.PARTY_COLUMNS) == 254
    rows = [split_raw(line) for line in lines[2:]]
    assert all(len(r) == 254 for r in rows)
    debitor, creditor = rows
    assert debitor[0] == "10000" and unquote(debitor[5]) == "Müller & Söhne GmbH"
    assert (unquote(debitor[8]), unquote(debitor[9])) == ("DE", "136695976")
    assert unquote(debitor[15]) == "Hauptstraße 1" and unquote(debitor[44]).startswith("DE89")
    assert creditor[0] == "70000" and unquote(creditor[5]) == "Bürobedarf Lukasz KG"
    assert len(unquote(debitor[7])) <= 15
    assert export.records == 2


def test_cash_entry_category_comes_with_the_line(session: Session, tenant_id: int) -> None:
    book_year(session, tenant_id)
    rows = check_booking_file(export_datev(session, tenant_id, FROM, TO).content).rows
    cash_sale = _by_voucher(rows, "K-000001")[0]
    key = category_by_key(session, "revenue_19").key
    assert cash_sale[47:49] == ['"Belegwerk-Kategorie"', f'"{key}"']
    assert (cash_sale[6], cash_sale[7], cash_sale[1]) == ("1000", "8400", '"S"')
