"""Realistic demo data: a Kleinunternehmer freelancer and a Regelbesteuerer GmbH, two years each.

Everything goes through the same services a user's input takes (validation, numbers, journal,
audit), in bulk where the services offer it, so the demo is also a smoke test of the books.
Deterministic for a given seed and day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from schwifty import IBAN
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from belegwerk.books import cash, closing, invoices, parties, payments
from belegwerk.books.categories import category_by_key
from belegwerk.books.invoice_calc import LineInput
from belegwerk.books.models import CashBook, Invoice, Party
from belegwerk.core.db import system_session, tenant_session
from belegwerk.demo_bank import load_bank_demo
from belegwerk.tenancy.models import Company, Tenant
from belegwerk.tenancy.service import CompanyData, create_tenant, update_company

FREELANCER_SLUG = "demo-freelancer"
GMBH_SLUG = "demo-gmbh"
CENT = Decimal("0.01")
FREELANCER_IBAN = "DE89370400440532013000"
GMBH_IBAN = "DE02120300000000202051"
CASH_LIMIT = Decimal("800.00")  # larger invoices are paid by transfer
CASH_KEEP = Decimal("300.00")  # float kept in the till after the weekly bank deposit

CITIES = [
    ("10115", "Berlin"),
    ("20095", "Hamburg"),
    ("50667", "Köln"),
    ("80331", "München"),
    ("60311", "Frankfurt am Main"),
    ("04109", "Leipzig"),
    ("01067", "Dresden"),
    ("30159", "Hannover"),
    ("90402", "Nürnberg"),
    ("70173", "Stuttgart"),
]
STREETS = [
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenweg",
    "Lindenallee",
    "Schulstraße",
    "Industriestraße",
    "Am Markt",
    "Mühlenweg",
    "Kirchplatz",
    "Ringstraße",
]
BANK_CODES = ["37040044", "10010010", "50010517", "70020270", "12030000"]


@dataclass
class Plan:
    """What to create for one tenant; filled by a scenario function."""

    company: CompanyData
    slug: str
    opening: Decimal
    customers: list[str]
    suppliers: list[tuple[str, str]]  # (name, default category key)
    out_lines: Callable[[random.Random, date], list[tuple[str, Decimal, Decimal, Decimal, str]]]
    in_invoices: Callable[[random.Random, date], list[tuple[str, str, Decimal, Decimal]]]
    cash_items: Callable[[random.Random, date], list[tuple[str, str, str, Decimal]]]
    out_per_month: tuple[int, int]
    cash_pay_share: float
    # How the till is topped up, and how a count difference is booked: a sole proprietor uses
    # private money; a GmbH has no private sphere and fetches cash from its bank account.
    topup: tuple[str, str] = ("private_deposit", "Bareinlage aus Privatvermögen")
    difference_treatments: tuple[str, ...] = ("private", "record_only")


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2))).quantize(CENT)


def _freelancer() -> Plan:
    def out_lines(
        rng: random.Random, day: date
    ) -> list[tuple[str, Decimal, Decimal, Decimal, str]]:
        kind = rng.choice(["web", "web", "photo", "care"])
        if kind == "web":
            hours = Decimal(rng.randint(8, 40))
            return [
                (
                    "Webdesign und Umsetzung",
                    hours,
                    Decimal("75.00"),
                    Decimal(0),
                    "revenue_small_business",
                )
            ]
        if kind == "photo":
            return [
                (
                    "Fotoshooting (halber Tag)",
                    Decimal(1),
                    Decimal("390.00"),
                    Decimal(0),
                    "revenue_small_business",
                ),
                (
                    "Bildbearbeitung je Bild",
                    Decimal(rng.randint(10, 30)),
                    Decimal("8.50"),
                    Decimal(0),
                    "revenue_small_business",
                ),
            ]
        return [
            (
                "Wartungspauschale Website",
                Decimal(1),
                Decimal("89.00"),
                Decimal(0),
                "revenue_small_business",
            )
        ]

    def in_invoices(rng: random.Random, day: date) -> list[tuple[str, str, Decimal, Decimal]]:
        items = [
            ("Adobe Systems Software Ireland", "Creative Cloud Abo", Decimal("71.39"), Decimal(19)),
            ("Webhosting Nord GmbH", "Webhosting Paket M", Decimal("12.99"), Decimal(19)),
            ("Coworking Spreeblick", "Arbeitsplatz im Coworking", Decimal("249.00"), Decimal(19)),
        ]
        if rng.random() < 0.15:
            items.append(
                ("Foto Meyer KG", "Objektiv / Zubehör", _money(rng, 120, 690), Decimal(19))
            )
        return items

    def cash_items(rng: random.Random, day: date) -> list[tuple[str, str, str, Decimal]]:
        out: list[tuple[str, str, str, Decimal]] = []
        if rng.random() < 0.35:
            out.append(
                ("expense", "office_supplies", "Büromaterial (Schreibwaren)", _money(rng, 3, 35))
            )
        if rng.random() < 0.2:
            out.append(("expense", "postage", "Briefmarken", _money(rng, 0.95, 9.5)))
        if rng.random() < 0.15:
            out.append(
                ("expense", "travel_transport", "Parkticket Kundentermin", _money(rng, 2, 12))
            )
        if rng.random() < 0.08:
            out.append(
                ("income", "revenue_small_business", "Verkauf Fotoabzüge", _money(rng, 15, 80))
            )
        return out

    return Plan(
        company=CompanyData(
            name="Lena Schmidt – Webdesign & Fotografie",
            vat_regime="small_business",
            vat_accounting="cash",
            ustva_period="yearly",
            activity="freelance",
            chart="skr04",
            street="Lindenallee 12",
            postal_code="04109",
            city="Leipzig",
            email="hallo@lena-schmidt.example",
            tax_number="232/123/45679",
            iban=FREELANCER_IBAN,
            bank_name="Commerzbank",
        ),
        slug=FREELANCER_SLUG,
        opening=Decimal("150.00"),
        customers=[
            "Bäckerei Krause",
            "Praxis Dr. Weber",
            "Yoga Studio Mitte",
            "Kanzlei Hoffmann & Partner",
            "Café Lindenblüte",
            "Autohaus Lehmann",
            "Verein Sportfreunde Leipzig e. V.",
            "Blumen Fischer",
        ],
        suppliers=[
            ("Adobe Systems Software Ireland", "office_supplies"),
            ("Webhosting Nord GmbH", "telecom"),
            ("Coworking Spreeblick", "rent"),
            ("Foto Meyer KG", "investment"),
        ],
        out_lines=out_lines,
        in_invoices=in_invoices,
        cash_items=cash_items,
        out_per_month=(2, 5),
        cash_pay_share=0.1,
    )


def _gmbh() -> Plan:
    def out_lines(
        rng: random.Random, day: date
    ) -> list[tuple[str, Decimal, Decimal, Decimal, str]]:
        lines = [
            (
                "Frästeil nach Zeichnung",
                Decimal(rng.randint(5, 200)),
                _money(rng, 12, 180),
                Decimal(19),
                "revenue_19",
            )
        ]
        if rng.random() < 0.4:
            lines.append(
                (
                    "Montage vor Ort (Std.)",
                    Decimal(rng.randint(2, 16)),
                    Decimal("68.00"),
                    Decimal(19),
                    "revenue_19",
                )
            )
        if rng.random() < 0.1:
            lines.append(
                (
                    "Fachbuch Zerspanungstechnik",
                    Decimal(rng.randint(1, 5)),
                    Decimal("49.90"),
                    Decimal(7),
                    "revenue_7",
                )
            )
        return lines

    def in_invoices(rng: random.Random, day: date) -> list[tuple[str, str, Decimal, Decimal]]:
        items = [
            ("Stahlhandel Ruhr GmbH", "Rundstahl und Bleche", _money(rng, 1800, 9500), Decimal(19)),
            ("Gewerbepark Süd Verwaltung", "Hallenmiete", Decimal("3200.00"), Decimal(19)),
            ("Telekom Deutschland GmbH", "Telefon und Internet", Decimal("89.95"), Decimal(19)),
        ]
        if day.month in (1, 7):
            items.append(
                (
                    "Allianz Versicherungs-AG",
                    "Betriebshaftpflicht (Halbjahr)",
                    Decimal("1240.00"),
                    Decimal(0),
                )
            )
        if day.month % 3 == 0:
            items.append(
                (
                    "Steuerkanzlei Becker",
                    "Finanzbuchhaltung Quartal",
                    Decimal("980.00"),
                    Decimal(19),
                )
            )
        if rng.random() < 0.5:
            items.append(
                ("Werkzeug Schmitt KG", "Fräswerkzeuge", _money(rng, 150, 1400), Decimal(19))
            )
        return items

    def cash_items(rng: random.Random, day: date) -> list[tuple[str, str, str, Decimal]]:
        out: list[tuple[str, str, str, Decimal]] = []
        if rng.random() < 0.3:
            out.append(
                ("expense", "office_supplies", "Druckerpapier und Toner", _money(rng, 8, 60))
            )
        if rng.random() < 0.15:
            out.append(("expense", "entertainment", "Bewirtung Kunde", _money(rng, 25, 140)))
        if rng.random() < 0.2:
            out.append(("expense", "car_running", "Tanken Firmenwagen", _money(rng, 40, 95)))
        if rng.random() < 0.1:
            out.append(("income", "revenue_19", "Barverkauf Restmaterial", _money(rng, 20, 180)))
        return out

    return Plan(
        company=CompanyData(
            name="Muster Maschinenbau GmbH",
            vat_regime="standard",
            vat_accounting="accrual",
            ustva_period="monthly",
            filing_extension=True,
            activity="trade",
            chart="skr03",
            street="Industriestraße 7",
            postal_code="70565",
            city="Stuttgart",
            email="buchhaltung@muster-maschinenbau.example",
            tax_number="93815/08152",
            vat_id="DE136695976",
            advisor_number="1234567",
            client_number="10001",
            iban=GMBH_IBAN,
            bank_name="Deutsche Kreditbank",
        ),
        slug=GMBH_SLUG,
        opening=Decimal("800.00"),
        customers=[
            "Schneider Automotive GmbH",
            "Bauer Anlagenbau AG",
            "Hydraulik Wolf GmbH",
            "Medizintechnik Klein GmbH",
            "Agrartechnik Vogel KG",
            "Präzisionsteile Neumann GmbH",
            "Windkraft Nord GmbH",
            "Lebensmitteltechnik Braun GmbH",
            "Robotik Zimmermann GmbH",
            "Verpackungsmaschinen Schulz GmbH",
        ],
        suppliers=[
            ("Stahlhandel Ruhr GmbH", "goods_purchase"),
            ("Gewerbepark Süd Verwaltung", "rent"),
            ("Telekom Deutschland GmbH", "telecom"),
            ("Allianz Versicherungs-AG", "insurance"),
            ("Steuerkanzlei Becker", "tax_advice"),
            ("Werkzeug Schmitt KG", "goods_purchase"),
        ],
        out_lines=out_lines,
        in_invoices=in_invoices,
        cash_items=cash_items,
        out_per_month=(8, 14),
        cash_pay_share=0.03,
        topup=("cash_transit", "Barabhebung vom Geschäftskonto"),
        difference_treatments=("other", "record_only"),
    )


def _months(start: date, end: date) -> list[date]:
    out, cur = [], start.replace(day=1)
    while cur <= end:
        out.append(cur)
        cur = (cur + timedelta(days=32)).replace(day=1)
    return out


def _party(rng: random.Random, name: str, *, customer: bool, n: int) -> parties.PartyData:
    postal, city = CITIES[n % len(CITIES)]
    iban = IBAN.generate(
        "DE", bank_code=rng.choice(BANK_CODES), account_code=str(rng.randint(10**8, 10**10 - 1))
    )
    return parties.PartyData(
        name=name,
        is_customer=customer,
        is_supplier=not customer,
        street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
        postal_code=postal,
        city=city,
        iban=str(iban.compact),
    )


def _tenant_for(session: Session, plan: Plan) -> int:
    """Reuse the untouched default tenant of a fresh install for the first demo company."""
    fresh = session.scalar(select(Tenant).where(Tenant.slug == "default"))
    if plan.slug == FREELANCER_SLUG and fresh is not None:
        session.info["tenant_id"] = fresh.id
        from belegwerk.tenancy.service import _set_pg_tenant

        _set_pg_tenant(session, fresh.id)
        company = session.scalar(select(Company).where(Company.tenant_id == fresh.id))
        has_data = session.scalar(select(Invoice.id).where(Invoice.tenant_id == fresh.id).limit(1))
        if company is not None and not company.configured and has_data is None:
            values = {k: v for k, v in plan.company.__dict__.items() if v is not None}
            update_company(session, fresh.id, values)
            fresh.slug = plan.slug
            return fresh.id
    return create_tenant(session, plan.company, slug=plan.slug).id


def _build(engine: Engine, plan: Plan, rng: random.Random, start: date, end: date) -> int:
    with system_session(engine) as s:
        tenant_id = _tenant_for(s, plan)
    with tenant_session(tenant_id, engine) as s:
        cat = {
            c: category_by_key(s, c).id
            for c in (
                "office_supplies",
                "postage",
                "travel_transport",
                "revenue_small_business",
                "entertainment",
                "car_running",
                "revenue_19",
                "revenue_7",
                "investment",
                "telecom",
                "rent",
                "goods_purchase",
                "insurance",
                "tax_advice",
                "private_withdrawal",
                "private_deposit",
                "cash_transit",
            )
        }
        customer_ids = [
            parties.create_party(s, tenant_id, _party(rng, n, customer=True, n=i)).id
            for i, n in enumerate(plan.customers)
        ]
        supplier_ids = {
            n: (parties.create_party(s, tenant_id, _party(rng, n, customer=False, n=i)).id, c)
            for i, (n, c) in enumerate(plan.suppliers)
        }
        drafts: list[invoices.InvoiceInput] = []
        for month in _months(start, end):
            for _ in range(rng.randint(*plan.out_per_month)):
                day = month + timedelta(days=rng.randint(0, 27))
                if day > end:
                    continue
                lines = [
                    LineInput(
                        description=d,
                        quantity=q,
                        unit_price=p,
                        vat_rate=r,
                        category_id=cat[c],
                        unit="HUR" if "Std" in d else "C62",
                    )
                    for d, q, p, r, c in plan.out_lines(rng, day)
                ]
                drafts.append(
                    invoices.InvoiceInput(
                        direction="out",
                        issue_date=day,
                        supply_date=day,
                        due_date=day + timedelta(days=14),
                        party_id=rng.choice(customer_ids),
                        lines=lines,
                    )
                )
            for supplier, text, amount, rate in plan.in_invoices(rng, month):
                day = month + timedelta(days=rng.randint(0, 27))
                if day > end:
                    continue
                party_id, cat_key = supplier_ids[supplier]
                drafts.append(
                    invoices.InvoiceInput(
                        direction="in",
                        issue_date=day,
                        supply_date=day,
                        due_date=day + timedelta(days=30),
                        party_id=party_id,
                        price_mode="gross",
                        external_number=f"{supplier[:3].upper()}-{day:%Y%m}-{rng.randint(1, 999)}",
                        lines=[
                            LineInput(
                                description=text,
                                quantity=Decimal(1),
                                unit_price=amount,
                                vat_rate=rate,
                                category_id=cat[cat_key],
                            )
                        ],
                    )
                )
        drafts.sort(key=lambda d: d.issue_date)
        invoices.book_invoices_bulk(s, tenant_id, drafts)
        cash.set_opening_balance(s, tenant_id, start, plan.opening)

        # Payments: most invoices paid by bank after a while, some in cash, recent ones open.
        booked = s.execute(
            select(Invoice.id, Invoice.direction, Invoice.issue_date, Invoice.gross_total)
            .where(Invoice.tenant_id == tenant_id)
            .order_by(Invoice.issue_date, Invoice.id)
        ).all()
        cash_receipts: list[tuple[int, date]] = []
        for inv_id, direction, issued, gross in booked:
            pay_day = issued + timedelta(days=rng.randint(3, 35))
            if pay_day >= end or rng.random() < 0.04:
                continue
            if direction == "out" and gross <= CASH_LIMIT and rng.random() < plan.cash_pay_share:
                cash_receipts.append((inv_id, pay_day))
                continue
            if direction == "out" and gross > 400 and rng.random() < 0.08:
                payments.add_payment(
                    s, tenant_id, inv_id, pay_day, (gross / 2).quantize(CENT), "bank", "Teilzahlung"
                )
                continue
            payments.add_payment(s, tenant_id, inv_id, pay_day, gross, "bank", "SEPA-Überweisung")
        proposals: dict[date, list[int]] = {}
        for inv_id, pay_day in cash_receipts:
            inv = s.get(Invoice, inv_id)
            assert inv is not None
            proposal = payments.add_payment(
                s, tenant_id, inv_id, pay_day, inv.gross_total, "cash", "Barzahlung"
            )
            proposals.setdefault(pay_day, []).append(proposal.id)

        # Cash book: small daily purchases; a private deposit whenever cash runs low.
        items: list[cash.CashEntryInput] = []
        receipts: dict[date, Decimal] = {}
        for inv_id, pay_day in cash_receipts:
            inv = s.get(Invoice, inv_id)
            assert inv is not None
            receipts[pay_day] = receipts.get(pay_day, Decimal(0)) + inv.gross_total
        balance = plan.opening
        day = start
        while day < end:
            balance += receipts.get(day, Decimal(0))
            if day.weekday() < 5:
                for direction, key, text, amount in plan.cash_items(rng, day):
                    if direction == "expense" and balance - amount < 50:
                        topup_key, topup_text = plan.topup
                        items.append(
                            cash.CashEntryInput(
                                entry_date=day,
                                description=topup_text,
                                category_id=cat[topup_key],
                                direction="income",
                                amount=Decimal("200.00"),
                                vat_rate=Decimal(0),
                            )
                        )
                        balance += Decimal("200.00")
                    items.append(
                        cash.CashEntryInput(
                            entry_date=day,
                            description=text,
                            category_id=cat[key],
                            direction=direction,
                            amount=amount,
                        )
                    )
                    balance += amount if direction == "income" else -amount
                if day.weekday() == 4 and balance > CASH_KEEP * 2:
                    # Friday: surplus cash goes to the bank (Geldtransit), as a real till would.
                    deposit = ((balance - CASH_KEEP) // 50) * 50
                    items.append(
                        cash.CashEntryInput(
                            entry_date=day,
                            description="Bareinzahlung auf das Geschäftskonto",
                            category_id=cat["cash_transit"],
                            direction="expense",
                            amount=deposit,
                            vat_rate=Decimal(0),
                        )
                    )
                    balance -= deposit
            day += timedelta(days=1)
        # Yesterday's purchase without closing, so the start page shows the reminder.
        items.append(
            cash.CashEntryInput(
                entry_date=end,
                description="Briefmarken",
                category_id=cat["postage"],
                direction="expense",
                amount=Decimal("4.75"),
            )
        )
        # Day by day, as a real till is kept: the day's cash receipts of invoices, then the
        # day's entries, then the daily closing (a few with a small shortage) — so voucher
        # numbers run with the dates and nothing is entered on a closed day.
        by_day: dict[date, list[cash.CashEntryInput]] = {}
        for item in items:
            by_day.setdefault(item.entry_date, []).append(item)
        for day in sorted(set(by_day) | set(proposals)):
            for proposal_id in proposals.get(day, []):
                payments.confirm_cash_proposal(s, tenant_id, proposal_id)
            cash.create_cash_entries(s, tenant_id, by_day.get(day, []))
            if day >= end:
                continue  # yesterday stays open: the start page reminds the user
            expected = closing.expected_balance(s, tenant_id, day)
            if rng.random() < 0.04 and expected > 5:
                closing.close_day(
                    s,
                    tenant_id,
                    day,
                    _count_for(expected - Decimal("0.50")),
                    reason="Wechselgeld falsch herausgegeben",
                    treatment=rng.choice(plan.difference_treatments),
                )
            else:
                closing.close_day(s, tenant_id, day, _count_for(expected))
    return tenant_id


DENOMINATIONS = [
    "500",
    "200",
    "100",
    "50",
    "20",
    "10",
    "5",
    "2",
    "1",
    "0.50",
    "0.20",
    "0.10",
    "0.05",
    "0.02",
    "0.01",
]


def _count_for(amount: Decimal) -> dict[str, int]:
    """A plausible count of notes and coins that adds up to ``amount``."""
    rest = amount
    counts: dict[str, int] = {}
    for d in DENOMINATIONS:
        value = Decimal(d)
        n = int(rest // value)
        if n:
            counts[d] = n
            rest -= value * n
    return counts


def demo_loaded(engine: Engine) -> bool:
    with system_session(engine) as s:
        return (
            s.scalar(select(Tenant.id).where(Tenant.slug.in_([FREELANCER_SLUG, GMBH_SLUG])))
            is not None
        )


def has_business_data(engine: Engine) -> bool:
    """True when any tenant set up a company or recorded anything; the demo then stays out of
    the way of real books."""
    with system_session(engine) as s:
        tenant_ids = list(s.scalars(select(Tenant.id)))
    for tid in tenant_ids:
        with tenant_session(tid, engine) as s:
            configured = s.scalar(select(Company.configured).where(Company.tenant_id == tid))
            if configured:
                return True
            for model in (Invoice, CashBook, Party):
                if s.scalar(select(model.id).where(model.tenant_id == tid).limit(1)) is not None:
                    return True
    return False


def load_demo(engine: Engine, *, seed: int = 2026, today: date | None = None) -> list[int]:
    """Create both demo companies with data up to yesterday; returns their tenant ids."""
    end = (today or date.today()) - timedelta(days=1)
    start = date(end.year - 2, end.month, 1)
    rng = random.Random(seed)
    freelancer, gmbh = (_build(engine, plan, rng, start, end) for plan in (_freelancer(), _gmbh()))
    # One account where private and business money mix, one business account.
    load_bank_demo(
        engine,
        freelancer,
        iban=FREELANCER_IBAN,
        account_type="mixed",
        rng=rng,
        end=end,
        private_lines=True,
    )
    load_bank_demo(
        engine, gmbh, iban=GMBH_IBAN, account_type="business", rng=rng, end=end, private_lines=False
    )
    _register_investments(engine, freelancer, "camera")
    return [freelancer, gmbh]


def _register_investments(engine: Engine, tenant_id: int, asset_type: str) -> None:
    """The purchases booked as investments go into the asset register (Anlage EÜR AfA)."""
    from belegwerk.tax import assets

    with tenant_session(tenant_id, engine) as s:
        for offer in assets.offers(s, tenant_id):
            assets.create_asset(
                s,
                tenant_id,
                assets.AssetInput(
                    name=offer.text,
                    acquisition_date=offer.posting_date,
                    net_cost=offer.net_amount,
                    asset_type=asset_type,
                    posting_id=offer.posting_id,
                ),
            )
