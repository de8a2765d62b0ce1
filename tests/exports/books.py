"""A small but complete year of books for the export tests, booked through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from belegwerk.books import cash, invoices, parties, payments
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.tenancy.service import update_company

YEAR = 2025
D = Decimal


@dataclass
class Books:
    customer: int
    supplier: int
    sale_19: int
    sale_7: int
    office: int
    goods: int
    reversed_sale: int


def line(price: str, rate: str, category: str, session: Session) -> LineInput:
    return LineInput(
        description=f"Position {category}",
        quantity=D(1),
        unit_price=D(price),
        vat_rate=D(rate),
        category_id=category_by_key(session, category).id,
    )


def book_year(session: Session, tenant_id: int, *, numbers: bool = True) -> Books:
    """Invoices out (19 %, 7 %) and in (office supplies, goods), a bank payment, a Storno, cash
    sales and expenses with a reversal; DATEV numbers set unless ``numbers`` is False."""
    if numbers:
        update_company(session, tenant_id, {"advisor_number": "29098", "client_number": "55003"})
    customer = parties.create_party(
        session,
        tenant_id,
        parties.PartyData(
            name="Müller & Söhne GmbH",
            is_customer=True,
            street="Hauptstraße 1",
            postal_code="10115",
            city="Berlin",
            vat_id="DE136695976",
            iban="DE89370400440532013000",
        ),
    ).id
    supplier = parties.create_party(
        session, tenant_id, parties.PartyData(name="Bürobedarf Łukasz KG", is_supplier=True)
    ).id

    def book(direction: str, day: date, party: int, *lines: LineInput) -> int:
        draft = invoices.create_draft(
            session,
            tenant_id,
            invoices.InvoiceInput(
                direction=direction,
                issue_date=day,
                party_id=party,
                lines=list(lines),
                external_number="" if direction == "out" else f"L-{day:%m%d}",
            ),
        )
        return invoices.book_invoice(session, tenant_id, draft.id).id

    sale_19 = book("out", date(YEAR, 2, 3), customer, line("1000.00", "19", "revenue_19", session))
    sale_7 = book("out", date(YEAR, 2, 10), customer, line("200.00", "7", "revenue_7", session))
    office = book(
        "in", date(YEAR, 2, 12), supplier, line("84.03", "19", "office_supplies", session)
    )
    goods = book("in", date(YEAR, 2, 14), supplier, line("500.00", "19", "goods_purchase", session))
    payments.add_payment(session, tenant_id, sale_19, date(YEAR, 2, 20), D("1190.00"), "bank")
    wrong = book("out", date(YEAR, 2, 21), customer, line("50.00", "19", "revenue_19", session))
    invoices.reverse_invoice(
        session, tenant_id, wrong, "Falscher Betrag", reversal_date=date(YEAR, 2, 22)
    )
    cash.set_opening_balance(session, tenant_id, date(YEAR, 1, 1), D("200.00"))
    revenue = category_by_key(session, "revenue_19").id
    office_cat = category_by_key(session, "office_supplies").id
    cash.create_cash_entry(
        session,
        tenant_id,
        cash.CashEntryInput(date(YEAR, 2, 5), "Barverkauf", revenue, "income", D("59.50")),
    )
    expense = cash.create_cash_entry(
        session,
        tenant_id,
        cash.CashEntryInput(date(YEAR, 2, 6), "Kugelschreiber", office_cat, "expense", D("11.90")),
    )
    cash.reverse_cash_entry(session, tenant_id, expense.id, "Doppelt erfasst", on=date(YEAR, 2, 7))
    session.flush()
    return Books(customer, supplier, sale_19, sale_7, office, goods, wrong)
