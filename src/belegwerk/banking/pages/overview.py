"""The money overview: business cash across accounts, open invoices, input VAT, next UStVA."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from belegwerk.banking.models import PaymentMatch
from belegwerk.banking.overview import bank_overview
from belegwerk.banking.pages.common import account_type_labels, render
from belegwerk.core.dates import today
from belegwerk.web.ui import PageDep

pages = APIRouter(include_in_schema=False)


@pages.get("/bank", response_class=HTMLResponse)
def overview(page: PageDep) -> HTMLResponse:
    data = bank_overview(page.session, page.tenant_id, today())
    proposals = page.session.scalar(
        select(func.count(func.distinct(PaymentMatch.transaction_id))).where(
            PaymentMatch.tenant_id == page.tenant_id, PaymentMatch.status == "proposed"
        )
    )
    return render(
        page,
        "banking/overview.html",
        section="bank_overview",
        o=data,
        type_labels=account_type_labels(),
        undecided=sum(p.undecided for p in data.accounts),
        proposals=int(proposals or 0),
    )
