"""CAMT bank statements (ISO 20022): camt.052 report, camt.053 statement, camt.054 notification.

All versions are read by element names, whatever the namespace version (``camt.05x.001.02``
… ``.08`` and later), through :mod:`belegwerk.core.safe_xml`. A ZIP of CAMT files (what
Sparkassen and Volksbanken hand out) is read member by member, bounded in count and size.

Mapping (per ``Ntry``): booked entries only (``Sts`` BOOK, or no ``Sts`` at all; pending and
info entries are counted in ``skipped``); a batch entry with several ``TxDtls`` becomes one
transaction per ``TxDtls`` when their amounts add up to the entry, otherwise it stays one
transaction. The counterparty is the debtor of a credit and the creditor of a debit.

Amounts: CAMT allows five decimals, the books hold cents. Trailing zeros are harmless
(``8.850`` is 8.85); an entry with a real sub-cent amount (``8.853``) is rejected with its
entry number rather than rounded, because rounding a bank's amount would break every balance
check afterwards.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from belegwerk.banking.bankfile import (
    StatementPart,
    apply_running_balance,
    bic_or_empty,
    check_size,
    fill_widths,
    iban_or_empty,
    money,
    to_statement,
)
from belegwerk.banking.statement import (
    MAX_FILE_BYTES,
    ParsedStatement,
    ParsedTransaction,
    RejectedRow,
)
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.safe_xml import parse_xml

MAX_ZIP_MEMBERS = 1000
_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[234])\.001\.(\d{2})")
# message element and statement element per kind
_KINDS = {
    "052": ("BkToCstmrAcctRpt", "Rpt"),
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)
_DK_CODE = re.compile(r"^[A-Z]{4}\+(\d{3})(?:\+|$)")  # DK: "NTRF+166+9310+997" -> GV code 166
_NOT_PROVIDED = {"NOTPROVIDED", "NONREF"}


def parse_camt(content: bytes, file_name: str) -> ParsedStatement:
    """Read a CAMT XML file or a ZIP of them into one statement.

    Statements of several accounts in one file are refused (``bank.multiple_accounts``); see
    :func:`parse_camt_statements` to look at them one by one.
    """
    parts, key, name = _read(content, file_name)
    return to_statement(
        parts, fmt="camt", template_key=key, template_name=name, file_name=file_name
    )


def parse_camt_statements(content: bytes, file_name: str) -> list[ParsedStatement]:
    """Each ``Stmt``/``Rpt``/``Ntfctn`` on its own (entry numbers count through the file)."""
    parts, key, name = _read(content, file_name)
    return [
        to_statement([part], fmt="camt", template_key=key, template_name=name, file_name=file_name)
        for part in parts
    ]


def is_zip(content: bytes) -> bool:
    return content[:4] in (b"PK\x03\x04", b"PK\x05\x06")


# --- files ------------------------------------------------------------------------------------


def _read(content: bytes, file_name: str) -> tuple[list[StatementPart], str, str]:
    check_size(content, file_name)
    documents = _zip_members(content, file_name) if is_zip(content) else [(file_name, content)]
    entry_numbers = itertools.count(1)
    parts: list[StatementPart] = []
    kinds: dict[str, set[str]] = {}
    for source, data in documents:
        document = _Document(
            parse_xml(data, source, max_bytes=MAX_FILE_BYTES, code_prefix="bank"), source
        )
        kinds.setdefault(document.kind, set()).add(document.version)
        parts.extend(document.statements(entry_numbers))
    key, name = _template(kinds)
    return parts, key, name


def _template(kinds: dict[str, set[str]]) -> tuple[str, str]:
    if len(kinds) != 1:
        return "camt", _("CAMT files ({kinds})").format(
            kinds=", ".join(f"camt.{kind}" for kind in sorted(kinds))
        )
    kind, versions = next(iter(kinds.items()))
    names = {
        "052": _("CAMT.052 account report"),
        "053": _("CAMT.053 account statement"),
        "054": _("CAMT.054 debit/credit notification"),
    }
    label = ", ".join(f"V{int(version)}" for version in sorted(versions))
    return f"camt{kind}", f"{names[kind]} ({label})"


def _zip_members(content: bytes, file_name: str) -> list[tuple[str, bytes]]:
    """The XML members of a ZIP, sorted by name; anything else in it refuses the whole file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _zip_error(file_name, _("it is not a readable ZIP archive")) from None
    if not members:
        raise _zip_error(file_name, _("it contains no files"))
    declared = sum(info.file_size for info in members)
    if len(members) > MAX_ZIP_MEMBERS or declared > MAX_FILE_BYTES:
        raise _zip_too_large(file_name, len(members), declared)
    documents: list[tuple[str, bytes]] = []
    total = 0
    for info in sorted(members, key=lambda item: item.filename):
        source = f"{file_name}: {info.filename}"
        if info.flag_bits & 0x1:
            raise _zip_error(file_name, _("{member} is encrypted").format(member=info.filename))
        try:
            with archive.open(info) as handle:
                data = handle.read(MAX_FILE_BYTES - total + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError):
            raise _zip_error(
                file_name, _("{member} cannot be unpacked").format(member=info.filename)
            ) from None
        total += len(data)
        if total > MAX_FILE_BYTES:
            raise _zip_too_large(file_name, len(members), total)
        if not _looks_like_xml(data):
            raise ValidationFailed(
                "bank.zip_invalid",
                _("The ZIP file {name} contains {member}, which is not a CAMT XML file.").format(
                    name=file_name, member=info.filename
                ),
                [{"file": file_name, "member": info.filename}],
            )
        documents.append((source, data))
    return documents


def _looks_like_xml(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head[2:].replace(b"\x00", b"").lstrip()
    return head.startswith(b"<")


def _zip_error(file_name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        "bank.zip_invalid",
        _("The ZIP file {name} cannot be read: {reason}.").format(name=file_name, reason=reason),
        [{"file": file_name}],
    )


def _zip_too_large(file_name: str, members: int, size: int) -> ValidationFailed:
    return ValidationFailed(
        "bank.too_large",
        _("The ZIP file {name} unpacks to more than {limit} MB or more than {count} files.").format(
            name=file_name, limit=MAX_FILE_BYTES // (1024 * 1024), count=MAX_ZIP_MEMBERS
        ),
        [{"file": file_name, "members": members, "bytes": size}],
    )


# --- one XML document -------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _path(namespace: str, path: str) -> etree.XPath:
    """A compiled, namespaced XPath from a path of local names ("Ntry/Amt")."""
    steps = "/".join(
        step if step in (".", "..", "") or step.startswith("@") else f"c:{step}"
        for step in path.split("/")
    )
    return etree.XPath(steps, namespaces={"c": namespace})


class _Document:
    def __init__(self, root: Any, source: str) -> None:
        self.source = source
        qname = etree.QName(root)
        match = _NAMESPACE.fullmatch(qname.namespace or "")
        if qname.localname != "Document" or not match:
            raise ValidationFailed(
                "bank.not_camt",
                _(
                    "The file {name} is not a CAMT bank statement (camt.052, camt.053 or "
                    "camt.054); its root element is {element}."
                ).format(name=source, element=qname.localname),
                [{"file": source, "element": qname.localname, "namespace": qname.namespace}],
            )
        self.kind, self.version = match[1], match[2]
        self.ns = qname.namespace or ""
        self.root = root

    def all(self, element: Any, path: str) -> list[Any]:
        return list(_path(self.ns, path)(element))

    def one(self, element: Any, path: str) -> Any:
        found = _path(self.ns, path)(element)
        return found[0] if found else None

    def text(self, element: Any, path: str) -> str:
        found = self.one(element, path)
        return " ".join((found.text or "").split()) if found is not None else ""

    def leaves(self, element: Any, skip: str = "") -> dict[str, str]:
        """Texts of all leaf elements below ``element`` by local-name path ("Refs/MndtId").

        One walk instead of dozens of lookups per entry; the first of repeated elements wins
        (repeated ones that matter, like ``Ustrd``, are read with :meth:`all`).
        """
        out: dict[str, str] = {}
        prefix = f"{{{self.ns}}}"
        cut = len(prefix)

        def walk(node: Any, path: str) -> None:
            for child in node:
                tag = child.tag
                if not isinstance(tag, str):
                    continue
                name = path + (tag[cut:] if tag.startswith(prefix) else etree.QName(tag).localname)
                if name == skip:
                    continue
                if len(child):
                    walk(child, name + "/")
                elif name not in out:
                    out[name] = " ".join((child.text or "").split())

        walk(element, "")
        return out

    def statements(self, entry_numbers: Iterator[int]) -> list[StatementPart]:
        message_name, statement_name = _KINDS[self.kind]
        message = self.one(self.root, message_name)
        if message is None:
            raise self._invalid(
                _("the message element {element} is missing").format(element=message_name),
                f"/Document/{message_name}",
                1,
            )
        statements = self.all(message, statement_name)
        if not statements:
            raise self._invalid(
                _("it contains no statement ({element} element)").format(element=statement_name),
                f"/Document/{message_name}/{statement_name}",
                message.sourceline or 1,
            )
        return [
            _StatementReader(self, element, index, entry_numbers).read()
            for index, element in enumerate(statements, start=1)
        ]

    def _invalid(self, reason: str, xpath: str, line: int) -> ValidationFailed:
        return ValidationFailed(
            "bank.camt_invalid",
            _("The CAMT file {name} cannot be read (line {line}, {xpath}): {reason}.").format(
                name=self.source, line=line, xpath=xpath, reason=reason
            ),
            [{"file": self.source, "line": line, "xpath": xpath}],
        )


class _EntryError(Exception):
    """An entry that cannot be read; becomes a RejectedRow with entry number and XPath."""

    def __init__(self, reason: str, element: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.element = element


@dataclass
class _Amount:
    value: Decimal  # signed
    currency: str


class _StatementReader:
    def __init__(
        self, doc: _Document, element: Any, index: int, entry_numbers: Iterator[int]
    ) -> None:
        self.doc = doc
        self.element = element
        self.index = index
        self.entry_numbers = entry_numbers

    def read(self) -> StatementPart:
        doc, stmt = self.doc, self.element
        part = StatementPart(label=doc.text(stmt, "Id"))
        part.account = doc.text(stmt, "Acct/Id/IBAN") or doc.text(stmt, "Acct/Id/Othr/Id")
        part.account_iban = _valid_iban(part.account)
        part.currency = doc.text(stmt, "Acct/Ccy") or None
        part.opening_balance, opening_currency = self._balance(_OPENING)
        part.closing_balance, _closing_currency = self._balance(_CLOSING)
        part.currency = part.currency or opening_currency
        for entry in doc.all(stmt, "Ntry"):
            number = next(self.entry_numbers)
            status = (
                doc.text(entry, "Sts/Cd") or doc.text(entry, "Sts/Prtry") or doc.text(entry, "Sts")
            ).upper()
            if status and status != "BOOK":
                part.skipped += 1
                continue
            try:
                part.transactions.extend(self._entry(entry, number, part))
            except _EntryError as exc:
                part.lost_entries += 1
                line = exc.element.sourceline or entry.sourceline or 0
                part.rejected.append(
                    RejectedRow(
                        line=line,
                        message=_(
                            "Entry {entry} (line {line}, {xpath}) cannot be read: {reason}"
                        ).format(
                            entry=number, line=line, xpath=_xpath(exc.element), reason=exc.reason
                        ),
                        code="bank.camt_invalid",
                    )
                )
        if part.currency is None and part.transactions:
            part.currency = part.transactions[0].currency
        apply_running_balance(part)
        return part

    def _balance(self, codes: tuple[str, ...]) -> tuple[Decimal | None, str | None]:
        doc = self.doc
        for balance in doc.all(self.element, "Bal"):
            code = doc.text(balance, "Tp/CdOrPrtry/Cd") or doc.text(balance, "Tp/CdOrPrtry/Prtry")
            if code.upper() not in codes:
                continue
            try:
                amount = _amount(doc.one(balance, "Amt"), doc.text(balance, "CdtDbtInd"), balance)
            except _EntryError:
                return None, None
            return amount.value, amount.currency
        return None, None

    def _entry(self, entry: Any, number: int, part: StatementPart) -> list[ParsedTransaction]:
        doc = self.doc
        e = doc.leaves(entry, skip="NtryDtls")
        direction = e.get("CdtDbtInd", "")
        amount = _amount(doc.one(entry, "Amt"), direction, entry)
        booking = self._date(entry, e, "BookgDt") or self._date(entry, e, "ValDt")
        if booking is None:
            raise _EntryError(_("the booking date (BookgDt) is missing or not a date"), entry)
        value_date = self._date(entry, e, "ValDt")
        domain = "/".join(
            code
            for code in (
                e.get("BkTxCd/Domn/Cd"),
                e.get("BkTxCd/Domn/Fmly/Cd"),
                e.get("BkTxCd/Domn/Fmly/SubFmlyCd"),
            )
            if code
        )
        proprietary = e.get("BkTxCd/Prtry/Cd", "")
        booking_text = e.get("AddtlNtryInf") or proprietary or domain
        base_raw = {
            "entry": str(number),
            "line": str(entry.sourceline or ""),
            "statement": part.label,
            "account": part.account,
            "entry_reference": e.get("NtryRef", ""),
            "bank_reference": e.get("AcctSvcrRef", ""),
            "bank_transaction_code": domain,
            "proprietary_code": proprietary,
            "reversal": "true" if e.get("RvslInd", "").lower() in ("true", "1") else "",
            "source": doc.source,
        }
        details = [(item, doc.leaves(item)) for item in doc.all(entry, "NtryDtls/TxDtls")]
        shares = self._split(details, amount, direction) if len(details) > 1 else None
        transactions: list[ParsedTransaction] = []
        if shares is None:
            single = details[0] if len(details) == 1 else None
            tx = self._transaction(number, booking, value_date, amount, direction, single)
            if len(details) > 1:
                purposes = (self._purpose(item, leaves)[0] for item, leaves in details)
                tx.purpose = " | ".join(text for text in purposes if text)
                tx.raw["batch"] = str(len(details))
            elif not details:
                tx.raw["batch"] = doc.text(entry, "NtryDtls/Btch/NbOfTxs")
            transactions.append(tx)
        else:
            for position, (item, share) in enumerate(zip(details, shares, strict=True), 1):
                item_direction = "CRDT" if share.value >= 0 else "DBIT"
                tx = self._transaction(number, booking, value_date, share, item_direction, item)
                tx.raw["batch"] = str(len(details))
                tx.raw["batch_position"] = str(position)
                transactions.append(tx)
        for tx in transactions:
            tx.booking_text = booking_text
            if not tx.gv_code:
                match = _DK_CODE.match(proprietary)
                tx.gv_code = match[1] if match else ""
            tx.raw = {key: value for key, value in {**base_raw, **tx.raw}.items() if value}
            fill_widths(tx)
        return transactions

    def _date(self, entry: Any, leaves: dict[str, str], path: str) -> date | None:
        text = leaves.get(f"{path}/Dt") or leaves.get(f"{path}/DtTm")
        if not text:
            return None
        try:
            # DtTm is the bank's local time; its calendar day is the booking day.
            return date.fromisoformat(text[:10])
        except ValueError:
            raise _EntryError(
                _("{element} is not a valid date: {value}").format(element=path, value=text),
                self.doc.one(entry, path),
            ) from None

    def _split(
        self, details: list[tuple[Any, dict[str, str]]], entry: _Amount, direction: str
    ) -> list[_Amount] | None:
        """Amounts of a batch's TxDtls, or None when they do not add up to the entry."""
        shares = []
        for item, leaves in details:
            amount = None
            for path in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt"):
                if path in leaves:
                    sign = leaves.get("CdtDbtInd") or direction
                    try:
                        amount = _amount(self.doc.one(item, path), sign, item)
                    except _EntryError:
                        return None
                    break
            if amount is None or amount.currency != entry.currency:
                return None
            shares.append(amount)
        if sum(share.value for share in shares) != entry.value:
            return None
        return shares

    def _transaction(
        self,
        number: int,
        booking: date,
        value_date: date | None,
        amount: _Amount,
        direction: str,
        details: tuple[Any, dict[str, str]] | None,
    ) -> ParsedTransaction:
        tx = ParsedTransaction(
            line_no=number,
            booking_date=booking,
            value_date=value_date,
            amount=amount.value,
            currency=amount.currency,
        )
        if details is None:
            return tx
        item, t = details
        party, account, ultimate, agent = (
            ("Dbtr", "DbtrAcct", "UltmtDbtr", "DbtrAgt")
            if direction == "CRDT"
            else ("Cdtr", "CdtrAcct", "UltmtCdtr", "CdtrAgt")
        )
        ultimate_name = _party_name(t, ultimate)
        tx.counterparty_name = _party_name(t, party) or ultimate_name
        account_text = t.get(f"RltdPties/{account}/Id/IBAN", "")
        tx.counterparty_iban = iban_or_empty(account_text)
        counterparty_account = ""
        if not tx.counterparty_iban:
            counterparty_account = account_text or t.get(f"RltdPties/{account}/Id/Othr/Id", "")
        tx.creditor_id = self._creditor_id(item, t)
        agent_path = f"RltdAgts/{agent}/FinInstnId"
        tx.counterparty_bic = bic_or_empty(
            t.get(f"{agent_path}/BICFI") or t.get(f"{agent_path}/BIC")
        )
        tx.end_to_end_ref = _reference(t.get("Refs/EndToEndId", ""))
        tx.mandate_ref = _reference(t.get("Refs/MndtId", ""))
        tx.purpose, reference = self._purpose(item, t)
        match = _DK_CODE.match(t.get("BkTxCd/Prtry/Cd", ""))
        tx.gv_code = match[1] if match else ""
        tx.raw = {
            "tx_id": t.get("Refs/TxId", ""),
            "instruction_id": t.get("Refs/InstrId", ""),
            "tx_bank_reference": t.get("Refs/AcctSvcrRef", ""),
            "payment_information_id": t.get("Refs/PmtInfId", ""),
            "ultimate_party": ultimate_name if ultimate_name != tx.counterparty_name else "",
            "counterparty_account": counterparty_account,
            "counterparty_bank_code": t.get(f"{agent_path}/ClrSysMmbId/MmbId", ""),
            "creditor_reference": reference,
            "purpose_code": t.get("Purp/Cd", ""),
            "additional_info": t.get("AddtlTxInf", ""),
            "return_reason": t.get("RtrInf/Rsn/Cd", ""),
        }
        return tx

    def _purpose(self, item: Any, t: dict[str, str]) -> tuple[str, str]:
        """Unstructured remittance lines joined, plus the structured creditor reference."""
        doc = self.doc
        purpose = ""
        if "RmtInf/Ustrd" in t:
            lines = [" ".join((node.text or "").split()) for node in doc.all(item, "RmtInf/Ustrd")]
            purpose = " ".join(line for line in lines if line)
        references: list[str] = []
        for path in ("RmtInf/Strd/CdtrRefInf/Ref", "RmtInf/Strd/RfrdDocInf/Nb"):
            if path in t:
                references += [" ".join((node.text or "").split()) for node in doc.all(item, path)]
        reference = " ".join(ref for ref in references if ref)
        for ref in references:
            if ref and ref not in purpose:
                purpose = f"{purpose} {ref}".strip()
        return purpose or t.get("AddtlTxInf", ""), reference

    def _creditor_id(self, item: Any, t: dict[str, str]) -> str:
        """The SEPA creditor identifier (CdtrSchmeId, or the creditor's SEPA private id)."""
        scheme = t.get("CdtrSchmeId/Id/PrvtId/Othr/Id")
        if scheme:
            return scheme
        for role in ("RltdPties/Cdtr", "RltdPties/Cdtr/Pty"):
            base = f"{role}/Id/PrvtId/Othr"
            if base + "/Id" not in t:
                continue
            for other in self.doc.all(item, base):  # several Othr: find the SEPA one
                if self.doc.text(other, "SchmeNm/Prtry").upper() == "SEPA":
                    return self.doc.text(other, "Id")
        return ""


# --- helpers ----------------------------------------------------------------------------------


def _party_name(leaves: dict[str, str], role: str) -> str:
    return leaves.get(f"RltdPties/{role}/Nm") or leaves.get(f"RltdPties/{role}/Pty/Nm", "")


def _amount(node: Any, indicator: str, owner: Any) -> _Amount:
    """A signed amount from ``<Amt Ccy="EUR">`` and its credit/debit indicator."""
    if node is None:
        raise _EntryError(_("the amount is missing"), owner)
    try:
        value = money(node.text or "")
    except BelegwerkError as exc:
        raise _EntryError(exc.message, node) from None
    if value < 0:
        raise _EntryError(_("the amount must not be negative; the sign is in CdtDbtInd"), node)
    if indicator not in ("CRDT", "DBIT"):
        raise _EntryError(_("the credit/debit indicator (CdtDbtInd) is missing"), owner)
    currency = (node.get("Ccy") or "").strip().upper() or "EUR"
    return _Amount(-value if indicator == "DBIT" else value, currency)


def _reference(value: str) -> str:
    return "" if value.upper() in _NOT_PROVIDED else value


def _valid_iban(value: str) -> str | None:
    if not value:
        return None
    try:
        return str(IBAN(value).compact)
    except (SchwiftyException, ValueError):
        return None


def _xpath(element: Any) -> str:
    """A readable XPath of local names with positions: /Document/BkToCstmrStmt/Stmt[1]/Ntry[3]."""
    steps = []
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        if parent is None:
            steps.append(name)
        else:
            same = [child for child in parent if child.tag == element.tag]
            steps.append(f"{name}[{same.index(element) + 1}]" if len(same) > 1 else name)
        element = parent
    return "/" + "/".join(reversed(steps))
