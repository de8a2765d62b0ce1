"""A freelancer's books from December 2025 to June 2026, booked through the real services, for
the Anlage EKS tests (final 01–06/2026, provisional 07–12/2026 from their average).

Money in the period (hand-computed lines in ``FINAL``):

==========  ===================================================  ========================
date        movement                                             EKS
==========  ===================================================  ========================
12.01.2026  RE of 15.12.2025, 1,000.00 + 19 % paid (1,190.00)    A1 1,000.00 · A5.1 190.00
20.01.2026  cash: paper 23.80 incl. 19 %                         B10 20.00 · B17 3.80
10.02.2026  bank: fuel 119.00 incl. 19 %                         B6.3 100.00 · B17 19.00
10.02.2026  bank: VAT prepayment to the Finanzamt 350.00         B18 350.00
20.02.2026  first half of RE of 01.02.2026 (2,380.00): 1,190.00  A1 1,000.00 · A5.1 190.00
15.03.2026  laptop (incoming invoice 1,428.00 incl. 19 %) paid   B8 1,200.00 · B17 228.00
31.03.2026  bank: private withdrawal 1,500.00                    — (private money)
02.04.2026  second half of the RE of 01.02.2026: 1,190.00        A1 1,000.00 · A5.1 190.00
30.04.2026  bank: loan instalment (repayment) 200.00             B16 200.00
11.05.2026  bank: VAT refund from the Finanzamt 80.00            A5.3 80.00
15.05.2026  bank: private deposit 1,000.00                       — (private money)
05.06.2026  bank: customer pays 595.00 (19 %) without invoice    A1 500.00 · A5.1 95.00
==========  ===================================================  ========================

Not in the period: the RE of 10.03.2026 (535.00 at 7 %) paid on 05.07.2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from belegwerk.banking.classify import decide
from belegwerk.books.cash import CashEntryInput, create_cash_entry, set_opening_balance
from belegwerk.books.invoices import book_invoice, create_draft
from belegwerk.books.payments import add_payment
from tests.banking.classify_helpers import add_tx, cat, make_account, make_batch
from tests.books.test_invoices import booked, inp, ln

D = Decimal
FINAL_MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]

# line -> values Jan..Jun 2026 (hand-computed from the table above)
FINAL: dict[str, list[str]] = {
    "A1": ["1000.00", "1000.00", "0.00", "1000.00", "0.00", "500.00"],
    "A5.1": ["190.00", "190.00", "0.00", "190.00", "0.00", "95.00"],
    "A5.3": ["0.00", "0.00", "0.00", "0.00", "80.00", "0.00"],
    "A": ["1190.00", "1190.00", "0.00", "1190.00", "80.00", "595.00"],
    "B6.3": ["0.00", "100.00", "0.00", "0.00", "0.00", "0.00"],
    # 150 private km in February × 0.10 €
    "B6-": ["0.00", "15.00", "0.00", "0.00", "0.00", "0.00"],
    "B8": ["0.00", "0.00", "1200.00", "0.00", "0.00", "0.00"],
    "B10": ["20.00", "0.00", "0.00", "0.00", "0.00", "0.00"],
    "B16": ["0.00", "0.00", "0.00", "200.00", "0.00", "0.00"],
    "B17": ["3.80", "19.00", "228.00", "0.00", "0.00", "0.00"],
    "B18": ["0.00", "350.00", "0.00", "0.00", "0.00", "0.00"],
    # 23.80; 100 - 15 + 19 + 350; 1,200 + 228; 200
    "B": ["23.80", "454.00", "1428.00", "200.00", "0.00", "0.00"],
    "G": ["1166.20", "736.00", "-1428.00", "990.00", "80.00", "595.00"],
}
FINAL_PROFIT = D("2139.20")


@dataclass
class Books:
    investment_invoice_id: int
    withdrawal_tx_id: int


def book_scenario(session: Session, tenant_id: int) -> Books:
    """Book the movements of the module docstring (tenant: standard VAT, any chart)."""
    first = booked(session, tenant_id, [ln("1000.00")], issue=date(2025, 12, 15))
    add_payment(session, tenant_id, first.id, date(2026, 1, 12), "1190.00", "bank")

    set_opening_balance(session, tenant_id, date(2026, 1, 1), "200.00")
    create_cash_entry(
        session,
        tenant_id,
        CashEntryInput(
            entry_date=date(2026, 1, 20),
            description="Druckerpapier",
            category_id=cat(session, "office_supplies"),
            direction="expense",
            amount="23.80",
            vat_rate="19",
        ),
    )

    halves = booked(session, tenant_id, [ln("2000.00")], issue=date(2026, 2, 1))
    add_payment(session, tenant_id, halves.id, date(2026, 2, 20), "1190.00", "bank")
    add_payment(session, tenant_id, halves.id, date(2026, 4, 2), "1190.00", "bank")

    later = booked(session, tenant_id, [ln("500.00", "7")], issue=date(2026, 3, 10))
    add_payment(session, tenant_id, later.id, date(2026, 7, 5), "535.00", "bank")

    laptop = create_draft(
        session,
        tenant_id,
        inp(
            [ln("1200.00", desc="Laptop", category_id=cat(session, "investment"))],
            direction="in",
            issue=date(2026, 3, 1),
        ),
    )
    book_invoice(session, tenant_id, laptop.id)
    add_payment(session, tenant_id, laptop.id, date(2026, 3, 15), "1428.00", "bank")

    account = make_account(session, tenant_id, "business")
    batch = make_batch(session, tenant_id, account)

    def bank(day: date, amount: str, usage: str, key: str | None, name: str) -> int:
        tx = add_tx(session, tenant_id, batch, amount, name, name, day=day)
        decide(session, tenant_id, tx.id, usage, cat(session, key) if key else None)
        return tx.id

    bank(date(2026, 2, 10), "-119.00", "business", "car_running", "Tankstelle")
    bank(date(2026, 2, 10), "-350.00", "business", "vat_payment", "Finanzamt USt 12/2025")
    withdrawal = bank(date(2026, 3, 31), "-1500.00", "private_withdrawal", None, "Miete privat")
    bank(date(2026, 4, 30), "-200.00", "business", "loan_repayment", "Darlehen Rate")
    bank(date(2026, 5, 11), "80.00", "business", "vat_payment", "Finanzamt Erstattung")
    bank(date(2026, 5, 15), "1000.00", "private_deposit", None, "Einlage")
    bank(date(2026, 6, 5), "595.00", "business", "revenue_19", "Kundin Barzahlung")
    session.flush()
    return Books(laptop.id, withdrawal)


def final_mask() -> dict[str, object]:
    """The input mask of the final declaration (API/CLI JSON shape)."""
    return {
        "car_use": "business",
        "vat_liable": True,
        "answers": {
            "applicant_first_name": "Mara",
            "applicant_last_name": "Lindqvist",
            "applicant_birth_date": "1988-04-17",
            "person_first_name": "Mara",
            "person_last_name": "Lindqvist",
            "company_name": "Lindqvist Grafik",
            "activity": "Grafikdesign",
            "start_month": "03.2021",
            "legal_form": "Einzelunternehmen",
            "home_used": True,
            "home_rooms": 1,
            "home_area": "14,5",
            "staff": False,
        },
        "km": {"2026-02": {"business": "320", "private": "150"}},
        "deductions": [
            {"kind": "private_health", "amount": "215.40", "rhythm": "monthly"},
            {"kind": "car_liability", "amount": "264.00", "rhythm": "yearly"},
        ],
    }
