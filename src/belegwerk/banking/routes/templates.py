"""CSV templates over the API: list, export as JSON, import a JSON definition, delete."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel

from belegwerk.banking import template_store
from belegwerk.banking.csv_template import (
    get_system_template,
    list_system_templates,
    load_template_json,
    template_to_json,
)
from belegwerk.core.errors import NotFound
from belegwerk.core.i18n import _
from belegwerk.web.deps import CtxDep

router = APIRouter(tags=["bank"])


class TemplateOut(BaseModel):
    id: int | None  # None for templates that ship with Belegwerk
    key: str
    name: str
    origin: str  # system | user


@router.get("/bank/templates", response_model=list[TemplateOut])
def list_templates(ctx: CtxDep) -> list[TemplateOut]:
    """The tenant's own templates first (they win detection ties), then the system ones."""
    own = [
        TemplateOut(id=t.id, key=t.key, name=t.name, origin="user")
        for t in template_store.list_user_templates(ctx.session, ctx.tenant_id)
    ]
    system = [
        TemplateOut(id=None, key=t.key, name=t.name, origin="system")
        for t in list_system_templates()
    ]
    return own + system


@router.get("/bank/templates/{key}")
def export_template(ctx: CtxDep, key: str) -> Response:
    """The template's JSON definition, as the template editor exports it."""
    row = template_store.find_user_template(ctx.session, ctx.tenant_id, key)
    if row is not None:
        text = row.definition
    else:
        system = get_system_template(key)
        if system is None:
            raise NotFound(
                "bank.template_unknown",
                _("Unknown template: {key}").format(key=key),
                [{"field": "key", "value": key}],
            )
        text = template_to_json(system)
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{key}.json"'},
    )


@router.post("/bank/templates", response_model=TemplateOut, status_code=201)
def import_template(
    ctx: CtxDep, definition: dict[str, Any] = Body(...), replace: bool = False
) -> TemplateOut:
    """Store a template from its JSON definition (e.g. one exported by a colleague)."""
    template = load_template_json(json.dumps(definition))
    row = template_store.save_user_template(
        ctx.session, ctx.tenant_id, template, ctx.actor, replace=replace
    )
    return TemplateOut(id=row.id, key=row.key, name=row.name, origin="user")


@router.delete("/bank/templates/{template_id}", status_code=204)
def delete_template(ctx: CtxDep, template_id: int) -> Response:
    template_store.delete_user_template(ctx.session, ctx.tenant_id, template_id, ctx.actor)
    return Response(status_code=204)
