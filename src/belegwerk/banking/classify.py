"""Business or private: suggestions and decisions for bank lines, and categories for business
lines without an invoice.

A line's usage is ``business``, ``private`` (ignored by every tax output),
``private_withdrawal`` (Privatentnahme) or ``private_deposit`` (Privateinlage); a business line
may carry a category (bank fees, insurance, rent …), which is what books it.

Suggestions come from the first source that has an answer, strongest first:

1. ``keyword`` — explicit words in purpose or booking text (Privatentnahme, Privateinlage, a
   bare Entnahme or Einlage as a word of its own);
2. ``rule`` — the user's rules (:mod:`belegwerk.banking.rules`), first match by priority;
3. ``memory`` — the user's last confirmed decision for the counterparty (by IBAN, else by the
   normalised name); its confidence is the share of that decision among all the user's
   decisions for the counterparty, and when that share is below one half the classifier is
   asked first;
4. ``classifier`` — a model trained on the user's confirmed decisions
   (:mod:`belegwerk.banking.learn`), used from a probability of :data:`CLASSIFIER_MIN` on;
5. ``keyword`` again for categories of business lines (account fees), then ``default``: on a
   business account every line is business unless a stronger source says otherwise.

Private money moved is a withdrawal when it leaves the account and a deposit when it comes in,
whatever the source said. On a business account there is no "private" line: money for private
purposes leaves the business, so it is a withdrawal (or, coming in, a deposit); the classifier
only adds categories there. A line of a mixed account that no source recognises gets no
suggestion and waits for the user.

Suggestions are unconfirmed rows; ``accept_all`` or ``decide`` confirm them. Only confirmed
classifications book (:mod:`belegwerk.banking.bank_postings`). Every decision and change is
audited with before and after; a suggestion run is audited once with its counts.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import accumulate, repeat
from operator import add
from typing import Any, NamedTuple, cast

from sqlalchemy import BigInteger, ColumnElement, Table, func, select, type_coerce, update
from sqlalchemy.orm import Session

from belegwerk.banking import learn
from belegwerk.banking.bank_postings import (
    SOURCE_TYPE,
    LineFacts,
    PostingContext,
    linked_amounts,
    post_lines,
    posting_text,
    reverse_open,
)
from belegwerk.banking.models import BankAccount, BankTransaction, Classification, ImportBatch
from belegwerk.banking.rules import (
    USAGES,
    check_category_for_usage,
    check_usage,
    compact_iban,
    rule_set,
)
from belegwerk.books import journal
from belegwerk.books import vat_treatment as vt
from belegwerk.books.models import Category
from belegwerk.core import bulk
from belegwerk.core.audit import audit_writer
from belegwerk.core.db import owned_row
from belegwerk.core.errors import BelegwerkError, Conflict, ValidationFailed
from belegwerk.core.i18n import _
from belegwerk.core.money import ZERO
from belegwerk.core.types import utcnow

__all__ = ["USAGES", "accept_all", "decide", "suggest", "suggest_for_batch"]

SOURCES = ("user", "keyword", "rule", "memory", "classifier", "default")
ONE = Decimal("1.0000")
CLASSIFIER_MIN = 0.5
MEMORY_CONFIDENCE = 0.9  # times the share of the remembered decision
MEMORY_MAJORITY = 0.5
DEFAULT_CONFIDENCE = Decimal("0.9000")
_IN_CHUNK = 5000
_CLASSIFICATIONS = cast(Table, Classification.__table__)

# Explicit words: (pattern, usage, confidence). Word boundaries keep "Spareinlage",
# "Termineinlage" (business money parked elsewhere) and "Barentnahme" (ATM) out.
_USAGE_WORDS: tuple[tuple[re.Pattern[str], str, Decimal], ...] = (
    (re.compile(r"\bprivat[\s-]*entnahme\b", re.I), "private_withdrawal", Decimal("0.9500")),
    (re.compile(r"\bprivat[\s-]*einlage\b", re.I), "private_deposit", Decimal("0.9500")),
    (re.compile(r"\bentnahme\b", re.I), "private_withdrawal", Decimal("0.8000")),
    (re.compile(r"\beinlage\b", re.I), "private_deposit", Decimal("0.8000")),
)
# Words naming a category of a business line paid out: (pattern, category key, confidence).
_CATEGORY_WORDS: tuple[tuple[re.Pattern[str], str, Decimal], ...] = (
    (
        re.compile(
            r"kontof(?:ü|ue)hrung|kontoentgelt|abschlussentgelt|rechnungsabschluss"
            r"|kartenentgelt|buchungsposten|entgelte?\s+(?:für|fuer)\s+(?:das\s+)?konto",
            re.I,
        ),
        "bank_fees",
        Decimal("0.7000"),
    ),
)


class Suggestion(NamedTuple):
    usage: str
    category_id: int | None
    source: str
    confidence: Decimal
    rule_id: int | None = None


def _confidence(value: float) -> Decimal:
    return Decimal(str(round(min(max(value, 0.0), 1.0), 4))).quantize(Decimal("0.0001"))


def _fit(s: Suggestion, business_account: bool, cents: int) -> Suggestion:
    """Private money moved is a withdrawal going out and a deposit coming in; on a business
    account private use is always such a move; only business lines keep a category."""
    usage = s.usage
    if usage == "business":
        return s
    if usage != "private" or business_account:
        usage = "private_withdrawal" if cents < 0 else "private_deposit"
    if usage == s.usage and s.category_id is None:
        return s
    return Suggestion(usage, None, s.source, s.confidence, s.rule_id)


# --------------------------------------------------------------------------- memory


_NOT_WORD = re.compile(r"[\W_]+")


def normalize_name(name: str) -> str:
    """A counterparty name as remembered: case, accents, punctuation and spacing do not matter
    (banks write "CAFE KRUEMEL", "Café Krümel" or "CAFE KRUMEL" for the same shop)."""
    plain = name.casefold()
    if not plain.isascii():
        folded = unicodedata.normalize("NFKD", plain.replace("ß", "ss"))
        plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.replace("ae", "a").replace("oe", "o").replace("ue", "u")
    return " ".join(_NOT_WORD.sub(" ", plain).split())


@dataclass(frozen=True)
class Recall:
    usage: str
    category_id: int | None
    share: float  # of the remembered decision among all decisions for the counterparty
    suggestion: Suggestion

    @property
    def clear(self) -> bool:
        return self.share >= MEMORY_MAJORITY


class Memory:
    """The user's confirmed decisions per counterparty (IBAN, else normalised name); the last
    one wins. Built once per run; name normalisation is cached per raw name."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[str, int | None]] = {}
        self._counts: dict[str, Counter[tuple[str, int | None]]] = {}
        self._recalls: dict[str, Recall] = {}
        self._names: dict[str, str] = {}

    def _name_key(self, name: str) -> str:
        key = self._names.get(name)
        if key is None:
            normal = normalize_name(name)
            key = self._names[name] = "n:" + normal if len(normal) >= 3 else ""
        return key

    def add(self, iban: str, name: str, usage: str, category_id: int | None) -> None:
        decision = (usage, category_id)
        for key in ("i:" + compact_iban(iban) if iban else "", self._name_key(name)):
            if key:
                self._last[key] = decision
                self._counts.setdefault(key, Counter())[decision] += 1
                self._recalls.pop(key, None)

    def _recall(self, key: str) -> Recall | None:
        found = self._recalls.get(key)
        if found is None:
            last = self._last.get(key)
            if last is None:
                return None
            counts = self._counts[key]
            share = counts[last] / sum(counts.values())
            suggestion = Suggestion(
                last[0], last[1], "memory", _confidence(MEMORY_CONFIDENCE * share)
            )
            found = self._recalls[key] = Recall(last[0], last[1], share, suggestion)
        return found

    def recall(self, iban: str, name: str) -> Recall | None:
        """By IBAN when the line has one the user decided on before, else by name."""
        if iban:
            found = self._recall("i:" + iban)
            if found is not None:
                return found
        key = self._name_key(name)
        return self._recall(key) if key else None

    @classmethod
    def load(cls, session: Session, tenant_id: int) -> Memory:
        tx = BankTransaction
        memory = cls()
        rows = session.execute(
            select(
                tx.counterparty_iban,
                tx.counterparty_name,
                Classification.usage,
                Classification.category_id,
            )
            .join(tx, tx.id == Classification.transaction_id)
            .where(Classification.tenant_id == tenant_id, Classification.confirmed.is_(True))
            .order_by(Classification.updated_at, Classification.id)
        )
        for iban, name, usage, category_id in rows:
            memory.add(iban, name, usage, category_id)
        return memory


# --------------------------------------------------------------------------- suggestions


_KEYWORD_SUGGESTIONS = {
    (usage, confidence): Suggestion(usage, None, "keyword", confidence)
    for _pattern, usage, confidence in _USAGE_WORDS
}
_DEFAULT = Suggestion("business", None, "default", DEFAULT_CONFIDENCE)
_ANY_USAGE_WORD = re.compile("|".join(p.pattern for p, _u, _c in _USAGE_WORDS), re.I)
# Literals every match of the word patterns contains, for a quick first pass over many lines
# in lower case (see _matching): keep them in step with the patterns above.
_USAGE_LITERALS = re.compile("entnahme|einlage")
_CATEGORY_LITERALS = re.compile("konto|entgelt|rechnungsabschluss|buchungsposten")


def _usage_words(text: str) -> Suggestion | None:
    if _ANY_USAGE_WORD.search(text) is None:
        return None
    for pattern, usage, confidence in _USAGE_WORDS:
        if pattern.search(text):
            return _KEYWORD_SUGGESTIONS[(usage, confidence)]
    return None  # pragma: no cover - the combined pattern found one of them


class Lines(NamedTuple):
    """Bank lines column by column, as a suggestion run reads them; ``ids`` are the stored
    ids or provisional ones (see :func:`suggest_for_batch`)."""

    ids: Sequence[Any]
    accounts: Sequence[int]
    cents: Sequence[int]
    ibans: Sequence[str]
    names: Sequence[str]
    purposes: Sequence[str]
    booking_texts: Sequence[str]

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> Lines:
        """From rows of (id, account, cents, IBAN, name, purpose, booking text)."""
        if not rows:
            return cls((), (), (), (), (), (), ())
        return cls(*zip(*rows, strict=True))


class Suggester:
    """Everything a suggestion run needs, loaded once: rules, memory, accounts, model."""

    def __init__(self, session: Session, tenant_id: int) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.rules = rule_set(session, tenant_id)
        self._by_rule = {
            r.id: Suggestion(r.usage, r.category_id, "rule", ONE, r.id) for r in self.rules.rules
        }
        self.memory = Memory.load(session, tenant_id)
        self.business_accounts = set(
            session.scalars(
                select(BankAccount.id).where(
                    BankAccount.tenant_id == tenant_id, BankAccount.account_type == "business"
                )
            )
        )
        self._category_words: dict[tuple[str, Decimal], Suggestion] = {}

    def _category_word(self, key: str, confidence: Decimal) -> Suggestion:
        if (key, confidence) not in self._category_words:
            found = self.session.scalar(select(Category.id).where(Category.key == key))
            suggestion = Suggestion("business", found, "keyword", confidence)
            self._category_words[key, confidence] = suggestion
        return self._category_words[key, confidence]

    def _category_words_of(
        self, cents: Sequence[int], purposes: Sequence[str], booking_texts: Sequence[str]
    ) -> list[Suggestion | None]:
        """Category keywords of lines paid out, in purpose and booking text (joined by a
        space). A literal of the keywords holds no space, so it lies in one of the two: the
        lines to look at closely are found in the purposes at once and in each distinct
        booking text once."""
        found: list[Suggestion | None] = [None] * len(cents)
        outgoing = [k for k, amount in enumerate(cents) if amount < 0]
        marked = {text for text in {booking_texts[k] for k in outgoing} if _literal_in(text)}
        candidates = _with_literal([purposes[k] for k in outgoing], _CATEGORY_LITERALS)
        candidates.update(j for j, k in enumerate(outgoing) if booking_texts[k] in marked)
        for j in sorted(candidates):
            k = outgoing[j]
            text = f"{purposes[k]} {booking_texts[k]}"
            for pattern, key, confidence in _CATEGORY_WORDS:
                if pattern.search(text):
                    found[k] = self._category_word(key, confidence)
                    break
        return found

    def suggest(self, lines: Lines) -> list[Suggestion | None]:
        """A suggestion (or None) per line; see the module docstring for the order.

        Work is done per column and per distinct value where it can be: keyword hits over
        all purposes at once, booking texts and the memory once per distinct value.
        """
        if not lines.ids:
            return []
        _ids, accounts, cents, ibans, names, purposes, booking_texts = lines
        # Keywords (in the purpose first, then in the booking text), then rules.
        booking_words = {text: _usage_words(text) for text in set(booking_texts)}
        out: list[Suggestion | None] = list(map(booking_words.__getitem__, booking_texts))
        for i in _matching(_ANY_USAGE_WORD, purposes, _USAGE_LITERALS):
            found = _usage_words(purposes[i])
            if found is not None:
                out[i] = found
        if self.rules:
            for i in [i for i, s in enumerate(out) if s is None]:
                rule = self.rules.first(cents[i], ibans[i], names[i], purposes[i], booking_texts[i])
                if rule is not None:
                    out[i] = self._by_rule[rule.id]
        # A clear memory decides; a disputed one waits for the classifier.
        undecided = [i for i, s in enumerate(out) if s is None]
        recalls = {pair: self.memory.recall(*pair) for pair in set(zip(ibans, names, strict=True))}
        pending: list[int] = undecided
        pending_recalls: list[Recall | None] = [None] * len(undecided)
        if any(recall is not None for recall in recalls.values()):
            pending, pending_recalls = [], []
            for i in undecided:
                recall = recalls[ibans[i], names[i]]
                if recall is not None and recall.clear:
                    out[i] = recall.suggestion
                else:
                    pending.append(i)
                    pending_recalls.append(recall)
        model = learn.model_for(self.session, self.tenant_id) if pending else None
        predictions: list[learn.Prediction | None] = [None] * len(pending)
        if model is not None:
            features = [
                learn.features(names[i], purposes[i], booking_texts[i], cents[i]) for i in pending
            ]
            predictions = list(model.predict(features))
        words = self._category_words_of(
            [cents[i] for i in pending],
            [purposes[i] for i in pending],
            [booking_texts[i] for i in pending],
        )
        business_accounts = self.business_accounts
        if model is None and not any(pending_recalls) and business_accounts.isdisjoint(accounts):
            # Nothing but category words can decide here (a mixed account without history).
            for i, word in zip(pending, words, strict=True):
                if word is not None:
                    out[i] = word
        else:
            for i, recall, prediction, word in zip(
                pending, pending_recalls, predictions, words, strict=True
            ):
                business = accounts[i] in business_accounts
                if (
                    prediction is not None
                    and prediction.confidence >= CLASSIFIER_MIN
                    and (not business or prediction.usage == "business")
                ):
                    out[i] = Suggestion(
                        prediction.usage,
                        prediction.category_id,
                        "classifier",
                        _confidence(prediction.confidence),
                    )
                elif recall is not None:
                    out[i] = recall.suggestion
                else:
                    out[i] = word or (_DEFAULT if business else None)
        for i in [i for i, s in enumerate(out) if s is not None]:
            suggestion = out[i]
            assert suggestion is not None
            out[i] = _fit(suggestion, accounts[i] in business_accounts, cents[i])
        return out


# The characters besides a-z/A-Z that a case-insensitive pattern takes for an ASCII letter
# and lower() does not turn into it (found by testing every code point).
_FOLD_TO_ASCII = (("İ", "i"), ("ı", "i"), ("ſ", "s"))


def _folded(text: str) -> str:
    """Lower case in which every letter a case-insensitive pattern takes for an ASCII letter
    is that letter."""
    for special, letter in _FOLD_TO_ASCII:  # str.replace: far quicker than str.translate
        text = text.replace(special, letter)
    return text.lower()


def _literal_in(text: str) -> bool:
    return _CATEGORY_LITERALS.search(_folded(text)) is not None


def _with_literal(texts: Sequence[str], literals: re.Pattern[str]) -> set[int]:
    """Positions of the texts in which ``literals`` (lower case) finds something: one search
    over all texts joined by NUL, which no literal crosses."""
    joined = _folded("\x00".join(texts))
    if len(joined) != sum(map(len, texts)) + max(len(texts) - 1, 0):
        return set(range(len(texts)))  # lower() lengthened a text: look at all
    starts = list(accumulate(map(add, map(len, texts), repeat(1)), initial=0))
    return {bisect_right(starts, match.start()) - 1 for match in literals.finditer(joined)}


def _matching(
    pattern: re.Pattern[str], texts: Sequence[str], literals: re.Pattern[str]
) -> set[int]:
    """Positions of the texts in which ``pattern`` finds something.

    ``literals`` finds, in lower case, a literal that every match of ``pattern`` contains; it
    is quick where the case-insensitive ``pattern`` is slow, which then decides on the few
    texts found.
    """
    return {k for k in _with_literal(texts, literals) if pattern.search(texts[k])}


def _unclassified_lines(
    session: Session, tenant_id: int, condition: ColumnElement[bool]
) -> list[Any]:
    tx = BankTransaction
    # "+ 0" keeps SQLite (which has no statistics) off the tenant index: a batch or a set of ids
    # is the selective condition, not the tenant with all its years of lines.
    where = [(tx.tenant_id + 0) == tenant_id, condition]
    # A fresh import lies above every classified line: then no line needs the per-row check.
    lowest = session.scalar(select(func.min(tx.id)).where(*where))
    if lowest is None:
        return []
    highest_classified = session.scalar(
        select(func.max(Classification.transaction_id)).where(Classification.tenant_id == tenant_id)
    )
    if highest_classified is not None and highest_classified >= lowest:
        where.append(
            ~select(Classification.id).where(Classification.transaction_id == tx.id).exists()
        )
    rows = session.execute(
        select(
            tx.id,
            tx.account_id,
            type_coerce(tx.amount, BigInteger),
            tx.counterparty_iban,
            tx.counterparty_name,
            tx.purpose,
            tx.booking_text,
        )
        .where(*where)
        .order_by(tx.id)
    )
    return list(rows)


_INSERT_COLUMNS = (
    "tenant_id",
    "transaction_id",
    "usage",
    "category_id",
    "source",
    "confidence",
    "rule_id",
    "confirmed",
    "updated_at",
    "updated_by",
)


def _store(
    session: Session,
    tenant_id: int,
    ids: Sequence[int],
    suggestions: Sequence[Suggestion],
    actor: str,
) -> Counter[str]:
    """Insert the suggestions in one executemany (typed values converted once per value)."""
    stamp = bulk.binder(session, _CLASSIFICATIONS, "updated_at")(utcnow())
    unconfirmed = bulk.binder(session, _CLASSIFICATIONS, "confirmed")(False)
    to_scaled = bulk.binder(session, _CLASSIFICATIONS, "confidence")
    scaled: dict[Decimal, Any] = {}
    sources: Counter[str] = Counter()
    rows = []
    for line_id, s in zip(ids, suggestions, strict=True):
        confidence = scaled.get(s.confidence)
        if confidence is None:
            confidence = scaled[s.confidence] = to_scaled(s.confidence)
        sources[s.source] += 1
        rows.append(
            (
                tenant_id,
                line_id,
                s.usage,
                s.category_id,
                s.source,
                confidence,
                s.rule_id,
                unconfirmed,
                stamp,
                actor,
            )
        )
    bulk.insert_tuples(session, _CLASSIFICATIONS, _INSERT_COLUMNS, rows)
    return sources


def _run(
    session: Session,
    tenant_id: int,
    lines: Lines,
    actor: str,
    scope: dict[str, Any],
    ids: Callable[[list[Any]], list[int]] | None = None,
) -> int:
    """Suggest, store and audit; ``ids`` turns provisional line ids into stored ones (only
    for the lines that get a suggestion)."""
    if not lines.ids:
        return 0
    suggestions = Suggester(session, tenant_id).suggest(lines)
    chosen = [k for k, s in enumerate(suggestions) if s is not None]
    line_ids = [lines.ids[k] for k in chosen]
    sources = _store(
        session,
        tenant_id,
        ids(line_ids) if ids is not None and line_ids else line_ids,
        [s for s in suggestions if s is not None],
        actor,
    )
    created = sum(sources.values())
    session.flush()
    audit_writer(session, tenant_id, actor).record(
        "suggest",
        "bank_classification",
        scope.get("batch_id", "set"),
        after={**scope, "created": created, "sources": dict(sorted(sources.items()))},
    )
    return created


def suggest_for_batch(
    session: Session,
    tenant_id: int,
    batch_id: int,
    actor: str = "system",
    *,
    lines: Lines | None = None,
    ids: Callable[[list[Any]], list[int]] | None = None,
) -> int:
    """Unconfirmed suggestions for the batch's lines that have no classification yet; returns
    how many were created (lines nobody recognises get none).

    ``lines`` and ``ids``: the importer, right after storing a batch nobody can have
    classified yet, passes its lines with provisional ids, in the order they were stored,
    so nothing is read back; ``ids`` gives the stored ids for provisional ones, asked only
    for lines that get a suggestion.
    """
    if lines is None:
        rows = _unclassified_lines(session, tenant_id, BankTransaction.batch_id == batch_id)
        return _run(session, tenant_id, Lines.of(rows), actor, {"batch_id": batch_id})
    return _run(session, tenant_id, lines, actor, {"batch_id": batch_id}, ids)


def suggest(
    session: Session, tenant_id: int, transaction_ids: Iterable[int], actor: str = "system"
) -> int:
    """The same for any set of lines (e.g. after new rules: lines still without a decision)."""
    wanted = sorted(set(transaction_ids))
    rows: list[Any] = []
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows += _unclassified_lines(session, tenant_id, BankTransaction.id.in_(chunk))
    return _run(session, tenant_id, Lines.of(rows), actor, {"transactions": len(wanted)})


# --------------------------------------------------------------------------- decisions


def snapshot(c: Classification) -> dict[str, Any]:
    return {
        "transaction_id": c.transaction_id,
        "usage": c.usage,
        "category_id": c.category_id,
        "vat_category": c.vat_category,
        "vat_country": c.vat_country,
        "source": c.source,
        "confidence": c.confidence,
        "rule_id": c.rule_id,
        "confirmed": c.confirmed,
    }


def get_transaction(session: Session, tenant_id: int, transaction_id: int) -> BankTransaction:
    return owned_row(
        session,
        BankTransaction,
        tenant_id,
        transaction_id,
        code="bank.transaction_not_found",
        message=_("Bank transaction {id} not found.").format(id=transaction_id),
        field="transaction_id",
    )


def classification_of(
    session: Session, tenant_id: int, transaction_id: int, *, for_update: bool = False
) -> Classification | None:
    query = select(Classification).where(
        Classification.tenant_id == tenant_id, Classification.transaction_id == transaction_id
    )
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def _check_decision(tx: BankTransaction, account: BankAccount, usage: str) -> None:
    detail = [{"field": "usage", "value": usage}]
    if usage == "private_withdrawal" and tx.amount >= 0:
        raise ValidationFailed(
            "bank.withdrawal_not_outgoing",
            _("A private withdrawal is money paid out; this line is money received."),
            detail,
        )
    if usage == "private_deposit" and tx.amount <= 0:
        raise ValidationFailed(
            "bank.deposit_not_incoming",
            _("A private deposit is money received; this line is money paid out."),
            detail,
        )
    if usage == "private" and account.account_type == "business":
        raise ValidationFailed(
            "bank.private_on_business_account",
            _(
                "Money of a business account used privately is a private withdrawal (or, "
                "coming in, a private deposit)."
            ),
            detail,
        )


def decide(
    session: Session,
    tenant_id: int,
    transaction_id: int,
    usage: str,
    category_id: int | None = None,
    actor: str = "local",
    vat_category: str | None = None,
    vat_country: str | None = None,
) -> Classification:
    """Set or change the decision for a line (confirmed, source ``user``).

    ``vat_category`` (EN 16931 code, default S) and ``vat_country`` (default: from the
    counterparty IBAN) say how the VAT is treated, e.g. AE for a foreign supplier's
    reverse-charge service. A change of a booked decision reverses the line's postings and
    books the new ones.
    """
    code = vt.normalize_code(vat_category or vt.STANDARD, "vat_category", vt.BANK_CODES)
    country = (vat_country or "").strip().upper()
    if country and (len(country) != 2 or not country.isalpha()):
        raise ValidationFailed(
            "bank.invalid_country",
            _("The country must be a two-letter ISO code (e.g. IE)."),
            [{"field": "vat_country", "value": vat_country}],
        )
    tx = get_transaction(session, tenant_id, transaction_id)
    account = session.get(BankAccount, tx.account_id)
    assert account is not None
    check_usage(usage)
    check_category_for_usage(session, usage, category_id)
    _check_decision(tx, account, usage)
    existing = classification_of(session, tenant_id, tx.id, for_update=True)
    if (
        existing is not None
        and existing.confirmed
        and existing.usage == usage
        and existing.category_id == category_id
        and existing.vat_category == code
        and existing.vat_country == country
    ):
        return existing
    before = snapshot(existing) if existing is not None else None
    ctx = PostingContext(session, tenant_id)
    facts = LineFacts.of(tx)
    linked = linked_amounts(session, tenant_id, [tx.id])[tx.id]
    if linked and usage != "business":
        raise Conflict(
            "bank.linked_not_private",
            _("This line pays an invoice; undo the link before marking it as private."),
            [{"field": "usage", "value": usage, "transaction_id": tx.id}],
        )
    # raises before anything is written
    lines = ctx.lines(facts, usage, category_id, linked, code, country)
    cls = existing or Classification(tenant_id=tenant_id, transaction_id=tx.id)
    cls.usage = usage
    cls.category_id = category_id
    cls.vat_category = code
    cls.vat_country = country
    cls.source = "user"
    cls.confidence = ONE
    cls.rule_id = None
    cls.confirmed = True
    cls.updated_at = utcnow()
    cls.updated_by = actor
    if existing is None:
        session.add(cls)
    session.flush()
    reverse_open(session, tenant_id, facts)
    post_lines(session, tenant_id, tx.id, lines)
    session.flush()
    action = "change" if before is not None and before["confirmed"] else "decide"
    audit_writer(session, tenant_id, actor).record(
        action, "bank_classification", cls.id, before=before, after=snapshot(cls)
    )
    return cls


@dataclass(frozen=True)
class AcceptResult:
    accepted: int
    skipped: list[dict[str, Any]]  # lines left unconfirmed: {"transaction_id", "code", "message"}


def _check_threshold(value: Decimal | str | float | None) -> Decimal:
    try:
        threshold = Decimal(str(value if value is not None else 0))
    except ArithmeticError:
        threshold = Decimal(-1)
    if not threshold.is_finite() or not 0 <= threshold <= 1:
        raise ValidationFailed(
            "bank.invalid_confidence",
            _("The minimum confidence must be a number from 0 to 1."),
            [{"field": "min_confidence", "value": str(value)}],
        )
    return threshold


def get_batch(session: Session, tenant_id: int, batch_id: int) -> ImportBatch:
    return owned_row(
        session,
        ImportBatch,
        tenant_id,
        batch_id,
        code="bank.batch_not_found",
        message=_("Import {id} not found.").format(id=batch_id),
        field="batch_id",
    )


def accept_all(
    session: Session,
    tenant_id: int,
    batch_id: int | None = None,
    min_confidence: Decimal | str | float | None = ZERO,
    actor: str = "local",
) -> AcceptResult:
    """Confirm the open suggestions (of one batch, or all) with at least ``min_confidence``,
    and book them. Lines that cannot be booked (e.g. not in euro) stay suggestions and are
    reported in ``skipped``."""
    threshold = _check_threshold(min_confidence)
    tx = BankTransaction
    where = [
        Classification.tenant_id == tenant_id,
        Classification.confirmed.is_(False),
        Classification.confidence >= threshold,
    ]
    if batch_id is not None:
        get_batch(session, tenant_id, batch_id)
        where.append(tx.batch_id == batch_id)
    rows = session.execute(
        select(
            Classification.id,
            Classification.transaction_id,
            Classification.usage,
            Classification.category_id,
            Classification.source,
            Classification.confidence,
            Classification.rule_id,
            tx.account_id,
            tx.booking_date,
            tx.amount,
            tx.currency,
            tx.counterparty_name,
            tx.purpose,
            tx.booking_text,
        )
        .join(tx, tx.id == Classification.transaction_id)
        .where(*where)
        .order_by(Classification.id)
        .with_for_update(of=Classification)
    ).all()
    if not rows:
        return AcceptResult(0, [])
    ctx = PostingContext(session, tenant_id)
    linked = linked_amounts(session, tenant_id, [r[1] for r in rows])
    accepted: list[tuple[int, dict[str, Any]]] = []
    skipped: list[dict[str, Any]] = []
    postings: list[dict[str, object]] = []
    for (
        cls_id,
        tx_id,
        usage,
        category_id,
        source,
        confidence,
        rule_id,
        account_id,
        booking_date,
        amount,
        currency,
        name,
        purpose,
        booking_text,
    ) in rows:
        if usage != "private" and (usage != "business" or category_id is not None):
            facts = LineFacts(
                tx_id,
                account_id,
                booking_date,
                amount,
                currency,
                posting_text(name, purpose, booking_text),
            )
            try:
                lines = ctx.lines(facts, usage, category_id, linked[tx_id])
            except BelegwerkError as exc:
                skipped.append({"transaction_id": tx_id, "code": exc.code, "message": exc.message})
                continue
            postings += [journal.posting_row(tenant_id, SOURCE_TYPE, tx_id, ln) for ln in lines]
        state = {
            "transaction_id": tx_id,
            "usage": usage,
            "category_id": category_id,
            "source": source,
            "confidence": confidence,
            "rule_id": rule_id,
        }
        accepted.append((cls_id, state))
    now = utcnow()
    ids = [cls_id for cls_id, _state in accepted]
    for start in range(0, len(ids), _IN_CHUNK):
        session.execute(
            update(Classification)
            .where(
                Classification.tenant_id == tenant_id,
                Classification.id.in_(ids[start : start + _IN_CHUNK]),
            )
            .values(confirmed=True, updated_at=now, updated_by=actor)
            .execution_options(synchronize_session=False)
        )
    # Rows with and without a tax account apart: the ORM's bulk insert batches runs of rows
    # with the same columns set, so mixed order would split it into thousands of statements.
    postings.sort(key=lambda row: row["tax_account"] is None)
    journal.post_many(session, postings)
    audit_writer(session, tenant_id, actor).record_many(
        "accept",
        "bank_classification",
        (
            (cls_id, {**state, "confirmed": False}, {**state, "confirmed": True})
            for cls_id, state in accepted
        ),
    )
    session.flush()
    return AcceptResult(len(accepted), skipped)


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class ClassificationRow:
    """A line with its classification (None: no suggestion or decision yet)."""

    transaction_id: int
    account_id: int
    batch_id: int
    booking_date: date
    amount: Decimal
    currency: str
    counterparty_name: str
    counterparty_iban: str
    purpose: str
    classification_id: int | None
    usage: str | None
    category_id: int | None
    source: str | None
    confidence: Decimal | None
    rule_id: int | None
    confirmed: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class ClassificationPage:
    items: list[ClassificationRow]
    total: int
    page: int
    page_size: int


PAGE_SIZE_MAX = 500


def list_classifications(
    session: Session,
    tenant_id: int,
    *,
    batch_id: int | None = None,
    account_id: int | None = None,
    confirmed: bool | None = None,
    page: int = 1,
    page_size: int = 100,
) -> ClassificationPage:
    """Lines with their classification; ``confirmed=False`` lists what still needs a look
    (suggestions and lines without any), ``True`` the decided ones."""
    page = max(1, page)
    page_size = min(max(1, page_size), PAGE_SIZE_MAX)
    tx = BankTransaction
    where: list[ColumnElement[bool]] = [tx.tenant_id == tenant_id]
    if batch_id is not None:
        where.append(tx.batch_id == batch_id)
    if account_id is not None:
        where.append(tx.account_id == account_id)
    if confirmed is True:
        where.append(Classification.confirmed.is_(True))
    elif confirmed is False:
        where.append(Classification.id.is_(None) | Classification.confirmed.is_(False))

    def joined(query: Any) -> Any:
        return (
            query.select_from(tx)
            .outerjoin(Classification, Classification.transaction_id == tx.id)
            .where(*where)
        )

    total = int(session.scalar(joined(select(func.count()))) or 0)
    rows = session.execute(
        joined(select(tx, Classification))
        .order_by(tx.booking_date.desc(), tx.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    items = [
        ClassificationRow(
            transaction_id=t.id,
            account_id=t.account_id,
            batch_id=t.batch_id,
            booking_date=t.booking_date,
            amount=t.amount,
            currency=t.currency,
            counterparty_name=t.counterparty_name,
            counterparty_iban=t.counterparty_iban,
            purpose=t.purpose,
            classification_id=c.id if c else None,
            usage=c.usage if c else None,
            category_id=c.category_id if c else None,
            source=c.source if c else None,
            confidence=c.confidence if c else None,
            rule_id=c.rule_id if c else None,
            confirmed=bool(c and c.confirmed),
            updated_at=c.updated_at if c else None,
        )
        for t, c in rows
    ]
    return ClassificationPage(items, total, page, page_size)
