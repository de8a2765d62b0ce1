"""Jinja2 environment shared by every capability's pages: i18n, German number and date formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from belegwerk.core import i18n

PACKAGE = Path(__file__).resolve().parent.parent


def _loader() -> ChoiceLoader:
    dirs = sorted(p for p in PACKAGE.glob("*/templates") if p.is_dir())
    return ChoiceLoader([FileSystemLoader(str(d)) for d in dirs])


env = Environment(
    loader=_loader(),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
env.filters["money"] = i18n.format_money
env.filters["date_de"] = i18n.format_date


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    ctx = {"request": request, "locale": i18n.current_locale.get(), **context}
    ctx.setdefault("nav", getattr(request.state, "nav", {}))
    html = env.get_template(template).render(**ctx)
    return HTMLResponse(html, status_code=status_code)
