"""Zusammenfassende Meldung (§ 18a UStG): per customer VAT id the period's intra-community
supplies (L), supplies as first buyer in triangular transactions (D) and services taxable in
the customer's state (S), with the CSV the BZSt portal imports.

The ZM reads the same postings as Kz 41 and Kz 21 of the UStVA, in the same periods (§ 18a
Abs. 8 = § 18b: supplies with the invoice, at the latest the month after; services when
performed; Ist or Soll does not matter), so the two agree to the cent. What the UStVA holds but
the ZM cannot – a sale without the customer's VAT id, e.g. a reverse-charge bank receipt – is
listed and flagged. Belegwerk records no triangular transactions; D stays empty.

CSV (Mein BOP/ELSTER "Import von Meldelisten zur Zusammenfassenden Meldung", CSV version 3.0):
line 1 the version ``#v3.0``, line 2 the column names, then one line per customer and kind:
VAT id with country code, amount in whole euros (sign allowed), kind L/D/S; comma-separated,
UTF-8 (version 3.0 dropped ISO-8859-15; version 2.0 merged country code and number into one
column). Sources: elster.de help pages "zmdo_import_eop" (version table) and
"allgemeine_csv-anleitung" (file layout), BZSt CSV description of version 1 (field formats).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from belegwerk.books import vat_treatment as vt
from belegwerk.books.models import Invoice, Party, Posting
from belegwerk.core.i18n import _, format_money
from belegwerk.core.money import ZERO
from belegwerk.tax import timing
from belegwerk.tax.forms import form_for
from belegwerk.tax.periods import Period
from belegwerk.tax.ustva import Check, PostingSigns, sums
from belegwerk.tenancy.service import get_company

KINDS = {vt.OUT_IC_SUPPLY: "L", vt.OUT_EU_SERVICE: "S"}


def kind_label(kind: str) -> str:
    return {
        "L": _("Intra-community supply"),
        "D": _("Triangular transaction"),
        "S": _("Other service"),
    }.get(kind, kind)


BOXES = {"L": "41", "S": "21"}
CSV_VERSION = "#v3.0"
CSV_HEADER = ("USt-IdNr.", "Betrag (EUR)", "Art der Leistung")
MAX_LINES = 1500  # the portal's import limit (version table, CSV 1.1.10)
QUARTERLY_LIMIT = Decimal(50000)  # § 18a Abs. 1 Satz 2 UStG


@dataclass(frozen=True)
class ZmLine:
    vat_id: str  # with country code, e.g. ATU13585627
    kind: str  # L | D | S
    amount: Decimal  # exact sum of the bases (cents)
    customer: str

    @property
    def country(self) -> str:
        return self.vat_id[:2]

    @property
    def euros(self) -> int:
        """Whole euros, cents cut off (as the UStVA bases)."""
        return int(self.amount.quantize(Decimal(1), rounding=ROUND_DOWN))


@dataclass(frozen=True)
class Unreported:
    """A sale in Kz 41/21 that cannot go into the ZM: no VAT id of the customer."""

    voucher: str
    kind: str
    amount: Decimal
    customer: str


@dataclass
class Zm:
    period: Period
    lines: list[ZmLine]
    unreported: list[Unreported]
    ustva: dict[str, Decimal]  # exact Kz 41 and 21 of the same period
    checks: list[Check] = field(default_factory=list)

    def total(self, kind: str) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.kind == kind), ZERO)

    def unreported_total(self, kind: str) -> Decimal:
        return sum((u.amount for u in self.unreported if u.kind == kind), ZERO)

    def reconciliation(self) -> list[dict[str, Any]]:
        """Per kind: ZM sum + sales without VAT id = the UStVA box."""
        rows = []
        for kind, kz in BOXES.items():
            zm, without = self.total(kind), self.unreported_total(kind)
            box = self.ustva.get(kz, ZERO)
            rows.append(
                {
                    "kind": kind,
                    "kz": kz,
                    "zm": zm,
                    "without_vat_id": without,
                    "ustva": box,
                    "agrees": zm + without == box,
                }
            )
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.key,
            "lines": [
                {
                    "vat_id": ln.vat_id,
                    "country": ln.country,
                    "kind": ln.kind,
                    "amount": ln.euros,
                    "exact": str(ln.amount),
                    "customer": ln.customer,
                }
                for ln in self.lines
            ],
            "totals": {kind: str(self.total(kind)) for kind in ("L", "D", "S")},
            "unreported": [
                {
                    "voucher": u.voucher,
                    "kind": u.kind,
                    "amount": str(u.amount),
                    "customer": u.customer,
                }
                for u in self.unreported
            ],
            "reconciliation": [
                {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}
                for row in self.reconciliation()
            ],
            "warnings": [c.__dict__ for c in self.checks],
        }


def _vat_id(raw: str | None, country: str | None) -> str:
    """The customer's VAT id with its country code (Greece: EL), or "" when unknown."""
    value = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    if not value:
        return ""
    if value[:2].isalpha():
        return value
    prefix = (country or "").upper()
    return ("EL" if prefix == "GR" else prefix) + value


def compute(
    session: Session,
    tenant_id: int,
    period: Period,
    ustva_sums: Mapping[str, Decimal] | None = None,
) -> Zm:
    """The ZM of a month or quarter, reconciled with Kz 41 and Kz 21 of the same period
    (``ustva_sums``: the exact box sums when the UStVA was computed already)."""
    company = get_company(session, tenant_id)
    signs = PostingSigns(session, tenant_id, company.chart)
    treatments = sorted(KINDS)
    columns = (
        Party.vat_id,
        Party.country,
        Party.name,
        Posting.voucher,
        Posting.vat_treatment,
        Posting.category_id,
        Posting.debit_account,
        Posting.credit_account,
    )
    invoices = (
        timing.invoice_postings_in(
            select(*columns, func.sum(Posting.net_amount)), tenant_id, period
        )
        .outerjoin(Party, Party.id == Invoice.party_id)
        .where(Posting.vat_treatment.in_(treatments))
        .group_by(*columns)
    )
    direct = timing.direct_postings_in(
        select(Posting.voucher, Posting.vat_treatment, Posting.category_id)
        .add_columns(Posting.debit_account, Posting.credit_account, Posting.net_amount)
        .where(Posting.vat_treatment.in_(treatments)),
        tenant_id,
        period,
    )
    sums_by: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    names: dict[tuple[str, str], str] = {}
    unreported: list[Unreported] = []
    for raw_id, country, name, voucher, treatment, cat_id, debit, credit, net in session.execute(
        invoices
    ):
        amount = signs.sign(treatment, False, cat_id, debit, credit) * Decimal(net)
        kind = KINDS[treatment]
        vat_id = _vat_id(raw_id, country)
        if not vat_id:
            unreported.append(Unreported(voucher, kind, amount, name or ""))
            continue
        sums_by[(vat_id, kind)] += amount
        names.setdefault((vat_id, kind), name or "")
    for voucher, treatment, cat_id, debit, credit, net in session.execute(direct):
        amount = signs.sign(treatment, False, cat_id, debit, credit) * Decimal(net)
        unreported.append(Unreported(voucher, KINDS[treatment], amount, ""))
    lines = [
        ZmLine(vat_id, kind, amount, names[(vat_id, kind)])
        for (vat_id, kind), amount in sorted(sums_by.items())
        if amount
    ]
    raw = (
        ustva_sums
        if ustva_sums is not None
        else sums(session, tenant_id, period, form_for(period.year), company.chart)
    )
    zm = Zm(
        period,
        lines,
        sorted(unreported, key=lambda u: u.voucher),
        {kz: raw.get(kz, ZERO) for kz in BOXES.values()},
    )
    zm.checks = _checks(zm)
    return zm


def _checks(zm: Zm) -> list[Check]:
    found: list[Check] = []
    if zm.unreported:
        found.append(
            Check(
                "zm.vat_id_missing",
                "warning",
                _(
                    "Sales in Kz 41/21 without the customer's VAT id cannot be reported in the "
                    "ZM (and an intra-community supply is tax-free only with it): {vouchers}"
                ).format(vouchers=", ".join(u.voucher for u in zm.unreported)),
                [{"voucher": u.voucher, "amount": str(u.amount)} for u in zm.unreported],
            )
        )
    for row in zm.reconciliation():
        if not row["agrees"]:  # pragma: no cover - both read the same postings
            found.append(
                Check(
                    "zm.ustva_difference",
                    "warning",
                    _("ZM ({zm}) and Kz {kz} ({box}) differ.").format(
                        zm=format_money(row["zm"]), kz=row["kz"], box=format_money(row["ustva"])
                    ),
                )
            )
    foreign = [ln.vat_id for ln in zm.lines if ln.country not in vt.EU_COUNTRIES | {"EL"}]
    if foreign:
        found.append(
            Check(
                "zm.vat_id_not_eu",
                "warning",
                _("These VAT ids are not from another EU member state: {ids}").format(
                    ids=", ".join(foreign)
                ),
            )
        )
    if zm.period.quarter and zm.total("L") + zm.total("D") > QUARTERLY_LIMIT:
        found.append(
            Check(
                "zm.monthly_required",
                "warning",
                _(
                    "Intra-community supplies above 50,000 € in the quarter: the ZM is due "
                    "monthly from the month the limit was exceeded (§ 18a Abs. 1 UStG)."
                ),
            )
        )
    if len(zm.lines) > MAX_LINES:
        found.append(
            Check(
                "zm.too_many_lines",
                "warning",
                _("The BZSt import takes at most {n} lines per file.").format(n=MAX_LINES),
            )
        )
    return found


def to_csv(zm: Zm) -> bytes:
    """The CSV for the ZM import of the BZSt portal (version 3.0, UTF-8)."""
    out = io.StringIO()
    out.write(CSV_VERSION + "\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for ln in zm.lines:
        writer.writerow((ln.vat_id, ln.euros, ln.kind))
    return out.getvalue().encode("utf-8")
