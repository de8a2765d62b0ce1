"""Demo bank statements: the last quarter of each demo company's bank account as the bank would
export it (DKB CSV layout), imported through the real pipeline — detection, duplicates,
suggestions, payment matching — so the bank pages show a realistic state.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from belegwerk.banking import importer, matching
from belegwerk.banking.accounts import AccountData, create_account
from belegwerk.banking.detect import parse_file
from belegwerk.banking.models import BankTransaction
from belegwerk.books.invoices import list_invoices
from belegwerk.books.models import Party
from belegwerk.core.db import tenant_session

HEADER = (
    '"Buchungsdatum";"Wertstellung";"Status";"Zahlungspflichtige*r";"Zahlungsempfänger*in";'
    '"Verwendungszweck";"Umsatztyp";"IBAN";"Betrag (€)";"Gläubiger-ID";"Mandatsreferenz";'
    '"Kundenreferenz"'
)
OWN_NAME = "Kontoinhaber"


def _amount(value: Decimal) -> str:
    text = f"{abs(value):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return f"-{text}" if value < 0 else text


def _line(day: date, payer: str, payee: str, purpose: str, iban: str, amount: Decimal) -> str:
    kind = "Eingang" if amount > 0 else "Ausgang"
    cells = [
        f"{day:%d.%m.%y}",
        f"{day:%d.%m.%y}",
        "Gebucht",
        payer,
        payee,
        purpose,
        kind,
        iban,
        _amount(amount),
        "",
        "",
        "",
    ]
    return ";".join(f'"{c}"' for c in cells)


def statement_csv(
    iban: str, balance_day: date, lines: list[tuple[date, str, str, str, str, Decimal]]
) -> bytes:
    """A DKB (2023+) export: account preamble, header, newest booking first."""
    out = [
        f'"Girokonto";"{iban}"',
        '""',
        f'"Kontostand vom {balance_day:%d.%m.%Y}:";"0,00 €"',
        '""',
        HEADER,
    ]
    for day, payer, payee, purpose, counter_iban, amount in sorted(lines, reverse=True):
        out.append(_line(day, payer, payee, purpose, counter_iban, amount))
    return ("\ufeff" + "\n".join(out) + "\n").encode("utf-8")


def load_bank_demo(
    engine: Engine,
    tenant_id: int,
    *,
    iban: str,
    account_type: str,
    rng: random.Random,
    end: date,
    private_lines: bool,
) -> None:
    start = (end.replace(day=1) - timedelta(days=62)).replace(day=1)
    with tenant_session(tenant_id, engine) as s:
        account = create_account(
            s,
            tenant_id,
            AccountData(
                iban=iban,
                account_type=account_type,
                name="Geschäftskonto" if account_type == "business" else "Girokonto",
                opening_balance=Decimal("4200.00"),
                opening_date=start,
            ),
        )
        parties = {p.id: p for p in s.scalars(select(Party).where(Party.tenant_id == tenant_id))}
        lines: list[tuple[date, str, str, str, str, Decimal]] = []
        open_out = list_invoices(
            s, tenant_id, direction="out", payment_status="open", page_size=500
        ).items
        for row in open_out:
            if row.issue_date > end - timedelta(days=3) or row.party_id is None:
                continue
            party = parties[row.party_id]
            day = min(end, row.issue_date + timedelta(days=rng.randint(2, 12)))
            if rng.random() < 0.8:
                purpose = f"{row.number} Vielen Dank"
            else:
                purpose = f"Rechnung vom {row.issue_date:%d.%m.%Y}"
            lines.append((day, party.name, OWN_NAME, purpose, party.iban, row.open_amount))
        month = start
        while month <= end:
            fee_day = min(end, (month + timedelta(days=31)).replace(day=1) - timedelta(days=1))
            lines.append(
                (fee_day, OWN_NAME, "DKB AG", "Kontoführungsentgelt", "", Decimal("-9.90"))
            )
            if private_lines:
                lines.append(
                    (
                        month + timedelta(days=2),
                        OWN_NAME,
                        "Hausverwaltung Lindner",
                        "Miete Wohnung Lindenallee",
                        "DE12500105170648489890",
                        Decimal("-780.00"),
                    )
                )
                lines.append(
                    (
                        month + timedelta(days=14),
                        OWN_NAME,
                        "REWE Markt GmbH",
                        "REWE SAGT DANKE",
                        "DE48700202700000123456",
                        Decimal("-63.17"),
                    )
                )
                lines.append(
                    (
                        month + timedelta(days=20),
                        OWN_NAME,
                        OWN_NAME,
                        "Privatentnahme",
                        "DE75512108001245126199",
                        Decimal("-400.00"),
                    )
                )
            month = (month + timedelta(days=32)).replace(day=1)
        content = statement_csv(iban, end, [ln for ln in lines if start <= ln[0] <= end])
        statement = parse_file(content, "umsaetze.csv")
        batch = importer.import_statement(
            s, tenant_id, account.id, statement, content, "umsaetze.csv"
        )
        ids = list(
            s.scalars(
                select(BankTransaction.id).where(
                    BankTransaction.tenant_id == tenant_id, BankTransaction.batch_id == batch.id
                )
            )
        )
        matching.match_transactions(s, tenant_id, ids)
