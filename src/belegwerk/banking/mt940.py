"""MT940 statements and MT942 interim reports, read with the maintained ``mt-940`` package.

The package parses the tags; this module decides what a broken file means for the user. The
file is cut where the package itself cuts it (at every known ``:NN:`` tag) and each piece is
handed to the package on its own, so one unreadable ``:61:`` rejects only its entry (reported
with its line and entry number) instead of losing the file, and a stray field between entries
is reported instead of silently overwriting the statement's account or balances. ``:86:`` is
taken verbatim (the package would cut blanks at line ends, which separate words there).

The German structured ``:86:`` (GV code, ``?00`` booking text, ``?20``–``?29`` and ``?60``–
``?63`` purpose with the SEPA keywords ``EREF+``, ``KREF+``, ``MREF+``, ``CRED+``, ``SVWZ+``,
``ABWA+``, ``ABWE+``, ``?30`` BIC, ``?31`` IBAN, ``?32``/``?33`` name) is split with the
package's own sub-field and keyword parsers; the raw ``:61:``/``:86:`` text stays in ``raw``.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import InvalidOperation
from typing import Any

import mt940
from mt940 import processors as mt940_processors
from mt940.models import Transaction as Mt940Transaction
from mt940.models import Transactions as Mt940Transactions
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
from belegwerk.banking.statement import ParsedStatement, ParsedTransaction, RejectedRow
from belegwerk.core.errors import BelegwerkError, ValidationFailed
from belegwerk.core.i18n import _

# Every fix the package offers over its 5.0 behaviour, named so an upgrade cannot change them:
# ?31 is the IBAN (not part of the name), RC is negative, lowercase marks count, nothing is cut.
OPTIONS = mt940.Options(
    applicant_iban=True,
    merge_keeps_values=True,
    reversal_sign=True,
    case_insensitive_marks=True,
    timezone_offset=True,
    unbounded_details=True,
    non_swift_free_text=True,
    floor_limit_blank_mark=True,
    strip_bom=True,
    gvc_leading_text=True,
)
# The package's tag pattern (models.Transactions.parse), used only to find where tags start.
_TAG_START = re.compile(r"^:\n?(?P<full_tag>(?P<tag>[0-9]{2}|NS)(?P<sub_tag>[A-Z])?):", re.M)
_TAGS = mt940.tags.TAG_BY_ID
# Statement-level fields that may follow the entries: balances and MT942 sums.
_AFTER_ENTRIES = {60, 62, 64, 65, 90}
_STRUCTURED_86 = re.compile(r"^\d{3}\?\d{2}")
_GVC_KEYWORD = re.compile(
    "|".join(re.escape(key) + r"\+" for key in mt940_processors.GVC_KEYS if key)
)
_BLZ_ACCOUNT = re.compile(r"(\d{8})/(\d{1,10})([A-Z]{3})?")
_TRAILING_CURRENCY = re.compile(r"[0-9]([A-Z]{3})$")
_LINE_WIDTH = 65  # :86: lines are cut at 65 characters
# A :61: the standard pattern refuses is tried with the package's variants for banks that send
# longer customer references: Atruvia/GLS (issue #111 of mt940), then ASN Bank.
_STATEMENT_LINE_VARIANTS: list[dict[int | str, mt940.tags.Tag] | None] = [
    None,
    {61: mt940.tags.StatementGLS()},
    {61: mt940.tags.StatementASNB()},
]
# The package logs every line it cannot match at ERROR level; we report those lines to the user
# ourselves (with line numbers), so its log would only repeat them with the bank data in it.
logging.getLogger("mt940").setLevel(logging.CRITICAL)


def parse_mt940(content: bytes, file_name: str) -> ParsedStatement:
    """Read an MT940/MT942 file (``.sta``, ``.mta``, ``.txt``) into one statement.

    Several statements (one per day or page) are joined; statements of different accounts
    are refused (``bank.multiple_accounts``), see :func:`parse_mt940_statements`.
    """
    parts, key, name = _read(content, file_name)
    return to_statement(
        parts, fmt="mt940", template_key=key, template_name=name, file_name=file_name
    )


def parse_mt940_statements(content: bytes, file_name: str) -> list[ParsedStatement]:
    """Each ``:20:`` statement on its own (entry numbers still count through the file)."""
    parts, key, name = _read(content, file_name)
    return [
        to_statement([part], fmt="mt940", template_key=key, template_name=name, file_name=file_name)
        for part in parts
    ]


# --- reading ---------------------------------------------------------------------------------


@dataclass
class _Group:
    """One tag with its continuation lines, as the package would slice it."""

    tag: str  # "61", "86", "62F", "NS" ...
    tag_id: int | str  # the package's key: 61, 86, 62, "NS" ...
    line: int  # 1-based line in the file
    text: str  # ":61:..." including the marker, lines cleaned as the package does
    original: str  # the same lines with their trailing blanks (they matter inside :86:)


def _read(content: bytes, file_name: str) -> tuple[list[StatementPart], str, str]:
    check_size(content, file_name)
    groups = list(_groups(_decode(content)))
    if not groups:
        raise ValidationFailed(
            "bank.mt940_invalid",
            _("The file {name} is not an MT940 statement: it contains no MT940 field.").format(
                name=file_name
            ),
            [{"file": file_name}],
        )
    entry_numbers = itertools.count(1)
    parts: list[StatementPart] = []
    reader: _StatementReader | None = None
    for group in groups:
        if reader is None or group.tag_id == 20:
            if reader is not None:
                parts.append(reader.finish())
            reader = _StatementReader(entry_numbers)
        reader.feed(group)
    assert reader is not None
    parts.append(reader.finish())
    interim = any(group.tag_id == 34 for group in groups)
    if interim:
        return parts, "mt942", _("MT942 interim statement")
    return parts, "mt940", _("MT940 statement")


def _decode(content: bytes) -> str:
    """UTF-8 if it is; else the single-byte code page that yields more letters.

    German banks write ISO-8859-1/cp1252, older software the DOS code page 850 (the package
    would guess cp852). Only the non-ASCII bytes are looked at, so this is fast.
    """
    content = content.removeprefix(b"\xef\xbb\xbf")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    high = b"".join(re.findall(rb"[\x80-\xff]", content))
    best, best_letters = "cp850", -1
    for encoding in ("cp1252", "cp850"):
        try:
            letters = sum(1 for ch in high.decode(encoding) if ch.isalpha())
        except UnicodeDecodeError:
            continue
        if letters > best_letters:
            best, best_letters = encoding, letters
    return content.decode(best)


def _groups(text: str) -> Iterator[_Group]:
    """Cut the file at every known tag, keeping the original line numbers.

    Lines are cleaned exactly as ``mt940.models.Transactions.strip`` does (blank lines and
    lone ``-`` separators dropped, trailing blanks cut), so the cuts are the package's own.
    A tag always starts a line, so each group is a run of whole lines.
    """
    kept: list[str] = []
    originals: list[str] = []
    line_numbers: list[int] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        original = raw.replace("\r", "")
        line = original.rstrip()
        if not line or line.strip() == "-":
            continue
        kept.append(line)
        originals.append(original)
        line_numbers.append(number)
    data = "\n".join(kept)
    starts: list[int] = []
    offset = 0
    for line in kept:
        starts.append(offset)
        offset += len(line) + 1
    matches = [m for m in _TAG_START.finditer(data) if _tag_id(m["tag"]) in _TAGS]
    first_lines = [bisect.bisect_right(starts, m.start()) - 1 for m in matches]
    for index, match in enumerate(matches):
        first = first_lines[index]
        last = first_lines[index + 1] if index + 1 < len(matches) else len(kept)
        yield _Group(
            tag=match["full_tag"],
            tag_id=_tag_id(match["tag"]),
            line=line_numbers[first],
            text="\n".join(kept[first:last]),
            original="\n".join(originals[first:last]),
        )


def _tag_id(tag: str) -> int | str:
    return int(tag) if tag.isdigit() else tag


def _is_transaction_level(group: _Group) -> bool:
    tag = _TAGS.get(group.tag) or _TAGS[group.tag_id]
    return issubclass(tag.scope, Mt940Transaction)


def _new_collection(tags: dict[int | str, mt940.tags.Tag] | None = None) -> Mt940Transactions:
    return Mt940Transactions(tags=tags, options=OPTIONS)


_PARSE_ERRORS = (RuntimeError, ValueError, ArithmeticError, InvalidOperation, KeyError, TypeError)


@dataclass
class _Entry:
    number: int
    line: int
    collection: Mt940Transactions  # holds exactly this entry, seeded with the statement data
    texts: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # :86: texts without the marker


class _StatementReader:
    """Feeds one ``:20:`` block tag by tag into the package and collects entries and errors."""

    def __init__(self, entry_numbers: Iterator[int]) -> None:
        self.entry_numbers = entry_numbers
        self.statement = _new_collection()
        self.part = StatementPart(label="")
        self.entries: list[_Entry] = []
        self.entry: _Entry | None = None  # the entry whose :86:/:NS: may follow
        self.opening: Any = None

    def feed(self, group: _Group) -> None:
        if group.tag_id == 61:
            self._start_entry(group)
        elif _is_transaction_level(group):
            if self.entry is not None:
                self._add_details(self.entry, group)
            # else: the details of a rejected entry (reported with it), or a :86: about the
            # statement as a whole (after the balances, e.g. ING's totals): nothing to import.
        else:
            self.entry = None
            self._statement_field(group)

    def _start_entry(self, group: _Group) -> None:
        if not self.entries and not self.part.lost_entries:
            self.opening = _first(
                self.statement.data,
                "final_opening_balance",
                "opening_balance",
                "intermediate_opening_balance",
            )
        number = next(self.entry_numbers)
        error: Exception | None = None
        for tags in _STATEMENT_LINE_VARIANTS:
            collection = _new_collection(tags)
            collection.data = dict(self.statement.data)
            try:
                collection.parse(group.text)
                if len(collection.transactions) != 1:
                    raise RuntimeError(group.text)
            except _PARSE_ERRORS as exc:
                error = error or exc
                continue
            break
        else:
            assert error is not None
            self.entry = None
            self._reject_entry(number, group.line, _reason(error))
            return
        self.entry = _Entry(number, group.line, collection, [group.original])
        self.entries.append(self.entry)

    def _add_details(self, entry: _Entry, group: _Group) -> None:
        # Taken verbatim: the package would cut the trailing blanks of every line, and inside
        # :86: a blank at a line end separates two words ("Telekom Deutschland |GmbH").
        entry.texts.append(group.original)
        if group.tag_id == 86:
            entry.details.append(_TAG_START.sub("", group.original, count=1))

    def _statement_field(self, group: _Group) -> None:
        after_entries = bool(self.entries) or self.part.lost_entries > 0
        if after_entries and group.tag_id not in _AFTER_ENTRIES:
            self.part.rejected.append(
                RejectedRow(
                    line=group.line,
                    message=_(
                        "Line {line}: the field :{tag}: is not allowed between or after the "
                        "entries (a damaged :86: line?); it was not imported."
                    ).format(line=group.line, tag=group.tag),
                    code="bank.mt940_invalid",
                )
            )
            return
        try:
            self.statement.parse(group.text)
        except _PARSE_ERRORS as exc:
            self.part.rejected.append(
                RejectedRow(
                    line=group.line,
                    message=_("Line {line}: the field :{tag}: cannot be read ({reason}).").format(
                        line=group.line, tag=group.tag, reason=_reason(exc)
                    ),
                    code="bank.mt940_invalid",
                )
            )

    def _reject_entry(self, number: int, line: int, reason: str) -> None:
        self.part.lost_entries += 1
        self.part.rejected.append(
            RejectedRow(
                line=line,
                message=_("Entry {entry} (line {line}) cannot be read: {reason}").format(
                    entry=number, line=line, reason=reason
                ),
                code="bank.mt940_invalid",
            )
        )

    def finish(self) -> StatementPart:
        data = self.statement.data
        part = self.part
        part.label = str(data.get("transaction_reference") or "")
        part.account = str(data.get("account_identification") or "").strip()
        part.account_iban = account_iban(part.account)
        part.currency = self.statement.currency or _currency_of_account(part.account)
        part.opening_balance = _balance(self.opening)
        part.closing_balance = _balance(
            _first(data, "final_closing_balance", "closing_balance", "intermediate_closing_balance")
        )
        for entry in self.entries:
            try:
                part.transactions.append(self._transaction(entry))
            except BelegwerkError as exc:
                self._reject_entry(entry.number, entry.line, exc.message)
        part.rejected.sort(key=lambda row: row.line)
        apply_running_balance(part)
        return part

    def _transaction(self, entry: _Entry) -> ParsedTransaction:
        data = entry.collection.transactions[0].data
        amount_model = data["amount"]
        amount = money(str(amount_model.amount))
        value_date = _plain_date(data["date"])
        entry_date = data.get("entry_date")
        booking_date = _plain_date(entry_date) if entry_date else value_date
        details = split_details("\n".join(entry.details))
        raw = {
            "line": str(entry.line),
            "entry": str(entry.number),
            "account": self.part.account,
            "statement": self.part.label,
            "mt940": "\n".join(entry.texts),
            "mark": str(data.get("status") or ""),
            "transaction_type": str(data.get("id") or ""),
            "customer_reference": str(data.get("customer_reference") or ""),
            "bank_reference": str(data.get("bank_reference") or ""),
            "supplementary_details": str(data.get("extra_details") or ""),
            **details.raw,
        }
        tx = ParsedTransaction(
            line_no=entry.number,
            booking_date=booking_date,
            value_date=value_date,
            amount=amount,
            currency=str(amount_model.currency or self.part.currency or "EUR"),
            counterparty_name=details.name,
            counterparty_iban=details.iban,
            counterparty_bic=details.bic,
            purpose=details.purpose,
            booking_text=details.booking_text,
            end_to_end_ref=details.end_to_end_ref,
            mandate_ref=details.mandate_ref,
            creditor_id=details.creditor_id,
            gv_code=details.gv_code,
            raw={key: value for key, value in raw.items() if value},
        )
        return fill_widths(tx)


# --- :86: -------------------------------------------------------------------------------------


@dataclass
class Details:
    """What a ``:86:`` says, in our field names; ``raw`` keeps the rest."""

    gv_code: str = ""
    booking_text: str = ""
    purpose: str = ""
    name: str = ""
    iban: str = ""
    bic: str = ""
    end_to_end_ref: str = ""
    mandate_ref: str = ""
    creditor_id: str = ""
    raw: dict[str, str] = field(default_factory=dict)


def split_details(text: str) -> Details:
    """Split a ``:86:`` text; free text (no GV code) becomes the purpose.

    Uses ``mt940.processors._parse_mt940_details`` and ``_parse_mt940_gvcodes``, the package's
    own (underscored) splitters behind its public post-processor, because that processor cannot
    continue the purpose into ``?60``-``?63``; the golden tests catch a change of them.
    """
    if not text.strip():
        return Details()
    joined = "".join(line.strip("\r\n") for line in text.splitlines()).lstrip()
    if not _STRUCTURED_86.match(joined):
        return Details(purpose=_free_text(text))
    fields = mt940_processors._parse_mt940_details(
        joined, detail_keys=mt940_processors.DETAIL_KEYS_APPLICANT_IBAN
    )
    # ?60-?63 continue ?20-?29 (DFÜ-Abkommen, Anlage 3) once all ten are used; a keyword may
    # then run on into them. Without ?29 they are a text of their own.
    main = fields.get("purpose") or ""
    extra = fields.get("additional_purpose") or ""
    if "?29" in joined:
        main, extra = main + extra, ""
    keywords, purpose = _keywords(main)
    extra_keywords, extra_purpose = _keywords(extra)
    for key, value in extra_keywords.items():
        if value and not keywords.get(key):
            keywords[key] = value
    purpose = " ".join(part for part in (purpose, extra_purpose) if part)
    leading = main[: first.start()] if (first := _GVC_KEYWORD.search(main)) else ""
    account = _text(fields.get("applicant_iban"))
    bank = _text(fields.get("applicant_bin"))
    iban = iban_or_empty(account) or iban_or_empty(keywords.get("gvc_applicant_iban"))
    bic = bic_or_empty(bank) or bic_or_empty(keywords.get("gvc_applicant_bin"))
    raw = {
        "prima_nota": _text(fields.get("prima_nota")),
        "text_key_extension": _text(fields.get("return_debit_notes")),
        "recipient_name": _text(fields.get("recipient_name")),
        "counterparty_account": "" if iban_or_empty(account) else account,
        "counterparty_bank_code": "" if bic_or_empty(bank) else bank,
        "purpose_prefix": _text(leading) if _text(keywords.get("purpose")) else "",
        "kref": _text(keywords.get("customer_reference")),
        "abwa": _text(keywords.get("deviate_applicant")),
        "abwe": _text(keywords.get("deviate_recipient")),
        "purpose_code": _text(keywords.get("purpose_code")),
        "debtor_id": _text(keywords.get("debitor_identifier")),
        "original_amount": _text(keywords.get("original_amount")),
        "compensation_amount": _text(keywords.get("compensation_amount")),
    }
    return Details(
        gv_code=_text(fields.get("transaction_code")),
        booking_text=_text(fields.get("posting_text")),
        purpose=purpose,
        name=_text(fields.get("applicant_name")),
        iban=iban,
        bic=bic,
        end_to_end_ref=_reference(keywords.get("end_to_end_reference")),
        mandate_ref=_reference(keywords.get("additional_position_reference")),
        creditor_id=_reference(keywords.get("applicant_creditor_id")),
        raw={key: value for key, value in raw.items() if value},
    )


def _keywords(text: str) -> tuple[dict[str, str | None], str]:
    """The SEPA keywords of a purpose text and the purpose itself (SVWZ+, else the plain text)."""
    first = _GVC_KEYWORD.search(text)
    if not first:
        return {}, _text(text)
    keywords = mt940_processors._parse_mt940_gvcodes(text, keep_leading_text=True)
    return keywords, _text(keywords.get("purpose")) or _text(text[: first.start()])


def _free_text(text: str) -> str:
    """Join unstructured lines: a full 65-character line was cut mid-word, a shorter one not."""
    out = ""
    for line in text.splitlines():
        out += line
        if len(line) < _LINE_WIDTH:
            out += " "
    return " ".join(out.split())


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def _reference(value: str | None) -> str:
    text = _text(value)
    return "" if text.upper() in {"NOTPROVIDED", "NONREF"} else text


# --- small helpers ----------------------------------------------------------------------------


def account_iban(account: str) -> str | None:
    """The IBAN of a ``:25:`` account: as written, or derived from a German BLZ/account pair.

    Derivation is the plain ISO 13616 rule (schwifty); the few banks with special IBAN rules of
    the Bundesbank may get a different IBAN than they issue, hence raw ``account`` is kept too.
    """
    compact = re.sub(r"\s+", "", account).upper()
    if not compact:
        return None
    match = _BLZ_ACCOUNT.fullmatch(compact)
    if match:
        try:
            return str(IBAN.generate("DE", bank_code=match[1], account_code=match[2]).compact)
        except (SchwiftyException, ValueError):
            return None
    candidates = [compact, compact[:-3], *compact.split("/")]
    for candidate in candidates:
        if iban_or_empty(candidate):
            try:
                return str(IBAN(candidate).compact)
            except (SchwiftyException, ValueError):
                continue
    return None


def _currency_of_account(account: str) -> str | None:
    match = _TRAILING_CURRENCY.search(re.sub(r"\s+", "", account).upper())
    return match[1] if match else None


def _first(data: dict[str, Any], *keys: str) -> Any:
    return next((data[key] for key in keys if data.get(key) is not None), None)


def _balance(balance: Any) -> Any:
    if balance is None:
        return None
    try:
        return money(str(balance.amount.amount))
    except (BelegwerkError, AttributeError):
        return None


def _plain_date(value: date) -> date:
    return date(value.year, value.month, value.day)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RuntimeError):
        return _("the line does not have the MT940 format")
    if isinstance(exc, ValueError) and any(word in str(exc) for word in ("day", "month", "year")):
        return _("the date is not valid")
    return _("the line does not have the MT940 format")
