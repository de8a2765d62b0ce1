"""CAMT.052/053/054: the genkgo corpus, own German fixtures, ZIPs and hostile XML."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from belegwerk.banking.camt import MAX_ZIP_MEMBERS, parse_camt, parse_camt_statements
from belegwerk.banking.statement import ParsedStatement
from belegwerk.core import safe_xml
from belegwerk.core.errors import ValidationFailed
from tests.conftest import corpus_path

FIXTURES = Path(__file__).parent / "fixtures"
GENKGO = ("bank", "genkgo-camt")
OWN_IBAN = "DE18430609671234567800"


def corpus(name: str) -> ParsedStatement:
    path = corpus_path(*GENKGO, name)
    return parse_camt(path.read_bytes(), path.name)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def refused(content: bytes, name: str = "datei.xml") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as err:
        parse_camt(content, name)
    return err.value


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- genkgo corpus (camt.053) -------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "version", "account"),
    [
        ("camt053.v2.minimal.xml", "V2", "NL26VAYB8060476890"),
        ("camt053.v2.with-party-ids.xml", "V2", "NL26VAYB8060476890"),
        ("camt053.v3.xml", "V3", "NL26VAYB8060476890"),  # account in Acct/Id/Othr/Id
        ("camt053.v4.xml", "V4", "NL26VAYB8060476890"),
        ("camt053.v8.xml", "V8", "NL26VAYB8060476890"),
    ],
)
def test_one_credit_in_every_version(name: str, version: str, account: str) -> None:
    """The same credit of 8.85 EUR from NAME NAME (NL56AGDH9619008421), by element names only.

    v2-v4 write ``<Sts>BOOK</Sts>`` and ``<Dbtr><Nm>``, v8 ``<Sts><Cd>BOOK</Cd></Sts>`` and
    ``<Dbtr><Pty><Nm>``; v8 books with a ``DtTm`` (13:15 +01:00, still 31 December).
    """
    statement = corpus(name)
    assert (statement.format, statement.template_key) == ("camt", "camt053")
    # The name is shown to the user, so it comes in the UI language (German by default).
    assert statement.template_name == f"CAMT.053 Kontoauszug ({version})"
    assert statement.account_iban == account
    assert (statement.rejected, statement.skipped) == ([], 0)
    (tx,) = statement.transactions
    assert (tx.booking_date, tx.value_date) == (date(2014, 12, 31), date(2015, 1, 2))
    assert (tx.amount, tx.currency) == (Decimal("8.85"), "EUR")
    assert (tx.counterparty_name, tx.counterparty_iban) == ("NAME NAME", "NL56AGDH9619008421")
    assert tx.raw["creditor_reference"] == "4654654654654654"  # Strd/CdtrRefInf/Ref
    assert tx.purpose == "4654654654654654"
    assert tx.raw["line"] == "110" if version != "V2" else "90"


@pytest.mark.corpus
def test_v3_bic_and_bank_transaction_code() -> None:
    tx = corpus("camt053.v3.xml").transactions[0]
    assert tx.counterparty_bic == "KREDBEBB"  # RltdAgts/DbtrAgt/FinInstnId/BICFI
    assert tx.raw["bank_transaction_code"] == "PMNT/RCDT/DMCT"
    assert tx.booking_text == "025132131"  # no AddtlNtryInf: the bank's own code


@pytest.mark.corpus
def test_v8_end_to_end_and_single_txdtls_amount() -> None:
    """v8 has ``TxDtls/Amt`` 0 SEK next to the entry's 8.85 EUR: one TxDtls, the entry counts."""
    tx = corpus("camt053.v8.xml").transactions[0]
    assert tx.end_to_end_ref == "MUELL/FINP/RA12345"
    assert (tx.amount, tx.currency) == (Decimal("8.85"), "EUR")
    assert tx.booking_text == "PMNT/RCDT/BOOK"


@pytest.mark.corpus
def test_multi_statement_with_balances() -> None:
    """Two statements of one account; OPBD + entries = CLBD, so balances are derived."""
    statement = corpus("camt053.v2.multi.statement.xml")
    assert statement.account_iban == "NL26VAYB8060476890"
    first, second = statement.transactions
    assert (first.amount, first.purpose, first.end_to_end_ref) == (
        Decimal("8.85"),
        "Transaction Description 1",
        "000000001",
    )
    assert (second.amount, second.counterparty_name, second.counterparty_iban) == (
        Decimal("-7.00"),
        "Company Name 2",
        "NL56AGDH9619008421",
    )
    assert [first.balance_after, second.balance_after] == [Decimal("27.00"), Decimal("20.00")]
    assert [first.raw["statement"], second.raw["statement"]] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    path = corpus_path(*GENKGO, "camt053.v2.multi.statement.xml")
    parts = parse_camt_statements(path.read_bytes(), path.name)
    assert [len(part.transactions) for part in parts] == [1, 1]


@pytest.mark.corpus
def test_ultimate_parties_only() -> None:
    """Without Dbtr the ultimate debtor names the counterparty."""
    tx = corpus("camt053.v2.minimal.ultimate.xml").transactions[0]
    assert (tx.counterparty_name, tx.counterparty_iban) == ("DEBTOR NAME NM", "")


@pytest.mark.corpus
def test_account_name_and_other_balance_types() -> None:
    with_name = corpus("camt053.v2.with-account-name.xml")
    assert with_name.account_iban == "CH2801234000123456789"
    assert with_name.transactions[0].amount == Decimal("8.85")
    balances = corpus("camt053.v2.all-balance-types.xml")
    assert balances.account_iban == "CH2801234000123456789"  # a valid IBAN in Othr/Id
    (tx,) = balances.transactions
    assert (tx.purpose, tx.end_to_end_ref) == ("Transaction Description", "000000001")
    # a credit names only the creditor (that is us): no counterparty is invented
    assert tx.counterparty_name == ""


@pytest.mark.corpus
def test_five_decimals() -> None:
    """``8.850`` is 8.85: trailing zeros are accepted; the file's closing balance 27.050 does
    not equal 18.150 + 8.850, so no balance after booking is derived."""
    statement = corpus("camt053.v2.five.decimals.xml")
    (tx,) = statement.transactions
    assert tx.amount == Decimal("8.85")
    assert tx.balance_after is None


@pytest.mark.corpus
def test_real_sub_cent_amount_rejects_the_entry() -> None:
    """``8.853`` cannot be booked in cents; rounding it would falsify the books: rejected."""
    path = corpus_path(*GENKGO, "camt053.v2.five.decimals.xml")
    content = path.read_bytes().replace(
        b'<Amt Ccy="EUR">8.850</Amt>', b'<Amt Ccy="EUR">8.853</Amt>'
    )
    statement = parse_camt(content, "fuenf.xml")
    assert statement.transactions == []
    (row,) = statement.rejected
    assert (row.line, row.code) == (62, "bank.camt_invalid")
    assert "Eintrag 1 (Zeile 62, /Document/BkToCstmrStmt/Stmt/Ntry/Amt)" in row.message


@pytest.mark.corpus
def test_only_balance_with_datetime() -> None:
    """A statement without entries: nothing to import, account and currency still known."""
    statement = corpus("camt53.only-Dt-with-DtTm.xml")
    assert statement.transactions == []
    assert (statement.account_iban, statement.currency) == ("GB33BUKB20201555555555", "RON")


@pytest.mark.corpus
def test_statement_missing_is_a_clear_error() -> None:
    path = corpus_path(*GENKGO, "camt053.v2.wrong.xml")
    err = refused(path.read_bytes(), path.name)
    assert err.code == "bank.camt_invalid"
    assert err.details == [
        {"file": "camt053.v2.wrong.xml", "line": 3, "xpath": "/Document/BkToCstmrStmt/Stmt"}
    ]
    assert "Stmt" in err.message


# --- own German fixtures: camt.052 and camt.054 -------------------------------------------------


def test_camt052_report() -> None:
    """tests/banking/fixtures/camt_052_v8.xml: credit, direct debit, pending, batch of two."""
    statement = parse_camt(fixture("camt_052_v8.xml"), "camt_052_v8.xml")
    assert (statement.template_key, statement.template_name) == (
        "camt052",
        "CAMT.052 Kontoumsatzinformation (untertägig) (V8)",
    )
    assert (statement.account_iban, statement.currency) == (OWN_IBAN, "EUR")
    assert (statement.skipped, statement.rejected) == (1, [])  # the PDNG entry
    credit, debit, batch_a, batch_b = statement.transactions
    assert [tx.line_no for tx in statement.transactions] == [1, 2, 4, 4]

    assert (credit.booking_date, credit.amount) == (date(2024, 3, 15), Decimal("1190.00"))
    assert credit.counterparty_name == "Muster GmbH"
    assert (credit.counterparty_iban, credit.counterparty_bic) == (
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
    assert credit.purpose == "Rechnung RE-2024-0042 Kundennr. 10017"  # two Ustrd lines
    assert credit.end_to_end_ref == "RE-2024-0042"
    assert (credit.booking_text, credit.gv_code) == ("GUTSCHR. UEBERWEISUNG", "166")
    assert credit.raw["tx_id"] == "TX0000000001"

    assert debit.booking_date == date(2024, 3, 15)  # DtTm 23:30 +01:00 is still the 15th
    assert debit.amount == Decimal("-54.95")
    assert debit.counterparty_name == "Telekom Deutschland GmbH"
    assert debit.counterparty_iban == "DE29100100100987654321"
    assert debit.end_to_end_ref == ""  # NOTPROVIDED
    assert (debit.mandate_ref, debit.creditor_id) == ("M-778899", "DE75ZZZ00000012345")
    assert debit.raw["ultimate_party"] == "Telekom Mobilfunk"
    assert (debit.booking_text, debit.gv_code) == ("FOLGELASTSCHRIFT", "105")

    assert [(tx.amount, tx.counterparty_name, tx.end_to_end_ref) for tx in (batch_a, batch_b)] == [
        (Decimal("-60.00"), "Papier Paul e.K.", "LIEF-7001"),
        (Decimal("-40.00"), "Druckerei Nord GmbH", "LIEF-7002"),
    ]
    assert batch_b.raw["batch_position"] == "2"
    assert [tx.balance_after for tx in statement.transactions] == [
        Decimal("2190.00"),
        Decimal("2135.05"),
        Decimal("2075.05"),
        Decimal("2035.05"),  # = CLBD
    ]


def test_camt054_notification() -> None:
    """tests/banking/fixtures/camt_054_v2.xml: a collection split by AmtDtls, a batch that
    does not add up (kept as one transaction with both purposes)."""
    statement = parse_camt(fixture("camt_054_v2.xml"), "camt_054_v2.xml")
    assert (statement.template_key, statement.account_iban) == ("camt054", OWN_IBAN)
    first, second, fees = statement.transactions
    assert [(tx.amount, tx.counterparty_name, tx.mandate_ref) for tx in (first, second)] == [
        (Decimal("120.00"), "Kunde Eins", "MANDAT-0001"),
        (Decimal("180.00"), "Kundin Zwei", "MANDAT-0002"),
    ]
    assert first.creditor_id == "DE98ZZZ09999999999"
    assert (first.counterparty_bic, second.counterparty_bic) == ("COBADEFFXXX", "INGDDEFFXXX")
    assert (first.value_date, first.booking_date) == (date(2024, 3, 18), date(2024, 3, 16))
    assert first.gv_code == "171"
    assert fees.amount == Decimal("-10.50")
    assert fees.purpose == "Entgelt Lastschrifteinzug | Entgelt Kontofuehrung"
    assert (fees.raw["batch"], fees.booking_text) == ("2", "ENTGELTABSCHLUSS")


def test_zip_of_several_files() -> None:
    """Sparkasse-style ZIP: members read in name order, entry numbers run on."""
    content = zipped(
        {
            "2024-03-16_C54_DE18430609671234567800.xml": fixture("camt_054_v2.xml"),
            "2024-03-15_C52_DE18430609671234567800.xml": fixture("camt_052_v8.xml"),
            "__MACOSX/._2024-03-15_C52.xml": b"\x00\x05\x16\x07",
            "ordner/": b"",
        }
    )
    statement = parse_camt(content, "umsaetze.zip")
    assert statement.template_key == "camt"
    assert statement.account_iban == OWN_IBAN
    assert (len(statement.transactions), statement.skipped) == (7, 1)
    assert [tx.line_no for tx in statement.transactions] == [1, 2, 4, 4, 5, 5, 6]
    assert statement.transactions[4].raw["source"] == (
        "umsaetze.zip: 2024-03-16_C54_DE18430609671234567800.xml"
    )


def test_zip_with_two_accounts_is_refused() -> None:
    other = fixture("camt_054_v2.xml").replace(OWN_IBAN.encode(), b"DE89370400440532013000")
    err = refused(zipped({"a.xml": fixture("camt_052_v8.xml"), "b.xml": other}), "zwei.zip")
    assert err.code == "bank.multiple_accounts"
    assert err.details[0]["accounts"] == ["DE18430609671234567800", "DE89370400440532013000"]


def test_pending_and_info_entries_are_skipped() -> None:
    content = fixture("camt_052_v8.xml").replace(b"<Cd>BOOK</Cd>", b"<Cd>INFO</Cd>")
    statement = parse_camt(content, "info.xml")
    assert (statement.transactions, statement.skipped) == ([], 4)


def test_entry_without_indicator_is_rejected_with_xpath() -> None:
    content = fixture("camt_052_v8.xml").replace(
        b"<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>", b"<Sts>", 1
    )
    statement = parse_camt(content, "ohne.xml")
    (row,) = statement.rejected
    assert row.line == 124
    assert "Eintrag 2 (Zeile 124, /Document/BkToCstmrAcctRpt/Rpt/Ntry[2])" in row.message
    assert "CdtDbtInd" in row.message
    assert len(statement.transactions) == 3
    assert all(tx.balance_after is None for tx in statement.transactions)


# --- bad input ----------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads it

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY secret "leaked">')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    """A local web server that records every request an XXE attempt might make."""
    _Recorder.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_doctype_is_refused() -> None:
    content = b'<?xml version="1.0"?>\n<!DOCTYPE Document>\n<Document/>'
    err = refused(content)
    assert err.code == "bank.xml_doctype"
    assert err.details == [{"file": "datei.xml", "line": 2}]


def test_xxe_is_refused_without_fetching(http_server: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("streng geheim")
    content = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Document SYSTEM "{http_server}/dtd" [\n'
        f'  <!ENTITY file SYSTEM "file://{secret}">\n'
        f'  <!ENTITY web SYSTEM "{http_server}/entity">\n'
        f'  <!ENTITY % remote SYSTEM "{http_server}/param"> %remote;\n'
        "]>\n"
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><Stmt><Id>&file;&web;&secret;</Id></Stmt></BkToCstmrStmt></Document>"
    ).encode()
    for attempt in (content, content.decode().encode("utf-16")):
        err = refused(attempt, "xxe.xml")
        assert err.code == "bank.xml_doctype"
        assert "geheim" not in err.message
    # the parser underneath is safe on its own, even if the DOCTYPE check were bypassed
    with pytest.raises(ValidationFailed) as err2:
        safe_xml._parse_untrusted(content, "xxe.xml", "bank")
    assert err2.value.code == "bank.xml_doctype"
    assert _Recorder.requests == []


def test_malformed_xml_names_the_line() -> None:
    content = b'<?xml version="1.0"?>\n<Document>\n  <Stmt>\n    <Ntry>\n  </Stmt>\n</Document>'
    err = refused(content, "kaputt.xml")
    assert err.code == "bank.xml_invalid"
    assert err.details[0]["line"] == 5
    assert "line 5" in err.message


def test_xml_that_is_not_camt() -> None:
    """A SEPA credit transfer order (pain.001) is XML from a bank, but not a statement."""
    content = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
        b"<CstmrCdtTrfInitn/></Document>"
    )
    err = refused(content, "auftrag.xml")
    assert err.code == "bank.not_camt"
    assert err.details[0]["namespace"] == "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
    invoice = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    assert refused(invoice).code == "bank.not_camt"


def test_too_deep_xml() -> None:
    depth = safe_xml.MAX_DEPTH + 1
    content = b"<a>" * depth + b"</a>" * depth
    err = refused(content, "tief.xml")
    assert (err.code, err.details[0]["depth"]) == ("bank.xml_too_deep", safe_xml.MAX_DEPTH)


@pytest.mark.parametrize("content", [b"", b"  \r\n ", b"\xef\xbb\xbf"])
def test_empty_file(content: bytes) -> None:
    assert refused(content, "leer.xml").code == "bank.empty_file"


def test_zip_with_a_non_xml_member() -> None:
    content = zipped({"a.xml": fixture("camt_052_v8.xml"), "kontoauszug.pdf": b"%PDF-1.7\n"})
    err = refused(content, "auszug.zip")
    assert err.code == "bank.zip_invalid"
    assert err.details == [{"file": "auszug.zip", "member": "kontoauszug.pdf"}]


def test_zip_with_a_non_camt_xml_member() -> None:
    content = zipped({"a.xml": fixture("camt_052_v8.xml"), "b.xml": b"<html/>"})
    err = refused(content, "auszug.zip")
    assert err.code == "bank.not_camt"
    assert "auszug.zip: b.xml" in err.message


def test_broken_zip() -> None:
    content = zipped({"a.xml": fixture("camt_052_v8.xml")})
    assert refused(content[:60], "kaputt.zip").code == "bank.zip_invalid"
    assert refused(zipped({}), "leer.zip").code == "bank.zip_invalid"


def test_zip_bomb() -> None:
    """51 MB of zeros pack into 50 KB; the unpacked size is refused before anything is read."""
    bomb = zipped({"bombe.xml": b"<a>" + b"\x00" * (51 * 1024 * 1024) + b"</a>"})
    assert len(bomb) < 200_000
    err = refused(bomb, "bombe.zip")
    assert err.code == "bank.too_large"


def test_zip_with_too_many_members() -> None:
    members = {f"{i:05}.xml": b"<a/>" for i in range(MAX_ZIP_MEMBERS + 1)}
    err = refused(zipped(members, zipfile.ZIP_STORED), "viele.zip")
    assert err.code == "bank.too_large"
