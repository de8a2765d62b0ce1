"""GDPdU export: index.xml valid against the Beschreibungsstandard's DTD, tables as described."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from belegwerk.books.models import Posting
from belegwerk.core.errors import ValidationFailed
from belegwerk.exports.gdpdu import export_gdpdu, write_folder
from belegwerk.exports.models import ExportLog
from tests.conftest import corpus_path
from tests.exports.books import YEAR, book_year


def _dtd() -> etree.DTD:
    return etree.DTD(str(corpus_path("datev", "kivitendo", "gdpdu-01-08-2002.dtd")))


@pytest.mark.corpus
def test_index_xml_is_valid_and_describes_every_file(session: Session, tenant_id: int) -> None:
    book_year(session, tenant_id)
    export, delivery = export_gdpdu(session, tenant_id, YEAR, actor="Prüferin")
    index = delivery.files["index.xml"]
    assert index.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b'<!DOCTYPE DataSet SYSTEM "gdpdu-01-08-2002.dtd">' in index
    root = etree.fromstring(index)
    dtd = _dtd()
    assert dtd.validate(root), dtd.error_log.filter_from_errors()

    archive = zipfile.ZipFile(io.BytesIO(export.content))
    assert set(archive.namelist()) == set(delivery.files)
    tables = root.findall("Media/Table")
    assert {t.findtext("URL") for t in tables} == set(delivery.files) - {"index.xml"}
    for table in tables:
        content = archive.read(table.findtext("URL") or "")
        sha = re.search(r"SHA-256: ([0-9a-f]{64})", table.findtext("Description") or "")
        assert sha and sha.group(1) == hashlib.sha256(content).hexdigest()
        assert table.find("ANSI") is not None
        assert table.findtext("Range/From") == "2"
        text = content.decode("cp1252")
        assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
        columns = table.findall("VariableLength/VariablePrimaryKey") + table.findall(
            "VariableLength/VariableColumn"
        )
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        assert rows[0] == [c.findtext("Name") for c in columns]
        assert all(len(r) == len(columns) for r in rows)
        for n, column in enumerate(columns):
            for row in rows[1:]:
                value = row[n]
                if column.find("Numeric") is not None and value:
                    places = column.findtext("Numeric/Accuracy")
                    pattern = rf"-?\d+,\d{{{places}}}" if places else r"-?\d+"
                    assert re.fullmatch(pattern, value), (column.findtext("Name"), value)
                if column.find("Date") is not None and value:
                    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", value)
                assert len(value.encode("cp1252")) <= 512

    journal = list(
        csv.reader(io.StringIO(delivery.files["journal.csv"].decode("cp1252")), delimiter=";")
    )
    total = sum(Decimal(r[4].replace(",", ".")) for r in journal[1:])
    booked = session.scalar(select(func.count()).where(Posting.tenant_id == tenant_id))
    assert len(journal) - 1 == booked == 10
    assert total == Decimal("3491.30")
    storno = next(r for r in journal[1:] if r[10] == "RE-2025-00004")
    assert storno[15] != ""  # Storno von: the reversed posting's id
    invoices = delivery.files["rechnungen.csv"].decode("cp1252")
    assert "RE-2025-00001" in invoices and "ER-2025-00002" in invoices
    assert "Hauptstraße 1" in delivery.files["partner.csv"].decode("cp1252")
    assert "Kugelschreiber" in delivery.files["kassenbuch.csv"].decode("cp1252")

    entry = session.get(ExportLog, export.log_id)
    assert entry is not None and entry.kind == "gdpdu" and entry.created_by == "Prüferin"
    assert entry.sha256 == hashlib.sha256(index).hexdigest()
    assert entry.records == delivery.records


def test_folder_output_refuses_a_folder_with_files(
    session: Session, tenant_id: int, tmp_path: Path
) -> None:
    book_year(session, tenant_id)
    _export, delivery = export_gdpdu(session, tenant_id, YEAR, as_zip=False)
    target = tmp_path / "pruefung"
    write_folder(delivery, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(delivery.files)
    with pytest.raises(ValidationFailed) as refused:
        write_folder(delivery, target)
    assert refused.value.code == "gdpdu.folder_not_empty"


@pytest.mark.parametrize("year", [1989, 2999])
def test_a_year_outside_the_books_is_refused(session: Session, tenant_id: int, year: int) -> None:
    with pytest.raises(ValidationFailed) as refused:
        export_gdpdu(session, tenant_id, year)
    assert refused.value.code == "export.invalid_year"
