"""Payment-matching scenarios with known answers: generate, store, and score the outcome.

:func:`generate` builds customers, suppliers, invoices and bank lines the way they look in real
statements (invoice numbers written in many ways, names upper-cased or cut at 27 characters,
Skonto, instalments, several invoices in one transfer, typos, rent and fees that belong to no
invoice, two equal invoices of one customer, a customer paying twice) plus unpaid invoices as
distractors, and records for every bank line which invoices it pays and with how much.
:func:`load` stores a set in a tenant; :func:`evaluate` compares the matches found with the
answers. Used by tests/banking/test_matching.py and bench/bank_matching.py.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from belegwerk.banking.models import BankAccount, BankTransaction, ImportBatch, PaymentMatch
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.invoices import InvoiceInput, book_invoices_bulk
from belegwerk.books.models import Invoice, Party
from belegwerk.core.documents import store_document

D = Decimal
CENT = D("0.01")

KINDS = (
    "exact_number",  # number in the purpose (many spellings) or end-to-end reference
    "iban_amount",  # no number: the customer's IBAN and the exact amount
    "name_amount",  # no number, no IBAN on file: the name and the exact amount
    "skonto",  # number, 2 % or 3 % less
    "fee_deducted",  # number, a bank fee less (more than Skonto): a part payment
    "partial",  # number, part of the amount
    "many_to_one",  # two or three instalments with the number, adding up to the invoice
    "one_to_many",  # one transfer naming two or three invoices, paying their sum
    "one_to_many_subset",  # one transfer for two of the customer's open invoices, no numbers
    "typo",  # number with a digit swapped or wrong (no such invoice), IBAN and amount fit
    "supplier_transfer",  # we pay a supplier; their invoice number in the purpose
    "supplier_debit",  # a supplier collects by SEPA direct debit with their number
    "ambiguous",  # two equal open invoices of one customer, no number: must not auto-link
    "double_payment",  # the customer pays the same invoice twice: the second must not link
    "advance_payment",  # a known customer pays in advance, no invoice yet: must not link
    "unrelated",  # rent, fees, tax, card payments, refunds: must not link
)

# How often each kind occurs in a statement (weights for the benchmark's 10,000 lines).
KIND_WEIGHTS = {
    "exact_number": 30,
    "iban_amount": 12,
    "name_amount": 4,
    "skonto": 5,
    "fee_deducted": 1,
    "partial": 3,
    "many_to_one": 3,
    "one_to_many": 3,
    "one_to_many_subset": 2,
    "typo": 3,
    "supplier_transfer": 10,
    "supplier_debit": 5,
    "ambiguous": 2,
    "double_payment": 2,
    "advance_payment": 2,
    "unrelated": 16,
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SURNAMES = _words(
    "Becker Schulz Hoffmann Koch Richter Klein Wolf Schröder Neumann Schwarz Zimmermann "
    "Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann Schmid Schulze "
    "Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller "
    "Weiß Jung Hahn Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann"
)
FIRST = _words("Anna Lena Max Paul Jonas Marie Sophie Felix Lukas Emma Mia Leon Tim Julia Sarah")
TRADES = _words(
    "Haustechnik Elektro Consulting Design Media Software Logistik Bau Gartenbau Immobilien "
    "Druck Catering Metallbau Werbung Steuerberatung Architektur Reinigung Event Holzbau "
    "Energie Textil Optik Fahrzeugtechnik Praxis Kanzlei Studio Handel Service Systeme Dental"
)
LEGAL = ("GmbH", "GmbH", "GmbH & Co. KG", "UG (haftungsbeschränkt)", "AG", "e.K.", "OHG")
SUPPLIERS = (
    "Telekom Deutschland",
    "Vodafone",
    "Stadtwerke",
    "Adobe Systems Software Ireland",
    "Amazon Business EU",
    "Hetzner Online",
    "IONOS SE",
    "Büromarkt Böttcher",
    "Lyreco Deutschland",
    "Würth Handelsgesellschaft",
    "Conrad Electronic",
    "Haufe-Lexware",
)
STANDARD_AMOUNTS = tuple(D(a) for a in ("119.00", "238.00", "595.00", "1190.00", "59.50", "297.50"))
GENERIC_PURPOSES = (
    "Zahlung",
    "Überweisung",
    "Beratung",
    "Leistung März",
    "Danke für die gute Zusammenarbeit",
    "Auftrag",
    "Projekt Website",
    "Wartung",
)


def _iban(rng: random.Random) -> str:
    """A German IBAN with correct check digits (ISO 13616 mod 97)."""
    bban = f"{rng.randint(10000000, 89999999)}{rng.randint(0, 9999999999):010d}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


@dataclass
class PartySpec:
    key: str
    name: str
    iban: str = ""
    customer_number: int | None = None
    supplier_number: int | None = None


@dataclass
class InvoiceSpec:
    key: str
    party: str
    direction: str
    issue_date: date
    gross: Decimal
    external_number: str = ""


@dataclass
class TxSpec:
    key: str
    kind: str
    booking_date: date
    amount: Decimal  # signed
    name: str
    iban: str
    purpose: str  # may hold {inv:KEY:STYLE} and {cust:KEY}, resolved by load()
    e2e: str = ""


@dataclass(frozen=True)
class Expect:
    """The right answer for one bank line: the invoices it pays, with how much."""

    allocations: tuple[tuple[str, Decimal], ...] = ()
    alternatives: frozenset[str] = frozenset()  # equally right invoices (ambiguous)
    auto_allowed: bool = True


@dataclass
class Scenarios:
    parties: list[PartySpec] = field(default_factory=list)
    invoices: list[InvoiceSpec] = field(default_factory=list)
    transactions: list[TxSpec] = field(default_factory=list)
    expect: dict[str, Expect] = field(default_factory=dict)


class _Gen:
    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.sc = Scenarios()
        self.n = Counter[str]()
        self.customer_no = 10000
        self.supplier_no = 70000
        self.customers: list[PartySpec] = []
        self.used_names: set[str] = set()

    def key(self, prefix: str) -> str:
        self.n[prefix] += 1
        return f"{prefix}{self.n[prefix]}"

    # -- parties
    def _company(self) -> str:
        for _ in range(50):
            rng = self.rng
            if rng.random() < 0.25:
                name = f"{rng.choice(FIRST)} {rng.choice(SURNAMES)}"
            else:
                name = f"{rng.choice(SURNAMES)} {rng.choice(TRADES)} {rng.choice(LEGAL)}"
            if name not in self.used_names:
                break
        self.used_names.add(name)
        return name

    def customer(self, iban: bool = True, pool: bool = True) -> PartySpec:
        self.customer_no += 1
        p = PartySpec(
            self.key("c"),
            self._company(),
            _iban(self.rng) if iban else "",
            customer_number=self.customer_no,
        )
        self.sc.parties.append(p)
        if pool:
            self.customers.append(p)
        return p

    def supplier(self) -> PartySpec:
        self.supplier_no += 1
        base = self.rng.choice(SUPPLIERS)
        name = f"{base} {self.rng.choice(LEGAL)}"
        if name in self.used_names:
            name = f"{base} {self.rng.choice(SURNAMES)} {self.rng.choice(LEGAL)}"
        self.used_names.add(name)
        p = PartySpec(self.key("s"), name, _iban(self.rng), supplier_number=self.supplier_no)
        self.sc.parties.append(p)
        return p

    # -- invoices and bank lines
    def amount(self, standard: float = 0.2) -> Decimal:
        if self.rng.random() < standard:
            return self.rng.choice(STANDARD_AMOUNTS)
        return (D(self.rng.randint(2000, 600000)) / 100).quantize(CENT)

    def issue_date(self) -> date:
        return self.today - timedelta(days=self.rng.randint(50, 330))

    def pay_date(self, issued: date, lo: int = 1, hi: int = 40) -> date:
        return min(issued + timedelta(days=self.rng.randint(lo, hi)), self.today)

    def invoice(
        self,
        party: PartySpec,
        gross: Decimal | None = None,
        direction: str = "out",
        issued: date | None = None,
        external: str = "",
    ) -> InvoiceSpec:
        inv = InvoiceSpec(
            self.key("i"),
            party.key,
            direction,
            issued or self.issue_date(),
            gross if gross is not None else self.amount(),
            external,
        )
        self.sc.invoices.append(inv)
        return inv

    def payer_name(self, party: PartySpec) -> str:
        name = party.name
        r = self.rng.random()
        if r < 0.3:
            return name.upper()
        if r < 0.45:
            return name[:27]
        if r < 0.55:
            return name.upper().replace("Ü", "UE").replace("Ö", "OE").replace("Ä", "AE")
        return name

    def tx(
        self,
        kind: str,
        day: date,
        amount: Decimal,
        purpose: str,
        expect: Expect,
        party: PartySpec | None = None,
        name: str | None = None,
        iban: str | None = None,
        e2e: str = "",
    ) -> TxSpec:
        t = TxSpec(
            self.key("t"),
            kind,
            day,
            amount,
            name if name is not None else (self.payer_name(party) if party else ""),
            iban if iban is not None else (party.iban if party and party.iban else ""),
            purpose,
            e2e,
        )
        self.sc.transactions.append(t)
        self.sc.expect[t.key] = expect
        return t

    def number_text(self, inv: InvoiceSpec, cust: PartySpec) -> tuple[str, str]:
        """(purpose, end-to-end reference) naming the invoice the way customers write it."""
        k = inv.key
        forms = [
            f"{{inv:{k}:full}}",
            f"Rechnung {{inv:{k}:full}}",
            f"{{inv:{k}:spaced}}",
            f"RECHNUNG {{inv:{k}:bare}}",
            f"Re.-Nr. {{inv:{k}:slash}}",
            f"{{inv:{k}:compact}}",
            f"Rg {{inv:{k}:short}} vom {inv.issue_date:%d.%m.%Y}",
            f"Kd-Nr. {{cust:{cust.key}}} Rechnung {{inv:{k}:full}}",
            f"{{inv:{k}:bare}} {self.rng.choice(GENERIC_PURPOSES)}",
        ]
        i = self.rng.randrange(len(forms) + 1)
        if i == len(forms):
            return self.rng.choice(GENERIC_PURPOSES), f"{{inv:{k}:full}}"
        text = forms[i]
        if self.rng.random() < 0.25:  # other numbers around it: orders, dates, references
            noise = self.rng.choice(
                (
                    f"Bestellung {self.rng.randint(100000, 999999)}",
                    f"Auftrag {inv.issue_date.year}-{self.rng.randint(100, 999)}",
                    f"vom {inv.issue_date:%Y-%m-%d}",
                    f"Lieferschein LS{self.rng.randint(10000, 99999)}",
                )
            )
            text = f"{noise} {text}" if self.rng.random() < 0.5 else f"{text} {noise}"
        return text, ""


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _kind_exact_number(g: _Gen) -> None:
    c = g.customer(iban=g.rng.random() < 0.8)
    inv = g.invoice(c)
    purpose, e2e = g.number_text(inv, c)
    stranger = g.rng.random() < 0.15  # paid by someone else (owner's private account, parent)
    g.tx(
        "exact_number",
        g.pay_date(inv.issue_date),
        inv.gross,
        purpose,
        Expect(((inv.key, inv.gross),)),
        c,
        e2e=e2e,
        name=f"{g.rng.choice(FIRST)} {g.rng.choice(SURNAMES)}" if stranger else None,
        iban=_iban(g.rng) if stranger or not c.iban else c.iban,
    )


def _kind_fee_deducted(g: _Gen) -> None:
    """A foreign bank kept a fee: a little less arrives (a part payment, not Skonto)."""
    c = g.customer()
    inv = g.invoice(c, g.amount(standard=0) + D(100))
    paid = inv.gross - D(g.rng.choice(("7.50", "12.00", "15.00", "25.00")))
    if paid >= inv.gross * D("0.97"):
        paid = _round(inv.gross * D("0.95"))
    g.tx(
        "fee_deducted",
        g.pay_date(inv.issue_date),
        paid,
        f"INVOICE {{inv:{inv.key}:full}} CHARGES OUR",
        Expect(((inv.key, paid),)),
        c,
    )


def _kind_iban_amount(g: _Gen) -> None:
    c = g.customer()
    inv = g.invoice(c, g.amount(standard=0.05))
    g.tx(
        "iban_amount",
        g.pay_date(inv.issue_date),
        inv.gross,
        g.rng.choice(GENERIC_PURPOSES),
        Expect(((inv.key, inv.gross),)),
        c,
    )


def _kind_name_amount(g: _Gen) -> None:
    c = g.customer(iban=False)
    inv = g.invoice(c, g.amount(standard=0.05))
    g.tx(
        "name_amount",
        g.pay_date(inv.issue_date),
        inv.gross,
        g.rng.choice(GENERIC_PURPOSES),
        Expect(((inv.key, inv.gross),)),
        c,
        iban=_iban(g.rng),
    )


def _kind_skonto(g: _Gen) -> None:
    c = g.customer()
    inv = g.invoice(c, g.amount(standard=0))
    pct = g.rng.choice((2, 3))
    paid = _round(inv.gross * (100 - pct) / 100)
    g.tx(
        "skonto",
        g.pay_date(inv.issue_date, 1, 10),
        paid,
        f"{{inv:{inv.key}:full}} abzgl. {pct}% Skonto",
        Expect(((inv.key, paid),)),
        c,
    )


def _kind_partial(g: _Gen) -> None:
    c = g.customer()
    inv = g.invoice(c, g.amount(standard=0))
    share = g.rng.choice((D("0.5"), D("0.3"), D("0.25")))
    paid = _round(inv.gross * share)
    g.tx(
        "partial",
        g.pay_date(inv.issue_date),
        paid,
        f"Teilzahlung {{inv:{inv.key}:full}}",
        Expect(((inv.key, paid),)),
        c,
    )


def _kind_many_to_one(g: _Gen) -> None:
    c = g.customer()
    inv = g.invoice(
        c, g.amount(standard=0), issued=g.today - timedelta(days=g.rng.randint(120, 300))
    )
    n = g.rng.choice((2, 3))
    parts = [_round(inv.gross / n)] * (n - 1)
    parts.append(inv.gross - sum(parts))
    day = inv.issue_date
    for i, part in enumerate(parts, start=1):
        day = day + timedelta(days=g.rng.randint(20, 35))
        g.tx(
            "many_to_one",
            min(day, g.today),
            part,
            f"{i}. Rate {{inv:{inv.key}:full}}",
            Expect(((inv.key, part),)),
            c,
        )


def _kind_one_to_many(g: _Gen) -> None:
    c = g.customer()
    invs = [g.invoice(c, g.amount(standard=0)) for _ in range(g.rng.choice((2, 3)))]
    names = ", ".join(f"{{inv:{i.key}:full}}" for i in invs)
    last = max(i.issue_date for i in invs)
    g.tx(
        "one_to_many",
        g.pay_date(last),
        sum((i.gross for i in invs), D(0)),
        f"Rechnungen {names}",
        Expect(tuple((i.key, i.gross) for i in invs)),
        c,
    )


def _kind_subset(g: _Gen) -> None:
    c = g.customer(pool=False)  # no distractors: the customer's open invoices are these three
    invs = [g.invoice(c, g.amount(standard=0)) for _ in range(3)]
    paid = invs[:2]
    last = max(i.issue_date for i in paid)
    g.tx(
        "one_to_many_subset",
        g.pay_date(last),
        sum((i.gross for i in paid), D(0)),
        g.rng.choice(GENERIC_PURPOSES),
        Expect(tuple((i.key, i.gross) for i in paid)),
        c,
    )


def _kind_typo(g: _Gen) -> None:
    c = g.customer()
    inv = g.invoice(c, g.amount(standard=0))
    g.tx(
        "typo",
        g.pay_date(inv.issue_date),
        inv.gross,
        f"Rechnung {{inv:{inv.key}:typo}}",
        Expect(((inv.key, inv.gross),)),
        c,
    )


def _supplier_number(g: _Gen) -> str:
    r = g.rng.random()
    if r < 0.4:
        return f"INV-{g.rng.randint(10000, 99999)}"
    if r < 0.7:
        return f"{g.rng.randint(100000000, 999999999)}"
    return f"R{g.today.year}-{g.rng.randint(1000, 9999)}"


def _kind_supplier_transfer(g: _Gen) -> None:
    s = g.supplier()
    ext = _supplier_number(g)
    inv = g.invoice(s, g.amount(standard=0.05), direction="in", external=ext)
    purpose = g.rng.choice((f"Rechnung {ext}", f"{ext}", f"Re {ext} Kd {g.rng.randint(1, 99999)}"))
    g.tx(
        "supplier_transfer",
        g.pay_date(inv.issue_date, 5, 30),
        -inv.gross,
        purpose,
        Expect(((inv.key, inv.gross),)),
        s,
    )


def _kind_supplier_debit(g: _Gen) -> None:
    s = g.supplier()
    ext = f"{g.rng.randint(100000000, 999999999)}"
    inv = g.invoice(s, g.amount(standard=0.05), direction="in", external=ext)
    g.tx(
        "supplier_debit",
        g.pay_date(inv.issue_date, 3, 14),
        -inv.gross,
        f"Ihre Rechnung {ext} vom {inv.issue_date:%d.%m.%Y} Kundenkonto {g.rng.randint(1, 9**9)}",
        Expect(((inv.key, inv.gross),)),
        s,
        e2e=f"{g.rng.randint(10**11, 10**12)}",
    )


def _kind_ambiguous(g: _Gen) -> None:
    c = g.customer(pool=False)
    gross = g.amount(standard=0.5)
    first = g.invoice(c, gross)
    second = g.invoice(c, gross)
    g.tx(
        "ambiguous",
        g.pay_date(max(first.issue_date, second.issue_date)),
        gross,
        g.rng.choice(GENERIC_PURPOSES),
        Expect(((first.key, gross),), frozenset({first.key, second.key}), auto_allowed=False),
        c,
    )


def _kind_double_payment(g: _Gen) -> None:
    c = g.customer(pool=False)
    gross = g.amount(standard=0.3)
    paid = g.invoice(c, gross)
    g.invoice(c, gross)  # an equal, still open invoice: the second payment must not take it
    day = g.pay_date(paid.issue_date)
    text = f"Rechnung {{inv:{paid.key}:full}}"
    g.tx("double_payment", day, gross, text, Expect(((paid.key, gross),)), c)
    g.tx("double_payment", min(day + timedelta(days=3), g.today), gross, text, Expect(), c)


def _kind_advance_payment(g: _Gen) -> None:
    c = g.customer(pool=False)
    open_one = g.invoice(c, g.amount(standard=0) + D(500))  # an open invoice of another amount
    paid = _round(open_one.gross * D("0.4"))
    g.tx(
        "advance_payment",
        g.pay_date(open_one.issue_date),
        paid,
        f"Anzahlung Auftrag {g.rng.randint(100, 999)}",
        Expect(),
        c,
    )


def _kind_unrelated(g: _Gen) -> None:
    rng = g.rng
    day = g.today - timedelta(days=rng.randint(1, 300))
    person = f"{rng.choice(FIRST)} {rng.choice(SURNAMES)}"
    cases = [
        (-D(rng.choice((850, 1200, 1450))), f"Miete {day:%m/%Y} Büro", person),
        (-D(rng.choice(("9.90", "12.50", "4.95"))), "Kontoführungsentgelt", ""),
        (-g.amount(standard=0), f"USt-VA {day.year} Steuernummer 12/345/67890", "Finanzamt"),
        (-D(rng.randint(500, 20000)) / 100, f"REWE SAGT DANKE {rng.randint(10**7, 10**8)}", "REWE"),
        (D(rng.randint(1000, 50000)) / 100, "Erstattung Schaden Nr. 2024-778812", "Allianz AG"),
        (D(rng.choice((500, 1000, 2000))), "Privateinlage", person),
        (rng.choice(STANDARD_AMOUNTS), "Spende", person),  # a stranger pays a common amount
    ]
    amount, purpose, name = rng.choice(cases)
    iban = _iban(rng) if name else ""
    g.tx("unrelated", day, amount.quantize(CENT), purpose, Expect(), name=name, iban=iban)


MAKERS: dict[str, Callable[[_Gen], None]] = {
    "exact_number": _kind_exact_number,
    "iban_amount": _kind_iban_amount,
    "name_amount": _kind_name_amount,
    "skonto": _kind_skonto,
    "fee_deducted": _kind_fee_deducted,
    "partial": _kind_partial,
    "many_to_one": _kind_many_to_one,
    "one_to_many": _kind_one_to_many,
    "one_to_many_subset": _kind_subset,
    "typo": _kind_typo,
    "supplier_transfer": _kind_supplier_transfer,
    "supplier_debit": _kind_supplier_debit,
    "ambiguous": _kind_ambiguous,
    "double_payment": _kind_double_payment,
    "advance_payment": _kind_advance_payment,
    "unrelated": _kind_unrelated,
}
# bank lines one call of a maker adds on average (for scaling to a wanted number of lines)
_LINES_PER_CALL = {"many_to_one": 2.5, "double_payment": 2.0}


def generate(
    seed: int = 1,
    per_kind: int | dict[str, int] = 5,
    distractors: int = 20,
    today: date | None = None,
) -> Scenarios:
    """``per_kind`` cases of each kind (a number, or a count per kind) and ``distractors``
    unpaid invoices of the same customers (common amounts included)."""
    g = _Gen(seed, today or date.today())
    counts = per_kind if isinstance(per_kind, dict) else dict.fromkeys(KINDS, per_kind)
    plan = [kind for kind in KINDS for _ in range(counts.get(kind, 0))]
    g.rng.shuffle(plan)
    for kind in plan:
        MAKERS[kind](g)
    for _ in range(distractors):
        c = g.rng.choice(g.customers) if g.customers and g.rng.random() < 0.7 else g.customer()
        g.invoice(c, g.amount(standard=0.3))
    return g.sc


def counts_for(transactions: int) -> dict[str, int]:
    """Calls per kind so that about ``transactions`` bank lines come out."""
    total = sum(KIND_WEIGHTS.values())
    return {
        kind: round(transactions * w / total / _LINES_PER_CALL.get(kind, 1.0))
        for kind, w in KIND_WEIGHTS.items()
    }


# --------------------------------------------------------------------------- storing


@dataclass
class Loaded:
    scenarios: Scenarios
    account_id: int
    party_ids: dict[str, int]
    invoice_ids: dict[str, int]
    numbers: dict[str, str]
    tx_ids: dict[str, int]

    @property
    def tx_keys(self) -> dict[int, str]:
        return {v: k for k, v in self.tx_ids.items()}

    @property
    def invoice_keys(self) -> dict[int, str]:
        return {v: k for k, v in self.invoice_ids.items()}


_TEMPLATE = re.compile(r"\{inv:(?P<key>[^:}]+):(?P<style>\w+)\}|\{cust:(?P<party>[^}]+)\}")


def _styled(number: str, style: str, taken: set[str]) -> str:
    prefix, year, seq = number.split("-")
    short = str(int(seq))
    if style == "full":
        return number
    if style == "spaced":
        return f"{prefix} {year} {seq}"
    if style == "compact":
        return f"{prefix}{year}{seq}"
    if style == "short":
        return f"{prefix}{year}-{short}"
    if style == "bare":
        return f"{year}-{seq}"
    if style == "slash":
        return f"{year}/{seq}"
    if style == "typo":
        for i in range(len(seq) - 1, 0, -1):
            digits = list(seq)
            if digits[i] != digits[i - 1]:
                digits[i], digits[i - 1] = digits[i - 1], digits[i]
                wrong = f"{prefix}-{year}-{''.join(digits)}"
                if wrong not in taken:
                    return wrong
        for i in range(len(seq) - 1, -1, -1):
            for d in "9876543210":
                wrong = f"{prefix}-{year}-{seq[:i]}{d}{seq[i + 1 :]}"
                if wrong not in taken:
                    return wrong
    raise ValueError(style)


def store_transactions(
    session: Session, tenant_id: int, account_id: int, rows: list[dict[str, Any]]
) -> list[int]:
    """Bank lines as an importer would store them (one batch with an archived original)."""
    token = uuid.uuid4().hex
    doc, _new = store_document(session, tenant_id, token.encode(), "test.csv", "text/csv")
    batch = ImportBatch(
        tenant_id=tenant_id,
        account_id=account_id,
        document_id=doc.id,
        file_name="test.csv",
        file_sha256=doc.sha256,
        format="csv",
        rows=len(rows),
        imported=len(rows),
    )
    session.add(batch)
    session.flush()
    full = [
        {
            "tenant_id": tenant_id,
            "account_id": account_id,
            "batch_id": batch.id,
            "line_no": i,
            "value_date": None,
            "currency": "EUR",
            "counterparty_name": "",
            "counterparty_iban": "",
            "purpose": "",
            "end_to_end_ref": "",
            "fingerprint": f"{token}-{i}",
            "occurrence": 1,
        }
        | row
        for i, row in enumerate(rows, start=1)
    ]
    return list(
        session.scalars(
            insert(BankTransaction).returning(BankTransaction.id, sort_by_parameter_order=True),
            full,
        )
    )


def make_account(
    session: Session, tenant_id: int, kind: str = "bank", ledger_account: str = ""
) -> int:
    account = BankAccount(
        tenant_id=tenant_id,
        kind=kind,
        name="PayPal" if kind == "paypal" else "Geschäftskonto",
        iban=None if kind == "paypal" else _iban(random.Random(uuid.uuid4().int)),
        email="shop@example.com" if kind == "paypal" else "",
        account_type="business",
        ledger_account=ledger_account,
    )
    session.add(account)
    session.flush()
    return int(account.id)


def load(session: Session, tenant_id: int, sc: Scenarios, account_id: int | None = None) -> Loaded:
    """Store parties, book the invoices, store the bank lines with their purposes filled in."""
    account_id = account_id or make_account(session, tenant_id)
    party_rows = [
        {
            "tenant_id": tenant_id,
            "name": p.name,
            "is_customer": p.customer_number is not None,
            "is_supplier": p.supplier_number is not None,
            "customer_number": p.customer_number,
            "supplier_number": p.supplier_number,
            "iban": p.iban,
        }
        for p in sc.parties
    ]
    pids = list(
        session.scalars(insert(Party).returning(Party.id, sort_by_parameter_order=True), party_rows)
    )
    party_ids = {p.key: pid for p, pid in zip(sc.parties, pids, strict=True)}
    parties = {p.key: p for p in sc.parties}
    marker = uuid.uuid4().hex[:8]
    drafts = [
        InvoiceInput(
            direction=i.direction,
            issue_date=i.issue_date,
            price_mode="gross",
            party_id=party_ids[i.party],
            external_number=i.external_number,
            note=f"scenario:{marker}:{i.key}",
            lines=[
                LineInput(
                    description="Leistung" if i.direction == "out" else "Einkauf",
                    quantity=D(1),
                    unit_price=i.gross,
                    vat_rate=D(19),
                )
            ],
        )
        for i in sc.invoices
    ]
    book_invoices_bulk(session, tenant_id, drafts)
    invoice_ids: dict[str, int] = {}
    numbers: dict[str, str] = {}
    for inv_id, number, note in session.execute(
        select(Invoice.id, Invoice.number, Invoice.note).where(
            Invoice.tenant_id == tenant_id, Invoice.note.like(f"scenario:{marker}:%")
        )
    ):
        key = note.rsplit(":", 1)[1]
        invoice_ids[key] = inv_id
        numbers[key] = number
    taken = set(session.scalars(select(Invoice.number).where(Invoice.tenant_id == tenant_id)))

    def render(text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group("party"):
                return str(parties[m.group("party")].customer_number)
            return _styled(numbers[m.group("key")], m.group("style"), taken)

        return _TEMPLATE.sub(sub, text)

    rows = [
        {
            "booking_date": t.booking_date,
            "amount": t.amount,
            "counterparty_name": t.name,
            "counterparty_iban": t.iban,
            "purpose": render(t.purpose),
            "end_to_end_ref": render(t.e2e),
        }
        for t in sc.transactions
    ]
    ids = store_transactions(session, tenant_id, account_id, rows)
    session.flush()
    return Loaded(
        scenarios=sc,
        account_id=account_id,
        party_ids=party_ids,
        invoice_ids=invoice_ids,
        numbers=numbers,
        tx_ids={t.key: i for t, i in zip(sc.transactions, ids, strict=True)},
    )


# --------------------------------------------------------------------------- scoring


@dataclass
class KindScore:
    lines: int = 0
    expected_links: int = 0
    auto_correct: int = 0
    auto_wrong: int = 0
    found: int = 0  # expected links made automatically or shown as the top proposal


@dataclass
class Evaluation:
    auto_links: int = 0
    auto_correct: int = 0
    auto_wrong: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, tx, invoice)
    forbidden_auto: list[tuple[str, str]] = field(default_factory=list)  # (kind, tx)
    payable_invoices: int = 0
    matched_invoices: int = 0  # every payment found: auto-linked right or top proposal
    matched_auto: int = 0  # every payment linked automatically and right
    expected_links: int = 0
    found_links: int = 0
    unrelated_lines: int = 0
    unrelated_with_proposal: int = 0
    by_kind: dict[str, KindScore] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.auto_correct / self.auto_links if self.auto_links else 1.0

    @property
    def matched_share(self) -> float:
        return self.matched_invoices / self.payable_invoices if self.payable_invoices else 1.0

    @property
    def auto_share(self) -> float:
        return self.matched_auto / self.payable_invoices if self.payable_invoices else 1.0

    def report(self) -> str:
        lines = [
            f"automatic links: {self.auto_links}, right {self.auto_correct}, "
            f"precision {self.precision:.2%}",
            f"payable invoices: {self.payable_invoices}, matched {self.matched_invoices} "
            f"({self.matched_share:.2%}; auto-linked right or right top proposal), "
            f"auto-linked right {self.matched_auto} ({self.auto_share:.2%})",
            f"lines that must not link: {self.unrelated_lines}, auto-linked "
            f"{len(self.forbidden_auto)}, with a (wrong) proposal {self.unrelated_with_proposal}",
            f"{'kind':<20}{'lines':>7}{'links':>7}{'auto ok':>9}{'auto bad':>9}{'found':>7}",
        ]
        for kind, s in sorted(self.by_kind.items()):
            lines.append(
                f"{kind:<20}{s.lines:>7}{s.expected_links:>7}{s.auto_correct:>9}"
                f"{s.auto_wrong:>9}{s.found:>7}"
            )
        return "\n".join(lines)


def evaluate(session: Session, tenant_id: int, loaded: Loaded) -> Evaluation:
    """Compare the tenant's matches with the answers.

    A payment is *found* when it was linked automatically to the right invoice with the right
    amount, or when the right invoice is among the transaction's highest-confidence proposals
    (ties are shown together; a group transfer's invoices share one confidence).
    """
    sc = loaded.scenarios
    tx_key = loaded.tx_keys
    inv_key = loaded.invoice_keys
    kinds = {t.key: t.kind for t in sc.transactions}
    auto: set[tuple[str, str, Decimal]] = set()
    top: dict[str, tuple[Decimal, set[str]]] = {}
    ev = Evaluation()
    for tx_id, inv_id, amount, status, automatic, confidence in session.execute(
        select(
            PaymentMatch.transaction_id,
            PaymentMatch.invoice_id,
            PaymentMatch.amount,
            PaymentMatch.status,
            PaymentMatch.automatic,
            PaymentMatch.confidence,
        ).where(PaymentMatch.tenant_id == tenant_id)
    ):
        t, i = tx_key.get(tx_id), inv_key.get(inv_id)
        if t is None or i is None:
            continue
        if status == "linked" and automatic:
            ev.auto_links += 1
            auto.add((t, i, amount))
            expect = sc.expect[t]
            if (i, amount) in expect.allocations:
                ev.auto_correct += 1
            else:
                ev.auto_wrong.append((kinds[t], t, i))
            if not expect.auto_allowed:
                ev.forbidden_auto.append((kinds[t], t))
        elif status == "proposed":
            best, keys = top.get(t, (D(-1), set()))
            if confidence > best:
                top[t] = (confidence, {i})
            elif confidence == best:
                keys.add(i)
    per_invoice: dict[str, list[bool]] = defaultdict(list)
    per_invoice_auto: dict[str, list[bool]] = defaultdict(list)
    for line in sc.transactions:
        expect = sc.expect[line.key]
        s = ev.by_kind.setdefault(line.kind, KindScore())
        s.lines += 1
        if not expect.allocations:
            ev.unrelated_lines += 1
            if line.key in top:
                ev.unrelated_with_proposal += 1
            continue
        shown = top.get(line.key, (D(0), set()))[1]
        for i, amount in expect.allocations:
            ok_auto = (line.key, i, amount) in auto
            ok = ok_auto or i in shown
            s.expected_links += 1
            s.found += ok
            ev.expected_links += 1
            ev.found_links += ok
            per_invoice[i].append(ok)
            per_invoice_auto[i].append(ok_auto)
    for _kind, t, _i in ev.auto_wrong:
        ev.by_kind[kinds[t]].auto_wrong += 1
    for t, _i, _a in auto:
        if (_i, _a) in sc.expect[t].allocations:
            ev.by_kind[kinds[t]].auto_correct += 1
    ev.payable_invoices = len(per_invoice)
    ev.matched_invoices = sum(all(v) for v in per_invoice.values())
    ev.matched_auto = sum(all(v) for v in per_invoice_auto.values())
    return ev
