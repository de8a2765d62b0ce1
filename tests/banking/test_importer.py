"""The import pipeline: one batch per file, no duplicates, nothing half-stored, immutable lines."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.banking import importer
from belegwerk.banking.accounts import AccountData, create_account
from belegwerk.banking.models import BankAccount, BankTransaction, ImportBatch
from belegwerk.banking.statement import (
    ParsedStatement,
    ParsedTransaction,
    RejectedRow,
    stored_raw,
)
from belegwerk.core.audit import AuditEntry
from belegwerk.core.documents import Document
from belegwerk.core.errors import Conflict, NotFound, ValidationFailed

IBAN = "DE89370400440532013000"
OTHER_IBAN = "DE02120300000000202051"
DAY = date(2025, 3, 3)


def tx(
    n: int, amount: str = "-3.20", purpose: str | None = None, **kw: object
) -> ParsedTransaction:
    values: dict[str, object] = {
        "line_no": n + 5,
        "booking_date": DAY + timedelta(days=n),
        "amount": Decimal(amount),
        "value_date": DAY + timedelta(days=n),
        "counterparty_name": f"Partner {n}",
        "counterparty_iban": "DE44500105175407324931",
        "purpose": purpose if purpose is not None else f"Rechnung RE-{n}",
        "raw": {"Betrag": amount, "Zeile": str(n)},
    }
    values.update(kw)
    return ParsedTransaction(**values)  # type: ignore[arg-type]


def statement(
    transactions: list[ParsedTransaction],
    *,
    account_iban: str | None = None,
    rejected: list[RejectedRow] | None = None,
) -> ParsedStatement:
    return ParsedStatement(
        format="csv",
        template_key="dkb_2023",
        template_name="DKB (ab 2023)",
        score=Decimal("0.97"),
        transactions=transactions,
        rejected=rejected or [],
        account_iban=account_iban,
    )


@pytest.fixture
def account(session: Session, tenant_id: int) -> BankAccount:
    return create_account(session, tenant_id, AccountData(iban=IBAN, account_type="mixed"))


def run(
    session: Session,
    tenant_id: int,
    account: BankAccount,
    stmt: ParsedStatement,
    content: bytes = b"file-1",
    *,
    accept_rejected: bool = False,
) -> ImportBatch:
    batch = importer.import_statement(
        session,
        tenant_id,
        account.id,
        stmt,
        content,
        "umsaetze.csv",
        actor="tester",
        accept_rejected=accept_rejected,
    )
    session.commit()
    return batch


def count(session: Session, model: type, tenant_id: int) -> int:
    column = model.tenant_id  # type: ignore[attr-defined]
    return session.scalar(select(func.count()).select_from(model).where(column == tenant_id)) or 0


def stored(session: Session, account: BankAccount) -> list[BankTransaction]:
    query = (
        select(BankTransaction)
        .where(BankTransaction.account_id == account.id)
        .order_by(BankTransaction.booking_date, BankTransaction.line_no)
    )
    return list(session.scalars(query))


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_documented_exactly() -> None:
    expected = hashlib.sha256(
        b"7\x1f2025-03-03\x1f-320\x1fDE44500105175407324931\x1fkaffee re12 danke\x1fE2E-1"
    ).hexdigest()[: importer.FINGERPRINT_HEX]
    value = importer.fingerprint(
        7, DAY, -320, "de44 5001 0517 5407 3249 31", "  Kaffee,  RE-12\n DANKE! ", " E2E-1 "
    )
    assert value == expected
    batch = importer.fingerprints(
        7,
        [
            tx(0, purpose="  Kaffee,  RE-12\n DANKE! ", end_to_end_ref=" E2E-1 "),
            tx(0, purpose="kaffee re 12 danke", end_to_end_ref="E2E-1"),  # "re 12" ≠ "re12"
            tx(0, purpose="KAFFEE RE-12 DANKE", end_to_end_ref="E2E-1"),
        ],
    )
    assert batch[0] == (expected, 1)
    assert batch[1][0] != expected
    assert batch[2] == (expected, 2)
    # "NOTPROVIDED" is SEPA's placeholder for "no reference".
    assert importer.fingerprint(1, DAY, 1, "", "x", "NOTPROVIDED") == importer.fingerprint(
        1, DAY, 1, "", "x", ""
    )


def test_purposes_normalised_together_as_one_by_one() -> None:
    rnd = random.Random(11)
    alphabet = "aAßẞﬁİıΣσς  \t\n\x0b\x1c\x85\xa0\u2028.,-_!?/€1234567890äöÜé\u0301日😀\x00xyz"
    texts = ["".join(rnd.choices(alphabet, k=rnd.randint(0, 30))) for _ in range(3000)]
    for batch in (texts, [t.replace("\x00", "") for t in texts], [], ["A-b"]):
        together = importer.normalise_purposes(batch)
        assert together == {t: importer.normalise_purpose(t) for t in batch}


# --------------------------------------------------------------------------- dedupe


def test_same_file_twice_adds_nothing(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    rows = [tx(i) for i in range(5)]
    first = run(session, tenant_id, account, statement(rows))
    assert (first.rows, first.imported, first.duplicates, first.rejected) == (5, 5, 0, 0)
    assert not importer.same_file_imported(
        session, tenant_id, account.id, first.file_sha256, before_id=first.id
    )
    second = run(session, tenant_id, account, statement([tx(i) for i in range(5)]))
    assert (second.rows, second.imported, second.duplicates) == (5, 0, 5)
    assert second.document_id == first.document_id  # the original is archived once
    assert importer.same_file_imported(
        session, tenant_id, account.id, second.file_sha256, before_id=second.id
    )
    assert len(stored(session, account)) == 5
    assert count(session, Document, tenant_id) == 1


def test_overlapping_export_adds_only_the_new_tail(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    run(session, tenant_id, account, statement([tx(i) for i in range(0, 6)]), b"jan-feb")
    # The bank's second export repeats days 3..5 (other line numbers, purpose re-wrapped).
    later = [tx(i, line_no=100 + i, purpose=f"Rechnung\nRE-{i}") for i in range(3, 9)]
    batch = run(session, tenant_id, account, statement(later), b"feb-mar")
    assert (batch.imported, batch.duplicates) == (3, 3)
    assert [t.booking_date for t in stored(session, account)] == [
        DAY + timedelta(days=i) for i in range(9)
    ]


def test_identical_coffees_in_one_file_both_survive(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    coffee = {"purpose": "Kaffee", "counterparty_iban": "", "amount": "-3.20"}
    coffees = [tx(0, **coffee, line_no=6), tx(0, **coffee, line_no=7)]  # type: ignore[arg-type]
    first = run(session, tenant_id, account, statement(coffees), b"a")
    assert first.imported == 2
    lines = stored(session, account)
    assert [t.occurrence for t in lines] == [1, 2]
    assert lines[0].fingerprint == lines[1].fingerprint
    again = run(session, tenant_id, account, statement(coffees), b"a")
    assert (again.imported, again.duplicates) == (0, 2)
    # An overlapping export that lists only one of them adds nothing …
    one = run(session, tenant_id, account, statement(coffees[:1]), b"b")
    assert (one.imported, one.duplicates) == (0, 1)
    # … and one that lists a third coffee that day adds exactly that one.
    three = [*coffees, tx(0, **coffee, line_no=8)]  # type: ignore[arg-type]
    third = run(session, tenant_id, account, statement(three), b"c")
    assert (third.imported, third.duplicates) == (1, 2)
    assert [t.occurrence for t in stored(session, account)] == [1, 2, 3]


def test_other_reference_or_amount_is_not_a_duplicate(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    run(session, tenant_id, account, statement([tx(0, end_to_end_ref="E2E-1")]), b"a")
    batch = run(
        session,
        tenant_id,
        account,
        statement(
            [
                tx(0, end_to_end_ref="E2E-1"),  # duplicate
                tx(0, end_to_end_ref="E2E-2"),  # another transfer
                tx(0, amount="-3.21", end_to_end_ref="E2E-1"),
                tx(0, counterparty_iban="DE02120300000000202051", end_to_end_ref="E2E-1"),
            ]
        ),
        b"b",
    )
    assert (batch.imported, batch.duplicates) == (3, 1)


@pytest.mark.parametrize("n", [50, 2500])  # IN lists, and the date-range read beyond 2000
def test_dedupe_is_set_based_for_small_and_large_files(
    session: Session, tenant_id: int, account: BankAccount, n: int
) -> None:
    rows = [tx(i % 400, amount=f"-{1 + i}.00") for i in range(n)]
    assert run(session, tenant_id, account, statement(rows), b"x").imported == n
    more = [*rows, *[tx(i % 400, amount=f"{1 + i}.00") for i in range(10)]]
    batch = run(session, tenant_id, account, statement(more), b"y")
    assert (batch.imported, batch.duplicates) == (10, n)


def test_dedupe_is_per_account(session: Session, tenant_id: int, account: BankAccount) -> None:
    other = create_account(session, tenant_id, AccountData(iban=OTHER_IBAN))
    rows = [tx(i) for i in range(3)]
    run(session, tenant_id, account, statement(rows), b"x")
    batch = run(session, tenant_id, other, statement(rows), b"x")
    assert batch.imported == 3


# --------------------------------------------------------------------------- stored data


def test_stored_line_keeps_the_bank_data(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    line = tx(
        0,
        amount="1234.56",
        counterparty_iban="de44 5001 0517 5407 3249 31",
        counterparty_bic="INGDDEFFXXX",
        booking_text="Gutschrift",
        end_to_end_ref="E2E-77",
        mandate_ref="M-1",
        creditor_id="DE98ZZZ09999999999",
        gv_code="166",
        balance_after=Decimal("-5.10"),
        raw={"Buchungstag": "03.03.25", "Betrag": "1.234,56"},
    )
    batch = run(session, tenant_id, account, statement([line]))
    [t] = stored(session, account)
    assert t.batch_id == batch.id
    assert (t.amount, t.balance_after) == (Decimal("1234.56"), Decimal("-5.10"))
    assert (t.booking_date, t.value_date) == (DAY, DAY)
    assert t.counterparty_iban == "DE44500105175407324931"
    assert (t.booking_text, t.end_to_end_ref, t.mandate_ref, t.gv_code) == (
        "Gutschrift",
        "E2E-77",
        "M-1",
        "166",
    )
    assert json.loads(t.raw) == {"Buchungstag": "03.03.25", "Betrag": "1.234,56"}
    assert t.created_at.tzinfo is not None
    assert (batch.format, batch.template_key, batch.score) == ("csv", "dkb_2023", Decimal("0.97"))
    assert batch.created_by == "tester"
    doc = session.get(Document, batch.document_id)
    assert doc is not None and doc.content == b"file-1"
    assert doc.sha256 == hashlib.sha256(b"file-1").hexdigest() == batch.file_sha256


CSV_WITH_LINE_BREAK = (
    '"Buchungsdatum";"Wertstellung";"Status";"Zahlungspflichtige*r";"Zahlungsempfänger*in";'
    '"Verwendungszweck";"Umsatztyp";"IBAN";"Betrag (€)";"Gläubiger-ID";"Mandatsreferenz";'
    '"Kundenreferenz"\r\n'
    '"03.03.25";"03.03.25";"Gebucht";"Lena Schmidt";"Café Schwarz";"Kaffee";"Ausgang";"";'
    '"-3,2";"";"";""\r\n'
    '"04.03.25";"04.03.25";"Gebucht";"Müller & Partner mbB";"Lena Schmidt";"RE-7\r\n'
    'zweite Zeile ""zitiert""";"Eingang";"DE75512108001245126199";"1.190,00";"";"";"E2E-7"\r\n'
).encode()


def test_csv_lines_are_kept_as_the_bank_wrote_them(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    parsed = importer.preview(CSV_WITH_LINE_BREAK, "dkb.csv", template_key="dkb_2023")
    batch = run(session, tenant_id, account, parsed, CSV_WITH_LINE_BREAK)
    coffee, invoice = stored(session, account)
    lines = CSV_WITH_LINE_BREAK.decode().split("\r\n")
    assert coffee.raw == lines[1]  # the line itself, without its line break
    assert invoice.raw == lines[2] + "\r\n" + lines[3]  # a quoted cell over two lines
    assert batch.raw_layout is not None
    assert json.loads(batch.raw_layout)["columns"][4] == "Zahlungsempfänger*in"
    for line, expected in zip((coffee, invoice), parsed.transactions, strict=True):
        assert stored_raw(line.raw, batch.raw_layout) == expected.raw
    assert stored_raw(invoice.raw, batch.raw_layout)["Verwendungszweck"] == (
        'RE-7\r\nzweite Zeile "zitiert"'
    )
    assert invoice.purpose == 'RE-7 zweite Zeile "zitiert"'


def test_raw_rows_stored_as_json_objects_still_read() -> None:
    """Lines imported before the source text was kept, and MT940/CAMT lines."""
    assert stored_raw('{"Betrag":"1,00"}', None) == {"Betrag": "1,00"}
    assert stored_raw("[1]", None) == {"value": [1]}
    assert stored_raw("kaputt", None) == {}


def test_one_audit_record_per_batch(session: Session, tenant_id: int, account: BankAccount) -> None:
    batch = run(session, tenant_id, account, statement([tx(i) for i in range(20)]))
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.tenant_id == tenant_id, AuditEntry.entity == "bank_import_batch"
        )
    ).all()
    assert [(e.action, e.entity_id) for e in entries] == [("import", str(batch.id))]
    assert json.loads(entries[0].after or "{}")["imported"] == 20


def test_paypal_fee_points_to_its_payment(session: Session, tenant_id: int) -> None:
    paypal = create_account(session, tenant_id, AccountData(kind="paypal", email="shop@x.de"))
    payment = tx(0, amount="100.00", purpose="Bestellung 1")
    fee = tx(0, amount="-2.84", purpose="Gebühr Bestellung 1", fee_of=0)
    batch = run(session, tenant_id, paypal, statement([payment, fee, tx(1)]))
    assert batch.imported == 3
    lines = {t.amount: t for t in stored(session, paypal)}
    assert lines[Decimal("-2.84")].fee_of_id == lines[Decimal("100.00")].id
    assert lines[Decimal("100.00")].fee_of_id is None
    # The fee of a payment stored by an earlier import still finds it.
    late_fee = tx(0, amount="-0.35", purpose="Nachgebühr", fee_of=0)
    batch = run(session, tenant_id, paypal, statement([payment, late_fee]), b"again")
    assert (batch.imported, batch.duplicates) == (1, 1)
    lines = {t.amount: t for t in stored(session, paypal)}
    assert lines[Decimal("-0.35")].fee_of_id == lines[Decimal("100.00")].id


# --------------------------------------------------------------------------- refusals


def _nothing_stored(session: Session, tenant_id: int) -> None:
    for model in (ImportBatch, BankTransaction, Document):
        assert count(session, model, tenant_id) == 0
    actions = session.scalars(
        select(AuditEntry.entity).where(AuditEntry.tenant_id == tenant_id)
    ).all()
    assert "bank_import_batch" not in actions


def test_statement_of_another_account_is_refused(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    with pytest.raises(Conflict) as exc:
        importer.import_statement(
            session,
            tenant_id,
            account.id,
            statement([tx(0)], account_iban=OTHER_IBAN),
            b"x",
            "a.csv",
        )
    assert exc.value.code == "bank.account_mismatch"
    assert OTHER_IBAN in exc.value.message and IBAN in exc.value.message
    _nothing_stored(session, tenant_id)
    # A statement naming no IBAN, an invalid one, or the account's own (spaced) is fine.
    for own in (None, "DE99999999999999999999", "de89 3704 0044 0532 0130 00"):
        run(session, tenant_id, account, statement([tx(0)], account_iban=own))


def test_private_accounts_are_not_imported(session: Session, tenant_id: int) -> None:
    private = create_account(session, tenant_id, AccountData(iban=IBAN, account_type="private"))
    with pytest.raises(Conflict) as exc:
        importer.import_statement(session, tenant_id, private.id, statement([tx(0)]), b"x", "a")
    assert exc.value.code == "bank.private_account"
    _nothing_stored(session, tenant_id)


def test_rejected_rows_need_the_users_decision(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    bad = [RejectedRow(line=9, message='Zeile 9: "30.02.2025" ist kein gültiges Datum.')]
    stmt = statement([tx(0), tx(1)], rejected=bad)
    with pytest.raises(ValidationFailed) as exc:
        importer.import_statement(session, tenant_id, account.id, stmt, b"x", "a.csv")
    assert exc.value.code == "bank.rows_rejected"
    assert exc.value.details == [{"line": 9, "message": bad[0].message}]
    _nothing_stored(session, tenant_id)
    batch = run(session, tenant_id, account, stmt, accept_rejected=True)
    assert (batch.rows, batch.imported, batch.rejected) == (3, 2, 1)
    assert importer.batch_rejected(batch) == [{"line": 9, "message": bad[0].message}]


def test_empty_statement_is_refused(session: Session, tenant_id: int, account: BankAccount) -> None:
    with pytest.raises(ValidationFailed) as exc:
        importer.import_statement(session, tenant_id, account.id, statement([]), b"x", "a.csv")
    assert exc.value.code == "bank.no_transactions"
    _nothing_stored(session, tenant_id)


def test_error_during_the_import_leaves_nothing(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    session.commit()
    broken = [tx(0), tx(1, line_no=None)]  # NOT NULL: fails in the insert, after the archive
    with pytest.raises(DBAPIError):
        importer.import_statement(session, tenant_id, account.id, statement(broken), b"x", "a")
    session.rollback()
    _nothing_stored(session, tenant_id)


def test_absurd_amount_is_refused_with_its_line(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    broken = [tx(0), tx(1, amount="99999999999999999999.00")]
    with pytest.raises(ValidationFailed) as exc:
        importer.import_statement(session, tenant_id, account.id, statement(broken), b"x", "a")
    assert exc.value.code == "bank.amount_too_large"
    assert exc.value.details[0]["line"] == 6
    _nothing_stored(session, tenant_id)


# --------------------------------------------------------------------------- immutability


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE bank_transactions SET amount = 1 WHERE tenant_id = :t",
        "DELETE FROM bank_transactions WHERE tenant_id = :t",
        "UPDATE bank_import_batches SET imported = 0 WHERE tenant_id = :t",
        "DELETE FROM bank_import_batches WHERE tenant_id = :t",
    ],
)
def test_raw_sql_cannot_change_imported_lines(
    session: Session, tenant_id: int, account: BankAccount, sql: str
) -> None:
    run(session, tenant_id, account, statement([tx(0)]))
    with pytest.raises(DBAPIError, match="immutable"):
        session.execute(text(sql), {"t": tenant_id})
    session.rollback()
    [line] = stored(session, account)
    assert line.amount == Decimal("-3.20")


# --------------------------------------------------------------------------- reading


def test_list_and_filter_transactions(
    session: Session, tenant_id: int, account: BankAccount, make_tenant: Callable[..., int]
) -> None:
    rows = [
        tx(0, amount="500.00", counterparty_name="Müller & Partner", purpose="RE-1001"),
        tx(1, amount="-49.99", counterparty_name="Telekom", purpose="Rechnung 100%_sicher"),
        tx(2, amount="-8.67", counterparty_name="EDEKA", purpose="EDEKA SAGT DANKE"),
    ]
    batch = run(session, tenant_id, account, statement(rows))
    page = importer.list_transactions(session, tenant_id)
    assert page.total == 3
    assert [t.booking_date for t in page.items] == [DAY + timedelta(days=d) for d in (2, 1, 0)]
    assert importer.list_transactions(session, tenant_id, direction="in").total == 1
    assert importer.list_transactions(session, tenant_id, direction="out").total == 2
    assert importer.list_transactions(session, tenant_id, search="telekom").total == 1
    assert importer.list_transactions(session, tenant_id, search="100%_").total == 1
    assert importer.list_transactions(session, tenant_id, search="0%s").total == 0
    assert importer.list_transactions(session, tenant_id, search="DE4450010517").total == 3
    window = importer.list_transactions(
        session, tenant_id, date_from=DAY + timedelta(days=1), date_to=DAY + timedelta(days=1)
    )
    assert [t.counterparty_name for t in window.items] == ["Telekom"]
    paged = importer.list_transactions(
        session, tenant_id, account_id=account.id, page=2, page_size=2
    )
    assert (paged.total, len(paged.items), paged.page) == (3, 1, 2)
    assert importer.list_transactions(session, tenant_id, batch_id=batch.id).total == 3
    with pytest.raises(ValidationFailed):
        importer.list_transactions(session, tenant_id, direction="sideways")
    first = page.items[0]
    assert importer.get_transaction(session, tenant_id, first.id).id == first.id
    assert importer.get_batch(session, tenant_id, batch.id).imported == 3
    assert importer.list_batches(session, tenant_id).total == 1
    other = make_tenant()
    session.info["tenant_id"] = other
    session.commit()
    with pytest.raises(NotFound):
        importer.get_transaction(session, other, first.id)
    assert importer.list_transactions(session, other).total == 0


def test_account_iban_is_fixed_once_imported(
    session: Session, tenant_id: int, account: BankAccount
) -> None:
    from belegwerk.banking.accounts import update_account

    run(session, tenant_id, account, statement([tx(0)]))
    with pytest.raises(Conflict) as exc:
        update_account(session, tenant_id, account.id, {"iban": OTHER_IBAN})
    assert exc.value.code == "bank.account_in_use"
    assert update_account(session, tenant_id, account.id, {"name": "Neu"}).name == "Neu"


def test_same_account_compares_german_bank_code_and_number() -> None:
    assert importer.same_account("DE89370400440532013000", "DE89370400440532013000")
    # Same BLZ and account, other check digits (an IBAN derived with the plain rule).
    assert importer.same_account("DE00370400440532013000", "DE89370400440532013000")
    assert not importer.same_account("DE89370400440532013001", "DE89370400440532013000")
    assert not importer.same_account("AT611904300234573201", "DE89370400440532013000")
