"""Fixtures of the tax tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from belegwerk.books.cash import set_opening_balance
from belegwerk.core.db import tenant_session
from tests.tax.test_cash_basis import pay
from tests.tax.test_euer import cash, purchase

D = Decimal


@pytest.fixture
def books(engine: Engine, tenant_id: int) -> None:
    """2025: a sale of 238.00 in cash, office supplies, a notebook bought as an investment."""
    with tenant_session(tenant_id, engine) as s:
        set_opening_balance(s, tenant_id, date(2025, 1, 1), D("500.00"))
        cash(s, tenant_id, date(2025, 3, 1), "revenue_19", "238.00", "income")
        cash(s, tenant_id, date(2025, 3, 2), "office_supplies", "59.50", input_vat_deductible=True)
        notebook = purchase(s, tenant_id, "1500.00", "investment", date(2025, 7, 15))
        pay(s, tenant_id, notebook, date(2025, 7, 20), "1785.00")
