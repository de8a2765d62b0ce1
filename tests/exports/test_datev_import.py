"""DATEV import: round trip with the export, the public samples, refused files, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from belegwerk.books.models import Category, Posting
from belegwerk.core.db import session_factory
from belegwerk.core.documents import Document, sha256_of
from belegwerk.core.errors import Conflict, ValidationFailed
from belegwerk.exports.datev_export import export_datev
from belegwerk.exports.datev_format import cp1252_text
from belegwerk.exports.datev_import import SOURCE_TYPE, import_file
from belegwerk.exports.models import DatevImport
from tests.conftest import corpus_path
from tests.exports.books import YEAR, book_year

D = Decimal
FROM, TO = date(YEAR, 1, 1), date(YEAR, 12, 31)


def journal_of(session: Session, tenant_id: int) -> list[tuple[Any, ...]]:
    """The postings as comparable values: categories by key, reversals by voucher."""
    keys = dict(session.execute(select(Category.id, Category.key)).all())
    rows = session.scalars(
        select(Posting).where(Posting.tenant_id == tenant_id).order_by(Posting.id)
    ).all()
    by_id = {p.id: p for p in rows}
    out = [
        (
            p.posting_date,
            p.debit_account,
            p.credit_account,
            p.amount,
            p.net_amount,
            p.tax_amount,
            p.tax_rate,
            p.tax_account,
            p.tax_key,
            p.voucher,
            cp1252_text(p.text),
            keys.get(p.category_id),
            by_id[p.reverses_id].voucher if p.reverses_id else None,
            p.vat_treatment if p.tax_amount else "",  # what the UStVA reads
        )
        for p in rows
    ]
    return sorted(out, key=lambda r: (r[0], r[9], r[1], r[3]))


@pytest.fixture
def fresh(make_tenant: Callable[..., int], engine: Engine) -> Callable[..., tuple[Session, int]]:
    """A second tenant with its own session (closed by the test's end)."""
    opened: list[Session] = []

    def factory(**company: Any) -> tuple[Session, int]:
        tenant = make_tenant(name="Neue Buchhaltung GmbH", **company)
        session = session_factory(engine)()
        session.info["tenant_id"] = tenant
        opened.append(session)
        return session, tenant

    yield factory  # type: ignore[misc]
    for s in opened:
        s.rollback()
        s.close()


@pytest.mark.parametrize("chart", ["skr03", "skr04"])
def test_round_trip_gives_the_same_postings(
    engine: Engine,
    make_tenant: Callable[..., int],
    fresh: Callable[..., tuple[Session, int]],
    chart: str,
) -> None:
    """Export → import into a fresh tenant → the same postings: accounts (Personenkonten back
    to receivables/payables), amounts, VAT split, tax key, voucher, text, category, reversal."""
    source = make_tenant(chart=chart)
    with session_factory(engine)() as session:
        session.info["tenant_id"] = source
        book_year(session, source)
        export = export_datev(session, source, FROM, TO)
        original = journal_of(session, source)
        session.rollback()
    target_session, target = fresh(chart=chart)
    result = import_file(target_session, target, export.content, export.file_name)
    assert result.imported == len(original) == 10
    assert result.uncategorised == [] and result.warnings == []
    assert journal_of(target_session, target) == original
    sources = target_session.scalars(
        select(Posting.source_type).where(Posting.tenant_id == target).distinct()
    ).all()
    assert sources == [SOURCE_TYPE]


def test_file_is_archived_and_the_batch_recorded(
    session: Session, tenant_id: int, fresh: Callable[..., tuple[Session, int]]
) -> None:
    book_year(session, tenant_id)
    export = export_datev(session, tenant_id, FROM, TO)
    session.commit()  # SQLite: one writer at a time
    target_session, target = fresh(chart="skr03")
    result = import_file(target_session, target, export.content, export.file_name, actor="Max")
    batch = result.batch
    document = target_session.get(Document, batch.document_id)
    assert document is not None and document.content == export.content
    assert document.sha256 == batch.sha256 == sha256_of(export.content)
    assert (batch.marker, batch.header_version, batch.format_version) == ("EXTF", 700, 13)
    assert (batch.advisor_number, batch.client_number) == ("29098", "55003")
    assert (batch.period_start, batch.period_end) == (FROM, TO)
    assert (batch.rows, batch.imported, batch.created_by) == (10, 10, "Max")
    target_session.commit()
    with pytest.raises(DBAPIError):
        target_session.execute(text("UPDATE datev_imports SET imported = 0"))
        target_session.flush()
    target_session.rollback()


def test_the_same_file_twice_is_refused(
    session: Session, tenant_id: int, fresh: Callable[..., tuple[Session, int]]
) -> None:
    book_year(session, tenant_id)
    export = export_datev(session, tenant_id, FROM, TO)
    session.commit()  # SQLite: one writer at a time
    target_session, target = fresh(chart="skr03")
    import_file(target_session, target, export.content, "a.csv")
    with pytest.raises(Conflict) as refused:
        import_file(target_session, target, export.content, "b.csv")
    assert refused.value.code == "datev.duplicate_file"
    assert "bereits" in refused.value.message
    count = target_session.scalar(select(func.count()).where(Posting.tenant_id == target))
    assert count == 10


def _nothing_stored(session: Session, tenant_id: int) -> None:
    assert session.scalar(select(func.count()).where(Posting.tenant_id == tenant_id)) == 0
    assert session.scalar(select(DatevImport.id).where(DatevImport.tenant_id == tenant_id)) is None
    assert session.scalar(select(Document.id).where(Document.tenant_id == tenant_id)) is None


def _refused(session: Session, tenant_id: int, content: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        import_file(session, tenant_id, content, "datei.csv")
    _nothing_stored(session, tenant_id)
    return caught.value


def _our_file(session: Session, tenant_id: int) -> bytes:
    book_year(session, tenant_id)
    content = export_datev(session, tenant_id, FROM, TO).content
    session.commit()  # SQLite: one writer at a time
    return content


def test_cut_off_files_are_refused_with_the_line(
    session: Session, tenant_id: int, fresh: Callable[..., tuple[Session, int]]
) -> None:
    content = _our_file(session, tenant_id)
    target_session, target = fresh(chart="skr03")
    lines = content.split(b"\r\n")
    in_last_line = b"\r\n".join(lines[:-2]) + b"\r\n" + lines[-2][:300]
    error = _refused(target_session, target, in_last_line)
    assert error.code == "datev.cut_off"
    assert error.details[0]["line"] == len(lines) - 1
    assert f"Zeile {len(lines) - 1}" in error.message and "abgeschnitten" in error.message
    in_a_quote = b"\r\n".join(lines[:-2]) + b"\r\n" + lines[-2][: lines[-2].index(b'"RE') + 4]
    assert _refused(target_session, target, in_a_quote).code == "datev.cut_off"
    header_only = lines[0] + b"\r\n"
    error = _refused(target_session, target, header_only)
    assert (error.code, error.details[0]["line"]) == ("datev.cut_off", 2)


def test_files_that_are_not_extf_are_refused(session: Session, tenant_id: int) -> None:
    for content in (b"Datum;Betrag\r\n01.01.2025;12,00\r\n", b"\xff\xfe\x00\x01garbage", b"  "):
        error = _refused(session, tenant_id, content)
        assert error.code in ("datev.not_extf", "datev.empty_file")
        assert error.details[0]["line"] == 1


def test_bad_rows_refuse_the_whole_file(
    session: Session, tenant_id: int, fresh: Callable[..., tuple[Session, int]]
) -> None:
    content = _our_file(session, tenant_id).decode("cp1252")
    target_session, target = fresh(chart="skr03")
    lines = content.split("\r\n")
    lines[4] = "12x45" + lines[4][lines[4].index(";") :]
    lines[6] = lines[6].replace('"S"', '"X"', 1).replace('"H"', '"X"', 1)
    error = _refused(target_session, target, "\r\n".join(lines).encode("cp1252"))
    assert error.code == "datev.invalid_rows"
    assert [d["line"] for d in error.details] == [5, 7]
    assert "Zeile 5" in error.message


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("parts", "bookings"),
    [
        (("datev", "ledermann-datev", "EXTF_Buchungsstapel.csv"), 2),
        (("datev", "kivitendo", "EXTF_Buchungsstapel.csv"), 38),
        (("datev", "kivitendo", "datev.csv"), 12),
        (("datev", "OCA-l10n-germany", "datev_export.csv"), 97),
        (("datev", "OCA-l10n-germany", "datev_export_semicolon.csv"), 97),
        (("bank", "RechnungsPilot", "vorlagen", "datev", "datev-export.csv"), 22),
    ],
)
def test_every_public_buchungsstapel_imports(
    session: Session, tenant_id: int, parts: tuple[str, ...], bookings: int
) -> None:
    path = corpus_path(*parts)
    result = import_file(session, tenant_id, path.read_bytes(), path.name)
    assert result.imported == bookings
    count = session.scalar(select(func.count()).where(Posting.tenant_id == tenant_id))
    assert count == bookings


@pytest.mark.corpus
def test_ledermann_sample_in_detail(session: Session, tenant_id: int) -> None:
    """The gem's example: bank 1200 Haben 24,95 against 4940 with BU 8 (input VAT 7 %), and
    Debitor 10000 Soll 5950 against the automatic revenue account 8400."""
    path = corpus_path("datev", "ledermann-datev", "EXTF_Buchungsstapel.csv")
    import_file(session, tenant_id, path.read_bytes(), path.name)
    book, invoice = session.scalars(
        select(Posting).where(Posting.tenant_id == tenant_id).order_by(Posting.id)
    ).all()
    assert (book.posting_date, book.debit_account, book.credit_account) == (
        date(2018, 2, 21),
        "4940",
        "1200",
    )
    assert (book.net_amount, book.tax_amount, book.tax_rate, book.tax_account) == (
        D("23.32"),
        D("1.63"),
        D("7.00"),
        "1571",
    )
    assert book.tax_key == "" and book.text == "Fachbuch: Controlling für Dummies"
    assert (invoice.debit_account, invoice.credit_account, invoice.tax_amount) == (
        "1400",
        "8400",
        D("950.00"),
    )
    revenue = session.scalar(select(Category.id).where(Category.key == "revenue_19"))
    assert invoice.category_id == revenue and invoice.voucher == "RE201802-135"


@pytest.mark.corpus
def test_kivitendo_sample_in_detail(session: Session, tenant_id: int) -> None:
    """DATEV's own 2015 sample (header 510, version 7): a CHF line taken at its euro
    Basis-Umsatz, an old-style Generalumkehr key 20 linked to the booking it cancels, BU 40."""
    path = corpus_path("datev", "kivitendo", "EXTF_Buchungsstapel.csv")
    result = import_file(session, tenant_id, path.read_bytes(), path.name)
    assert any("124.00 CHF" in w["message"] for w in result.warnings)
    rows = session.scalars(
        select(Posting).where(Posting.tenant_id == tenant_id).order_by(Posting.id)
    ).all()
    chf = next(p for p in rows if p.text == "Umsatz Schweiz")
    assert chf.amount == D("100.00")
    storno = next(p for p in rows if p.text == "Berichtigung")
    wrong = next(p for p in rows if p.text == "falscher Debitor")
    assert storno.reverses_id == wrong.id
    assert (storno.debit_account, storno.credit_account) == (
        wrong.credit_account,
        wrong.debit_account,
    )
    split = [p for p in rows if p.voucher == "AR2345" and p.text.startswith("Auftreilung")]
    assert all(p.tax_amount == 0 for p in split)  # BU 40: no automatic tax
    assert result.batch.uncategorised > 0  # accounts such as 4831 or 85 have no category


@pytest.mark.corpus
def test_rechnungspilot_bad_example(session: Session, tenant_id: int) -> None:
    """helloCash's file: UTF-8 with BOM, LF, header 510 with a fiscal year (2025) that does not
    fit its period (2022): the year comes from the period; the Storno (BU 20) is linked."""
    path = corpus_path("bank", "RechnungsPilot", "vorlagen", "datev", "datev-export.csv")
    result = import_file(session, tenant_id, path.read_bytes(), path.name)
    assert any("Wirtschaftsjahresbeginn" in w["message"] for w in result.warnings)
    rows = session.scalars(select(Posting).where(Posting.tenant_id == tenant_id)).all()
    assert {p.posting_date.year for p in rows} == {2022}
    storno = next(p for p in rows if p.reverses_id is not None)
    assert storno.voucher == "201034" and storno.text.startswith("Rechnung-Storno")


@pytest.mark.corpus
@pytest.mark.parametrize(
    "parts",
    [
        ("kivitendo", "EXTF_Stammdaten-Deb-Kred.csv"),
        ("kivitendo", "EXTF_Sachkontobeschriftungen.csv"),
        ("kivitendo", "EXTF_Buchungstextkonstanten.csv"),
        ("kivitendo", "EXTF_Div-Adressen.csv"),
        ("kivitendo", "EXTF_Wiederkehrende-Buchungen.csv"),
        ("kivitendo", "EXTF_Zahlungsbedingungen.csv"),
        ("kivitendo", "EXTF_Textschluessel.csv"),
        ("kivitendo", "EXTF_Anlag-Buchungen.csv"),
        ("kivitendo", "EXTF_Anlag-Filialen.csv"),
        ("ledermann-datev", "EXTF_Stammdaten.csv"),
        ("ledermann-datev", "EXTF_Kontenbeschriftungen.csv"),
    ],
)
def test_other_datev_categories_are_refused(
    session: Session, tenant_id: int, parts: tuple[str, ...]
) -> None:
    path = corpus_path("datev", *parts)
    error = _refused(session, tenant_id, path.read_bytes())
    assert error.code == "datev.not_booking_batch"
    assert error.details[0]["line"] == 1
    assert "keinen Buchungsstapel" in error.message
