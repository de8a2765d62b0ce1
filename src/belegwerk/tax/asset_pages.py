"""Asset register pages: the register of a year with the Sammelposten choice and the purchases
to take over, an entry form, and each asset with its AfA plan and its disposal."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from belegwerk.core.dates import today
from belegwerk.core.errors import BelegwerkError
from belegwerk.core.i18n import _
from belegwerk.tax import assets as service
from belegwerk.tax import depreciation as dep
from belegwerk.web.ui import (
    FormDep,
    Page,
    PageDep,
    checkbox,
    decimal_input,
    parse_date,
    parse_int,
    redirect,
    text,
)

pages = APIRouter(include_in_schema=False)

SECTION = "assets"
FIELDS = (
    "name",
    "asset_type",
    "asset_group",
    "acquisition_date",
    "net_cost",
    "useful_life_months",
    "treatment",
    "posting_id",
    "note",
)


def flash(key: str) -> str:
    return {
        "asset_created": _("The asset has been entered into the register."),
        "asset_disposed": _("The disposal has been recorded."),
        "pool_saved": _("The choice for the year has been saved."),
    }.get(key, "")


def labels() -> dict[str, dict[str, str]]:
    return {
        "group": {
            "movable": _("movable"),
            "intangible": _("intangible"),
            "immovable": _("immovable (building)"),
        },
        "treatment": {
            "auto": _("as the law allows: GWG, pool or linear"),
            "linear": _("always linear"),
            "digital": _("computer hardware/software: 1 year"),
        },
        "disposal": {
            "sale": _("sale"),
            "withdrawal": _("withdrawal into private use"),
            "scrapped": _("scrapped"),
            "void": _("void (entered by mistake)"),
        },
    }


def _render(page: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    if not page.nav.flash:
        page.nav.flash = flash(page.request.query_params.get("done", ""))
    return page.render(template, status_code=status_code, **{**_base(), **context})


@pages.get("/tax/assets", response_class=HTMLResponse)
def register_page(page: PageDep, year: Annotated[int | None, Query()] = None) -> HTMLResponse:
    chosen = year or today().year
    context: dict[str, Any] = {"year": chosen, "pooled": False, "rows": [], "offers": []}
    try:
        context["pool_limits"] = dep.limits(date(service.check_year(chosen), 12, 31))
        context["rows"] = service.register(page.session, page.tenant_id, chosen)
        context["pooled"] = service.pool_choices(page.session, page.tenant_id).get(chosen, False)
        context["offers"] = service.offers(page.session, page.tenant_id)
    except BelegwerkError as exc:
        context.setdefault("pool_limits", dep.limits(today()))
        return page.fail("tax/assets.html", exc, _base, **context)
    return _render(page, "tax/assets.html", **context)


def _base() -> dict[str, Any]:
    return {
        "section": SECTION,
        "labels": labels(),
        "describe_method": service.describe_method,
        "types": dep.asset_types(),
    }


@pages.post("/tax/assets/pool", response_model=None)
def pool_choice(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    try:
        year = parse_int(text(form, "year"), "year") or today().year
        service.set_pool_choice(
            page.session, page.tenant_id, year, checkbox(form, "pooled"), page.actor
        )
    except BelegwerkError as exc:
        return page.fail(
            "tax/assets.html",
            exc,
            _base,
            year=today().year,
            rows=[],
            offers=[],
            pool_limits=dep.limits(today()),
        )
    return redirect(f"/tax/assets?year={year}", done="pool_saved")


@pages.get("/tax/assets/new", response_class=HTMLResponse)
def new_asset(page: PageDep, posting: Annotated[int | None, Query()] = None) -> HTMLResponse:
    form: dict[str, Any] = {"treatment": "auto", "acquisition_date": today().isoformat()}
    if posting is not None:
        for offer in service.offers(page.session, page.tenant_id):
            if offer.posting_id == posting:
                form.update(
                    name=offer.text,
                    acquisition_date=offer.posting_date.isoformat(),
                    net_cost=format(offer.net_amount, "f").replace(".", ","),
                    posting_id=str(offer.posting_id),
                )
    return _render(page, "tax/asset_form.html", form=form)


@pages.post("/tax/assets", response_model=None)
def create_asset(page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = {k: text(form, k) for k in FIELDS}
    try:
        day = parse_date(values["acquisition_date"], "acquisition_date")
        assert day is not None
        created = service.create_asset(
            page.session,
            page.tenant_id,
            service.AssetInput(
                name=values["name"],
                acquisition_date=day,
                net_cost=decimal_input(values["net_cost"]),
                useful_life_months=parse_int(values["useful_life_months"], "useful_life_months"),
                asset_type=values["asset_type"],
                asset_group=values["asset_group"] or None,
                treatment=values["treatment"] or "auto",
                posting_id=parse_int(values["posting_id"], "posting_id"),
                note=values["note"],
            ),
            page.actor,
        )
    except BelegwerkError as exc:
        return page.fail("tax/asset_form.html", exc, _base, form=values)
    return redirect(f"/tax/assets/{created.asset.id}", done="asset_created")


def _detail(page: Page, asset_id: int) -> dict[str, Any]:
    asset, disposal, method, plan = service.plan_of(page.session, page.tenant_id, asset_id)
    pooled = service.pool_choices(page.session, page.tenant_id).get(
        asset.acquisition_date.year, False
    )
    kind = dep.asset_types().get(asset.asset_type)
    shorter = (
        kind is not None and asset.treatment != "digital" and asset.useful_life_months < kind.months
    )
    return {
        "asset": asset,
        "disposal": disposal,
        "method": method,
        "plan": plan,
        "kind": kind,
        "shorter": shorter,
        "gain": service.gain_or_loss(asset, disposal, pooled) if disposal else None,
        "form": {"kind": "sale", "disposal_date": today().isoformat()},
    }


@pages.get("/tax/assets/{asset_id}", response_class=HTMLResponse)
def asset_page(asset_id: int, page: PageDep) -> HTMLResponse:
    return _render(page, "tax/asset_detail.html", **_detail(page, asset_id))


@pages.post("/tax/assets/{asset_id}/disposal", response_model=None)
def dispose(asset_id: int, page: PageDep, form: FormDep) -> HTMLResponse | RedirectResponse:
    values = {k: text(form, k) for k in ("kind", "disposal_date", "proceeds", "reason")}
    try:
        day = parse_date(values["disposal_date"], "disposal_date")
        assert day is not None
        service.dispose_asset(
            page.session,
            page.tenant_id,
            asset_id,
            values["kind"],
            day,
            decimal_input(values["proceeds"]) or "0",
            values["reason"],
            page.actor,
        )
    except BelegwerkError as exc:

        def build() -> dict[str, Any]:
            return {**_base(), **_detail(page, asset_id), "form": values}

        return page.fail("tax/asset_detail.html", exc, build)
    return redirect(f"/tax/assets/{asset_id}", done="asset_disposed")
