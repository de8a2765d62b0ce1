"""Payment matching rules: which open invoices a bank line pays, how sure we are, and why.

Pure functions over frozen dataclasses, no database: :mod:`belegwerk.banking.matching` loads the
invoices once, builds an :class:`InvoiceIndex` (dicts by number, party, IBAN, name token and
amount) and calls :func:`propose` per transaction, so only the invoices some evidence points to
are scored — never every transaction against every invoice.

Evidence and confidence. Each piece of evidence has a weight, read as "how often is this alone
right"; independent pieces combine like independent chances (noisy-OR):
``confidence = 1 - Π(1 - weight)``, then penalties multiply. Examples: invoice number + exact
amount 0.90; IBAN + name + exact amount 0.91; IBAN + exact amount 0.85; name + exact amount
0.70; amount alone 0.50.

Numbers. Our numbers (RE-2026-00012) are found in purpose and end-to-end reference however
they are written — RE 2026 00012, RE2026-12, RE202600012, Rechnung 2026/00012 — and compared
as (year, sequence). Without a prefix or keyword the sequence needs 4+ digits (2026-00012), so
"Miete 2026 03" names nothing; dates (2026-03-12) and the other direction's prefix (a supplier's
RE-… on money we pay) never count. A number one digit off or with two digits swapped is a typo
(``invoice_number_similar``). The supplier's own number (``external_number``) counts for
incoming invoices. Customer/supplier numbers count after a keyword (Kd-Nr. 10023).

Dates. A payment may come up to 7 days before the invoice date and up to two years after it;
after one year it counts less (``late``).

Amounts. Incoming money (amount > 0) pays outgoing invoices, outgoing money incoming ones.
Paid = open amount → ``amount_exact``. Paid up to :data:`SKONTO_TOLERANCE` (3 %) less →
``skonto``: linked as a partial payment of the amount actually paid, the rest stays open for the
user to settle (no discount posting is invented here). Paid less → ``partial``. Paid more → only
with the invoice number in the text, linking the open amount (``overpayment``). One transfer for
several invoices: the numbers named in the text whose open amounts add up to the payment
(``invoice_sum``), or one unique subset of the payer's open invoices (``invoice_subset``).

Automatic links (:func:`auto_pick`): confidence at least :data:`AUTO_LINK_THRESHOLD` and clearly
ahead of the runner-up (the runner-up's doubt is at least :data:`AUTO_LINK_DOUBT_RATIO` times
the best one's), and never when the text names another invoice than the chosen one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

# --------------------------------------------------------------------------- settings

SKONTO_TOLERANCE = Decimal("0.03")  # up to 3 % less than open counts as Skonto, not partial
AUTO_LINK_THRESHOLD = 0.90
AUTO_LINK_DOUBT_RATIO = 2.0  # runner-up's (1 - confidence) ≥ 2 × best's
MIN_PROPOSAL = 0.50  # weaker candidates are not shown at all
MAX_PROPOSALS = 5  # per transaction
DAYS_BEFORE_ISSUE = 7  # a payment may precede the invoice date by this much (date typed late)
LATE_AFTER_DAYS = 365  # later payments count less …
MAX_DAYS_AFTER_ISSUE = 730  # … and after two years not at all
MAX_AMOUNT_ONLY = 3  # an amount shared by more open invoices says nothing on its own
MAX_NAME_TOKEN_PARTIES = 50  # a name word shared by more parties (e.g. MUELLER) is no lead
MAX_SUBSET_INVOICES = 10  # subset search over the payer's oldest open invoices below the amount
NAME_STRONG = 0.8  # token similarity of counterparty name and party name
NAME_WEAK = 0.5

# Reason codes (stable: stored with each match, shown in the UI and the API).
INVOICE_NUMBER = "invoice_number"  # our number with its prefix or the word Rechnung
INVOICE_NUMBER_LOOSE = "invoice_number_loose"  # year and sequence only: 2026-00012
INVOICE_NUMBER_SIMILAR = "invoice_number_similar"  # one digit off or two swapped (typo)
EXTERNAL_NUMBER = "external_number"  # the supplier's invoice number
CUSTOMER_NUMBER = "customer_number"
SUPPLIER_NUMBER = "supplier_number"
IBAN = "iban"  # counterparty IBAN = the party's IBAN
NAME = "name"
NAME_SIMILAR = "name_similar"
AMOUNT_EXACT = "amount_exact"
SKONTO = "skonto"
PARTIAL = "partial"
OVERPAYMENT = "overpayment"
INVOICE_SUM = "invoice_sum"
INVOICE_SUBSET = "invoice_subset"
OTHER_NUMBER = "other_number"  # penalty: the text names a different invoice
LATE = "late"  # penalty: paid more than a year after the invoice date
MANUAL = "manual"  # a link the user made by hand

WEIGHTS: dict[str, float] = {
    INVOICE_NUMBER: 0.80,
    INVOICE_NUMBER_LOOSE: 0.60,
    INVOICE_NUMBER_SIMILAR: 0.30,
    EXTERNAL_NUMBER: 0.70,
    CUSTOMER_NUMBER: 0.60,
    SUPPLIER_NUMBER: 0.60,
    IBAN: 0.70,
    NAME: 0.40,
    NAME_SIMILAR: 0.20,
    AMOUNT_EXACT: 0.50,
    SKONTO: 0.35,
    PARTIAL: 0.15,
    OVERPAYMENT: 0.0,
    INVOICE_SUM: 0.50,
    INVOICE_SUBSET: 0.35,
}
PENALTIES: dict[str, float] = {OTHER_NUMBER: 0.7, LATE: 0.8}
PARTY_REASONS = frozenset({IBAN, NAME, NAME_SIMILAR, CUSTOMER_NUMBER, SUPPLIER_NUMBER})
NUMBER_REASONS = frozenset({INVOICE_NUMBER, INVOICE_NUMBER_LOOSE, EXTERNAL_NUMBER})
STRONG_PARTY = frozenset({IBAN, NAME, CUSTOMER_NUMBER, SUPPLIER_NUMBER})
WEAK_ONLY = {NAME_SIMILAR}

# Prefix of our own invoice numbers per direction (books.invoices: RE-2026-00012, ER-2026-00012).
OWN_PREFIX = {"out": "RE", "in": "ER"}
OWN_NUMBER_RE = re.compile(r"^(RE|ER)-(\d{4})-(\d+)$")

_SEP = r"[\s.:#\-/_]*"
# ONE pass over the text finds invoice numbers (optional keyword or prefix, year, sequence; not
# part of a date like 2026-03-12) and party numbers after a keyword (Kd-Nr. 10023).
NUMBER_RE = re.compile(
    r"(?<![A-Z0-9])(?:(?P<kw>RECHNUNGSNUMMER|RECHNUNGSNR|RECHNUNG|RGNR|RNR|RG|INVOICE|INV|RE|ER)"
    rf"{_SEP}(?:NR|NO|NUMMER)?{_SEP})?"
    r"(?P<year>20\d\d)[\s\-/_.]?(?P<seq>\d{1,6})(?![0-9]|[.,\-/]\d)"
    r"|(?<![A-Z0-9])(?P<pkw>KUNDENNUMMER|KUNDENNR|KUNDE|KDNR|KD|DEBITOR|KREDITOR|"
    r"LIEFERANTENNR|LIEFERANT|CUSTOMER)"
    rf"{_SEP}(?:NR|NO|NUMMER)?{_SEP}(?P<pno>\d{{5}})(?!\d)"
)
WORD_RE = re.compile(r"[A-Z0-9]+")
_FOLD = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ẞ": "SS"})
# Words that say nothing about who someone is.
NAME_NOISE = frozenset(
    "GMBH MBH AG KG OHG UG GBR EK EG EV SE CO UND HAFTUNGSBESCHRAENKT INH INHABER DR PROF "  # noqa: SIM905
    "HERR FRAU FIRMA LTD INC LLC PARTG PARTNERSCHAFT MIT BESCHRAENKTER HAFTUNG THE DER DIE DAS "
    "VON VAN".split()
)


def fold(text: str) -> str:
    """Upper case with umlauts spelt out, as SEPA files and bank exports usually have them."""
    return text.upper().translate(_FOLD)


def name_tokens(name: str) -> frozenset[str]:
    return frozenset(w for w in WORD_RE.findall(fold(name)) if len(w) > 1 and w not in NAME_NOISE)


def name_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient over words; a word also matches its prefix of 4+ letters (truncated
    names: SEPA cut names at 27 characters for years)."""
    if not a or not b:
        return 0.0
    hits = len(a & b)
    if hits < len(a) and hits < len(b):
        for word in a - b:
            if len(word) >= 4 and any(
                len(o) >= 4 and (o.startswith(word) or word.startswith(o)) for o in b - a
            ):
                hits += 1
    return min(1.0, 2 * hits / (len(a) + len(b)))


def own_number_key(number: str) -> tuple[int, int] | None:
    """(year, sequence) of one of our invoice numbers, e.g. RE-2026-00012 → (2026, 12)."""
    m = OWN_NUMBER_RE.match(number)
    return (int(m.group(2)), int(m.group(3))) if m else None


def compact(text: str) -> str:
    return "".join(WORD_RE.findall(fold(text)))


def external_key(number: str) -> str | None:
    """The supplier's number as we look for it: letters and digits only; too short or too
    plain ones (no digit, or a bare number of fewer than 5 digits such as a year) are skipped."""
    key = compact(number)
    if len(key) < 4 or not any(c.isdigit() for c in key):
        return None
    if key.isdigit() and len(key) < 5:
        return None
    return key


def combine(reasons: Iterable[str]) -> float:
    doubt = 1.0
    factor = 1.0
    for r in reasons:
        if r in PENALTIES:
            factor *= PENALTIES[r]
        else:
            doubt *= 1.0 - WEIGHTS.get(r, 0.0)
    return round((1.0 - doubt) * factor, 4)


def _similar_number(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """One digit of the sequence off, two neighbouring digits swapped, or the year off by one."""
    (ya, sa), (yb, sb) = a, b
    if sa == sb:
        return abs(ya - yb) == 1
    if ya != yb:
        return False
    x, y = f"{sa:05d}", f"{sb:05d}"
    if len(x) != len(y):
        return False
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and x[diff[0]] == y[diff[1]]
        and x[diff[1]] == y[diff[0]]
    )


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class PartyFacts:
    id: int
    name: str
    iban: str = ""
    customer_number: int | None = None
    supplier_number: int | None = None


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """A booked ordinary invoice; ``open_amount`` 0 for settled or reversed ones (their numbers
    still count: a text naming a paid invoice must not be linked to another one)."""

    id: int
    direction: str
    number: str
    external_number: str
    party_id: int | None
    issue_date: date
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class TransactionFacts:
    id: int
    booking_date: date
    amount: Decimal  # signed; what is not linked yet
    counterparty_name: str = ""
    counterparty_iban: str = ""
    text: str = ""  # purpose and end-to-end reference


class Allocation(NamedTuple):
    invoice_id: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to read a transaction: the invoices it pays and with how much."""

    allocations: tuple[Allocation, ...]
    confidence: float
    reasons: tuple[str, ...]
    conflict: bool = False  # the text names a different invoice
    oldest: date = field(default=date.min, compare=False)

    @property
    def invoice_ids(self) -> tuple[int, ...]:
        return tuple(a.invoice_id for a in self.allocations)

    @property
    def total(self) -> Decimal:
        return sum((a.amount for a in self.allocations), Decimal(0))


# --------------------------------------------------------------------------- index


class InvoiceIndex:
    """All booked invoices and their parties, indexed once per matching run.

    Open amounts change as the run links payments (:meth:`set_open`), so a second instalment
    sees what the first one left.
    """

    def __init__(self, invoices: Iterable[InvoiceFacts], parties: Iterable[PartyFacts]) -> None:
        self.invoices: dict[int, InvoiceFacts] = {}
        self.open: dict[int, Decimal] = {}
        self.numbers: dict[tuple[str, int, int], int] = {}
        self.number_key: dict[int, tuple[int, int]] = {}
        self.external: dict[tuple[str, str], list[int]] = {}
        self.external_directions: set[str] = set()
        self.by_party: dict[tuple[str, int], list[int]] = {}
        self.by_amount: dict[tuple[str, Decimal], list[int]] = {}
        self.by_party_amount: dict[tuple[str, int | None, Decimal], list[int]] = {}
        self.party_by_iban: dict[str, list[int]] = {}
        self.party_by_customer: dict[int, int] = {}
        self.party_by_supplier: dict[int, int] = {}
        self.party_by_token: dict[str, set[int]] = {}
        self.party_tokens: dict[int, frozenset[str]] = {}
        self._name_cache: dict[tuple[str, str], dict[int, float]] = {}
        self._tokens_cache: dict[str, frozenset[str]] = {}
        with_open: set[int] = set()
        for inv in sorted(invoices, key=lambda i: (i.issue_date, i.id)):
            self.invoices[inv.id] = inv
            key = own_number_key(inv.number)
            if key is not None:
                self.numbers[(inv.direction, *key)] = inv.id
                self.number_key[inv.id] = key
            ext = external_key(inv.external_number) if inv.external_number else None
            if ext:
                self.external.setdefault((inv.direction, ext), []).append(inv.id)
                self.external_directions.add(inv.direction)
            if inv.open_amount > 0:
                self.open[inv.id] = inv.open_amount
                self._add_amount(inv, inv.open_amount)
                if inv.party_id is not None:
                    self.by_party.setdefault((inv.direction, inv.party_id), []).append(inv.id)
                    with_open.add(inv.party_id)
        for party in parties:
            if party.id not in with_open:
                continue
            if party.iban:
                self.party_by_iban.setdefault(party.iban.upper(), []).append(party.id)
            if party.customer_number is not None:
                self.party_by_customer[party.customer_number] = party.id
            if party.supplier_number is not None:
                self.party_by_supplier[party.supplier_number] = party.id
            tokens = name_tokens(party.name)
            self.party_tokens[party.id] = tokens
            for t in tokens:
                self.party_by_token.setdefault(t, set()).add(party.id)

    def _add_amount(self, inv: InvoiceFacts, amount: Decimal) -> None:
        self.by_amount.setdefault((inv.direction, amount), []).append(inv.id)
        self.by_party_amount.setdefault((inv.direction, inv.party_id, amount), []).append(inv.id)

    def set_open(self, invoice_id: int, amount: Decimal) -> None:
        inv = self.invoices[invoice_id]
        old = self.open.get(invoice_id)
        if old is not None:
            for bucket in (
                self.by_amount.get((inv.direction, old), []),
                self.by_party_amount.get((inv.direction, inv.party_id, old), []),
            ):
                if invoice_id in bucket:
                    bucket.remove(invoice_id)
        if amount > 0:
            self.open[invoice_id] = amount
            self._add_amount(inv, amount)
        else:
            self.open.pop(invoice_id, None)
            if inv.party_id is not None:
                bucket = self.by_party.get((inv.direction, inv.party_id), [])
                if invoice_id in bucket:
                    bucket.remove(invoice_id)

    def parties_by_name(self, name: str, direction: str = "") -> dict[int, float]:
        """Parties whose name resembles ``name`` (similarity ≥ :data:`NAME_WEAK`).

        Candidates come from the name's rarer words; when every word is common (MUELLER,
        CONSULTING), from the parties that share all of them.
        """
        cached = self._name_cache.get((name, direction))
        if cached is not None:
            return cached
        tokens = self.tokens_of(name)
        lists = sorted(
            (self.party_by_token[t] for t in tokens if t in self.party_by_token), key=len
        )
        found: set[int] = set()
        for ids in lists:
            if len(ids) <= MAX_NAME_TOKEN_PARTIES:
                found |= ids
        if not found and len(lists) >= 2:
            common = lists[0] & lists[1]
            for ids in lists[2:]:
                if len(common) <= MAX_NAME_TOKEN_PARTIES:
                    break
                common = common & ids
            if len(common) <= MAX_NAME_TOKEN_PARTIES:
                found = set(common)
        out = {}
        for pid in found:
            if direction and (direction, pid) not in self.by_party:
                continue  # nothing open in this direction
            sim = name_similarity(tokens, self.party_tokens[pid])
            if sim >= NAME_WEAK:
                out[pid] = sim
        if len(self._name_cache) < 100_000:
            self._name_cache[(name, direction)] = out
        return out

    def name_score(self, name: str, party_id: int) -> float:
        return name_similarity(self.tokens_of(name), self.party_tokens.get(party_id, frozenset()))

    def tokens_of(self, name: str) -> frozenset[str]:
        tokens = self._tokens_cache.get(name)
        if tokens is None:
            tokens = name_tokens(name)
            if len(self._tokens_cache) < 100_000:
                self._tokens_cache[name] = tokens
        return tokens


# --------------------------------------------------------------------------- proposing


def _amount_reason(paid: Decimal, open_amount: Decimal) -> tuple[str, Decimal]:
    if paid == open_amount:
        return AMOUNT_EXACT, paid
    if paid > open_amount:
        return OVERPAYMENT, open_amount
    if paid >= open_amount * (1 - SKONTO_TOLERANCE):
        return SKONTO, paid
    return PARTIAL, paid


def _date_reason(booked: date, issued: date) -> str | None:
    """None = fits; LATE; or "" when the payment cannot be for this invoice."""
    days = (booked - issued).days
    if days < -DAYS_BEFORE_ISSUE or days > MAX_DAYS_AFTER_ISSUE:
        return ""
    return LATE if days > LATE_AFTER_DAYS else None


def _unique_subset(items: Sequence[tuple[int, int]], target: int) -> tuple[int, ...] | None:
    """The one subset (2+ items) of (id, cents) summing to ``target``; None if none or several."""
    sums: dict[int, list[tuple[int, ...]]] = {0: [()]}
    for inv_id, cents in items:
        for total, subsets in list(sums.items()):
            new = total + cents
            if new > target:
                continue
            bucket = sums.setdefault(new, [])
            for s in subsets:
                if len(bucket) >= 3:
                    break
                bucket.append((*s, inv_id))
    found = [s for s in sums.get(target, []) if len(s) >= 2]
    return found[0] if len(found) == 1 else None


def _cents(value: Decimal) -> int:
    return int(value * 100)


def propose(
    tx: TransactionFacts, index: InvoiceIndex, exclude: frozenset[int] = frozenset()
) -> list[Candidate]:
    """Candidates for one transaction, best first (at most :data:`MAX_PROPOSALS`)."""
    if tx.amount == 0:
        return []
    direction = "out" if tx.amount > 0 else "in"
    paid = abs(tx.amount)
    text = fold(tx.text)
    evidence: dict[int, set[str]] = {}
    named: set[int] = set()
    tokens: list[tuple[int, int]] = []
    party_ev: dict[int, set[str]] = {}

    for m in NUMBER_RE.finditer(text):
        if m.group("year"):
            kw, seq_text = m.group("kw"), m.group("seq")
            if kw in ("RE", "ER") and kw != OWN_PREFIX[direction]:
                continue  # the other direction's prefix: a supplier's RE-…, not our voucher
            strong = kw is not None
            if not strong and len(seq_text) < 4:
                continue  # "2026 12" is too likely something else
            key = (int(m.group("year")), int(seq_text))
            tokens.append(key)
            inv_id = index.numbers.get((direction, *key))
            if inv_id is not None:
                named.add(inv_id)
                evidence.setdefault(inv_id, set()).add(
                    INVOICE_NUMBER if strong else INVOICE_NUMBER_LOOSE
                )
        else:
            number = int(m.group("pno"))
            if direction == "out":
                pid = index.party_by_customer.get(number)
                reason = CUSTOMER_NUMBER
            else:
                pid = index.party_by_supplier.get(number)
                reason = SUPPLIER_NUMBER
            if pid is not None:
                party_ev.setdefault(pid, set()).add(reason)

    if direction in index.external_directions:
        # the supplier's number as one word or split into up to three (INV 88231, 2026 4711);
        # it has a digit, so only windows around a word with a digit are looked up
        words = WORD_RE.findall(text)
        grams: set[str] = set()
        for i, word in enumerate(words):
            if word.isalpha():
                continue
            for start in range(max(0, i - 2), i + 1):
                for end in range(i + 1, min(len(words), start + 3) + 1):
                    grams.add("".join(words[start:end]))
        for gram in grams:
            for inv_id in index.external.get((direction, gram), ()):
                named.add(inv_id)
                evidence.setdefault(inv_id, set()).add(EXTERNAL_NUMBER)

    iban = tx.counterparty_iban.replace(" ", "").upper()
    if iban:
        for pid in index.party_by_iban.get(iban, ()):
            party_ev.setdefault(pid, set()).add(IBAN)
    if tx.counterparty_name:
        by_name = dict(index.parties_by_name(tx.counterparty_name, direction))
        for pid in party_ev.keys() - by_name.keys():  # found by IBAN or number: compare anyway
            sim = index.name_score(tx.counterparty_name, pid)
            if sim >= NAME_WEAK:
                by_name[pid] = sim
        for pid, sim in by_name.items():
            party_ev.setdefault(pid, set()).add(NAME if sim >= NAME_STRONG else NAME_SIMILAR)
    for pid, reasons in party_ev.items():
        if reasons == WEAK_ONLY:  # a merely similar name leads only to exact amounts
            ids = index.by_party_amount.get((direction, pid, paid), ())
        else:
            ids = index.by_party.get((direction, pid), ())
        for inv_id in ids:
            evidence.setdefault(inv_id, set()).update(reasons)

    same_amount = index.by_amount.get((direction, paid), ())
    if len(same_amount) <= MAX_AMOUNT_ONLY:  # else the amount alone says nothing
        for inv_id in same_amount:
            evidence.setdefault(inv_id, set())

    candidates: list[Candidate] = []
    usable: dict[int, set[str]] = {}
    for inv_id, found in evidence.items():
        open_amount = index.open.get(inv_id)
        if open_amount is None or inv_id in exclude:
            continue
        inv = index.invoices[inv_id]
        when = _date_reason(tx.booking_date, inv.issue_date)
        if when == "":
            continue
        reasons = set(found)
        if when:
            reasons.add(when)
        usable[inv_id] = reasons
        conflict = False
        if named and inv_id not in named:
            own = index.number_key.get(inv_id)
            if own is not None and any(_similar_number(own, t) for t in tokens):
                reasons.add(INVOICE_NUMBER_SIMILAR)
                conflict = True  # likely a typo, but a human should say so
            else:
                reasons.add(OTHER_NUMBER)
                conflict = True
        elif tokens and inv_id not in named:
            own = index.number_key.get(inv_id)
            if own is not None and any(_similar_number(own, t) for t in tokens):
                reasons.add(INVOICE_NUMBER_SIMILAR)
        amount_reason, amount = _amount_reason(paid, open_amount)
        if amount_reason == OVERPAYMENT and not reasons & NUMBER_REASONS:
            continue
        reasons.add(amount_reason)
        if combine(reasons) >= MIN_PROPOSAL:
            candidates.append(_candidate(((inv_id, amount),), reasons, conflict, inv.issue_date))

    named_open = sorted(i for i in named if i in usable)
    if len(named_open) >= 2:
        total = sum((index.open[i] for i in named_open), Decimal(0))
        if total == paid:
            common = set.intersection(*(usable[i] for i in named_open))
            reasons = (common & (PARTY_REASONS | NUMBER_REASONS)) | {INVOICE_SUM}
            if all(usable[i] & NUMBER_REASONS for i in named_open):
                reasons.add(
                    INVOICE_NUMBER
                    if all(INVOICE_NUMBER in usable[i] for i in named_open)
                    else INVOICE_NUMBER_LOOSE
                    if all(usable[i] & {INVOICE_NUMBER, INVOICE_NUMBER_LOOSE} for i in named_open)
                    else EXTERNAL_NUMBER
                )
            allocs = tuple((i, index.open[i]) for i in named_open)
            oldest = min(index.invoices[i].issue_date for i in named_open)
            # the group explains the whole amount: its members alone would be overpaid
            candidates = [
                c
                for c in candidates
                if not (OVERPAYMENT in c.reasons and c.invoice_ids[0] in named_open)
            ]
            candidates.append(_candidate(allocs, reasons, False, oldest))

    if not any(AMOUNT_EXACT in c.reasons or INVOICE_SUM in c.reasons for c in candidates):
        for pid, reasons in party_ev.items():
            if not reasons & STRONG_PARTY:
                continue
            pool = [
                i
                for i in index.by_party.get((direction, pid), ())
                if i in usable and index.open[i] < paid
            ][:MAX_SUBSET_INVOICES]
            if len(pool) < 2 or sum(index.open[i] for i in pool) < paid:
                continue
            subset = _unique_subset([(i, _cents(index.open[i])) for i in pool], _cents(paid))
            if subset is None:
                continue
            allocs = tuple((i, index.open[i]) for i in subset)
            oldest = min(index.invoices[i].issue_date for i in subset)
            conflict = bool(named) and not set(subset) & named
            extra = {OTHER_NUMBER} if conflict else set()
            candidates.append(
                _candidate(
                    allocs, (reasons & PARTY_REASONS) | {INVOICE_SUBSET} | extra, conflict, oldest
                )
            )

    candidates = [c for c in candidates if c.confidence >= MIN_PROPOSAL]
    candidates.sort(key=lambda c: (-c.confidence, c.oldest, c.invoice_ids))
    return candidates[:MAX_PROPOSALS]


_ORDER = {code: i for i, code in enumerate([*WEIGHTS, *PENALTIES])}


def _candidate(
    allocs: tuple[tuple[int, Decimal], ...], reasons: set[str], conflict: bool, oldest: date
) -> Candidate:
    ordered = tuple(sorted(reasons, key=lambda r: _ORDER.get(r, 99)))
    return Candidate(
        allocations=tuple(Allocation(i, a) for i, a in allocs),
        confidence=combine(ordered),
        reasons=ordered,
        conflict=conflict,
        oldest=oldest,
    )


def auto_pick(candidates: Sequence[Candidate]) -> Candidate | None:
    """The candidate to link without asking, or None when a human should decide."""
    if not candidates:
        return None
    best = candidates[0]
    if best.confidence < AUTO_LINK_THRESHOLD or best.conflict:
        return None
    if len(candidates) > 1:
        doubt_best = round(1 - best.confidence, 4)
        doubt_runner_up = round(1 - candidates[1].confidence, 4)
        if doubt_runner_up < round(AUTO_LINK_DOUBT_RATIO * doubt_best, 4):
            return None
    return best
